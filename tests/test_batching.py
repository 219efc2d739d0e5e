import numpy as np
import pytest

from sktransfer._batching import length_sorted_batches, map_batches


def test_batches_cover_every_position_once_longest_first():
    lengths = [3, 10, 1, 7, 7, 2, 9]
    batches = length_sorted_batches(lengths, 3)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "8"])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size"):
        length_sorted_batches([1, 2], bad)


def test_map_batches_restores_input_order():
    lengths = [5, 1, 4, 2, 3]
    seen_batches = []

    def fn(positions):
        seen_batches.append(list(positions))
        return np.asarray(positions, dtype=np.float32)[:, None] * 10

    out = map_batches(fn, 5, lengths, 2)
    assert out.shape == (5, 1)
    np.testing.assert_array_equal(out[:, 0], np.arange(5) * 10)
    assert seen_batches[0] == [0, 2]  # the two longest first


def test_max_tokens_bounds_every_batch_and_keeps_every_position():
    rng = np.random.default_rng(0)
    lengths = np.concatenate([rng.integers(0, 40, size=100_000), [100_000, 5_000]])  # two very long items
    batches = length_sorted_batches(lengths, 64, max_tokens=2048)
    flat = np.concatenate(batches)
    assert np.array_equal(np.sort(flat), np.arange(len(lengths)))
    for batch in batches:
        padded = len(batch) * max(int(lengths[batch].max()), 1)
        assert len(batch) <= 64 and (padded <= 2048 or len(batch) == 1)
    assert [len(b) for b in batches[:2]] == [1, 1]  # each item longer than the bound alone


def test_map_batches_with_max_tokens_restores_input_order():
    lengths = [300, 1, 2, 250, 3]
    seen = []

    def fn(positions):
        seen.append(list(positions))
        return np.asarray(positions, dtype=np.float32)[:, None]

    out = map_batches(fn, 5, lengths, 4, max_tokens=300)
    np.testing.assert_array_equal(out[:, 0], np.arange(5))
    assert seen == [[0], [3], [4, 2, 1]]
