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
