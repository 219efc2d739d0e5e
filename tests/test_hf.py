import json
import os
from pathlib import Path

import pytest
import torch

from sktransfer._model_memo import weights_fingerprint
from sktransfer.exceptions import ModelFileError, ModelResolutionError
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


# -- faults: broken model folders ---------------------------------------------------------------------


def _copy_model(tiny_bert, tmp_path, name="model"):
    import shutil

    return Path(shutil.copytree(tiny_bert, tmp_path / name))


@pytest.mark.parametrize(
    "damage",
    [lambda b: b[: len(b) // 2], lambda b: b"\x00" * 64, lambda b: b[:8]],
    ids=["truncated", "zeros", "header-only"],
)
def test_corrupt_safetensors_names_the_file(tiny_bert, tmp_path, damage):
    folder = _copy_model(tiny_bert, tmp_path)
    weights = folder / "model.safetensors"
    weights.write_bytes(damage(weights.read_bytes()))
    with pytest.raises(ModelFileError, match=r"model\.safetensors\).*truncated or corrupt.*again"):
        load_encoder(resolve_model_path(str(folder)))


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "\udcff"], ids=["syntax", "not-an-object", "not-utf8"])
def test_malformed_config_names_the_file(tiny_bert, tmp_path, content):
    folder = _copy_model(tiny_bert, tmp_path)
    (folder / "config.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(ModelFileError, match=r"config\.json (is not valid JSON|must hold a JSON object)"):
        resolve_model_path(str(folder))


def test_config_not_matching_weights_names_the_tensor(tiny_bert, tmp_path):
    folder = _copy_model(tiny_bert, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["hidden_size"] = 64
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match=r"do not match its config\.json \(tensor '.+' in .*model\.safetensors "
                                             r"has shape \(32,?[\d, ]*\), config\.json implies \(64"):
        load_encoder(resolve_model_path(str(folder)))


def test_missing_vocabulary_is_an_error_not_all_unk(tiny_bert, tmp_path):
    folder = _copy_model(tiny_bert, tmp_path)
    for name in ("vocab.txt", "tokenizer.json"):
        (folder / name).unlink()
    with pytest.raises(ModelFileError, match=r"has no vocabulary.*vocab\.txt"):
        load_tokenizer(str(folder))


def test_missing_weights_is_explained(tiny_bert, tmp_path):
    folder = _copy_model(tiny_bert, tmp_path)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelFileError, match=r"Could not load the model folder .*model\.safetensors"):
        load_encoder(str(folder))


# -- security: no pickles, no remote code ------------------------------------------------------------------


class _Payload:
    """Unpickling it creates the file ``marker``: proof that arbitrary code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _bin_only(tiny_bert, tmp_path, extra=None):
    import torch
    from safetensors.torch import load_file

    folder = _copy_model(tiny_bert, tmp_path, "bin_only")
    state = load_file(folder / "model.safetensors")
    (folder / "model.safetensors").unlink()
    torch.save(state if extra is None else {**state, "extra": extra}, folder / "pytorch_model.bin")
    return folder


def test_bin_only_folder_loads_tensors_only(tiny_bert, tmp_path):
    import torch

    folder = _bin_only(tiny_bert, tmp_path)
    from_bin, from_safetensors = load_encoder(str(folder)), load_encoder(tiny_bert)
    for (name, a), (_, b) in zip(from_bin.state_dict().items(), from_safetensors.state_dict().items()):
        assert torch.equal(a, b), name


def test_pickled_object_in_a_bin_file_is_refused_and_never_run(tiny_bert, tmp_path):
    marker = tmp_path / "code_ran"
    folder = _bin_only(tiny_bert, tmp_path, extra=_Payload(marker))
    with pytest.raises(ModelFileError, match=r"pytorch_model\.bin holds Python objects.*never unpickles"):
        load_encoder(str(folder))
    assert not marker.exists()


def test_loaders_pass_trust_remote_code_false_and_weights_only(tiny_bert, tmp_path, monkeypatch):
    import transformers

    calls = []
    for name in ("AutoModel", "AutoTokenizer", "AutoConfig"):
        cls = getattr(transformers, name)
        real = cls.from_pretrained.__func__

        def spy(klass, path, *args, _real=real, _name=name, **kwargs):
            calls.append((_name, kwargs))
            return _real(klass, path, *args, **kwargs)

        monkeypatch.setattr(cls, "from_pretrained", classmethod(spy))
    load_tokenizer(tiny_bert)
    load_encoder(tiny_bert)
    load_encoder(tiny_bert, pretrained=False, random_state=0)
    load_encoder(str(_bin_only(tiny_bert, tmp_path)))
    names = [name for name, _ in calls]
    assert {"AutoModel", "AutoTokenizer", "AutoConfig"} <= set(names)
    assert all(kwargs.get("trust_remote_code") is False for _, kwargs in calls)
    models = [kwargs for name, kwargs in calls if name == "AutoModel"]
    assert models[0].get("use_safetensors") is True and models[1].get("weights_only") is True
