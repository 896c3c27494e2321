"""Client-side edge handling of the Dask engine: edge order, story edges, guarded linkage.

``_local_edge_order`` puts verified duplicate edges in the order the local engine gives
them, so both engines return the same result; ``_story_edges`` collects the story
edges found per term bucket; ``_link`` groups whole components into
buckets and links each bucket on a worker in id-rank order; ``_attach`` runs the
singleton-attachment pass on the client with its pair scores computed on workers. Used
by :func:`clusterer.engines.dask_engine.run_dask`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..config import ClusterConfig
from ..grouping import (
    Attachments,
    attach_singletons,
    canonical_labels,
    components,
    story_duplicates,
)
from ..pipeline import _by_rank
from . import stages
from ._dask_graph import _edges, _Graph

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def _local_edge_order(
    left: I64, right: I64, sim: F64, copy_l: I64, copy_r: I64, n: int
) -> tuple[I64, I64, F64]:
    """Put verified duplicate edges in the local engine's order: banded pairs, then copies."""
    width = max(n, 1)
    code = left * width + right
    copy_code = copy_l * width + copy_r
    is_copy = np.isin(code, copy_code)
    band = np.flatnonzero(~is_copy)
    band = band[np.argsort(code[band])]
    order = np.argsort(code)
    kept = copy_code[np.isin(copy_code, code)]
    copies = order[np.searchsorted(code[order], kept)]
    take = np.concatenate((band, copies)).astype(np.int64)
    return left[take], right[take], sim[take]


def _story_edges(
    g: _Graph, futs: list[Any], offsets: I64, config: ClusterConfig, nb: int
) -> tuple[list[Any], list[Any], tuple[I64, I64, F64], Any]:
    """TF-IDF rows per partition and the story edges found in ``nb`` term buckets.

    Returns the partitions without term counts and signatures (no later stage reads them), the
    TF-IDF partitions, the edges sorted by (left, right), each pair once, and the specific
    terms (a future; None without ``specific_terms``), which every later scoring needs.
    """
    n = int(offsets[-1])
    df = g.reduce(stages.add, [g.submit(stages.doc_freq, f, config) for f in futs])
    specific = None
    if config.specific_terms:
        moments = None
        if config.specific_spread_days is not None:
            moments = g.reduce(stages.add, [g.submit(stages.day_moments, f, config) for f in futs])
        specific = g.submit(stages.specific_flags, df, n, moments, config)
    sparts = [g.submit(stages.story_part, f, config, df, n, specific) for f in futs]
    futs = [g.submit(stages.release, f, "terms", "signatures") for f in futs]
    counts = g.reduce(stages.add, [g.submit(stages.posting_counts, s, config) for s in sparts])
    useful = g.submit(stages.useful_terms, counts, config)
    posts = [
        g.submit(stages.postings_split, s, int(offsets[p]), config, useful, nb)
        for p, s in enumerate(sparts)
    ]
    edges = [g.submit(stages.term_edges, config, specific, *pc) for pc in g.shuffle(posts, nb)]
    del df, counts, useful, posts
    left, right, sim = _edges(g.gather(edges))
    del edges
    _, first = np.unique(left * max(n, 1) + right, return_index=True)  # pair in many buckets
    return futs, sparts, (left[first], right[first], sim[first]), specific


def _link(
    g: _Graph,
    sparts: Sequence[Any],
    offsets: I64,
    rank: I64,
    dup_labels: I64,
    dup_left: I64,
    dup_right: I64,
    edges: tuple[I64, I64, F64],
    config: ClusterConfig,
    nb: int,
    specific: Any = None,
) -> tuple[I64, F64, int]:
    """Guarded linkage: whole components, bucketed, each bucket linked in id-rank order."""
    n = rank.size
    s_left, s_right, s_sim = edges
    comp = components(n, np.concatenate((s_left, dup_left)), np.concatenate((s_right, dup_right)))
    sizes = np.bincount(comp, minlength=1)
    members = np.flatnonzero(sizes[comp] >= 2)
    bucket = comp[members] % nb
    edge_bucket = comp[s_left] % nb
    per_bucket = []
    for k in range(nb):
        mem = members[bucket == k]
        per_bucket.append(mem[np.argsort(rank[mem], kind="stable")])
    owner_of = [np.searchsorted(offsets, np.sort(m), side="right") - 1 for m in per_bucket]
    sorted_members = [np.sort(m) for m in per_bucket]
    extracts = []
    for q, sp in enumerate(sparts):
        asks = [sm[own == q] for sm, own in zip(sorted_members, owner_of, strict=True)]
        scattered = g.scatter(asks)
        extracts.append(g.submit(stages.tfidf_extract, sp, int(offsets[q]), *scattered))
    jobs = []
    for k in range(nb):
        sel = edge_bucket == k
        payload = g.scatter(
            [per_bucket[k], dup_labels[per_bucket[k]], (s_left[sel], s_right[sel], s_sim[sel])]
        )
        jobs.append(
            g.submit(
                stages.link_bucket,
                config,
                specific,
                *payload,
                *[g.item(e, k) for e in extracts],
            )
        )
    labels = comp.copy()
    scores = np.zeros(n)
    base = n
    cuts = 0
    for k, (sub, sub_scores, sub_cuts) in enumerate(g.gather(jobs)):
        if sub.size:
            labels[per_bucket[k]] = sub + base
            base += int(sub.max()) + 1
        scores[per_bucket[k]] = sub_scores
        cuts += sub_cuts
    return _by_rank(canonical_labels(labels), rank), scores, cuts


def _attach(
    g: _Graph,
    sparts: Sequence[Any],
    offsets: I64,
    rank: I64,
    labels: I64,
    scores: F64,
    edges: tuple[I64, I64, F64],
    config: ClusterConfig,
    nb: int,
    specific: Any = None,
) -> Attachments:
    """Run the attachment pass in id-rank space, as the local engine does.

    The pass itself runs on the client (it needs labels, scores and edges only); the
    story similarities of its (lone article, story member) pairs are computed on workers,
    ``nb`` buckets of pairs, each with the TF-IDF rows it needs.
    """
    n = rank.size
    order = np.argsort(rank)
    by_rank = np.empty(n, np.int64)
    by_rank[rank] = labels
    scores_by_rank = np.empty(n, np.float64)
    scores_by_rank[rank] = scores

    def score(a: I64, b: I64) -> F64:
        return _pair_scores(g, sparts, offsets, order[a], order[b], config, nb, specific)

    return attach_singletons(
        by_rank,
        scores_by_rank,
        rank[edges[0]],
        rank[edges[1]],
        edges[2],
        score,
        config.attach_ratio,
        config.attach_floor,
    )


def _pair_scores(
    g: _Graph,
    sparts: Sequence[Any],
    offsets: I64,
    left: I64,
    right: I64,
    config: ClusterConfig,
    nb: int,
    specific: Any = None,
) -> F64:
    """Story similarity of pairs of global rows, computed on workers.

    The pairs are cut into ``nb`` contiguous runs (pairs that come grouped, by lone
    article and story, stay together), and each run is scored on a worker with the
    TF-IDF rows it needs fetched from their partitions.
    """
    out = np.zeros(left.size)
    bucket = np.arange(left.size) * nb // max(left.size, 1)
    extracts = []
    needs = [np.unique(np.concatenate((left[bucket == k], right[bucket == k]))) for k in range(nb)]
    owners = [np.searchsorted(offsets, m, side="right") - 1 for m in needs]
    for q, sp in enumerate(sparts):
        asks = g.scatter([m[own == q] for m, own in zip(needs, owners, strict=True)])
        extracts.append(g.submit(stages.tfidf_extract, sp, int(offsets[q]), *asks))
    jobs = []
    for k in range(nb):
        sel = bucket == k
        payload = g.scatter([left[sel], right[sel]])
        jobs.append(
            g.submit(
                stages.attach_scores,
                config,
                specific,
                *payload,
                *[g.item(e, k) for e in extracts],
            )
        )
    for k, sim in enumerate(g.gather(jobs)):
        out[bucket == k] = sim
    return out


def _story_duplicates(
    g: _Graph,
    sparts: Sequence[Any],
    offsets: I64,
    dups: tuple[I64, I64, F64],
    config: ClusterConfig,
    nb: int,
    specific: Any = None,
) -> tuple[I64, I64, F64]:
    """Keep the duplicate pairs that may tie a story (:func:`story_duplicates`), as locally."""
    if dups[0].size == 0:
        return dups
    sims = _pair_scores(g, sparts, offsets, dups[0], dups[1], config, nb, specific)
    return story_duplicates(*dups, sims, config.story_threshold)
