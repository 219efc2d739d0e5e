"""Tiny random models of every architecture sktransfer supports, with tokenizers of the right kind.

Each model has a tokenizer trained here, offline, on a few sentences with the ``tokenizers`` library:
WordPiece for BERT, DistilBERT and ELECTRA; byte-level BPE for RoBERTa and GPT-2; a
SentencePiece-style Unigram model for ALBERT, DeBERTa-v2 and XLM-RoBERTa. The tokenizer is wrapped
in the model's own transformers tokenizer class (which brings that model's special tokens and
their placement), and the model gets tiny sizes and random weights, saved as safetensors.
"""

import json
from pathlib import Path

ARCHITECTURES = ("bert", "roberta", "distilbert", "albert", "electra", "deberta-v2", "xlm-roberta", "gpt2")

# What the tokenizers learn from; the test sentences use these words.
CORPUS = [
    "a great film", "i loved this movie", "excellent acting and a wonderful story", "a brilliant fun film",
    "really enjoyable , i love it", "superb story , great acting", "the plot was very good", "wonderful !",
    "a terrible film", "i hated this movie", "awful acting and a boring story", "a dull poor film",
    "really bad , a waste", "the worst plot , terrible acting", "the story was very boring", "awful !",
]
MAX_POSITIONS = 128

# Special tokens in the order of their ids, as each family's tokenizer class expects them.
_WORDPIECE_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_SPECIALS = {
    "roberta": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
    "gpt2": ["<|endoftext|>"],
    "albert": ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"],
    "deberta-v2": ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"],
    "xlm-roberta": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
}


def _wordpiece(path, tokenizer_class):
    from tokenizers import BertWordPieceTokenizer

    trainer = BertWordPieceTokenizer(lowercase=True)
    trainer.train_from_iterator(CORPUS, vocab_size=300, min_frequency=1, special_tokens=_WORDPIECE_SPECIALS,
                                show_progress=False)
    vocab = trainer.get_vocab()
    vocab_file = Path(path) / "vocab.txt"
    vocab_file.write_text("\n".join(sorted(vocab, key=vocab.get)) + "\n", encoding="utf-8")
    return tokenizer_class(vocab=str(vocab_file), do_lower_case=True)


def _byte_level_bpe(tokenizer_class, specials, **kwargs):
    from tokenizers import ByteLevelBPETokenizer

    trainer = ByteLevelBPETokenizer()
    trainer.train_from_iterator(CORPUS, vocab_size=300, min_frequency=1, special_tokens=specials, show_progress=False)
    merges = [tuple(m) for m in json.loads(trainer._tokenizer.to_str())["model"]["merges"]]
    return tokenizer_class(vocab=trainer.get_vocab(), merges=merges, **kwargs)


def _unigram(tokenizer_class, specials, **kwargs):
    from tokenizers import SentencePieceUnigramTokenizer

    trainer = SentencePieceUnigramTokenizer()
    trainer.train_from_iterator(CORPUS, vocab_size=150, special_tokens=specials, show_progress=False)
    pieces = [tuple(piece) for piece in json.loads(trainer.to_str())["model"]["vocab"]]
    return tokenizer_class(vocab=pieces, **kwargs)


def _tokenizer(arch, path):
    import transformers as tf

    if arch in ("bert", "distilbert", "electra"):
        cls = {"bert": tf.BertTokenizer, "distilbert": tf.DistilBertTokenizer, "electra": tf.ElectraTokenizer}[arch]
        return _wordpiece(path, cls)
    if arch == "roberta":
        return _byte_level_bpe(tf.RobertaTokenizer, _SPECIALS[arch])
    if arch == "gpt2":
        end = _SPECIALS[arch][0]
        # Like the real GPT-2: no padding token.
        return _byte_level_bpe(tf.GPT2Tokenizer, _SPECIALS[arch], bos_token=end, eos_token=end, unk_token=end)
    cls = {"albert": tf.AlbertTokenizer, "deberta-v2": tf.DebertaV2Tokenizer, "xlm-roberta": tf.XLMRobertaTokenizer}
    specials = _SPECIALS[arch]
    named = dict(zip(("pad_token", "unk_token", "cls_token", "sep_token", "mask_token"), specials))
    if arch == "deberta-v2":
        named = {"pad_token": "[PAD]", "cls_token": "[CLS]", "sep_token": "[SEP]", "unk_token": "[UNK]",
                 "mask_token": "[MASK]", "bos_token": "[CLS]", "eos_token": "[SEP]"}
    if arch == "xlm-roberta":
        named = {}  # its class defaults are the <s> <pad> </s> <unk> <mask> trained above
    return _unigram(cls[arch], specials, **named)


def _config(arch, tokenizer):
    import transformers as tf

    size = {"num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64, "hidden_size": 32}
    vocab = {"vocab_size": len(tokenizer), "pad_token_id": tokenizer.pad_token_id}
    if arch == "bert":
        return tf.BertConfig(**size, **vocab, max_position_embeddings=MAX_POSITIONS)
    if arch in ("roberta", "xlm-roberta"):
        cls = tf.RobertaConfig if arch == "roberta" else tf.XLMRobertaConfig
        # Their position ids start after the padding index, hence the two extra positions.
        return cls(**size, **vocab, max_position_embeddings=MAX_POSITIONS + 2,
                   bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id)
    if arch == "distilbert":
        return tf.DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=64, **vocab,
                                   max_position_embeddings=MAX_POSITIONS)
    if arch == "albert":
        # Two layers share one layer group, as in the published ALBERT models.
        return tf.AlbertConfig(**size, **vocab, embedding_size=16, num_hidden_groups=1,
                               max_position_embeddings=MAX_POSITIONS)
    if arch == "electra":
        return tf.ElectraConfig(**size, **vocab, embedding_size=16, max_position_embeddings=MAX_POSITIONS)
    if arch == "deberta-v2":
        return tf.DebertaV2Config(**size, **vocab, max_position_embeddings=MAX_POSITIONS, relative_attention=True,
                                  position_buckets=16, pos_att_type=["p2c", "c2p"], position_biased_input=False)
    if arch == "gpt2":
        end = tokenizer.eos_token_id
        return tf.GPT2Config(n_embd=32, n_layer=2, n_head=2, n_inner=64, n_positions=MAX_POSITIONS,
                             vocab_size=len(tokenizer), bos_token_id=end, eos_token_id=end)
    raise ValueError(f"unknown architecture {arch!r}; expected one of {ARCHITECTURES}")


def write_tiny_model(arch, path, *, seed=1234):
    """Write a tiny random ``arch`` model with its trained tokenizer to ``path``; returns the path."""
    import torch
    from transformers import AutoModel

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer(arch, path)
    tokenizer.model_max_length = MAX_POSITIONS
    tokenizer.save_pretrained(path)
    config = _config(arch, tokenizer)
    torch.manual_seed(seed)
    AutoModel.from_config(config).save_pretrained(path, safe_serialization=True)
    return path
