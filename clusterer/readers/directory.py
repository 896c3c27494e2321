"""Expand the paths given to :func:`read_articles` into the input files to read.

Rules:

* ``"-"`` is standard input, read as JSON Lines.
* A file given explicitly is always read. Its format comes from its suffix (under a
  compression suffix: ``.jsonl`` in ``a.jsonl.gz``, see :mod:`.compressed`); an
  unknown suffix (``/dev/fd/63``, ``data.log``) is sniffed from the content.
* A directory is walked recursively in sorted order (code-point order of names,
  so the order is the same everywhere). Hidden entries (name starting with ``.``)
  are ignored. Files whose name starts with ``README`` (any case) describe the
  corpus and are not read, nor are files of unsupported types; both are listed
  in ``ReadReport.skipped``.
* Symbolic links are followed, but a directory or file reached a second time
  (same real path, e.g. through a symlink loop) is not read again.
* The id key of a file (the prefix of ids derived for its records) is its path
  relative to the directory given, or its name when it was given explicitly, so
  ids do not depend on where the corpus lives.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import CorpusError
from ..models import Reject
from .compressed import COMPRESSIONS, format_suffix
from .options import ReadContext

__all__ = ["FORMATS", "SKIPPED_PREFIXES", "STDIN", "InputFile", "expand_paths"]

#: Format of each supported suffix (lower case).
FORMATS: dict[str, str] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".parquet": "parquet",
    ".pq": "parquet",
}
#: Name beginnings (lower case) of files skipped inside directories.
SKIPPED_PREFIXES: tuple[str, ...] = ("readme",)
#: The path that means standard input.
STDIN = "-"


@dataclass(frozen=True)
class InputFile:
    """One input to read.

    Attributes
    ----------
    path : Path or None
        The file, or None for standard input.
    label : str
        Shown in origins (``path`` as given and joined, or ``<stdin>``).
    key : str
        Stable prefix of derived ids.
    kind : str or None
        Format from :data:`FORMATS`; None means sniff the content.
    """

    path: Path | None
    label: str
    key: str
    kind: str | None


def expand_paths(paths: Sequence[str | os.PathLike[str]], ctx: ReadContext) -> Iterator[InputFile]:
    """Yield the input files named by ``paths``, expanding directories.

    Parameters
    ----------
    paths : sequence of str or PathLike
        Files, directories or ``"-"``.
    ctx : ReadContext
        Error policy and report (``skipped`` is filled here).

    Yields
    ------
    InputFile
        In the order given, directories in sorted order.

    Raises
    ------
    CorpusError
        For a missing path or an unlistable directory (with ``on_error="raise"``).
    """
    seen: dict[str, str] = {}
    for given in paths:
        if isinstance(given, str) and given == STDIN:
            yield InputFile(None, "<stdin>", "<stdin>", "jsonl")
            continue
        path = Path(given)
        label = str(path)
        if not path.exists():
            ctx.fail(CorpusError(label, "no such file or directory; check the path"))
        elif path.is_dir():
            yield from _walk(path, path, seen, ctx)
        elif _first_visit(path, label, seen, ctx):
            yield InputFile(path, label, path.name, FORMATS.get(format_suffix(path)))


def _first_visit(path: Path, label: str, seen: dict[str, str], ctx: ReadContext) -> bool:
    real = os.path.realpath(path)
    if real in seen:
        ctx.report.skipped.append(Reject(label, f"same file as {seen[real]}; read once"))
        return False
    seen[real] = label
    return True


def _walk(
    root: Path, directory: Path, seen: dict[str, str], ctx: ReadContext
) -> Iterator[InputFile]:
    real = os.path.realpath(directory)
    if real in seen:
        return
    seen[real] = str(directory)
    try:
        names = sorted(entry.name for entry in os.scandir(directory))
    except OSError as exc:
        ctx.fail(CorpusError(str(directory), f"cannot list directory ({exc.strerror})"))
        return
    for name in names:
        if name.startswith("."):
            continue
        path = directory / name
        label = str(path)
        if path.is_dir():
            yield from _walk(root, path, seen, ctx)
            continue
        kind = FORMATS.get(format_suffix(path))
        if name.lower().startswith(SKIPPED_PREFIXES):
            ctx.report.skipped.append(
                Reject(label, "README files describe a corpus and are not read as articles")
            )
        elif kind is None:
            ctx.report.skipped.append(
                Reject(label, f"unsupported file type {_suffixes(path) or '(no suffix)'!r}")
            )
        elif _first_visit(path, label, seen, ctx):
            yield InputFile(path, label, path.relative_to(root).as_posix(), kind)


def _suffixes(path: Path) -> str:
    """Return the suffix shown for an unsupported file (``.tar.gz`` when compressed)."""
    if path.suffix.lower() in COMPRESSIONS:
        return "".join(path.suffixes[-2:])
    return path.suffix
