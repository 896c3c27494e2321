"""HTML handed over as plain text: recognise it and keep only the words.

Scrapers often put raw markup in a JSON or CSV text field (``<p>Port workers
<b>strike</b></p>``). Left as is, tag names would become words and shingles, so the
same article with and without markup would not match. :func:`strip_markup` removes
the tags of HTML's common vocabulary (and the content of ``script``/``style``),
turns block tags into line breaks and decodes entities; text that merely uses
``<`` and ``>`` (``a < b``) is left alone because only known tag names count.
"""

from __future__ import annotations

import html
import re

__all__ = ["looks_like_html", "strip_markup"]

_NAMES = (
    "a|abbr|article|aside|b|blockquote|body|br|caption|center|cite|code|dd|div|dl|dt|em|"
    "figcaption|figure|font|footer|h[1-6]|head|header|hr|html|i|img|li|link|main|meta|nav|"
    "noscript|ol|p|pre|q|s|section|small|source|span|strong|sub|sup|table|tbody|td|tfoot|"
    "th|thead|time|title|tr|u|ul|video|iframe|svg|figure|script|style"
)
# A tag name is followed by attributes (white space, then something) or by nothing but
# spaces: "<i\n>" across two lines of plain text is not a tag.
_TAG = re.compile(rf"<(?:/\s*)?(?:{_NAMES})(?:[ \t]*|\s+[^\s<>/][^<>]*)/?>", re.IGNORECASE)
_HIDDEN = re.compile(
    r"<(script|style|noscript|svg|head)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)
_COMMENT = re.compile(r"<!--.*?-->|<!doctype[^>]*>", re.IGNORECASE | re.DOTALL)
_BLOCK = re.compile(
    r"<(?:/\s*)?(?:p|div|br|li|h[1-6]|tr|blockquote|section|article|header|footer|ul|ol|"
    r"table|pre|hr|figure|figcaption|main|nav|aside)\b[^<>]*>",
    re.IGNORECASE,
)
_BLANKS = re.compile(r"[ \t]*\n[ \t\n]*")


def looks_like_html(text: str) -> bool:
    """Return whether ``text`` contains at least one tag of HTML's common vocabulary.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    bool
        True for ``"<p>x</p>"`` or ``"a<br/>b"``; False for ``"a < b > c"``.
    """
    return "<" in text and _TAG.search(text) is not None


def strip_markup(text: str) -> str:
    r"""Remove HTML markup, keeping the words and paragraph breaks.

    Parameters
    ----------
    text : str
        Text that :func:`looks_like_html`.

    Returns
    -------
    str
        The text without tags, comments, scripts or styles, entities decoded,
        block elements as line breaks.

    Examples
    --------
    >>> strip_markup("<p>Port workers <b>strike</b></p><p>Ships &amp; trucks wait.</p>")
    'Port workers strike\\nShips & trucks wait.'
    """
    text = _COMMENT.sub(" ", text)
    text = _HIDDEN.sub(" ", text)
    text = _BLOCK.sub("\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    return _BLANKS.sub("\n", text).strip()
