"""The one entry point: :func:`read_articles` dispatches each input to its reader."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import BinaryIO

from ..errors import ConfigError, CorpusError, param_message
from ..models import Article, Reject
from .delimited import read_delimited
from .directory import InputFile, expand_paths
from .html import read_html
from .ids import IdRegistry
from .jsonl import read_jsonl
from .lines import check_not_binary
from .options import FieldMap, OnDuplicateId, OnError, ReadContext, ReadReport
from .plain import read_text

__all__ = ["read_articles"]

_HEAD_SIZE = 1 << 16


def read_articles(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    *,
    fields: FieldMap | None = None,
    on_error: OnError = "raise",
    on_duplicate_id: OnDuplicateId = "error",
    encoding: str = "utf-8",
    page_date: datetime | None = None,
    report: ReadReport | None = None,
) -> Iterator[Article]:
    """Read articles from files, directories and standard input.

    Parameters
    ----------
    paths : sequence of str or PathLike
        Files, directories (read recursively, sorted) and ``"-"`` for standard
        input (JSON Lines). A single path is accepted too.
    fields : FieldMap, optional
        Names of the input fields holding id, title, text, date, source and url.
    on_error : {"raise", "skip"}, default "raise"
        On a bad record or unreadable file, raise :class:`CorpusError`, or record it
        in ``report.rejects`` and go on.
    on_duplicate_id : {"error", "first", "rename"}, default "error"
        Raise :class:`DuplicateIdError` (whatever ``on_error`` says), keep the first
        article with an id (later ones become rejects), or rename later ones
        ``id~2``, ``id~3``...
    encoding : str, default "utf-8"
        Encoding of all inputs (an ASCII-compatible one for JSONL and CSV).
        A UTF-8 byte order mark is always removed.
    page_date : datetime, optional
        When the pages were captured: resolves relative dates ("3 hours ago").
        Naive values are taken as UTC.
    report : ReadReport, optional
        Filled while reading: records seen, rejects, files, skipped files.

    Returns
    -------
    Iterator[Article]
        Articles in input order, lazily: files are opened as the iterator advances.

    Raises
    ------
    ConfigError
        Immediately, for an invalid option.
    CorpusError
        While iterating, for unreadable input (``on_error="raise"``).
    DuplicateIdError
        While iterating, for a repeated id (``on_duplicate_id="error"``).
    MissingExtraError
        While iterating, when an HTML file is met and trafilatura is missing.

    Examples
    --------
    >>> from clusterer.readers import read_articles, ReadReport
    >>> report = ReadReport()
    >>> articles = list(read_articles(["corpus"], report=report))  # doctest: +SKIP
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if on_duplicate_id not in ("error", "first", "rename"):
        raise ConfigError(
            param_message(
                "read_articles",
                "on_duplicate_id",
                "one of 'error', 'first', 'rename'",
                on_duplicate_id,
            )
        )
    ctx = ReadContext(
        fields=fields if fields is not None else FieldMap(),
        on_error=on_error,
        encoding=encoding,
        page_date=page_date,
        report=report if report is not None else ReadReport(),
    )
    return _read_all(list(paths), ctx, IdRegistry(on_duplicate_id))


def _read_all(
    paths: list[str | os.PathLike[str]], ctx: ReadContext, ids: IdRegistry
) -> Iterator[Article]:
    report = ctx.report
    for item in expand_paths(paths, ctx):
        for article in _read_file(item, ctx):
            admitted = ids.admit(article)
            if isinstance(admitted, Reject):
                report.rejects.append(admitted)
            else:
                yield admitted
            report.read += 1


def _read_file(item: InputFile, ctx: ReadContext) -> Iterator[Article]:
    ctx.report.files += 1
    try:
        yield from _dispatch(item, ctx)
    except CorpusError as error:
        if error.origin == "":
            error = CorpusError(item.label, error.reason)
        ctx.fail(error)


def _dispatch(item: InputFile, ctx: ReadContext) -> Iterator[Article]:
    stream: BinaryIO
    if item.path is None:
        stream = sys.stdin.buffer
    else:
        try:
            stream = open(item.path, "rb")  # noqa: SIM115 - closed below, also when the reader stops early
        except OSError as exc:
            raise CorpusError(
                item.label, f"cannot open ({exc.strerror}); check the path and its permissions"
            ) from None
    try:
        head = _read(stream, _HEAD_SIZE, item.label)
        check_not_binary(head[:8192], item.label)
        kind = item.kind or _sniff(head)
        if kind == "jsonl":
            yield from read_jsonl(stream, head, label=item.label, key=item.key, ctx=ctx)
        elif kind in ("csv", "tsv"):
            delimiter = "," if kind == "csv" else "\t"
            yield from read_delimited(
                stream, head, label=item.label, key=item.key, ctx=ctx, delimiter=delimiter
            )
        else:
            data = head + _read(stream, -1, item.label)
            if kind == "html":
                yield from read_html(data, label=item.label, key=item.key, ctx=ctx)
            else:
                yield from read_text(
                    data, label=item.label, key=item.key, ctx=ctx, markdown=kind == "markdown"
                )
    finally:
        if item.path is not None:
            stream.close()


def _read(stream: BinaryIO, size: int, label: str) -> bytes:
    try:
        return stream.read(size)
    except OSError as exc:
        raise CorpusError(label, f"cannot read ({exc.strerror})") from None


def _sniff(head: bytes) -> str:
    start = head.lstrip()[:1]
    if start in (b"{", b"["):
        return "jsonl"
    if head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        return "html"
    return "text"
