"""Client-side plumbing of the Dask engine: connecting, and the task-graph patterns it uses.

:class:`client_for` connects to a scheduler or starts a local cluster; ``_Graph`` wraps
``client.submit`` with the shuffle, tree-reduction and fetch-then-score patterns of
:mod:`clusterer.engines.dask_engine`, which re-exports :class:`client_for`. Dask is
imported lazily, with an error naming the extra when it is missing.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import MissingExtraError
from . import stages

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

__all__ = ["client_for"]


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise MissingExtraError("dask.distributed", "dask") from None
    return distributed


class client_for:
    """Connect to ``scheduler`` or start a local cluster of ``workers`` processes."""

    def __init__(self, scheduler: str | None, workers: int | None) -> None:
        self.scheduler = scheduler
        self.workers = workers
        self.cluster: Any = None
        self.client: Any = None

    def __enter__(self) -> Any:
        distributed = _import_distributed()
        if self.scheduler is not None:
            self.client = distributed.Client(self.scheduler)
        else:
            self.cluster = distributed.LocalCluster(
                n_workers=self.workers or 2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                memory_limit=0,
            )
            self.client = distributed.Client(self.cluster)
        return self.client

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


class _Graph:
    """Thin helpers over ``client.submit`` for the shuffle patterns used here."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.client.submit(fn, *args, pure=False)

    def item(self, future: Any, index: int) -> Any:
        return self.client.submit(operator.getitem, future, index, pure=False)

    def shuffle(self, sources: Sequence[Any], buckets: int) -> list[list[Any]]:
        """``out[b][s]`` is piece ``b`` of source ``s``."""
        return [[self.item(s, b) for s in sources] for b in range(buckets)]

    def reduce(self, fn: Callable[..., Any], futures: Sequence[Any], fan_in: int = 8) -> Any:
        """Tree reduction on the workers."""
        level = list(futures)
        while len(level) > 1:
            level = [self.submit(fn, *level[i : i + fan_in]) for i in range(0, len(level), fan_in)]
        return level[0]

    def gather(self, futures: Any) -> Any:
        return self.client.gather(futures)

    def scatter(self, data: Any, broadcast: bool = False) -> Any:
        """Scatter under fresh keys: content-hashed keys collide with a previous run's."""
        return self.client.scatter(data, broadcast=broadcast, hash=False)


def _fetch_and_score(
    g: _Graph,
    owners: Sequence[Any],
    offsets: I64,
    pairs: Sequence[Any],
    extract: Callable[..., Any],
    extract_args: Sequence[Any],
    score: Callable[..., Any],
    score_args: Sequence[Any],
) -> list[Any]:
    """Per owner partition: ask other partitions for the right-hand rows, then score."""
    p_count = len(owners)
    asks = [g.submit(stages.requests, pairs[p], offsets, p) for p in range(p_count)]
    extracts = [
        g.submit(extract, owners[q], int(offsets[q]), *extract_args, *[g.item(a, q) for a in asks])
        for q in range(p_count)
    ]
    return [
        g.submit(
            score,
            owners[p],
            int(offsets[p]),
            *score_args,
            pairs[p],
            *[g.item(e, p) for e in extracts],
        )
        for p in range(p_count)
    ]


def _edges(results: Sequence[tuple[I64, I64, F64]]) -> tuple[I64, I64, F64]:
    left = np.concatenate([r[0] for r in results]) if results else np.zeros(0, np.int64)
    right = np.concatenate([r[1] for r in results]) if results else np.zeros(0, np.int64)
    sim = np.concatenate([r[2] for r in results]) if results else np.zeros(0)
    return left, right, sim
