"""Plain-text reader (``.txt``, ``.md``): one article per file, or an aggregator page.

A file is first offered to :func:`~clusterer.readers.aggregator.split_page`; when
it is a page, each of its articles is yielded with id ``<key>#<n>`` (1-based) and
origin ``path:line`` of its headline. Otherwise the file is one article: the first
non-blank line is the title (Markdown ``#`` marks removed for ``.md``), the rest is
the text, kept line by line (trailing spaces and surrounding blank lines removed;
a second copy of the title right after it is dropped). Its id is ``<key>``.
A file with nothing but whitespace gives no article. HTML saved as text (a ``.txt``
holding markup) is reduced to its words first (:mod:`~clusterer.readers.markup`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..models import Article
from .aggregator import split_page
from .dates import parse_date
from .lines import decode_text
from .markup import looks_like_html, strip_markup
from .options import ReadContext

__all__ = ["read_text", "text_article"]

_MD_HEADING = re.compile(r"#{1,6}\s+")


def read_text(
    data: bytes, *, label: str, key: str, ctx: ReadContext, markdown: bool = False
) -> Iterator[Article]:
    """Read one text file: an aggregator page or a single article.

    Parameters
    ----------
    data : bytes
        The whole file.
    label : str
        The file as shown in origins.
    key : str
        Stable id of the file (``<key>`` or ``<key>#<n>`` for page articles).
    ctx : ReadContext
        Options (encoding, page date).
    markdown : bool, default False
        Strip Markdown heading marks from the title.

    Yields
    ------
    Article
        The articles of the file.

    Raises
    ------
    CorpusError
        When the file cannot be decoded.
    """
    text = decode_text(data, ctx.encoding, label)
    if looks_like_html(text):
        text = strip_markup(text)
    page = split_page(text)
    if page is None:
        article = text_article(text, label=label, key=key, markdown=markdown)
        if article is not None:
            yield article
        return
    for number, part in enumerate(page.articles, start=1):
        date, date_text = parse_date(part.date_text, now=ctx.page_date)
        yield Article(
            id=f"{key}#{number}",
            title=part.title,
            text=part.text,
            source=part.source,
            date=date,
            origin=f"{label}:{part.line}",
            date_text=date_text,
        )


def text_article(text: str, *, label: str, key: str, markdown: bool = False) -> Article | None:
    r"""Make one article of a plain text: first non-blank line is the title.

    Parameters
    ----------
    text : str
        Decoded text with ``\n`` line ends.
    label : str
        The file as shown in origins.
    key : str
        The article id.
    markdown : bool, default False
        Strip Markdown heading marks from the title.

    Returns
    -------
    Article or None
        None when the text is blank.
    """
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None
    title = lines[first].strip()
    if markdown:
        title = _MD_HEADING.sub("", title, count=1).strip()
    body = [line.rstrip() for line in lines[first + 1 :]]
    while body and not body[0]:
        body.pop(0)
    if body and body[0].strip() == lines[first].strip():
        body.pop(0)
    while body and not body[0]:
        body.pop(0)
    while body and not body[-1]:
        body.pop()
    return Article(id=key, title=title, text="\n".join(body), origin=f"{label}:{first + 1}")
