import pytest
import torch

from sktransfer.pooling import pool


@pytest.fixture
def batch():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, -4.0], [100.0, 100.0]], [[5.0, 6.0], [0.0, 0.0], [0.0, 0.0]]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    return hidden, mask


def test_mean_ignores_padding(batch):
    torch.testing.assert_close(pool(*batch, "mean"), torch.tensor([[2.0, -1.0], [5.0, 6.0]]))


def test_max_ignores_padding(batch):
    torch.testing.assert_close(pool(*batch, "max"), torch.tensor([[3.0, 2.0], [5.0, 6.0]]))


def test_cls_is_first_position(batch):
    torch.testing.assert_close(pool(*batch, "cls"), torch.tensor([[1.0, 2.0], [5.0, 6.0]]))


def test_last_is_the_last_real_token_with_right_padding(batch):
    torch.testing.assert_close(pool(*batch, "last"), torch.tensor([[3.0, -4.0], [5.0, 6.0]]))


def test_last_is_the_last_real_token_with_left_padding():
    hidden = torch.tensor([[[9.0], [1.0], [2.0]], [[9.0], [9.0], [7.0]]])
    mask = torch.tensor([[0, 1, 1], [0, 0, 1]])
    torch.testing.assert_close(pool(hidden, mask, "last"), torch.tensor([[2.0], [7.0]]))


@pytest.mark.parametrize("method", ["mean", "max", "mean_max", "last"])
def test_all_padding_row_pools_to_zero(method):
    hidden = torch.randn(1, 3, 4)
    out = pool(hidden, torch.zeros(1, 3), method)
    assert not out.any() and out.shape[0] == 1


def test_unknown_method():
    with pytest.raises(ValueError, match="pooling must be one of"):
        pool(torch.zeros(1, 1, 1), torch.ones(1, 1), "median")


def test_mean_max_concatenates(batch):
    torch.testing.assert_close(pool(*batch, "mean_max"), torch.tensor([[2.0, -1.0, 3.0, 2.0], [5.0, 6.0, 5.0, 6.0]]))
