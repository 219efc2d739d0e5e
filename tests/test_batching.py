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
