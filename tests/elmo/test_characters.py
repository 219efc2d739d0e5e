import pytest
import torch

from sktransfer.elmo import batch_to_ids, word_to_char_ids
from sktransfer.elmo.characters import BOS_CHAR_IDS, EOS_CHAR_IDS

PAD = 261  # shifted within-word padding id


def test_word_layout_matches_allennlp():
    # Expected rows from AllenNLP 0.9.0's ELMoCharacterMapper tests.
    assert word_to_char_ids("Hello") == [259, 73, 102, 109, 109, 112, 260] + [PAD] * 43
    assert word_to_char_ids("<S>") == [259, 257, 260] + [PAD] * 47
    assert word_to_char_ids("</S>") == [259, 258, 260] + [PAD] * 47
    assert list(BOS_CHAR_IDS) == word_to_char_ids("<S>")
    assert list(EOS_CHAR_IDS) == word_to_char_ids("</S>")


def test_utf8_bytes_and_truncation():
    # 'é' is two UTF-8 bytes (0xC3 0xA9), each shifted by one.
    assert word_to_char_ids("é")[:4] == [259, 0xC3 + 1, 0xA9 + 1, 260]
    long_word = "x" * 60
    ids = word_to_char_ids(long_word)
    assert len(ids) == 50
    assert ids[1:49] == [ord("x") + 1] * 48  # truncated to 48 bytes
    assert ids[49] == 260  # end-of-word marker still present
    assert word_to_char_ids("")[:3] == [259, 260, PAD]


def test_batch_to_ids_padding_and_shape():
    ids = batch_to_ids([["a", "bc"], [], ["d"]])
    assert ids.dtype == torch.long and ids.shape == (3, 2, 50)
    assert ids[0, 1].tolist() == word_to_char_ids("bc")
    assert ids[1].abs().sum() == 0  # empty sentence: all padding tokens
    assert ids[2, 1].abs().sum() == 0 and ids[2, 0].tolist() == word_to_char_ids("d")
    assert batch_to_ids([]).shape == (0, 0, 50)


def test_rejects_untokenised_strings():
    with pytest.raises(TypeError):
        batch_to_ids(["not tokenised"])
    with pytest.raises(TypeError):
        batch_to_ids("abc")
    with pytest.raises(TypeError):
        word_to_char_ids(3)
