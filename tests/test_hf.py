import os
from pathlib import Path

import pytest
import torch

from sktransfer._model_memo import weights_fingerprint
from sktransfer.exceptions import ModelResolutionError
from sktransfer.hf import DEFAULT_MODEL, load_encoder, load_tokenizer, resolve_model_path


def test_local_directory_resolves_to_itself(tiny_bert):
    assert resolve_model_path(tiny_bert) == tiny_bert
    assert resolve_model_path(Path(tiny_bert)) == tiny_bert


def test_directory_without_config_is_explained(tmp_path):
    with pytest.raises(ModelResolutionError, match="no config.json"):
        resolve_model_path(str(tmp_path))


@pytest.mark.parametrize("name", ["./missing-model", "/no/such/model/dir", "~/no-such-model-dir-xyz", "a/b/c"])
def test_missing_path_says_how_to_pass_a_local_path(name):
    with pytest.raises(ModelResolutionError, match="model_name_or_path='/path/to/model'"):
        resolve_model_path(name)


@pytest.mark.parametrize("bad", ["", "   ", None, 3])
def test_invalid_names(bad):
    with pytest.raises(ModelResolutionError, match="non-empty"):
        resolve_model_path(bad)


def test_uncached_hub_id_offline_fails_fast_and_clearly(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelResolutionError, match="neither a local directory nor in the Hugging Face cache"):
        resolve_model_path("nobody-xyz/does-not-exist-sktransfer")


def test_default_model_resolves_to_packaged_copy(minilm_path):
    resolved = resolve_model_path(DEFAULT_MODEL)
    assert os.path.samefile(resolved, minilm_path)
    assert os.path.isfile(os.path.join(resolved, "model.safetensors"))


def test_random_twin_is_seeded_and_differs_from_pretrained(tiny_bert):
    pretrained = load_encoder(tiny_bert)
    a = load_encoder(tiny_bert, pretrained=False, random_state=1)
    b = load_encoder(tiny_bert, pretrained=False, random_state=1)
    c = load_encoder(tiny_bert, pretrained=False, random_state=2)
    assert weights_fingerprint(a) == weights_fingerprint(b)
    assert weights_fingerprint(a) != weights_fingerprint(c)
    assert weights_fingerprint(a) != weights_fingerprint(pretrained)
    assert not a.training and not pretrained.training


def test_seeding_random_twin_leaves_global_rng_alone(tiny_bert):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    load_encoder(tiny_bert, pretrained=False, random_state=7)
    assert torch.equal(torch.rand(3), expected)


def test_tokenizer_loads(tiny_bert):
    tok = load_tokenizer(tiny_bert)
    assert tok("a great film")["input_ids"][0] == tok.cls_token_id
