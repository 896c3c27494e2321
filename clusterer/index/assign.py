"""Story assignment of a batch against the stored index (pure; no SQL here).

The batch path (:func:`clusterer.cluster`) links stories by agglomerative average (or
complete) linkage inside connected components of the graph of strong candidate links.
The index *continues* that agglomeration: the stored stories a batch reaches are the
starting clusters, never split, and the batch's articles join as singletons.

1. **Near-duplicate groups.** Verified matches (band-key lookups, then exact or
   estimated Jaccard >= ``duplicate_threshold``) whose story similarity also reaches
   ``story_threshold`` (:func:`clusterer.grouping.story_duplicates`) unite groups;
   matching several stored groups merges them (``group_merged`` events). A group never
   spans two stories: the stories of merged groups merge (must-link).
2. **Components.** Links at or above ``story_threshold`` between a batch article and a
   candidate (stored or in the batch, sharing a top term within the date window), the
   stored stories and the groups connect the pool. Components without a batch article
   are left alone.
3. **Linkage.** In each component the clusters (stored stories, batch groups) merge
   greedily by the highest linkage, computed over *all* member pairs with the current
   idf (pairs in one group count 1, as in the batch path), while it is at least
   ``story_threshold``.
3b. **Attachment.** As in the batch path
   (:func:`clusterer.grouping.attach_singletons`): a story of one article that a link
   of the batch (down to ``attach_floor``) ties to a story of several joins the one
   whose members it matches best on average, if that mean reaches ``max(attach_floor,
   attach_ratio * cohesion)``. Both the lone article and the story may be stored or
   new; a stored lone article that joins is a story merge.
4. **Ids.** A cluster holding stored stories keeps the oldest (smallest) story id; the
   other stored ids are absorbed (``merged`` events; they resolve to the survivor).
   Clusters of new articles get fresh ids in canonical order (date, then id).

Everything is decided from the batch as a whole, so the order of articles inside a
batch does not matter; across batches, stored stories are never split here, which is
where arrival order can make the result differ from clustering everything at once.
While the index is young, :mod:`clusterer.index.settle` re-decides all of it from time
to time, since then the term statistics move most between batches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain

import numpy as np
import numpy.typing as npt

from ..config import ClusterConfig
from ..grouping import (
    PAIRS_PER_CALL,
    attach_singletons,
    cluster_block,
    components,
    link_stories,
    pair_runs,
    story_duplicates,
)
from ..similarity import TfidfRows, story_similarity
from ._assign_kernel import merge_average

__all__ = ["Decision", "Outcome", "Pool", "assign_batch"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
PairScorer = Callable[[I64, I64], F64]
_EMPTY = np.zeros(0, np.int64)

#: Components of more starting clusters than this are linked by SciPy; fewer, by the
#: compiled greedy loop (:func:`._assign_kernel.merge_average`), which is cheaper for
#: the few clusters of a typical batch but grows with the cube of their number (a
#: settling of 9,000 Reuters wires, one component of thousands, took 12 minutes).
LOOP_CLUSTERS = 64


@dataclass
class Pool:
    """Articles a batch can touch: whole stored stories it reaches, then the batch.

    Parameters
    ----------
    ids : list of str
        Article ids; rows ``0 .. stored - 1`` are stored, the rest the batch in
        canonical order.
    stored : int
        Number of stored rows.
    rows : TfidfRows
        Weighted term rows of every pool article (current idf).
    days : (n,) float64
        Publication days (NaN unknown).
    story, group : (n,) int64
        Labels; -1 for batch rows before assignment, final labels after it.
    empty : (n,) bool
        Articles without text.
    """

    ids: list[str]
    stored: int
    rows: TfidfRows
    days: F64
    story: I64
    group: I64
    empty: npt.NDArray[np.bool_]


@dataclass
class Decision:
    """Scores of one batch row (labels are in ``Pool.story`` / ``Pool.group``)."""

    best: int  # pool row or -1
    jaccard: float
    similarity: float
    score: float
    new_story: bool
    merged: list[int]


@dataclass
class Outcome:
    """Decisions per batch row plus the identity changes they caused."""

    decisions: list[Decision]
    story_merges: list[tuple[int, int, int]]  # (survivor, absorbed, pool row of the cause)
    group_merges: list[tuple[int, int, int]]
    next_story: int
    next_group: int
    members: dict[int, list[int]]  # complete pool rows of every story the batch touched


def _stars(labels: I64) -> tuple[I64, I64]:
    """Edges joining every row to the first row with the same label (labels >= 0)."""
    rows = np.flatnonzero(labels >= 0)
    order = rows[np.argsort(labels[rows], kind="stable")]
    lab = labels[order]
    first = np.concatenate(([True], lab[1:] != lab[:-1])) if order.size else np.zeros(0, bool)
    head = order[np.flatnonzero(first)][np.cumsum(first) - 1] if order.size else order
    return head[~first], order[~first]


def _relabel(
    comp: I64,
    old: I64,
    stored: int,
    counter: int,
    merges: list[tuple[int, int, int]],
) -> tuple[I64, int]:
    """Give each component (label >= 0) a stable id: its smallest stored label, else a fresh one.

    Components are visited in order of their first row, so fresh ids follow the
    canonical order of the batch. Rows with ``comp < 0`` keep their ``old`` label.
    """
    new = old.copy()
    rows = np.flatnonzero(comp >= 0)
    order = rows[np.argsort(comp[rows], kind="stable")]  # rows ascending within each
    if not order.size:
        return new, counter
    starts = np.concatenate(([0], np.flatnonzero(np.diff(comp[order])) + 1))
    sizes = np.diff(np.append(starts, order.size))
    stored_row = order < stored
    none = np.iinfo(np.int64).max
    low = np.minimum.reduceat(np.where(stored_row, old[order], none), starts)
    high = np.maximum.reduceat(np.where(stored_row, old[order], -1), starts)
    label = low.copy()
    by_first = np.argsort(order[starts])  # components in order of their first row
    fresh = by_first[low[by_first] == none]
    label[fresh] = counter + np.arange(fresh.size)
    counter += int(fresh.size)
    new[order] = np.repeat(label, sizes)
    for g in by_first[(low[by_first] != none) & (high[by_first] != low[by_first])].tolist():
        part = order[starts[g] : starts[g] + sizes[g]]
        olds = sorted({int(x) for x in old[part[part < stored]]})
        batch_rows = part[part >= stored]
        cause = int(batch_rows[0]) if batch_rows.size else int(part[0])
        merges.extend((olds[0], gone, cause) for gone in olds[1:])
    return new, counter


def assign_batch(
    pool: Pool,
    dups: tuple[I64, I64, F64],
    links: tuple[I64, I64],
    config: ClusterConfig,
    next_story: int,
    next_group: int,
) -> Outcome:
    """Assign the batch rows of ``pool``.

    Parameters
    ----------
    pool : Pool
        Stored stories within reach and the batch (labels of batch rows are -1).
    dups : (left, right, jaccard)
        Verified near-duplicate pairs of pool rows (each touching the batch).
    links : (left, right)
        Story candidate pairs of pool rows (each touching the batch).
    config : ClusterConfig
        Thresholds and linkage.
    next_story, next_group : int
        First free ids.

    Returns
    -------
    Outcome
        Scores and merges; ``pool.story`` and ``pool.group`` hold the final labels.
    """
    n, s, thr = len(pool.ids), pool.stored, config.story_threshold
    # As in the batch path: a duplicate pair below the story threshold ties no story.
    dups = story_duplicates(*dups, story_similarity(pool.rows, pool.days, *dups[:2], config), thr)
    group_merges: list[tuple[int, int, int]] = []
    story_merges: list[tuple[int, int, int]] = []
    gl, gr = _stars(pool.group)
    gcomp = components(n, np.concatenate((gl, dups[0])), np.concatenate((gr, dups[1])))
    pool.group, next_group = _relabel(gcomp, pool.group, s, next_group, group_merges)

    def sims(a: I64, b: I64) -> F64:
        out = story_similarity(pool.rows, pool.days, a, b, config)
        return np.where(pool.group[a] == pool.group[b], 1.0, out)

    link_sims = sims(links[0], links[1])
    strong = link_sims >= thr
    sl, sr = _stars(pool.story)
    g2l, g2r = _stars(pool.group)
    init = components(n, np.concatenate((sl, g2l)), np.concatenate((sr, g2r)))
    comp = components(
        n, np.concatenate((sl, g2l, links[0][strong])), np.concatenate((sr, g2r, links[1][strong]))
    )
    final = _first_rows(np.arange(n, dtype=np.int64), init)
    score = np.zeros(n)
    # the member pairs of many components scored in one call (pairs are independent),
    # in runs of at most PAIRS_PER_CALL pairs (a settling of 100,000 articles scoring
    # all at once peaked 2 GB higher)
    order = np.argsort(comp, kind="stable")  # rows ascending within each component
    lo, hi = (np.searchsorted(comp[order], np.unique(comp[s:]), side) for side in ("left", "right"))
    groups = [order[a:b] for a, b in zip(lo.tolist(), hi.tolist(), strict=True)]
    for rows in [g for g in groups if g.size > config.max_block]:
        final[rows], score[rows] = _link_large(rows, init, links, link_sims, sims, config)
    for run in pair_runs([g for g in groups if g.size <= config.max_block], PAIRS_PER_CALL):
        tri = [np.triu_indices(g.size, k=1) for g in run]
        pair_sims = sims(
            np.concatenate([g[iu] for g, (iu, _) in zip(run, tri, strict=True)] + [_EMPTY]),
            np.concatenate([g[ju] for g, (_, ju) in zip(run, tri, strict=True)] + [_EMPTY]),
        )
        at = 0
        for rows, (iu, ju) in zip(run, tri, strict=True):
            sim = pair_sims[at : at + iu.size]
            at += iu.size
            final[rows], score[rows] = _agglomerate(
                rows, init[rows], iu, ju, sim, thr, config.linkage
            )
    final, score = _attach(final, score, comp, s, links, link_sims, sims, config)
    touched = np.isin(final, final[s:])
    pool.story, next_story = _relabel(
        np.where(touched, final, -1), pool.story, s, next_story, story_merges
    )
    members: dict[int, list[int]] = {}
    for r in np.flatnonzero(touched).tolist():
        members.setdefault(int(pool.story[r]), []).append(r)
    decisions = _decide(pool, dups, sims, score, members, story_merges)
    return Outcome(decisions, story_merges, group_merges, next_story, next_group, members)


def _link_large(
    rows: I64,
    init: I64,
    links: tuple[I64, I64],
    link_sims: F64,
    sims: PairScorer,
    config: ClusterConfig,
) -> tuple[I64, F64]:
    """Link a component larger than ``max_block`` as the batch path does.

    :func:`clusterer.grouping.link_stories` cuts it into blocks of at most
    ``max_block`` by raising the link threshold, then links each block (its starting
    clusters, stored stories and groups, are must-links). Only pairs inside a block
    are scored, never the whole component's. The scores count the pairs inside a
    starting cluster as 1, as the batch path counts a group's.
    """
    local = np.full(int(max(rows.max(), links[0].max(initial=0), links[1].max(initial=0))) + 1, -1)
    local[rows] = np.arange(rows.size)
    inside = (local[links[0]] >= 0) & (local[links[1]] >= 0)
    linked = link_stories(
        rows.size,
        local[links[0][inside]],
        local[links[1][inside]],
        link_sims[inside],
        init[rows],
        lambda a, b: sims(rows[a], rows[b]),
        config.story_threshold,
        config.linkage,
        config.max_block,
    )
    return _first_rows(rows, linked.labels), linked.scores


def _agglomerate(
    rows: I64, init: I64, iu: I64, ju: I64, sim: F64, thr: float, method: str
) -> tuple[I64, F64]:
    """Merge starting clusters by greedy linkage; return labels and per-row mean scores.

    ``sim`` holds the scores of the member pairs ``(rows[iu], rows[ju])``, the upper
    triangle (``np.triu_indices``) of the component.
    """
    m = rows.size
    _, lab = np.unique(init, return_inverse=True)
    lab = lab.ravel().astype(np.int64)
    full = np.zeros((m, m))
    full[iu, ju] = sim
    full[ju, iu] = sim
    k = int(lab.max()) + 1
    if k > LOOP_CLUSTERS:
        # the batch path's linkage (SciPy, O(m^2)) from singletons, with the pairs inside
        # a starting cluster at similarity 1 so that those clusters form first; the
        # linkage between clusters never looks at their inner pairs, so the merges are
        # those of the loops below, which cost O(k^3)
        inner = sim.copy()
        inner[lab[iu] == lab[ju]] = 1.0
        lab = cluster_block(m, inner, thr, method)[0]
    else:
        _merge_loop(full, lab, k, thr, method)
    same = lab[:, None] == lab[None, :]
    np.fill_diagonal(same, False)
    count = same.sum(axis=1)
    mean = np.divide((full * same).sum(axis=1), count, out=np.zeros(m), where=count > 0)
    return _first_rows(rows, lab), mean


def _merge_loop(full: F64, lab: I64, k: int, thr: float, method: str) -> None:
    """Merge the ``k`` starting clusters of ``lab`` in place by greedy linkage."""
    m = lab.size
    onehot = np.zeros((m, k))
    onehot[np.arange(m), lab] = 1.0
    size = onehot.sum(axis=0)
    if method == "complete":
        agg = np.full((k, k), np.inf)
        for a in range(k):
            ra = lab == a
            for b in range(a + 1, k):
                agg[a, b] = agg[b, a] = full[np.ix_(ra, lab == b)].min()
        _merge_complete(agg, size, lab, thr)
    else:
        merge_average(onehot.T @ full @ onehot, size, lab, thr)


def _merge_complete(agg: F64, size: F64, lab: I64, thr: float) -> None:
    """Merge clusters in place by complete linkage while it is at least ``thr``."""
    k = size.size
    alive = np.ones(k, bool)
    while alive.sum() > 1:
        link = agg.copy()
        link[~alive, :] = -1.0
        link[:, ~alive] = -1.0
        np.fill_diagonal(link, -1.0)
        a, b = (int(x) for x in np.unravel_index(int(np.argmax(link)), link.shape))
        if link[a, b] < thr:
            break
        a, b = min(a, b), max(a, b)
        agg[a, :] = np.minimum(agg[a, :], agg[b, :])
        agg[:, a] = agg[a, :]
        size[a] += size[b]
        alive[b] = False
        lab[lab == b] = a


def _attach(
    final: I64,
    score: F64,
    comp: I64,
    stored: int,
    links: tuple[I64, I64],
    link_sims: F64,
    sims: PairScorer,
    config: ClusterConfig,
) -> tuple[I64, F64]:
    """Run the attachment pass over the pool after the linkage (step 3b).

    Stored stories outside the batch's components have no linkage scores yet: each one
    a lone article has a link to gets its members' mean similarities computed (the
    scores the linkage gives a cluster that does not change), so its cohesion is the
    batch path's.
    """
    if config.attach_ratio <= 0 or links[0].size == 0:
        return final, score
    lab = np.unique(final, return_inverse=True)[1].ravel().astype(np.int64)
    size = np.bincount(lab)
    lone = size[lab] == 1
    ok = (link_sims >= config.attach_floor) & (lone[links[0]] != lone[links[1]])
    other = np.where(lone[links[0]], links[1], links[0])[ok]
    unscored = np.unique(lab[other[~np.isin(comp[other], comp[stored:])]])
    score = score.copy()
    for story in unscored.tolist():
        rows = np.flatnonzero(lab == story)
        iu, ju = np.triu_indices(rows.size, k=1)
        sim = sims(rows[iu], rows[ju])
        score[rows] = _agglomerate(
            rows, np.zeros(rows.size, np.int64), iu, ju, sim, 2.0, "average"
        )[1]
    out = attach_singletons(
        lab, score, links[0], links[1], link_sims, sims, config.attach_ratio, config.attach_floor
    )
    return _first_rows(np.arange(final.size, dtype=np.int64), out.labels), out.scores


def _first_rows(rows: I64, lab: I64) -> I64:
    """Label each row by the first (smallest) pool row of its cluster: unique labels."""
    first = np.full(int(lab.max()) + 1 if lab.size else 0, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, lab, rows)
    return first[lab]


def _decide(
    pool: Pool,
    dups: tuple[I64, I64, F64],
    sims: PairScorer,
    score: F64,
    members: dict[int, list[int]],
    story_merges: list[tuple[int, int, int]],
) -> list[Decision]:
    s = pool.stored
    best_dup: dict[int, tuple[float, int]] = {}
    for a, b, j in zip(dups[0].tolist(), dups[1].tolist(), dups[2].tolist(), strict=True):
        for x, y in ((a, b), (b, a)):
            if x >= s and (x not in best_dup or (j, -y) > (best_dup[x][0], -best_dup[x][1])):
                best_dup[x] = (j, y)
    caused: dict[int, list[int]] = {}
    for _, gone, cause in story_merges:
        caused.setdefault(cause, []).append(gone)
    n = len(pool.ids)
    # every (batch row, other member of its story) pair, scored in one call: stories in
    # the order of ``members``, then each batch row's story members in ascending order
    lens = np.fromiter((len(v) for v in members.values()), np.int64, len(members))
    flat = np.fromiter(chain.from_iterable(members.values()), np.int64, int(lens.sum()))
    ends = np.cumsum(lens)
    story = np.repeat(np.arange(lens.size), lens)
    first = np.zeros(n, np.int64)
    if flat.size:
        first[flat] = np.minimum.reduceat(flat, ends - lens)[story]
    dup_w = np.array(sorted(best_dup), np.int64)
    dup_o = np.array([best_dup[x][1] for x in dup_w.tolist()], np.int64)
    is_dup = np.zeros(n, np.bool_)
    is_dup[dup_w] = True
    mine = (flat >= s) & ~is_dup[flat] & (lens[story] > 1)
    size = lens[story[mine]]
    pw = np.repeat(flat[mine], size)
    at = np.repeat(ends[story[mine]] - size - np.cumsum(size) + size, size)
    po = flat[at + np.arange(int(size.sum()), dtype=np.int64)]
    left = np.concatenate([dup_w, pw[pw != po]])
    right = np.concatenate([dup_o, po[pw != po]])
    values = sims(left, right) if left.size else np.zeros(0)
    sim_of: dict[int, float] = dict(zip(dup_w.tolist(), values[: dup_w.size].tolist(), strict=True))
    left, right, values = left[dup_w.size :], right[dup_w.size :], values[dup_w.size :]
    best_of: dict[int, tuple[int, float]] = {}
    if left.size:  # first maximum per batch row (rows come in contiguous runs)
        starts = np.flatnonzero(np.concatenate(([True], left[1:] != left[:-1])))
        top = np.maximum.reduceat(values, starts)
        run = np.repeat(np.arange(starts.size), np.diff(np.append(starts, left.size)))
        hit = np.flatnonzero(values == top[run])
        at = hit[np.searchsorted(run[hit], np.arange(starts.size))]
        best_of = dict(
            zip(
                left[starts].tolist(),
                zip(right[at].tolist(), values[at].tolist(), strict=True),
                strict=True,
            )
        )
    out = []
    for w in range(s, n):
        new = bool(first[w] == w)
        if w in best_dup:
            jac, best = best_dup[w]
            sim = sim_of[w]
        elif w in best_of:
            jac, (best, sim) = 0.0, best_of[w]
        else:
            jac, best, sim = 0.0, -1, 0.0
        out.append(Decision(best, jac, sim, float(score[w]), new, caused.get(w, [])))
    return out
