"""StoryIndex: a persistent, incremental story index in one SQLite file.

Typical use::

    from clusterer.index import StoryIndex

    with StoryIndex.open("news.idx", window_days=30) as index:
        for a in index.add(batch):
            print(a.id, a.story_id, a.new_story)
        print(index.query(article).story_id)

See :mod:`clusterer.index.storage` for the file format and durability choices and
:mod:`clusterer.index.assign` for how articles are placed.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Literal

import numpy as np

from ..config import ClusterConfig
from ..errors import ConfigError, DuplicateIdError, IndexFileError, param_message
from ..models import Article
from . import maintenance, settle, views
from .batch import Batch, Plan, day_of, plan_batch, prepare
from .cache import TermCache
from .checkpoint import Checkpointer
from .derived import Derived
from .results import check_unique, results
from .storage import attach, connect, guard, quick_check, read_meta
from .types import IndexAssignment, IndexEvent, IndexStats, StoryRecord
from .writer import write_plan

__all__ = ["StoryIndex"]

#: Batches of fewer articles run the compiled kernels on one thread.
PARALLEL_FROM = 64

#: Files up to this size get a full ``PRAGMA quick_check`` when opened.
QUICK_CHECK_BYTES = 64 << 20


class StoryIndex:
    """A persistent index answering "which story is this new article?".

    Open with :meth:`open`; use as a context manager or call :meth:`close`. One
    ``StoryIndex`` object is meant for one thread; any number of processes may open the
    same file (readers run beside a writer; writers take turns, waiting up to
    ``timeout`` seconds for the lock).

    Parameters
    ----------
    conn : sqlite3.Connection
        Open connection (use :meth:`open`).
    path : str
        Index file.
    config : ClusterConfig
        The config the index was built with.
    """

    def __init__(self, conn: sqlite3.Connection, path: str, config: ClusterConfig) -> None:
        self._conn: sqlite3.Connection | None = conn
        self.path = path
        self.config = config
        self.window_days: float | None = None
        self.settle_until = settle.DEFAULT_SETTLE_UNTIL
        self._settles_seen = -1  # value of the ``settles`` counter the lookups were built at
        self._version: int | None = None
        self._counters: dict[str, int] = {}
        self._cache = TermCache(config.num_perm, config.title_weight, config.n_features)
        self._derived = Derived(config)
        #: Set while a write has changed the in-memory statistics and its committed
        #: rows are not yet in the lookups; found set, they are rebuilt from the file.
        self._dirty = False
        self._checkpointer = Checkpointer(path)
        self._committer: ThreadPoolExecutor | None = None

    # -- opening ------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        config: ClusterConfig | None = None,
        *,
        window_days: float | None = None,
        create: bool = True,
        timeout: float = 60.0,
        workers: int | None = None,
        settle_until: int | None = None,
    ) -> StoryIndex:
        """Create or open an index file.

        Parameters
        ----------
        path : str or PathLike
            Index file (created when missing and ``create`` is true).
        config : ClusterConfig, optional
            Required to match the stored config (result-neutral fields such as
            ``workers`` may differ); None uses the stored config, or the default one for
            a new index.
        window_days : float, optional
            Sliding window: after every ``add``, articles dated more than this many days
            before the newest stored article are expired. Stored in the file; giving a
            value changes it, None keeps the stored one (a new index: unbounded).
        create : bool, default True
            Whether a missing file may be created.
        timeout : float, default 60
            Seconds to wait for another process's write lock.
        workers : int, optional
            Threads of the compiled kernels for this session, replacing the ``workers``
            of ``config`` or of the stored config (not stored; answers do not depend on
            it).
        settle_until : int, optional
            While at most this many articles are stored, every doubling of their number
            re-decides all stored stories with the current term statistics (see
            :mod:`clusterer.index.settle`); 0 never does. Stored in the file; None keeps
            the stored value (a new index: :data:`~clusterer.index.settle.DEFAULT_SETTLE_UNTIL`).

        Returns
        -------
        StoryIndex
            The open index.

        Raises
        ------
        IndexFileError
            If the file is missing (with ``create=False``), is not an index, is damaged,
            or was built with another format version or config.
        ConfigError
            For a bad ``window_days`` or ``settle_until``.
        """
        path = os.fspath(path)
        if window_days is not None and not (window_days > 0 and math.isfinite(window_days)):
            from ..errors import ConfigError, param_message

            raise ConfigError(
                param_message("StoryIndex", "window_days", "a float > 0 or None", window_days)
            )
        if settle_until is not None and (
            isinstance(settle_until, bool) or not isinstance(settle_until, int) or settle_until < 0
        ):
            from ..errors import ConfigError, param_message

            raise ConfigError(
                param_message("StoryIndex", "settle_until", "an int >= 0 or None", settle_until)
            )
        conn = connect(path, timeout, create=create)
        try:
            with guard(path):
                index = cls._attach(conn, path, config, window_days, workers, settle_until)
        except BaseException:
            conn.close()
            raise
        return index

    @classmethod
    def _attach(
        cls,
        conn: sqlite3.Connection,
        path: str,
        config: ClusterConfig | None,
        window_days: float | None,
        workers: int | None = None,
        settle_until: int | None = None,
    ) -> StoryIndex:
        stored = attach(conn, path, config, window_days, settle_until)
        chosen = config if config is not None else stored
        if workers is not None:
            chosen = dataclasses.replace(chosen, workers=workers)
        index = cls(conn, path, chosen)
        if os.path.getsize(path) <= QUICK_CHECK_BYTES:
            index.check()
        with index._read():
            pass
        return index

    def check(self) -> None:
        """Run SQLite's ``quick_check`` over the whole file.

        Raises
        ------
        IndexFileError
            If the file is damaged.
        """
        quick_check(self._db, self.path)

    # -- context ------------------------------------------------------------------------
    def close(self) -> None:
        """Close the file (idempotent)."""
        self._checkpointer.close()
        if self._committer is not None:
            self._committer.shutdown()
            self._committer = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> StoryIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise IndexFileError(f"index at {self.path} is closed")
        return self._conn

    # -- transactions -------------------------------------------------------------------
    def _sync(self) -> None:
        """Reload counters and bring derived lookups and statistics up to date.

        ``data_version`` tells of other connections' commits; this connection's own
        commits have already updated the counters, so only the lookups follow them.
        """
        version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        if version == self._version:
            self._sync_derived()
            return
        meta = read_meta(self._db, self.path)
        self._counters = {
            k: int(meta[k])
            for k in ("next_story", "next_group", "next_article", "n_docs", "deletions")
        }
        # absent from format 3 files written before settling existed
        for k in ("settled_at", "settles"):
            self._counters[k] = int(meta.get(k, "0"))
        window = views.json_value(meta["window_days"])
        self.window_days = None if window is None else float(window)
        until = views.json_value(meta.get("settle_until", "null"))
        self.settle_until = settle.DEFAULT_SETTLE_UNTIL if until is None else int(until)
        self._version = version
        self._sync_derived()

    def _sync_derived(self) -> None:
        """Bring the in-memory lookups and term statistics up to the counters just read."""
        if self._dirty:  # an earlier write stopped between its changes and their bookkeeping
            self._reset_derived()
        c = self._counters
        if c["settles"] != self._settles_seen:  # a settling rewrote the stored top terms
            self._reset_derived()
            self._settles_seen = c["settles"]
        d = self._derived
        if c["next_article"] - 1 > d.seen or c["deletions"] != d.deletions:
            d.sync(self._db, c["deletions"], self._cache)

    def _reset_derived(self) -> None:
        """Drop the in-memory lookups and statistics (the next transaction rebuilds them)."""
        c = self.config
        self._cache = TermCache(c.num_perm, c.title_weight, c.n_features)
        self._derived = Derived(c)
        self._dirty = False

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with guard(self.path):
            self._db.execute("BEGIN")
            try:
                self._sync()
                yield self._db
            finally:
                self._db.execute("COMMIT")

    @contextmanager
    def _write(self, beside: Callable[[], None] | None = None) -> Iterator[sqlite3.Connection]:
        """Run a write transaction; ``beside`` runs while it commits (see :meth:`_commit`)."""
        with guard(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            # the log up to the last commit goes into the file while this write plans
            # (not right after a commit, where it would compete with the caller's queries)
            self._checkpointer.request()
            try:
                self._sync()
                yield self._db
                self._commit(beside)
            except BaseException:
                # in-memory statistics and lookups may be ahead of the file: rebuild them
                self._version = None
                self._reset_derived()
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _commit(self, beside: Callable[[], None] | None) -> None:
        """Commit; run ``beside`` (in-memory work only) meanwhile on this thread.

        ``COMMIT`` writes and syncs the batch's log pages (~25 ms for 1,000 articles at
        100k stored) with the GIL released, so it runs on a worker thread while this one
        updates the lookups. ``beside`` must not touch the connection; it finishes
        before the commit's outcome is known, so its changes are undone with the rest
        (the lookups are rebuilt) if the commit fails. Either error is raised after
        both have ended, the commit's first.
        """
        if beside is None:
            self._db.execute("COMMIT")
            return
        if self._committer is None:
            self._committer = ThreadPoolExecutor(1, thread_name_prefix="commit")
        done = self._committer.submit(self._db.execute, "COMMIT")
        try:
            beside()
        finally:
            failed = done.exception()  # waits: the connection is ours again after this
            if failed is not None:
                raise failed

    # -- adding and querying ------------------------------------------------------------
    def add(
        self, articles: Iterable[Article], *, existing: Literal["error", "skip"] = "error"
    ) -> list[IndexAssignment]:
        """Store a batch and return where each article went (in input order).

        The batch is one transaction: when ``add`` returns it is durable, and if the
        process dies first none of it is stored. Within the batch articles are placed
        in canonical order (date, then id), so the result does not depend on their order
        in the batch; across batches the order of arrival can matter (see
        :mod:`clusterer.index.assign`).

        Parameters
        ----------
        articles : iterable of Article
            New articles; ids must be unique within the batch.
        existing : {"error", "skip"}, default "error"
            An article whose id is already stored: fail the whole batch, or leave that
            article out (decided inside the batch's transaction, so a feed can be
            re-added safely while another writer adds the same articles).

        Returns
        -------
        list of IndexAssignment
            One per article stored, in input order, with the ids as of the end of the
            batch (articles left out by ``existing="skip"`` have none).

        Raises
        ------
        DuplicateIdError
            If an id repeats in the batch, or is already stored and ``existing`` is
            ``"error"`` (nothing is stored).
        ConfigError
            If ``existing`` is neither.
        """
        if existing not in ("error", "skip"):
            raise ConfigError(
                param_message("StoryIndex.add", "existing", "'error' or 'skip'", existing)
            )
        batch_list = list(articles)
        if not batch_list:
            return []
        check_unique(batch_list)
        if existing == "skip":  # leave out what is stored before featurising the batch
            with self._read() as conn:
                known = views.stored_ids(conn, [a.id for a in batch_list])
            batch_list = [a for a in batch_list if a.id not in known]
            if not batch_list:
                return []
        batch = prepare(batch_list, self._threads_for(len(batch_list)))
        done: list[list[IndexAssignment]] = []
        gone = np.zeros(0, np.int64)
        settled: settle.Settled | None = None

        def bookkeeping() -> None:  # while the batch commits: in memory only
            if not batch_list:  # every article was stored already: nothing was written
                done.append([])
                return
            if settled is None:
                self._remember(plan, first_row)
                self._derived.forget(gone, self._counters["deletions"])
            else:  # top terms were rewritten: the next transaction reloads the lookups
                settle.relabel_plan(plan, settled, first_row)
                self._reset_derived()
                self._settles_seen = self._counters["settles"]
            done.append(results(plan))

        with self._write(bookkeeping) as conn:
            taken = views.stored_ids(conn, [a.id for a in batch_list])
            if taken and existing == "skip":  # another writer stored some meanwhile
                batch_list = [a for a in batch_list if a.id not in taken]
                if not batch_list:
                    return []
                batch = prepare(batch_list, self._threads_for(len(batch_list)))
            elif taken:
                first = sorted(taken)[0]
                origin = next(a.origin for a in batch_list if a.id == first) or first
                raise DuplicateIdError(
                    origin, f"article id {first!r} is already in the index {self.path}"
                )
            plan = self._plan(conn, batch)
            first_row = self._counters["next_article"]
            stored_before = self._counters["n_docs"]
            self._dirty = True
            write_plan(conn, plan, self.config, self._derived.stats, self._counters)
            if self.window_days is not None:
                newest = conn.execute("SELECT max(day) FROM articles").fetchone()[0]
                if newest is not None:
                    gone = maintenance.delete_where(
                        conn,
                        "day < ?",
                        (newest - self.window_days,),
                        self.config,
                        self._derived.stats,
                        self._counters,
                    )
            if settle.due(stored_before, self._counters, self.settle_until):
                settled = settle.settle(conn, self.config, self._counters)
        self._dirty = False
        return done[0]

    def _remember(self, plan: Plan, first: int) -> None:
        """Put a just-committed batch into the in-memory lookups (not read back).

        Its term statistics were counted by :func:`~clusterer.index.writer.write_plan`.
        """
        batch, f = plan.batch, plan.batch.features
        rowids = np.arange(first, first + len(batch.articles), dtype=np.int64)
        self._cache.put(rowids, batch.days, f.term_ptr, f.term_features, f.term_body, f.term_title)
        self._cache.freeze_new(rowids)  # off the next batch's path (this runs beside COMMIT)
        self._derived.append(
            rowids, batch.days, ~batch.eligible, batch.keys, plan.tops, batch.key_order
        )

    def query(self, article: Article) -> IndexAssignment:
        """Answer where an article would go, without storing it.

        An article whose id is already stored is answered from its stored placement.

        Parameters
        ----------
        article : Article
            The article.

        Returns
        -------
        IndexAssignment
            As :meth:`add` would return it.
        """
        batch = prepare([article], self._threads_for(1))
        with self._read() as conn:
            known = views.stored_assignment(conn, article.id)
            if known is not None:
                return known
            plan = self._plan(conn, batch)
        return results(plan)[0]

    def _threads_for(self, n: int) -> ClusterConfig:
        """Return the config to featurise ``n`` articles with (it sets the kernel threads).

        Below :data:`PARALLEL_FROM` articles the work of every kernel is too small to
        share, and on a busy machine a parallel region waits for a descheduled thread:
        with two workers and two other busy processes on two cores, a one-article query
        took ~175 ms instead of ~4 ms. Results do not depend on the thread count.
        """
        if n >= PARALLEL_FROM or self.config.threads == 1:
            return self.config
        return dataclasses.replace(self.config, workers=1)

    def _plan(self, conn: sqlite3.Connection, batch: Batch) -> Plan:
        c = self._counters
        return plan_batch(
            conn,
            batch,
            self.config,
            self._derived.stats,
            c["n_docs"],
            c["next_story"],
            c["next_group"],
            self._cache,
            self._derived,
        )

    def settle(self) -> list[IndexEvent]:
        """Re-decide every stored story now, as one batch with the current statistics.

        The automatic settling of a young index (``settle_until``) on demand, at any
        size: afterwards the stories are those :func:`clusterer.cluster` gives for the
        stored articles, under the ids they had where they carry on (see
        :mod:`clusterer.index.settle` for how ids are kept). Between settlings the
        index never revisits a decision; on corpora whose term statistics keep moving
        (templated wires) its stories drift from the batch ones, and a periodic
        settling (say nightly) brings them back. It costs somewhat more than a
        ``cluster()`` run over the stored articles (100,000 synthetic ones: 17 s and
        2.6 GB against 10 s and 1.3 GB) and runs in one transaction, like a batch.

        Returns
        -------
        list of IndexEvent
            The identity events it recorded (merges, splits, moved articles).
        """
        with self._write() as conn:
            if self._counters["n_docs"] == 0:
                return []
            last = int(conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])
            self._dirty = True
            settle.settle(conn, self.config, self._counters)
            recorded = views.events(conn, last)
        # top terms were rewritten: the next transaction rebuilds the lookups
        self._reset_derived()
        self._settles_seen = self._counters["settles"]
        return recorded

    # -- bounding -----------------------------------------------------------------------
    def remove(self, ids: Iterable[str]) -> int:
        """Delete articles by id (unknown ids are ignored); return how many were removed.

        Stories keep their ids; a story whose last member goes disappears. Stories are
        not split when a removed article was the bridge between members.
        """
        wanted = sorted(set(ids))
        with self._write() as conn:
            self._dirty = True
            gone = maintenance.delete_ids(
                conn, wanted, self.config, self._derived.stats, self._counters
            )
        self._derived.forget(gone, self._counters["deletions"])
        self._dirty = False
        return int(gone.size)

    def expire(self, before: datetime) -> int:
        """Delete articles dated before ``before``; return how many were removed.

        Undated articles are never expired by date (remove them by id).
        """
        cutoff = day_of(before)
        with self._write() as conn:
            self._dirty = True
            gone = maintenance.delete_where(
                conn, "day < ?", (cutoff,), self.config, self._derived.stats, self._counters
            )
        self._derived.forget(gone, self._counters["deletions"])
        self._dirty = False
        return int(gone.size)

    # -- reading ------------------------------------------------------------------------
    def resolve(self, story_id: int) -> int:
        """Return the live id a story id now goes by (itself unless it was merged away)."""
        with self._read() as conn:
            return views.resolve(conn, story_id)

    def story(self, story_id: int) -> StoryRecord:
        """Return one story (a merged-away id is resolved first).

        Raises
        ------
        UnknownStoryError
            If no stored story has, or had, that id.
        """
        with self._read() as conn:
            return views.story(conn, story_id)

    def stories(self, since: datetime | None = None) -> list[StoryRecord]:
        """Return live stories by id; with ``since``, those with a member dated at or after it."""
        with self._read() as conn:
            return views.stories(conn, None if since is None else day_of(since))

    def events(self, since: int | datetime | None = None) -> list[IndexEvent]:
        """Return identity events in order: after event number ``since``, or at or after a time."""
        with self._read() as conn:
            return views.events(conn, since)

    def stats(self) -> IndexStats:
        """Return counts, date span, window and file size of the index."""
        with self._read() as conn:
            return views.stats(
                conn, self.path, self.window_days, self.settle_until, self._counters["settles"]
            )

    def __repr__(self) -> str:
        state = "closed" if self._conn is None else "open"
        return f"StoryIndex({self.path!r}, {state})"
