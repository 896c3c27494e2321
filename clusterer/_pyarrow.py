"""The optional pyarrow import, shared by the Parquet readers and writers."""

from __future__ import annotations

import os
from typing import Any

from .errors import MissingExtraError

__all__ = ["parquet_rows", "pyarrow_parquet"]


def pyarrow_parquet() -> Any:
    """Return :mod:`pyarrow.parquet`, or raise :class:`MissingExtraError` naming the extra."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingExtraError("pyarrow", "parquet") from None
    return pq


def parquet_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read all rows of a Parquet file as dicts.

    Raises
    ------
    OSError
        If the file cannot be read.
    ValueError
        If it is not a Parquet file (pyarrow's own error, as text).
    """
    pq = pyarrow_parquet()
    import pyarrow as pa

    try:
        rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    except OSError:
        raise
    except pa.ArrowException as exc:
        raise ValueError(str(exc)) from None
    return rows
