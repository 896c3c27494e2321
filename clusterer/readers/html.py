"""HTML reader (``.html``, ``.htm``): main text, title and date through trafilatura.

trafilatura is the optional extra ``clusterer[html]``; it is imported only when an
HTML file is read, and its absence raises :class:`MissingExtraError`. The file is
decoded with the requested encoding when possible, otherwise the bytes are given to
trafilatura, which honours the page's declared charset. A page without extractable
text still yields an (empty) article, so no file disappears unseen.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import orjson

from ..errors import CorpusError, MissingExtraError
from ..models import Article
from .dates import parse_date
from .options import ReadContext

__all__ = ["read_html"]


def _trafilatura() -> ModuleType:
    try:
        return importlib.import_module("trafilatura")
    except ImportError:
        raise MissingExtraError("trafilatura", "html") from None


def read_html(data: bytes, *, label: str, key: str, ctx: ReadContext) -> Iterator[Article]:
    """Extract the article of one HTML page.

    Parameters
    ----------
    data : bytes
        The whole file.
    label : str
        The file as shown in origins.
    key : str
        The article id.
    ctx : ReadContext
        Options (encoding, page date).

    Yields
    ------
    Article
        One article (none for a blank file).

    Raises
    ------
    MissingExtraError
        When trafilatura is not installed.
    CorpusError
        When trafilatura fails on the file.
    """
    if not data.strip():
        return
    trafilatura = _trafilatura()
    content: str | bytes
    try:
        content = data.decode(ctx.encoding)
    except UnicodeDecodeError:
        content = data
    try:
        extracted = trafilatura.extract(
            content, output_format="json", with_metadata=True, include_comments=False
        )
        meta: dict[str, Any] = orjson.loads(extracted) if extracted else {}
    except Exception as exc:  # trafilatura/lxml raise many types on broken markup
        raise CorpusError(
            f"{label}:1", f"could not extract the article from this HTML ({exc})"
        ) from None
    title = str(meta.get("title") or "").strip()
    text = str(meta.get("text") or "")
    first, _, rest = text.partition("\n")
    if title and first.strip() == title:
        text = rest.lstrip("\n")
    date, date_text = parse_date(meta.get("date"), now=ctx.page_date)
    source = meta.get("sitename") or meta.get("source-hostname") or meta.get("hostname")
    url = meta.get("url") or meta.get("source")
    yield Article(
        id=key,
        title=title,
        text=text,
        source=str(source) if source else None,
        date=date,
        url=str(url) if url else None,
        origin=f"{label}:1",
        date_text=date_text,
    )
