"""Numerical parity with the reference implementations (data: tests/fixtures/elmo/NOTICE)."""

import json

import h5py
import numpy as np
import pytest
import torch

from sktransfer.elmo import ElmoBiLm, batch_to_ids


def _reference_batches(fixture_dir):
    """AllenNLP's test_elmo_bilm procedure: batch i = i-th sentence of each of the 3 files.

    The TensorFlow outputs were produced with a batch size of 3 and the LSTM state carried
    from batch to batch, so the model must run the 10 batches in order, statefully.
    """
    sentences = json.loads((fixture_dir / "sentences.json").read_text())
    expected = []
    for k in range(3):
        with h5py.File(fixture_dir / f"lm_embeddings_{k}.hdf5", "r") as f:
            expected.append([np.concatenate([f[str(i)][0], f[str(i)][1]], axis=-1) for i in range(10)])
    for i in range(10):
        yield [sentences[k][i].split() for k in range(3)], [expected[k][i] for k in range(3)]


def test_top_layer_matches_tensorflow_bilm_statefully(fixture_dir, options_file, weight_file):
    model = ElmoBiLm.from_files(options_file, weight_file, stateful=True)
    worst = 0.0
    with torch.inference_mode():
        for batch, expected in _reference_batches(fixture_dir):
            out = model(batch_to_ids(batch))
            lengths = out["mask"].sum(1).tolist()
            assert lengths == [len(s) for s in batch]
            for k in range(3):
                got = out["activations"][2][k, : lengths[k]].numpy()
                assert np.allclose(got, expected[k], atol=1e-6)
                worst = max(worst, float(np.abs(got - expected[k]).max()))
    print(f"\nmax |sktransfer - bilm-tf| top layer (stateful): {worst:.3e}")


def test_stateless_default_does_not_match_stateful_reference(fixture_dir, options_file, weight_file):
    """Guards the test above: the carried state really matters from the second batch on."""
    model = ElmoBiLm.from_files(options_file, weight_file)
    batches = list(_reference_batches(fixture_dir))
    with torch.inference_mode():
        first = model(batch_to_ids(batches[0][0]))["activations"][2]
        second = model(batch_to_ids(batches[1][0]))["activations"][2]
    assert np.allclose(first[0, : len(batches[0][0][0])].numpy(), batches[0][1][0], atol=1e-6)
    assert not np.allclose(second[0, : len(batches[1][0][0])].numpy(), batches[1][1][0], atol=1e-4)


def test_char_cnn_matches_tensorflow_token_embeddings(fixture_dir, options_file, weight_file):
    words = (fixture_dir / "vocab_test.txt").read_text().strip().split("\n")
    with h5py.File(fixture_dir / "elmo_token_embeddings.hdf5", "r") as f:
        expected = f["embedding"][...]
    model = ElmoBiLm.from_files(options_file, weight_file)
    # Layer 0 of forward() is the char-CNN vector twice; run the words as 10 "sentences".
    with torch.inference_mode():
        chunks = [words[i: i + 50] for i in range(0, len(words), 50)]
        out = model(batch_to_ids(chunks))
    layer0 = out["activations"][0][out["mask"]].numpy()
    dim = expected.shape[1]
    assert np.allclose(layer0[:, :dim], expected[: len(words)], atol=1e-6)
    assert np.array_equal(layer0[:, :dim], layer0[:, dim:])
    print(f"\nmax |sktransfer - bilm-tf| char CNN: {np.abs(layer0[:, :dim] - expected[:len(words)]).max():.3e}")


def _allennlp_stateless(fixture_dir):
    path = fixture_dir / "allennlp_stateless_tokens.npy"
    if not path.exists():
        pytest.skip("AllenNLP per-token fixture not generated")
    sentences = [line.split() for line in (fixture_dir / "allennlp_sentences.txt").read_text(encoding="utf-8")
                 .split("\n") if line.split()]
    return sentences, np.load(path)


def test_all_layers_match_allennlp_stateless(fixture_dir, options_file, weight_file):
    """Per-token outputs of AllenNLP 0.9.0's _ElmoBiLm (states reset before every batch)."""
    sentences, expected = _allennlp_stateless(fixture_dir)
    model = ElmoBiLm.from_files(options_file, weight_file)
    got = np.concatenate([t.permute(1, 0, 2).numpy() for t in model.embed_tokens(sentences, batch_size=7)])
    assert got.shape == expected.shape
    diffs = np.abs(got - expected).max(axis=(0, 2))
    print("\nmax |sktransfer - AllenNLP| per layer (stateless): " + ", ".join(f"{d:.3e}" for d in diffs))
    assert np.allclose(got, expected, atol=1e-6)
