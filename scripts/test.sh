#!/usr/bin/env bash
# Set up (or refresh) the environment, lint with ruff (configuration in pyproject.toml), then run the
# whole test suite. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
"$PY" -m ruff check .
exec "$PY" -m pytest -q "$@"
