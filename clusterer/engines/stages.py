"""Per-partition pieces of the batch pipeline, as plain functions over NumPy arrays.

Each function takes one partition's data (or one shuffle bucket) and returns arrays; the
Dask engine maps them over partitions and moves only their (small) outputs. They call
the same stage functions as :mod:`clusterer.pipeline` (``featurize``, ``band_keys``,
``candidate_pairs``, ``exact_jaccard``, ``tfidf_rows``, ``top_per_row``, the
``window_pairs`` kernel, ``story_similarity``, ``link_stories``), so the distributed
result is the local one exactly. Rows are addressed by their *global* number: partition
offset plus position, i.e. the row the local engine gives the article.

Nothing here imports Dask.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .. import _kernels as kernels
from .._arrays import unique_pairs
from ..config import ClusterConfig
from ..errors import DuplicateIdError
from ..grouping import link_stories
from ..lsh import Banding, band_keys, candidate_pairs
from ..models import Assignment, Reject
from ..pipeline import _days, _Meta, banding_for
from ..readers.options import ReadReport
from ..signatures import Features, featurize
from ..similarity import (
    TfidfRows,
    document_frequencies,
    estimated_jaccard,
    exact_jaccard,
    max_story_gap,
    story_similarity,
    tfidf_rows,
    top_per_row,
)
from .partitions import Kind, Partition, ReadOptions, read_partition, write_partition

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]
Pairs = tuple[I64, I64]

_EMPTY_I = np.zeros(0, np.int64)


@dataclass
class Part:
    """One featurised partition (texts are gone; ids, titles and dates stay)."""

    features: Features
    meta: _Meta
    rejects: list[Reject] = field(default_factory=list)
    read: int = 0

    def __len__(self) -> int:
        return len(self.meta.ids)


@dataclass
class StoryPart:
    """TF-IDF rows and days of one partition."""

    rows: TfidfRows
    days: F64
    eligible: npt.NDArray[np.bool_]


# ---------------------------------------------------------------- read and featurise


def load(part: Partition, options: ReadOptions, config: ClusterConfig) -> Part:
    """Read and featurise a partition in batches of ``config.batch_size``."""
    report = ReadReport()
    meta = _Meta()
    batches: list[Features] = []
    titles: list[str] = []
    texts: list[str] = []
    for article in read_partition(part, options, report):
        meta.add(article)
        titles.append(article.title)
        texts.append(article.text)
        if len(texts) >= config.batch_size:
            batches.append(featurize(titles, texts, config))
            titles, texts = [], []
    if texts or not batches:
        batches.append(featurize(titles, texts, config))
    return Part(Features.concat(batches, config.num_perm), meta, list(report.rejects), report.read)


def size(part: Part) -> int:
    """Articles in a partition."""
    return len(part)


# ---------------------------------------------------------------- id ranks (sample sort)


def id_sample(part: Part, k: int) -> list[str]:
    """Up to ``k`` evenly spaced ids of the partition, sorted."""
    ids = sorted(part.meta.ids)
    if len(ids) <= k:
        return ids
    return [ids[int(i)] for i in np.linspace(0, len(ids) - 1, k)]


def id_split(
    part: Part, offset: int, splitters: Sequence[str]
) -> list[tuple[list[str], I64, list[str]]]:
    """Route (id, global row, origin) to sort buckets by the splitters."""
    buckets = [bisect.bisect_right(splitters, i) for i in part.meta.ids]
    where = np.asarray(buckets, np.int64)
    out = []
    for b in range(len(splitters) + 1):
        rows = np.flatnonzero(where == b)
        out.append(
            (
                [part.meta.ids[i] for i in rows],
                rows + offset,
                [part.meta.origins[i] for i in rows],
            )
        )
    return out


def id_sort(*pieces: tuple[list[str], I64, list[str]]) -> I64:
    """Global rows of one sort bucket in id order; raise on a repeated id."""
    ids = [i for p in pieces for i in p[0]]
    rows = np.concatenate([p[1] for p in pieces]) if pieces else _EMPTY_I
    order = np.argsort(np.array(ids, dtype=object), kind="stable")
    for a, b in itertools.pairwise(order):
        if ids[a] == ids[b]:
            origins = [o for p in pieces for o in p[2]]
            first, second = sorted((int(a), int(b)), key=lambda x: int(rows[x]))
            raise DuplicateIdError(
                origins[second] or ids[second],
                f"duplicate id {ids[first]!r} (first seen at {origins[first]}); ids must be unique",
            )
    return np.asarray(rows[order], np.int64)


# ---------------------------------------------------------------- near-duplicates


def _bucket_of(keys: U64, buckets: int) -> I64:
    return np.asarray(keys % np.uint64(buckets), np.int64)


def whole_keys(
    part: Part, offset: int, config: ClusterConfig, buckets: int
) -> list[tuple[U64, I64]]:
    """Whole-signature keys of eligible rows, routed to buckets by key."""
    f = part.features
    rows = np.flatnonzero(f.n_tokens > 0)
    keys = band_keys(f.signatures[rows], Banding(1, config.num_perm))[:, 0]
    where = _bucket_of(keys, buckets)
    return [(keys[where == b], rows[where == b] + offset) for b in range(buckets)]


def collapse(*pieces: tuple[U64, I64]) -> tuple[I64, I64, U64]:
    """Identical signatures: pairs (first row, copy row) in (key, row) order, as locally."""
    keys = np.concatenate([p[0] for p in pieces]) if pieces else np.zeros(0, np.uint64)
    rows = np.concatenate([p[1] for p in pieces]) if pieces else _EMPTY_I
    order = np.lexsort((rows, keys))
    keys, rows = keys[order], rows[order]
    if rows.size == 0:
        return _EMPTY_I, _EMPTY_I, np.zeros(0, np.uint64)
    first = np.concatenate(([True], keys[1:] != keys[:-1]))
    rep = rows[np.flatnonzero(first)][np.cumsum(first) - 1]
    return rep[~first], rows[~first], keys[~first]


def band_split(
    part: Part, offset: int, config: ClusterConfig, copies: I64, buckets: int
) -> list[tuple[I64, U64, I64]]:
    """Band keys of the partition's representative rows, routed to buckets by key."""
    f = part.features
    rep = f.n_tokens > 0
    mine = copies[(copies >= offset) & (copies < offset + len(part))] - offset
    rep[mine] = False
    rows = np.flatnonzero(rep)
    keys = band_keys(f.signatures[rows], banding_for(config))
    nb = keys.shape[1]
    band = np.tile(np.arange(nb, dtype=np.int64), rows.size)
    flat = keys.ravel()
    row = np.repeat(rows + offset, nb)
    where = _bucket_of(flat, buckets)
    return [(band[where == b], flat[where == b], row[where == b]) for b in range(buckets)]


def band_pairs(offsets: I64, *pieces: tuple[I64, U64, I64]) -> list[Pairs | int]:
    """Candidate pairs of one key bucket (``candidate_pairs`` per band), routed by left owner."""
    band = np.concatenate([p[0] for p in pieces])
    keys = np.concatenate([p[1] for p in pieces])
    rows = np.concatenate([p[2] for p in pieces])
    lefts, rights = [], []
    truncated = 0
    order = np.lexsort((rows, band))
    band, keys, rows = band[order], keys[order], rows[order]
    cuts = np.flatnonzero(np.diff(band)) + 1
    for s, e in zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [band.size])), strict=True):
        if e - s < 2:
            continue
        m = int(e - s)
        left, right, t = candidate_pairs(keys[s:e, None], np.ones(m, bool))
        truncated += t
        lefts.append(rows[s:e][left])
        rights.append(rows[s:e][right])
    left = np.concatenate(lefts) if lefts else _EMPTY_I
    right = np.concatenate(rights) if rights else _EMPTY_I
    n = int(offsets[-1])
    left, right = unique_pairs(left, right, max(n, 1))
    return [*route(left, right, offsets), truncated]


def route(left: I64, right: I64, offsets: I64) -> list[Pairs]:
    """Split pairs by the partition owning the left row."""
    owner = np.searchsorted(offsets, left, side="right") - 1
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(offsets.size))
    return [
        (left[order[bounds[p] : bounds[p + 1]]], right[order[bounds[p] : bounds[p + 1]]])
        for p in range(offsets.size - 1)
    ]


def gather_pairs(n: int, *pieces: Pairs) -> Pairs:
    """Union of pair pieces, distinct and sorted."""
    left = np.concatenate([p[0] for p in pieces]) if pieces else _EMPTY_I
    right = np.concatenate([p[1] for p in pieces]) if pieces else _EMPTY_I
    return unique_pairs(left, right, max(n, 1))


def requests(pairs: Pairs, offsets: I64, p: int) -> list[I64]:
    """Rows of other partitions that partition ``p`` needs to score its pairs."""
    other = np.unique(pairs[1][(pairs[1] < offsets[p]) | (pairs[1] >= offsets[p + 1])])
    owner = np.searchsorted(offsets, other, side="right") - 1
    return [other[owner == q] for q in range(offsets.size - 1)]


# A row store: global rows (sorted), CSR pointer, then per-entry and per-row arrays.
@dataclass
class Rows:
    """Some rows of some partitions, enough to score pairs involving them."""

    rows: I64
    ptr: I64
    values: tuple[npt.NDArray[np.generic], ...]
    per_row: tuple[npt.NDArray[np.generic], ...]


def _take_csr(ptr: I64, local: I64) -> tuple[I64, I64]:
    counts = ptr[local + 1] - ptr[local]
    out_ptr = np.zeros(local.size + 1, np.int64)
    np.cumsum(counts, out=out_ptr[1:])
    take = np.repeat(ptr[local] - out_ptr[:-1], counts) + np.arange(out_ptr[-1])
    return out_ptr, take


def dup_extract(part: Part, offset: int, config: ClusterConfig, *asks: I64) -> list[Rows]:
    """Shingles (exact) or signatures (estimate) of the rows each partition asked for."""
    f = part.features
    out = []
    for rows in asks:
        local = rows - offset
        if config.verify == "exact":
            ptr, take = _take_csr(f.shingle_ptr, local)
            out.append(Rows(rows, ptr, (f.shingles[take],), ()))
        else:
            out.append(Rows(rows, np.zeros(rows.size + 1, np.int64), (), (f.signatures[local],)))
    return out


def _combined_index(n_own: int, offset: int, extra: I64, rows: I64) -> I64:
    own = (rows >= offset) & (rows < offset + n_own)
    return np.where(own, rows - offset, n_own + np.searchsorted(extra, rows))


def _concat_ptr(ptrs: Sequence[I64]) -> I64:
    out = [np.zeros(1, np.int64)]
    base = 0
    for p in ptrs:
        out.append(p[1:] + base)
        base += int(p[-1])
    return np.concatenate(out)


def dup_verify(
    part: Part, offset: int, config: ClusterConfig, pairs: Pairs, *extracts: Rows
) -> tuple[I64, I64, F64]:
    """Verify the pairs (left rows owned by this partition); keep near-duplicates."""
    left, right = pairs
    if left.size == 0:
        return _EMPTY_I, _EMPTY_I, np.zeros(0)
    f = part.features
    extra = np.concatenate([e.rows for e in extracts]) if extracts else _EMPTY_I
    order = np.argsort(extra, kind="stable")
    extra = extra[order]
    a = _combined_index(len(part), offset, extra, left)
    b = _combined_index(len(part), offset, extra, right)
    if config.verify == "exact":
        ptrs = [f.shingle_ptr] + [e.ptr for e in extracts]
        values = [f.shingles] + [e.values[0] for e in extracts]
        ptr = _concat_ptr(ptrs)
        # extras were concatenated in extract order; reorder rows to sorted-row order
        n_own = len(part)
        perm = np.concatenate((np.arange(n_own), n_own + order))
        ptr, take = _take_csr(ptr, perm)
        sh = np.concatenate(values)[take]
        combined = Features(
            np.zeros((0, 0), np.uint32),
            _EMPTY_I,
            ptr,
            sh,
            _EMPTY_I,
            np.zeros(0, np.uint32),
            np.zeros(0, np.uint16),
            np.zeros(0, np.uint16),
        )
        sim = exact_jaccard(combined, a, b)
    else:
        sigs = np.concatenate([f.signatures] + [e.per_row[0] for e in extracts])
        n_own = len(part)
        sigs = sigs[np.concatenate((np.arange(n_own), n_own + order))]
        sim = estimated_jaccard(sigs, a, b)
    keep = sim >= config.duplicate_threshold
    return left[keep], right[keep], sim[keep]


# ---------------------------------------------------------------- stories


def doc_freq(part: Part, config: ClusterConfig) -> I64:
    """Document frequencies of the partition's terms."""
    return document_frequencies(part.features, config.n_features)


def add(*arrays: I64) -> I64:
    """Element-wise sum (the reduction of per-partition counts)."""
    out: I64 = np.array(arrays[0], np.int64)
    for a in arrays[1:]:
        out += a
    return out


def story_part(part: Part, config: ClusterConfig, df: I64, n_docs: int) -> StoryPart:
    """TF-IDF rows with global document frequencies, days and eligibility."""
    rows = tfidf_rows(part.features, config, df=df, n_docs=n_docs)
    return StoryPart(rows, _days(part.meta.dates), part.features.n_tokens > 0)


def _top_terms(sp: StoryPart, config: ClusterConfig) -> tuple[I64, I64]:
    """(term, local row) of each eligible article's ``candidate_terms`` top terms."""
    n = sp.rows.ptr.size - 1
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(sp.rows.ptr))
    keep = top_per_row(sp.rows.ptr, sp.rows.weights, config.candidate_terms)
    keep = keep[sp.eligible[row[keep]]]
    return sp.rows.features[keep].astype(np.int64), row[keep]


def useful_terms(counts: I64, config: ClusterConfig) -> npt.NDArray[np.bool_]:
    """Terms whose global top-term postings are between 2 and ``max_postings``."""
    return (counts >= 2) & (counts <= config.max_postings)


def posting_counts(sp: StoryPart, config: ClusterConfig) -> I64:
    """Top-term postings per term in the partition."""
    term, _ = _top_terms(sp, config)
    return np.bincount(term, minlength=config.n_features).astype(np.int64)


def postings_split(
    sp: StoryPart, offset: int, config: ClusterConfig, useful: npt.NDArray[np.bool_], buckets: int
) -> list[tuple[I64, I64, F64]]:
    """Route useful postings (term, global row, day) to buckets by term."""
    term, doc = _top_terms(sp, config)
    ok = useful[term]
    term, doc = term[ok], doc[ok]
    day = sp.days[doc]
    where = term % buckets
    return [(term[where == b], doc[where == b] + offset, day[where == b]) for b in range(buckets)]


def term_pairs(offsets: I64, config: ClusterConfig, *pieces: tuple[I64, I64, F64]) -> list[Pairs]:
    """Story candidates of one term bucket (date-windowed posting lists), routed by owner."""
    term = np.concatenate([p[0] for p in pieces])
    doc = np.concatenate([p[1] for p in pieces])
    day = np.concatenate([p[2] for p in pieces])
    n = int(offsets[-1])
    if term.size == 0:
        return route(_EMPTY_I, _EMPTY_I, offsets)
    by = np.lexsort((doc, day, term))
    term, doc, day = term[by], doc[by], day[by]
    bounds = np.flatnonzero(np.diff(term)) + 1
    ptr = np.concatenate(([0], bounds, [term.size])).astype(np.int64)
    gap = max_story_gap(config)
    left, right = kernels.window_pairs(
        ptr, doc, day, gap if math.isfinite(gap) else 1e18, config.term_neighbours
    )
    left, right = unique_pairs(left, right, max(n, 1))
    return route(left, right, offsets)


def tfidf_extract(sp: StoryPart, offset: int, *asks: I64) -> list[Rows]:
    """TF-IDF rows and days of the rows each asker needs."""
    out = []
    for rows in asks:
        local = rows - offset
        ptr, take = _take_csr(sp.rows.ptr, local)
        out.append(
            Rows(rows, ptr, (sp.rows.features[take], sp.rows.weights[take]), (sp.days[local],))
        )
    return out


def _merge_rows(pieces: Sequence[Rows]) -> tuple[I64, TfidfRows, F64]:
    """Rows from several extracts as one TfidfRows indexed by position in sorted rows."""
    rows = np.concatenate([p.rows for p in pieces]) if pieces else _EMPTY_I
    order = np.argsort(rows, kind="stable")
    ptr = _concat_ptr([p.ptr for p in pieces]) if pieces else np.zeros(1, np.int64)
    ptr, take = _take_csr(ptr, order)
    feats = np.concatenate([p.values[0] for p in pieces]) if pieces else np.zeros(0, np.uint32)
    weights = np.concatenate([p.values[1] for p in pieces]) if pieces else np.zeros(0, np.float32)
    days = np.concatenate([p.per_row[0] for p in pieces]) if pieces else np.zeros(0)
    tf = TfidfRows(ptr, feats[take], weights[take], np.zeros(0, np.float32))
    return rows[order], tf, days[order]


def story_verify(
    sp: StoryPart, offset: int, config: ClusterConfig, pairs: Pairs, *extracts: Rows
) -> tuple[I64, I64, F64]:
    """Story similarity of the pairs (left owned here); those at or above the threshold."""
    left, right = pairs
    if left.size == 0:
        return _EMPTY_I, _EMPTY_I, np.zeros(0)
    n_own = sp.days.size
    own = Rows(
        np.arange(n_own, dtype=np.int64) + offset,
        sp.rows.ptr,
        (sp.rows.features, sp.rows.weights),
        (sp.days,),
    )
    rows, tf, days = _merge_rows([own, *extracts])
    a = np.searchsorted(rows, left)
    b = np.searchsorted(rows, right)
    sim = story_similarity(tf, days, a, b, config)
    keep = sim >= config.story_threshold
    return left[keep], right[keep], sim[keep]


def link_bucket(
    config: ClusterConfig,
    members: I64,
    dup_labels: I64,
    edges: tuple[I64, I64, F64],
    *extracts: Rows,
) -> tuple[I64, F64, int]:
    """``link_stories`` over a union of whole components, members given in id-rank order.

    Returns local labels (per member, in the given order), scores and cuts.
    """
    if members.size == 0:
        return _EMPTY_I, np.zeros(0), 0
    rows, tf, days = _merge_rows(list(extracts))
    pos = np.searchsorted(rows, members)  # member i (rank order) -> row in the store
    m = members.size
    sorter = np.argsort(members)
    el = sorter[np.searchsorted(members, edges[0], sorter=sorter)]
    er = sorter[np.searchsorted(members, edges[1], sorter=sorter)]

    def score(a: I64, b: I64) -> F64:
        return story_similarity(tf, days, pos[a], pos[b], config)

    result = link_stories(
        m,
        el,
        er,
        edges[2],
        dup_labels,
        score,
        config.story_threshold,
        config.linkage,
        config.max_block,
    )
    return result.labels, result.scores, result.cuts


# ---------------------------------------------------------------- results


def meta_of(part: Part) -> tuple[_Meta, I64]:
    """Return what the client needs to assemble a result (no texts, no signatures)."""
    return part.meta, part.features.n_tokens


def rejects_of(part: Part) -> tuple[list[Reject], int]:
    """Skipped records and records read."""
    return part.rejects, part.read


def assignments(
    part: Part,
    dup_labels: I64,
    dup_score: F64,
    story_labels: I64,
    story_scores: F64,
) -> list[Assignment]:
    """Build one partition's assignments from its slices of the label arrays."""
    m = part.meta
    empty = part.features.n_tokens == 0
    return [
        Assignment(
            id=m.ids[i],
            title=m.titles[i],
            source=m.sources[i],
            date=m.dates[i],
            url=m.urls[i],
            story_id=int(story_labels[i]),
            duplicate_group_id=int(dup_labels[i]),
            duplicate_score=round(float(dup_score[i]), 6),
            story_score=round(float(story_scores[i]), 6),
            empty=bool(empty[i]),
            origin=m.origins[i],
        )
        for i in range(len(part))
    ]


def write_part(
    part: Part,
    labels: tuple[I64, F64, I64, F64],
    path: str,
    kind: Kind,
) -> int:
    """Write one partition's assignment rows."""
    return write_partition(assignments(part, *labels), path, kind)
