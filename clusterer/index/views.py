"""Read-only views of the index: stories, events, id resolution, statistics."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime, timezone
from typing import Any

from ..errors import ClustererError
from .storage import FORMAT_VERSION
from .types import IndexAssignment, IndexEvent, IndexStats, StoryRecord

__all__ = [
    "UnknownStoryError",
    "events",
    "json_value",
    "resolve",
    "stats",
    "stored_assignment",
    "stored_ids",
    "stories",
    "story",
]


class UnknownStoryError(ClustererError, KeyError):
    """No stored story has, or had, the requested id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown story"


def json_value(text: str) -> Any:
    """Decode a JSON meta value."""
    return json.loads(text)


def _date(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _epoch(day: float | None) -> datetime | None:
    return None if day is None else datetime.fromtimestamp(day * 86400.0, tz=timezone.utc)


def stored_ids(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
    """Return the subset of ``ids`` already stored."""
    rows = conn.execute(
        "SELECT id FROM articles WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(ids),)
    ).fetchall()
    return {r[0] for r in rows}


def stored_assignment(conn: sqlite3.Connection, article_id: str) -> IndexAssignment | None:
    """Return the stored placement of an article, or None."""
    row = conn.execute(
        "SELECT story_id, group_id, empty FROM articles WHERE id = ?", (article_id,)
    ).fetchone()
    if row is None:
        return None
    return IndexAssignment(
        article_id, int(row[0]), int(row[1]), None, 0.0, 0.0, 0.0, False, (), bool(row[2])
    )


def resolve(conn: sqlite3.Connection, story_id: int) -> int:
    """Return the live id of a story (follows merges)."""
    row = conn.execute(
        "SELECT new FROM aliases WHERE kind = 'story' AND old = ?", (int(story_id),)
    ).fetchone()
    return int(story_id) if row is None else int(row[0])


def _records(conn: sqlite3.Connection, where: str, params: tuple[object, ...]) -> list[StoryRecord]:
    rows = conn.execute(
        "SELECT a.story_id, a.id, a.title, a.source, a.date, a.group_id, a.day FROM articles a "
        f"WHERE a.story_id IN ({where}) ORDER BY a.story_id, a.day IS NULL, a.day, a.id",
        params,
    ).fetchall()
    by_story: dict[int, list[tuple[Any, ...]]] = {}
    for r in rows:
        by_story.setdefault(int(r[0]), []).append(r)
    out = []
    for sid, members in by_story.items():
        dated = [r[6] for r in members if r[6] is not None]
        out.append(
            StoryRecord(
                id=sid,
                members=tuple(sorted(r[1] for r in members)),
                title=members[0][2],
                sources=tuple(sorted({r[3] for r in members if r[3]})),
                first=_first_date(members, min(dated)) if dated else None,
                last=_first_date(members, max(dated)) if dated else None,
                duplicate_groups=tuple(sorted({int(r[5]) for r in members})),
            )
        )
    return out


def _first_date(members: list[tuple[Any, ...]], day: float) -> datetime | None:
    for r in members:
        if r[6] == day:
            return _date(r[4]) or _epoch(day)
    return _epoch(day)


def story(conn: sqlite3.Connection, story_id: int) -> StoryRecord:
    """One story, after resolving merges."""
    live = resolve(conn, story_id)
    found = _records(conn, "?", (live,))
    if not found:
        raise UnknownStoryError(f"no story {story_id} in the index")
    return found[0]


def stories(conn: sqlite3.Connection, since_day: float | None) -> list[StoryRecord]:
    """Live stories, optionally only those with a member dated at or after ``since_day``."""
    if since_day is None:
        return _records(conn, "SELECT id FROM stories", ())
    return _records(conn, "SELECT id FROM stories WHERE last_day >= ?", (since_day,))


def events(conn: sqlite3.Connection, since: int | datetime | None) -> list[IndexEvent]:
    """Identity events after a sequence number or at/after a time."""
    sql = "SELECT seq, kind, survivor, absorbed, article, at, batch FROM events"
    params: tuple[object, ...] = ()
    if isinstance(since, datetime):
        moment = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
        rows = [
            r for r in conn.execute(sql + " ORDER BY seq") if datetime.fromisoformat(r[5]) >= moment
        ]
    else:
        if since is not None:
            sql, params = sql + " WHERE seq > ?", (int(since),)
        rows = conn.execute(sql + " ORDER BY seq", params).fetchall()
    return [
        IndexEvent(r[0], r[1], r[2], r[3], r[4], datetime.fromisoformat(r[5]), r[6]) for r in rows
    ]


def stats(
    conn: sqlite3.Connection,
    path: str,
    window_days: float | None,
    settle_until: int,
    settles: int,
) -> IndexStats:
    """Return counts, date span and file size."""
    n, lo, hi = conn.execute("SELECT count(*), min(day), max(day) FROM articles").fetchone()
    n_stories = conn.execute("SELECT count(*) FROM stories").fetchone()[0]
    n_groups = conn.execute("SELECT count(DISTINCT group_id) FROM articles").fetchone()[0]
    n_batches = conn.execute("SELECT count(*) FROM batches").fetchone()[0]
    n_events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    size = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    return IndexStats(
        path=path,
        format_version=FORMAT_VERSION,
        articles=int(n),
        stories=int(n_stories),
        duplicate_groups=int(n_groups),
        batches=int(n_batches),
        events=int(n_events),
        oldest=_epoch(lo),
        newest=_epoch(hi),
        window_days=window_days,
        settle_until=settle_until,
        settles=settles,
        file_bytes=size,
        bytes_per_article=round(size / n, 1) if n else 0.0,
    )
