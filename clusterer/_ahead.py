"""Featurising one batch in a background thread while the caller reads the next.

Reading and building articles is Python code holding the GIL; featurising is compiled
code that releases it. Running them side by side uses the second core during reading
and hides most of the reading time behind the kernels. At most one batch is being
featurised at a time (so compiled parallel kernels never run concurrently), and at
most two batches of texts are alive: the one being featurised and the one being read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from .config import ClusterConfig
from .signatures import Features, TextBuffer, featurize

__all__ = ["FeaturizeAhead"]

_Running = tuple[
    threading.Thread, list[Features | BaseException], Callable[[Features], None] | None
]


class FeaturizeAhead:
    """Featurise submitted batches in order, one at a time, each in a worker thread.

    Workers are daemon threads: if the caller stops early (an error, Ctrl-C), a batch
    still running finishes on its own and is dropped, and nothing waits for it.

    Parameters
    ----------
    config : ClusterConfig
        Passed to :func:`~clusterer.signatures.featurize`.
    terms : bool, default True
        Passed to :func:`~clusterer.signatures.featurize`.

    Attributes
    ----------
    waited : float
        Seconds the caller spent waiting for batches to finish.

    Examples
    --------
    >>> from clusterer import ClusterConfig
    >>> ahead = FeaturizeAhead(ClusterConfig(num_perm=16, kernel="numpy"))
    >>> ahead.submit(["t"], ["one two three"])
    >>> [len(f) for f in ahead.results()]
    [1]
    """

    def __init__(self, config: ClusterConfig, terms: bool = True) -> None:
        self._config = config
        self._terms = terms
        self._running: _Running | None = None
        self._done: list[Features] = []
        self._buffer = TextBuffer()  # batches are featurised one at a time
        self.submitted = 0
        self.waited = 0.0

    def submit(
        self,
        titles: Sequence[str],
        texts: Sequence[str],
        then: Callable[[Features], None] | None = None,
    ) -> None:
        """Start featurising a batch once the previous one has finished.

        Parameters
        ----------
        titles, texts : sequence of str
            The batch.
        then : callable, optional
            Called with the batch's features in the caller's thread when they are
            collected (by a later ``submit`` or by ``results``).

        Raises
        ------
        Exception
            Whatever featurising the previous batch raised.
        """
        self._collect()
        box: list[Features | BaseException] = []
        worker = threading.Thread(
            target=self._work, args=(titles, texts, box), name="featurize", daemon=True
        )
        worker.start()
        self._running = (worker, box, then)
        self.submitted += 1

    def results(self) -> list[Features]:
        """Wait for the last batch; return every batch's features in submission order."""
        self._collect()
        self._buffer = TextBuffer()  # let the last batch's packed texts go
        done, self._done = self._done, []
        return done

    def _work(
        self, titles: Sequence[str], texts: Sequence[str], box: list[Features | BaseException]
    ) -> None:
        try:
            features = featurize(
                titles, texts, self._config, terms=self._terms, buffer=self._buffer
            )
            box.append(features)
        except BaseException as error:  # handed to the caller's thread
            box.append(error)

    def _collect(self) -> None:
        if self._running is None:
            return
        t = time.perf_counter()
        worker, box, then = self._running
        worker.join()
        self._running = None
        self.waited += time.perf_counter() - t
        if isinstance(box[0], BaseException):
            raise box[0]
        if then is not None:
            then(box[0])
        self._done.append(box[0])
