"""Read side of the index: band-key and posting matches, fetching stored rows.

Band keys and postings are looked up in memory (:mod:`clusterer.index.derived`) for a
whole batch at once; stored rows are fetched with one statement per batch (their ids go
to SQLite as one JSON array, ``json_each``), not one per article.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ._decode_kernel import split_terms
from .storage import article_crc, row_crc

if TYPE_CHECKING:
    from .derived import Derived

__all__ = [
    "StoredRows",
    "band_matches",
    "decode_rows",
    "fetch_rows",
    "fetch_stories",
    "fetch_where",
    "posting_matches",
    "sorted_unique",
]

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]

_COLUMNS = "rowid, id, story_id, group_id, day, empty, signature, shingles, terms, top, crc"


@dataclass
class StoredRows:
    """Stored articles decoded into arrays (CSR for the variable-length parts)."""

    rowid: I64
    ids: list[str]
    story: I64
    group: I64
    days: F64
    empty: npt.NDArray[np.bool_]
    signatures: npt.NDArray[np.uint32]
    shingle_ptr: I64
    shingles: npt.NDArray[np.uint32]
    term_ptr: I64
    term_features: npt.NDArray[np.uint32]
    term_body: npt.NDArray[np.uint16]
    term_title: npt.NDArray[np.uint16]
    tops: list[npt.NDArray[np.uint32]]


def _ptr(lengths: list[int]) -> I64:
    out = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


def decode_rows(rows: list[tuple[object, ...]], num_perm: int) -> StoredRows:
    """Decode fetched article rows, checking each row's CRC.

    The per-row loop only checks and collects the blobs; each array is then cut out of
    all rows' bytes joined once, not built from per-row pieces.

    Raises
    ------
    sqlite3.DatabaseError
        If a row's stored values do not match its checksum (the caller's guard turns
        this into an IndexFileError).
    """
    sig_rows: list[bytes] = []
    shingles: list[bytes] = []
    terms: list[bytes] = []
    tops: list[npt.NDArray[np.uint32]] = []
    for r in rows:
        _, aid, _, _, day, empty, sig, sh, tm, top, crc = r
        if not (
            type(sig) is bytes and type(sh) is bytes and type(tm) is bytes and type(top) is bytes
        ):
            if row_crc(aid, day, empty, sig, sh, tm, top) != crc:  # type: ignore[arg-type]
                raise sqlite3.DatabaseError(f"article {aid!r}: stored values fail their checksum")
            raise sqlite3.DatabaseError(f"article {aid!r}: stored arrays have a bad type")
        if article_crc(aid, day, empty, sig, sh, tm, top) != crc:
            raise sqlite3.DatabaseError(f"article {aid!r}: stored values fail their checksum")
        if len(sig) != 4 * num_perm or len(sh) % 4 or len(tm) % 8 or len(top) % 4:
            raise sqlite3.DatabaseError(f"article {aid!r}: stored arrays have a bad size")
        sig_rows.append(sig)
        shingles.append(sh)
        terms.append(tm)
        tops.append(np.frombuffer(top, np.uint32))
    n = len(rows)
    term_ptr, term_features, term_body, term_title = _split_terms(terms)
    return StoredRows(
        rowid=np.array([r[0] for r in rows], np.int64),
        ids=[str(r[1]) for r in rows],
        story=np.array([r[2] for r in rows], np.int64),
        group=np.array([r[3] for r in rows], np.int64),
        days=np.array([np.nan if r[4] is None else r[4] for r in rows], np.float64),
        empty=np.array([bool(r[5]) for r in rows], np.bool_),
        signatures=np.frombuffer(b"".join(sig_rows), np.uint32).reshape(n, num_perm),
        shingle_ptr=_ptr([len(s) // 4 for s in shingles]),
        shingles=np.frombuffer(b"".join(shingles), np.uint32),
        term_ptr=term_ptr,
        term_features=term_features,
        term_body=term_body,
        term_title=term_title,
        tops=tops,
    )


def _split_terms(
    blobs: list[bytes],
) -> tuple[I64, npt.NDArray[np.uint32], npt.NDArray[np.uint16], npt.NDArray[np.uint16]]:
    """CSR term ids, body counts and title counts of ``terms`` blobs (sizes checked: 8k)."""
    size = np.array([len(t) for t in blobs], np.int64)
    joined = b"".join(blobs)
    return split_terms(
        np.frombuffer(joined, np.uint32),
        np.frombuffer(joined, np.uint16),
        np.cumsum(size) - size,
        size // 8,
    )


def band_matches(
    derived: Derived, keys: U64, eligible: npt.NDArray[np.bool_], order: I64
) -> tuple[I64, I64]:
    """Find stored articles sharing a band key with batch rows.

    Parameters
    ----------
    derived : Derived
        In-memory band keys of the stored articles.
    keys : (b, bands) uint64
        Band keys of the batch.
    eligible : (b,) bool
        Batch rows with text.
    order : int64 array
        Stable sorting order of ``keys[eligible]`` flattened as int64
        (:attr:`~clusterer.index.batch.Batch.key_order`).

    Returns
    -------
    batch_row, rowid : int64 arrays
        Distinct (batch row, stored article) pairs.
    """
    signed = keys.view(np.int64)
    rows = np.repeat(np.arange(keys.shape[0]), keys.shape[1])[np.repeat(eligible, keys.shape[1])]
    flat = signed[eligible].ravel()
    if flat.size == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty
    flat, rows = flat[order], rows[order]
    uniq = flat[np.concatenate(([True], flat[1:] != flat[:-1]))]  # sorted: runs are repeats
    fk, fa = derived.bands(uniq)
    if fk.size == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty
    lo = np.searchsorted(flat, fk, "left")
    hi = np.searchsorted(flat, fk, "right")
    count = hi - lo
    idx = (
        np.repeat(lo, count)
        + np.arange(int(count.sum()))
        - np.repeat(np.cumsum(count) - count, count)
    )
    key = sorted_unique(rows[idx].astype(np.int64) * (1 << 40) + np.repeat(fa, count))
    return (key >> 40).astype(np.int64), (key & ((1 << 40) - 1)).astype(np.int64)


def posting_matches(
    derived: Derived,
    row: I64,
    term: I64,
    days: F64,
    gap: float,
    neighbours: int,
) -> tuple[I64, I64]:
    """Find stored articles sharing a top term with batch rows within the date window.

    For every (batch row, term) at most ``neighbours`` stored articles nearest in date
    are kept (the incremental counterpart of ``term_neighbours`` in the batch path);
    undated stored articles come first (they pair with everything, as in the batch
    path), and an undated batch row takes the lowest row ids.

    One compiled pass (:func:`clusterer.index._posting_kernel.nearest_pairs`): per
    query, binary searches in the date-ordered postings of the term find the
    ``neighbours`` either side of the row's date, so the postings read do not grow with
    the number stored.

    Returns
    -------
    batch_row, rowid : int64 arrays
        Distinct pairs.
    """
    empty = np.zeros(0, np.int64)
    if row.size == 0:
        return empty, empty
    order = np.argsort(row, kind="stable")
    q_ptr = np.searchsorted(row[order], np.arange(days.size + 1))
    return derived.nearest(q_ptr, term[order].astype(np.int64), days, min(gap, 1e299), neighbours)


def sorted_unique(values: I64) -> I64:
    """``np.unique`` for int64: a mark pass for dense non-negative values, else one sort.

    Both are faster than hashing at a million values; row ids of a batch's candidates
    are dense (below a few times their count), keys packing two ids are not.
    """
    if values.size and int(values.min()) >= 0 and int(values.max()) < 4 * values.size:
        mark = np.zeros(int(values.max()) + 1, np.bool_)
        mark[values] = True
        return np.flatnonzero(mark).astype(np.int64)
    out = np.sort(values)
    if out.size:
        out = out[np.concatenate(([True], out[1:] != out[:-1]))]
    return out


def fetch_stories(conn: sqlite3.Connection, rowids: I64, num_perm: int) -> StoredRows:
    """All members of the stories that contain any of ``rowids``, ordered by rowid."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM articles WHERE story_id IN "
        "(SELECT story_id FROM articles WHERE rowid IN (SELECT value FROM json_each(?))) "
        "ORDER BY rowid",
        (json.dumps(np.unique(rowids).tolist()),),
    ).fetchall()
    return decode_rows(rows, num_perm)


def fetch_rows(conn: sqlite3.Connection, rowids: I64, num_perm: int) -> StoredRows:
    """Return the stored rows with these row ids (checksummed), ordered by rowid."""
    return fetch_where(
        conn, "rowid IN (SELECT value FROM json_each(?))", (json.dumps(rowids.tolist()),), num_perm
    )


def fetch_where(
    conn: sqlite3.Connection, where: str, params: tuple[object, ...], num_perm: int
) -> StoredRows:
    """Fetch stored rows matching a WHERE clause, ordered by rowid."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM articles WHERE {where} ORDER BY rowid", params
    ).fetchall()
    return decode_rows(rows, num_perm)
