#!/usr/bin/env bash
# Set up (or refresh) the environment, then run the main job. Extra arguments go to the job.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
exec "$PY" examples/imdb_quickstart.py "$@"
