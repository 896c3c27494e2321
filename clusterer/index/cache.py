"""In-memory cache of stored term rows (per open index, bounded).

Scoring story candidates needs the term counts of every stored article a batch's
postings reach: tens of thousands per batch of 1,000 at 100k stored. Reading and
checksumming them from SQLite each time dominated ``add``; they are kept here instead.

The cached values never go stale: an article's terms and date are immutable once
committed, and row ids are never reused (``next_article`` only grows), so another
process writing to the file cannot invalidate an entry. Deleted articles simply stop
being asked for (their postings go with them). Rows enter the cache only after their
own commit (``add``) or after a checksummed read (misses), so cached rows were verified
once; damage to the file after that is found by the next process that opens it.

Memory is bounded by ``budget`` term entries (8 bytes each); the oldest row ids (the
least likely date-nearest candidates of a news stream) are evicted first.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .lookup import decode_rows

__all__ = ["TermCache", "TermRows"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: Default budget: term entries kept (about 8 bytes each, so 256 MB).
BUDGET = 1 << 25

_COLUMNS = "rowid, id, story_id, group_id, day, empty, signature, shingles, terms, top, crc"


@dataclass
class TermRows:
    """Term counts of some stored rows in CSR form, ordered by row id."""

    rowid: I64
    days: F64
    ptr: I64
    features: npt.NDArray[np.uint32]
    body: npt.NDArray[np.uint16]
    title: npt.NDArray[np.uint16]

    @property
    def entries(self) -> int:
        """Number of term entries."""
        return int(self.features.size)


def gather(rows: TermRows, pick: I64) -> TermRows:
    """Return the rows at positions ``pick`` (in that order) as a new CSR block."""
    start, stop = rows.ptr[pick], rows.ptr[pick + 1]
    lens = stop - start
    ptr = np.zeros(pick.size + 1, np.int64)
    np.cumsum(lens, out=ptr[1:])
    src = np.repeat(start - ptr[:-1], lens) + np.arange(int(ptr[-1]), dtype=np.int64)
    return TermRows(
        rows.rowid[pick],
        rows.days[pick],
        ptr,
        rows.features[src],
        rows.body[src],
        rows.title[src],
    )


def concat(blocks: list[TermRows]) -> TermRows:
    """Stack CSR blocks (row order is kept)."""
    if not blocks:
        return TermRows(
            np.zeros(0, np.int64),
            np.zeros(0, np.float64),
            np.zeros(1, np.int64),
            np.zeros(0, np.uint32),
            np.zeros(0, np.uint16),
            np.zeros(0, np.uint16),
        )
    if len(blocks) == 1:
        return blocks[0]
    offsets = np.cumsum([0] + [int(b.ptr[-1]) for b in blocks[:-1]])
    return TermRows(
        np.concatenate([b.rowid for b in blocks]),
        np.concatenate([b.days for b in blocks]),
        np.concatenate(
            [np.zeros(1, np.int64)] + [b.ptr[1:] + o for b, o in zip(blocks, offsets, strict=True)]
        ),
        np.concatenate([b.features for b in blocks]),
        np.concatenate([b.body for b in blocks]),
        np.concatenate([b.title for b in blocks]),
    )


class TermCache:
    """Term rows of stored articles by row id, filled on commit and on misses.

    Parameters
    ----------
    num_perm : int
        Signature length (to decode rows read on a miss).
    budget : int
        Largest number of term entries kept.
    """

    def __init__(self, num_perm: int, budget: int = BUDGET) -> None:
        self.num_perm = num_perm
        self.budget = budget
        self._blocks: list[TermRows] = []
        self._entries = 0
        self.hits = 0
        self.misses = 0

    def put(self, block: TermRows) -> None:
        """Add committed rows (``block.rowid`` ascending)."""
        if block.rowid.size == 0:
            return
        self._blocks.append(block)
        self._entries += block.entries
        if self._entries > self.budget:
            self._blocks.sort(key=lambda b: int(b.rowid[-1]))
            while self._entries > self.budget and len(self._blocks) > 1:
                self._entries -= self._blocks.pop(0).entries
        if len(self._blocks) > 64:  # keep lookups cheap: merge the small blocks
            self._blocks.sort(key=lambda b: int(b.rowid[0]))
            merged = concat(self._blocks)
            order = np.argsort(merged.rowid, kind="stable")
            self._blocks = [gather(merged, order)]

    def get(self, conn: sqlite3.Connection, rowids: I64) -> TermRows:
        """Term rows of ``rowids`` (sorted, distinct), reading and caching misses.

        Raises
        ------
        sqlite3.DatabaseError
            If a row read on a miss fails its checksum.
        """
        parts: list[TermRows] = []
        where: list[I64] = []
        found = np.zeros(rowids.size, np.bool_)
        for block in self._blocks:
            pos = np.searchsorted(block.rowid, rowids)
            ok = pos < block.rowid.size
            ok[ok] = block.rowid[pos[ok]] == rowids[ok]
            ok &= ~found
            if ok.any():
                found |= ok
                parts.append(gather(block, pos[ok]))
                where.append(np.flatnonzero(ok))
        missing = rowids[~found]
        self.hits += int(found.sum())
        self.misses += int(missing.size)
        if missing.size:
            fetched = conn.execute(
                f"SELECT {_COLUMNS} FROM articles WHERE rowid IN "
                "(SELECT value FROM json_each(?)) ORDER BY rowid",
                (json.dumps(missing.tolist()),),
            ).fetchall()
            stored = decode_rows(fetched, self.num_perm)
            block = TermRows(
                stored.rowid,
                stored.days,
                stored.term_ptr,
                stored.term_features,
                stored.term_body,
                stored.term_title,
            )
            self.put(block)
            pos = np.searchsorted(block.rowid, missing)
            ok = pos < block.rowid.size
            ok[ok] = block.rowid[pos[ok]] == missing[ok]
            parts.append(gather(block, pos[ok]))
            where.append(np.flatnonzero(~found)[ok])
        if not parts:
            return concat([])
        out = concat(parts)
        order = np.argsort(np.concatenate(where), kind="stable")
        return gather(out, order)
