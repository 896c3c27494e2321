"""Writing results: per-article assignments, story summaries, rejects, and a terminal table.

Every file is written atomically: rows go to a temporary file in the target directory,
which replaces the target with :func:`os.replace` only once it is complete. An
interrupted run (Ctrl-C, a full disk) therefore never leaves a half-written file, and
a location that cannot be written raises :class:`~clusterer.errors.OutputError` naming
the path. The path ``-`` writes to standard output instead (not atomic).

Formats are chosen by name (``"jsonl"``, ``"csv"``, ``"json"``) or from the file
suffix with :func:`format_for`. In CSV, list-valued fields are JSON-encoded strings.
"""

from __future__ import annotations

import csv
import io
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal

import orjson
from rich.table import Table

from .errors import OutputError
from .models import Assignment, Clustering, Reject, Story

__all__ = [
    "ASSIGNMENT_FIELDS",
    "STORY_FIELDS",
    "Format",
    "assignment_rows",
    "atomic_write",
    "check_writable",
    "format_for",
    "read_assignments",
    "story_rows",
    "summary_table",
    "write_assignments",
    "write_json",
    "write_rejects",
    "write_rows",
    "write_stories",
]

Format = Literal["jsonl", "csv", "json"]

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
)

_SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_CHUNK = 8192


def format_for(path: str | os.PathLike[str], default: Format = "jsonl") -> Format:
    """Choose an output format from a file suffix.

    Parameters
    ----------
    path : str or PathLike
        Target file.
    default : {"jsonl", "csv", "json"}, default "jsonl"
        Format for unknown suffixes and for ``-``.

    Returns
    -------
    {"jsonl", "csv", "json"}
        ``.csv`` gives CSV, ``.json`` JSON, anything else ``default``.
    """
    return _SUFFIXES.get(Path(path).suffix.lower(), default)


def check_writable(path: str | os.PathLike[str]) -> None:
    """Fail early if ``path`` clearly cannot be written (before a long run).

    Parameters
    ----------
    path : str or PathLike
        Target file (``-`` is always accepted).

    Raises
    ------
    OutputError
        If the path is a directory, or its directory does not exist or is not writable.
    """
    if str(path) == "-":
        return
    target = Path(path)
    parent = target.parent
    if target.is_dir():
        raise OutputError(f"cannot write {target}: it is a directory")
    if _is_special(target):
        if not os.access(target, os.W_OK):
            raise OutputError(f"cannot write {target}: permission denied")
        return
    if not parent.is_dir():
        raise OutputError(f"cannot write {target}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {target}: directory {parent} is not writable")


@contextmanager
def atomic_write(path: str | os.PathLike[str], *, binary: bool = False) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` that replaces it on success.

    Parameters
    ----------
    path : str or PathLike
        Target file; ``-`` means standard output (written directly).
    binary : bool, default False
        Open in binary mode (else UTF-8 text, newlines untranslated).

    Yields
    ------
    file object
        Write the content here. On any exception, ``KeyboardInterrupt`` included,
        the temporary file is removed and the target is left as it was.

    Raises
    ------
    OutputError
        If the location cannot be written (missing directory, permissions, disk full).
    """
    if str(path) == "-":
        stream: IO[Any] = sys.stdout.buffer if binary else sys.stdout
        yield stream
        stream.flush()
        return
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"cannot write {target}: it is a directory")
    if _is_special(target):
        # A device or pipe (/dev/null, /dev/stdout, a FIFO) cannot be replaced by a
        # rename (as root that would turn /dev/null into a regular file): write to it.
        with _special(target, binary) as special:
            yield special
        return
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent if target.parent else "."
        )
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        if binary:
            handle: IO[Any] = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        _remove(tmp)
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        _remove(tmp)
        raise


def _is_special(target: Path) -> bool:
    """Return whether ``target`` exists and is neither a regular file nor a directory."""
    try:
        mode = target.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


@contextmanager
def _special(target: Path, binary: bool) -> Iterator[IO[Any]]:
    """Open a device or pipe for writing, turning OS errors into :class:`OutputError`."""
    try:
        handle: IO[Any] = (
            open(target, "wb")  # noqa: SIM115 - closed by the with below
            if binary
            else open(target, "w", encoding="utf-8", newline="")  # noqa: SIM115
        )
        with handle:
            yield handle
            handle.flush()
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None


def _remove(path: str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(path)


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
        }


def write_rows(
    rows: Iterable[Mapping[str, Any]],
    path: str | os.PathLike[str],
    fmt: Format,
    columns: Sequence[str],
) -> int:
    """Write rows atomically as JSON Lines, CSV (with header) or one JSON array.

    Parameters
    ----------
    rows : iterable of mappings
        The records.
    path : str or PathLike
        Target file, or ``-`` for standard output.
    fmt : {"jsonl", "csv", "json"}
        Output format.
    columns : sequence of str
        CSV header and column order (ignored for JSON formats).

    Returns
    -------
    int
        Rows written.

    Raises
    ------
    OutputError
        If the file cannot be written.
    """
    if fmt not in ("jsonl", "csv", "json"):
        raise OutputError(f"cannot write {path}: unknown format {fmt!r} (jsonl, csv or json)")
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


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    return str(value)


def write_assignments(
    clustering: Clustering, path: str | os.PathLike[str], fmt: Format | None = None
) -> int:
    """Write one row per article (see :data:`ASSIGNMENT_FIELDS`).

    Parameters
    ----------
    clustering : Clustering
        The result.
    path : str or PathLike
        Target file, or ``-`` for standard output.
    fmt : {"jsonl", "csv", "json"}, optional
        Defaults to :func:`format_for` of the path.

    Returns
    -------
    int
        Rows written.
    """
    fmt = fmt or format_for(path)
    return write_rows(assignment_rows(clustering.assignments), path, fmt, ASSIGNMENT_FIELDS)


def write_stories(
    clustering: Clustering, path: str | os.PathLike[str], fmt: Format | None = None
) -> int:
    """Write the story summary, one row per story (see :data:`STORY_FIELDS`).

    Parameters
    ----------
    clustering : Clustering
        The result.
    path : str or PathLike
        Target file, or ``-`` for standard output.
    fmt : {"jsonl", "csv", "json"}, optional
        Defaults to :func:`format_for` of the path.

    Returns
    -------
    int
        Rows written.
    """
    fmt = fmt or format_for(path)
    return write_rows(story_rows(clustering), path, fmt, STORY_FIELDS)


def write_rejects(rejects: Iterable[Reject], path: str | os.PathLike[str]) -> int:
    """Write skipped input records as JSON Lines ``{"origin": ..., "reason": ...}``.

    Parameters
    ----------
    rejects : iterable of Reject
        From ``ReadReport.rejects`` or :attr:`Clustering.rejects`.
    path : str or PathLike
        Target file.

    Returns
    -------
    int
        Rows written.
    """
    rows = ({"origin": r.origin, "reason": r.reason} for r in rejects)
    return write_rows(rows, path, "jsonl", ("origin", "reason"))


def write_json(data: Any, path: str | os.PathLike[str]) -> None:
    """Write one JSON document atomically (used for configs).

    Parameters
    ----------
    data : Any
        JSON-serialisable data.
    path : str or PathLike
        Target file.
    """
    with atomic_write(path, binary=True) as out:
        out.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


def read_assignments(path: str | os.PathLike[str]) -> list[Assignment]:
    """Read a per-article output file back (JSON Lines, JSON array or CSV, by suffix).

    Parameters
    ----------
    path : str or PathLike
        A file written by :func:`write_assignments`.

    Returns
    -------
    list of Assignment
        In file order.

    Raises
    ------
    OutputError
        If the file cannot be read or is not an assignment file.
    """
    fmt = format_for(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror or exc}") from None
    rows: list[Mapping[str, Any]]
    try:
        if fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
        elif fmt == "json":
            rows = orjson.loads(data)
        else:
            rows = [orjson.loads(line) for line in data.splitlines() if line.strip()]
        return [_assignment(row, fmt == "csv") for row in rows]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise OutputError(
            f"cannot read {path}: not a clusterer output file ({type(exc).__name__}: {exc})"
        ) from None


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


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _span(story: Story) -> str:
    if story.first is None or story.last is None:
        return "—"
    first, last = story.first.date().isoformat(), story.last.date().isoformat()
    return first if first == last else f"{first} → {last}"


def summary_table(
    clustering: Clustering,
    limit: int | None = None,
    *,
    sort: Callable[[Story], Any] | None = None,
) -> Table:
    """Build a terminal table of the stories, largest first.

    Parameters
    ----------
    clustering : Clustering
        The result.
    limit : int, optional
        Show at most this many stories (a caption counts the rest).
    sort : callable, optional
        Sort key; by default size descending, then story id.

    Returns
    -------
    rich.table.Table
        Columns: story id, size, representative title, outlets, date span, and
        duplicate groups (count, with the sizes of those with copies).
    """
    groups = {g.id: len(g.members) for g in clustering.duplicate_groups}
    stories = sorted(clustering.stories, key=sort or (lambda s: (-len(s.members), s.id)))
    shown = stories if limit is None else stories[:limit]
    table = Table(
        title=f"{_count(len(stories), 'story', 'stories')} from "
        f"{_count(clustering.n_articles, 'article', 'articles')}"
    )
    table.add_column("story", justify="right")
    table.add_column("size", justify="right")
    table.add_column("title", overflow="fold")
    table.add_column("outlets", overflow="fold")
    table.add_column("dates")
    table.add_column("dup. groups")
    for s in shown:
        sizes = sorted((groups[g] for g in s.duplicate_groups if groups[g] > 1), reverse=True)
        dups = str(len(s.duplicate_groups))
        if sizes:
            dups += " (copies: " + "+".join(map(str, sizes)) + ")"
        table.add_row(str(s.id), str(len(s.members)), s.title, ", ".join(s.sources), _span(s), dups)
    if len(shown) < len(stories):
        table.caption = (
            f"{len(stories) - len(shown)} smaller stories not shown (see --limit, or -o)"
        )
    return table
