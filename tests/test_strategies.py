"""Tests of sktransfer.strategies: the registry, twins derived from entries, requirements, profiles."""

import json
import warnings

import pytest
from sklearn.dummy import DummyClassifier

from sktransfer import compare as cmp
from sktransfer import strategies as registry
from sktransfer.strategies import (
    PROFILES,
    REGISTRY,
    REQUIREMENTS,
    Profile,
    Requirement,
    Strategy,
    StrategyRegistry,
    StrategySettings,
    resolve_profile,
)


class ToyClassifier(DummyClassifier):
    """The majority class; its parameters record the settings a factory gave it."""

    def __init__(self, pretrained=True, max_length=None, epochs=None, lr=None, random_state=None):
        super().__init__(strategy="most_frequent", random_state=random_state)
        self.pretrained = pretrained
        self.max_length = max_length
        self.epochs = epochs
        self.lr = lr


def toy_factory(settings, pretrained=True):
    return ToyClassifier(pretrained=pretrained, max_length=settings.max_length, epochs=settings.epochs, lr=settings.lr)


@pytest.fixture
def toy_entry():
    """A 'toy' strategy with a random twin, registered for one test only."""
    entry = REGISTRY.register(Strategy("toy", "a toy majority classifier", toy_factory, random_twin=True,
                                       twin_description="the toy with random weights"))
    yield entry
    REGISTRY.unregister("toy")


# ---------------------------------------------------------------------------------------------
# the default registry
# ---------------------------------------------------------------------------------------------


def test_default_names_and_descriptions_come_from_the_registry():
    assert cmp.DEFAULT_STRATEGY_NAMES == (
        "tfidf-lr", "elmo-lr", "elmo-lr-random", "elmo-head-mlp", "embed-head-mlp", "elmo-head-bilstm",
        "embed-head-bilstm", "elmo-embed-head-mlp", "bert-lr", "bert-lr-random", "bert-head-mlp", "bert-finetune",
        "bert-finetune-random",
    )
    assert tuple(REGISTRY.names()) == cmp.DEFAULT_STRATEGY_NAMES
    assert cmp.STRATEGY_DESCRIPTIONS == REGISTRY.descriptions()
    assert cmp.STRATEGY_DESCRIPTIONS["elmo-lr-random"] == "the same with a randomly initialised ELMo (pretrained=False)"


def test_twins_are_derived_from_their_base_entry():
    for base in ("elmo-lr", "bert-lr", "bert-finetune"):
        twin = REGISTRY[f"{base}-random"]
        assert twin.twin_of == base and twin.pretrained is False and twin.random_twin is None
        assert twin.factory is REGISTRY[base].factory and twin.requires == REGISTRY[base].requires
        assert REGISTRY.base_of(twin.name) == base and REGISTRY.base_of(base) == base
    assert REGISTRY["tfidf-lr"].random_twin is None and "tfidf-lr-random" not in REGISTRY
    assert REGISTRY["elmo-lr"].requires == ("elmo",) and REGISTRY["bert-lr"].requires == ()


def test_settings_reach_every_factory(tmp_path):
    settings = StrategySettings(max_length=40, epochs=2, lr=3e-4, cache=str(tmp_path), bert_model="some/bert",
                                elmo_files=["o.json", "w.hdf5"])
    assert settings.elmo_files == ("o.json", "w.hdf5")
    built = {name: REGISTRY[name].build(settings) for name in ("elmo-lr-random", "bert-lr", "bert-finetune")}
    elmo = built["elmo-lr-random"].steps[0][1]
    assert (elmo.options_file, elmo.weight_file, elmo.max_tokens, elmo.pretrained) == ("o.json", "w.hdf5", 40, False)
    bert = built["bert-lr"].steps[0][1]
    assert (bert.model_name_or_path, bert.max_length, bert.pretrained) == ("some/bert", 40, True)
    assert bert.cache == str(tmp_path)
    tuned = built["bert-finetune"]
    assert (tuned.model_name_or_path, tuned.max_length, tuned.max_epochs, tuned.lr) == ("some/bert", 40, 2, 3e-4)


def test_head_entries_pair_each_elmo_head_with_the_same_head_on_random_trainable_embeddings(tmp_path):
    from sktransfer import ELMoVectorizer, FeatureHeadClassifier, WordEmbeddingEncoder

    settings = StrategySettings(max_length=40, cache=str(tmp_path), elmo_files=["o.json", "w.hdf5"], head_epochs=7)
    for head in ("mlp", "bilstm"):
        base, twin = REGISTRY[f"elmo-head-{head}"], REGISTRY[f"embed-head-{head}"]
        assert base.random_twin == twin.name and twin.twin_of == base.name and REGISTRY.base_of(twin.name) == base.name
        assert base.requires == ("elmo",) and twin.requires == ()  # random embeddings need no ELMo model
        on_elmo, on_random = base.build(settings), twin.build(settings)
        for clf in (on_elmo, on_random):
            assert isinstance(clf, FeatureHeadClassifier) and clf.head == head
            assert (clf.max_epochs, clf.validation_fraction) == (7, registry.HEAD_VALIDATION_FRACTION)
            assert (clf.patience, clf.refit) == (None, True)  # the split measures; the head refits on all
        assert isinstance(on_elmo.encoder, ELMoVectorizer) and on_elmo.encoder.pretrained
        assert (on_elmo.encoder.options_file, on_elmo.encoder.max_tokens, on_elmo.encoder.cache) == (
            "o.json", 40, str(tmp_path))
        assert isinstance(on_random.encoder, WordEmbeddingEncoder) and on_random.encoder.max_tokens == 40


def test_elmo_embed_head_joins_elmo_to_the_baselines_word_embeddings(tmp_path):
    from sktransfer import ELMoVectorizer, FeatureHeadClassifier, WordEmbeddingEncoder

    entry = REGISTRY["elmo-embed-head-mlp"]
    assert entry.requires == ("elmo",) and entry.random_twin is None  # its baseline is embed-head-mlp
    settings = StrategySettings(max_length=40, cache=str(tmp_path), elmo_files=["o.json", "w.hdf5"], head_epochs=7)
    clf, baseline = entry.build(settings), REGISTRY["embed-head-mlp"].build(settings)
    assert isinstance(clf, FeatureHeadClassifier) and clf.head == "mlp" and isinstance(clf.encoder, ELMoVectorizer)
    assert (clf.encoder.options_file, clf.encoder.max_tokens, clf.encoder.cache) == ("o.json", 40, str(tmp_path))
    # The same protocol and the same word vectors as the baseline it is compared with.
    assert isinstance(clf.word_embeddings, WordEmbeddingEncoder)
    assert clf.word_embeddings.get_params() == baseline.encoder.get_params()
    for name in ("max_epochs", "validation_fraction", "patience", "refit", "hidden_size", "dropout", "lr"):
        assert getattr(clf, name) == getattr(baseline, name), name


def test_bert_head_mixes_the_last_four_layers_of_the_bert_strategies_model(tmp_path):
    from sktransfer import BertVectorizer, FeatureHeadClassifier

    entry = REGISTRY["bert-head-mlp"]
    assert entry.requires == () and entry.random_twin is None
    clf = entry.build(StrategySettings(max_length=40, cache=str(tmp_path), bert_model="some/bert", head_epochs=6))
    assert isinstance(clf, FeatureHeadClassifier) and clf.head == "mlp" and clf.max_epochs == 6
    assert isinstance(clf.encoder, BertVectorizer) and clf.encoder.layers == [-4, -3, -2, -1]
    encoder = clf.encoder
    assert (encoder.model_name_or_path, encoder.max_length, encoder.cache) == ("some/bert", 40, str(tmp_path))


def test_head_epochs_reach_the_heads_through_default_strategies():
    built = cmp.default_strategies(names=["embed-head-mlp"], head_epochs=5)
    assert built["embed-head-mlp"].max_epochs == 5
    default = cmp.default_strategies(names=["embed-head-mlp"])
    assert default["embed-head-mlp"].max_epochs == StrategySettings().head_epochs


# ---------------------------------------------------------------------------------------------
# one entry adds a strategy everywhere
# ---------------------------------------------------------------------------------------------


def test_one_entry_adds_a_strategy_and_its_twin_to_default_strategies(toy_entry):
    assert REGISTRY.names()[-2:] == ["toy", "toy-random"]
    built = cmp.default_strategies(names=["toy-random", "toy"], quick=True, epochs=4, lr=2e-3)
    assert list(built) == ["toy-random", "toy"]
    assert built["toy"].pretrained is True and built["toy-random"].pretrained is False
    assert (built["toy"].max_length, built["toy"].epochs, built["toy"].lr) == (PROFILES["quick"].max_length, 4, 2e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # ELMo may be unavailable; not the point here
        assert list(cmp.default_strategies())[-2:] == ["toy", "toy-random"]


def test_one_entry_adds_a_strategy_to_the_command_line(toy_entry, tmp_path, capsys):
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    from sktransfer.cli import main

    from .test_compare import synthetic_texts

    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    text = capsys.readouterr().out
    assert "  toy                    a toy majority classifier" in text
    assert "  toy-random             the toy with random weights" in text

    texts, labels = synthetic_texts(24, seed=0)
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"text": t, "label": str(y)}) + "\n" for t, y in zip(texts, labels)))
    out = tmp_path / "out"
    assert main(["compare", str(data), "--strategies", "toy,toy-random", "--train-sizes", "8", "--seeds", "0",
                 "--max-length", "12", "--out", str(out), "--no-progress"]) == 0
    payload = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [r["strategy"] for r in payload["records"]] == ["toy", "toy-random"]
    assert "pretrained=False" in payload["metadata"]["strategies"]["toy-random"]
    assert "max_length=12" in payload["metadata"]["strategies"]["toy"]


def test_one_entry_adds_a_strategy_to_the_plot_legend(toy_entry):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    from sktransfer.reporting import RESULT_COLUMNS, plot_learning_curve

    # Results in an arbitrary order: registry names take registry order, the others follow as they come.
    names = ["mine", "toy-random", "bert-lr", "toy", "mine-random"]
    rows = [{"strategy": s, "n_train": n, "seed": 0, "accuracy": 0.5 + i / 100, "macro_f1": 0.5, "fit_seconds": 1.0,
             "predict_seconds": 1.0, "n_test": 10, "best_params": None}
            for i, s in enumerate(names) for n in (10, 20)]
    figure = plot_learning_curve(pd.DataFrame(rows, columns=list(RESULT_COLUMNS)))
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "bert-lr", "toy", "toy-random", "mine", "mine-random"
    ]
    lines = {c.get_label(): c.lines[0] for c in ax.containers}
    assert lines["toy-random"].get_color() == lines["toy"].get_color() != lines["bert-lr"].get_color()
    assert lines["toy-random"].get_linestyle() == "--" and lines["toy"].get_linestyle() == "-"
    assert lines["mine-random"].get_color() == lines["mine"].get_color()


# ---------------------------------------------------------------------------------------------
# requirements are data on the entry
# ---------------------------------------------------------------------------------------------


def test_unmet_requirement_skips_with_a_note_or_refuses_by_name(monkeypatch):
    monkeypatch.setitem(REQUIREMENTS, "gpu", Requirement("GPU", lambda settings: "no GPU on this machine"))
    reg = StrategyRegistry()
    reg.register(Strategy("plain", "always runs", toy_factory))
    reg.register(Strategy("fast", "needs a GPU", toy_factory, requires=("gpu",), random_twin=True))
    with pytest.warns(
        UserWarning, match=r"Skipping the GPU strategies \['fast', 'fast-random'\]: no GPU on this machine\."
    ):
        assert list(reg.build()) == ["plain"]
    with pytest.raises(ValueError, match=r"Cannot build \['fast-random'\]: no GPU on this machine\."):
        reg.build(["plain", "fast-random"])
    monkeypatch.setitem(REQUIREMENTS, "gpu", Requirement("GPU", lambda settings: None))
    assert list(reg.build(["fast-random", "plain"])) == ["fast-random", "plain"]


def test_an_elmo_entry_needs_no_code_in_the_builder(monkeypatch, elmo_files):
    reg = StrategyRegistry()
    reg.register(Strategy("elmo-head", "a head on ELMo", toy_factory, requires=("elmo",), random_twin=True))
    monkeypatch.setattr(registry, "elmo_unavailable_reason", lambda files: f"no ELMo for {files}")
    with pytest.warns(
        UserWarning, match=r"Skipping the ELMo strategies \['elmo-head', 'elmo-head-random'\]: no ELMo for None"
    ):
        assert reg.build() == {}
    monkeypatch.undo()
    built = reg.build(settings=StrategySettings(elmo_files=elmo_files))
    assert list(built) == ["elmo-head", "elmo-head-random"]


def test_registry_errors_say_what_to_do():
    reg = StrategyRegistry()
    reg.register(Strategy("a", "a", toy_factory, random_twin="a-rand"))
    assert reg.names() == ["a", "a-rand"]
    with pytest.raises(ValueError, match=r"\['a'\] already registered"):
        reg.register(Strategy("a", "again", toy_factory))
    with pytest.raises(ValueError, match=r"\['a-rand'\] already registered"):
        reg.register(Strategy("a-rand", "clash with a twin", toy_factory))
    with pytest.raises(ValueError, match="twin of 'a'; unregister 'a' instead"):
        reg.unregister("a-rand")
    with pytest.raises(KeyError, match=r"No strategy 'b' in the registry; registered: \['a', 'a-rand'\]"):
        reg["b"]
    with pytest.raises(ValueError, match=r"Unknown strategy name\(s\) \['b'\]"):
        reg.build(["a", "b"])
    with pytest.raises(ValueError, match=r"requires \['cuda'\], which are not known requirements"):
        Strategy("c", "c", toy_factory, requires=("cuda",))
    with pytest.raises(TypeError, match="factory of strategy 'c' must be callable"):
        Strategy("c", "c", "not a function")
    with pytest.raises(TypeError, match="takes a sktransfer.strategies.Strategy"):
        reg.register({"name": "d"})
    reg.unregister("a")
    assert reg.names() == [] and len(reg) == 0


# ---------------------------------------------------------------------------------------------
# profiles
# ---------------------------------------------------------------------------------------------


def test_resolve_profile_explicit_values_override_the_profile():
    assert resolve_profile() == PROFILES["full"]
    assert resolve_profile(True) == PROFILES["quick"]
    assert PROFILES["quick"].max_length == 128 and PROFILES["full"].max_length == 256
    quick = resolve_profile(True, max_length=300, train_sizes=[5, 7], seeds=None, epochs=None)
    assert quick == Profile(train_sizes=(5, 7), seeds=PROFILES["quick"].seeds, n_test=PROFILES["quick"].n_test,
                            max_length=300, epochs=PROFILES["quick"].epochs)
    with pytest.raises(TypeError, match=r"unknown settings \['lr'\]"):
        resolve_profile(lr=0.1)


def test_strategy_settings_defaults_follow_the_full_profile():
    settings = StrategySettings()
    assert (settings.max_length, settings.epochs, settings.lr) == (
        PROFILES["full"].max_length, PROFILES["full"].epochs, 1e-4
    )


def test_truncation_reaches_every_bert_strategy_and_defaults_to_head_and_tail():
    assert StrategySettings().truncation == "head+tail"
    for truncation in ("head", "tail", "head+tail"):
        settings = StrategySettings(truncation=truncation)
        built = {name: REGISTRY[name].build(settings)
                 for name in ("bert-lr", "bert-lr-random", "bert-head-mlp", "bert-finetune", "bert-finetune-random")}
        assert built["bert-lr"].steps[0][1].truncation == truncation
        assert built["bert-lr-random"].steps[0][1].truncation == truncation
        assert built["bert-head-mlp"].encoder.truncation == truncation
        assert built["bert-finetune"].truncation == truncation
        assert built["bert-finetune-random"].truncation == truncation


def test_chunks_suits_only_the_pooled_feature_strategy():
    settings = StrategySettings(truncation="chunks")
    assert REGISTRY["bert-lr"].build(settings).steps[0][1].truncation == "chunks"
    for name in ("bert-finetune", "bert-head-mlp"):
        with pytest.raises(ValueError, match=rf"suits only bert-lr; {name} reads one window.*--truncation head\+tail"):
            REGISTRY[name].build(settings)


def test_unknown_truncation_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"truncation must be one of \['head\+tail', 'head', 'tail', 'chunks'\]"):
        StrategySettings(truncation="middle")
