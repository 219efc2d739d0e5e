"""Import optional dependencies with an error that names the extra to install."""

import importlib

from .exceptions import MissingDependencyError


def import_optional(module_name, *, extra, purpose):
    """Import ``module_name`` or raise :class:`MissingDependencyError`.

    Parameters
    ----------
    module_name : str
        The module to import, e.g. ``"pandas"``.
    extra : str
        The sktransfer extra that installs it, e.g. ``"compare"``.
    purpose : str
        What needs it, completing the sentence "``module_name`` is needed for ...".
    """
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{module_name!r} is needed for {purpose} but is not installed. "
            f"Install it with: pip install 'sktransfer[{extra}]'"
        ) from exc
