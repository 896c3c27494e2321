"""Read side of the index: band-key and posting matches, fetching stored rows.

Band keys and postings are looked up in memory (:mod:`clusterer.index.derived`) for a
whole batch at once; stored rows are fetched with one statement per batch (their ids go
to SQLite as one JSON array, ``json_each``), not one per article.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from .storage import UNDATED, row_crc

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


def band_matches(derived: Derived, keys: U64, eligible: npt.NDArray[np.bool_]) -> tuple[I64, I64]:
    """Find stored articles sharing a band key with batch rows.

    Parameters
    ----------
    derived : Derived
        In-memory band keys of the stored articles.
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
    pairs = np.unique(np.stack((rows[idx], np.repeat(fa, count)), axis=1), axis=0)
    return pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)


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

    The cap is applied at the lookup as far as it can be: for each distinct term only
    the postings between the ``neighbours``-th one before the batch's earliest date and
    the ``neighbours``-th one after its latest are read (binary searches bound the
    range), so the postings read do not grow with the number stored.

    Returns
    -------
    batch_row, rowid : int64 arrays
        Distinct pairs.
    """
    empty = np.zeros(0, np.int64)
    if row.size == 0:
        return empty, empty
    d = days[row]
    span = min(gap, 1e299)
    uterm, inv = np.unique(term, return_inverse=True)
    inv = inv.ravel()
    undated_q = np.isnan(d)
    dmin = np.full(uterm.size, np.inf)
    dmax = np.full(uterm.size, -np.inf)
    np.minimum.at(dmin, inv[~undated_q], d[~undated_q])
    np.maximum.at(dmax, inv[~undated_q], d[~undated_q])
    full = np.zeros(uterm.size, np.bool_)
    full[inv[undated_q]] = True
    dmin = np.where(full | ~np.isfinite(dmin), -1e299, dmin)
    dmax = np.where(full | ~np.isfinite(dmax), 1e299, dmax)
    lo = np.where(full, -1e299, dmin - span)
    hi = np.where(full, 1e299, dmax + span)
    pt, pday, part = derived.postings(uterm, lo, hi, dmin, dmax, neighbours)
    if pt.size == 0:
        return empty, empty
    return _nearest(
        row, inv, d, np.searchsorted(uterm, pt), pday, part, uterm.size, span, neighbours
    )


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


def _nearest(
    row: I64,
    qterm: I64,
    d: F64,
    pterm: I64,
    pday: F64,
    part: I64,
    n_terms: int,
    span: float,
    k: int,
) -> tuple[I64, I64]:
    """Keep, per query (row, term), the ``k`` postings nearest in date (see above)."""
    order = np.lexsort((part, pday, pterm))  # UNDATED sorts first within a term
    pterm, pday, part = pterm[order], pday[order], part[order]
    start = np.searchsorted(pterm, np.arange(n_terms + 1))
    n_und = np.bincount(pterm[pday == UNDATED], minlength=n_terms)
    s0, e = start[qterm], start[qterm + 1]
    s = s0 + n_und[qterm]  # dated postings of the query's term: [s, e), by day then id
    take_u = np.minimum(n_und[qterm], k)
    w = np.minimum(k - take_u, e - s)
    x = np.nan_to_num(d)
    last = max(pday.size - 1, 0)
    # pos: first dated posting of the term dated at or after the query's day
    lo, hi = s.copy(), e.copy()
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        before = pday[np.minimum(mid, last)] < x
        lo = np.where(active & before, mid + 1, lo)
        hi = np.where(active & ~before, mid, hi)
    # the w nearest form a window [a, a + w); find its start (ties: the earlier)
    lo = np.maximum(s, lo - w)
    hi = np.maximum(lo, np.minimum(hi, e - w))
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        move = (x - pday[np.minimum(mid, last)]) > (pday[np.minimum(mid + w, last)] - x)
        lo = np.where(active & move, mid + 1, lo)
        hi = np.where(active & ~move, mid, hi)
    q_idx = np.arange(qterm.size)
    q = np.concatenate((np.repeat(q_idx, take_u), np.repeat(q_idx, w)))
    first = np.concatenate((s0, lo))
    lens = np.concatenate((take_u, w))
    ptr = np.cumsum(lens) - lens
    idx = np.repeat(first - ptr, lens) + np.arange(int(lens.sum()), dtype=np.int64)
    ok = (pday[idx] == UNDATED) | (np.abs(pday[idx] - x[q]) <= span)
    q, idx = q[ok], idx[ok]
    undated_q = np.flatnonzero(np.isnan(d))
    if undated_q.size:  # distance 0 to everything: the lowest ids
        dated = ~np.isin(q, undated_q)
        q, idx = q[dated], idx[dated]
        extra_q: list[I64] = []
        extra_i: list[I64] = []
        for j in undated_q.tolist():
            cand = np.arange(int(s0[j]), int(e[j]))
            pick = cand[np.argsort(part[cand], kind="stable")[:k]]
            extra_q.append(np.full(pick.size, j, np.int64))
            extra_i.append(pick)
        q = np.concatenate([q, *extra_q])
        idx = np.concatenate([idx, *extra_i])
    key = sorted_unique(row[q] * (1 << 40) + part[idx])
    return (key >> 40).astype(np.int64), (key & ((1 << 40) - 1)).astype(np.int64)


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
