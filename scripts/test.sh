#!/usr/bin/env bash
# Set up (or refresh) the environment, then run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
exec "$PY" -m pytest -q "$@"
