"""imdb_pretraining_corpus: IMDB's unlabelled and training reviews, never its test split."""

from sktransfer import datasets

from .tiny_imdb import TINY_LAYOUT


def test_imdb_pretraining_corpus_is_unsup_and_train_without_test(data_home, no_network):
    corpus = datasets.imdb_pretraining_corpus(data_home=data_home)
    n_train = len(TINY_LAYOUT[("train", "neg")]) + len(TINY_LAYOUT[("train", "pos")])
    assert len(corpus) == len(TINY_LAYOUT[("train", "unsup")]) + n_train
    assert all(doc.startswith(("train unsup", "train neg", "train pos")) for doc in corpus)
    assert not any("test" in doc.split()[0] for doc in corpus)
    assert not any("<br" in doc for doc in corpus)
    assert "review 0 v1.  Café" in corpus[0]  # each <br /> became one space
