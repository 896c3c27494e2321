"""Parquet inputs (``.parquet``, ``.pq``): one article per row, fields as in JSON Lines.

Reading needs pyarrow (``pip install 'clusterer[parquet]'``); without it a Parquet input
is a :class:`~clusterer.errors.MissingExtraError` naming the extra. Row numbers count
from 1 over the whole file and make the origins (``path:row``) and the derived ids
(``key:row``), the same whether the file is read whole (local engine) or by runs of row
groups (Dask engine). Date columns stored as timestamps are read as ISO dates.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from .._pyarrow import pyarrow_parquet
from ..errors import CorpusError
from ..models import Article
from .options import ReadContext
from .records import RecordBuilder

__all__ = ["read_parquet", "row_groups"]


def row_groups(path: str | Path) -> int:
    """Return the number of row groups of a Parquet file."""
    return int(pyarrow_parquet().ParquetFile(path).num_row_groups)


def read_parquet(
    path: str | Path,
    *,
    label: str,
    key: str,
    ctx: ReadContext,
    groups: range | None = None,
    first_row: int = 0,
) -> Iterator[Article]:
    """Yield the articles of a Parquet file (or of a run of its row groups).

    Parameters
    ----------
    path : str or Path
        The file.
    label, key : str
        Shown in origins; prefix of derived ids.
    ctx : ReadContext
        Field names, page date and error policy; a bad row goes to
        :meth:`ReadContext.fail` (which counts it), good rows are counted by the caller.
    groups : range, optional
        Row groups to read (default: all).
    first_row : int, default 0
        Rows of the file before ``groups`` (their numbering continues from it).

    Raises
    ------
    CorpusError
        If the file is not a readable Parquet file.
    """
    pq = pyarrow_parquet()
    try:
        file = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid, OSError...
        raise CorpusError(label, f"not a readable Parquet file ({exc})") from None
    builder = RecordBuilder(ctx.fields, ctx.page_date)
    row = first_row
    for group in groups if groups is not None else range(file.num_row_groups):
        try:
            records = file.read_row_group(group).to_pylist()
        except Exception as exc:
            raise CorpusError(
                f"{label}:{row + 1}", f"cannot read row group {group} ({exc})"
            ) from None
        for record in records:
            row += 1
            value = record.get(ctx.fields.date)
            if isinstance(value, datetime):
                record[ctx.fields.date] = value.isoformat()
            try:
                yield builder.build(record, f"{label}:{row}", f"{key}:{row}")
            except CorpusError as error:
                ctx.fail(error)
