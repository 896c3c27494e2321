"""ClusterConfig: every tunable parameter in one frozen, validated object.

Constraints are declared as data in ``_CONSTRAINTS`` and checked by one function, so
each bad value gets the same message shape naming the parameter, the allowed range and
the value given.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from .errors import ConfigError, param_message

__all__ = ["SCHEME", "ClusterConfig"]

#: The MinHash permutation scheme of datasketch 2.x that our signatures reproduce.
SCHEME = "affine32"

Linkage = Literal["average", "complete"]
Verify = Literal["exact", "estimate"]
Kernel = Literal["auto", "numba", "numpy"]


@dataclass(frozen=True)
class _Range:
    kind: type
    low: float | None
    high: float | None
    low_open: bool = False
    optional: bool = False

    def describe(self) -> str:
        name = "an int" if self.kind is int else "a float"
        if self.low is not None and self.high is not None:
            left = "(" if self.low_open else "["
            text = f"{name} in {left}{_fmt(self.low)}, {_fmt(self.high)}]"
        elif self.low is not None:
            text = f"{name} {'>' if self.low_open else '>='} {_fmt(self.low)}"
        else:
            text = name
        return text + (" or None" if self.optional else "")

    def accepts(self, value: object) -> bool:
        if value is None:
            return self.optional
        if isinstance(value, bool):
            return False
        if self.kind is int and not isinstance(value, int):
            return False
        if self.kind is float and not isinstance(value, (int, float)):
            return False
        number = float(value)  # type: ignore[arg-type]
        if math.isnan(number) or (math.isinf(number) and self.high is not None):
            return False
        if self.low is not None and (number < self.low or (self.low_open and number == self.low)):
            return False
        return self.high is None or number <= self.high


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


_CHOICES: dict[str, tuple[str, ...]] = {
    "linkage": ("average", "complete"),
    "verify": ("exact", "estimate"),
    "kernel": ("auto", "numba", "numpy"),
}

_CONSTRAINTS: dict[str, _Range] = {
    "shingle_size": _Range(int, 1, 32),
    "num_perm": _Range(int, 1, 1024),
    "seed": _Range(int, 0, 2**32 - 1),
    "duplicate_threshold": _Range(float, 0.0, 1.0, low_open=True),
    "lsh_recall": _Range(float, 0.5, 1.0, low_open=True),
    "lsh_bands": _Range(int, 1, 1024, optional=True),
    "lsh_rows": _Range(int, 1, 1024, optional=True),
    "story_threshold": _Range(float, 0.0, 1.0),
    "attach_ratio": _Range(float, 0.0, 1.0),
    "attach_floor": _Range(float, 0.0, 1.0, low_open=True),
    "title_weight": _Range(float, 0.0, 100.0),
    "date_decay_days": _Range(float, 0.0, None, low_open=True, optional=True),
    "candidate_terms": _Range(int, 1, 1000),
    "max_terms": _Range(int, 1, 100000, optional=True),
    "max_postings": _Range(int, 2, None),
    "max_block": _Range(int, 2, 100000),
    "term_neighbours": _Range(int, 1, 100000),
    "n_features": _Range(int, 2**10, 2**26),
    "batch_size": _Range(int, 1, None),
    "workers": _Range(int, 0, 1024),
    "specific_df": _Range(int, 1, None),
    "specific_share": _Range(float, 0.0, 1.0),
    "specific_spread_days": _Range(float, 0.0, None, optional=True),
}


@dataclass(frozen=True)
class ClusterConfig:
    """Parameters of the clustering pipeline.

    Parameters
    ----------
    shingle_size : int, default 5
        Words per shingle for near-duplicate detection (CJK and Thai text: characters).
        Larger values make near-duplicates stricter about word order.
    num_perm : int, default 128
        MinHash permutations. More is more accurate and slower; signatures with different
        ``num_perm`` (or ``seed``) are not comparable.
    seed : int, default 1
        Seed of the MinHash permutations (same meaning as datasketch's ``seed``).
    duplicate_threshold : float, default 0.7
        Jaccard similarity of shingle sets at or above which two articles are
        near-duplicates.
    lsh_recall : float, default 0.995
        Probability that a pair exactly at ``duplicate_threshold`` becomes an LSH
        candidate; bands and rows are chosen for it (more candidates to verify if higher).
    lsh_bands, lsh_rows : int or None, default None
        Force the banding instead of choosing it from ``lsh_recall``. Both or neither.
    verify : {"exact", "estimate"}, default "exact"
        Check candidates with the exact Jaccard of stored shingle hashes (precise, needs
        memory for the hashes) or with the signature estimate (less memory, noisier).
    story_threshold : float, default 0.15
        Linkage similarity at or above which two story clusters merge. Lower merges more
        (recall), higher separates related events (precision).
    linkage : {"average", "complete"}, default "average"
        How cluster similarity is derived from article similarities. Both refuse to chain
        unrelated stories through an intermediate article.
    attach_ratio : float, default 0.5
        Relative singleton attachment after the linkage: an article left alone joins
        the story it has a candidate link with whose members it matches, on average, at
        ``>= max(attach_floor, attach_ratio * cohesion)`` (cohesion: the story's mean
        internal similarity); the best such story wins. Loose stories thus take in
        their weakly matching stragglers while tight ones refuse them. 0 switches the
        pass off.
    attach_floor : float, default 0.1
        Absolute minimum of that mean similarity; also the lowest candidate link kept
        for the pass (links between it and ``story_threshold`` never join stories by
        themselves).
    title_weight : float, default 2.0
        Weight of headline terms against body terms in the TF-IDF vectors (added to the
        body's sublinear term frequency).
    date_decay_days : float or None, default 60.0
        Time scale of the soft date decay: similarity is multiplied by
        ``1 / (1 + sqrt(gap_days / date_decay_days))``, which separates same-type events a
        few days apart while keeping follow-ups weeks later within reach. None switches
        the decay off.
    max_terms : int or None, default 50
        Highest-weighted terms kept per article vector (renormalised); drops the
        background vocabulary of long articles and bounds memory. None keeps all.
    candidate_terms : int, default 20
        Highest-weighted terms per article used to find story candidates.
    max_postings : int, default 5000
        Terms carried by more articles than this do not generate candidates (too common
        to be evidence of one story).
    term_neighbours : int, default 50
        In each term's date-ordered posting list, an article is paired with at most this
        many following articles (bounds the candidate count on common terms).
    max_block : int, default 2000
        Largest group of connected candidates clustered as one block; larger ones (a sign
        of chaining through generic articles) are first cut at a stricter threshold.
    n_features : int, default 2**20
        Size of the hashed term space of the TF-IDF vectors.
    kernel : {"auto", "numba", "numpy"}, default "auto"
        Tokenise-hash-sign and TF-IDF weighting: the compiled kernels, or the NumPy
        references (slow; used by tests to check the kernels, which give the same
        result).
    batch_size : int, default 20000
        Articles featurised per batch; texts are dropped after their batch.
    workers : int, default 0
        Threads of the compiled kernels; 0 uses every core this process may run on
        (:attr:`threads`). Results do not depend on it.
    specific_terms : bool, default False
        Link two articles into one story only if they share a *specific* term (among
        the ``max_terms`` terms each keeps): one found in at most ``max(specific_df,
        specific_share * N)`` of the ``N`` articles, or whose dated articles lie close
        together in time (standard deviation of their days at most
        ``specific_spread_days``). Templated reports of different events (quarterly
        results of different companies, "X issues N mln eurobond") then stop forming
        stories: they share only common words spread over the whole period, while two
        reports of one event share a name, a place or a figure that is rare or bursty.
        A pair sharing no specific term scores 0. Off by default.
    specific_df : int, default 40
        Document frequency at or under which a term is always specific.
    specific_share : float, default 0.001
        Share of the corpus at or under which a term is specific (the ceiling is the
        larger of the two).
    specific_spread_days : float or None, default 3.0
        A term whose dated articles have a standard deviation of days at or under this
        is specific whatever its frequency (an event's names are bursty); None: off.
    """

    shingle_size: int = 5
    num_perm: int = 128
    seed: int = 1
    duplicate_threshold: float = 0.7
    lsh_recall: float = 0.995
    lsh_bands: int | None = None
    lsh_rows: int | None = None
    verify: Verify = "exact"
    story_threshold: float = 0.15
    linkage: Linkage = "average"
    attach_ratio: float = 0.5
    attach_floor: float = 0.1
    title_weight: float = 2.0
    date_decay_days: float | None = 60.0
    candidate_terms: int = 20
    max_terms: int | None = 50
    max_postings: int = 5000
    term_neighbours: int = 50
    max_block: int = 2000
    n_features: int = 2**20
    kernel: Kernel = "auto"
    batch_size: int = 20000
    workers: int = 0
    specific_terms: bool = False
    specific_df: int = 40
    specific_share: float = 0.001
    specific_spread_days: float | None = 3.0

    def __post_init__(self) -> None:
        """Validate every field; raise :class:`ConfigError` on the first bad one."""
        for name, rule in _CONSTRAINTS.items():
            value = getattr(self, name)
            if not rule.accepts(value):
                raise ConfigError(param_message("ClusterConfig", name, rule.describe(), value))
        for name, choices in _CHOICES.items():
            value = getattr(self, name)
            if value not in choices:
                allowed = ", ".join(repr(c) for c in choices)
                raise ConfigError(param_message("ClusterConfig", name, f"one of {allowed}", value))
        if not isinstance(self.specific_terms, bool):
            raise ConfigError(
                param_message(
                    "ClusterConfig", "specific_terms", "True or False", self.specific_terms
                )
            )
        if (self.lsh_bands is None) != (self.lsh_rows is None):
            raise ConfigError(
                param_message(
                    "ClusterConfig",
                    "lsh_bands",
                    "given together with 'lsh_rows' (or both left None)",
                    self.lsh_bands,
                )
            )
        if self.lsh_bands is not None and self.lsh_rows is not None:
            used = self.lsh_bands * self.lsh_rows
            if used > self.num_perm:
                raise ConfigError(
                    param_message(
                        "ClusterConfig",
                        "lsh_bands",
                        f"such that lsh_bands * lsh_rows <= num_perm ({self.num_perm})",
                        self.lsh_bands,
                    )
                )

    @property
    def threads(self) -> int:
        """Kernel threads to use: ``workers``, or with 0 the cores this process may use."""
        if self.workers:
            return self.workers
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            return os.cpu_count() or 1

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as a JSON-ready dict (with the MinHash scheme)."""
        data = asdict(self)
        data["scheme"] = SCHEME
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClusterConfig:
        """Build a config from :meth:`to_dict` output.

        Parameters
        ----------
        data : Mapping
            Parameter values; ``scheme`` must be the one this version signs with.

        Returns
        -------
        ClusterConfig
            The validated config.
        """
        known = {f.name for f in fields(cls)}
        scheme = data.get("scheme", SCHEME)
        if scheme != SCHEME:
            raise ConfigError(param_message("ClusterConfig", "scheme", repr(SCHEME), scheme))
        unknown = sorted(set(data) - known - {"scheme"})
        if unknown:
            raise ConfigError(
                f"Unknown ClusterConfig parameter(s): {', '.join(unknown)}. "
                f"Known: {', '.join(sorted(known))}."
            )
        return cls(**{k: v for k, v in data.items() if k in known})

    def replace(self, **changes: Any) -> ClusterConfig:
        """Return a copy with some parameters changed (validated again)."""
        data = asdict(self)
        data.update(changes)
        return ClusterConfig.from_dict(data)
