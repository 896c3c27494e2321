"""The Dask engine: the batch pipeline mapped over partitions on a ``dask.distributed`` cluster.

Stages and where they run (W = on workers, per partition or per shuffle bucket;
C = on the client, over small arrays):

====================  ====  ==========================================================
read + featurise       W    ``stages.load`` per partition; features stay on the worker
id ranks               W/C  sample sort of ids on workers; the client keeps int64 ranks;
                            repeated ids are reported by their range bucket and the
                            duplicate-id policy replayed over them on the client
identical signatures   W    whole-signature keys shuffled by key; copy pairs to client
LSH banding            W    band keys shuffled by key; ``candidate_pairs`` per band
verification           W    pairs routed to the owner of the left row, which fetches the
                            shingles (or signatures) of the right rows it lacks
duplicate groups       C    union-find on the verified edge list
TF-IDF                 W    per-partition bincounts summed on workers, then rows
story edges            W    top-term postings shuffled by term, each bucket with the
                            TF-IDF rows of its articles; candidates scored as they are
                            enumerated (``strong_posting_pairs``), only edges move
story duplicates       W/C  duplicate pairs scored on workers (as the attachment pass
                            scores its pairs); pairs below ``story_threshold`` leave the
                            groups, which are formed again on the client
linkage                W/C  components on the client (edge list); whole components
                            grouped into buckets, linked on workers in id-rank order
attachment             W/C  lone articles decided on the client; their pair scores
                            computed on workers, in buckets with the rows they need
output                 W    each partition writes its rows (or the client assembles a
                            :class:`~clusterer.models.Clustering`)
====================  ====  ==========================================================

No process holds all texts, all signatures or all TF-IDF rows. The client holds, per
article, a handful of int64/float64 values (id rank, labels, scores), plus the edge lists.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from ..config import ClusterConfig
from ..models import Clustering
from ..pipeline import _by_rank, _finish, _Meta, attachment_links, duplicate_groups
from ..readers.options import OnDuplicateId
from ..signatures import Features
from . import stages
from ._dask_graph import _edges, _fetch_and_score, _Graph, client_for
from ._dask_link import _attach, _link, _local_edge_order, _story_duplicates, _story_edges
from .partitions import Partition, ReadOptions, count_lines, numbered

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

T = TypeVar("T")

__all__ = ["client_for", "run_dask"]


def run_dask(
    client: Any,
    parts: Sequence[Partition],
    config: ClusterConfig,
    options: ReadOptions,
    *,
    buckets: int | None = None,
    write: Callable[[int], tuple[str, str]] | None = None,
    duplicates_only: bool = False,
    stories: Callable[[int], str] | None = None,
) -> tuple[Clustering | None, dict[str, Any]]:
    """Cluster partitions on a Dask cluster; see the module docstring for the stages.

    Parameters
    ----------
    client : distributed.Client
        Connected client.
    parts : sequence of Partition
        Inputs in global order.
    config : ClusterConfig
        Parameters.
    options : ReadOptions
        How records become articles.
    buckets : int, optional
        Shuffle buckets (default: the number of partitions).
    write : callable, optional
        ``write(p) -> (path, kind)``: write partition ``p``'s rows there instead of
        assembling a :class:`Clustering` on the client.
    duplicates_only : bool, default False
        Stop after the near-duplicate groups, each its own story (as
        :func:`clusterer.cluster` does); term counts are not even computed.
    stories : callable, optional
        With ``write``: ``stories(b) -> path`` of the JSON Lines part of the story
        summary for story-id range ``b``, built on the workers (``info["story_parts"]``
        lists the parts, in story order).

    Returns
    -------
    clustering : Clustering or None
        The result (None when written by partition).
    info : dict
        Counts, rejects, stage timings and files written.
    """
    g = _Graph(client)
    asked = config
    if not config.workers:
        # A Dask worker is a process running one task at a time; its kernels get one
        # thread (the default's "every core" would put two threads per core on workers
        # that share a machine). The result reports the config as given.
        config = config.replace(workers=1)
    timings: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - t
        t = now

    split = [p for p in parts if p.kind == "parquet" or sum(q.path == p.path for q in parts) > 1]
    lines = g.gather([g.submit(count_lines, p) for p in split])
    counts = dict(zip(map(id, split), lines, strict=True))
    parts = numbered(parts, [counts.get(id(p), 0) for p in parts])
    futs = [g.submit(stages.load, p, options, config, not duplicates_only) for p in parts]
    sizes = g.gather([g.submit(stages.size, f) for f in futs])
    offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    p_count = len(parts)
    nb = buckets or p_count
    lap("read_featurise")

    # Id ranks by sample sort (ids never meet on one process), after the duplicate-id
    # policy, which changes ids (rename) or drops articles (first).
    futs, offsets, rank = _ids(g, futs, offsets, nb, options.on_duplicate_id)
    n = int(offsets[-1])
    lap("id_rank")

    # Near-duplicates.
    whole = [
        g.submit(stages.whole_keys, f, int(offsets[p]), config, nb) for p, f in enumerate(futs)
    ]
    copies = g.gather([g.submit(stages.collapse, *pieces) for pieces in g.shuffle(whole, nb)])
    del whole
    copy_l, copy_r, copy_k = (np.concatenate(c) for c in zip(*copies, strict=True))
    order = np.lexsort((copy_r, copy_k))
    copy_l, copy_r = copy_l[order], copy_r[order]
    copy_rows = g.scatter(np.sort(copy_r), broadcast=True)
    bands = [
        g.submit(stages.band_split, f, int(offsets[p]), config, copy_rows, nb)
        for p, f in enumerate(futs)
    ]
    pairs_by_bucket = [g.submit(stages.band_pairs, offsets, *pc) for pc in g.shuffle(bands, nb)]
    truncated = int(sum(g.gather([g.item(b, p_count) for b in pairs_by_bucket])))
    copy_routed = stages.route(copy_l, copy_r, offsets)
    owned = [
        g.submit(stages.gather_pairs, n, g.scatter(copy_routed[p]), *pieces)
        for p, pieces in enumerate(g.shuffle(pairs_by_bucket, p_count))
    ]
    verified = _fetch_and_score(
        g, futs, offsets, owned, stages.dup_extract, [config], stages.dup_verify, [config]
    )
    dl, dr, ds = _edges(g.gather(verified))
    del copy_rows, bands, pairs_by_bucket, owned, verified  # free shuffle pieces on workers
    drop = ("shingles", "signatures") if duplicates_only else ("shingles",)
    futs = [g.submit(stages.release, f, *drop) for f in futs]
    dup_left, dup_right, dup_sim = _local_edge_order(dl, dr, ds, copy_l, copy_r, n)
    lap("band_verify")

    attached = _edges([])
    if duplicates_only:  # each duplicate group is its own story, as locally
        dup_labels, dup_score = duplicate_groups(n, dup_left, dup_right, dup_sim, rank)
        lap("duplicate_groups")
        story_labels, story_scores, cuts = dup_labels.copy(), np.zeros(n), 0
        s_left, s_right, s_sim = _edges([])
    else:
        futs, sparts, (s_left, s_right, s_sim), specific = _story_edges(
            g, futs, offsets, config, nb
        )
        lap("story_candidates_similarity")
        dup_left, dup_right, dup_sim = _story_duplicates(
            g, sparts, offsets, (dup_left, dup_right, dup_sim), config, nb, specific
        )
        dup_labels, dup_score = duplicate_groups(n, dup_left, dup_right, dup_sim, rank)
        lap("duplicate_groups")
        # Links below story_threshold (kept down to attach_floor) only serve the pass.
        strong = s_sim >= config.story_threshold
        story_labels, story_scores, cuts = _link(
            g,
            sparts,
            offsets,
            rank,
            dup_labels,
            dup_left,
            dup_right,
            (s_left[strong], s_right[strong], s_sim[strong]),
            config,
            nb,
            specific,
        )
        lap("link")
        passed = _attach(
            g,
            sparts,
            offsets,
            rank,
            story_labels,
            story_scores,
            (s_left, s_right, s_sim),
            config,
            nb,
            specific,
        )
        del specific
        order = np.argsort(rank)
        story_labels = _by_rank(passed.labels[rank], rank)
        story_scores = passed.scores[rank]
        attached = attachment_links(passed, order)
        s_left, s_right, s_sim = s_left[strong], s_right[strong], s_sim[strong]
        del sparts
    rejected = story_labels[s_left] != story_labels[s_right]
    lap("attach" if not duplicates_only else "stories")

    read_info = g.gather([g.submit(stages.rejects_of, f) for f in futs])
    rejects = tuple(r for part_rejects, _ in read_info for r in part_rejects)
    info: dict[str, Any] = {
        "articles": n,
        "read": sum(c for _, c in read_info),
        "partitions": p_count,
        "rejects": rejects,
        "timings": timings,
        "stories": int(story_labels.max()) + 1 if n else 0,
        "duplicate_groups": int(dup_labels.max()) + 1 if n else 0,
    }
    if write is not None:
        jobs, labels = [], []
        for p, f in enumerate(futs):
            a, b = int(offsets[p]), int(offsets[p + 1])
            path, kind = write(p)
            labels.append(
                g.scatter((dup_labels[a:b], dup_score[a:b], story_labels[a:b], story_scores[a:b]))
            )
            jobs.append(g.submit(stages.write_part, f, labels[-1], path, kind))
        if stories is not None:
            refused = story_labels[np.concatenate((s_left[rejected], s_right[rejected]))]
            ends = (refused, story_labels[attached[0]])
            info["story_parts"] = _summaries(
                g, futs, offsets, labels, story_labels, ends, stories, nb
            )
        info["written"] = int(sum(g.gather(jobs)))
        lap("write")
        return None, info

    metas = g.gather([g.submit(stages.meta_of, f) for f in futs])
    meta = _Meta()
    for m, _ in metas:
        for name in ("ids", "titles", "sources", "dates", "urls", "origins"):
            getattr(meta, name).extend(getattr(m, name))
    n_tokens = np.concatenate([t for _, t in metas]) if metas else np.zeros(0, np.int64)
    stub = Features(
        np.zeros((n, 0), np.uint32),
        n_tokens,
        np.zeros(1, np.int64),
        np.zeros(0, np.uint32),
        np.zeros(1, np.int64),
        np.zeros(0, np.uint32),
        np.zeros(0, np.uint16),
        np.zeros(0, np.uint16),
    )
    clustering = _finish(
        stub,
        meta,
        asked,
        rejects,
        timings,
        dup_left,
        dup_right,
        dup_sim,
        dup_labels,
        dup_score,
        (s_left, s_right, s_sim),
        story_labels,
        story_scores,
        rejected,
        cuts,
        truncated,
        attached,
    )
    lap("assemble")
    return clustering, info


def _id_ranks(g: _Graph, futs: Sequence[Any], offsets: I64, nb: int) -> tuple[I64, _IdRanges]:
    """Rank of each row's id, by a sample sort on the workers; the ranges stay there."""
    samples = g.gather([g.submit(stages.id_sample, f, 64) for f in futs])
    pool = sorted(i for s in samples for i in s)
    splitters = [pool[int(i)] for i in np.linspace(0, len(pool) - 1, nb + 1)[1:-1]] if pool else []
    splitters = sorted(set(splitters))
    routed = [g.submit(stages.id_split, f, int(offsets[p]), splitters) for p, f in enumerate(futs)]
    buckets = [
        g.submit(stages.id_bucket, *pieces) for pieces in g.shuffle(routed, len(splitters) + 1)
    ]
    ranges = _IdRanges(g, splitters, buckets)
    rank = np.empty(int(offsets[-1]), np.int64)
    position = 0
    for rows, repeated in g.gather([g.submit(stages.id_order, b) for b in buckets]):
        rank[rows] = np.arange(position, position + rows.size)
        position += rows.size
        ranges.repeated.update(repeated)
    return rank, ranges


class _IdRanges:
    """The id-range buckets of a sample sort, on the workers, and the ids repeated in them."""

    def __init__(self, g: _Graph, splitters: list[str], buckets: list[Any]) -> None:
        self.g = g
        self.splitters = splitters
        self.buckets = buckets
        self.repeated: stages.Occurrences = {}

    def lookup(self, names: Iterable[str]) -> stages.Occurrences:
        """Occurrences of each name (rows and origins), asked of the bucket of its range."""
        asked: dict[int, list[str]] = {}
        for name in names:
            asked.setdefault(bisect.bisect_right(self.splitters, name), []).append(name)
        jobs = [self.g.submit(stages.id_lookup, self.buckets[b], ns) for b, ns in asked.items()]
        return {k: v for found in self.g.gather(jobs) for k, v in found.items()}


def _ids(
    g: _Graph, futs: list[Any], offsets: I64, nb: int, policy: OnDuplicateId
) -> tuple[list[Any], I64, I64]:
    """Apply the duplicate-id policy, then rank ids; returns partitions, offsets, ranks."""
    rank, ranges = _id_ranks(g, futs, offsets, nb)
    if not ranges.repeated:
        return futs, offsets, rank
    changes = stages.resolve_ids(policy, ranges.repeated, ranges.lookup)
    del ranges
    renamed = _by_partition(changes.renamed, offsets)
    dropped = _by_partition(changes.dropped, offsets)
    edits = [
        g.submit(stages.apply_ids, f, int(offsets[p]), renamed[p], dropped[p])
        for p, f in enumerate(futs)
    ]
    sizes = g.gather([g.submit(stages.size, f) for f in edits])
    offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    rank, ranges = _id_ranks(g, edits, offsets, nb)
    if ranges.repeated:  # the policy leaves every id unique
        raise RuntimeError(f"ids still repeated after the policy: {sorted(ranges.repeated)[:5]}")
    return edits, offsets, rank


def _by_partition(by_row: dict[int, T], offsets: I64) -> list[dict[int, T]]:
    """Split a mapping keyed by global row into one mapping per partition."""
    out: list[dict[int, T]] = [{} for _ in range(offsets.size - 1)]
    rows = np.fromiter(by_row, np.int64, len(by_row))
    owners = np.searchsorted(offsets, rows, side="right") - 1
    for (row, value), p in zip(by_row.items(), owners.tolist(), strict=True):
        out[p][row] = value
    return out


def _summaries(
    g: _Graph,
    futs: Sequence[Any],
    offsets: I64,
    labels: Sequence[Any],
    story_labels: I64,
    links: tuple[I64, I64],
    path_of: Callable[[int], str],
    nb: int,
) -> list[str]:
    """Write the story summary by story-id range on the workers; return the parts in order.

    ``links`` gives the story of each end of a refused link and of each attached article.
    """
    bounds = stages.story_bounds(story_labels, nb)
    refused, attached = (np.bincount(x, minlength=int(bounds[-1])) for x in links)
    split = [
        g.submit(stages.story_split, f, int(offsets[p]), labels[p], bounds)
        for p, f in enumerate(futs)
    ]
    files = [path_of(b) for b in range(bounds.size - 1)]
    pieces = g.shuffle(split, bounds.size - 1)
    jobs = []
    for b, (lo, hi) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)):
        counts = (refused[lo:hi], attached[lo:hi])
        jobs.append(g.submit(stages.story_write, lo, counts, files[b], *pieces[b]))
    g.gather(jobs)
    return files
