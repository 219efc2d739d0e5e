"""What every sktransfer text vectorizer shares: sklearn tags, feature names, the fit/transform frame.

Subclasses implement
- ``_load(texts)``: called by ``fit``; sets the fitted attributes, including ``n_features_out_``;
- ``_encode(texts)``: texts -> one model input per text (the text itself, or its tokens), cheap:
  the feature cache keys entries by it;
- ``_embed_units(units)``: model inputs -> float32 array, in the given order (the model's work);
- ``_output_settings()``: the parameters, besides the model input, that change a vector;
- ``_frozen_model()``: the module whose weights produce the vectors;
- ``_model_attribute``, ``_pack_model(model)`` and ``_unpack_model(packed)``: how the model is
  pickled (see ``__getstate__``).
The mixin runs them, with the feature cache (``cache`` parameter) between encode and embed, and
validates the parameters against the subclass's ``_parameter_constraints`` (see ``_params``).
"""

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted

from ._model_memo import weights_fingerprint
from ._validation import TextInputMixin, check_texts
from .cache import FeatureCache, TokenFeatureCache, namespace_digest, resolve_cache_location

__all__ = ["TextVectorizerMixin", "TokenMemoryError", "ragged_rows"]


class TokenMemoryError(ValueError):
    """The token vectors asked for would take more memory than the caller allows.

    Attributes
    ----------
    needed_bytes, max_bytes : int
    """

    def __init__(self, message, needed_bytes, max_bytes):
        super().__init__(message)
        self.needed_bytes = needed_bytes
        self.max_bytes = max_bytes


def ragged_rows(arrays):
    """A 1-D object array holding ``arrays`` (of different shapes), for :func:`map_batches`."""
    rows = np.empty(len(arrays), dtype=object)
    for i, array in enumerate(arrays):  # item by item: numpy would try to broadcast a list
        rows[i] = array
    return rows


class TextVectorizerMixin(TextInputMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of the frozen-feature vectorizers (not public)."""

    def _validate_texts(self, X):
        return check_texts(X, estimator=self)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Load the model. The texts are only validated: a frozen model learns nothing from them.

        Parameters
        ----------
        X : iterable of str
            Texts (list, tuple, ndarray, pandas Series or a one-column DataFrame).
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self

        Raises
        ------
        sklearn.utils._param_validation.InvalidParameterError
            A parameter has a wrong type or value (a subclass of both TypeError and ValueError);
            the message names the parameter, what it must be and what it is.
        """
        texts = self._validate_texts(X)
        self._load(texts)
        return self

    def _check_fitted_params(self):
        check_is_fitted(self, "n_features_out_")
        if not get_config()["skip_parameter_validation"]:
            self._validate_params()  # set_params after fit may have changed them

    def transform(self, X):
        """Embed texts into a float32 array of shape ``(n_texts, n_features_out_)``, in input order.

        Parameters
        ----------
        X : iterable of str

        Returns
        -------
        ndarray of shape (n_texts, n_features_out_), dtype float32
        """
        self._check_fitted_params()
        texts = self._validate_texts(X)
        features = self._embed(texts)
        return np.ascontiguousarray(features, dtype=np.float32)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit to the texts, then embed them (the texts are validated once)."""
        texts = self._validate_texts(X)
        self._load(texts)
        return np.ascontiguousarray(self._embed(texts), dtype=np.float32)

    def _embed(self, texts):
        units = self._encode(texts)
        location = resolve_cache_location(self.cache)
        if location is None:
            return self._embed_units(units)
        namespace = self._cache_namespace(dim=self.n_features_out_)
        return FeatureCache(location, namespace, self.n_features_out_).fetch_or_compute(units, self._embed_units)

    def _cache_namespace(self, **parts):
        """The feature-cache namespace: this estimator, its weights, its output settings and ``parts``.

        Everything that changes the vectors is in it (tokenization, truncation, precision, layer
        selection among the output settings), so a cached vector is never served stale.
        """
        return namespace_digest(
            estimator=type(self).__name__,
            weights=weights_fingerprint(self._frozen_model()),
            **parts,
            **self._output_settings(),
        )

    # -- token level --------------------------------------------------------------------------
    # For heads trained on frozen token vectors (sktransfer.feature_head): the per-layer token
    # vectors instead of pooled text vectors. Subclasses implement
    # - _token_units(texts): (one model input per text, its number of output tokens);
    # - _token_layer_shape(): (number of layers returned, vector width);
    # - _embed_token_units(units, lengths, dtype): list of (n_tokens, n_layers, dim) arrays.
    def transform_tokens(self, X, *, dtype=np.float32, max_bytes=None):
        """Per-layer token vectors of each text, before any mixing or pooling.

        The tokens are those ``transform`` pools (same tokenizer, truncation and batching); the
        layers are those the ``layers`` parameter uses.

        Parameters
        ----------
        X : iterable of str
        dtype : {numpy.float32, numpy.float16}, default=numpy.float32
            float16 halves the memory of stored vectors.
        max_bytes : int or None, default=None
            Raise :class:`TokenMemoryError` before any model work when the vectors would take
            more than this many bytes. None: no limit. The bound is on what is returned, cache or
            not.

        Returns
        -------
        list of ndarray of shape (n_tokens, n_layers, dim)
            One array per text, in input order (``n_tokens`` may be 0).

        Notes
        -----
        With the ``cache`` parameter set, the token vectors go through the feature cache (see
        :class:`sktransfer.cache.TokenFeatureCache`): texts already cached are read, only the
        others are embedded (each distinct text once) and stored. Entries are stored in the
        requested ``dtype`` (float32 and float16 requests are cached separately), so cached values
        equal uncached ones. A text's entry is found again under the same weights, tokens,
        layer selection and ``transform`` output settings: a change of a pooling-only setting
        (``pooling``, ``normalize``, ELMo's ``gamma``) also recomputes, never a stale vector.
        """
        self._check_fitted_params()
        dtype = np.dtype(dtype)
        if dtype not in (np.float16, np.float32):
            raise ValueError(f"dtype must be float16 or float32, got {dtype}.")
        texts = self._validate_texts(X)
        units, lengths = self._token_units(texts)
        n_layers, dim = self._token_layer_shape()
        needed = int(sum(lengths)) * n_layers * dim * dtype.itemsize
        if max_bytes is not None and needed > max_bytes:
            raise TokenMemoryError(
                f"{type(self).__name__}: the token vectors of {len(texts)} texts ({sum(lengths)} tokens x "
                f"{n_layers} layers x {dim} values x {dtype.itemsize} bytes) need {needed / 2**20:.0f} MiB, "
                f"more than the limit of {max_bytes / 2**20:.0f} MiB. Pass fewer or shorter texts (truncate "
                "them with the vectorizer's max_tokens / max_length), select fewer layers, or raise the limit.",
                needed,
                max_bytes,
            )
        location = resolve_cache_location(self.cache)
        if location is None:
            return self._embed_token_units(units, lengths, dtype)
        namespace = self._cache_namespace(kind="tokens", dtype=dtype.name, n_layers=n_layers, dim=dim)
        store = TokenFeatureCache(location, namespace, n_layers, dim, dtype)
        return store.fetch_or_compute(
            units, lambda todo: self._embed_token_units([units[i] for i in todo], [lengths[i] for i in todo], dtype)
        )

    # -- pickling ---------------------------------------------------------------------------
    # The model is pickled as plain data (its configuration and tensors, through torch.save),
    # never as a module object: library modules may carry unpicklable hooks. Loading maps every
    # tensor to the fitted device when this machine has it, else to the CPU, so an estimator
    # fitted on a GPU loads and runs on a machine without one.
    def __getstate__(self):
        state = dict(super().__getstate__())
        model = state.pop(self._model_attribute, None)
        if model is not None:
            from ._torch_utils import tensors_to_bytes

            state["_packed_model"] = tensors_to_bytes(self._pack_model(model))
        return state

    def __setstate__(self, state):
        state = dict(state)
        packed = state.pop("_packed_model", None)
        super().__setstate__(state)
        if packed is not None:
            from ._device import relocate_fitted
            from ._torch_utils import tensors_from_bytes

            device = relocate_fitted(self)
            model = self._unpack_model(tensors_from_bytes(packed, device, weights_only=True))
            setattr(self, self._model_attribute, model.to(device).requires_grad_(False).eval())

    @property
    def _n_features_out(self):
        # Read by ClassNamePrefixFeaturesOutMixin.get_feature_names_out.
        return self.n_features_out_
