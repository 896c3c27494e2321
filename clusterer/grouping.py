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
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from scipy.cluster.hierarchy import linkage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ._label_kernels import edge_outcomes, first_seen

__all__ = [
    "PAIRS_PER_CALL",
    "Attachments",
    "StoryLinkage",
    "attach_singletons",
    "canonical_labels",
    "cluster_block",
    "components",
    "link_stories",
    "pair_runs",
    "story_duplicates",
]

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
    if labels.size and labels.min() >= 0 and labels.max() < 2 * labels.size + 1024:
        # the usual case (labels from 0 to about n): one pass, no sort
        return first_seen(np.ascontiguousarray(labels, np.int64), int(labels.max()) + 1)
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
    lone_links : int64 array
        Indices, ascending, of the input edges (at any similarity) joining an article
        left alone to a story of two or more: the ``links`` of :func:`attach_singletons`.
    """

    labels: I64
    scores: F64
    rejected: npt.NDArray[np.bool_]
    cuts: int
    lone_links: I64


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
    blocks: list[I64] = []
    for c in np.flatnonzero(sizes >= 2):
        members = order[starts[c] : starts[c] + sizes[c]]
        if members.size > max_block:
            blocks.extend(_cut(members, left, right, sims, must_link, threshold, max_block))
            cuts += 1
        else:
            blocks.append(members)
    # A block made of one duplicate group is one story (its pairs all count as 1.0):
    # no similarity block is needed, however large the group.
    single = [b for b in blocks if np.all(must_link[b] == must_link[b[0]])]
    blocks = [b for b in blocks if not np.all(must_link[b] == must_link[b[0]])]
    for piece in single:
        labels[piece] = next_label
        scores[piece] = 1.0 if piece.size > 1 else 0.0
        next_label += 1
    # Score the similarity blocks of many components in one call (a call per small
    # component cost more in overhead than in arithmetic).
    for batch in pair_runs(blocks, PAIRS_PER_CALL):
        m = np.array([b.size for b in batch], np.int64)
        iu, ju, pair_ptr = _block_pairs(m)
        node_ptr = np.zeros(m.size + 1, np.int64)
        np.cumsum(m, out=node_ptr[1:])
        nodes = np.concatenate(batch)
        block_of = np.repeat(np.arange(m.size), m * (m - 1) // 2)
        a = nodes[node_ptr[block_of] + iu]
        b = nodes[node_ptr[block_of] + ju]
        sim = score_pairs(a, b)
        sim = np.where(must_link[a] == must_link[b], 1.0, sim)
        for piece, p0, p1 in zip(batch, pair_ptr[:-1], pair_ptr[1:], strict=True):
            sub_labels, sub_scores = cluster_block(piece.size, sim[p0:p1], threshold, method)
            labels[piece] = sub_labels + next_label
            scores[piece] = sub_scores
            next_label += int(sub_labels.max()) + 1
    labels = canonical_labels(labels)
    # one pass over the edges for both: they are many, the lone links a few percent
    rejected, lone = edge_outcomes(
        labels,
        np.ascontiguousarray(left, np.int64),
        np.ascontiguousarray(right, np.int64),
        np.ascontiguousarray(strong, np.bool_),
    )
    return StoryLinkage(labels, scores, rejected, cuts, np.flatnonzero(lone))


def _group_edges(groups: I64) -> tuple[I64, I64]:
    """Star edges joining each group's members to its first member."""
    if groups.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    first = np.concatenate(([True], g[1:] != g[:-1]))
    head = order[np.flatnonzero(first)][np.cumsum(first) - 1]
    keep = ~first
    return head[keep], order[keep]


def _cut(
    members: I64,
    left: I64,
    right: I64,
    sims: F64,
    must_link: I64,
    threshold: float,
    max_block: int,
) -> list[I64]:
    """Split an oversized component by raising the edge threshold until pieces fit.

    Duplicate groups are never split: their must-link edges hold at every level, and a
    piece still too large at level 1.0 is packed into blocks at group boundaries.
    """
    inside = np.zeros(int(max(left.max(initial=0), right.max(initial=0), members.max())) + 1, bool)
    inside[members] = True
    mask = inside[left] & inside[right]
    el, er, es = left[mask], right[mask], sims[mask]
    local = np.full(inside.size, -1, np.int64)
    local[members] = np.arange(members.size)
    gl, gr = _group_edges(must_link[members])
    level = threshold
    while True:
        level = min(1.0, level + 0.05)
        keep = es >= level
        comp = components(
            members.size,
            np.concatenate((local[el[keep]], gl)),
            np.concatenate((local[er[keep]], gr)),
        )
        sizes = np.bincount(comp)
        if sizes.max() <= max_block or level >= 1.0:
            break
    order = np.argsort(comp, kind="stable")
    bounds = np.cumsum(sizes)[:-1]
    pieces = [members[idx] for idx in np.split(order, bounds)]
    out: list[I64] = []
    for p in pieces:
        out.extend(_pack_groups(p, must_link, max_block) if p.size > max_block else [p])
    return out


def _pack_groups(piece: I64, must_link: I64, max_block: int) -> list[I64]:
    """Split a piece into blocks of whole duplicate groups.

    Each block has at most ``max_block`` articles, unless a single group is larger; such a
    group forms a block of its own.
    """
    ordered = piece[np.argsort(must_link[piece], kind="stable")]
    g = must_link[ordered]
    starts = np.flatnonzero(np.concatenate(([True], g[1:] != g[:-1])))
    bounds = [*starts.tolist(), ordered.size]
    blocks: list[I64] = []
    begin = 0
    for a, b in pairwise(bounds):
        if b - begin > max_block and a > begin:
            blocks.append(ordered[begin:a])
            begin = a
    blocks.append(ordered[begin:])
    return blocks


#: Most similarity pairs scored in one call of the pair scorer (bounds the memory of
#: scoring many components at once; pairs are independent, so results do not depend on it).
PAIRS_PER_CALL = 1 << 22


def pair_runs(blocks: list[I64], limit: int) -> list[list[I64]]:
    """Group blocks into runs of at most ``limit`` pairs (a larger block stands alone)."""
    out: list[list[I64]] = []
    run: list[I64] = []
    pairs = 0
    for b in blocks:
        p = b.size * (b.size - 1) // 2
        if run and pairs + p > limit:
            out.append(run)
            run, pairs = [], 0
        run.append(b)
        pairs += p
    if run:
        out.append(run)
    return out


def _block_pairs(sizes: I64) -> tuple[I64, I64, I64]:
    """Upper-triangle index pairs of each block, in ``np.triu_indices`` order, concatenated.

    Returns local row and column indices and the pair pointer per block.
    """
    counts = sizes * (sizes - 1) // 2
    pair_ptr = np.zeros(sizes.size + 1, np.int64)
    np.cumsum(counts, out=pair_ptr[1:])
    # Row i of a block of size m holds partners i+1..m-1: m-1-i pairs.
    row_block = np.repeat(np.arange(sizes.size), sizes)
    row_local = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    row_len = sizes[row_block] - 1 - row_local
    iu = np.repeat(row_local, row_len)
    first = np.repeat(row_local + 1, row_len)
    ju = first + np.arange(int(row_len.sum())) - np.repeat(np.cumsum(row_len) - row_len, row_len)
    return iu, ju, pair_ptr


def _flat_labels(tree: F64, m: int, cut: float) -> I64:
    """Flat clusters of a linkage matrix at ``cut``, as ``fcluster(criterion="distance")``.

    A merge joins its two sides when the largest merge height in its subtree is at
    most ``cut`` (what ``fcluster`` tests); labels are canonical.
    """
    parent = np.arange(2 * m - 1)
    top = np.empty(m - 1)
    for i in range(m - 1):
        a, b = int(tree[i, 0]), int(tree[i, 1])
        h = tree[i, 2]
        if a >= m:
            h = max(h, top[a - m])
        if b >= m:
            h = max(h, top[b - m])
        top[i] = h
        if h <= cut:
            parent[a] = m + i
            parent[b] = m + i
    # Resolve roots from the top of the tree down (parents have larger indices).
    for node in range(2 * m - 2, -1, -1):
        if parent[node] != node:
            parent[node] = parent[parent[node]]
    return canonical_labels(parent[:m].astype(np.int64))


def cluster_block(m: int, sim: F64, threshold: float, method: str) -> tuple[I64, F64]:
    """Cluster one component agglomeratively from its condensed similarity block.

    Returns canonical labels and each member's mean similarity to the others of its
    cluster; clusters merge while their linkage is at least ``threshold``.
    """
    if m == 1:
        return np.zeros(1, np.int64), np.zeros(1, np.float64)
    iu, ju = np.triu_indices(m, k=1)
    if m == 2:
        joined = bool(sim[0] >= threshold)
        labels = np.array([0, 0 if joined else 1], np.int64)
    else:
        tree = linkage(1.0 - sim, method=method)
        # fcluster merges at distance <= t; similarity >= threshold means distance <= 1 - t.
        labels = _flat_labels(tree, m, 1.0 - threshold + 1e-12)
    full = np.zeros((m, m), np.float64)
    full[iu, ju] = sim
    full[ju, iu] = sim
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    count = same.sum(axis=1)
    total = (full * same).sum(axis=1)
    scores = np.divide(total, count, out=np.zeros(m), where=count > 0)
    return labels, scores


@dataclass(frozen=True)
class Attachments:
    """Output of :func:`attach_singletons`.

    Parameters
    ----------
    labels : (n,) int64
        Story per article after the pass: the labels given when it attached no article
        (no pass over all articles then), else renumbered canonically.
    scores : (n,) float64
        Per-article scores; an attached article gets its mean similarity to the members
        of the story it joined, the other scores are unchanged.
    rows : (k,) int64
        Attached articles, ascending.
    partners : (k,) int64
        Per attached article, the member of its new story it has the strongest candidate
        link with (ties: the lowest row).
    similarity : (k,) float64
        Mean similarity of each attached article to the members of its new story.
    required : (k,) float64
        What that mean had to reach: ``max(floor, ratio * cohesion)`` of the story.
    """

    labels: I64
    scores: F64
    rows: I64
    partners: I64
    similarity: F64
    required: F64


def attach_singletons(
    labels: I64,
    scores: F64,
    left: I64,
    right: I64,
    sims: F64,
    score_pairs: PairScorer,
    ratio: float,
    floor: float,
    *,
    links: I64 | None = None,
) -> Attachments:
    """Attach stories of one article to the story they match relatively well.

    A lone article ``s`` joins the story ``S`` (of two or more articles) that it has a
    candidate link with and whose members it matches, on average over all of them, at
    ``>= max(floor, ratio * cohesion(S))``, where ``cohesion(S)`` is the mean of the
    members' linkage scores (the mean pairwise similarity inside ``S``). Among several
    such stories the best mean wins (ties: the lower label). Every lone article is
    decided against the stories as the linkage left them, so the result does not depend
    on order, and attached articles never attract one another.

    Parameters
    ----------
    labels, scores : arrays
        Output of :func:`link_stories`.
    left, right, sims : arrays
        Candidate pairs and their similarities (links below ``floor`` are ignored).
    score_pairs : callable
        ``score_pairs(left, right) -> similarities``; called once, with the pairs of
        each lone article and every member of each story it has a candidate link with.
    ratio : float
        Share of the story's cohesion to reach; 0 switches the pass off.
    floor : float
        Absolute minimum of the mean similarity.
    links : int64 array, optional
        Indices of the pairs to look at, among them every pair joining a lone article
        to a story (:attr:`StoryLinkage.lone_links`); by default all pairs are searched.

    Returns
    -------
    Attachments
        New labels and scores, and one record per attached article.
    """
    n = labels.size
    none_i, none_f = np.zeros(0, np.int64), np.zeros(0, np.float64)
    unchanged = Attachments(labels, scores, none_i, none_i, none_f, none_f)
    if ratio <= 0 or n == 0:
        return unchanged
    size = np.bincount(labels)
    # The links of a lone article to a story, picked out before anything else is
    # gathered: a few percent of all links, so no other pass runs over all of them.
    # Given ``links``, only their ends are looked up: apart from the sizes above and
    # the members of the candidate stories below, nothing here runs over all articles
    # (at a million articles those passes were most of the pass's time).
    if links is None:
        lone = size[labels] == 1
        sel = lone[left] != lone[right]
        sel &= sims >= floor
        idx = np.flatnonzero(sel)
        del sel
        lone_left = lone[left[idx]]
    else:
        lone_l = size[labels[left[links]]] == 1
        keep = (lone_l != (size[labels[right[links]]] == 1)) & (sims[links] >= floor)
        idx, lone_left = links[keep], lone_l[keep]
    if idx.size == 0:
        return unchanged
    s = np.where(lone_left, left[idx], right[idx])
    t = np.where(lone_left, right[idx], left[idx])
    w = sims[idx]
    story = labels[t]
    # One candidate per (article, story): its strongest link, the lowest partner on ties.
    order = np.lexsort((t, -w, story, s))
    s, t, story = s[order], t[order], story[order]
    first = np.concatenate(([True], (s[1:] != s[:-1]) | (story[1:] != story[:-1])))
    s, t, story = s[first], t[first], story[first]
    # Score each candidate against every member of its story: the members of the
    # candidate stories only, grouped by story in row order (no sort of all rows).
    wanted = np.zeros(size.size, bool)
    wanted[story] = True
    rows = np.flatnonzero(wanted[labels])
    rows = rows[np.argsort(labels[rows], kind="stable")]
    grouped = labels[rows]
    start = np.searchsorted(grouped, story)
    count = size[story]
    offset = np.concatenate(([0], np.cumsum(count)[:-1]))
    within = np.arange(int(count.sum())) - np.repeat(offset, count)
    members = rows[np.repeat(start, count) + within]
    sim = score_pairs(np.repeat(s, count), members)
    mean = np.add.reduceat(sim, offset) / count
    # Cohesion of the candidate stories: their members' scores summed one after another
    # in row order, as a bincount over all articles sums them.
    group = np.cumsum(np.concatenate(([False], grouped[1:] != grouped[:-1])))
    total = np.bincount(group, weights=scores[rows])
    required = np.maximum(floor, ratio * (total[group[start]] / count))
    ok = mean >= required
    s, t, story, mean, required = s[ok], t[ok], story[ok], mean[ok], required[ok]
    if s.size == 0:  # labels and scores stay as the linkage left them
        return Attachments(labels, scores, s, t, mean, required)
    # Best story per article: highest mean, the lower label on ties.
    order = np.lexsort((story, -mean, s))
    s, t, story, mean, required = s[order], t[order], story[order], mean[order], required[order]
    first = np.concatenate(([True], s[1:] != s[:-1]))
    s, t, story, mean, required = s[first], t[first], story[first], mean[first], required[first]
    new_labels = labels.copy()
    new_labels[s] = story
    new_scores = scores.copy()
    new_scores[s] = mean
    return Attachments(canonical_labels(new_labels), new_scores, s, t, mean, required)


def story_duplicates(
    left: I64, right: I64, jaccard: F64, story_sims: F64, threshold: float
) -> tuple[I64, I64, F64]:
    """Keep the near-duplicate pairs that may tie two articles into one story.

    Duplicate groups are must-links of the story stage: a group is never split across
    stories. A verified pair whose own story similarity is below ``threshold`` is the
    same text under unrelated headlines and dates (a site's boilerplate left where the
    extraction found no article, "Chat with us in Facebook Messenger..." on two video
    pages of two events), which would tie two events together; such pairs are dropped
    before the groups are formed. Copies of one report keep their story similarity
    (cosine ~0.9 on their shared body) far above any story threshold.

    Parameters
    ----------
    left, right, jaccard : arrays
        Verified near-duplicate pairs and their Jaccard similarity.
    story_sims : float64 array
        Story similarity (TF-IDF cosine times date decay) of each pair.
    threshold : float
        ``story_threshold``.

    Returns
    -------
    left, right, jaccard : arrays
        The pairs kept, in their input order.
    """
    keep = story_sims >= threshold
    return left[keep], right[keep], jaccard[keep]
