"""Byte-level helpers: fast line splitting, decoding with precise error messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol, cast

from ..errors import CorpusError

__all__ = [
    "BOM",
    "CHUNK_SIZE",
    "check_not_binary",
    "decode_error_reason",
    "decode_text",
    "iter_line_views",
    "iter_lines",
]

#: Bytes read per chunk when splitting lines (large chunks keep the work in C).
CHUNK_SIZE = 1 << 23
#: The UTF-8 byte order mark, stripped from the start of every input.
BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def iter_lines(stream: BinaryIO, head: bytes = b"", *, keepends: bool = False) -> Iterator[bytes]:
    r"""Yield the lines of a binary stream, split on ``\n`` only.

    Splitting bytes on ``\n`` (not :meth:`str.splitlines`) keeps U+2028 and other
    Unicode separators inside JSON strings from breaking records, and keeps line
    numbers equal to what ``wc -l`` and editors show.

    Parameters
    ----------
    stream : BinaryIO
        The rest of the input.
    head : bytes, optional
        Bytes already read from the start of the stream (they come first).
    keepends : bool, default False
        Keep the ``\n`` at the end of each line (the csv module needs it to see
        line breaks inside quoted fields).

    Yields
    ------
    bytes
        One line per item (a final line without ``\n`` included); a leading UTF-8
        BOM is removed.
    """
    carry = head
    checked = False
    while True:
        chunk = stream.read(CHUNK_SIZE)
        if not chunk:
            break
        carry += chunk
        if not checked:
            if len(carry) < len(BOM) and BOM.startswith(carry):
                continue  # may still be a BOM: split nothing off the stream's start yet
            checked = True
            carry = carry[len(BOM) :] if carry.startswith(BOM) else carry
        parts = carry.split(b"\n")
        carry = parts.pop()
        yield from _ends(parts, keepends)
    if not checked and carry.startswith(BOM):
        carry = carry[len(BOM) :]
    parts = carry.split(b"\n")
    last = parts.pop()
    yield from _ends(parts, keepends)
    if last:
        yield last


class _ReadInto(Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...


def iter_line_views(stream: BinaryIO, head: bytes = b"") -> Iterator[memoryview]:
    r"""Yield the lines of a binary stream as views into one reused buffer.

    The same lines as :func:`iter_lines` (split on ``\n`` only, a leading UTF-8 BOM
    removed, a final line without ``\n`` included when it is not empty), but no line
    is copied: the stream is read into a buffer that is kept from chunk to chunk and
    each line is a :class:`memoryview` of it. This spares a large copy per chunk and
    one allocation per line, and keeps fresh memory (page faults) out of the loop.

    Parameters
    ----------
    stream : BinaryIO
        The rest of the input; it must support ``readinto``.
    head : bytes, optional
        Bytes already read from the start of the stream (they come first).

    Yields
    ------
    memoryview
        One line (without its ``\n``). It is valid only until the next line is
        requested: copy it (``bytes(view)``) to keep it.
    """
    readinto = cast(_ReadInto, stream).readinto
    buf = bytearray(max(CHUNK_SIZE, 2 * len(head), 1))
    buf[: len(head)] = head
    have = len(head)
    pos = 0
    checked = False
    eof = False
    while not eof:
        got = readinto(memoryview(buf)[have:])
        eof = not got
        have += got or 0
        # The BOM test must see the stream's first bytes: no line is split off (and the
        # buffer is not shifted past them) until it is decided.
        if not checked and (have >= len(BOM) or eof or not BOM.startswith(buf[:have])):
            checked = True
            pos = len(BOM) if buf.startswith(BOM) else 0
        view = memoryview(buf)
        find = buf.find
        while checked:
            nl = find(b"\n", pos, have)
            if nl < 0:
                break
            yield view[pos:nl]
            pos = nl + 1
        if eof:
            if pos < have:
                yield view[pos:have]
            return
        rest = have - pos
        if rest * 2 > len(buf):  # a long line: a larger buffer (views of the old one stay valid)
            grown = bytearray(max(2 * len(buf), CHUNK_SIZE))
            grown[:rest] = view[pos:have]
            buf = grown
        else:
            buf[:rest] = buf[pos:have]  # a copy first: the ranges may overlap
        have, pos = rest, 0


def _ends(parts: list[bytes], keepends: bool) -> Iterator[bytes]:
    if keepends:
        for part in parts:
            yield part + b"\n"
    else:
        yield from parts


def check_not_binary(head: bytes, label: str) -> None:
    """Raise :class:`CorpusError` when the start of a file shows it is not text.

    Parameters
    ----------
    head : bytes
        The first bytes of the file.
    label : str
        The file as shown in messages.

    Raises
    ------
    CorpusError
        On a NUL byte or a UTF-16 byte order mark.
    """
    if head.startswith(_UTF16_BOMS):
        raise CorpusError(
            label,
            "this file is UTF-16; re-encode it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)",
        )
    nul = head.find(b"\x00")
    if nul >= 0:
        raise CorpusError(
            label,
            f"binary file (NUL byte at offset {nul}), not text; if it is compressed in a "
            "format not read here (zip, zstd), decompress it first, otherwise remove it "
            "from the input",
        )


def decode_error_reason(exc: UnicodeDecodeError, encoding: str, column: int) -> str:
    """Describe a decoding failure and what to do about it.

    Parameters
    ----------
    exc : UnicodeDecodeError
        The failure.
    encoding : str
        The codec that was used.
    column : int
        1-based byte position of the bad byte within its line.

    Returns
    -------
    str
        For example ``invalid UTF-8 at byte 17 of the line (0xe9); re-encode the
        file as UTF-8 or pass --encoding cp1252 (or the file's real encoding)``.
    """
    bad = exc.object[exc.start : exc.start + 1].hex()
    if encoding in ("utf-8", "utf-8-sig"):
        return (
            f"invalid UTF-8 at byte {column} of the line (0x{bad}); re-encode the file as "
            "UTF-8 or pass --encoding cp1252 (or the file's real encoding)"
        )
    return (
        f"cannot decode byte 0x{bad} at byte {column} of the line as {encoding}; "
        "pass the file's real encoding with --encoding"
    )


def decode_text(data: bytes, encoding: str, label: str) -> str:
    r"""Decode a whole file, naming ``path:line`` when a byte is invalid.

    Parameters
    ----------
    data : bytes
        The file content.
    encoding : str
        Codec name.
    label : str
        The file as shown in messages.

    Returns
    -------
    str
        The text, without a leading byte order mark, with ``\r\n`` and ``\r``
        turned into ``\n``.

    Raises
    ------
    CorpusError
        On bytes that are invalid in ``encoding``.
    """
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise CorpusError(f"{label}:{line}", decode_error_reason(exc, encoding, column)) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
