"""The word tokenizer of ELMo input, defined once (no model, no sklearn).

``ELMoVectorizer`` tokenizes with it by default and ``sktransfer.elmo.pretrain`` pretrains with
it by default: a model must see at inference the tokenization it was pretrained on, and one
definition cannot drift apart the way two copies could. Only the standard library is imported
here, so the low-level ``sktransfer.elmo`` package can use it without the sklearn layer.
"""

import re

__all__ = ["word_tokenize"]

# Order matters: clitics first (so "don't" -> "do", "n't" and "it's" -> "it", "'s"), then words
# (letters/digits with inner hyphens, dots or apostrophes, as in "e-mail", "U.S", "rock'n'roll"),
# then any other single non-space character (punctuation, symbols, emoji) as its own token.
_TOKEN = re.compile(
    r"""
    \w+(?=n['’]t\b)                 # the stem before n't: "do" in "don't", "ca" in "can't"
    | n['’]t\b                      # n't
    | \w+(?=['’](?:s|re|ve|ll|d|m)\b) # the stem before another clitic: "it" in "it's"
    | ['’](?:s|re|ve|ll|d|m)\b      # 's 're 've 'll 'd 'm
    | \w+(?:[-.'’]\w+)*             # words, numbers, hyphenated words
    | [^\w\s]                       # one punctuation mark or symbol
    """,
    re.VERBOSE | re.IGNORECASE,
)


def word_tokenize(text):
    """Split ``text`` into words, punctuation marks and English clitics.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of str

    Examples
    --------
    >>> word_tokenize("I don't like it's ending, really!")
    ['I', 'do', "n't", 'like', 'it', "'s", 'ending', ',', 'really', '!']
    """
    return _TOKEN.findall(text)
