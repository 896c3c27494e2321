"""Why two articles are (or are not) together: the scores of one pair, recomputed.

:class:`PairScorer` featurises a corpus the way :func:`clusterer.cluster` does (the
TF-IDF weights depend on the whole corpus, so the whole corpus is needed) and then
reports, for any two articles, the MinHash Jaccard estimate, the exact Jaccard of the
shingle sets, the title-weighted TF-IDF cosine, the date gap and its decay, the story
similarity the linkage compares with ``story_threshold``, and the terms that
contribute most to the cosine.

Examples
--------
>>> from clusterer import Article, ClusterConfig
>>> from clusterer.explain import PairScorer
>>> docs = [Article("a", "Port strike", "dockers strike at the port"),
...         Article("b", "Strike at port", "dockers strike at the port today")]
>>> scorer = PairScorer(docs, ClusterConfig())
>>> round(scorer.score("a", "b").tfidf_cosine, 2) > 0.5
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import numpy.typing as npt

from ._specific_kernels import shares_specific
from .config import ClusterConfig
from .errors import ConfigError
from .headline import headline
from .models import Article, Clustering
from .signatures import Features, featurize, stop_mask
from .similarity import (
    date_decay,
    estimated_jaccard,
    exact_jaccard,
    story_similarity,
    tfidf_rows,
)
from .text import normalize, token_hash, tokens

__all__ = ["PairScorer", "PairScores", "SharedTerm", "attachment_notes"]


@dataclass(frozen=True, slots=True)
class SharedTerm:
    """A term both articles carry, with its share of their TF-IDF cosine.

    Parameters
    ----------
    term : str
        The normalised token (one of them, if several hash to the same feature).
    contribution : float
        Product of the two normalised weights; the contributions sum to the cosine.
    """

    term: str
    contribution: float


@dataclass(frozen=True, slots=True)
class PairScores:
    """The similarities of one pair of articles, as the pipeline sees them.

    Parameters
    ----------
    a, b : str
        Article ids.
    jaccard_estimate : float
        Share of equal MinHash signature values.
    jaccard_exact : float
        Jaccard similarity of the two shingle sets.
    near_duplicate : bool
        Whether the Jaccard the config verifies with reaches ``duplicate_threshold``.
    tfidf_cosine : float
        Cosine of the title-weighted TF-IDF vectors.
    gap_days : float or None
        Absolute time between the publication dates; None if either is unknown.
    decay : float
        Date decay factor applied to the cosine (1 when a date is unknown or decay is off).
    story_similarity : float
        ``tfidf_cosine * decay``: what the story linkage compares with
        ``story_threshold`` (0 when ``specific_terms`` is on and the pair shares no
        specific term).
    story_link : bool
        Whether ``story_similarity`` reaches ``story_threshold`` (the pair can link;
        the linkage may still refuse it to avoid chaining).
    shared_terms : tuple of SharedTerm
        Shared terms by contribution, largest first.
    specific_shared : bool or None
        With ``specific_terms``: whether the pair shares a specific term; None when the
        rule is off.
    """

    a: str
    b: str
    jaccard_estimate: float
    jaccard_exact: float
    near_duplicate: bool
    tfidf_cosine: float
    gap_days: float | None
    decay: float
    story_similarity: float
    story_link: bool
    shared_terms: tuple[SharedTerm, ...]
    specific_shared: bool | None = None


def _day(d: datetime | None) -> float:
    if d is None:
        return math.nan
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d.timestamp() / 86400.0


class PairScorer:
    """Score pairs of a corpus with the pipeline's own similarity functions.

    Parameters
    ----------
    articles : iterable of Article
        The whole corpus the clustering was made from (ids must be unique).
    config : ClusterConfig, optional
        The configuration of that clustering; defaults to ``ClusterConfig()``.
    """

    def __init__(self, articles: Iterable[Article], config: ClusterConfig | None = None) -> None:
        self.config = config or ClusterConfig()
        # Shingles are needed for the exact Jaccard whatever the run verified with.
        feature_config = self.config.replace(verify="exact")
        self._articles: list[Article] = []
        self._row: dict[str, int] = {}
        parts: list[Features] = []
        titles: list[str] = []
        texts: list[str] = []
        for article in articles:
            self._row.setdefault(article.id, len(self._articles))
            self._articles.append(article)
            titles.append(headline(article))
            texts.append(article.text)
            if len(texts) >= feature_config.batch_size:
                parts.append(featurize(titles, texts, feature_config))
                titles, texts = [], []
        if texts or not parts:
            parts.append(featurize(titles, texts, feature_config))
        self._features = Features.concat(parts, feature_config.num_perm)
        self._days = np.array([_day(a.date) for a in self._articles], dtype=np.float64)
        self._rows = tfidf_rows(self._features, self.config, days=self._days)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._row

    def article(self, article_id: str) -> Article:
        """Return the article with this id.

        Raises
        ------
        ConfigError
            If the corpus has no such article.
        """
        return self._articles[self._index(article_id)]

    def _index(self, article_id: str) -> int:
        try:
            return self._row[article_id]
        except KeyError:
            raise ConfigError(
                f"No article with id {article_id!r} in the input corpus "
                f"({len(self._articles)} articles); give the corpus the output was made from."
            ) from None

    def score(self, a: str, b: str, top_terms: int = 10) -> PairScores:
        """Compute every similarity of the pair ``(a, b)``.

        Parameters
        ----------
        a, b : str
            Article ids.
        top_terms : int, default 10
            Shared terms to report.

        Returns
        -------
        PairScores
            The scores.
        """
        i, j = self._index(a), self._index(b)
        left, right = np.array([i], np.int64), np.array([j], np.int64)
        estimate = float(estimated_jaccard(self._features.signatures, left, right)[0])
        exact = float(exact_jaccard(self._features, left, right)[0])
        empty = self._features.n_tokens[i] == 0 or self._features.n_tokens[j] == 0
        verified = estimate if self.config.verify == "estimate" else exact
        cosine, shared = self._cosine(i, j, top_terms)
        decay = float(date_decay(self._days[left], self._days[right], self.config)[0])
        combined = float(story_similarity(self._rows, self._days, left, right, self.config)[0])
        gap = abs(self._days[i] - self._days[j])
        return PairScores(
            a=a,
            b=b,
            jaccard_estimate=estimate,
            jaccard_exact=exact,
            near_duplicate=bool(not empty and verified >= self.config.duplicate_threshold),
            tfidf_cosine=cosine,
            gap_days=None if math.isnan(gap) else float(gap),
            decay=decay,
            story_similarity=combined,
            story_link=bool(not empty and combined >= self.config.story_threshold),
            shared_terms=shared,
            specific_shared=self._specific_shared(left, right),
        )

    def _specific_shared(
        self, left: npt.NDArray[np.int64], right: npt.NDArray[np.int64]
    ) -> bool | None:
        rows = self._rows
        if rows.specific is None:
            return None
        return bool(shares_specific(rows.ptr, rows.features, rows.specific, left, right)[0])

    def _cosine(self, i: int, j: int, top: int) -> tuple[float, tuple[SharedTerm, ...]]:
        rows = self._rows
        fa = rows.features[rows.ptr[i] : rows.ptr[i + 1]]
        fb = rows.features[rows.ptr[j] : rows.ptr[j + 1]]
        wa = rows.weights[rows.ptr[i] : rows.ptr[i + 1]].astype(np.float64)
        wb = rows.weights[rows.ptr[j] : rows.ptr[j + 1]].astype(np.float64)
        common, ia, ib = np.intersect1d(fa, fb, assume_unique=True, return_indices=True)
        contrib = wa[ia] * wb[ib]
        cosine = float(min(max(contrib.sum(), 0.0), 1.0))
        names = self._term_names(i, j)
        order = np.argsort(-contrib, kind="stable")[:top]
        shared = tuple(
            SharedTerm(names.get(int(common[k]), f"#{int(common[k])}"), float(contrib[k]))
            for k in order
            if contrib[k] > 0
        )
        return cosine, shared

    def _term_names(self, i: int, j: int) -> dict[int, str]:
        """Map hashed feature ids back to the tokens of the two articles."""
        n_features = self.config.n_features
        stop = stop_mask(n_features)
        names: dict[int, str] = {}
        for row in (i, j):
            article = self._articles[row]
            for part in (article.title, article.text):
                for token in tokens(normalize(part)):
                    feature = (token_hash(token) & 0xFFFFFFFF) % n_features
                    if not stop[feature]:
                        names.setdefault(feature, token)
        return names


def attachment_notes(clustering: Clustering) -> dict[str, str]:
    """Say why each article joined by the attachment pass was attached.

    Parameters
    ----------
    clustering : Clustering
        A result (its config gives ``attach_ratio`` and ``attach_floor``).

    Returns
    -------
    dict
        Attached article id -> one line: its mean similarity to the members of the
        story as the linkage left it, the bar ``max(attach_floor, attach_ratio *
        cohesion)`` it cleared, and its strongest link into the story. The cohesion is
        recomputed from the members' (rounded) story scores, so the bar may differ from
        the one applied in the last digit.
    """
    attached = [link for link in clustering.links() if link.reason == "attached"]
    if not attached:
        return {}
    ratio = float(clustering.config.get("attach_ratio", 0.0))
    floor = float(clustering.config.get("attach_floor", 0.0))
    joined = {link.a for link in attached}
    story_of = {a.id: a.story_id for a in clustering.assignments}
    core: dict[int, list[float]] = {}
    for a in clustering.assignments:
        if a.id not in joined:
            core.setdefault(a.story_id, []).append(a.story_score)
    notes = {}
    for link in attached:
        scores = core.get(story_of[link.a], [])
        cohesion = sum(scores) / len(scores) if scores else 0.0
        bar = max(floor, ratio * cohesion)
        notes[link.a] = (
            f"attached as a lone article: mean similarity {link.similarity:.3f} to the "
            f"{len(scores)} members the linkage gave the story >= max(floor {floor:g}, "
            f"{ratio:g} x cohesion {cohesion:.3f}) = {bar:.3f}; strongest link: {link.b}"
        )
    return notes
