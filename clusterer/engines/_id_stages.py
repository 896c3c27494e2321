"""Ids across partitions: ranks, repeated ids, and the duplicate-id policy.

The id-rank sample sort routes ``(id, global row, origin)`` to buckets of an id range,
so equal ids meet in one bucket without any process holding all ids. A bucket sorts
its ids (:func:`id_order`) and reports the ids that occur more than once. The client
then replays :class:`~clusterer.readers.ids.IdRegistry` over those occurrences only
(:func:`resolve_ids`), in global row order, asking the buckets (:func:`id_lookup`)
about the ``id~2``-style names a rename wants to hand out. The outcome, rows to drop
(policy ``"first"``) or to rename (``"rename"``), is applied to each partition
(:func:`apply_ids`): the local engine's articles, ids and rejects, exactly.

The public names are re-exported by :mod:`clusterer.engines.stages`. Nothing here
imports Dask.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..models import Article, Reject
from ..readers.ids import IdRegistry
from ..readers.options import OnDuplicateId
from ..signatures import Features
from ._common_stages import I64, Part, _take_csr

__all__ = [
    "IdBucket",
    "IdChanges",
    "Occurrences",
    "apply_ids",
    "id_bucket",
    "id_lookup",
    "id_order",
    "merge_rejects",
    "resolve_ids",
]

#: Where an id occurs: global rows (ascending) and their origins.
Occurrences = dict[str, list[tuple[int, str]]]


@dataclass
class IdBucket:
    """The ids of one id range, sorted, with their global rows and origins."""

    ids: list[str]
    rows: I64
    origins: list[str]

    def __sizeof__(self) -> int:
        strings = sum(len(s) + 49 for s in self.ids) + sum(len(s) + 49 for s in self.origins)
        return strings + self.rows.nbytes + 64


def id_bucket(*pieces: tuple[list[str], I64, list[str]]) -> IdBucket:
    """Join the pieces of one id range and sort them by id (then by row)."""
    ids = [i for p in pieces for i in p[0]]
    rows = np.concatenate([p[1] for p in pieces]) if pieces else np.zeros(0, np.int64)
    origins = [o for p in pieces for o in p[2]]
    # Pieces come in partition order with ascending rows: a stable sort keeps rows
    # ascending among equal ids.
    order = np.argsort(np.array(ids, dtype=object), kind="stable").tolist()
    return IdBucket([ids[k] for k in order], rows[order], [origins[k] for k in order])


def id_order(bucket: IdBucket) -> tuple[I64, Occurrences]:
    """Global rows of the bucket in id order, and the ids that occur more than once."""
    repeated: Occurrences = {}
    ids = bucket.ids
    for k in range(1, len(ids)):
        if ids[k] == ids[k - 1]:
            seen = repeated.setdefault(ids[k], [(int(bucket.rows[k - 1]), bucket.origins[k - 1])])
            seen.append((int(bucket.rows[k]), bucket.origins[k]))
    return np.asarray(bucket.rows, np.int64), repeated


def id_lookup(bucket: IdBucket, names: Sequence[str]) -> Occurrences:
    """Occurrences of ``names`` in this bucket (an empty list for an absent name)."""
    out: Occurrences = {}
    for name in names:
        k = bisect.bisect_left(bucket.ids, name)
        found = out.setdefault(name, [])
        while k < len(bucket.ids) and bucket.ids[k] == name:
            found.append((int(bucket.rows[k]), bucket.origins[k]))
            k += 1
    return out


# ---------------------------------------------------------------- the policy, replayed


class _Replay(IdRegistry):
    """An :class:`IdRegistry` that notes the names it checks that nobody looked up yet."""

    def __init__(self, policy: OnDuplicateId, known: set[str]) -> None:
        super().__init__(policy)
        self.known = known
        self.unknown: set[str] = set()

    def _taken(self, name: str) -> bool:
        if name not in self.known:
            self.unknown.add(name)
        return super()._taken(name)


@dataclass
class IdChanges:
    """What the policy does to the articles read, by global row."""

    renamed: dict[int, str] = dataclasses.field(default_factory=dict)
    dropped: dict[int, Reject] = dataclasses.field(default_factory=dict)


def resolve_ids(
    policy: OnDuplicateId,
    repeated: Occurrences,
    lookup: Callable[[Iterable[str]], Occurrences],
) -> IdChanges:
    """Replay the duplicate-id policy over the articles it concerns, in global row order.

    Only articles whose id occurs more than once, or equals a name that a rename checks
    (``id~2``...), can be affected; every other article keeps its id. Such names are
    looked up and the replay starts again until it checks no name left unknown (one
    extra round for most corpora, none without renames).

    Parameters
    ----------
    policy : {"error", "first", "rename"}
        The duplicate-id policy.
    repeated : dict
        Ids occurring more than once, with their (row, origin) occurrences.
    lookup : callable
        ``lookup(names)`` gives the occurrences of each name in the whole input.

    Returns
    -------
    IdChanges
        Rows renamed and rows dropped (with their rejects).

    Raises
    ------
    DuplicateIdError
        Under policy ``"error"``, for the first repeated id in input order.
    """
    occurrences: Occurrences = dict(repeated)
    while True:
        replay = _Replay(policy, set(occurrences))
        changes = IdChanges()
        events = sorted((row, name, origin) for name, o in occurrences.items() for row, origin in o)
        for row, name, origin in events:
            admitted = replay.admit(Article(id=name, origin=origin))
            if isinstance(admitted, Reject):
                changes.dropped[row] = admitted
            elif admitted.id != name:
                changes.renamed[row] = admitted.id
        if not replay.unknown:
            return changes
        occurrences.update(lookup(sorted(replay.unknown)))


def apply_ids(part: Part, offset: int, renamed: dict[int, str], dropped: dict[int, Reject]) -> Part:
    """Rename and drop rows of one partition (global rows), adding the rejects in line order."""
    meta = dataclasses.replace(part.meta, ids=list(part.meta.ids))
    for row, name in renamed.items():
        meta.ids[row - offset] = name
    if not dropped:
        return dataclasses.replace(part, meta=meta)
    mask = np.ones(len(meta.ids), bool)
    mask[np.fromiter(dropped, np.int64, len(dropped)) - offset] = False
    keep = np.flatnonzero(mask)
    for column in ("ids", "titles", "sources", "dates", "urls", "origins"):
        values = getattr(meta, column)
        setattr(meta, column, [values[i] for i in keep.tolist()])
    rejects = merge_rejects(part.rejects, [dropped[r] for r in sorted(dropped)])
    return dataclasses.replace(
        part, features=_take(part.features, keep), meta=meta, rejects=rejects
    )


def _take(f: Features, keep: I64) -> Features:
    """Return the feature rows ``keep`` (ascending) of ``f``."""
    shingle_ptr, s = _take_csr(f.shingle_ptr, keep)
    term_ptr, t = _take_csr(f.term_ptr, keep)
    return dataclasses.replace(
        f,
        signatures=f.signatures[keep],
        n_tokens=f.n_tokens[keep],
        shingle_ptr=shingle_ptr,
        shingles=f.shingles[s],
        term_ptr=term_ptr,
        term_features=f.term_features[t],
        term_body=f.term_body[t],
        term_title=f.term_title[t],
    )


def _line(reject: Reject) -> int:
    number = reject.origin.rpartition(":")[2]
    return int(number) if number.isdigit() else -1


def merge_rejects(read: Sequence[Reject], duplicates: Sequence[Reject]) -> list[Reject]:
    """Rejects of one partition in line order, as one pass over the file reports them.

    ``read`` (bad records) and ``duplicates`` (repeated ids) are each in line order.
    """
    return sorted([*read, *duplicates], key=_line)
