"""The constraint pieces of every estimator's ``_parameter_constraints`` (scikit-learn's own validation).

Each estimator declares ``_parameter_constraints`` from these pieces and validates them when it is
fitted (``sklearn.base._fit_context``). A violation raises
:class:`sklearn.utils._param_validation.InvalidParameterError`, a subclass of both ``ValueError`` and
``TypeError``, whose message names the parameter, the accepted values and the value received, e.g.
``The 'batch_size' parameter of BertVectorizer must be an int in the range [1, inf). Got 0 instead.``

What cannot be declared here because it depends on the loaded model (the range of ``layers``)
is checked in ``fit`` with :func:`invalid_parameter`, which raises the same error.
"""

import numbers
import os

from sklearn.utils._param_validation import HasMethods, Interval, InvalidParameterError, Options, StrOptions

from ._device import DEVICE_CHOICES, PRECISION_CHOICES, is_device_spec

__all__ = [
    "ANY_INT",
    "BATCH_SIZE",
    "BERT_POOLING",
    "CACHE",
    "CALLBACKS",
    "DEVICE",
    "DROPOUT",
    "ELMO_PRESET",
    "HEAD_FRACTION",
    "LEARNING_RATE",
    "MAX_GRAD_NORM",
    "MAX_LENGTH",
    "MODEL_PATH",
    "OPTIONAL_PATH",
    "OPTIONAL_POSITIVE_INT",
    "POSITIVE_INT",
    "PRECISION",
    "RANDOM_STATE",
    "STRIDE",
    "TRUNCATION",
    "TRUNCATION_OR_CHUNKS",
    "VALIDATION_FRACTION",
    "WEIGHT_DECAY",
    "NumberInterval",
    "invalid_parameter",
]


class NumberInterval(Interval):
    """An :class:`~sklearn.utils._param_validation.Interval` that rejects ``True`` and ``False``.

    sklearn's intervals accept booleans (``bool`` is an ``int``); ``batch_size=True`` is a mistake,
    not a batch of one.
    """

    def is_satisfied_by(self, val):
        return not isinstance(val, bool) and super().is_satisfied_by(val)

    def __str__(self):
        if self.left is None and self.right is None:
            return "an int" if self.type is numbers.Integral else "a finite float"
        return super().__str__()


class _Predicate(Options):
    """Base of the constraints below: subclasses define ``is_satisfied_by`` and ``__str__``.

    sklearn accepts only its own constraint classes (Interval, Options, HasMethods, ...) in
    ``_parameter_constraints``, so these subclass Options; its type and option set go unused.
    """

    def __init__(self):
        super().__init__(object, set())


class _NonBlankStr(_Predicate):
    """A ``str`` with something besides whitespace (a path or a hub id)."""

    def is_satisfied_by(self, val):
        return isinstance(val, str) and bool(val.strip())

    def __str__(self):
        return "a non-empty str"


class _DeviceSpec(_Predicate):
    """What :func:`sktransfer._device.resolve_device` accepts (the same predicate)."""

    def is_satisfied_by(self, val):
        return is_device_spec(val)

    def __str__(self):
        return f"a str among {{{', '.join(repr(c) for c in DEVICE_CHOICES)}}} or a torch.device"


class _ElmoPreset(_Predicate):
    """A name in :data:`sktransfer.elmo.presets.PRESETS`.

    The names are read when a value is checked, not when this module is imported: importing
    ``sktransfer.elmo`` imports torch, and ``import sktransfer`` must stay cheap.
    """

    @staticmethod
    def _names():
        from .elmo.presets import PRESETS

        return sorted(PRESETS)

    def is_satisfied_by(self, val):
        return isinstance(val, str) and val in self._names()

    def __str__(self):
        return f"a str among {{{', '.join(repr(n) for n in self._names())}}}"


_PATH = [_NonBlankStr(), os.PathLike]

ANY_INT = NumberInterval(numbers.Integral, None, None, closed="neither")
POSITIVE_INT = NumberInterval(numbers.Integral, 1, None, closed="left")
#: A count or size bound where None means no bound.
OPTIONAL_POSITIVE_INT = [None, POSITIVE_INT]

#: Texts per forward pass.
BATCH_SIZE = [POSITIVE_INT]
#: How a BERT encoder's token vectors become one text vector.
#: "auto" is resolved per model (sktransfer.architectures.default_pooling); "cls" needs a [CLS]-like first token.
BERT_POOLING = [StrOptions({"auto", "mean", "max", "cls", "last"})]
#: Token budget of a BERT input; at least [CLS] and [SEP] (below 2 the tokenizer does not truncate at all).
MAX_LENGTH = [NumberInterval(numbers.Integral, 2, None, closed="left")]
#: Which tokens of a long text a BERT estimator keeps (sktransfer.truncation); "chunks" reads them all.
TRUNCATION = [StrOptions({"head", "tail", "head+tail"})]
TRUNCATION_OR_CHUNKS = [StrOptions({"head", "tail", "head+tail", "chunks"})]
#: The head's share of the kept tokens with truncation="head+tail".
HEAD_FRACTION = [NumberInterval(numbers.Real, 0, 1, closed="both")]
#: Tokens shared by consecutive chunk windows; the upper bound depends on max_length and the tokenizer.
STRIDE = [NumberInterval(numbers.Integral, 0, None, closed="left")]
#: The feature cache: a folder, a joblib.Memory (its location is used), or None (off).
CACHE = [None, *_PATH, HasMethods(["cache"])]
DEVICE = [_DeviceSpec()]
ELMO_PRESET = [None, _ElmoPreset()]
#: A local model directory or a Hugging Face hub id.
MODEL_PATH = list(_PATH)
OPTIONAL_PATH = [None, *_PATH]
#: "auto" or an autocast precision (see sktransfer._device.resolve_precision).
PRECISION = [StrOptions(set(PRECISION_CHOICES))]
#: sklearn's seed range (numpy's); a RandomState instance is not accepted: the seed keys the shared model.
RANDOM_STATE = [NumberInterval(numbers.Integral, 0, 2**32 - 1, closed="both"), None]

# The training parameters of the skorch classifiers.
LEARNING_RATE = [NumberInterval(numbers.Real, 0, None, closed="neither")]
#: AdamW rejects a negative decay.
WEIGHT_DECAY = [NumberInterval(numbers.Real, 0, None, closed="left")]
#: A probability of dropping; 1 would drop everything.
DROPOUT = [NumberInterval(numbers.Real, 0, 1, closed="left")]
#: The held-out share of the training texts, or None (no validation split); both sides must keep texts.
VALIDATION_FRACTION = [NumberInterval(numbers.Real, 0, 1, closed="neither"), None]
#: Gradient clipping by global norm, or None (off). A norm of 0 would zero every gradient; a
#: negative one would flip them.
MAX_GRAD_NORM = [NumberInterval(numbers.Real, 0, None, closed="neither"), None]
#: Extra skorch callbacks.
CALLBACKS = [None, list, tuple]


def invalid_parameter(name, expected, value, *, caller=None, why=""):
    """The error for a parameter that only the loaded model can judge, worded like sklearn's own.

    Parameters
    ----------
    name : str
        The parameter.
    expected : str
        What it must be, e.g. ``"an int in [-3, 2]"``.
    value : object
        What it is.
    caller : str, optional
        The estimator's class name.
    why : str, optional
        A sentence appended to the message (the reason for the range, how to fix it).

    Returns
    -------
    InvalidParameterError
        To be raised by the caller; a ``ValueError`` and a ``TypeError``, like sklearn's.
    """
    owner = f" of {caller}" if caller else ""
    message = f"The {name!r} parameter{owner} must be {expected}. Got {value!r} instead."
    return InvalidParameterError(f"{message} {why}".rstrip())
