"""Error and warning types raised by sktransfer.

This module imports nothing from the rest of the package, so every other module can use it.
"""

__all__ = [
    "MissingDependencyError",
    "ModelResolutionError",
    "EmptyTextWarning",
    "SlowPrecisionWarning",
    "OutOfMemoryWarning",
]


class MissingDependencyError(ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class ModelResolutionError(OSError):
    """``model_name_or_path`` names neither a local model directory nor a reachable hub model."""


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
