"""Compiled (numba) kernels of the story stages: top terms per row, fused candidate scoring.

These replace NumPy formulations whose temporaries grew with the number of candidate
pairs (a 45-million-pair list at 100k articles). Each kernel gives exactly the result
of the NumPy code it replaces: the same selection, the same float64 operations in the
same order (no fastmath, so no fused multiply-add), so the partition is unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from ._prefetch import prefetch

__all__ = [
    "RING_LIMIT",
    "distinct_pairs",
    "posting_order",
    "sparse_dot",
    "story_scores",
    "strong_window_pairs",
    "top_k_positions",
    "top_k_row",
    "top_posting_lists",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@njit(cache=True)
def top_k_row(weights: Any, k: int, out: Any, at: int) -> None:
    """Write the positions of the ``k`` largest of ``weights`` (a row longer than ``k``).

    Positions ascending, from ``out[at]``. Ties break by position (the lower position
    wins), as a stable sort by ``-weight`` does: the ``k``-th largest weight ``v`` is
    selected (``np.partition``), then one pass in position order keeps the weights
    above ``v`` and the first of those equal to it. NaN weights fall back to the sort.
    """
    m = weights.shape[0]
    neg = np.empty(m, dtype=np.float32)
    for j in range(m):
        neg[j] = -weights[j]
    v = np.partition(neg, k - 1)[k - 1]  # -(k-th largest weight)
    above = 0
    for j in range(m):
        if neg[j] < v:
            above += 1
    ties = k - above
    w = at
    for j in range(m):
        x = neg[j]
        if x < v:
            out[w] = j
            w += 1
        elif x == v and ties > 0:
            out[w] = j
            w += 1
            ties -= 1
    if w != at + k:  # NaN weights: not ordered by comparisons
        order = np.argsort(neg, kind="mergesort")[:k]
        order.sort()
        for j in range(k):
            out[at + j] = order[j]


@njit(parallel=True, cache=True)
def top_k_positions(ptr: I64, weights: npt.NDArray[np.float32], k: int) -> I64:
    """Positions of the ``k`` largest weights of each CSR row, ascending.

    Ties break by position, as a stable sort by ``(row, -weight)`` does; a row longer
    than ``k`` is not sorted (:func:`top_k_row`).
    """
    n = ptr.shape[0] - 1
    kept = np.empty(n + 1, dtype=np.int64)
    kept[0] = 0
    for i in range(n):
        kept[i + 1] = kept[i] + min(ptr[i + 1] - ptr[i], k)
    out = np.empty(kept[n], dtype=np.int64)
    for i in prange(n):
        s, e = ptr[i], ptr[i + 1]
        if e - s <= k:
            for j in range(e - s):
                out[kept[i] + j] = s + j
            continue
        top_k_row(weights[s:e], k, out, kept[i])
        for j in range(kept[i], kept[i + 1]):
            out[j] += s
    return out


@njit(inline="always", cache=True)
def _final_score(acc: float, days: Any, decay: float, a: int, b: int) -> float:
    """Return the story similarity of a pair whose TF-IDF cosine is ``acc``.

    The date decay and the clipping to [0, 1] of ``similarity.story_similarity``, in
    float64 as it computes them.
    """
    factor = 1.0
    if decay > 0.0:
        gap = abs(days[a] - days[b])
        if not np.isnan(gap):
            factor = 1.0 / (1.0 + np.sqrt(gap / decay))
    s = acc * factor
    if s < 0.0:
        s = 0.0
    if s > 1.0:
        s = 1.0
    return s


@njit(inline="always", cache=True)
def _set_row(
    ptr: Any, features: Any, weights: Any, bits: Any, dense: Any, a: int, on: bool
) -> None:
    for i in range(ptr[a], ptr[a + 1]):
        f = features[i]
        if on:
            bits[f >> 6] |= np.uint64(1) << np.uint64(f & 63)
            dense[f] = weights[i]
        else:
            bits[f >> 6] = np.uint64(0)


@njit(inline="always", cache=True)
def _score_dense(
    ptr: Any,
    features: Any,
    weights: Any,
    bits: Any,
    dense: Any,
    days: Any,
    decay: float,
    a: int,
    b: int,
) -> float:
    """Return the story similarity of rows ``a`` and ``b``, ``a`` scattered in ``dense``.

    The products of shared features (float32, as ``cosine_pairs`` forms them) are
    summed in float64 in ascending feature order, as ``cosine_pairs`` sums them, so
    the result is the same float64 value (``dense`` is float32).
    """
    acc = 0.0
    for j in range(ptr[b], ptr[b + 1]):
        f = features[j]
        if bits[f >> 6] & (np.uint64(1) << np.uint64(f & 63)):
            acc += dense[f] * weights[j]
    return _final_score(acc, days, decay, a, b)


@njit(inline="always", cache=True)
def sparse_dot(ptr: Any, features: Any, weights: Any, a: int, b: int) -> float:
    """Dot product of CSR rows ``a`` and ``b`` (ascending features, float32 weights).

    The float32 products of shared features, summed in float64 in ascending feature
    order (the arithmetic every story score uses).
    """
    acc = 0.0
    i, j = ptr[a], ptr[b]
    a1, b1 = ptr[a + 1], ptr[b + 1]
    while i < a1 and j < b1:
        if features[i] == features[j]:
            acc += weights[i] * weights[j]
            i += 1
            j += 1
        elif features[i] < features[j]:
            i += 1
        else:
            j += 1
    return acc


@njit(parallel=True, cache=True)
def story_scores(
    ptr: I64,
    features: npt.NDArray[np.uint32],
    weights: npt.NDArray[np.float32],
    days: F64,
    decay: float,
    left: I64,
    right: I64,
) -> F64:
    """Story similarity of each pair: TF-IDF cosine, date decay and clipping in one pass.

    The cosine is ``cosine_pairs``'s (float32 products of shared features summed in
    float64, ascending features), the decay and clipping ``_final_score``'s (``decay
    <= 0``: none), so each value is what the NumPy formulation gives, without its
    whole-array temporaries.
    """
    m = left.shape[0]
    out = np.empty(m, dtype=np.float64)
    if m < _SCATTER_PAIRS:
        for k in prange(m):
            a, b = left[k], right[k]
            out[k] = _final_score(sparse_dot(ptr, features, weights, a, b), days, decay, a, b)
        return out
    # Many pairs (sorted by left row when they come from ``distinct_pairs``): each left
    # row is scattered once into a dense array with a bitmap of its features, and the
    # right rows are looked up in it (``_score_dense``, the same sums) instead of each
    # pair being merged, whose branches mispredict at every step.
    n_features = 1
    for i in range(features.shape[0]):
        n_features = max(n_features, np.int64(features[i]) + 1)
    n_blocks = 64
    for c in prange(n_blocks):
        k0, k1 = m * c // n_blocks, m * (c + 1) // n_blocks
        bits = np.zeros((n_features >> 6) + 1, dtype=np.uint64)
        dense = np.empty(n_features, dtype=np.float32)
        current = -1
        for k in range(k0, k1):
            a = left[k]
            if a != current:
                if current >= 0:
                    _set_row(ptr, features, weights, bits, dense, current, False)
                current = a
                _set_row(ptr, features, weights, bits, dense, current, True)
            out[k] = _score_dense(ptr, features, weights, bits, dense, days, decay, a, right[k])
    return out


# Pairs from which ``story_scores`` scatters left rows rather than merging each pair.
_SCATTER_PAIRS = 1 << 16


@njit(cache=True)
def _list_pairs(
    s: int, e: int, docs: Any, days: Any, max_gap: float, cap: int, out_a: Any, out_b: Any, k: int
) -> int:
    """Enumerate the window pairs of one posting list (the order of ``window_pairs``)."""
    write = out_a.shape[0] > 0
    nan_start = e
    while nan_start > s and np.isnan(days[nan_start - 1]):
        nan_start -= 1
    for p in range(s, e):
        made = 0
        q = p + 1
        if p < nan_start:
            while q < nan_start and made < cap and days[q] - days[p] <= max_gap:
                if write:
                    out_a[k] = docs[p]
                    out_b[k] = docs[q]
                k += 1
                made += 1
                q += 1
            q = nan_start
        while q < e and made < cap:
            if write:
                out_a[k] = docs[p]
                out_b[k] = docs[q]
            k += 1
            made += 1
            q += 1
    return k


# Largest ring of window terms per thread before the windowed index gives way to the
# per-pair scatter (only reached with very long rows and a large ``term_neighbours``).
RING_LIMIT = 1 << 22

# Postings per chunk of lists whose window positions fit the index's int32 fields.
_POSITIONS = (1 << 31) - 1


@njit(inline="always", cache=True)
def _window_end(
    p: int, end: int, nan_start: int, e: int, days: Any, max_gap: float, cap: int
) -> int:
    """End of the contiguous window ``p + 1 .. end`` of posting ``p``, given the previous end.

    The window of ``_list_pairs``: following dated postings within ``max_gap`` days,
    or (for an undated ``p``) the following postings, at most ``cap`` of them. Ends
    never decrease with ``p`` (days ascend), so each list is scanned once.
    """
    if p >= nan_start:
        return min(p + 1 + cap, e)
    q = max(end, p + 1)
    while q < nan_start and q - p - 1 < cap and days[q] - days[p] <= max_gap:
        q += 1
    return q


# Postings ahead of the one being added to the window index whose rows are prefetched.
_AHEAD = 6


@njit(inline="always", cache=True)
def _prefetch_row(ptr: Any, features: Any, weights: Any, docs: Any, at: int, e: int) -> None:
    """Ask for the row of posting ``at`` (and the row pointer of posting ``at + _AHEAD``).

    At a million articles the rows of a posting list lie far apart in memory; each one
    added to the window index would otherwise be a wait on main memory.
    """
    if at < e:
        c = docs[at]
        c0, c1 = ptr[c], ptr[c + 1]
        for x in range(c0, c1, 16):  # one hint per 64-byte line of 4-byte values
            prefetch(features, x)
            prefetch(weights, x)
        if c1 > c0:
            prefetch(features, c1 - 1)
            prefetch(weights, c1 - 1)
        if at + _AHEAD < e:
            prefetch(ptr, docs[at + _AHEAD])


@njit(cache=True)
def _score_list(
    s: int,
    e: int,
    docs: Any,
    post_days: Any,
    max_gap: float,
    cap: int,
    ptr: Any,
    features: Any,
    weights: Any,
    days: Any,
    decay: float,
    threshold: float,
    flags: Any,
    word0: int,
    index: tuple[Any, Any, Any, int],
    acc: Any,
    bits: Any,
    dense: Any,
) -> int:
    """Flag the window pairs of list ``s:e`` reaching ``threshold``; return their count.

    Pair ``j`` of the list (in the order of ``_list_pairs``) is bit ``j`` from word
    ``word0`` of ``flags``. The rows of the current window are held in a small hash
    index (feature -> entries, newest first), so the left row's terms find the window
    rows sharing them directly: the work per posting is its terms plus the products
    that are really there, instead of every term of up to ``cap`` neighbours. Each
    cosine sums the same float32 products in the same ascending feature order as
    ``_score_dense`` and ``cosine_pairs``, so a pair is kept exactly when its
    ``similarity.story_similarity`` reaches ``threshold``. Undated postings that a
    dated posting pairs with after its dated window are scored by the scatter of
    ``_score_dense``.

    ``index`` is ``(entries, entry_weights, heads, base)``: a ring of four int32 per
    entry (feature, weight bits, next entry, position of the next entry), its float32
    view, two int32 per hash bucket (newest entry, its position) and the posting that
    positions count from. Positions only grow within a chunk of lists, so an entry is
    live exactly when its position is past the current posting; the ring holds the
    terms of ``cap + 1`` rows, so a live entry is never overwritten. A chain step
    therefore needs one entry, read in one cache line, and no check of its successor.
    """
    ent, entw, head, base = index
    size = ent.shape[0] >> 2
    mask = np.uint64((head.shape[0] >> 1) - 1)
    nan_start = e
    while nan_start > s and np.isnan(post_days[nan_start - 1]):
        nan_start -= 1
    j = 0
    count = 0
    end = s
    inserted = s  # postings [s, inserted) are in the index
    slot = 0  # next ring entry to write
    for p in range(s, e):
        end = _window_end(p, end, nan_start, e, post_days, max_gap, cap)
        inserted = max(inserted, p + 1)
        here = p - base  # entries at or before this position have left the window
        while inserted < end:
            _prefetch_row(ptr, features, weights, docs, inserted + _AHEAD, e)
            b = docs[inserted]
            pos = inserted - base
            for i in range(ptr[b], ptr[b + 1]):
                f = features[i]
                h = ((np.uint64(f) * np.uint64(0x9E3779B1)) & mask) << np.uint64(1)
                k = slot << 2
                ent[k] = f
                entw[k + 1] = weights[i]
                if head[h + 1] > here:  # link to the bucket's newest entry while live
                    ent[k + 2] = head[h]
                    ent[k + 3] = head[h + 1]
                else:
                    ent[k + 2] = -1
                    ent[k + 3] = -1
                head[h] = slot
                head[h + 1] = pos
                slot += 1
                if slot == size:
                    slot = 0
            inserted += 1
        width = end - p - 1
        if width > 0:
            for q in range(width):
                acc[q] = 0.0
            a = docs[p]
            for i in range(ptr[a], ptr[a + 1]):
                f = features[i]
                h = ((np.uint64(f) * np.uint64(0x9E3779B1)) & mask) << np.uint64(1)
                pos = head[h + 1]
                if pos <= here:
                    continue
                at = head[h]
                wa = weights[i]
                fi = np.int32(f)
                while True:  # entries newest first, until one has left the window
                    k = at << 2
                    if ent[k] == fi:
                        acc[pos - here - 1] += wa * entw[k + 1]
                    pos = ent[k + 3]
                    if pos <= here:
                        break
                    at = ent[k + 2]
            for q in range(width):
                c = acc[q]
                if not (c >= 0.0 and c < threshold):  # the decay only lowers a score
                    b = docs[p + 1 + q]
                    if _final_score(c, days, decay, a, b) >= threshold:
                        flags[word0 + (j >> 6)] |= np.uint64(1) << np.uint64(j & 63)
                        count += 1
                j += 1
        if p < nan_start and width < cap and nan_start < e:
            extra = min(cap - width, e - nan_start)
            a = docs[p]
            _set_row(ptr, features, weights, bits, dense, a, True)
            for q in range(nan_start, nan_start + extra):
                if (
                    _score_dense(ptr, features, weights, bits, dense, days, decay, a, docs[q])
                    >= threshold
                ):
                    flags[word0 + (j >> 6)] |= np.uint64(1) << np.uint64(j & 63)
                    count += 1
                j += 1
            _set_row(ptr, features, weights, bits, dense, a, False)
    return count


@njit(cache=True)
def _list_size(s: int, e: int, post_days: Any, max_gap: float, cap: int) -> int:
    """Count the window pairs of list ``s:e`` (those ``_list_pairs`` enumerates)."""
    nan_start = e
    while nan_start > s and np.isnan(post_days[nan_start - 1]):
        nan_start -= 1
    total = 0
    end = s
    for p in range(s, e):
        end = _window_end(p, end, nan_start, e, post_days, max_gap, cap)
        width = end - p - 1
        total += width
        if p < nan_start and width < cap:
            total += min(cap - width, e - nan_start)
    return total


@njit(cache=True)
def _emit_list(
    s: int,
    e: int,
    docs: Any,
    post_days: Any,
    max_gap: float,
    cap: int,
    flags: Any,
    word0: int,
    left: Any,
    right: Any,
    w: int,
) -> None:
    """Write the flagged pairs of list ``s:e`` as ``(min, max)`` from position ``w``.

    Only set bits are visited: a zero flag word (64 pairs below the threshold) is
    skipped at once, and zero bytes within a word eight bits at a time, so the work is
    per posting and per kept pair rather than per enumerated pair (at a million
    articles about one enumerated pair in twelve is kept).
    """
    nan_start = e
    while nan_start > s and np.isnan(post_days[nan_start - 1]):
        nan_start -= 1
    j = 0
    end = s
    for p in range(s, e):
        end = _window_end(p, end, nan_start, e, post_days, max_gap, cap)
        width = end - p - 1
        extra = 0
        if p < nan_start and width < cap:
            extra = min(cap - width, e - nan_start)
        first = j
        stop = j + width + extra
        while j < stop:
            word = flags[word0 + (j >> 6)] >> np.uint64(j & 63)
            if word == 0:  # no flag left in this word
                j = (j | 63) + 1
                continue
            while word & np.uint64(0xFF) == 0:
                word >>= np.uint64(8)
                j += 8
            while word & np.uint64(1) == 0:
                word >>= np.uint64(1)
                j += 1
            if j >= stop:  # the next flag belongs to a later posting
                break
            k = j - first
            q = p + 1 + k if k < width else nan_start + k - width
            left[w] = min(docs[p], docs[q])
            right[w] = max(docs[p], docs[q])
            w += 1
            j += 1
        j = stop


@njit(parallel=True, cache=True)
def strong_window_pairs(
    post_ptr: I64,
    docs: I64,
    post_days: F64,
    max_gap: float,
    cap: int,
    ptr: I64,
    features: npt.NDArray[np.uint32],
    weights: npt.NDArray[np.float32],
    days: F64,
    decay: float,
    threshold: float,
    n_features: int,
    ring_limit: int,
) -> tuple[I64, I64]:
    """Return the window pairs whose story similarity reaches ``threshold``.

    Scores each pair as it is enumerated instead of listing all pairs first; the
    output may repeat a pair (one per shared posting list) and is ``(min, max)``.
    ``decay <= 0`` switches the date decay off. Lists are scored through a hash index
    of their window rows (``_score_list``) when that index holds at most
    ``ring_limit`` terms (``RING_LIMIT``), else pair by pair.
    """
    n_lists = post_ptr.shape[0] - 1
    raw = np.zeros(n_lists + 1, dtype=np.int64)
    longest = 1
    for t in range(n_lists):
        longest = max(longest, post_ptr[t + 1] - post_ptr[t])
    for t in prange(n_lists):
        raw[t + 1] = _list_size(post_ptr[t], post_ptr[t + 1], post_days, max_gap, cap)
    # One flag bit per enumerated pair: the pairs are scored once, then compacted. Each
    # list owns whole 64-bit words, so threads never update the same word.
    words = np.zeros(n_lists + 1, dtype=np.int64)
    for t in range(n_lists):
        words[t + 1] = words[t] + (raw[t + 1] + 63) // 64
        raw[t + 1] += raw[t]
    flags = np.zeros(words[n_lists], dtype=np.uint64)
    kept = np.zeros(n_lists + 1, dtype=np.int64)
    # The window index holds at most min(cap, longest list) rows of at most
    # `row_max` terms, plus the row being added.
    row_max = 1
    for i in range(ptr.shape[0] - 1):
        row_max = max(row_max, ptr[i + 1] - ptr[i])
    window = min(cap, longest)
    ring_size = (window + 1) * row_max
    indexed = ring_size <= ring_limit
    if not indexed:
        ring_size = 1
    table = 1024
    while table < 2 * ring_size:
        table *= 2
    # Chunks of about equal numbers of pairs (a few long lists hold many of them).
    n_chunks = min(n_lists, 64)
    bounds = np.zeros(n_chunks + 1, dtype=np.int64)
    t = 0
    for c in range(1, n_chunks):
        goal = raw[n_lists] * c // n_chunks
        while t < n_lists and raw[t] < goal:
            t += 1
        bounds[c] = t
    bounds[n_chunks] = n_lists
    for c in prange(n_chunks):
        # Per-chunk scratch: the window index, the window's cosines, and (for the
        # scatter) the left row in a dense array with a bitmap of its features.
        ent = np.empty(4 * ring_size, dtype=np.int32)
        head = np.full(2 * table, -1, dtype=np.int32)
        base = post_ptr[bounds[c]]
        # Positions are int32 counts from the chunk's first posting.
        fits = post_ptr[bounds[c + 1]] - base < _POSITIONS
        index = (ent, ent.view(np.float32), head, base)
        acc = np.empty(max(window, 1), dtype=np.float64)
        bits = np.zeros((n_features >> 6) + 1, dtype=np.uint64)
        dense = np.empty(n_features, dtype=np.float32)
        for t in range(bounds[c], bounds[c + 1]):
            if raw[t + 1] == raw[t]:
                continue
            if indexed and fits:
                kept[t + 1] = _score_list(
                    post_ptr[t],
                    post_ptr[t + 1],
                    docs,
                    post_days,
                    max_gap,
                    cap,
                    ptr,
                    features,
                    weights,
                    days,
                    decay,
                    threshold,
                    flags,
                    words[t],
                    index,
                    acc,
                    bits,
                    dense,
                )
                continue
            m = raw[t + 1] - raw[t]
            la = np.empty(m, dtype=np.int64)
            lb = np.empty(m, dtype=np.int64)
            _list_pairs(post_ptr[t], post_ptr[t + 1], docs, post_days, max_gap, cap, la, lb, 0)
            count = 0
            current = -1
            for j in range(m):
                if la[j] != current:
                    if current >= 0:
                        _set_row(ptr, features, weights, bits, dense, current, False)
                    current = la[j]
                    _set_row(ptr, features, weights, bits, dense, current, True)
                if (
                    _score_dense(ptr, features, weights, bits, dense, days, decay, current, lb[j])
                    >= threshold
                ):
                    flags[words[t] + (j >> 6)] |= np.uint64(1) << np.uint64(j & 63)
                    count += 1
            if current >= 0:
                _set_row(ptr, features, weights, bits, dense, current, False)
            kept[t + 1] = count
    for t in range(n_lists):
        kept[t + 1] += kept[t]
    left = np.empty(kept[n_lists], dtype=np.int64)
    right = np.empty(kept[n_lists], dtype=np.int64)
    for t in prange(n_lists):
        if kept[t + 1] > kept[t]:
            _emit_list(
                post_ptr[t],
                post_ptr[t + 1],
                docs,
                post_days,
                max_gap,
                cap,
                flags,
                words[t],
                left,
                right,
                kept[t],
            )
    return left, right


@njit(cache=True)
def _order_list(order: I64, s: int, e: int, doc: I64, day: F64) -> None:
    """Sort ``order[s:e]`` by (day, doc), undated (NaN) last, stably."""
    idx = order[s:e].copy()
    order[s:e] = idx[np.argsort(doc[idx], kind="mergesort")]
    _order_by_day(order, s, e, day)


@njit(cache=True)
def _order_by_day(order: I64, s: int, e: int, day: F64) -> None:
    """Sort ``order[s:e]`` stably by ``day[order[i]]``, undated (NaN) last."""
    idx = order[s:e].copy()
    at = s
    for i in idx:
        if not np.isnan(day[i]):
            order[at] = i
            at += 1
    dated = at - s
    for i in idx:
        if np.isnan(day[i]):
            order[at] = i
            at += 1
    if dated > 1:
        part = order[s : s + dated].copy()
        order[s : s + dated] = part[np.argsort(day[part], kind="mergesort")]


@njit(parallel=True, cache=True)
def posting_order(term: I64, doc: I64, day: F64) -> tuple[I64, I64]:
    """Group postings by term, each group ordered by (day, doc) with unknown days last.

    The order of ``np.lexsort((doc, day, term))`` without its whole-array sorts: a
    counting sort by term (terms are small non-negative ids), then a sort of each list.

    Returns
    -------
    ptr : int64 array
        Group pointer, terms ascending.
    order : int64 array
        Posting positions in group order.
    """
    m = term.shape[0]
    top = 0
    for i in range(m):
        top = max(top, term[i])
    start = np.zeros(top + 2, dtype=np.int64)
    for i in range(m):
        start[term[i] + 1] += 1
    n_lists = 0
    for t in range(top + 1):
        if start[t + 1] > 0:
            n_lists += 1
        start[t + 1] += start[t]
    ptr = np.empty(n_lists + 1, dtype=np.int64)
    at = 0
    for t in range(top + 1):
        if start[t + 1] > start[t]:
            ptr[at] = start[t]
            at += 1
    ptr[n_lists] = m
    order = np.empty(m, dtype=np.int64)
    for i in range(m):
        order[start[term[i]]] = i
        start[term[i]] += 1
    for t in prange(n_lists):
        if ptr[t + 1] - ptr[t] > 1:
            _order_list(order, ptr[t], ptr[t + 1], doc, day)
    return ptr, order


@njit(cache=True)
def _visit_top_terms(
    top: I64,
    row_ptr: I64,
    features: Any,
    k: int,
    eligible: Any,
    place: I64,
    rows: I64,
    count: bool,
) -> None:
    """Visit each eligible row's top terms in row order: count them, or place the row.

    Counting adds one to ``place[term]``; placing writes the row at ``place[term]`` and
    moves it on (terms whose ``place`` is -1 have no list).
    """
    n_terms = place.shape[0]
    at = 0
    for r in range(row_ptr.shape[0] - 1):
        m = min(row_ptr[r + 1] - row_ptr[r], k)
        if eligible[r]:
            for j in range(at, at + m):
                t = features[top[j]]
                if t >= n_terms:
                    raise ValueError("top_posting_lists: a term id is not below n_terms")
                if count:
                    place[t] += 1
                elif place[t] >= 0:
                    rows[place[t]] = r
                    place[t] += 1
        at += m


@njit(parallel=True, cache=True)
def top_posting_lists(
    top: I64,
    row_ptr: I64,
    features: Any,
    k: int,
    eligible: Any,
    days: F64,
    max_postings: int,
    n_terms: int,
) -> tuple[I64, I64, F64]:
    """Build the posting lists of the top terms carried by 2 to ``max_postings`` rows.

    ``top`` holds the positions of each row's ``min(length, k)`` top terms, rows in
    order (``top_k_positions``). The result is what ``posting_order`` gives on the
    (term, row) postings of the eligible rows' useful terms: lists by term ascending,
    each ordered by (day, row) with undated rows last, but built by counting the terms
    and placing the rows straight into their lists, without a per-posting term, row
    and order array (four arrays of tens of millions of entries at a million articles).

    Returns
    -------
    ptr : int64 array
        List pointer (an empty ``ptr`` of one entry when no term is useful).
    rows, day : arrays
        Row and day of each posting in list order.
    """
    place = np.zeros(n_terms, dtype=np.int64)
    _visit_top_terms(top, row_ptr, features, k, eligible, place, place[:0], True)
    n_lists = 0
    total = 0
    for t in range(n_terms):
        c = place[t]
        if c >= 2 and c <= max_postings:
            n_lists += 1
            total += c
    ptr = np.empty(n_lists + 1, dtype=np.int64)
    # place[t]: the next write position of term t's list, -1 for a term without a list
    li = 0
    total = 0
    for t in range(n_terms):
        c = place[t]
        if c >= 2 and c <= max_postings:
            ptr[li] = total
            place[t] = total
            total += c
            li += 1
        else:
            place[t] = -1
    ptr[n_lists] = total
    rows = np.empty(total, dtype=np.int64)
    _visit_top_terms(top, row_ptr, features, k, eligible, place, rows, False)
    for li in prange(n_lists):
        if ptr[li + 1] - ptr[li] > 1:
            _order_by_day(rows, ptr[li], ptr[li + 1], days)  # rows ascending already
    day = np.empty(total, dtype=np.float64)
    for i in prange(total):
        day[i] = days[rows[i]]
    return ptr, rows, day


# Rows per bucket of the first pass of ``_group_by_left`` are chosen so that there are
# at most this many buckets: the write positions of all buckets stay in cache.
_BUCKETS = 1024


@njit(parallel=True, cache=True)
def _group_by_left(left: I64, right: I64, n: int) -> tuple[I64, I64]:
    """Group the ``right`` values by ``left`` row: a stable counting sort by left row.

    Returns ``start`` (row pointer, ``n + 1``) and the grouped ``right`` values. A
    single scatter over a million rows misses the cache at almost every write, so
    the pairs are first moved into buckets of consecutive rows (at most ``_BUCKETS``,
    each block of pairs with its own counts, on the threads), then each bucket is
    grouped by row in a scratch that stays in cache. Both passes keep the order of
    the pairs within a row.
    """
    if n >= 1 << 31:
        raise ValueError("distinct_pairs: row numbers must be below 2**31")
    m = left.shape[0]
    start = np.zeros(n + 1, dtype=np.int64)
    grouped = np.empty(m, dtype=np.int64)
    if m == 0:
        return start, grouped
    shift = 0
    while (n - 1) >> shift >= _BUCKETS:
        shift += 1
    n_buckets = ((n - 1) >> shift) + 1
    n_blocks = max(1, min(64, m >> 16))
    # counts[b * n_buckets + k]: pairs of bucket k in block b, then their write positions.
    counts = np.zeros(n_blocks * n_buckets, dtype=np.int64)
    for b in prange(n_blocks):
        for i in range(m * b // n_blocks, m * (b + 1) // n_blocks):
            counts[b * n_buckets + (left[i] >> shift)] += 1
    bucket = np.zeros(n_buckets + 1, dtype=np.int64)
    total = 0
    for k in range(n_buckets):
        for b in range(n_blocks):
            c = counts[b * n_buckets + k]
            counts[b * n_buckets + k] = total
            total += c
        bucket[k + 1] = total
    # Pair codes: left row in the high half, right in the low half (rows < 2**31).
    for b in prange(n_blocks):
        for i in range(m * b // n_blocks, m * (b + 1) // n_blocks):
            at = b * n_buckets + (left[i] >> shift)
            grouped[counts[at]] = (left[i] << 32) | right[i]
            counts[at] += 1
    low = np.int64(0xFFFFFFFF)
    for k in prange(n_buckets):
        b0, b1 = bucket[k], bucket[k + 1]
        r0, r1 = k << shift, min(n, (k + 1) << shift)
        for i in range(b0, b1):  # rows of other buckets are other entries of start
            start[(grouped[i] >> 32) + 1] += 1
        fill = np.empty(r1 - r0, dtype=np.int64)
        at = 0
        for r in range(r0, r1):
            fill[r - r0] = at
            at += start[r + 1]
        scratch = np.empty(b1 - b0, dtype=np.int64)
        for i in range(b0, b1):
            r = (grouped[i] >> 32) - r0
            scratch[fill[r]] = grouped[i] & low
            fill[r] += 1
        grouped[b0:b1] = scratch
    for r in range(n):
        start[r + 1] += start[r]
    return start, grouped


@njit(parallel=True, cache=True)
def distinct_pairs(left: I64, right: I64, n: int) -> tuple[I64, I64]:
    """Distinct ``(left, right)`` pairs sorted by left, then right, for rows below ``n``.

    What sorting ``left * n + right`` and dropping repeats gives, in linear passes: a
    counting sort by left row (``_group_by_left``; rows below ``2**31``), then the
    repeats of each row's (short) list of partners are dropped and the rest sorted.
    """
    start, partner = _group_by_left(left, right, n)
    kept = np.zeros(n + 1, dtype=np.int64)
    # Repeats are dropped before sorting, with a bitmap of the partners seen (a row's
    # list holds each partner several times, once per shared term): each block of rows
    # keeps the first of each partner at the front of the row's list and sorts only those.
    n_blocks = min(n, 64)
    for c in prange(n_blocks):
        seen = np.zeros((n >> 6) + 1, dtype=np.uint64)
        for r in range(n * c // n_blocks, n * (c + 1) // n_blocks):
            s, e = start[r], start[r + 1]
            d = s
            for i in range(s, e):
                v = partner[i]
                bit = np.uint64(1) << np.uint64(v & 63)
                if not seen[v >> 6] & bit:
                    seen[v >> 6] |= bit
                    partner[d] = v
                    d += 1
            for i in range(s, d):
                seen[partner[i] >> 6] = 0
            partner[s:d].sort()
            kept[r + 1] = d - s
    for r in range(n):
        kept[r + 1] += kept[r]
    out_left = np.empty(kept[n], dtype=np.int64)
    out_right = np.empty(kept[n], dtype=np.int64)
    for r in prange(n):
        s, at = start[r], kept[r]
        for i in range(kept[r + 1] - at):
            out_left[at + i] = r
            out_right[at + i] = partner[s + i]
    return out_left, out_right
