#!/usr/bin/env bash
# Set up (or refresh) the environment, then run the main job: `sktransfer compare --quick` on IMDB.
# Extra arguments go to `sktransfer compare` (e.g. --out DIR, --cache DIR).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
exec "$PY" -m sktransfer compare imdb --quick "$@"
