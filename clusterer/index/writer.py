"""Write side of ``add``: store a planned batch inside the caller's transaction."""

from __future__ import annotations

import math
import sqlite3
from datetime import datetime, timezone

import numpy as np
import numpy.typing as npt

from ..config import ClusterConfig
from .batch import Plan
from .derived import stats_moments
from .storage import article_crc

__all__ = ["record_merges", "record_moves", "write_plan", "write_stories"]

I64 = npt.NDArray[np.int64]


def write_plan(
    conn: sqlite3.Connection,
    plan: Plan,
    config: ClusterConfig,
    stats: I64,
    counters: dict[str, int],
) -> None:
    """Insert the batch's rows; apply merges; update term statistics and counters.

    ``stats`` and ``counters`` (the caller's in-memory copies) are updated in place; the
    caller discards them if the transaction rolls back.
    """
    batch, pool, out = plan.batch, plan.pool, plan.outcome
    f, s, b = batch.features, pool.stored, len(batch.articles)
    seq = int(conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM batches").fetchone()[0])
    at = datetime.now(timezone.utc).isoformat()
    first = counters["next_article"]
    rows = []
    # each array is turned into bytes once and sliced per row (one numpy call per row
    # and column cost more than the slicing)
    sigs = f.signatures.tobytes()
    width = 4 * f.signatures.shape[1]
    shingles = f.shingles.tobytes()
    sh_at = (4 * f.shingle_ptr).tolist()
    feats, body, title = (x.tobytes() for x in (f.term_features, f.term_body, f.term_title))
    t_at = f.term_ptr.tolist()
    stories = pool.story[s:].tolist()
    groups = pool.group[s:].tolist()
    empties = (~batch.eligible).astype(np.int64).tolist()
    days = batch.days.tolist()
    for k, a in enumerate(batch.articles):
        day = None if math.isnan(days[k]) else days[k]
        empty = empties[k]
        sig = sigs[k * width : (k + 1) * width]
        sh = shingles[sh_at[k] : sh_at[k + 1]]
        t0, t1 = t_at[k], t_at[k + 1]
        terms = feats[4 * t0 : 4 * t1] + body[2 * t0 : 2 * t1] + title[2 * t0 : 2 * t1]
        top = plan.tops[k].tobytes()
        rows.append(
            (
                first + k,
                a.id,
                seq,
                stories[k],
                groups[k],
                day,
                None if a.date is None else a.date.isoformat(),
                a.title,
                a.source,
                a.url,
                empty,
                sig,
                sh,
                terms,
                top,
                article_crc(a.id, day, empty, sig, sh, terms, top),
            )
        )
    conn.executemany("INSERT INTO articles VALUES (" + ",".join("?" * 16) + ")", rows)
    post_terms = np.concatenate(plan.tops).astype(np.int64) if b else np.zeros(0, np.int64)
    if plan.term_counts is not None:  # counted while planning
        stats[0] += plan.term_counts
    else:
        np.add.at(stats[0], f.term_features.astype(np.int64), 1)
    np.add.at(stats[1], post_terms, 1)  # ~20k top terms: no pass over the term space
    stats_moments(stats, f.term_ptr, f.term_features, batch.days, 1)

    names = {s + k: a.id for k, a in enumerate(batch.articles)}
    record_merges(conn, out.story_merges, out.group_merges, names, seq, at)
    touched = {int(pool.story[s + k]) for k in range(b)} | {m[0] for m in out.story_merges}
    write_stories(conn, {t: out.members[t] for t in touched if t in out.members}, pool.days, seq)
    conn.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?)", (seq, at, b, first, first + b - 1))
    counters["next_article"] = first + b
    counters["next_story"] = out.next_story
    counters["next_group"] = out.next_group
    counters["n_docs"] += b
    conn.executemany(
        "INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in counters.items()]
    )


def record_merges(
    conn: sqlite3.Connection,
    story_merges: list[tuple[int, int, int]],
    group_merges: list[tuple[int, int, int]],
    names: dict[int, str],
    seq: int,
    at: str,
) -> None:
    """Relabel absorbed stories and groups, keep aliases flat, and log events."""
    for kind, column, merges in (
        ("story", "story_id", story_merges),
        ("group", "group_id", group_merges),
    ):
        event = "merged" if kind == "story" else "group_merged"
        for keep, gone, row in merges:
            conn.execute(f"UPDATE articles SET {column} = ? WHERE {column} = ?", (keep, gone))
            conn.execute(
                "UPDATE aliases SET new = ? WHERE kind = ? AND new = ?", (keep, kind, gone)
            )
            conn.execute("INSERT OR REPLACE INTO aliases VALUES (?, ?, ?)", (gone, kind, keep))
            conn.execute(
                "INSERT INTO events(batch, at, kind, survivor, absorbed, article) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (seq, at, event, keep, gone, names.get(row, "")),
            )
            if kind == "story":
                conn.execute("DELETE FROM stories WHERE id = ?", (gone,))


def record_moves(
    conn: sqlite3.Connection,
    prefix: str,
    splits: list[tuple[int, int, int]],
    moves: list[tuple[int, int, int]],
    names: dict[int, str],
    seq: int,
    at: str,
) -> None:
    """Log ``split`` and ``moved`` events of a settling (``prefix`` ``"group_"`` for groups).

    The rows' new ids are written by the caller.
    """
    events = [(seq, at, prefix + "split", a, b, names[r]) for a, b, r in splits]
    events += [(seq, at, prefix + "moved", a, b, names[r]) for a, b, r in moves]
    conn.executemany(
        "INSERT INTO events(batch, at, kind, survivor, absorbed, article) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        events,
    )


def write_stories(
    conn: sqlite3.Connection, members: dict[int, list[int]], days: npt.NDArray[np.float64], seq: int
) -> None:
    """Upsert size and date span of stories from their complete member lists."""
    rows = []
    for story, rows_of in members.items():
        d = days[np.asarray(rows_of, np.int64)]
        d = d[~np.isnan(d)]
        lo = float(d.min()) if d.size else None
        hi = float(d.max()) if d.size else None
        rows.append((story, len(rows_of), lo, hi, seq))
    conn.executemany("INSERT OR REPLACE INTO stories VALUES (?, ?, ?, ?, ?)", rows)
