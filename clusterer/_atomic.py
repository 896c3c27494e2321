"""Atomic file handling for the writers: format choice, early checks, atomic replacement.

Every file is written atomically: content goes to a temporary file in the target
directory, which replaces the target with :func:`os.replace` only once it is complete.
An interrupted run (Ctrl-C, a full disk) therefore never leaves a half-written file, and
a location that cannot be written raises :class:`~clusterer.errors.OutputError` naming
the path. The path ``-`` writes to standard output instead (not atomic); devices and
pipes are written in place.

The public names are re-exported by :mod:`clusterer.output`.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, Literal

from ._pyarrow import pyarrow_parquet
from .errors import OutputError

__all__ = ["Format", "atomic_write", "check_format", "check_writable", "format_for"]

Format = Literal["jsonl", "csv", "json", "parquet"]

_SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def format_for(path: str | os.PathLike[str], default: Format = "jsonl") -> Format:
    """Choose an output format from a file suffix.

    Parameters
    ----------
    path : str or PathLike
        Target file.
    default : {"jsonl", "csv", "json", "parquet"}, default "jsonl"
        Format for unknown suffixes and for ``-``.

    Returns
    -------
    {"jsonl", "csv", "json", "parquet"}
        ``.csv`` gives CSV, ``.json`` JSON, ``.jsonl``/``.ndjson`` JSON Lines,
        ``.parquet``/``.pq`` Parquet, anything else ``default``.
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


def check_format(path: str | os.PathLike[str], fmt: Format | None = None) -> None:
    """Fail early if ``path`` cannot take the format ``fmt`` (default: by its suffix).

    Parquet needs a file (not ``-``) and pyarrow (``clusterer[parquet]``).

    Raises
    ------
    OutputError
        For Parquet on standard output.
    MissingExtraError
        For Parquet without pyarrow.
    """
    if (fmt or format_for(path)) != "parquet":
        return
    if str(path) == "-":
        raise OutputError("cannot write Parquet to standard output; give a file name")
    pyarrow_parquet()


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
