"""The optional pyarrow import, shared by the Parquet readers and writers."""

from __future__ import annotations

from typing import Any

from .errors import MissingExtraError

__all__ = ["pyarrow_parquet"]


def pyarrow_parquet() -> Any:
    """Return :mod:`pyarrow.parquet`, or raise :class:`MissingExtraError` naming the extra."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingExtraError("pyarrow", "parquet") from None
    return pq
