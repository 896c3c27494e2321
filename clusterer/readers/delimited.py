"""CSV and TSV reader (``.csv``: comma, ``.tsv``/``.tab``: tab).

The first non-blank row is the header; column names are matched against the
:class:`~clusterer.readers.FieldMap`, other columns go to ``Article.extra`` as
strings. Standard quoting applies to both delimiters (fields with the delimiter,
quotes or line breaks must be double-quoted). The field size limit of the csv
module is raised so very long texts are read. The origin of a row is the line
where the record starts.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from typing import BinaryIO

from ..errors import CorpusError
from ..models import Article
from .lines import decode_error_reason, iter_lines
from .options import ReadContext
from .records import RecordBuilder

__all__ = ["read_delimited"]


def _raise_field_limit() -> None:
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 2


class _DecodedLines:
    """Decode lines one by one, remembering undecodable ones instead of failing."""

    def __init__(self, lines: Iterator[bytes], encoding: str) -> None:
        self._lines = lines
        self._encoding = encoding
        self.number = 0
        self.bad: list[tuple[int, str]] = []

    def __iter__(self) -> Iterator[str]:
        for raw in self._lines:
            self.number += 1
            try:
                yield raw.decode(self._encoding)
            except UnicodeDecodeError as exc:
                self.bad.append(
                    (self.number, decode_error_reason(exc, self._encoding, exc.start + 1))
                )
                yield raw.decode(self._encoding, errors="replace")


def read_delimited(
    stream: BinaryIO, head: bytes, *, label: str, key: str, ctx: ReadContext, delimiter: str
) -> Iterator[Article]:
    r"""Read articles from a CSV or TSV stream with a header row.

    Parameters
    ----------
    stream : BinaryIO
        The input after ``head``.
    head : bytes
        Bytes already read from the start.
    label : str
        The file as shown in origins.
    key : str
        Stable prefix of derived ids (``<key>:<line>``).
    ctx : ReadContext
        Options, error policy and report.
    delimiter : str
        ``","`` or ``"\t"``.

    Yields
    ------
    Article
        One per data row, in file order.

    Raises
    ------
    CorpusError
        For a bad header (whole file) or, with ``on_error="raise"``, a bad row.
    """
    _raise_field_limit()
    lines = _DecodedLines(iter_lines(stream, head, keepends=True), ctx.encoding)
    reader = csv.reader(iter(lines), delimiter=delimiter)
    builder = RecordBuilder(ctx.fields, ctx.page_date)
    header: list[str] | None = None
    end = 0
    while True:
        start = end + 1
        try:
            row = next(reader, None)
        except csv.Error as exc:
            ctx.fail(
                CorpusError(
                    f"{label}:{start}",
                    f"CSV syntax error ({exc}); the rest of the file was not read",
                )
            )
            return
        if row is None:
            return
        end = reader.line_num
        bad = [item for item in lines.bad if start <= item[0] <= end]
        if bad:
            del lines.bad[:]
            if header is None:
                raise CorpusError(f"{label}:{bad[0][0]}", bad[0][1])
            ctx.fail(CorpusError(f"{label}:{bad[0][0]}", bad[0][1]))
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if header is None:
            header = _header(row, f"{label}:{start}", ctx.fields.text)
            continue
        origin = f"{label}:{start}"
        if len(row) != len(header):
            ctx.fail(
                CorpusError(
                    origin,
                    f"row has {len(row)} fields but the header has {len(header)}; fields that "
                    "contain the delimiter, quotes or line breaks must be double-quoted",
                )
            )
            continue
        try:
            yield builder.build(dict(zip(header, row, strict=True)), origin, f"{key}:{start}")
        except CorpusError as error:
            ctx.fail(error)


def _header(row: list[str], origin: str, text_field: str) -> list[str]:
    names = [name.strip() for name in row]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise CorpusError(origin, f"duplicate column name {name!r} in the header row")
        seen.add(name)
    if text_field not in seen:
        raise CorpusError(
            origin,
            f"the header has no {text_field!r} column (columns: {', '.join(names)}); "
            "the first row must name the columns, and the body column must map to 'text' "
            "(FieldMap(text=...))",
        )
    return names
