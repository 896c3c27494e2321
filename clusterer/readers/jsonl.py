r"""JSON Lines reader: one JSON object per line (``.jsonl``, ``.ndjson``, ``.json``, stdin).

The file is read in binary, split on ``\n`` and each line handed to orjson as
bytes, which keeps the per-record work in C. Only a line orjson refuses goes
through the slow path, which either recovers it (lone surrogates are replaced by
U+FFFD; integers beyond 64 bits are accepted) or explains the problem. orjson
reads integers beyond 64 bits as floats (``10**30`` would become the id ``"1e+30"``,
and two such ids would collide), so a record whose id comes back as a float is
parsed again with the exact standard parser.
A JSON array file (first non-blank byte ``[``) is refused with a hint to convert it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from ..errors import CorpusError
from ..models import Article
from .lines import decode_error_reason, iter_line_views
from .options import ReadContext
from .records import RecordBuilder, replace_surrogates

__all__ = ["JSON_ARRAY_HINT", "JsonLines", "read_jsonl"]

#: Reason given for a JSON array where JSON Lines was expected.
JSON_ARRAY_HINT = (
    "this is a JSON array, not JSON Lines; convert it to one object per line, "
    "e.g. jq -c '.[]' input.json > input.jsonl"
)


def read_jsonl(
    stream: BinaryIO, head: bytes, *, label: str, key: str, ctx: ReadContext
) -> Iterator[Article]:
    """Read articles from a JSON Lines stream.

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
        Options, error policy and report.

    Yields
    ------
    Article
        One per non-blank line, in file order.

    Raises
    ------
    CorpusError
        For a malformed line (with ``on_error="raise"``) or a JSON array file.
    """
    lines = JsonLines(label, key, ctx)
    for number, line in enumerate(iter_line_views(stream, head), start=1):
        article = lines.article(line, number)
        if article is not None:
            yield article


class JsonLines:
    """Turn the lines of one JSON Lines input into articles, one line at a time.

    Keeps what depends on earlier lines (whether a non-blank line was met yet: a
    first line opening an array is refused with a hint).

    Parameters
    ----------
    label : str
        The file as shown in origins.
    key : str
        Stable prefix of derived ids.
    ctx : ReadContext
        Options, error policy and report.

    Attributes
    ----------
    first : bool
        No non-blank line has been met yet.
    """

    def __init__(self, label: str, key: str, ctx: ReadContext) -> None:
        self.label = label
        self.key = key
        self.first = True
        self._ctx = ctx
        self._builder = RecordBuilder(ctx.fields, ctx.page_date)
        self._encoding = None if ctx.is_utf8 else ctx.encoding
        self._id_field = ctx.fields.id

    def article(self, line: bytes | memoryview, number: int) -> Article | None:
        """Convert line ``number``; None for a blank line or one refused.

        A refused line is handed to :meth:`ReadContext.fail` (raised, or recorded as
        a reject).

        Parameters
        ----------
        line : bytes or memoryview
            The line, without its line break.
        number : int
            Its 1-based line number.

        Returns
        -------
        Article or None
            The article.

        Raises
        ------
        CorpusError
            For a bad line with ``on_error="raise"``, and for a JSON array file.
        """
        record = self._record(line, number)
        if record is None:
            return None
        try:
            return self._builder.build(record, f"{self.label}:{number}", f"{self.key}:{number}")
        except CorpusError as error:
            self._ctx.fail(error)
            return None

    def _record(self, line: bytes | memoryview, number: int) -> dict[str, Any] | None:
        encoding = self._encoding
        try:
            record = orjson.loads(line if encoding is None else str(line, encoding))
            if type(record) is dict and type(record.get(self._id_field)) is float:
                record = _exact_numbers(bytes(line), self._ctx.encoding, record)
        except (orjson.JSONDecodeError, UnicodeDecodeError):
            raw = bytes(line)
            if not raw.strip():
                return None
            try:
                record = _slow_parse(raw, self._ctx.encoding, self.first)
            except CorpusError as error:
                error = CorpusError(f"{self.label}:{number}", error.reason)
                if error.reason == JSON_ARRAY_HINT:
                    raise error from None
                self._ctx.fail(error)
                self.first = False
                return None
        origin = f"{self.label}:{number}"
        if self.first and type(record) is list:
            raise CorpusError(origin, JSON_ARRAY_HINT)
        self.first = False
        if type(record) is not dict:
            self._ctx.fail(CorpusError(origin, _not_object(record)))
            return None
        return record


def _exact_numbers(line: bytes, encoding: str, record: dict[str, Any]) -> Any:
    """Parse a line again with the standard parser, which keeps big integers exact."""
    try:
        return replace_surrogates(json.loads(line.decode(encoding)))
    except (ValueError, RecursionError):
        return record


def _slow_parse(line: bytes, encoding: str, first: bool) -> Any:
    """Parse a line orjson refused, or raise a CorpusError saying why (origin unset)."""
    try:
        text = line.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CorpusError("", decode_error_reason(exc, encoding, exc.start + 1)) from None
    stripped = text.strip()
    if first and stripped.startswith("["):
        raise CorpusError("", JSON_ARRAY_HINT)
    try:
        return replace_surrogates(json.loads(text))
    except json.JSONDecodeError as exc:
        hint = "each line must be one complete JSON object"
        if stripped in ("{", "[") or (first and stripped.startswith("{") and exc.pos >= len(text)):
            hint = (
                "pretty-printed JSON is not JSON Lines; write one object per line, "
                "e.g. jq -c . input.json > input.jsonl"
            )
        if "\x00" in text:
            hint = "the line contains NUL bytes; is this a binary file?"
        raise CorpusError("", f"malformed JSON ({exc.msg} at column {exc.colno}); {hint}") from None
    except RecursionError:
        raise CorpusError("", "JSON nested too deeply; each line must be one flat object") from None


def _not_object(value: object) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    kind = kinds.get(type(value), "a number")
    return f"expected a JSON object on this line, got {kind}; each line must be one object"
