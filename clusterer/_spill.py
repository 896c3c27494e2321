"""Ragged per-article arrays kept on disk while a large corpus is clustered.

A :class:`RaggedStore` holds rows of one or more parallel columns (e.g. term ids with
their body and title counts) that share one row pointer. The pointer stays in memory;
the values go to one file per column as batches are appended, and rows are read back
on demand with positioned reads, or a whole column is mapped (:meth:`RaggedStore.mapped`)
and its pages let go as they are done with. The files live in the operating system's page cache
as far as memory allows, outside the process's resident set, so a 1M-article corpus
does not hold gigabytes of shingles and term counts in RAM between featurisation and
the stage that needs them.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

from ._arrays import concat_ptr, ranges
from .signatures import Features

__all__ = ["HOLD_BYTES", "FeatureSpill", "MappedColumn", "RaggedStore", "SpillBeyond"]

I64 = npt.NDArray[np.int64]
Array = npt.NDArray[np.generic]

#: Bytes of shingle sets and term counts that :class:`SpillBeyond` keeps in memory; past
#: this, everything goes to disk. 1 GiB keeps a 100k corpus (about 0.5 GB of them) in
#: memory and sends a 1M corpus (about 5 GB) to disk once its first ~200k are featurised.
HOLD_BYTES = 1 << 30

#: Two wanted rows closer than this many values apart are read in one call, gap included.
_GAP = 1 << 12


class RaggedStore:
    """Append-only ragged rows on disk with an in-memory row pointer.

    Parameters
    ----------
    directory : str or PathLike
        Existing directory for the column files (the caller owns and removes it).
    name : str
        File name prefix.
    dtypes : sequence of numpy dtypes
        One per column; every column has the same row lengths.
    """

    def __init__(
        self, directory: str | os.PathLike[str], name: str, dtypes: Sequence[npt.DTypeLike]
    ) -> None:
        self.dtypes = tuple(np.dtype(d) for d in dtypes)
        self._paths = [Path(directory) / f"{name}.{k}" for k in range(len(self.dtypes))]
        self._fds = [os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600) for p in self._paths]
        self._ptrs: list[I64] = []
        self._ptr: I64 | None = np.zeros(1, np.int64)

    def __len__(self) -> int:
        return int(self.ptr.size - 1)

    @property
    def ptr(self) -> I64:
        """Row pointer over all appended rows, ``(rows + 1,)`` int64."""
        if self._ptr is None:
            self._ptr = concat_ptr(self._ptrs)
        return self._ptr

    def append(self, ptr: I64, *columns: Array) -> None:
        """Append a batch of rows.

        Parameters
        ----------
        ptr : (m + 1,) int64
            Row pointer of the batch, starting at 0.
        *columns : 1-D arrays
            One per column, each of length ``ptr[-1]``.

        Raises
        ------
        ValueError
            If the columns do not match the store or the pointer.
        """
        if len(columns) != len(self._fds):
            raise ValueError(f"expected {len(self._fds)} columns, got {len(columns)}")
        size = int(ptr[-1])
        for fd, dtype, col in zip(self._fds, self.dtypes, columns, strict=True):
            if col.shape != (size,):
                raise ValueError(f"column of shape {col.shape} for {size} values")
            _write_all(fd, np.ascontiguousarray(col, dtype))
        self._ptrs.append(np.asarray(ptr, np.int64))
        self._ptr = None

    def read_range(self, r0: int, r1: int) -> tuple[I64, list[Array]]:
        """Read the consecutive rows ``r0 .. r1 - 1``.

        Returns
        -------
        ptr : (r1 - r0 + 1,) int64
            Row pointer into the returned columns.
        columns : list of arrays
            The rows' values, one array per column.
        """
        ptr = self.ptr
        start, stop = int(ptr[r0]), int(ptr[r1])
        cols = [
            self._read(fd, dt, start, stop) for fd, dt in zip(self._fds, self.dtypes, strict=True)
        ]
        return ptr[r0 : r1 + 1] - start, cols

    def read_rows(self, rows: I64) -> tuple[I64, list[Array]]:
        """Read the given rows, in the given order.

        Parameters
        ----------
        rows : int64 array
            Row numbers, ascending and distinct.

        Returns
        -------
        ptr : (len(rows) + 1,) int64
            Row pointer into the returned columns: entry ``k`` is row ``rows[k]``.
        columns : list of arrays
            The rows' values, one array per column.

        Raises
        ------
        ValueError
            If ``rows`` is not strictly ascending.
        """
        _check_ascending(rows)
        starts, stops = self.ptr[rows], self.ptr[rows + 1]
        lengths = stops - starts
        out_ptr = np.zeros(rows.size + 1, np.int64)
        np.cumsum(lengths, out=out_ptr[1:])
        if rows.size == 0:
            return out_ptr, [np.zeros(0, dt) for dt in self.dtypes]
        plan = _Spans(starts, stops)
        take = ranges(plan.begin, lengths)
        cols = []
        for fd, dt in zip(self._fds, self.dtypes, strict=True):
            buf = np.empty(plan.size, dt)
            plan.read(fd, buf)
            # Without gaps the spans hold exactly the wanted rows, in order.
            cols.append(buf if take.size == buf.size else buf[take])
            del buf
        return out_ptr, cols

    @contextmanager
    def mapped(self, column: int = 0) -> Iterator[MappedColumn]:
        """Map one column file into memory, read-only, for the duration of a block.

        Values are read where the operating system's page cache holds them, without
        copying them into the process; pages enter the resident set as they are touched
        and leave it through :meth:`MappedColumn.release`.

        Parameters
        ----------
        column : int, default 0
            Which column.

        Yields
        ------
        MappedColumn
            All values of the column, ``ptr[-1]`` of them.
        """
        dtype = self.dtypes[column]
        size = int(self.ptr[-1]) * dtype.itemsize
        if size == 0:
            yield MappedColumn(np.zeros(0, dtype), None)
            return
        mm = mmap.mmap(self._fds[column], size, access=mmap.ACCESS_READ)
        mapped = MappedColumn(np.frombuffer(mm, dtype), mm)
        try:
            yield mapped
        finally:
            mapped.values = np.zeros(0, dtype)
            mapped._mm = None
            # A view of the map may still be referenced (a caller's array, a frame kept
            # by an exception or a first-time kernel compile): then the map, clean file
            # pages only, is unmapped when that view goes.
            with contextlib.suppress(BufferError):
                mm.close()

    def close(self) -> None:
        """Close the column files (their removal is the directory owner's)."""
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    def _read(self, fd: int, dtype: np.dtype[np.generic], start: int, stop: int) -> Array:
        buf = np.empty(stop - start, dtype)
        _read_into(fd, buf, start * dtype.itemsize)
        return buf


class MappedColumn:
    """A column file mapped by :meth:`RaggedStore.mapped`.

    Attributes
    ----------
    values : 1-D array
        The column's values (valid inside the ``with`` block only).
    """

    def __init__(self, values: Array, mm: mmap.mmap | None) -> None:
        self.values = values
        self._mm = mm

    def release(self, start: int, stop: int) -> None:
        """Let the pages wholly inside values ``start .. stop - 1`` leave the resident set.

        They are read again (from the page cache, or the file) if touched later.
        """
        if self._mm is None:
            return
        size = self.values.dtype.itemsize
        first = -(-start * size // mmap.PAGESIZE) * mmap.PAGESIZE
        last = stop * size // mmap.PAGESIZE * mmap.PAGESIZE
        if last > first:
            self._mm.madvise(mmap.MADV_DONTNEED, first, last - first)


def _check_ascending(rows: I64) -> None:
    if rows.size > 1 and not bool(np.all(rows[1:] > rows[:-1])):
        raise ValueError("rows must be ascending and distinct")


class _Spans:
    """Runs of rows whose gaps are small, each read as one span (gap included).

    Fewer calls; the unwanted values in between are read too.

    ``begin[k]`` is where row ``k`` (bounds ``starts[k]:stops[k]`` in the file) starts
    in the concatenated spans, which hold :attr:`size` values.
    """

    def __init__(self, starts: I64, stops: I64) -> None:
        if starts.size == 0:
            self.start = self.stop = self.at = self.begin = np.zeros(0, np.int64)
            self.size = 0
            return
        reach = np.maximum.accumulate(stops)
        new = np.concatenate(([True], starts[1:] - reach[:-1] > _GAP))
        first = np.flatnonzero(new)
        self.start = starts[first]
        self.stop = np.append(reach[first[1:] - 1], reach[-1])
        self.at = np.zeros(first.size + 1, np.int64)
        np.cumsum(self.stop - self.start, out=self.at[1:])
        span_of_row = np.cumsum(new) - 1
        self.begin = self.at[span_of_row] + starts - self.start[span_of_row]
        self.size = int(self.at[-1])

    def read(self, fd: int, buf: Array) -> None:
        """Read every span of the column file ``fd`` into ``buf``, one after another."""
        size = buf.dtype.itemsize
        for s in range(self.start.size):
            _read_into(fd, buf[self.at[s] : self.at[s + 1]], int(self.start[s]) * size)


def _write_all(fd: int, data: Array) -> None:
    view = data.data.cast("B")
    while view:
        view = view[os.write(fd, view) :]


def _read_into(fd: int, out: Array, offset: int) -> None:
    view = out.data.cast("B")
    while view:
        got = os.preadv(fd, [view], offset)
        if got == 0:
            raise OSError(f"spill file ended {len(view)} bytes early")
        view = view[got:]
        offset += got


class FeatureSpill:
    """The shingle sets and term counts of featurised batches, moved to disk.

    A context manager owning a temporary directory, removed on exit (also when an
    exception leaves the block).

    Parameters
    ----------
    n_features : int
        Hashed term space (size of :attr:`df`).
    shingles : bool
        Keep shingle sets (exact verification needs them).
    terms : bool
        Keep term counts (TF-IDF needs them).

    Attributes
    ----------
    shingles : RaggedStore or None
        One column of sorted distinct shingle hashes per article.
    terms : RaggedStore or None
        Columns ``(term_features, term_body, term_title)`` per article.
    df : int64 array of length n_features
        Document frequency of each term over the spilled rows.
    """

    def __init__(self, n_features: int, *, shingles: bool, terms: bool) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="clusterer-spill-")
        self.shingles = RaggedStore(self._dir.name, "shingles", [np.uint32]) if shingles else None
        self.terms = (
            RaggedStore(self._dir.name, "terms", [np.uint32, np.uint16, np.uint16])
            if terms
            else None
        )
        self.df = np.zeros(n_features if terms else 0, np.int64)

    def take(self, part: Features) -> None:
        """Move a batch's shingles and term counts to disk, leaving its rows empty.

        Parameters
        ----------
        part : Features
            One featurised batch; its ragged arrays are replaced by empty rows and the
            seconds spent are added to its ``timings["spill"]``.
        """
        t = time.perf_counter()
        empty_ptr = np.zeros(len(part) + 1, np.int64)
        if self.shingles is not None:
            self.shingles.append(part.shingle_ptr, part.shingles)
            part.shingle_ptr, part.shingles = empty_ptr, np.zeros(0, np.uint32)
        if self.terms is not None:
            self.terms.append(part.term_ptr, part.term_features, part.term_body, part.term_title)
            self.df += np.bincount(part.term_features, minlength=self.df.size)
            part.term_ptr, part.term_features = empty_ptr, np.zeros(0, np.uint32)
            part.term_body, part.term_title = np.zeros(0, np.uint16), np.zeros(0, np.uint16)
        part.timings["spill"] = part.timings.get("spill", 0.0) + time.perf_counter() - t

    def close(self) -> None:
        """Close the stores and remove the directory."""
        for store in (self.shingles, self.terms):
            if store is not None:
                store.close()
        self._dir.cleanup()

    def __enter__(self) -> FeatureSpill:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class SpillBeyond:
    """Keep featurised batches in memory while they are small; past a budget, spill them.

    Batches handed to :meth:`take` are held as they are while their shingle sets and
    term counts total at most ``budget`` bytes. The batch that crosses the budget opens
    a :class:`FeatureSpill` (through ``open_spill``), and it and every earlier and later
    batch move there, in order. Either way the later stages see the same values: in the
    batches, or in :attr:`spill`.

    Parameters
    ----------
    open_spill : callable
        Returns the :class:`FeatureSpill` to use (the caller owns its closing).
    budget : int, optional
        Bytes held in memory at most; default :data:`HOLD_BYTES` (read at each call,
        so tests can lower it).

    Attributes
    ----------
    spill : FeatureSpill or None
        Where the batches went, or None while they are held in memory.
    """

    def __init__(self, open_spill: Callable[[], FeatureSpill], budget: int | None = None) -> None:
        self._open = open_spill
        self._budget = budget
        self._held: list[Features] = []
        self._bytes = 0
        self.spill: FeatureSpill | None = None

    def take(self, part: Features) -> None:
        """Hold one featurised batch, or move it (and any held ones) to disk.

        Parameters
        ----------
        part : Features
            The next batch, in input order.
        """
        if self.spill is None:
            self._held.append(part)
            self._bytes += _ragged_bytes(part)
            budget = HOLD_BYTES if self._budget is None else self._budget
            if self._bytes <= budget:
                return
            self.spill = self._open()
            held, self._held = self._held, []
            for p in held:
                self.spill.take(p)
            return
        self.spill.take(part)


def _ragged_bytes(part: Features) -> int:
    return sum(
        int(a.nbytes) for a in (part.shingles, part.term_features, part.term_body, part.term_title)
    )
