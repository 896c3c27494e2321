"""Background WAL checkpoints for a writing :class:`~clusterer.index.StoryIndex`.

A checkpoint copies the pages the log holds back into the database file and syncs it.
Done by SQLite's automatic checkpoint, it ran inside the ``COMMIT`` of every ~10th
batch, which then took ~200 ms instead of ~25 at 100k stored: ~10% of ``add``.

A :class:`Checkpointer` instead runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own
connection in a daemon thread when a write begins, so the previous writes' log goes
into the file while this one plans its batch (SQLite releases the GIL while it copies
and syncs), and not while the caller queries between writes. A passive checkpoint never takes the
write lock and never waits for readers, so writers and readers of any process go on
beside it; frames a reader still needs are left for a later one. When the whole log
is in the file, the next commit starts it over, so the log stays about one or two
batches long.

Checkpoints are crash-safe in SQLite: a process killed during one leaves the log
valid, and the next connection replays it. The writer's connection keeps SQLite's
automatic checkpoint (:data:`~clusterer.index.storage.CHECKPOINT_PAGES`) as a bound
should this thread fall behind or fail (its errors are not raised: a checkpoint that
did not happen costs log space, never data).
"""

from __future__ import annotations

import sqlite3
import threading

__all__ = ["Checkpointer"]


class Checkpointer:
    """A daemon thread that checkpoints an index's log when asked.

    Requests made while a checkpoint runs are folded into one more run.

    Parameters
    ----------
    path : str
        Index file.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.runs = 0
        self.failures = 0
        self._wake = threading.Condition()
        self._pending = False
        self._running = False
        self._closing = False
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        """Ask for a checkpoint soon (starts the thread on first use)."""
        with self._wake:
            if self._closing:
                return
            self._pending = True
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name=f"checkpoint {self.path}", daemon=True
                )
                self._thread.start()
            self._wake.notify_all()

    def wait(self) -> None:
        """Block until no checkpoint is pending or running."""
        with self._wake:
            while (self._pending or self._running) and self._thread is not None:
                self._wake.wait()

    def close(self) -> None:
        """Let a running checkpoint finish, skip pending ones, stop the thread."""
        with self._wake:
            self._closing = True
            self._pending = False
            self._wake.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _loop(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                with self._wake:
                    while not (self._pending or self._closing):
                        self._wake.wait()
                    if self._closing:
                        return
                    self._pending = False
                    self._running = True
                try:
                    if conn is None:
                        conn = sqlite3.connect(
                            self.path, isolation_level=None, check_same_thread=False
                        )
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.runs += 1
                except sqlite3.Error:
                    self.failures += 1
                with self._wake:
                    self._running = False
                    self._wake.notify_all()
        finally:
            with self._wake:
                self._running = False
                self._closing = True  # later requests are ignored
                self._wake.notify_all()
            if conn is not None:
                conn.close()
