# Sourced by the scripts: set up the virtual environment and point at the shared IMDB data.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup-env.sh"
PY=${SKTRANSFER_VENV:-$root/.venv}/bin/python
if [[ -z ${SKTRANSFER_DATA:-} && -f $root/../shared/data/aclImdb_v1.tar.gz ]]; then
    export SKTRANSFER_DATA=$root/../shared/data
fi
# A busy-waiting OpenMP pool is several times slower when the 2 cores are shared (joblib workers, other jobs).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
cd "$root"
