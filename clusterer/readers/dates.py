"""Parse the publication dates found in news inputs.

:func:`parse_date` never raises: a value it cannot resolve comes back as
``(None, raw text)`` so the reader keeps what the source printed in
``Article.date_text``. Resolved dates are timezone-aware UTC datetimes.

Accepted forms, tried in this order:

* JSON numbers and digit strings of 9+ digits: Unix epoch seconds (values of
  10**11 or more are taken as milliseconds).
* ISO 8601 (``2025-04-12``, ``2025-04-12T08:30``, ``...Z``, ``...+02:00``).
* Reuters-21578 style ``26-FEB-1987 15:02:20.00``.
* Numeric day-month-year ``12-04-2025`` (also with ``.`` or ``/``). The day is
  assumed to come first (the convention of the aggregator pages we read), so
  ``12-04-2025`` is 12 April; only when the second number is above 12 and the
  first is not is the order month-day (``04-13-2025`` is 13 April).
* ``2025/04/12`` (year first with slashes or dots).
* RFC 2822 (``Sat, 12 Apr 2025 08:30:00 +0000``), via :mod:`email.utils`.
* Anything after a control character is ignored (Reuters-21578 dates carry
  feed codes after 0x05 bytes).
* Relative times (``3 hours ago``, ``a day ago``, ``yesterday``, ``just now``):
  resolved against ``now`` when it is given (months count 30 days, years 365),
  and always kept as ``date_text`` because they are approximate.

A datetime without a timezone is taken as UTC.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import NamedTuple

__all__ = ["ParsedDate", "parse_date", "parse_relative", "plain_iso"]

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_MILLIS_FROM = 10**11

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EPOCH_TEXT = re.compile(r"[-+]?\d{9,}(?:\.\d+)?")
_TIME = r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?)?"
_REUTERS = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})" + _TIME)
_DAY_FIRST = re.compile(r"(\d{1,2})([-./])(\d{1,2})\2(\d{4})" + _TIME)
_YEAR_FIRST = re.compile(r"(\d{4})([/.])(\d{1,2})\2(\d{1,2})" + _TIME)
_RELATIVE = re.compile(
    r"(?:(?P<count>\d+|an?|one)\s*(?P<unit>sec(?:ond)?|min(?:ute)?|h(?:ou)?r|day|week|month|year)s?"
    r"\s+ago|(?P<word>just now|now|today|yesterday))",
    re.IGNORECASE,
)
_UNIT_SECONDS = (
    ("s", 1),
    ("mi", 60),
    ("h", 3600),
    ("d", 86400),
    ("w", 7 * 86400),
    ("mo", 30 * 86400),
    ("y", 365 * 86400),
)


class ParsedDate(NamedTuple):
    """Result of :func:`parse_date`.

    Attributes
    ----------
    date : datetime or None
        The resolved time in UTC, or None.
    text : str or None
        The raw text when the date is unresolved or only approximate (relative),
        else None.
    """

    date: datetime | None
    text: str | None


def parse_date(value: object, *, now: datetime | None = None) -> ParsedDate:
    """Parse a date value from an input record; never raise.

    Parameters
    ----------
    value : object
        A string, an int/float (epoch seconds) or None.
    now : datetime or None, optional
        Reference time for relative dates such as ``"3 hours ago"``; naive values
        are taken as UTC. Without it relative dates stay unresolved.

    Returns
    -------
    ParsedDate
        ``(date, None)`` for an exact date, ``(date or None, text)`` for a relative
        or unparseable one, ``(None, None)`` for a missing or blank value.

    Examples
    --------
    >>> parse_date("12-04-2025").date.isoformat()
    '2025-04-12T00:00:00+00:00'
    >>> parse_date("in the spring")
    ParsedDate(date=None, text='in the spring')
    """
    if value is None or isinstance(value, bool):
        return ParsedDate(None, None if value is None else str(value))
    if isinstance(value, (int, float)):
        moment = _from_epoch(float(value))
        return ParsedDate(moment, None if moment is not None else str(value))
    text = value if isinstance(value, str) else str(value)
    quick = plain_iso(text)
    if quick is not None:
        return ParsedDate(quick, None)
    if not text.strip():
        return ParsedDate(None, None)
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=_UTC)
    return _parse_text(text.strip(), now)


def plain_iso(text: str) -> datetime | None:
    """Parse a bare ISO 8601 date-time (``2025-04-12T08:30:00+00:00``), or return None.

    The common case of machine-written feeds, tried by :func:`parse_date` before the
    general rules; it accepts only what the general rules would accept for the same
    text, with the same result, so a None here just means the general rules decide.

    Parameters
    ----------
    text : str
        The date as written.

    Returns
    -------
    datetime or None
        The time in UTC, or None when ``text`` is not in this form.
    """
    if len(text) < 10 or text[4] != "-" or not text[:4].isdigit():
        return None
    try:
        return _utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        return None


def _before_control(text: str) -> str:
    """Cut a value at its first control character (feeds append codes after one)."""
    match = _CONTROL.search(text)
    return text if match is None else text[: match.start()].strip()


def parse_relative(text: str, now: datetime | None) -> datetime | None:
    """Resolve a relative time such as ``"3 hours ago"`` against ``now``.

    Parameters
    ----------
    text : str
        The relative expression (``"a day ago"``, ``"yesterday"``, ``"just now"``).
    now : datetime or None
        Reference time; None gives None.

    Returns
    -------
    datetime or None
        ``now`` minus the interval, in UTC; None when ``now`` is None or the text
        is not a relative time.
    """
    match = _RELATIVE.fullmatch(text.strip())
    if match is None or now is None:
        return None
    if now.tzinfo is None:
        now = now.replace(tzinfo=_UTC)
    now = now.astimezone(_UTC)
    word = match.group("word")
    if word is not None:
        return now - timedelta(days=1) if word.lower() == "yesterday" else now
    count_text = match.group("count").lower()
    count = int(count_text) if count_text.isdigit() else 1
    unit = match.group("unit").lower()
    seconds = next(size for prefix, size in _UNIT_SECONDS if unit.startswith(prefix))
    try:
        return now - timedelta(seconds=count * seconds)
    except OverflowError:
        return None


def is_relative(text: str) -> bool:
    """Return whether ``text`` is a relative time expression (``"3 hours ago"``)."""
    return _RELATIVE.fullmatch(text.strip()) is not None


@lru_cache(maxsize=8192)
def _parse_text(text: str, now: datetime | None) -> ParsedDate:
    exact = _parse_exact(text)
    if exact is not None:
        return ParsedDate(exact, None)
    if is_relative(text):
        return ParsedDate(parse_relative(text, now), text)
    return ParsedDate(None, text)


def _parse_exact(text: str) -> datetime | None:
    text = _before_control(text)
    if not text:
        return None
    if _EPOCH_TEXT.fullmatch(text):
        return _from_epoch(float(text))
    for parse in (_iso, _reuters, _day_first, _year_first, _rfc2822):
        result = parse(text)
        if result is not None:
            return result
    return None


def _finite(value: float) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))


def _from_epoch(seconds: float) -> datetime | None:
    if not _finite(seconds):
        return None
    if abs(seconds) >= _MILLIS_FROM:
        seconds /= 1000.0
    try:
        return _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return None


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=_UTC)
    return moment.astimezone(_UTC)


def _iso(text: str) -> datetime | None:
    if not text[:4].isdigit():
        return None
    candidate = text[:-1] + "+00:00" if text[-1] in "Zz" else text
    try:
        return _utc(datetime.fromisoformat(candidate))
    except (ValueError, OverflowError):
        return None


def _build(year: int, month: int, day: int, clock: tuple[str | None, ...] = ()) -> datetime | None:
    hour, minute, second, fraction = (*clock, None, None, None, None)[:4]
    micro = int((fraction or "0").ljust(6, "0")[:6])
    try:
        return datetime(
            year, month, day, int(hour or 0), int(minute or 0), int(second or 0), micro, _UTC
        )
    except (ValueError, OverflowError):
        return None


def _reuters(text: str) -> datetime | None:
    match = _REUTERS.fullmatch(text)
    if match is None:
        return None
    month = _MONTHS.get(match.group(2).lower())
    if month is None:
        return None
    return _build(int(match.group(3)), month, int(match.group(1)), match.groups()[3:])


def _day_first(text: str) -> datetime | None:
    match = _DAY_FIRST.fullmatch(text)
    if match is None:
        return None
    first, second = int(match.group(1)), int(match.group(3))
    day, month = (second, first) if second > 12 >= first else (first, second)
    return _build(int(match.group(4)), month, day, match.groups()[4:])


def _year_first(text: str) -> datetime | None:
    match = _YEAR_FIRST.fullmatch(text)
    if match is None:
        return None
    year, month, day = int(match.group(1)), int(match.group(3)), int(match.group(4))
    return _build(year, month, day, match.groups()[4:])


def _rfc2822(text: str) -> datetime | None:
    if not any(ch.isalpha() for ch in text):
        return None
    try:
        return _utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
