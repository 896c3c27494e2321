"""Stage pieces shared by the near-duplicate and story stages of the Dask engine.

Reading and featurising a partition, the id-rank sample sort, routing pairs to the
partition that owns their left row, the row stores that carry other partitions' rows,
and building the result rows. Rows are addressed by their *global* number: partition
offset plus position. The public names are re-exported by
:mod:`clusterer.engines.stages`. Nothing here imports Dask.
"""

from __future__ import annotations

import bisect
import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .._arrays import unique_pairs
from ..config import ClusterConfig
from ..headline import headline
from ..models import Assignment, Reject
from ..pipeline import _Meta
from ..readers.options import ReadReport
from ..signatures import Features, TextBuffer, featurize
from .partitions import Kind, Partition, ReadOptions, read_partition, write_partition

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]
Pairs = tuple[I64, I64]

_EMPTY_I = np.zeros(0, np.int64)


def array_bytes(obj: object) -> int:
    """Bytes of the NumPy arrays among the attributes of ``obj`` (a dataclass instance)."""
    return sum(v.nbytes for v in vars(obj).values() if isinstance(v, np.ndarray))


def _meta_bytes(meta: _Meta) -> int:
    strings = (meta.ids, meta.titles, meta.sources, meta.urls, meta.origins)
    return sum(sys.getsizeof(s) for column in strings for s in column) + 56 * len(meta.dates)


@dataclass
class Part:
    """One featurised partition (texts are gone; ids, titles and dates stay).

    ``sys.getsizeof`` (which Dask's memory accounting calls) counts its arrays and
    strings, so workers spill and report it at its real size.
    """

    features: Features
    meta: _Meta
    rejects: list[Reject] = field(default_factory=list)
    read: int = 0

    def __len__(self) -> int:
        return len(self.meta.ids)

    def __sizeof__(self) -> int:
        return array_bytes(self.features) + _meta_bytes(self.meta) + 64


_RELEASABLE = {
    "shingles": ("shingles",),
    "signatures": ("signatures",),
    "terms": ("term_features", "term_body", "term_title"),
}


def release(part: Part, *what: str) -> Part:
    """Return the partition without the named feature arrays, once no stage reads them.

    Parameters
    ----------
    part : Part
        Featurised partition (not changed: the result shares its other arrays).
    *what : {"shingles", "signatures", "terms"}
        Arrays to drop.
    """
    f = part.features
    empty: dict[str, Any] = {}
    for name in what:
        for attr in _RELEASABLE[name]:
            value = getattr(f, attr)
            empty[attr] = np.zeros((0, *value.shape[1:]), value.dtype)
    return dataclasses.replace(part, features=dataclasses.replace(f, **empty))


# ---------------------------------------------------------------- read and featurise


def load(part: Partition, options: ReadOptions, config: ClusterConfig, terms: bool = True) -> Part:
    """Read and featurise a partition in batches of ``config.batch_size``.

    ``terms=False`` skips the term counts (no story stage follows).
    """
    report = ReadReport()
    meta = _Meta()
    batches: list[Features] = []
    titles: list[str] = []
    texts: list[str] = []
    buffer = TextBuffer()
    for article in read_partition(part, options, report):
        meta.add(article)
        titles.append(headline(article))
        texts.append(article.text)
        if len(texts) >= config.batch_size:
            batches.append(featurize(titles, texts, config, terms=terms, buffer=buffer))
            titles, texts = [], []
    if texts or not batches:
        batches.append(featurize(titles, texts, config, terms=terms, buffer=buffer))
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

    def __sizeof__(self) -> int:
        arrays = (self.rows, self.ptr, *self.values, *self.per_row)
        return sum(a.nbytes for a in arrays) + 64


def _take_csr(ptr: I64, local: I64) -> tuple[I64, I64]:
    counts = ptr[local + 1] - ptr[local]
    out_ptr = np.zeros(local.size + 1, np.int64)
    np.cumsum(counts, out=out_ptr[1:])
    take = np.repeat(ptr[local] - out_ptr[:-1], counts) + np.arange(out_ptr[-1])
    return out_ptr, take


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
