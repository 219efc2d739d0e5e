"""Error and warning types raised by sktransfer.

This module imports nothing from the rest of the package, so every other module can use it.
"""

__all__ = [
    "MissingDependencyError",
    "ModelResolutionError",
    "ModelFileError",
    "CacheWriteWarning",
    "TrainingInterruptedWarning",
    "EmptyTextWarning",
    "SlowPrecisionWarning",
    "OutOfMemoryWarning",
    "TruncationWarning",
]


class MissingDependencyError(ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class ModelResolutionError(OSError):
    """``model_name_or_path`` names neither a local model directory nor a reachable hub model."""


class ModelFileError(OSError, ValueError):
    """A model file is missing, unreadable, corrupt, or does not match its configuration.

    The message names the file (and the tensor, for a shape mismatch) and how to fix it. It is an
    ``OSError`` (a file problem) and a ``ValueError`` (bad content), as ``io.UnsupportedOperation`` is.
    """


class CacheWriteWarning(RuntimeWarning):
    """The feature cache could not be written (read-only folder, disk full); the vectors were still computed."""


class TrainingInterruptedWarning(UserWarning):
    """``fit`` was interrupted (Ctrl-C); the estimator keeps the weights reached so far and is usable."""


class EmptyTextWarning(UserWarning):
    """Some input texts are empty or whitespace-only; their documented fallback result is used."""



class SlowPrecisionWarning(UserWarning):
    """A reduced ``precision`` was asked for on hardware that runs it slower than float32.

    Raised for "bfloat16"/"float16" on a CPU without AMX; ``precision="auto"`` never raises it.
    """


class OutOfMemoryWarning(UserWarning):
    """The accelerator ran out of memory during inference; batches were halved and retried.

    The results are those of a run with the smaller batches (same rows, same order).
    """
class TruncationWarning(UserWarning):
    """Some input texts are longer than the model reads; the message counts them and says what was kept."""
