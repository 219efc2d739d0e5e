"""sktransfer reads and writes only where it was told: the feature cache, the data home, the model files.

A cross-module check (estimators, cache, datasets), so it has a file of its own. It runs the
estimators in a fresh process whose home, cache, temporary and working folders are empty temporary
folders, and checks that nothing appeared in them.
"""

import os
import subprocess
import sys

from .conftest import ELMO_FIXTURES, REPO_ROOT

_SCRIPT = """
import sys
from sktransfer import BertVectorizer, ELMoVectorizer
from sktransfer.datasets import fetch_imdb
tiny_bert, features, data_home = sys.argv[1:4]
texts = ["a great film", "a terrible film"]
BertVectorizer(tiny_bert, cache=features).fit(texts).transform(texts)
ELMoVectorizer(sys.argv[4], sys.argv[5], cache=features).fit(texts).transform(texts)
assert len(fetch_imdb("train", data_home=data_home).data) == 12
"""


def test_fit_transform_writes_only_to_the_configured_folders(tiny_bert, tmp_path):
    from .datasets.tiny_imdb import make_imdb_archive

    home, tmp, cwd, features, data_home = (tmp_path / n for n in ("home", "tmp", "cwd", "features", "data"))
    for folder in (home, tmp, cwd, data_home):
        folder.mkdir()
    make_imdb_archive(data_home / "aclImdb_v1.tar.gz")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "HF_", "TRANSFORMERS_", "SKTRANSFER_"))}
    env.update(HOME=str(home), TMPDIR=str(tmp), PYTHONPATH=str(REPO_ROOT), PYTHONDONTWRITEBYTECODE="1",
               HF_HUB_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, tiny_bert, str(features), str(data_home),
         str(ELMO_FIXTURES / "options.json"), str(ELMO_FIXTURES / "lm_weights.hdf5")],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    for folder in (home, tmp, cwd):
        assert [str(p.relative_to(folder)) for p in folder.rglob("*")] == [], f"written under {folder.name}"
    assert list(features.rglob("*.npz"))  # the cache was used...
    assert sorted(p.name for p in data_home.iterdir()) == ["aclImdb_v1.tar.gz", "imdb_cache"]  # ...and the data home
