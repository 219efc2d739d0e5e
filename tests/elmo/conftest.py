"""Shared fixtures for the ELMo tests: the tiny AllenNLP reference model (see tests/fixtures/elmo/NOTICE)."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "elmo"


@pytest.fixture(scope="session")
def fixture_dir():
    return FIXTURES


@pytest.fixture(scope="session")
def options_file():
    return FIXTURES / "options.json"


@pytest.fixture(scope="session")
def weight_file():
    return FIXTURES / "lm_weights.hdf5"
