#!/usr/bin/env bash
# Creates or refreshes the project's virtual environment (.venv by default, SKTRANSFER_VENV to override).
# torch==2.13.0 is installed first and on its own: on this machine kind that spec is a local CPU wheel,
# while any other spec (or a dependency pulling torch in) would download a multi-GB CUDA build.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${SKTRANSFER_VENV:-$root/.venv}
extras=${1:-minilm,compare,dev}
stamp="$venv/.sktransfer-setup"
want="$(sha256sum "$root/pyproject.toml" | cut -c1-16) $extras"
if [[ -x $venv/bin/python && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# pip's output goes to a log that is shown only when a step fails.
run() { "$@" >"$log" 2>&1 || { cat "$log" >&2; echo "setup-env: failed: $*" >&2; exit 1; }; }
echo "setup-env: preparing $venv ($extras)" >&2
[[ -x $venv/bin/python ]] || run python3 -m venv "$venv"
run "$venv/bin/python" -m pip install --upgrade pip
"$venv/bin/python" -c "import torch" 2>/dev/null || run "$venv/bin/python" -m pip install "torch==2.13.0"
run "$venv/bin/python" -m pip install -e "$root[$extras]"
echo "$want" > "$stamp"
