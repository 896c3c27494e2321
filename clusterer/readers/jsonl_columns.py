r"""JSON Lines straight into columns: the reading loop of the clustering pass.

:func:`fill_columns` gives, line for line, what :func:`~clusterer.readers.jsonl.read_jsonl`
followed by the duplicate-id policy gives, but appends each record's fields to an
:class:`~clusterer.readers.columns.ArticleColumns` instead of building an
:class:`~clusterer.models.Article` (whose ``extra`` and ``date_text`` the pass does
not keep).

The loop handles the common record inline: an object whose text is a string, whose
id is a non-blank string or missing, whose title, source and url are strings or
missing, and whose date is missing or plain ISO 8601. Any other line (a blank or
malformed one, a number or list where a string is expected, a blank id, the first
line of the file...) goes through the general path of
:class:`~clusterer.readers.jsonl.JsonLines`, so errors, rejects and the conversion
rules stay the ones of the article reader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, BinaryIO

import orjson

from ..models import Reject
from .columns import ArticleColumns
from .dates import parse_date, plain_iso
from .ids import IdRegistry
from .jsonl import JsonLines
from .lines import iter_line_views
from .options import ReadContext
from .records import words

__all__ = ["fill_columns"]

_MISSING = object()


def fill_columns(
    stream: BinaryIO,
    head: bytes,
    *,
    label: str,
    key: str,
    ctx: ReadContext,
    ids: IdRegistry,
    sink: ArticleColumns,
    size: int,
) -> Iterator[None]:
    """Append the articles of a JSON Lines stream to ``sink``, pausing when it is full.

    Parameters
    ----------
    stream : BinaryIO
        The input after ``head``.
    head : bytes
        Bytes already read from the start.
    label : str
        The file as shown in origins (``path`` or ``<stdin>``).
    key : str
        Stable prefix of derived ids (``<key>:<line>``).
    ctx : ReadContext
        Options, error policy and report (records read, rejects).
    ids : IdRegistry
        The duplicate-id policy, shared by every input of the read.
    sink : ArticleColumns
        Receives the admitted articles in file order.
    size : int
        Yield whenever ``sink`` holds this many articles; the caller empties it
        (:meth:`ArticleColumns.take`) before resuming.

    Yields
    ------
    None
        Each time ``sink`` is full.

    Raises
    ------
    CorpusError
        For a malformed line (with ``on_error="raise"``) or a JSON array file.
    DuplicateIdError
        For a repeated id under policy ``"error"`` (whatever ``on_error`` says).
    """
    lines = JsonLines(label, key, ctx)
    report = ctx.report
    rejects = report.rejects
    loads = orjson.loads
    decode = None if ctx.is_utf8 else ctx.encoding
    now = ctx.page_date
    f = ctx.fields
    id_f, title_f, text_f, date_f, source_f, url_f = f.id, f.title, f.text, f.date, f.source, f.url
    admit = ids.admit_id
    prefix = f"{label}:"
    key_prefix = f"{key}:"
    started = False  # the first non-blank line always takes the general path
    cols = _appenders(sink)
    ident: str
    title: str
    text: str
    source: str | None
    url: str | None
    date: datetime | None
    for number, line in enumerate(iter_line_views(stream, head), start=1):
        record = None
        if started:
            try:
                record = loads(line if decode is None else str(line, decode))
            except (orjson.JSONDecodeError, UnicodeDecodeError):
                record = None
        # The inline path: any check that fails leaves ``inline`` False.
        inline = False
        while type(record) is dict:
            text = record.get(text_f, _MISSING)
            if type(text) is not str:
                break
            raw_id = record.get(id_f)
            if raw_id is None:
                ident = f"{key_prefix}{number}"
            elif type(raw_id) is not str or not raw_id or raw_id.isspace():
                break
            else:
                ident = raw_id
            raw_title = record.get(title_f)
            if raw_title is None:
                title = ""
            elif type(raw_title) is not str:
                break
            else:
                title = raw_title
            source = record.get(source_f)
            if source is not None:
                if type(source) is not str:
                    break
                if not source or source.isspace():
                    source = None
            url = record.get(url_f)
            if url is not None:
                if type(url) is not str:
                    break
                if not url or url.isspace():
                    url = None
            raw_date = record.get(date_f)
            date = plain_iso(raw_date) if type(raw_date) is str else None
            if date is None and raw_date is not None:
                date = parse_date(raw_date, now=now).date
            if "<" in text:
                text = words(text)
            if "<" in title:
                title = words(title)
            origin = f"{prefix}{number}"
            inline = True
            break
        if not inline:
            article = lines.article(line, number)
            started = not lines.first
            if article is None:
                continue
            ident, title, text, source = article.id, article.title, article.text, article.source
            date, url, origin = article.date, article.url, article.origin
        admitted = admit(ident, origin)
        report.read += 1
        if type(admitted) is Reject:
            rejects.append(admitted)
            continue
        cols[0](admitted)
        cols[1](title)
        cols[2](text)
        cols[3](source)
        cols[4](date)
        cols[5](url)
        cols[6](origin)
        if len(sink.ids) >= size:
            yield
            cols = _appenders(sink)


def _appenders(sink: ArticleColumns) -> tuple[Callable[[Any], None], ...]:
    return (
        sink.ids.append,
        sink.titles.append,
        sink.texts.append,
        sink.sources.append,
        sink.dates.append,
        sink.urls.append,
        sink.origins.append,
    )
