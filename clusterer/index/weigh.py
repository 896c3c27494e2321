"""TF-IDF weighting with the index's term statistics plus those of the batch."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..config import ClusterConfig
from ..signatures import Features
from ..similarity import TfidfRows, tfidf_rows
from ._bits import distinct_sorted

__all__ = ["Scratch", "Weigher"]

I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]
F32 = npt.NDArray[np.float32]


class Scratch:
    """Term-indexed work arrays reused across batches of one index (one thread)."""

    def __init__(self, n_features: int) -> None:
        self.bits = np.zeros((n_features >> 6) + 1, np.uint64)  # zero between calls
        self.lut = np.zeros(n_features, np.uint32)
        self.idf = np.zeros(n_features, np.float32)

    def distinct(self, terms: U32) -> I64:
        """Sorted distinct term ids (a bitmap pass: no sort, no hashing)."""
        return distinct_sorted(terms, self.bits)


class Weigher:
    """TF-IDF weighting of any rows with the statistics of one batch (stored + batch).

    Row weights depend only on the row and the document frequencies, so rows weighed in
    separate calls are comparable: features stay global term ids. Only the terms that
    occur in the rows are looked at, so weighing a few rows (a query) is cheap.
    """

    def __init__(
        self,
        df: I64,
        batch_terms: U32,
        n_docs: int,
        config: ClusterConfig,
        scratch: Scratch,
        specific: npt.NDArray[np.bool_] | None = None,
    ) -> None:
        self.df = df
        #: Specific terms (``ClusterConfig.specific_terms``) given to every row weighed.
        self.specific = specific
        # the batch's distinct terms (sorted) and counts; for a large batch a bincount
        # over the term space is cheaper than sorting its ~150k term ids, and is kept:
        # counts are then looked up, not searched for
        self.per_term: I64 | None = None
        if batch_terms.size * 64 > df.size:
            self.per_term = np.bincount(batch_terms, minlength=df.size)
            self.extra_terms = scratch.distinct(batch_terms).astype(batch_terms.dtype)
            self.extra_counts = self.per_term[self.extra_terms]
        else:
            self.extra_terms, self.extra_counts = np.unique(batch_terms, return_counts=True)
        self.n_docs = n_docs
        self.config = config
        self.scratch = scratch

    def counts(self, terms: I64) -> I64:
        """Document frequencies (stored + batch) of sorted distinct ``terms``."""
        if self.per_term is not None:
            return np.asarray(self.df[terms] + self.per_term[terms], np.int64)
        out: I64 = np.array(self.df[terms], np.int64)
        if self.extra_terms.size and terms.size:
            at = np.searchsorted(terms, self.extra_terms)
            ok = at < terms.size
            ok[ok] = terms[at[ok]] == self.extra_terms[ok]
            out[at[ok]] += self.extra_counts[ok]
        return out

    def idf(self, terms: U32 | None = None) -> F32:
        """Inverse document frequencies as ``tfidf_rows`` computes them, term-indexed.

        With ``terms`` only those entries are (re)computed, in a reused buffer; other
        entries are stale and must not be read.
        """
        if terms is None:
            full = np.arange(self.df.size, dtype=np.int64)
            return self._idf(full, self.counts(full))
        uniq = self.scratch.distinct(terms)
        self.scratch.idf[uniq] = self._idf(uniq, self.counts(uniq))
        return self.scratch.idf

    def _idf(self, terms: I64, counts: I64) -> F32:
        del terms
        return np.asarray(
            np.log((1.0 + self.n_docs) / (1.0 + counts.astype(np.float64))) + 1.0, np.float32
        )

    def __call__(
        self,
        ptr: I64,
        terms: U32,
        body: npt.NDArray[np.uint16],
        title: npt.NDArray[np.uint16],
    ) -> TfidfRows:
        """Weighted rows (global feature ids)."""
        n = ptr.size - 1
        uniq = self.scratch.distinct(terms)
        lut = self.scratch.lut
        lut[uniq] = np.arange(uniq.size, dtype=np.uint32)
        feats = Features(
            np.zeros((n, 0), np.uint32),
            np.zeros(n, np.int64),
            np.zeros(n + 1, np.int64),
            np.zeros(0, np.uint32),
            ptr,
            lut[terms],
            body,
            title,
        )
        rows = tfidf_rows(feats, self.config, df=self.counts(uniq), n_docs=self.n_docs)
        return TfidfRows(
            rows.ptr, uniq[rows.features].astype(np.uint32), rows.weights, rows.idf, self.specific
        )
