"""The benchmark scripts import their shared module as ``_timing`` (the folder of a script run as
``python benchmarks/x.py`` is on ``sys.path``); the tests import them the same way."""

import sys

from tests.conftest import REPO_ROOT

if str(REPO_ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
