"""Data-parallel pretraining on one machine: worker processes that share every batch.

Why processes and not threads: a pretraining step is a long chain of small operations (the
recurrence's per-step matmuls and element-wise work, the character CNN's small matmuls), and a
second torch thread barely speeds it up (3,219 vs 3,203 words/s with 1 and 2 threads on a
2-core AMD EPYC, ``benchmarks/bench_pretrain.py``), while two single-threaded processes run side
by side at nearly full speed each. So each worker process takes a share of every batch's
windows, and the gradients are summed between them (gloo, over a file store: no port, no
scheduler).

The optimisation is that of one process on the same batches: every worker holds the same
weights and optimizer state, each one's loss is normalised by the prediction count of the
*whole* batch, the summed gradient is the whole batch's gradient, and every worker takes the
same step (the sums are bit-identical on every worker, so the replicas never drift apart). What
differs is only where dropout masks come from (one random stream per worker) and the rounding
of matmuls over half as many rows.

Low-level: this module knows nothing of the training loop; :mod:`.pretrain` calls it.
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import shutil
import sys
import tempfile
import traceback
from typing import Callable, List, Sequence, TypeVar

import numpy as np
import torch

__all__ = ["SingleProcess", "WorkerGroup", "run_workers"]

T = TypeVar("T")

# A collective waits this long for a worker before failing (a dead worker fails it at once: its
# connection closes); evaluation and checkpoints are short, and shared out or done by rank 0.
_TIMEOUT = datetime.timedelta(minutes=10)


class SingleProcess:
    """The trivial group of one process: every operation is the identity."""

    rank = 0
    world = 1

    def share(self, members: np.ndarray) -> np.ndarray:
        return members

    def sum(self, values: Sequence[float]) -> List[float]:
        return [float(v) for v in values]

    def sum_grads(self, params: Sequence[torch.Tensor], extra: Sequence[float] = ()) -> List[float]:
        return [float(v) for v in extra]

    def rng_states(self) -> List[torch.Tensor]:
        return [torch.get_rng_state()]

    def any(self, flag: bool) -> bool:
        return bool(flag)


class WorkerGroup:
    """One worker's view of the group: its rank and the collectives the training loop needs."""

    def __init__(self, rank: int, world: int, store_path: str) -> None:
        import torch.distributed as dist

        self.rank = rank
        self.world = world
        store = dist.FileStore(store_path, world)
        # A group object of our own, not torch.distributed's default group: a caller's own
        # process group (if any) is left alone.
        self._group = dist.ProcessGroupGloo(store, rank, world, _TIMEOUT)
        self._buffer = None

    def share(self, members: np.ndarray) -> np.ndarray:
        """The windows of a batch this worker computes (every ``world``-th one, from its rank)."""
        return members[self.rank::self.world]

    def _allreduce(self, tensor: torch.Tensor, op=None) -> torch.Tensor:
        import torch.distributed as dist

        options = dist.AllreduceOptions()
        options.reduceOp = dist.ReduceOp.SUM if op is None else op
        self._group.allreduce([tensor], options).wait()
        return tensor

    def sum(self, values: Sequence[float]) -> List[float]:
        """Sums of ``values`` over the workers (float64, exact for counts)."""
        return self._allreduce(torch.tensor(values, dtype=torch.float64)).tolist()

    def sum_grads(self, params: Sequence[torch.Tensor], extra: Sequence[float] = ()) -> List[float]:
        """Sum every parameter's gradient over the workers, in place, in one collective.

        A parameter that has no gradient on a worker (frozen, or a softmax cluster none of its
        windows reached) contributes zeros; it ends with no gradient only when no worker has one,
        as in one process, where the optimizer then skips it. ``extra`` values are summed along.
        Returns the summed ``extra``.
        """
        sizes = [p.numel() for p in params]
        total = sum(sizes) + len(params) + len(extra)
        if self._buffer is None or self._buffer.numel() != total:
            self._buffer = torch.empty(total, dtype=torch.float32)
        buf = self._buffer
        offset = 0
        for p, size in zip(params, sizes):
            if p.grad is None:
                buf[offset:offset + size].zero_()
            else:
                buf[offset:offset + size].copy_(p.grad.reshape(-1))
            offset += size
        present = buf[offset:offset + len(params)]
        present.copy_(torch.tensor([p.grad is not None for p in params], dtype=torch.float32))
        buf[offset + len(params):].copy_(torch.tensor(list(extra), dtype=torch.float32))
        self._allreduce(buf)
        offset = 0
        for p, size, has in zip(params, sizes, present.tolist()):
            if has:
                summed = buf[offset:offset + size].view_as(p)
                if p.grad is None:
                    p.grad = summed.clone()
                else:
                    p.grad.copy_(summed)
            offset += size
        return buf[offset + len(params):].tolist()

    def rng_states(self) -> List[torch.Tensor]:
        """Every worker's torch RNG state, by rank (for a checkpoint that resumes bit for bit)."""
        mine = torch.get_rng_state()
        states = [torch.empty_like(mine) for _ in range(self.world)]
        self._group.allgather([states], [mine]).wait()
        return states

    def any(self, flag: bool) -> bool:
        """True on every worker when ``flag`` is true on any one (rank 0's stop decision)."""
        import torch.distributed as dist

        return bool(self._allreduce(torch.tensor([float(flag)]), dist.ReduceOp.MAX).item() > 0)


def run_workers(workers: int, fn: Callable[[WorkerGroup], T]) -> T:
    """Run ``fn(group)`` in ``workers`` processes; this process is rank 0 and returns its result.

    The other ranks are forked from this process (they inherit the prepared corpus, no copy
    through pickling) and run with 1/``workers`` of this process's torch threads, as does this
    one while they run. A worker that fails makes this call raise, naming it.
    """
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        raise RuntimeError("workers > 1 needs torch.distributed with the gloo backend, which this torch build "
                           "lacks; pass workers=1")
    if "fork" not in multiprocessing.get_all_start_methods():
        raise RuntimeError("workers > 1 forks worker processes, which this platform cannot do; pass workers=1")
    threads = torch.get_num_threads()
    folder = tempfile.mkdtemp(prefix="sktransfer-workers-")
    store_path = os.path.join(folder, "store")
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=_child_main, args=(fn, rank, workers, store_path, max(1, threads // workers)),
                                name=f"pretrain-worker-{rank}", daemon=True)
                for rank in range(1, workers)]
    try:
        for child in children:
            child.start()
        torch.set_num_threads(max(1, threads // workers))
        try:
            result = fn(WorkerGroup(0, workers, store_path))
        except Exception as exc:
            failed = _failed_children(children)
            if failed:
                raise RuntimeError(f"pretraining worker(s) {', '.join(failed)} failed; their traceback is "
                                   "printed above") from exc
            raise
        for child in children:
            child.join()
        failed = _failed_children(children)
        if failed:
            raise RuntimeError(f"pretraining worker(s) {', '.join(failed)} failed; their traceback is printed above")
        return result
    finally:
        torch.set_num_threads(threads)
        for child in children:
            if child.is_alive():
                child.terminate()
                child.join()
        shutil.rmtree(folder, ignore_errors=True)


def _failed_children(children) -> List[str]:
    for child in children:
        child.join(timeout=5)
    return [f"{child.name} (exit code {child.exitcode})" for child in children
            if child.exitcode not in (0, None)]


def _child_main(fn, rank: int, world: int, store_path: str, threads: int) -> None:
    torch.set_num_threads(threads)
    try:
        fn(WorkerGroup(rank, world, store_path))
    except BaseException:  # noqa: BLE001 - report it, then fail the process (the parent names it)
        print(f"pretraining worker {rank} failed:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
        os._exit(1)
