"""Rows of the per-article and story outputs: building, writing, and reading back.

Rows are plain dicts (dates as ISO 8601 strings) written as JSON Lines, CSV (with a
header; list-valued fields JSON-encoded) or one JSON array, always through
:func:`clusterer._atomic.atomic_write`.

The public names are re-exported by :mod:`clusterer.output`.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from ._atomic import Format, atomic_write, check_format, format_for
from ._pyarrow import parquet_rows, pyarrow_parquet
from .errors import OutputError
from .models import Assignment, Clustering

__all__ = [
    "ASSIGNMENT_FIELDS",
    "STORY_FIELDS",
    "assignment_json_rows",
    "assignment_rows",
    "read_assignments",
    "story_rows",
    "write_rows",
]

#: Columns of the per-article output, in order.
ASSIGNMENT_FIELDS: tuple[str, ...] = (
    "id",
    "title",
    "source",
    "date",
    "url",
    "story_id",
    "duplicate_group_id",
    "duplicate_score",
    "story_score",
    "empty",
    "origin",
)

#: Columns of the story summary, in order.
STORY_FIELDS: tuple[str, ...] = (
    "id",
    "size",
    "title",
    "representative",
    "sources",
    "first",
    "last",
    "duplicate_groups",
    "cohesion",
    "rejected_links",
    "attached",
)

_CHUNK = 8192


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


def assignment_rows(assignments: Iterable[Assignment]) -> Iterator[dict[str, Any]]:
    """Turn assignments into plain rows (dates as ISO 8601 strings).

    Parameters
    ----------
    assignments : iterable of Assignment
        From :attr:`Clustering.assignments`.

    Yields
    ------
    dict
        One row per article with the keys of :data:`ASSIGNMENT_FIELDS`.
    """
    for a in assignments:
        yield {
            "id": a.id,
            "title": a.title,
            "source": a.source,
            "date": _iso(a.date),
            "url": a.url,
            "story_id": a.story_id,
            "duplicate_group_id": a.duplicate_group_id,
            "duplicate_score": a.duplicate_score,
            "story_score": a.story_score,
            "empty": a.empty,
            "origin": a.origin,
        }


def assignment_json_rows(assignments: Iterable[Assignment]) -> Iterator[dict[str, Any]]:
    """:func:`assignment_rows` for orjson: the same JSON once serialised, made faster.

    A naive or UTC date is left as a datetime, which orjson writes exactly as
    ``isoformat()`` does (RFC 3339, microseconds only when nonzero, ``+00:00``), in C;
    any other date is turned into its ``isoformat()`` here.
    """
    utc = timezone.utc
    for a in assignments:
        d = a.date
        date: datetime | str | None = d
        if d is not None and not (type(d) is datetime and (d.tzinfo is None or d.tzinfo is utc)):
            date = d.isoformat()
        yield {
            "id": a.id,
            "title": a.title,
            "source": a.source,
            "date": date,
            "url": a.url,
            "story_id": a.story_id,
            "duplicate_group_id": a.duplicate_group_id,
            "duplicate_score": a.duplicate_score,
            "story_score": a.story_score,
            "empty": a.empty,
            "origin": a.origin,
        }


def story_rows(clustering: Clustering) -> Iterator[dict[str, Any]]:
    """Turn stories into summary rows, each with its duplicate groups and their members.

    Parameters
    ----------
    clustering : Clustering
        A result of :func:`clusterer.cluster`.

    Yields
    ------
    dict
        One row per story with the keys of :data:`STORY_FIELDS`;
        ``duplicate_groups`` is a list of ``{"id": ..., "members": [...]}``.
    """
    groups = {g.id: g for g in clustering.duplicate_groups}
    for s in clustering.stories:
        yield {
            "id": s.id,
            "size": len(s.members),
            "title": s.title,
            "representative": s.representative,
            "sources": list(s.sources),
            "first": _iso(s.first),
            "last": _iso(s.last),
            "duplicate_groups": [
                {"id": g, "members": list(groups[g].members)} for g in s.duplicate_groups
            ],
            "cohesion": s.cohesion,
            "rejected_links": s.rejected_links,
            "attached": s.attached,
        }


def write_rows(
    rows: Iterable[Mapping[str, Any]],
    path: str | os.PathLike[str],
    fmt: Format,
    columns: Sequence[str],
) -> int:
    """Write rows atomically as JSON Lines, CSV (with header), one JSON array or Parquet.

    Parameters
    ----------
    rows : iterable of mappings
        The records.
    path : str or PathLike
        Target file, or ``-`` for standard output (not for Parquet).
    fmt : {"jsonl", "csv", "json", "parquet"}
        Output format; Parquet needs pyarrow (``clusterer[parquet]``).
    columns : sequence of str
        CSV header and column order; the Parquet columns (typed for the per-article
        columns, inferred from the values otherwise).

    Returns
    -------
    int
        Rows written.

    Raises
    ------
    OutputError
        If the file cannot be written.
    """
    if fmt not in ("jsonl", "csv", "json", "parquet"):
        raise OutputError(
            f"cannot write {path}: unknown format {fmt!r} (jsonl, csv, json or parquet)"
        )
    if fmt == "parquet":
        return _write_parquet(list(rows), path, columns)
    count = 0
    with atomic_write(path, binary=fmt != "csv") as out:
        if fmt == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(row.get(c)) for c in columns])
                count += 1
            return count
        if fmt == "json":
            items = list(rows)
            out.write(orjson.dumps(items, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
            return len(items)
        buffer: list[bytes] = []
        for row in rows:
            buffer.append(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))
            count += 1
            if len(buffer) >= _CHUNK:
                out.write(b"".join(buffer))
                buffer.clear()
        out.write(b"".join(buffer))
    return count


def _assignment_schema(pa: Any) -> Any:
    """Parquet schema of the per-article rows of :func:`assignment_rows`."""
    return pa.schema(
        [
            ("id", pa.string()),
            ("title", pa.string()),
            ("source", pa.string()),
            ("date", pa.string()),
            ("url", pa.string()),
            ("story_id", pa.int64()),
            ("duplicate_group_id", pa.int64()),
            ("duplicate_score", pa.float64()),
            ("story_score", pa.float64()),
            ("empty", pa.bool_()),
            ("origin", pa.string()),
        ]
    )


def _write_parquet(
    rows: list[Mapping[str, Any]], path: str | os.PathLike[str], columns: Sequence[str]
) -> int:
    check_format(path, "parquet")
    pq = pyarrow_parquet()
    import pyarrow as pa

    if tuple(columns) == ASSIGNMENT_FIELDS:
        schema = _assignment_schema(pa)
        table = pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()
    elif rows:
        table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows])
    else:
        table = pa.table({c: pa.array([], pa.string()) for c in columns})
    with atomic_write(path, binary=True) as out:
        pq.write_table(table, out)
    return len(rows)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    return str(value)


def read_assignments(path: str | os.PathLike[str]) -> list[Assignment]:
    """Read per-article output back: one file, or a directory of partition files.

    Parameters
    ----------
    path : str or PathLike
        A file written by :func:`write_assignments` (JSON Lines, JSON array or CSV, by
        suffix), a ``.parquet`` file, or a directory of ``part-NNNNN.jsonl`` /
        ``part-NNNNN.parquet`` files as the Dask engine writes them (read in name order).

    Returns
    -------
    list of Assignment
        In file order.

    Raises
    ------
    OutputError
        If the file cannot be read or is not an assignment file.
    MissingExtraError
        For Parquet without pyarrow installed.
    """
    if os.path.isdir(path):
        parts = sorted(p for p in Path(path).glob("part-*") if p.suffix.lower() in _PART_SUFFIXES)
        if not parts:
            raise OutputError(
                f"cannot read {path}: a directory without part-NNNNN.jsonl or "
                "part-NNNNN.parquet files (is it a clusterer output directory?)"
            )
        return [a for part in parts for a in read_assignments(part)]
    fmt = format_for(path)
    parquet = fmt == "parquet"
    try:
        data = b"" if parquet else Path(path).read_bytes()
        rows: Sequence[Mapping[str, Any]]
        if parquet:
            rows = parquet_rows(path)
        elif fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
        elif fmt == "json":
            rows = orjson.loads(data)
        else:
            rows = [orjson.loads(line) for line in data.splitlines() if line.strip()]
        return [_assignment(row, fmt == "csv") for row in rows]
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise OutputError(
            f"cannot read {path}: not a clusterer output file ({type(exc).__name__}: {exc})"
        ) from None


_PART_SUFFIXES = (".jsonl", ".parquet")


def _assignment(row: Mapping[str, Any], text: bool) -> Assignment:
    def opt(key: str) -> Any:
        value = row.get(key)
        return None if value in (None, "") and text else value

    date = opt("date")
    empty = row.get("empty", False)
    return Assignment(
        id=str(row["id"]),
        title=str(row.get("title") or ""),
        source=opt("source"),
        date=datetime.fromisoformat(date) if date else None,
        url=opt("url"),
        story_id=int(row["story_id"]),
        duplicate_group_id=int(row["duplicate_group_id"]),
        duplicate_score=float(row.get("duplicate_score") or 0.0),
        story_score=float(row.get("story_score") or 0.0),
        empty=empty == "true" if isinstance(empty, str) else bool(empty),
        origin=str(row.get("origin") or ""),
    )
