"""Reading and writing ELMo ``options.json`` + ``weights.hdf5`` (bilm-tf / AllenNLP layout).

hdf5 layout (float32, or float16 when saved with ``dtype="float16"``; ``x @ W`` orientation everywhere)::

    char_embed                                      (n_chars_in_file, char_dim)   usually 261 rows
    CNN/W_cnn_{i}, CNN/b_cnn_{i}                    (1, width_i, char_dim, num_i), (num_i,)
    CNN_high_{k}/W_transform, W_carry               (n_filters, n_filters)
    CNN_high_{k}/b_transform, b_carry               (n_filters,)
    CNN_proj/W_proj, CNN_proj/b_proj                (n_filters, projection_dim), (projection_dim,)
    RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/W_0   (input_dim + projection_dim, 4 * dim), gates i, j, f, o
    RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/B     (4 * dim,)
    RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/W_P_0 (dim, projection_dim)

``d`` is 0 for the forward and 1 for the backward LM. Two conventions are converted here:

* character ids are shifted by +1 (id 0 = padding token), so an all-zero row is
  prepended to ``char_embed`` on load and dropped on save;
* TensorFlow's ``LSTMCell`` adds ``forget_bias=1.0`` at run time, which is not in ``B``;
  the loader adds it to the stored bias (as AllenNLP does) and the writer subtracts it.
  TF's gate order ``i, j, f, o`` (``j`` = candidate memory) becomes this package's
  ``i, f, o, g``.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any, Mapping, Union

import h5py
import numpy as np
import torch

from ..exceptions import ModelFileError
from .characters import N_CHARACTER_IDS

__all__ = ["load_options", "write_options", "load_weights", "save_weights", "TF_FORGET_BIAS"]

#: Constant added to the forget gate by TensorFlow's LSTMCell at run time.
TF_FORGET_BIAS = 1.0

# Block permutations along the 4 * dim gate axis.
_TF_TO_OURS = (0, 2, 3, 1)  # ours (i, f, o, g) taken from TF blocks (i, j, f, o)
_OURS_TO_TF = (0, 3, 1, 2)  # TF (i, j, f, o) taken from our blocks (i, f, o, g)

_REQUIRED = {
    "lstm": ("projection_dim", "dim", "n_layers"),
    "char_cnn": ("filters", "n_highway", "embedding", "activation"),
}

PathOrOptions = Union[str, os.PathLike, Mapping[str, Any]]


def load_options(options: PathOrOptions) -> dict:
    """Read and validate ELMo options.

    Parameters
    ----------
    options : path-like or mapping
        Path to an ``options.json`` or an already parsed dict (copied, never mutated).

    Returns
    -------
    dict
        The options, with ``lstm.cell_clip``/``proj_clip`` defaulting to ``None`` and
        ``lstm.use_skip_connections`` to ``False`` when absent.
    """
    if isinstance(options, Mapping):
        opts, source = copy.deepcopy(dict(options)), "ELMo options"
    else:
        source = f"ELMo options file {os.fspath(options)}"
        try:
            with open(options, encoding="utf-8") as fin:
                opts = json.load(fin)
        except FileNotFoundError as exc:
            raise ModelFileError(f"{source} does not exist; pass the options.json that belongs to the weights.") \
                from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(f"{source} is not valid JSON ({exc}); restore it from the original model.") from exc
    if not isinstance(opts, dict):
        raise ModelFileError(f"{source} must hold a JSON object, got a JSON {type(opts).__name__}.")
    for section, keys in _REQUIRED.items():
        if not isinstance(opts.get(section), dict):
            raise ModelFileError(f"{source} lacks the {section!r} section; restore it from the original model.")
        missing = [k for k in keys if k not in opts[section]]
        if missing:
            raise ModelFileError(f"{source}: section {section!r} lacks {missing}; restore it from the original model.")
    if "dim" not in opts["char_cnn"]["embedding"]:
        raise ModelFileError(f"{source} lacks char_cnn.embedding.dim; restore it from the original model.")
    opts["lstm"].setdefault("cell_clip", None)
    opts["lstm"].setdefault("proj_clip", None)
    opts["lstm"].setdefault("use_skip_connections", False)
    opts["char_cnn"].setdefault("max_characters_per_token", 50)
    opts["char_cnn"].setdefault("n_characters", N_CHARACTER_IDS)
    return opts


def write_options(options: Mapping[str, Any], path: Union[str, os.PathLike]) -> None:
    """Write options as ``options.json`` (validated first, so the file is always loadable)."""
    opts = load_options(options)
    with open(path, "w", encoding="utf-8") as fout:
        json.dump(opts, fout, indent=2)
        fout.write("\n")


def _permute_gates(array: np.ndarray, order, axis: int = -1) -> np.ndarray:
    blocks = np.split(array, 4, axis=axis)
    return np.concatenate([blocks[i] for i in order], axis=axis)


def _copy(param: torch.nn.Parameter, value: np.ndarray, name: str) -> None:
    if tuple(param.shape) != tuple(value.shape):
        raise ModelFileError(
            f"weight file entry {name!r} has shape {tuple(value.shape)}, the options imply {tuple(param.shape)}: "
            "options.json and weights.hdf5 come from different models; pass the pair that belongs together"
        )
    with torch.no_grad():
        param.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32)))


def _lstm_group(direction: int, layer: int) -> str:
    return f"RNN_{direction}/RNN/MultiRNNCell/Cell{layer}/LSTMCell"


def load_weights(bilm: torch.nn.Module, weight_file: Union[str, os.PathLike]) -> None:
    """Copy a bilm-tf/AllenNLP ``weights.hdf5`` into an :class:`~sktransfer.elmo.bilm.ElmoBiLm`.

    The character table is resized to the file's row count + 1 (zero padding row first).
    Every other tensor must match the shapes implied by the options; a mismatch or a missing entry
    raises :class:`~sktransfer.exceptions.ModelFileError` (a ``ValueError``) naming the file and the
    entry, as does a missing, truncated or corrupt file.
    """
    try:
        fin = h5py.File(weight_file, "r")
    except FileNotFoundError as exc:
        raise ModelFileError(f"ELMo weight file {os.fspath(weight_file)} does not exist; pass the weights.hdf5 "
                             "that belongs to the options.") from exc
    except OSError as exc:  # h5py: "truncated file", "file signature not found", ...
        raise ModelFileError(
            f"ELMo weight file {os.fspath(weight_file)} is not a readable HDF5 file, truncated or corrupt ({exc}); "
            "download or copy it again."
        ) from exc
    try:
        with fin:
            _read_weights(bilm, fin)
    except ModelFileError as exc:
        raise ModelFileError(f"ELMo weight file {os.fspath(weight_file)}: {exc}") from exc


def _entry(fin: "h5py.File", name: str) -> np.ndarray:
    if name not in fin:
        raise ModelFileError(
            f"the options call for the entry {name!r}, which the file lacks: options.json and weights.hdf5 come "
            "from different models (or the file is damaged); pass the pair that belongs together"
        )
    return fin[name][...]


def _read_weights(bilm: torch.nn.Module, fin: "h5py.File") -> None:
    cnn, lstm = bilm.char_cnn, bilm.lstm
    char_embed = _entry(fin, "char_embed")
    if char_embed.shape[0] + 1 < N_CHARACTER_IDS or char_embed.shape[1] != cnn.char_dim:
        raise ModelFileError(
            f"char_embed has shape {char_embed.shape}; need >= {N_CHARACTER_IDS - 1} rows of width {cnn.char_dim}"
        )
    table = np.zeros((char_embed.shape[0] + 1, char_embed.shape[1]), dtype=np.float32)
    table[1:] = char_embed
    cnn.char_embedding = torch.nn.Parameter(
        torch.from_numpy(table), requires_grad=cnn.char_embedding.requires_grad
    )

    for i, conv in enumerate(cnn.convolutions):
        w = _entry(fin, f"CNN/W_cnn_{i}")
        # TF (1, width, in, out) -> torch Conv1d (out, in, width)
        _copy(conv.weight, np.transpose(w.squeeze(0), (2, 1, 0)), f"CNN/W_cnn_{i}")
        _copy(conv.bias, _entry(fin, f"CNN/b_cnn_{i}"), f"CNN/b_cnn_{i}")

    for k in range(cnn.n_highway):
        g = f"CNN_high_{k}/"
        _copy(cnn.highway_weight[k],
              np.concatenate([_entry(fin, g + "W_transform"), _entry(fin, g + "W_carry")], axis=1),
              f"CNN_high_{k}/W_transform|W_carry")
        _copy(cnn.highway_bias[k], np.concatenate([_entry(fin, g + "b_transform"), _entry(fin, g + "b_carry")]),
              f"CNN_high_{k}/b_transform|b_carry")
    _copy(cnn.projection_weight, _entry(fin, "CNN_proj/W_proj"), "CNN_proj/W_proj")
    _copy(cnn.projection_bias, _entry(fin, "CNN_proj/b_proj"), "CNN_proj/b_proj")

    cell = lstm.cell_size
    for layer_index, layer in enumerate(lstm.layers):
        w_in, w_state, bias, w_proj = [], [], [], []
        for direction in range(2):
            group = _lstm_group(direction, layer_index)
            w0 = _permute_gates(_entry(fin, f"{group}/W_0"), _TF_TO_OURS)
            if w0.shape[0] != layer.input_size + layer.hidden_size:
                raise ModelFileError(f"{group}/W_0 has {w0.shape[0]} rows, expected "
                                     f"{layer.input_size + layer.hidden_size}")
            w_in.append(w0[: layer.input_size])
            w_state.append(w0[layer.input_size:])
            b = _permute_gates(_entry(fin, f"{group}/B").astype(np.float32), _TF_TO_OURS)
            b[cell: 2 * cell] += TF_FORGET_BIAS
            bias.append(b)
            w_proj.append(_entry(fin, f"{group}/W_P_0"))
        name = _lstm_group("{0,1}", layer_index)
        _copy(layer.input_weight, np.stack(w_in), f"{name}/W_0[:input]")
        _copy(layer.state_weight, np.stack(w_state), f"{name}/W_0[input:]")
        _copy(layer.bias, np.stack(bias), f"{name}/B")
        _copy(layer.projection_weight, np.stack(w_proj), f"{name}/W_P_0")


def save_weights(bilm: torch.nn.Module, path: Union[str, os.PathLike], *, dtype: str = "float32") -> None:
    """Write an :class:`~sktransfer.elmo.bilm.ElmoBiLm`'s parameters as ``weights.hdf5``.

    The file uses exactly the layout and conventions that :func:`load_weights`, AllenNLP
    and bilm-tf read (padding row dropped, forget bias removed, TF gate order). Every
    tensor is written unchanged except the forget-gate bias, which passes through
    ``-1.0`` in float32 (at most one rounding step); a model loaded from a file and saved
    again reloads to identical parameters. Pair it with :func:`write_options`
    (``bilm.options``) to get a complete model directory.

    ``dtype="float16"`` halves the file (for models shipped inside a package); values are
    rounded to half precision (relative error <= 2**-11) and :func:`load_weights` upcasts
    them to float32. The forget-bias shift is done in float32 before rounding.
    """
    if dtype not in ("float32", "float16"):
        raise ValueError(f"dtype must be 'float32' or 'float16', got {dtype!r}")
    storage = np.dtype(dtype)
    cnn, lstm = bilm.char_cnn, bilm.lstm

    def arr(t: torch.Tensor) -> np.ndarray:
        return t.detach().cpu().to(torch.float32).numpy()

    with h5py.File(path, "w") as fout:
        def put(name, value):
            fout.create_dataset(name, data=np.ascontiguousarray(value, dtype=storage))

        put("char_embed", arr(cnn.char_embedding)[1:])
        for i, conv in enumerate(cnn.convolutions):
            put(f"CNN/W_cnn_{i}", np.transpose(arr(conv.weight), (2, 1, 0))[np.newaxis])
            put(f"CNN/b_cnn_{i}", arr(conv.bias))
        n = cnn.n_filters
        for k in range(cnn.n_highway):
            w, b = arr(cnn.highway_weight[k]), arr(cnn.highway_bias[k])
            put(f"CNN_high_{k}/W_transform", w[:, :n])
            put(f"CNN_high_{k}/W_carry", w[:, n:])
            put(f"CNN_high_{k}/b_transform", b[:n])
            put(f"CNN_high_{k}/b_carry", b[n:])
        put("CNN_proj/W_proj", arr(cnn.projection_weight))
        put("CNN_proj/b_proj", arr(cnn.projection_bias))

        cell = lstm.cell_size
        for layer_index, layer in enumerate(lstm.layers):
            for direction in range(2):
                group = _lstm_group(direction, layer_index)
                w0 = np.concatenate([arr(layer.input_weight[direction]), arr(layer.state_weight[direction])], axis=0)
                put(f"{group}/W_0", _permute_gates(w0, _OURS_TO_TF))
                b = arr(layer.bias[direction]).copy()
                b[cell: 2 * cell] -= TF_FORGET_BIAS
                put(f"{group}/B", _permute_gates(b, _OURS_TO_TF))
                put(f"{group}/W_P_0", arr(layer.projection_weight[direction]))
