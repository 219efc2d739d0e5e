"""sktransfer.datasets as a package: its public names and what its modules may import."""

import ast
import sys
from pathlib import Path

import pytest

from sktransfer import datasets

MODULES = sorted(Path(datasets.__file__).parent.glob("*.py"))


def test_public_names_are_unchanged_by_the_split():
    assert datasets.__all__ == ["fetch_imdb", "get_data_home", "imdb_pretraining_corpus", "load_text_dataset"]
    from sktransfer.datasets import (  # the names other modules, tests and scripts import
        DATA_HOME_ENV,
        IMDB_ARCHIVE_NAME,
        IMDB_FOLDER_NAME,
        IMDB_SHA256,
        IMDB_URL,
        fetch_imdb,
        get_data_home,
        imdb_pretraining_corpus,
        load_text_dataset,
    )

    assert DATA_HOME_ENV == "SKTRANSFER_DATA"
    assert (IMDB_ARCHIVE_NAME, IMDB_FOLDER_NAME) == ("aclImdb_v1.tar.gz", "aclImdb")
    assert IMDB_URL.endswith("/" + IMDB_ARCHIVE_NAME) and len(IMDB_SHA256) == 64
    for function in (fetch_imdb, get_data_home, imdb_pretraining_corpus, load_text_dataset):
        assert function.__module__.startswith("sktransfer.datasets.")


def test_package_has_its_modules():
    assert {p.stem for p in MODULES} == {"__init__", "_home", "imdb", "files", "corpus"}


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.stem)
def test_module_imports_only_allowed_packages(module):
    tree = ast.parse(module.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            continue  # a sibling module of the package, itself checked here
        elif isinstance(node, ast.ImportFrom) and node.level == 2:
            # Of sktransfer itself only the file-system helpers: never torch or the estimators.
            assert node.module == "_io", f"{module.name} imports sktransfer.{node.module}"
            continue
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom):
            raise AssertionError(f"{module.name}: unexpected relative import {ast.unparse(node)}")
        else:
            continue
        for name in names:
            root = name.split(".")[0]
            if root == "sklearn":
                assert name == "sklearn.utils", name
            roots.add(root)
    allowed = set(sys.stdlib_module_names) | {"numpy", "sklearn", "tqdm"}
    assert roots <= allowed, roots - allowed
    assert "pandas" not in roots
