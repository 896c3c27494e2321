"""Compressed inputs: gzip, bzip2 and xz files (and standard input) read transparently.

News dumps often come compressed (``articles.jsonl.gz``). An input is decompressed when
its first bytes are the magic number of one of these formats, whatever its name, so a
pipe (``curl ... | clusterer cluster -``) works too; the suffix under the compression
suffix (``.jsonl`` in ``articles.jsonl.gz``) names the format, as for plain files.

A corrupt or truncated stream stops with a :class:`~clusterer.errors.CorpusError`
naming the file (the articles read before it stay read), never a traceback.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from pathlib import Path
from typing import BinaryIO, cast

from ..errors import CorpusError

__all__ = ["COMPRESSIONS", "decompressing", "detect", "format_suffix"]

#: Compression of each suffix (lower case).
COMPRESSIONS: dict[str, str] = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)
_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error)


def format_suffix(path: Path) -> str:
    """Suffix that names the format: ``.jsonl`` for ``a.jsonl.gz`` and for ``a.jsonl``."""
    suffix = path.suffix.lower()
    if suffix in COMPRESSIONS:
        return Path(path.stem).suffix.lower()
    return suffix


def detect(head: bytes) -> str | None:
    """Compression whose magic number starts ``head``, or None."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


class _Prefixed(io.RawIOBase):
    """``head`` followed by the rest of ``stream`` (its first bytes were read already)."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _Decompressed(io.RawIOBase):
    """A decompressing stream whose format errors become :class:`CorpusError`."""

    def __init__(self, inner: io.BufferedIOBase, compression: str, label: str) -> None:
        self._inner = inner
        self._compression = compression
        self._label = label

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        # readinto1: what one step of decompression gives, so that the bytes before a
        # corrupt or truncated point are delivered (and their lines read) before the
        # next call raises; a full readinto would lose the whole chunk with the error.
        try:
            return self._inner.readinto1(buffer)
        except _ERRORS as exc:
            raise self._error(exc) from None

    def read(self, size: int | None = -1) -> bytes:
        # A whole-file read (text and HTML pages) takes everything; a sized one what one
        # step gives (fewer bytes than asked is not the end: callers read until b"").
        try:
            if size is None or size < 0:
                return self._inner.read()
            return self._inner.read1(size)
        except _ERRORS as exc:
            raise self._error(exc) from None

    def _error(self, exc: BaseException) -> CorpusError:
        return CorpusError(
            self._label,
            f"cannot decompress the {self._compression} data ({exc}); the file is "
            "truncated or corrupt (the articles before this point were read)",
        )

    def close(self) -> None:
        self._inner.close()
        super().close()


def decompressing(stream: BinaryIO, head: bytes, compression: str, label: str) -> BinaryIO:
    """Return a stream of the decompressed bytes of ``head`` + the rest of ``stream``.

    Parameters
    ----------
    stream : BinaryIO
        The raw input, ``head`` already read from it.
    head : bytes
        Its first bytes.
    compression : {"gzip", "bzip2", "xz"}
        From :func:`detect`.
    label : str
        The input's name, for errors.

    Returns
    -------
    BinaryIO
        Supports ``read`` and ``readinto``; closing it does not close ``stream``.
    """
    raw = cast(BinaryIO, _Prefixed(head, stream))
    inner: io.BufferedIOBase
    if compression == "gzip":
        inner = gzip.GzipFile(fileobj=raw, mode="rb")
    elif compression == "bzip2":
        inner = bz2.BZ2File(raw, mode="rb")
    else:
        inner = lzma.LZMAFile(raw, mode="rb")  # noqa: SIM115 - the wrapper closes it
    return cast(BinaryIO, _Decompressed(inner, compression, label))
