# Sourced by the scripts: set up the virtual environment and point at the shared IMDB data.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup-env.sh" 2> >(grep -v "^WARNING: Location" >&2)
PY=${SKTRANSFER_VENV:-$root/.venv}/bin/python
if [[ -z ${SKTRANSFER_DATA:-} && -f $root/../shared/data/aclImdb_v1.tar.gz ]]; then
    export SKTRANSFER_DATA=$root/../shared/data
fi
cd "$root"
