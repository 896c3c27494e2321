"""Date parsing: every accepted form, relative times, and never raising."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clusterer.readers.dates import ParsedDate, parse_date, parse_relative

UTC = timezone.utc
NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-04-12", datetime(2025, 4, 12, tzinfo=UTC)),
        ("2017-12-27T08:27:55", datetime(2017, 12, 27, 8, 27, 55, tzinfo=UTC)),
        ("2017-12-27T08:27:55Z", datetime(2017, 12, 27, 8, 27, 55, tzinfo=UTC)),
        ("2017-12-27T08:27:55+02:00", datetime(2017, 12, 27, 6, 27, 55, tzinfo=UTC)),
        ("2017-12-27 08:27", datetime(2017, 12, 27, 8, 27, tzinfo=UTC)),
        ("Sat, 12 Apr 2025 08:30:00 +0200", datetime(2025, 4, 12, 6, 30, tzinfo=UTC)),
        ("Sat, 12 Apr 2025 08:30:00 -0000", datetime(2025, 4, 12, 8, 30, tzinfo=UTC)),
        ("26-FEB-1987 15:02:20.00", datetime(1987, 2, 26, 15, 2, 20, tzinfo=UTC)),
        (" 2-MAR-1987 03:58:32.30", datetime(1987, 3, 2, 3, 58, 32, 300000, tzinfo=UTC)),
        (
            "27-MAR-1987 00:02:59.13\x05\x05\x05RM",
            datetime(1987, 3, 27, 0, 2, 59, 130000, tzinfo=UTC),
        ),
        ("12-04-2025", datetime(2025, 4, 12, tzinfo=UTC)),
        ("31-12-1999", datetime(1999, 12, 31, tzinfo=UTC)),
        ("04-13-2025", datetime(2025, 4, 13, tzinfo=UTC)),
        ("31.12.1999 23:59", datetime(1999, 12, 31, 23, 59, tzinfo=UTC)),
        ("2025/04/12", datetime(2025, 4, 12, tzinfo=UTC)),
        (1700000000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        (1700000000.5, datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC)),
        ("1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        (1700000000123, datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)),
    ],
)
def test_exact_dates(value: object, expected: datetime) -> None:
    parsed = parse_date(value)
    assert parsed == ParsedDate(expected, None)
    assert parsed.date is not None
    assert parsed.date.tzinfo is not None


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_dates(value: object) -> None:
    assert parse_date(value) == ParsedDate(None, None)


@pytest.mark.parametrize(
    "value", ["in the spring", "99-99-9999", "2025-13-45", "tomorrow-ish", True]
)
def test_unparseable_dates_keep_the_text(value: object) -> None:
    assert parse_date(value) == ParsedDate(None, str(value).strip())


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**30])
def test_unusable_numbers_keep_the_text(value: float) -> None:
    assert parse_date(value) == ParsedDate(None, str(value))


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("3 hours ago", timedelta(hours=3)),
        ("a day ago", timedelta(days=1)),
        ("an hour ago", timedelta(hours=1)),
        ("5 mins ago", timedelta(minutes=5)),
        ("2 weeks ago", timedelta(days=14)),
        ("2 months ago", timedelta(days=60)),
        ("1 year ago", timedelta(days=365)),
        ("yesterday", timedelta(days=1)),
        ("just now", timedelta(0)),
    ],
)
def test_relative_dates(text: str, delta: timedelta) -> None:
    assert parse_date(text) == ParsedDate(None, text)
    assert parse_date(text, now=NOW) == ParsedDate(NOW - delta, text)
    assert parse_relative(text, NOW) == NOW - delta


def test_naive_reference_time_is_utc() -> None:
    assert parse_date("3 hours ago", now=datetime(2025, 6, 2, 12)).date == datetime(
        2025, 6, 2, 9, tzinfo=UTC
    )


def test_parse_relative_rejects_non_relative_text() -> None:
    assert parse_relative("2025-01-01", NOW) is None
    assert parse_relative("3 hours ago", None) is None


@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.none()))
def test_parse_date_never_raises(value: object) -> None:
    date, text = parse_date(value, now=NOW)
    assert date is None or date.tzinfo is not None
    assert text is None or isinstance(text, str)


@given(
    st.datetimes(timezones=st.sampled_from([None, UTC, timezone(-timedelta(hours=5, minutes=30))])),
    st.sampled_from(["T", " "]),
    st.sampled_from(["seconds", "milliseconds", "microseconds", "minutes"]),
)
def test_plain_iso_shortcut_agrees_with_the_general_rules(
    moment: datetime, sep: str, spec: str
) -> None:
    from clusterer.readers.dates import _parse_exact, plain_iso

    text = moment.isoformat(sep=sep, timespec=spec)
    quick = plain_iso(text)
    assert quick is not None
    assert quick == _parse_exact(text)
    assert quick.tzinfo == UTC
    assert parse_date(text) == ParsedDate(quick, None)


@pytest.mark.parametrize(
    "text",
    ["2025-04-12z", " 2025-04-12", "2025-04-12 ", "2025-04-12\x05RM", "2025-13-01", "1700000000"],
)
def test_plain_iso_shortcut_leaves_other_forms_to_the_general_rules(text: str) -> None:
    from clusterer.readers.dates import _parse_exact, plain_iso

    quick = plain_iso(text)
    assert quick is None or quick == _parse_exact(text.strip())
    assert parse_date(text).date == _parse_exact(text.strip())
