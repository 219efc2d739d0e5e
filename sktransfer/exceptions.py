"""Error and warning types raised by sktransfer.

This module imports nothing from the rest of the package, so every other module can use it.
"""

__all__ = [
    "MissingDependencyError",
    "ModelResolutionError",
    "EmptyTextWarning",
    "TruncationWarning",
]


class MissingDependencyError(ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class ModelResolutionError(OSError):
    """``model_name_or_path`` names neither a local model directory nor a reachable hub model."""


class EmptyTextWarning(UserWarning):
    """Some input texts are empty or whitespace-only; their documented fallback result is used."""


class TruncationWarning(UserWarning):
    """Some input texts are longer than the model reads; the message counts them and says what was kept."""
