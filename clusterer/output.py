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

import os
from collections.abc import Iterable
from typing import Any

import orjson

from ._atomic import Format, atomic_write, check_format, check_writable, format_for
from ._gc import gc_paused
from ._rows import (
    ASSIGNMENT_FIELDS,
    STORY_FIELDS,
    assignment_json_rows,
    assignment_rows,
    read_assignments,
    story_rows,
    write_rows,
)
from ._summary import summary_table
from .models import Clustering, Reject

__all__ = [
    "ASSIGNMENT_FIELDS",
    "STORY_FIELDS",
    "Format",
    "assignment_rows",
    "atomic_write",
    "check_format",
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


@gc_paused()
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
    fmt : {"jsonl", "csv", "json", "parquet"}, optional
        Defaults to :func:`format_for` of the path.

    Returns
    -------
    int
        Rows written.
    """
    fmt = fmt or format_for(path)
    rows = assignment_json_rows if fmt in ("jsonl", "json") else assignment_rows
    return write_rows(rows(clustering.assignments), path, fmt, ASSIGNMENT_FIELDS)


@gc_paused()
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
    fmt : {"jsonl", "csv", "json", "parquet"}, optional
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
