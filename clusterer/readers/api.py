"""The one entry point: :func:`read_articles` dispatches each input to its reader."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import BinaryIO

from ..errors import ConfigError, CorpusError, DuplicateIdError, param_message
from ..models import Article, Reject
from .columns import ArticleColumns
from .compressed import decompressing, detect
from .delimited import read_delimited
from .directory import InputFile, expand_paths
from .html import read_html
from .ids import IdRegistry
from .jsonl import read_jsonl
from .jsonl_columns import fill_columns
from .lines import check_not_binary
from .options import FieldMap, OnDuplicateId, OnError, ReadContext, ReadReport
from .parquet import read_parquet
from .plain import read_text

__all__ = ["ArticleStream", "read_articles"]

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
) -> ArticleStream:
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
    ArticleStream
        An iterator of the articles in input order, lazily: files are opened as it
        advances.

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
    return ArticleStream(list(paths), ctx, IdRegistry(on_duplicate_id))


class ArticleStream(Iterator[Article]):
    """The articles of one :func:`read_articles` call, read lazily.

    An iterator of :class:`~clusterer.models.Article`. The clustering pass asks it
    for :meth:`batches` instead: the same articles as columns, read from JSON Lines
    without building an article object per record.

    Parameters
    ----------
    paths : list of str or PathLike
        The inputs.
    ctx : ReadContext
        Options, error policy and report.
    ids : IdRegistry
        The duplicate-id policy.
    """

    def __init__(
        self, paths: list[str | os.PathLike[str]], ctx: ReadContext, ids: IdRegistry
    ) -> None:
        self._paths = paths
        self._ctx = ctx
        self._ids = ids
        self._articles: Iterator[Article] | None = None

    def __next__(self) -> Article:
        """Return the next article (the first call opens the first input)."""
        if self._articles is None:
            self._articles = _read_all(self._paths, self._ctx, self._ids)
        return next(self._articles)

    @property
    def started(self) -> bool:
        """Whether reading has begun (through iteration or :meth:`batches`)."""
        return self._articles is not None

    def batches(self, size: int) -> Iterator[ArticleColumns]:
        """Read everything as batches of columns (once, instead of iterating).

        Parameters
        ----------
        size : int
            Articles per batch (the last one may hold fewer; none is empty).

        Returns
        -------
        Iterator[ArticleColumns]
            The articles, in the order iteration would give them, with the same
            report, rejects and errors.

        Raises
        ------
        RuntimeError
            If reading has already begun.
        """
        if self._articles is not None:
            raise RuntimeError("batches() must be called before reading has begun")
        self._articles = iter(())
        return _read_columns(self._paths, self._ctx, self._ids, size)


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


def _read_columns(
    paths: list[str | os.PathLike[str]], ctx: ReadContext, ids: IdRegistry, size: int
) -> Iterator[ArticleColumns]:
    sink = ArticleColumns()
    for item in expand_paths(paths, ctx):
        for _ in _fill_file(item, ctx, ids, sink, size):
            yield sink.take()
    if len(sink):
        yield sink.take()


def _read_file(item: InputFile, ctx: ReadContext) -> Iterator[Article]:
    ctx.report.files += 1
    try:
        yield from _dispatch(item, ctx)
    except CorpusError as error:
        if error.origin == "":
            error = CorpusError(item.label, error.reason)
        ctx.fail(error)


def _fill_file(
    item: InputFile, ctx: ReadContext, ids: IdRegistry, sink: ArticleColumns, size: int
) -> Iterator[None]:
    """:func:`_read_file` and the id policy, appending to ``sink``; yields when it is full."""
    report = ctx.report
    report.files += 1
    try:
        if item.kind == "parquet":
            yield from _admit_all(_parquet(item, ctx), ids, sink, size, report)
            return
        with _opened(item) as (stream, head, kind):
            if kind == "jsonl":
                yield from fill_columns(
                    stream,
                    head,
                    label=item.label,
                    key=item.key,
                    ctx=ctx,
                    ids=ids,
                    sink=sink,
                    size=size,
                )
                return
            articles = _read_other(stream, head, kind, item, ctx)
            yield from _admit_all(articles, ids, sink, size, report)
    except DuplicateIdError:
        raise  # whatever on_error says, as when iterating
    except CorpusError as error:
        if error.origin == "":
            error = CorpusError(item.label, error.reason)
        ctx.fail(error)


def _admit_all(
    articles: Iterator[Article],
    ids: IdRegistry,
    sink: ArticleColumns,
    size: int,
    report: ReadReport,
) -> Iterator[None]:
    """Append ``articles`` that pass the id policy to ``sink``; yield when it is full."""
    for article in articles:
        admitted = ids.admit(article)
        if isinstance(admitted, Reject):
            report.rejects.append(admitted)
        else:
            sink.add(admitted)
        report.read += 1
        if len(sink) >= size:
            yield


def _dispatch(item: InputFile, ctx: ReadContext) -> Iterator[Article]:
    if item.kind == "parquet":
        yield from _parquet(item, ctx)
        return
    with _opened(item) as (stream, head, kind):
        if kind == "jsonl":
            yield from read_jsonl(stream, head, label=item.label, key=item.key, ctx=ctx)
        else:
            yield from _read_other(stream, head, kind, item, ctx)


def _parquet(item: InputFile, ctx: ReadContext) -> Iterator[Article]:
    if item.path is None:  # pragma: no cover - standard input is always JSON Lines
        raise CorpusError(item.label, "Parquet cannot be read from standard input")
    return read_parquet(item.path, label=item.label, key=item.key, ctx=ctx)


@contextmanager
def _opened(item: InputFile) -> Iterator[tuple[BinaryIO, bytes, str]]:
    """Open an input; give its stream, its first bytes and its kind; close it after."""
    raw: BinaryIO
    if item.path is None:
        raw = sys.stdin.buffer
    else:
        try:
            raw = open(item.path, "rb")  # noqa: SIM115 - closed below, also when the reader stops early
        except OSError as exc:
            raise CorpusError(
                item.label, f"cannot open ({exc.strerror}); check the path and its permissions"
            ) from None
    stream = raw
    try:
        head = _read(raw, _HEAD_SIZE, item.label)
        compression = detect(head)
        if compression is not None:
            stream = decompressing(raw, head, compression, item.label)
            head = _read(stream, _HEAD_SIZE, item.label)
            inner = detect(head)
            if inner is not None:
                raise CorpusError(
                    item.label,
                    f"compressed twice ({inner} data inside {compression}); decompress the "
                    "outer layer first and give the result",
                )
        check_not_binary(head[:8192], item.label)
        yield stream, head, item.kind or _sniff(head)
    finally:
        if stream is not raw:
            stream.close()
        if item.path is not None:
            raw.close()


def _read_other(
    stream: BinaryIO, head: bytes, kind: str, item: InputFile, ctx: ReadContext
) -> Iterator[Article]:
    """Read an input that is not JSON Lines."""
    if kind in ("csv", "tsv"):
        delimiter = "," if kind == "csv" else "\t"
        yield from read_delimited(
            stream, head, label=item.label, key=item.key, ctx=ctx, delimiter=delimiter
        )
        return
    data = head + _read(stream, -1, item.label)
    if kind == "html":
        yield from read_html(data, label=item.label, key=item.key, ctx=ctx)
    else:
        yield from read_text(
            data, label=item.label, key=item.key, ctx=ctx, markdown=kind == "markdown"
        )


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
