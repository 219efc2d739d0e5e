"""The hand-written training loop and the token counter of benchmarks/bench_finetune.py."""

import math

import torch
from bench_finetune import TokenCounter, plain_pytorch_fit
from transformers import AutoModel, AutoTokenizer


def test_token_counter_counts_only_the_word_embedding_and_only_while_active():
    words, positions = torch.nn.Embedding(30, 4), torch.nn.Embedding(8, 4)
    with TokenCounter(vocab_size=30) as counter:
        words(torch.zeros(3, 5, dtype=torch.long))
        positions(torch.zeros(3, 5, dtype=torch.long))
        words(torch.zeros(2, 7, dtype=torch.long))
    words(torch.zeros(4, 4, dtype=torch.long))
    assert counter.positions == 3 * 5 + 2 * 7


def test_plain_loop_trains_encoder_and_head_on_per_batch_padding(tiny_bert, sentiment_texts):
    texts, labels = sentiment_texts
    labels = [int(label == "pos") for label in labels]
    initial = AutoModel.from_pretrained(tiny_bert)
    real = sum(map(len, AutoTokenizer.from_pretrained(tiny_bert)(texts, truncation=True, max_length=16)["input_ids"]))
    with TokenCounter(initial.config.vocab_size) as counter:
        model, loss = plain_pytorch_fit(tiny_bert, texts, labels, max_length=16, batch_size=4, lr=1e-3, seed=0)
    assert math.isfinite(loss) and loss > 0
    name = "encoder.layer.0.output.dense.weight"
    assert not torch.equal(model["encoder"].state_dict()[name], initial.state_dict()[name])
    assert model["head"][1].out_features == 2
    assert real <= counter.positions < len(texts) * 16  # padded per batch, never to max_length
