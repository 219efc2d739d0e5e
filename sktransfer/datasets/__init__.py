"""Dataset loaders: the IMDB movie reviews, a user's own labelled texts, a pretraining corpus.

:func:`fetch_imdb` loads the Large Movie Review Dataset (Maas et al., 2011) in
the style of :func:`sklearn.datasets.fetch_20newsgroups`;
:func:`load_text_dataset` reads a CSV, TSV or JSON Lines file of texts and
labels. Both return a :class:`sklearn.utils.Bunch`.
:func:`imdb_pretraining_corpus` gives IMDB's text without its test split, for
language-model pretraining.

Modules: :mod:`._home` (the data home and where the parsed IMDB cache goes),
:mod:`.imdb` (locate, download, parse and cache IMDB), :mod:`.files` (the
user's files), :mod:`.corpus` (the pretraining corpus). Storage locations
follow the rule of :mod:`sktransfer._io`: the ``data_home`` argument, else
``$SKTRANSFER_DATA``, else ``~/sktransfer_data``.

Only the standard library, NumPy, ``sklearn.utils``, tqdm and
:mod:`sktransfer._io` are imported.
"""

# The constants stay importable from here as before the split; __all__ still lists only the
# functions, so ``from sktransfer.datasets import *`` is unchanged.
from ._home import DATA_HOME_ENV, get_data_home  # noqa: F401
from .corpus import imdb_pretraining_corpus
from .files import load_text_dataset
from .imdb import IMDB_ARCHIVE_NAME, IMDB_FOLDER_NAME, IMDB_SHA256, IMDB_URL, fetch_imdb  # noqa: F401

__all__ = ["fetch_imdb", "get_data_home", "imdb_pretraining_corpus", "load_text_dataset"]
