"""sktransfer/elmo/embedded.py: the model shipped inside the package is the one its model card describes."""

import json
from pathlib import Path

from sktransfer.elmo import ElmoBiLm
from sktransfer.elmo.embedded import EMBEDDED_MODEL_DIR, embedded_model_files
from sktransfer.elmo.pretrain import ARCHITECTURES, words_seen


def test_the_embedded_model_is_the_wide_architecture_with_every_weight():
    options_file, weight_file = embedded_model_files()
    options = json.loads(Path(options_file).read_text(encoding="utf-8"))
    assert options["lstm"] == ARCHITECTURES["wide"]["lstm"]
    assert options["char_cnn"] == ARCHITECTURES["wide"]["char_cnn"]
    # from_files refuses a file that lacks a weight; the count is docs/elmo_imdb_model_card.md's.
    bilm = ElmoBiLm.from_files(options_file, weight_file)
    assert sum(p.numel() for p in bilm.parameters()) == 5_363_936


def test_the_embedded_models_record_says_how_it_was_trained():
    training = json.loads((EMBEDDED_MODEL_DIR / "training.json").read_text(encoding="utf-8"))
    assert training["config"]["init_from"] is None  # one run from random weights
    assert training["weights_dtype"] == "float16"
    history = training["result"]["history"]
    assert words_seen(training) == history[-1]["tokens"] > 20_000_000
    assert history[-1]["held_out_perplexity"] == training["result"]["held_out_perplexity"]
    assert history[-1]["held_out_perplexity"] < 118.8  # below imdb-compact's, the model it replaced
