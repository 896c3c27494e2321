"""Split a scraped news-aggregator page (plain text) into its articles.

Aggregator pages print each story as a *header block* followed by its body::

    Headline                      <- printed twice in a row (blank lines ignored)
    Headline
    Outlet12-04-2025              <- outlet glued to a date, or:
    Outlet                        <- a bare outlet name followed by more metadata
    time3 hours ago               <- relative time, with or without a "time" prefix
      • Outlet                    <- bullet byline
    Headline                      <- the headline a third time
    Body paragraph ...

around page furniture ("Related Articles", "Comments", app adverts...). The
splitter works on text-level cues only, never on particular titles:

* a **headline** is a short line repeated on the next non-blank line;
* **metadata** lines right after it are outlet+date lines, relative times,
  bullet bylines, further copies of the headline, and a bare outlet name when
  another metadata line follows it;
* **chrome** lines are those in :data:`CHROME_LINES` / :data:`CHROME_PREFIXES`
  (compared case-insensitively, whitespace collapsed). Two chrome lines in a row
  end the current body (what follows up to the next headline is furniture); a
  single chrome line (an "Advertisement" inside a body) is just removed.

A doubled line without metadata counts as a headline only where a story can
start (top of the text or right after furniture), so a paragraph repeated inside a
body does not split it. A text is a page when it has at least one headline with
metadata, or at least two headlines. Text before the first headline is furniture. Lines left out of
the articles are listed in :attr:`PageSplit.dropped`, so nothing vanishes unseen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "CHROME_LINES",
    "CHROME_PREFIXES",
    "PageArticle",
    "PageSplit",
    "split_page",
]

#: Whole lines that are page furniture (lower case; extend freely).
CHROME_LINES: tuple[str, ...] = (
    "logo",
    "orange background",
    "try our ai features",
    "comments",
    "no comments yet...",
    "no comments yet",
    "related articles",
    "related stories",
    "related news",
    "more stories",
    "most read",
    "trending",
    "trending now",
    "recommended",
    "read more",
    "advertisement",
    "sponsored",
    "share",
    "share this article",
    "subscribe",
    "sign in",
    "log in",
    "menu",
    "search",
    "download the app",
    "get the app",
    "app-storeplay-store",
    "app store",
    "google play",
)

#: Line beginnings that mark furniture (lower case; only lines up to
#: :data:`CHROME_PREFIX_MAX` characters are tested, so body paragraphs are safe).
CHROME_PREFIXES: tuple[str, ...] = (
    "explore what ",
    "get started now",
    "ready to dive into",
    "download our app",
    "download the app",
    "follow us on",
    "sign up for our newsletter",
    "subscribe to our newsletter",
    "all rights reserved",
    "\N{COPYRIGHT SIGN}",
)

#: Longest line that is tested against :data:`CHROME_PREFIXES`.
CHROME_PREFIX_MAX = 200
_HEADLINE_MIN, _HEADLINE_MAX = 3, 250
_OUTLET_MAX, _OUTLET_WORDS = 60, 8
_META_WINDOW = 8

_RELATIVE = (
    r"(?:\d+|an?|one)\s*(?:sec(?:ond)?|min(?:ute)?|h(?:ou)?r|day|week|month|year)s?\s+ago"
    r"|just now|yesterday"
)
_TIME_LINE = re.compile(rf"(?:time\s*)?(?P<rel>{_RELATIVE})", re.IGNORECASE)
_BULLET_LINE = re.compile(r"[\u2022\u00b7\u25aa\u2023\u25e6\u25cf]\s*(?P<name>\S.*)")
_OUTLET_DATE = re.compile(
    r"(?P<outlet>.*?)\s*(?P<date>\d{1,2}[-./]\d{1,2}[-./]\d{4}|\d{4}-\d{1,2}-\d{1,2})"
)
_CHROME_SET = frozenset(CHROME_LINES)


@dataclass(frozen=True)
class PageArticle:
    r"""One article cut out of a page.

    Attributes
    ----------
    title : str
        Headline (once).
    text : str
        Body paragraphs joined with ``\n``; no furniture or header lines.
    source : str or None
        Outlet.
    date_text : str or None
        The date as printed: ``"12-04-2025"`` or ``"3 hours ago"``.
    line : int
        1-based line of the first copy of the headline.
    """

    title: str
    text: str
    source: str | None
    date_text: str | None
    line: int


@dataclass(frozen=True)
class PageSplit:
    """Result of :func:`split_page`.

    Attributes
    ----------
    articles : tuple of PageArticle
        In page order.
    dropped : tuple of (int, str)
        Furniture lines (1-based line number, text) left out of every article.
    """

    articles: tuple[PageArticle, ...]
    dropped: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class _Line:
    number: int
    text: str
    key: str


@dataclass
class _Header:
    index: int
    title: _Line
    body_start: int
    source: str | None = None
    date_text: str | None = None
    has_meta: bool = False


def split_page(text: str) -> PageSplit | None:
    r"""Split an aggregator page into articles, or return None if it is not a page.

    Parameters
    ----------
    text : str
        The page, as plain text (``\n`` line ends).

    Returns
    -------
    PageSplit or None
        The articles and the furniture lines left out; None when ``text`` does not
        look like an aggregator page (read it as one plain article instead).

    Examples
    --------
    >>> page = "Big news\nBig news\nDaily Times01-02-2025\nIt happened.\n"
    >>> split_page(page).articles[0].source
    'Daily Times'
    >>> split_page("Just a title\nAnd a paragraph.") is None
    True
    """
    lines = _content_lines(text)
    headers = _find_headers(lines)
    if not headers or (len(headers) < 2 and not any(h.has_meta for h in headers)):
        return None
    dropped: list[_Line] = list(lines[: headers[0].index])
    articles = []
    for position, header in enumerate(headers):
        stop = headers[position + 1].index if position + 1 < len(headers) else len(lines)
        body, furniture = _body(lines, header.body_start, stop)
        dropped.extend(furniture)
        articles.append(
            PageArticle(
                title=header.title.text,
                text="\n".join(line.text for line in body),
                source=header.source,
                date_text=header.date_text,
                line=header.title.number,
            )
        )
    return PageSplit(tuple(articles), tuple((line.number, line.text) for line in dropped))


def is_chrome(text: str) -> bool:
    """Return whether a line is page furniture (see :data:`CHROME_LINES`)."""
    key = _key(text)
    return key in _CHROME_SET or (len(key) <= CHROME_PREFIX_MAX and key.startswith(CHROME_PREFIXES))


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _content_lines(text: str) -> list[_Line]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [
        _Line(number, stripped, _key(stripped))
        for number, raw in enumerate(text.split("\n"), start=1)
        if (stripped := raw.strip())
    ]


def _is_headline(line: _Line) -> bool:
    return (
        _HEADLINE_MIN <= len(line.key) <= _HEADLINE_MAX
        and not is_chrome(line.text)
        and _meta_kind(line) is None
    )


def _find_headers(lines: list[_Line]) -> list[_Header]:
    headers: list[_Header] = []
    index = 0
    while index + 1 < len(lines):
        line = lines[index]
        if line.key == lines[index + 1].key and _is_headline(line):
            header = _read_header(lines, index)
            previous = lines[index - 1] if index else None
            starts_block = previous is None or is_chrome(previous.text)
            if header.has_meta or starts_block:
                headers.append(header)
                index = header.body_start
                continue
        index += 1
    return [h for h in headers if h.has_meta or len(headers) > 1]


def _meta_kind(line: _Line) -> str | None:
    if _TIME_LINE.fullmatch(line.text):
        return "time"
    if _BULLET_LINE.fullmatch(line.text):
        return "bullet"
    match = _OUTLET_DATE.fullmatch(line.text)
    if match and len(match.group("outlet")) <= _OUTLET_MAX:
        return "dated"
    return None


def _outlet_like(line: _Line) -> bool:
    return (
        len(line.text) <= _OUTLET_MAX
        and len(line.text.split()) <= _OUTLET_WORDS
        and line.text[-1] not in ".!?:;,\"'"
        and not is_chrome(line.text)
    )


def _read_header(lines: list[_Line], index: int) -> _Header:
    title = lines[index]
    cursor = index + 1
    while cursor < len(lines) and lines[cursor].key == title.key:
        cursor += 1
    header = _Header(index, title, cursor)
    limit = min(len(lines), cursor + _META_WINDOW)
    while cursor < limit:
        line = lines[cursor]
        kind = _meta_kind(line)
        if line.key == title.key:
            pass
        elif kind is not None:
            _apply_meta(header, line, kind)
        elif (
            header.source is None
            and cursor + 1 < len(lines)
            and _outlet_like(line)
            and (_meta_kind(lines[cursor + 1]) is not None or lines[cursor + 1].key == title.key)
        ):
            header.source = line.text
        else:
            break
        cursor += 1
    header.body_start = cursor
    return header


def _apply_meta(header: _Header, line: _Line, kind: str) -> None:
    header.has_meta = True
    if kind == "time":
        match = _TIME_LINE.fullmatch(line.text)
        if match and header.date_text is None:
            header.date_text = " ".join(match.group("rel").split())
    elif kind == "bullet":
        match = _BULLET_LINE.fullmatch(line.text)
        if match and header.source is None:
            header.source = match.group("name").strip()
    else:
        match = _OUTLET_DATE.fullmatch(line.text)
        if match:
            outlet = match.group("outlet").strip()
            if outlet and header.source is None:
                header.source = outlet
            if header.date_text is None:
                header.date_text = match.group("date")


def _body(lines: list[_Line], start: int, stop: int) -> tuple[list[_Line], list[_Line]]:
    body: list[_Line] = []
    furniture: list[_Line] = []
    cursor = start
    while cursor < stop:
        line = lines[cursor]
        if is_chrome(line.text):
            if cursor + 1 < stop and is_chrome(lines[cursor + 1].text):
                furniture.extend(lines[cursor:stop])
                break
            furniture.append(line)
        else:
            body.append(line)
        cursor += 1
    return body, furniture
