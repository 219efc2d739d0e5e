import numpy as np
import pytest
import torch

from sktransfer.heads import BiLSTMHead, MLPHead, ScalarMix, TokenHeadClassifier, padding_mask, reverse_padded
from sktransfer.pooling import pool


def test_scalar_mix_starts_as_the_layer_average_and_learns():
    torch.manual_seed(0)
    mix = ScalarMix(3)
    layers = torch.randn(2, 5, 3, 4).half()  # (batch, tokens, layers, dim), stored as float16
    out = mix(layers)
    assert out.dtype == torch.float32 and out.shape == (2, 5, 4)
    torch.testing.assert_close(out, layers.float().mean(dim=2))
    torch.testing.assert_close(mix.weights(), torch.full((3,), 1 / 3))
    # Reward layer 2 only: its weight and gamma must grow.
    target = 3.0 * layers[:, :, 2].float()
    optimizer = torch.optim.SGD(mix.parameters(), lr=0.5)
    for _ in range(50):
        optimizer.zero_grad()
        ((mix(layers) - target) ** 2).mean().backward()
        optimizer.step()
    weights = mix.weights().detach()
    assert weights[2] > 0.8 and weights.sum().item() == pytest.approx(1.0)
    assert mix.gamma.item() > 2.0


def test_scalar_mix_layer_dropout_only_in_training():
    torch.manual_seed(0)
    mix = ScalarMix(2, layer_dropout=0.5)
    layers = torch.stack([torch.zeros(1, 3), torch.ones(1, 3)], dim=1).unsqueeze(0)  # layer 0: 0, layer 1: 1
    seen = {round(mix(layers).mean().item(), 3) for _ in range(40)}
    # With a layer dropped, the other takes all the weight (0 or 1); with none or both dropped, 0.5.
    assert seen <= {0.0, 0.5, 1.0} and {0.0, 1.0} <= seen
    mix.eval()
    assert mix(layers).mean().item() == pytest.approx(0.5)


def test_scalar_mix_rejects_the_wrong_number_of_layers():
    with pytest.raises(ValueError, match="built for 3 layers but got input with 2"):
        ScalarMix(3)(torch.zeros(1, 4, 2, 8))
    with pytest.raises(ValueError, match="layer_dropout"):
        ScalarMix(3, layer_dropout=1.0)


@pytest.mark.parametrize("head_class", [MLPHead, BiLSTMHead])
@pytest.mark.parametrize("pooling", ["mean", "max", "mean_max"])
def test_heads_ignore_padding(head_class, pooling):
    torch.manual_seed(0)
    head = head_class(6, 5, 3, dropout=0.3, pooling=pooling).eval()
    vectors = torch.randn(3, 7, 6)
    lengths = torch.tensor([7, 4, 1])
    logits = head(vectors, lengths)
    assert logits.shape == (3, 3)
    garbage = vectors.clone()
    garbage[1, 4:] = 1e3
    garbage[2, 1:] = -1e3
    torch.testing.assert_close(head(garbage, lengths), logits)
    # Each text alone, unpadded, gives the same logits as in the batch.
    for i, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(
            head(vectors[i : i + 1, :n], lengths[i : i + 1]), logits[i : i + 1], atol=1e-5, rtol=1e-5
        )


@pytest.mark.parametrize("head_class", [MLPHead, BiLSTMHead])
def test_heads_accept_texts_without_tokens(head_class):
    head = head_class(4, 3, 2).eval()
    logits = head(torch.zeros(2, 1, 4), torch.tensor([0, 1]))
    assert torch.isfinite(logits).all()


def test_mlp_head_is_the_lectures_formula():
    torch.manual_seed(0)
    head = MLPHead(4, 3, 2).eval()
    vectors, lengths = torch.randn(1, 5, 4), torch.tensor([3])
    x = vectors[0, :3].mean(dim=0)
    expected = head.output.weight @ torch.tanh(head.hidden.weight @ x + head.hidden.bias) + head.output.bias
    torch.testing.assert_close(head(vectors, lengths)[0], expected)


def test_token_head_classifier_on_word_ids_trains_the_embedding():
    torch.manual_seed(0)
    model = TokenHeadClassifier(torch.nn.Embedding(10, 4, padding_idx=0), MLPHead(4, 8, 2))
    ids = torch.tensor([[2, 3, 0], [4, 5, 6]])
    lengths = torch.tensor([2, 3])
    before = model.embedder.weight.detach().clone()
    torch.nn.functional.cross_entropy(model(ids, lengths), torch.tensor([0, 1])).backward()
    torch.optim.SGD(model.parameters(), lr=1.0).step()
    changed = (model.embedder.weight.detach() != before).any(dim=1)
    assert changed[2:7].all() and not changed[0] and not changed[7:].any()


def test_padding_mask():
    mask = padding_mask(torch.tensor([2, 0, 3]), 3)
    assert mask.tolist() == [[True, True, False], [False, False, False], [True, True, True]]


def test_bilstm_head_matches_a_packed_bidirectional_lstm():
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    torch.manual_seed(0)
    head = BiLSTMHead(4, 3, 2, pooling="max").eval()
    reference = torch.nn.LSTM(4, 3, batch_first=True, bidirectional=True)
    with torch.no_grad():
        for name, value in head.forward_lstm.named_parameters():
            getattr(reference, name).copy_(value)
        for name, value in head.backward_lstm.named_parameters():
            getattr(reference, name + "_reverse").copy_(value)
    vectors, lengths = torch.randn(3, 6, 4), torch.tensor([6, 2, 4])
    packed = pack_padded_sequence(vectors, lengths, batch_first=True, enforce_sorted=False)
    states, _ = pad_packed_sequence(reference(packed)[0], batch_first=True)
    expected = head.output(pool(states, padding_mask(lengths, 6), "max"))
    torch.testing.assert_close(head(vectors, lengths), expected)


def test_reverse_padded_is_its_own_inverse():
    x = torch.arange(8.0).view(2, 4, 1)
    flipped = reverse_padded(x, torch.tensor([3, 1]))
    assert flipped[:, :, 0].tolist() == [[2.0, 1.0, 0.0, 3.0], [4.0, 5.0, 6.0, 7.0]]
    torch.testing.assert_close(reverse_padded(flipped, torch.tensor([3, 1])), x)


def test_scalar_mix_standardises_each_layer_with_the_given_statistics():
    torch.manual_seed(0)
    layers = torch.randn(5, 7, 3, 4) * 3 + 10
    flat = layers.reshape(-1, 3, 4)
    mix = ScalarMix(3, dim=4)
    np.testing.assert_allclose(mix(layers).detach(), layers.mean(dim=2), rtol=1e-5)  # identity until set
    mix.set_input_statistics(flat.mean(dim=0), flat.std(dim=0, unbiased=False))
    standardised = (layers - flat.mean(dim=0)) / flat.std(dim=0, unbiased=False)
    np.testing.assert_allclose(mix(layers).detach(), standardised.mean(dim=2), rtol=1e-4, atol=1e-5)
    assert set(mix.state_dict()) == {"scalar_parameters", "gamma", "input_mean", "input_std"}  # saved, not trained
    assert {name for name, _ in mix.named_parameters()} == {"scalar_parameters", "gamma"}
    constant = torch.zeros(3, 4)
    mix.set_input_statistics(torch.zeros(3, 4), constant)  # a constant feature keeps a unit scale
    assert torch.equal(mix.input_std, torch.ones(3, 4))
    with pytest.raises(ValueError, match=r"expected mean and std of shape \(3, dim\)"):
        mix.set_input_statistics(torch.zeros(2, 4), torch.ones(2, 4))
