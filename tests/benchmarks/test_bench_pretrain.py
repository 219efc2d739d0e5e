"""The arithmetic that benchmarks/bench_pretrain.py divides the matmul rate by."""

import bench_pretrain as bench
import torch

from sktransfer.elmo.characters import word_to_char_ids
from sktransfer.elmo.pretrain import _Softmax


def test_softmax_flops_count_the_head_and_only_the_targets_own_clusters():
    targets = torch.tensor([0, 3, 7, 19, 25, 29])  # head: 0, 3; cluster [5, 20): 7, 19; cluster [20, 30): 25, 29
    adaptive = _Softmax(8, 30, [5, 20])
    head = 8 * (5 + 2)
    tails = [layer.weight.numel() for layer in adaptive.adaptive.tail[0]], [
        layer.weight.numel() for layer in adaptive.adaptive.tail[1]]
    expected = 2 * (6 * head + 2 * sum(tails[0]) + 2 * sum(tails[1]))
    assert bench._softmax_forward_flops(adaptive, targets) == expected
    assert bench._softmax_forward_flops(_Softmax(8, 30, []), targets) == 2 * 6 * 8 * 30


def test_cnn_flops_count_the_windows_the_implementation_computes():
    options = {"filters": [[1, 4], [3, 2]], "embedding": {"dim": 5}, "n_highway": 1}
    chars = torch.tensor([word_to_char_ids("abc")])  # BOW a b c EOW, then padding
    span = 5 + (3 - 1)  # windows start before the last non-padding position
    conv = 2 * ((span - 1 + 1) * 1 * 5 * 4 + (span - 3 + 1) * 3 * 5 * 2)
    highway = 2 * 6 * 2 * 6
    assert bench._cnn_forward_flops(chars, options) == conv + highway
