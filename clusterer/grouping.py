"""Grouping: near-duplicate groups by union-find, stories by guarded linkage.

Story linkage is exact average (or complete) agglomerative clustering, computed without
an n x n matrix: a merge at threshold ``t`` under average or complete linkage needs at
least one article pair with similarity >= ``t`` across the two clusters, so final
stories never cross the connected components of the graph of candidate pairs with
similarity >= ``t``. Each component is clustered on its own, with its full pairwise
similarity block. Components larger than ``max_block`` (a sign of chaining through
generic articles) are first cut by raising the edge threshold until every piece fits;
each cut is counted in the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["StoryLinkage", "canonical_labels", "components", "link_stories"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
PairScorer = Callable[[I64, I64], F64]


def components(n: int, left: I64, right: I64) -> I64:
    """Label the connected components of an undirected graph given as an edge list.

    Parameters
    ----------
    n : int
        Number of nodes.
    left, right : int64 arrays
        Edges.

    Returns
    -------
    (n,) int64
        Component label per node, canonical (see :func:`canonical_labels`).
    """
    if n == 0:
        return np.zeros(0, np.int64)
    graph = coo_matrix((np.ones(left.size, np.int8), (left, right)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    return canonical_labels(labels.astype(np.int64))


def canonical_labels(labels: I64) -> I64:
    """Renumber labels 0.. in order of each cluster's first row.

    Parameters
    ----------
    labels : int64 array
        Any labelling.

    Returns
    -------
    int64 array
        Same partition, numbered by first appearance.
    """
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse.ravel()]


@dataclass(frozen=True)
class StoryLinkage:
    """Output of :func:`link_stories`.

    Parameters
    ----------
    labels : (n,) int64
        Story per article (canonical numbering).
    scores : (n,) float64
        Mean similarity of each article to the other members of its story.
    rejected : (m,) bool
        Per input edge: similarity >= threshold but the endpoints ended apart.
    cuts : int
        Oversized components cut by raising the edge threshold.
    """

    labels: I64
    scores: F64
    rejected: npt.NDArray[np.bool_]
    cuts: int


def link_stories(
    n: int,
    left: I64,
    right: I64,
    sims: F64,
    must_link: I64,
    score_pairs: PairScorer,
    threshold: float,
    method: str,
    max_block: int = 2000,
) -> StoryLinkage:
    """Cluster articles into stories by guarded agglomerative linkage.

    Parameters
    ----------
    n : int
        Number of articles.
    left, right, sims : arrays
        Candidate pairs and their similarities.
    must_link : (n,) int64
        Near-duplicate group per article; members of a group always share a story.
    score_pairs : callable
        ``score_pairs(left, right) -> similarities`` for arbitrary pairs, used to fill
        the similarity block of each component.
    threshold : float
        Linkage similarity at or above which clusters merge.
    method : {"average", "complete"}
        Linkage.
    max_block : int, default 2000
        Largest component clustered as one block.

    Returns
    -------
    StoryLinkage
        Labels, per-article scores, rejected edges and cut count.
    """
    strong = sims >= threshold
    dup_left, dup_right = _group_edges(must_link)
    comp = components(
        n,
        np.concatenate((left[strong], dup_left)),
        np.concatenate((right[strong], dup_right)),
    )
    labels = comp.copy()
    scores = np.zeros(n, np.float64)
    order = np.argsort(comp, kind="stable")
    sizes = np.bincount(comp)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    cuts = 0
    next_label = int(comp.max()) + 1 if n else 0
    for c in np.flatnonzero(sizes >= 2):
        members = order[starts[c] : starts[c] + sizes[c]]
        pieces = [members]
        if members.size > max_block:
            pieces = _cut(members, left, right, sims, threshold, max_block)
            cuts += 1
        for piece in pieces:
            sub_labels, sub_scores = _cluster_block(
                piece, must_link, score_pairs, threshold, method
            )
            labels[piece] = sub_labels + next_label
            scores[piece] = sub_scores
            next_label += int(sub_labels.max()) + 1
    labels = canonical_labels(labels)
    rejected = strong & (labels[left] != labels[right])
    return StoryLinkage(labels, scores, rejected, cuts)


def _group_edges(groups: I64) -> tuple[I64, I64]:
    """Star edges joining each group's members to its first member."""
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    first = np.concatenate(([True], g[1:] != g[:-1]))
    head = order[np.flatnonzero(first)][np.cumsum(first) - 1]
    keep = ~first
    return head[keep], order[keep]


def _cut(
    members: I64, left: I64, right: I64, sims: F64, threshold: float, max_block: int
) -> list[I64]:
    """Split an oversized component by raising the edge threshold until pieces fit."""
    inside = np.zeros(int(max(left.max(initial=0), right.max(initial=0), members.max())) + 1, bool)
    inside[members] = True
    mask = inside[left] & inside[right]
    el, er, es = left[mask], right[mask], sims[mask]
    local = np.full(inside.size, -1, np.int64)
    local[members] = np.arange(members.size)
    level = threshold
    while True:
        level = min(1.0, level + 0.05)
        keep = es >= level
        comp = components(members.size, local[el[keep]], local[er[keep]])
        sizes = np.bincount(comp)
        if sizes.max() <= max_block or level >= 1.0:
            break
    order = np.argsort(comp, kind="stable")
    bounds = np.cumsum(sizes)[:-1]
    pieces = [members[idx] for idx in np.split(order, bounds)]
    out: list[I64] = []
    for p in pieces:
        # A piece still too large at level 1.0 is split arbitrarily (identical scores).
        out.extend(np.array_split(p, -(-p.size // max_block)))
    return out


def _cluster_block(
    members: I64, groups: I64, score_pairs: PairScorer, threshold: float, method: str
) -> tuple[I64, F64]:
    """Agglomerative clustering of one component with its full similarity block."""
    m = members.size
    if m == 1:
        return np.zeros(1, np.int64), np.zeros(1, np.float64)
    iu, ju = np.triu_indices(m, k=1)
    sim = score_pairs(members[iu], members[ju])
    same_group = groups[members[iu]] == groups[members[ju]]
    sim = np.where(same_group, 1.0, sim)
    if m == 2:
        joined = bool(sim[0] >= threshold)
        labels = np.array([0, 0 if joined else 1], np.int64)
    else:
        tree = linkage(1.0 - sim, method=method)
        # fcluster merges at distance <= t; similarity >= threshold means distance <= 1 - t.
        labels = fcluster(tree, t=1.0 - threshold + 1e-12, criterion="distance").astype(np.int64)
        labels = canonical_labels(labels)
    full = np.zeros((m, m), np.float64)
    full[iu, ju] = sim
    full[ju, iu] = sim
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    count = same.sum(axis=1)
    total = (full * same).sum(axis=1)
    scores = np.divide(total, count, out=np.zeros(m), where=count > 0)
    return labels, scores
