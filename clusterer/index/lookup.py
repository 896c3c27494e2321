"""Read-side SQL of the index: band-key and posting lookups, fetching stored rows.

Lookups are batched: the keys or terms of a whole batch go to SQLite as one JSON array
(``json_each``) or one temporary table and are joined against the indexed tables, so a
batch costs a handful of statements, not one per article.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

from .storage import UNDATED, row_crc

__all__ = ["StoredRows", "band_matches", "fetch_stories", "posting_matches"]

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
        if row_crc(aid, day, empty, sig, sh, tm, top) != crc:  # type: ignore[arg-type]
            raise sqlite3.DatabaseError(f"article {aid!r}: stored values fail their checksum")
        if not all(isinstance(x, bytes) for x in (sig, sh, tm, top)):
            raise sqlite3.DatabaseError(f"article {aid!r}: stored arrays have a bad type")
        sig, sh, tm, top = (cast(bytes, x) for x in (sig, sh, tm, top))
        if len(sig) != 4 * num_perm or len(sh) % 4 or len(tm) % 8 or len(top) % 4:
            raise sqlite3.DatabaseError(f"article {aid!r}: stored arrays have a bad size")
        sig_rows.append(sig)
        shingles.append(sh)
        terms.append(tm)
        tops.append(np.frombuffer(top, np.uint32))
    n_terms = [len(t) // 8 for t in terms]
    feats = [np.frombuffer(t, np.uint32, count=k) for t, k in zip(terms, n_terms, strict=True)]
    counts = [
        np.frombuffer(t, np.uint16, offset=4 * k) for t, k in zip(terms, n_terms, strict=True)
    ]
    body = [c[: c.size // 2] for c in counts]
    title = [c[c.size // 2 :] for c in counts]

    def cat(parts: list[npt.NDArray[np.generic]], dtype: type) -> npt.NDArray[np.generic]:
        return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)

    n = len(rows)
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
        term_ptr=_ptr(n_terms),
        term_features=cat(feats, np.uint32),  # type: ignore[arg-type]
        term_body=cat(body, np.uint16),  # type: ignore[arg-type]
        term_title=cat(title, np.uint16),  # type: ignore[arg-type]
        tops=tops,
    )


def band_matches(
    conn: sqlite3.Connection, keys: U64, eligible: npt.NDArray[np.bool_]
) -> tuple[I64, I64]:
    """Find stored articles sharing a band key with batch rows.

    Parameters
    ----------
    conn : sqlite3.Connection
        Open index.
    keys : (b, bands) uint64
        Band keys of the batch.
    eligible : (b,) bool
        Batch rows with text.

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
    order = np.argsort(flat, kind="stable")
    flat, rows = flat[order], rows[order]
    uniq = np.unique(flat)
    found = conn.execute(
        "SELECT b.key, b.article FROM json_each(?) j JOIN bands b ON b.key = j.value",
        (json.dumps(uniq.tolist()),),
    ).fetchall()
    if not found:
        empty = np.zeros(0, np.int64)
        return empty, empty
    fk = np.array([f[0] for f in found], np.int64)
    fa = np.array([f[1] for f in found], np.int64)
    lo = np.searchsorted(flat, fk, "left")
    hi = np.searchsorted(flat, fk, "right")
    count = hi - lo
    idx = (
        np.repeat(lo, count)
        + np.arange(int(count.sum()))
        - np.repeat(np.cumsum(count) - count, count)
    )
    pairs = np.unique(np.stack((rows[idx], np.repeat(fa, count)), axis=1), axis=0)
    return pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)


def posting_matches(
    conn: sqlite3.Connection,
    row: I64,
    term: I64,
    days: F64,
    gap: float,
    neighbours: int,
) -> tuple[I64, I64]:
    """Find stored articles sharing a top term with batch rows within the date window.

    For every (batch row, term) at most ``neighbours`` stored articles nearest in date
    are kept (the incremental counterpart of ``term_neighbours`` in the batch path);
    undated articles pair with everything, as in the batch path.

    Returns
    -------
    batch_row, rowid : int64 arrays
        Distinct pairs.
    """
    if row.size == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty
    d = days[row]
    span = min(gap, 1e299)
    lo = np.where(np.isnan(d), -1e299, d - span)
    hi = np.where(np.isnan(d), 1e299, d + span)
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS q_terms(k INTEGER, term INTEGER, lo REAL, hi REAL)"
    )
    conn.execute("DELETE FROM q_terms")
    conn.executemany(
        "INSERT INTO q_terms VALUES (?, ?, ?, ?)",
        zip(range(row.size), term.tolist(), lo.tolist(), hi.tolist(), strict=True),
    )
    found = conn.execute(
        "SELECT q.k, p.article, p.day FROM q_terms q JOIN postings p "
        "ON p.term = q.term AND p.day BETWEEN q.lo AND q.hi "
        "UNION ALL SELECT q.k, p.article, p.day FROM q_terms q JOIN postings p "
        "ON p.term = q.term AND p.day = ?",
        (UNDATED,),
    ).fetchall()
    if not found:
        empty = np.zeros(0, np.int64)
        return empty, empty
    k = np.array([f[0] for f in found], np.int64)
    art = np.array([f[1] for f in found], np.int64)
    pday = np.array([f[2] for f in found], np.float64)
    own = d[k]
    dist = np.where((pday == UNDATED) | np.isnan(own), 0.0, np.abs(pday - np.nan_to_num(own)))
    order = np.lexsort((art, dist, k))
    k, art = k[order], art[order]
    start = np.concatenate(([True], k[1:] != k[:-1]))
    first = np.maximum.accumulate(np.where(start, np.arange(k.size), 0))
    keep = (np.arange(k.size) - first) < neighbours
    pairs = np.unique(np.stack((row[k[keep]], art[keep]), axis=1), axis=0)
    return pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)


def fetch_stories(conn: sqlite3.Connection, rowids: I64, num_perm: int) -> StoredRows:
    """All members of the stories that contain any of ``rowids``, ordered by rowid."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM articles WHERE story_id IN "
        "(SELECT story_id FROM articles WHERE rowid IN (SELECT value FROM json_each(?))) "
        "ORDER BY rowid",
        (json.dumps(np.unique(rowids).tolist()),),
    ).fetchall()
    return decode_rows(rows, num_perm)


def fetch_where(
    conn: sqlite3.Connection, where: str, params: tuple[object, ...], num_perm: int
) -> StoredRows:
    """Fetch stored rows matching a WHERE clause, ordered by rowid."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM articles WHERE {where} ORDER BY rowid", params
    ).fetchall()
    return decode_rows(rows, num_perm)
