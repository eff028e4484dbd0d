"""A communication meter: every collective of the chapter goes through it, so bytes are counted.

Each worker owns one :class:`CommMeter`. It counts the bytes *this worker hands to the network*
for each kind of traffic (halo features, gradients, fetched features, ...):

- ``all_to_all``: the chunks addressed to the *other* workers (the chunk a worker keeps for
  itself never leaves the process);
- ``all_reduce``: the size of the tensor reduced (the payload). The wire volume depends on the
  algorithm: a ring all-reduce sends :math:`2(P-1)/P` times the payload from every worker;
  :meth:`CommMeter.ring_allreduce_bytes` gives that figure.

With ``world_size == 1`` no collective is issued (nothing to talk to) and nothing is counted,
so the same training code runs as the single-process baseline without a process group.
The meter also keeps a timeline of (kind, start, end) spans for the compute/communication plot.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

import torch
import torch.distributed as dist

__all__ = ["CommMeter", "tensor_bytes"]


def tensor_bytes(t: torch.Tensor) -> int:
    """Bytes of a tensor's payload: ``numel * element_size``."""
    return t.numel() * t.element_size()


class _Pending:
    """An asynchronous all-to-all: :meth:`wait` blocks, then scatters the rows into the outputs."""

    def __init__(self, work, flat_out: torch.Tensor, outputs: list[torch.Tensor]):
        self.work, self.flat_out, self.outputs = work, flat_out, outputs

    def wait(self) -> None:
        if self.outputs is None:
            return
        if self.work is not None:
            self.work.wait()
        for o, chunk in zip(self.outputs, self.flat_out.split([o.shape[0] for o in self.outputs])):
            o.copy_(chunk)
        self.work = self.outputs = None


@dataclass
class CommMeter:
    """Counts bytes sent by this worker, per kind of traffic, and times each collective."""

    rank: int = 0
    world_size: int = 1
    bytes_sent: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    events: list[tuple[str, float, float]] = field(default_factory=list)
    origin: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        if self.world_size < 1 or not 0 <= self.rank < self.world_size:
            raise ValueError(f"need 0 <= rank < world_size, got rank={self.rank}, world_size={self.world_size}")

    # --- bookkeeping -------------------------------------------------------------------------
    def _log(self, kind: str, nbytes: int, start: float) -> None:
        end = time.perf_counter()
        self.bytes_sent[kind] += int(nbytes)
        self.calls[kind] += 1
        self.seconds[kind] += end - start
        self.events.append((kind, start - self.origin, end - self.origin))

    def mark(self, kind: str, start: float, end: float) -> None:
        """Record a non-communication span (e.g. ``"epoch"``) on the timeline."""
        self.events.append((kind, start - self.origin, end - self.origin))

    def total(self, prefix: str = "") -> int:
        """Bytes sent over all kinds whose name starts with ``prefix``."""
        return sum(v for k, v in self.bytes_sent.items() if k.startswith(prefix))

    def snapshot(self) -> dict[str, int]:
        return dict(self.bytes_sent)

    def reset(self) -> None:
        self.bytes_sent.clear()
        self.calls.clear()
        self.seconds.clear()
        self.events.clear()

    def ring_allreduce_bytes(self, payload: int) -> float:
        """Bytes one worker puts on the wire for a ring all-reduce of ``payload`` bytes."""
        return 2 * (self.world_size - 1) / self.world_size * payload

    # --- collectives -------------------------------------------------------------------------
    def all_to_all(self, outputs: list[torch.Tensor], inputs: list[torch.Tensor], kind: str,
                   async_op: bool = False):
        """``dist.all_to_all``: ``inputs[r]`` goes to worker r, ``outputs[r]`` comes from worker r.

        Counts the bytes of ``inputs[r]`` for every ``r != rank``. Returns the work handle when
        ``async_op`` (its wait time is then *not* on the timeline; call :meth:`wait`).
        """
        if len(inputs) != self.world_size or len(outputs) != self.world_size:
            raise ValueError(f"all_to_all needs one tensor per worker ({self.world_size}), "
                             f"got {len(inputs)} inputs and {len(outputs)} outputs")
        start = time.perf_counter()
        if self.world_size == 1:
            outputs[0].copy_(inputs[0])
            self._log(kind, 0, start)
            return None
        nbytes = sum(tensor_bytes(t) for r, t in enumerate(inputs) if r != self.rank)
        # gloo's list all_to_all wants equal sizes; the "v" variant (all_to_all_single with
        # split sizes) sends a different number of rows to each worker, as a halo needs
        trailing = inputs[0].shape[1:]
        flat_in = torch.cat([t.reshape(-1, *trailing) for t in inputs])
        flat_out = flat_in.new_empty((sum(o.shape[0] for o in outputs), *trailing))
        work = dist.all_to_all_single(flat_out, flat_in, [o.shape[0] for o in outputs],
                                      [t.shape[0] for t in inputs], async_op=async_op)
        pending = _Pending(work, flat_out, outputs)
        if not async_op:
            pending.wait()
        self._log(kind, nbytes, start)
        return pending if async_op else None

    def wait(self, work, kind: str) -> None:
        """Wait for an asynchronous collective; the time blocked is logged under ``kind``."""
        start = time.perf_counter()
        if work is not None:
            work.wait()
        self._log(kind, 0, start)

    def all_reduce(self, tensor: torch.Tensor, kind: str, op=None) -> torch.Tensor:
        """In-place ``dist.all_reduce`` (sum by default); counts ``tensor_bytes(tensor)``."""
        start = time.perf_counter()
        if self.world_size == 1:
            self._log(kind, 0, start)
            return tensor
        dist.all_reduce(tensor, op=op or dist.ReduceOp.SUM)
        self._log(kind, tensor_bytes(tensor), start)
        return tensor

    def exchange_counts(self, counts: torch.Tensor, kind: str = "meta") -> torch.Tensor:
        """All-to-all of one int64 per worker: how many items each worker will send to each other."""
        out = [torch.zeros(1, dtype=torch.long, device=counts.device) for _ in range(self.world_size)]
        self.all_to_all(out, [c.view(1) for c in counts.long()], kind)
        return torch.cat(out)

    def ddp_hook(self, kind: str = "grad"):
        """A DDP communication hook that all-reduces each gradient bucket (mean) and counts its bytes."""
        meter = self

        def hook(state, bucket):
            buf = bucket.buffer()
            start = time.perf_counter()
            buf.div_(meter.world_size)
            fut = dist.all_reduce(buf, async_op=True).get_future()

            def done(f):
                meter._log(kind, tensor_bytes(buf), start)
                return f.value()[0]

            return fut.then(done)

        return hook
