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
