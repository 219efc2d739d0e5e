"""The ELMo shipped inside the package: a biLM of the ``wide`` architecture pretrained on IMDB's unlabelled reviews.

It makes ``ELMoVectorizer()`` work offline with no files to fetch. How it was trained (command,
corpus, budget, perplexities, machine) is recorded in ``docs/elmo_imdb_model_card.md`` and in the
``training.json`` that sits beside the weights.
"""

from pathlib import Path

__all__ = ["EMBEDDED_MODEL_DIR", "embedded_model_files"]

EMBEDDED_MODEL_DIR = Path(__file__).resolve().parent / "models" / "imdb-wide"


def embedded_model_files():
    """``(options_file, weight_file)`` of the embedded model, or None if this installation lacks it."""
    options, weights = EMBEDDED_MODEL_DIR / "options.json", EMBEDDED_MODEL_DIR / "weights.hdf5"
    if options.is_file() and weights.is_file():
        return str(options), str(weights)
    return None
