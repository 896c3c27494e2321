"""The headline an article is clustered on: its title, or the words of its address.

Scraped articles often lose their title (and sometimes their body) to a failed
extraction, while their address still carries the headline as a slug
(``/news/2017/12/27/rihanna-calls-end-gun-violence-cousin-shot-dead/``). When the
title is blank, the longest run of words in one path segment stands in for it, so
the article can still join its story on headline terms. The title shown in the
output is always the article's own.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from .models import Article

__all__ = ["headline", "headline_of", "url_words"]

MIN_SLUG_WORDS = 3
"""Fewer words than this in the best segment (``/world/news/``) give no headline."""

_PAGE_SUFFIX = re.compile(r"\.(?:s?html?|php|aspx?|jsp|cms)$", re.IGNORECASE)
_WORD_SEPARATORS = re.compile(r"[-_+.,~]+")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_ID_LENGTH = 6
"""Words of this length or longer that contain a digit are ids (``7739187``, ``3f087a38``)."""


def _words(segment: str) -> list[str]:
    stem = _PAGE_SUFFIX.sub("", segment)
    return [
        w
        for w in _WORD_SEPARATORS.split(stem)
        if _LETTER.search(w) and not (len(w) >= _ID_LENGTH and _DIGIT.search(w))
    ]


def url_words(url: str | None) -> str:
    """Return the headline words of an address's slug, or ``""`` when it has none.

    Parameters
    ----------
    url : str or None
        Article address.

    Returns
    -------
    str
        Words of the path segment with the most words (separated by ``-``, ``_``,
        ``+``, ``.``, ``,`` or ``~``), joined by spaces; words without a letter and
        long words with digits (ids, hashes) are dropped. Empty when no segment has
        at least :data:`MIN_SLUG_WORDS` words.

    Examples
    --------
    >>> url_words("https://www.rt.com/news/414348-rihanna-cousin-shot-dead/")
    'rihanna cousin shot dead'
    >>> url_words("https://example.com/world/news/")
    ''
    """
    if not url:
        return ""
    try:
        path = unquote(urlsplit(url).path)
    except ValueError:  # malformed address (an unbalanced IPv6 bracket, say)
        return ""
    best: list[str] = []
    for segment in path.split("/"):
        words = _words(segment)
        if len(words) > len(best):
            best = words
    return " ".join(best) if len(best) >= MIN_SLUG_WORDS else ""


def headline(article: Article) -> str:
    """Return the headline used for story terms: the title, else the address's words.

    Parameters
    ----------
    article : Article
        The article.

    Returns
    -------
    str
        ``article.title`` when it has any non-space character, otherwise
        :func:`url_words` of ``article.url``.
    """
    return headline_of(article.title, article.url)


def headline_of(title: str, url: str | None) -> str:
    """:func:`headline` of an article given as its title and address.

    Parameters
    ----------
    title : str
        The article's title.
    url : str or None
        Its address.

    Returns
    -------
    str
        ``title`` when it has any non-space character, otherwise :func:`url_words`
        of ``url``.
    """
    if title and not title.isspace():
        return title
    return url_words(url)
