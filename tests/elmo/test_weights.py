import json

import h5py
import numpy as np
import pytest
import torch

from sktransfer.elmo import ElmoBiLm, batch_to_ids, load_options, save_weights, write_options
from sktransfer.exceptions import ModelFileError


def _datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[...]) if isinstance(obj, h5py.Dataset) else None)
    return out


def test_file_roundtrip_reproduces_the_reference_file(tmp_path, options_file, weight_file):
    model = ElmoBiLm.from_files(options_file, weight_file)
    save_weights(model, tmp_path / "w.hdf5")
    original, written = _datasets(weight_file), _datasets(tmp_path / "w.hdf5")
    assert written.keys() == original.keys()
    for name, value in original.items():
        assert written[name].shape == value.shape and written[name].dtype == np.float32, name
        if name.endswith("/B"):
            # the forget-gate bias passes through +1 / -1 in float32
            np.testing.assert_allclose(written[name], value, atol=1e-7, err_msg=name)
        else:
            np.testing.assert_array_equal(written[name], value, err_msg=name)
    # read -> write -> read is exact
    again = ElmoBiLm.from_files(options_file, tmp_path / "w.hdf5")
    for (name, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), name


def test_random_model_roundtrip_gives_same_outputs(tmp_path, options_file):
    model = ElmoBiLm.from_options(load_options(options_file), random_state=3)
    write_options(model.options, tmp_path / "options.json")
    save_weights(model, tmp_path / "weights.hdf5")
    loaded = ElmoBiLm.from_files(tmp_path / "options.json", tmp_path / "weights.hdf5")
    ids = batch_to_ids([["a", "random", "model"], ["round", "trip"]])
    with torch.inference_mode():
        a, b = model(ids)["activations"], loaded(ids)["activations"]
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=1e-6)


def test_from_options_is_seeded(options_file):
    a = ElmoBiLm.from_options(options_file, random_state=0).state_dict()
    b = ElmoBiLm.from_options(options_file, random_state=0).state_dict()
    c = ElmoBiLm.from_options(options_file, random_state=1).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["lstm.layers.0.state_weight"], c["lstm.layers.0.state_weight"])
    assert torch.all(a["char_cnn.char_embedding"][0] == 0)  # padding row


def test_gate_order_and_forget_bias_against_raw_tf_arithmetic(options_file, weight_file):
    """First forward step of layer 0 computed with numpy straight from the hdf5 (TF i, j, f, o)."""
    model = ElmoBiLm.from_files(options_file, weight_file)
    opts = json.loads(options_file.read_text())["lstm"]
    dim, clip_c, clip_p = opts["dim"], opts["cell_clip"], opts["proj_clip"]
    x = torch.randn(1, 1, opts["projection_dim"])
    with torch.inference_mode():
        outputs, _ = model.lstm(x, torch.tensor([1]))
    with h5py.File(weight_file, "r") as f:
        g = f["RNN_0/RNN/MultiRNNCell/Cell0/LSTMCell"]
        w0, bias, wp = g["W_0"][...], g["B"][...], g["W_P_0"][...]
    xh = np.concatenate([x[0, 0].numpy(), np.zeros(opts["projection_dim"], np.float32)])
    i, j, f_, o = np.split(xh @ w0 + bias, 4)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    c = np.clip(sig(i) * np.tanh(j) + sig(f_ + 1.0) * 0.0, -clip_c, clip_c)
    h = np.clip((sig(o) * np.tanh(c)) @ wp, -clip_p, clip_p)
    np.testing.assert_allclose(outputs[0][0, 0, : opts["projection_dim"]], h, atol=1e-6)
    # and the forget bias really carries the +1: TF's B plus one, in our (i, f, o, g) order
    np.testing.assert_allclose(model.lstm.layers[0].bias[0, dim: 2 * dim], bias[2 * dim: 3 * dim] + 1.0, atol=1e-7)


def test_shape_mismatch_is_reported(tmp_path, weight_file):
    opts = json.loads((weight_file.parent / "options.json").read_text())
    opts["lstm"]["dim"] = 32
    write_options(opts, tmp_path / "o.json")
    with pytest.raises(ValueError, match="W_0|W_P_0|shape"):
        ElmoBiLm.from_files(tmp_path / "o.json", weight_file)


def test_options_validation(tmp_path):
    with pytest.raises(ValueError, match="lstm"):
        load_options({"char_cnn": {}})


# -- faults: broken model files name the file, the entry and the fix ---------------------------------------


@pytest.mark.parametrize(
    "damage",
    [lambda b: b[: len(b) // 2], lambda b: b"<html>Not found</html>"],
    ids=["truncated", "not-hdf5"],
)
def test_corrupt_weight_file_names_it(tmp_path, options_file, weight_file, damage):
    broken = tmp_path / "weights.hdf5"
    broken.write_bytes(damage(weight_file.read_bytes()))
    with pytest.raises(ModelFileError, match=r"weights\.hdf5 is not a readable HDF5 file, truncated or corrupt.*again"):
        ElmoBiLm.from_files(options_file, broken)


def test_missing_files_name_them(tmp_path, options_file, weight_file):
    with pytest.raises(ModelFileError, match=r"nope\.hdf5 does not exist"):
        ElmoBiLm.from_files(options_file, tmp_path / "nope.hdf5")
    with pytest.raises(ModelFileError, match=r"nope\.json does not exist"):
        ElmoBiLm.from_files(tmp_path / "nope.json", weight_file)


@pytest.mark.parametrize(
    "content, match",
    [("{bad", r"o\.json is not valid JSON"), ("[1]", r"o\.json must hold a JSON object"),
     ('{"lstm": {"dim": 1}}', r"o\.json: section 'lstm' lacks \['projection_dim', 'n_layers'\]")],
    ids=["syntax", "not-an-object", "missing-keys"],
)
def test_malformed_options_name_the_file(tmp_path, content, match):
    (tmp_path / "o.json").write_text(content)
    with pytest.raises(ModelFileError, match=match):
        load_options(tmp_path / "o.json")


def test_options_calling_for_more_layers_name_the_missing_entry(tmp_path, weight_file):
    opts = json.loads((weight_file.parent / "options.json").read_text())
    opts["lstm"]["n_layers"] += 1
    write_options(opts, tmp_path / "o.json")
    missing = f"RNN_0/RNN/MultiRNNCell/Cell{opts['lstm']['n_layers'] - 1}/LSTMCell/W_0"
    with pytest.raises(ModelFileError, match=rf"lm_weights\.hdf5: the options call for the entry '{missing}'"):
        ElmoBiLm.from_files(tmp_path / "o.json", weight_file)
