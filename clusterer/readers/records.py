"""Turn one input record (a JSON object or a CSV row) into an :class:`Article`.

Rules, shared by the JSONL and CSV readers:

* The text field must be present; ``null`` or ``""`` text gives an empty article
  (kept; the pipeline flags it). A list of strings is joined with newlines.
* A missing, null or blank id is replaced by ``<file key>:<line>``; numbers
  become strings.
* Missing title is ``""``; blank source and url are None.
* Dates go through :func:`~clusterer.readers.dates.parse_date` and never fail.
* Every other field goes to ``Article.extra`` unchanged.
* Text and title holding HTML markup (a scraper's raw ``<p>...</p>``) are reduced
  to their words (:func:`~clusterer.readers.markup.strip_markup`), so markup never
  becomes shingles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..errors import CorpusError
from ..models import Article
from .dates import parse_date
from .markup import looks_like_html, strip_markup
from .options import FieldMap

__all__ = ["RecordBuilder", "replace_surrogates", "words"]

_SURROGATE = re.compile("[\ud800-\udfff]")


class RecordBuilder:
    """Build articles from records with one field mapping (precomputed for speed).

    Parameters
    ----------
    fields : FieldMap
        Which field holds what.
    page_date : datetime or None
        Reference time for relative dates.
    """

    def __init__(self, fields: FieldMap, page_date: datetime | None) -> None:
        self._fields = fields
        self._mapped = fields.mapped()
        self._now = page_date

    def build(self, record: Mapping[str, Any], origin: str, default_id: str) -> Article:
        """Convert one record.

        Parameters
        ----------
        record : Mapping
            Field name to value.
        origin : str
            ``path:line`` of the record.
        default_id : str
            Id used when the record has none.

        Returns
        -------
        Article
            The article.

        Raises
        ------
        CorpusError
            When the text field is missing or a field has an unusable type.
        """
        f = self._fields
        if f.text not in record:
            present = ", ".join(sorted(map(str, record))) or "none"
            raise CorpusError(
                origin,
                f"record has no {f.text!r} field (its fields: {present}); map the field that "
                "holds the article body to 'text' (FieldMap(text=...))",
            )
        text = words(_text(record[f.text], f.text, origin, allow_list=True))
        raw_id = record.get(f.id)
        ident = default_id if raw_id is None else _text(raw_id, f.id, origin)
        if not ident.strip():
            ident = default_id
        date, date_text = parse_date(record.get(f.date), now=self._now)
        extra = {k: v for k, v in record.items() if k not in self._mapped}
        return Article(
            id=ident,
            title=words(_text(record.get(f.title), f.title, origin)),
            text=text,
            source=_optional(record.get(f.source), f.source, origin),
            date=date,
            url=_optional(record.get(f.url), f.url, origin),
            origin=origin,
            date_text=date_text,
            extra=extra,
        )


def _text(value: object, name: str, origin: str, *, allow_list: bool = False) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if allow_list and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    kind = type(value).__name__
    raise CorpusError(
        origin, f"field {name!r} must be a string, got {kind}; fix the record or map another field"
    )


def words(text: str) -> str:
    """Return ``text``, reduced to its words when it holds HTML markup."""
    return strip_markup(text) if looks_like_html(text) else text


def _optional(value: object, name: str, origin: str) -> str | None:
    text = _text(value, name, origin)
    return text if text.strip() else None


def replace_surrogates(value: Any) -> Any:
    r"""Replace lone UTF-16 surrogates in strings (recursively) with U+FFFD.

    JSON may spell them (``"\ud800"``); they cannot be encoded as UTF-8 and would
    crash later stages, so they are replaced.

    Parameters
    ----------
    value : Any
        A decoded JSON value.

    Returns
    -------
    Any
        The same structure with clean strings.
    """
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {replace_surrogates(k): replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_surrogates(v) for v in value]
    return value
