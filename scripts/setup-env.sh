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
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -c "import torch" 2>/dev/null || "$venv/bin/python" -m pip install -q "torch==2.13.0"
"$venv/bin/python" -m pip install -q -e "$root[$extras]"
echo "$want" > "$stamp"
