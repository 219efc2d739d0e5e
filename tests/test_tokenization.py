"""The one word tokenizer: its exact output, and that inference and pretraining share it."""

import pytest

from sktransfer.tokenization import word_tokenize

# Exact token lists. The tokenizer is the contract between pretraining and feature extraction:
# a model pretrained on one tokenization and fed another degrades silently, so any change in
# this table is a change of that contract (retrain or keep the old rule).
CASES = [
    # English clitics: n't is split off its stem (Penn Treebank style), other clitics too
    ("don't", ["do", "n't"]),
    ("Don't DON'T", ["Do", "n't", "DO", "N'T"]),
    ("can't won't isn't haven't", ["ca", "n't", "wo", "n't", "is", "n't", "have", "n't"]),
    ("don’t", ["do", "n’t"]),  # typographic apostrophe
    ("it's James's", ["it", "'s", "James", "'s"]),
    ("I'm we're you've they'll she'd", ["I", "'m", "we", "'re", "you", "'ve", "they", "'ll", "she", "'d"]),
    ("it’s", ["it", "’s"]),
    ("students' work", ["students", "'", "work"]),  # a plural possessive keeps the apostrophe apart
    ("'tis", ["'", "tis"]),
    ("don'tcha", ["don'tcha"]),  # n't not followed by a word boundary is no clitic
    ("rock'n'roll o'clock", ["rock'n'roll", "o'clock"]),
    # hyphens, dots and apostrophes inside a word keep it whole; elsewhere they are tokens
    ("e-mail x-ray-like well-known", ["e-mail", "x-ray-like", "well-known"]),
    ("well--known", ["well", "-", "-", "known"]),
    ("pre- and post-war", ["pre", "-", "and", "post-war"]),
    ("U.S. e.g. etc.", ["U.S", ".", "e.g", ".", "etc", "."]),
    # numbers: dots join, other separators split
    ("3.5 1,000 10:30 1/2 50% $5.99", ["3.5", "1", ",", "000", "10", ":", "30", "1", "/", "2", "50", "%",
                                       "$", "5.99"]),
    ("2-1 1990s", ["2-1", "1990s"]),
    # punctuation: one token per character, runs included
    ("Wow!!! Really?! ... :-)", ["Wow", "!", "!", "!", "Really", "?", "!", ".", ".", ".", ":", "-", ")"]),
    ("(a) [b] \"c\"", ["(", "a", ")", "[", "b", "]", '"', "c", '"']),
    # markup is not handled specially: IMDB's <br /> becomes four tokens (clean it before)
    ("end.<br /><br />Next", ["end", ".", "<", "br", "/", ">", "<", "br", "/", ">", "Next"]),
    # URLs and e-mail addresses are not handled specially either
    ("see http://example.com/a-b?x=1", ["see", "http", ":", "/", "/", "example.com", "/", "a-b", "?", "x", "=",
                                         "1"]),
    ("mail a.b@example.org", ["mail", "a.b", "@", "example.org"]),
    # unicode: letters with accents, other scripts, underscores are word characters; emoji are symbols
    ("café naïve Zürich résumé", ["café", "naïve", "Zürich", "résumé"]),
    ("Ελληνικά и русский 日本語", ["Ελληνικά", "и", "русский", "日本語"]),
    ("snake_case", ["snake_case"]),
    ("good🙂film", ["good", "🙂", "film"]),
    # whitespace of any kind separates and is never a token
    ("a\tb\nc\u00a0d", ["a", "b", "c", "d"]),
    ("", []),
    ("   \n\t ", []),
]


@pytest.mark.parametrize("text, expected", CASES, ids=[text or "<empty>" for text, _ in CASES])
def test_word_tokenize_exact_output(text, expected):
    assert word_tokenize(text) == expected


def test_pretraining_and_the_elmo_vectorizer_use_this_very_function():
    """Identity, not equality: there is one tokenizer, so the two cannot drift apart."""
    from sktransfer import elmo_vectorizer
    from sktransfer.elmo import pretrain

    assert pretrain.word_tokenize is word_tokenize
    assert elmo_vectorizer.word_tokenize is word_tokenize


def test_tokenization_module_is_low_level():
    """Pretraining (``sktransfer.elmo``) imports it, so it must not pull in the sklearn layer."""
    import ast
    import inspect

    from sktransfer import tokenization

    tree = ast.parse(inspect.getsource(tokenization))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "." for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"re"}


def test_pretrain_elmo_tokenizes_with_it_when_no_tokenizer_is_given(tmp_path, monkeypatch):
    from sktransfer.elmo import pretrain

    seen = []

    def spy(text):
        seen.append(text)
        return word_tokenize(text)

    monkeypatch.setattr(pretrain, "word_tokenize", spy)
    docs = ["I don't know.", "It's fine, isn't it?"]
    pretrain.pretrain_elmo(docs, tmp_path, architecture="tiny", epochs=1, held_out_fraction=0.0, progress=False)
    assert seen == docs
    vocab = (tmp_path / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert {"do", "n't", "'s", "is"} <= set(vocab)
