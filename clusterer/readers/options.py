"""Reading options shared by every reader: field mapping, report, error policy."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Literal

from ..errors import ConfigError, CorpusError, param_message
from ..models import Reject

__all__ = ["FieldMap", "OnDuplicateId", "OnError", "ReadContext", "ReadReport"]

OnError = Literal["raise", "skip"]
OnDuplicateId = Literal["error", "first", "rename"]


@dataclass(frozen=True)
class FieldMap:
    """Names of the input fields (JSONL keys, CSV columns) that hold each article part.

    Every other field of a record is passed through in ``Article.extra``.

    Parameters
    ----------
    id, title, text, date, source, url : str
        Field names; the defaults are the part names themselves. Only ``text`` is
        required in every record.

    Examples
    --------
    >>> FieldMap(text="body", id="doc_id").text
    'body'
    """

    id: str = "id"
    title: str = "title"
    text: str = "text"
    date: str = "date"
    source: str = "source"
    url: str = "url"

    def __post_init__(self) -> None:
        """Check that every name is a non-empty string and names are distinct."""
        names = [getattr(self, f.name) for f in fields(self)]
        for f, name in zip(fields(self), names, strict=True):
            if not isinstance(name, str) or not name:
                raise ConfigError(param_message("FieldMap", f.name, "a non-empty string", name))
        if len(set(names)) != len(names):
            raise ConfigError(
                param_message("FieldMap", "fields", "six distinct field names", tuple(names))
            )

    def mapped(self) -> frozenset[str]:
        """Return the set of input field names that map to article parts."""
        return frozenset(getattr(self, f.name) for f in fields(self))


@dataclass
class ReadReport:
    """What :func:`~clusterer.readers.read_articles` saw, filled while it reads.

    The invariant ``read == yielded articles + len(rejects)`` holds at any time.

    Attributes
    ----------
    read : int
        Records seen: accepted plus rejected. A file that cannot be read at all
        (with ``on_error="skip"``) counts as one rejected record.
    rejects : list of Reject
        Records (or whole files) skipped, with ``path:line`` and the reason.
    files : int
        Input files opened (standard input counts as one).
    skipped : list of Reject
        Files inside directories that were deliberately not read (README files,
        unsupported file types, a file reached twice through a symlink), with why.
    """

    read: int = 0
    rejects: list[Reject] = field(default_factory=list)
    files: int = 0
    skipped: list[Reject] = field(default_factory=list)


@dataclass
class ReadContext:
    """Options and state of one :func:`read_articles` call, passed to every reader.

    Parameters
    ----------
    fields : FieldMap
        Field names of records.
    on_error : {"raise", "skip"}
        Raise a bad record's :class:`CorpusError`, or record it in the report.
    encoding : str
        Text encoding of the inputs.
    page_date : datetime or None
        Reference time for relative dates, in UTC.
    report : ReadReport
        Receives counts and rejects.
    """

    fields: FieldMap
    on_error: OnError
    encoding: str
    page_date: datetime | None
    report: ReadReport

    def __post_init__(self) -> None:
        """Validate the options (a bad value is a :class:`ConfigError`)."""
        if self.on_error not in ("raise", "skip"):
            raise ConfigError(
                param_message("read_articles", "on_error", "one of 'raise', 'skip'", self.on_error)
            )
        try:
            self.encoding = codecs.lookup(self.encoding).name
        except (LookupError, TypeError):
            raise ConfigError(
                param_message("read_articles", "encoding", "a known codec name", self.encoding)
            ) from None
        if self.page_date is not None:
            if not isinstance(self.page_date, datetime):
                raise ConfigError(
                    param_message(
                        "read_articles", "page_date", "a datetime or None", self.page_date
                    )
                )
            if self.page_date.tzinfo is None:
                self.page_date = self.page_date.replace(tzinfo=timezone.utc)
            self.page_date = self.page_date.astimezone(timezone.utc)

    @property
    def is_utf8(self) -> bool:
        """Whether inputs are UTF-8 (the fast path: bytes go straight to orjson)."""
        return self.encoding in ("utf-8", "utf-8-sig")

    def fail(self, error: CorpusError) -> None:
        """Raise ``error``, or record it as a reject when ``on_error="skip"``.

        Parameters
        ----------
        error : CorpusError
            The problem, with its ``path:line`` origin.
        """
        if self.on_error == "raise":
            raise error
        self.report.rejects.append(Reject(error.origin, error.reason))
        self.report.read += 1
