"""benchmarks/elmo_tokens_seen.py: words seen and perplexity of model folders and run snapshots."""

import elmo_tokens_seen as bench

from sktransfer.elmo.pretrain import pretrain_elmo

DOCS = [f"the film number {i} was good . the plot was bad ." for i in range(60)]
FAST = dict(architecture="tiny", batch_size=8, lr=1e-2, progress=False, held_out_fraction=0.1)


def test_snapshot_facts_count_the_starting_models_words(tmp_path):
    first = pretrain_elmo(DOCS, tmp_path / "first", max_tokens=300, **FAST)
    assert bench.snapshot_facts(tmp_path / "first") == (first.tokens, first.held_out_perplexity,
                                                        first.unigram_perplexity)
    kw = {**FAST, "architecture": None}
    second = pretrain_elmo(DOCS, tmp_path / "second", init_from=tmp_path / "first", max_tokens=400,
                           snapshot_every=2, eval_every=2, softmax_warmup_steps=1, **kw)
    tokens, perplexity, unigram = bench.snapshot_facts(tmp_path / "second")
    assert tokens == first.tokens + second.tokens and perplexity == second.held_out_perplexity
    snapshot = tmp_path / "second" / "snapshots" / "step-0000002"
    tokens, perplexity, _ = bench.snapshot_facts(snapshot)
    at_step_2 = [h for h in second.history if h["step"] == 2][-1]
    assert tokens == first.tokens + at_step_2["tokens"] and perplexity == at_step_2["held_out_perplexity"]
    assert unigram == second.unigram_perplexity
