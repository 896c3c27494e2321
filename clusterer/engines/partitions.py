"""Partitioned inputs and outputs: JSON Lines, Parquet, CSV/TSV (in) as a directory or glob.

An input is cut into :class:`Partition` pieces, each readable on its own by any process:

* a JSON Lines file is one partition, or several line-aligned byte ranges of it when more
  partitions are asked for than there are files;
* a Parquet file is one partition, or several runs of its row groups;
* a CSV or TSV file (with a header row) is one partition.

Articles read from a partition carry the same ``origin`` (``path:line``, or ``path:row``
for Parquet, counting from 1) and the same derived ids as a whole-file read, so the
local and distributed engines see identical articles in an identical global order
(partition order, then row order).
"""

from __future__ import annotations

import glob
import io
import itertools
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from .._pyarrow import pyarrow_parquet
from ..errors import ConfigError, CorpusError, param_message
from ..models import Article, Assignment
from ..readers.compressed import COMPRESSIONS, format_suffix
from ..readers.delimited import read_delimited
from ..readers.jsonl import read_jsonl
from ..readers.options import FieldMap, OnDuplicateId, ReadContext, ReadReport
from ..readers.parquet import read_parquet, row_groups

__all__ = [
    "Partition",
    "ReadOptions",
    "concat_files",
    "count_lines",
    "discover",
    "output_kind",
    "read_partition",
    "write_partition",
]

Kind = Literal["jsonl", "parquet"]
InputKind = Literal["jsonl", "parquet", "csv", "tsv"]
_KINDS: dict[str, Kind] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
# CSV/TSV are inputs only, one partition per file: a quoted field may span lines, so a
# byte range cannot be cut at a line start without parsing from the top.
_INPUT_KINDS: dict[str, InputKind] = {**_KINDS, ".csv": "csv", ".tsv": "tsv"}


@dataclass(frozen=True)
class ReadOptions:
    """How records become articles (the subset of ``read_articles`` options engines use).

    Parameters
    ----------
    fields : FieldMap
        Field names.
    on_error : {"raise", "skip"}
        Raise on a bad record, or skip it and report it.
    encoding : str
        Encoding of JSON Lines inputs.
    page_date : datetime or None
        Reference time for relative dates.
    on_duplicate_id : {"error", "first", "rename"}
        On a repeated id across all partitions: raise, keep the first (later ones become
        rejects) or rename later ones ``id~2``, ``id~3``... as :func:`clusterer.read_articles`.
    """

    fields: FieldMap = field(default_factory=FieldMap)
    on_error: Literal["raise", "skip"] = "raise"
    encoding: str = "utf-8"
    page_date: datetime | None = None
    on_duplicate_id: OnDuplicateId = "error"

    def __post_init__(self) -> None:
        """Check the duplicate-id policy (the reader context checks the others)."""
        if self.on_duplicate_id not in ("error", "first", "rename"):
            raise ConfigError(
                param_message(
                    "ReadOptions",
                    "on_duplicate_id",
                    "one of 'error', 'first', 'rename'",
                    self.on_duplicate_id,
                )
            )


@dataclass(frozen=True)
class Partition:
    """One independently readable piece of the input.

    Parameters
    ----------
    path : str
        The file.
    label : str
        The file as shown in origins.
    key : str
        Prefix of derived ids (``<key>:<line>``), as :func:`clusterer.read_articles` uses.
    kind : {"jsonl", "parquet", "csv", "tsv"}
        Format.
    start, stop : int
        Byte range (JSON Lines) or row-group range (Parquet); ``stop=-1`` means to the end.
    first_line : int
        Line (JSON Lines) or row (Parquet) number of the first record, minus one.
    """

    path: str
    label: str
    key: str
    kind: InputKind
    start: int = 0
    stop: int = -1
    first_line: int = 0


def _expand(paths: Sequence[str | os.PathLike[str]]) -> list[tuple[Path, str, str]]:
    """Files named by paths (directories walked sorted, globs expanded sorted)."""
    out: list[tuple[Path, str, str]] = []
    for given in paths:
        text = str(given)
        path = Path(text)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    file = Path(root) / name
                    if not name.startswith(".") and _readable(file):
                        out.append((file, str(file), file.relative_to(path).as_posix()))
            out.sort(key=lambda t: t[2])
        elif path.exists():
            if not _readable(path):
                raise CorpusError(
                    text, "not a JSONL, Parquet, CSV or TSV file, which the Dask engine reads"
                )
            out.append((path, text, path.name))
        elif glob.has_magic(text):
            for match in sorted(glob.glob(text)):
                file = Path(match)
                if file.is_file() and _readable(file):
                    out.append((file, match, file.name))
        else:
            raise CorpusError(text, "no such file or directory; check the path")
    if not out:
        given = ", ".join(map(str, paths)) or "(none)"
        raise CorpusError(given, "no JSONL, Parquet, CSV or TSV input found")
    return out


def _readable(file: Path) -> bool:
    """Whether the Dask engine reads ``file``; a compressed input of its formats is an error.

    The local readers decompress ``.gz``, ``.bz2`` and ``.xz`` files; here a partition
    is a byte range of a file, which a compressed stream cannot be cut into, and
    skipping the file would lose its articles silently.
    """
    if file.suffix.lower() in COMPRESSIONS and format_suffix(file) in _INPUT_KINDS:
        raise CorpusError(
            str(file),
            "compressed inputs are not read by the Dask engine (its partitions are byte "
            "ranges of a file); decompress it, or use the local engine",
        )
    return file.suffix.lower() in _INPUT_KINDS


def discover(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    partitions: int | None = None,
) -> list[Partition]:
    """Cut the inputs into partitions.

    Parameters
    ----------
    paths : path or sequence of paths
        Files, directories (walked in sorted order) or glob patterns; ``.jsonl``,
        ``.ndjson``, ``.json`` (JSON Lines), ``.parquet``, ``.csv`` and ``.tsv`` files
        are read.
    partitions : int, optional
        Wanted number of partitions. By default one per file; a larger number splits
        files (JSON Lines by line-aligned byte ranges, Parquet by row groups; CSV and TSV
        files stay whole).

    Returns
    -------
    list of Partition
        In global order; call :func:`count_lines` on each to fill ``first_line``
        of later JSON Lines ranges (the engines do).
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if partitions is not None and (isinstance(partitions, bool) or partitions < 1):
        raise ConfigError(param_message("engine", "partitions", "an int >= 1 or None", partitions))
    files = _expand(paths)
    sizes = []
    for path, _, _ in files:
        kind = _INPUT_KINDS[path.suffix.lower()]
        sizes.append(row_groups(path) if kind == "parquet" else path.stat().st_size)
    want = max(partitions or len(files), len(files))
    total = sum(max(s, 1) for s in sizes)
    out: list[Partition] = []
    for (path, label, key), size in zip(files, sizes, strict=True):
        kind = _INPUT_KINDS[path.suffix.lower()]
        pieces = max(1, round(want * max(size, 1) / total)) if want > len(files) else 1
        if kind in ("csv", "tsv"):
            bounds = [0, -1]
        elif kind == "parquet":
            pieces = min(pieces, max(size, 1))
            bounds = [round(i * size / pieces) for i in range(pieces + 1)]
        else:
            bounds = _line_bounds(path, size, pieces)
        for a, b in itertools.pairwise(bounds):
            if b > a or (a == 0 and b <= 0):
                out.append(Partition(str(path), label, key, kind, a, b))
    return out


def _line_bounds(path: Path, size: int, pieces: int) -> list[int]:
    """Byte offsets cutting a file into about ``pieces`` ranges at line starts."""
    bounds = [0]
    with open(path, "rb") as f:
        for i in range(1, pieces):
            target = max(i * size // pieces, bounds[-1])
            f.seek(target)
            f.readline()  # to the start of the next line
            pos = f.tell()
            if pos < size and pos > bounds[-1]:
                bounds.append(pos)
    bounds.append(size)
    return bounds


def count_lines(part: Partition) -> int:
    """Count the lines (JSON Lines) or rows (Parquet) of a partition."""
    if part.kind == "parquet":
        pq = pyarrow_parquet()
        meta = pq.ParquetFile(part.path).metadata
        return sum(meta.row_group(g).num_rows for g in range(part.start, part.stop))
    with open(part.path, "rb") as f:
        f.seek(part.start)
        left = part.stop - part.start
        count = 0
        while left > 0:
            chunk = f.read(min(left, 1 << 24))
            if not chunk:
                break
            count += chunk.count(b"\n")
            left -= len(chunk)
    return count


def numbered(parts: Sequence[Partition], counts: Sequence[int]) -> list[Partition]:
    """Set ``first_line`` of each partition from the line counts of earlier ones of its file."""
    out: list[Partition] = []
    seen: dict[str, int] = {}
    for part, count in zip(parts, counts, strict=True):
        first = seen.get(part.path, 0)
        out.append(
            Partition(part.path, part.label, part.key, part.kind, part.start, part.stop, first)
        )
        seen[part.path] = first + count
    return out


def read_partition(part: Partition, options: ReadOptions, report: ReadReport) -> Iterator[Article]:
    """Read the articles of one partition, in order.

    Parameters
    ----------
    part : Partition
        What to read (with ``first_line`` set).
    options : ReadOptions
        Field mapping and error policy.
    report : ReadReport
        Receives the count and the rejects.

    Yields
    ------
    Article
        With origins and derived ids numbered as in the whole file.
    """
    ctx = ReadContext(options.fields, options.on_error, options.encoding, options.page_date, report)
    report.files += 1
    if part.kind == "parquet":
        groups = range(part.start, part.stop)
        for article in read_parquet(
            part.path,
            label=part.label,
            key=part.key,
            ctx=ctx,
            groups=groups,
            first_row=part.first_line,
        ):
            report.read += 1
            yield article
        return
    if part.kind in ("csv", "tsv"):
        delimiter = "," if part.kind == "csv" else "\t"
        with open(part.path, "rb") as stream:
            for article in read_delimited(
                stream, b"", label=part.label, key=part.key, ctx=ctx, delimiter=delimiter
            ):
                report.read += 1
                yield article
        return
    with open(part.path, "rb") as f:
        f.seek(part.start)
        data = f.read(part.stop - part.start) if part.stop >= 0 else f.read()
    articles = read_jsonl(io.BytesIO(data), b"", label=part.label, key=part.key, ctx=ctx)
    shift = part.first_line
    for article in articles:
        report.read += 1
        if shift:
            article = _renumber(article, part, shift)
        yield article
    if shift:
        for i, reject in enumerate(report.rejects):
            label, _, number = reject.origin.rpartition(":")
            if label == part.label and number.isdigit():
                report.rejects[i] = type(reject)(f"{label}:{int(number) + shift}", reject.reason)


def _renumber(article: Article, part: Partition, shift: int) -> Article:
    """Shift the line number in origin (and in a derived id) by the lines before the range."""
    import dataclasses

    number = int(article.origin.rpartition(":")[2])
    changes: dict[str, Any] = {"origin": f"{part.label}:{number + shift}"}
    if article.id == f"{part.key}:{number}":
        changes["id"] = f"{part.key}:{number + shift}"
    return dataclasses.replace(article, **changes)


def output_kind(path: str | os.PathLike[str]) -> tuple[Kind, bool]:
    """Format of an output path and whether it is a directory of partitions.

    A path ending in ``.jsonl``/``.ndjson``/``.json`` or ``.parquet`` is a single file;
    anything else is a directory, written as ``part-00000.jsonl``... (JSON Lines) or, for
    a name ending in ``/`` after a ``parquet`` stem such as ``out.parquet/``, Parquet.
    """
    text = str(path)
    suffix = Path(text.rstrip("/\\")).suffix.lower()
    kind = _KINDS.get(suffix, "jsonl")
    directory = text.endswith(("/", os.sep)) or suffix not in _KINDS or os.path.isdir(text)
    return kind, directory


def write_partition(
    assignments: Sequence[Assignment], path: str | os.PathLike[str], kind: Kind
) -> int:
    """Write assignment rows of one partition (atomically) as JSON Lines or Parquet.

    Returns
    -------
    int
        Rows written.
    """
    from ..output import ASSIGNMENT_FIELDS, assignment_rows, write_rows

    return write_rows(assignment_rows(assignments), path, kind, ASSIGNMENT_FIELDS)


def concat_files(files: Sequence[str], output: str | os.PathLike[str]) -> None:
    """Write the bytes of ``files`` one after the other to ``output`` (atomically, streaming)."""
    from ..output import atomic_write

    with atomic_write(output, binary=True) as out:
        for f in files:
            with open(f, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
