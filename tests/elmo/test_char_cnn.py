"""CharCNN: the in-place, chunked inference path computes what the autograd path computes."""

import pytest
import torch

from sktransfer.elmo import ElmoBiLm, batch_to_ids
from sktransfer.elmo import char_cnn as char_cnn_module

OPTIONS = {
    "lstm": {"use_skip_connections": True, "projection_dim": 16, "cell_clip": 3, "proj_clip": 3,
             "dim": 32, "n_layers": 1},
    "char_cnn": {"activation": "relu", "filters": [[1, 8], [2, 8], [3, 16], [5, 16]],
                 "n_highway": 2, "embedding": {"dim": 4}, "n_characters": 262,
                 "max_characters_per_token": 50},
}
WORDS = "the a supercalifragilistic , . zebra quartz n't 1984 héllo unusually-long-hyphenated-token x".split()


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_inference_path_equals_autograd_path_across_chunks(monkeypatch, activation):
    options = {**OPTIONS, "char_cnn": {**OPTIONS["char_cnn"], "activation": activation}}
    cnn = ElmoBiLm.from_options(options, random_state=0).char_cnn
    # Two highway layers chain through the in-place buffer; chunks of 5 rows split 13 tokens unevenly.
    monkeypatch.setattr(char_cnn_module, "_CHUNK_ROWS", 5)
    char_ids = batch_to_ids([WORDS])[0]
    with torch.enable_grad():
        expected = cnn(char_ids)
    with torch.inference_mode():
        got = cnn(char_ids)
    assert got.shape == (len(WORDS), 16)
    torch.testing.assert_close(got, expected.detach(), rtol=0, atol=1e-6)
    # Rows are encoded independently of the chunk they land in.
    with torch.inference_mode():
        torch.testing.assert_close(cnn(char_ids[3:4]), got[3:4], rtol=0, atol=1e-6)


@pytest.mark.parametrize("chunk_rows", [1024, 2])
def test_convolutions_equal_a_plain_conv1d_over_all_fifty_characters(monkeypatch, chunk_rows):
    # The pooled features skip the windows wholly in the trailing padding; a plain Conv1d per
    # width over the whole row, max-pooled, must give the same numbers. Words of 44-48
    # characters reach the row's end (the spans clipped at 50).
    monkeypatch.setattr(char_cnn_module, "_CHUNK_ROWS", chunk_rows)
    cnn = ElmoBiLm.from_options(OPTIONS, random_state=1).char_cnn
    words = WORDS + ["y" * 44, "z" * 48, "w" * 60]
    char_ids = batch_to_ids([words])[0]
    with torch.inference_mode():
        got = cnn._convolve_and_pool(char_ids)
        embedded = torch.nn.functional.embedding(char_ids, cnn.char_embedding).transpose(1, 2)
        expected = torch.cat([torch.relu(conv(embedded).amax(dim=-1)) for conv in cnn.convolutions], dim=-1)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
