"""StoryClusterer: the pipeline behind scikit-learn's estimator contract."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClusterMixin

from .config import ClusterConfig
from .models import Article, Clustering, DuplicateGroup, Story
from .pipeline import cluster

__all__ = ["StoryClusterer"]

_DEFAULTS = ClusterConfig()


class StoryClusterer(ClusterMixin, BaseEstimator):  # type: ignore[misc]
    """Cluster articles into stories with near-duplicate groups inside.

    The constructor only stores parameters (they are those of :class:`ClusterConfig`,
    with the same defaults); :meth:`fit` validates them and runs the pipeline.

    Parameters
    ----------
    shingle_size, num_perm, seed, duplicate_threshold, lsh_recall, lsh_bands, lsh_rows, \
verify, story_threshold, linkage, attach_ratio, attach_floor, title_weight, date_decay_days, \
candidate_terms, max_terms, max_postings, term_neighbours, max_block, n_features, kernel, \
batch_size, workers, specific_terms, specific_df, specific_share, specific_spread_days
        See :class:`ClusterConfig`.

    Attributes
    ----------
    labels_ : ndarray of shape (n_articles,)
        Story id per article, in input order.
    duplicate_labels_ : ndarray of shape (n_articles,)
        Near-duplicate group id per article.
    stories_ : tuple of Story
        The story clusters.
    duplicate_groups_ : tuple of DuplicateGroup
        The near-duplicate groups.
    clustering_ : Clustering
        The full result (assignments, links, timings).
    config_ : ClusterConfig
        The validated configuration used.

    Examples
    --------
    >>> from clusterer import Article, StoryClusterer
    >>> text = "the same wire story"
    >>> docs = [Article(id="a", text=text), Article(id="b", text=text)]
    >>> StoryClusterer().fit_predict(docs).tolist()
    [0, 0]
    """

    def __init__(
        self,
        shingle_size: int = _DEFAULTS.shingle_size,
        num_perm: int = _DEFAULTS.num_perm,
        seed: int = _DEFAULTS.seed,
        duplicate_threshold: float = _DEFAULTS.duplicate_threshold,
        lsh_recall: float = _DEFAULTS.lsh_recall,
        lsh_bands: int | None = _DEFAULTS.lsh_bands,
        lsh_rows: int | None = _DEFAULTS.lsh_rows,
        verify: str = _DEFAULTS.verify,
        story_threshold: float = _DEFAULTS.story_threshold,
        linkage: str = _DEFAULTS.linkage,
        attach_ratio: float = _DEFAULTS.attach_ratio,
        attach_floor: float = _DEFAULTS.attach_floor,
        title_weight: float = _DEFAULTS.title_weight,
        date_decay_days: float | None = _DEFAULTS.date_decay_days,
        candidate_terms: int = _DEFAULTS.candidate_terms,
        max_terms: int | None = _DEFAULTS.max_terms,
        max_postings: int = _DEFAULTS.max_postings,
        term_neighbours: int = _DEFAULTS.term_neighbours,
        max_block: int = _DEFAULTS.max_block,
        n_features: int = _DEFAULTS.n_features,
        kernel: str = _DEFAULTS.kernel,
        batch_size: int = _DEFAULTS.batch_size,
        workers: int = _DEFAULTS.workers,
        specific_terms: bool = _DEFAULTS.specific_terms,
        specific_df: int = _DEFAULTS.specific_df,
        specific_share: float = _DEFAULTS.specific_share,
        specific_spread_days: float | None = _DEFAULTS.specific_spread_days,
    ) -> None:
        self.shingle_size = shingle_size
        self.num_perm = num_perm
        self.seed = seed
        self.duplicate_threshold = duplicate_threshold
        self.lsh_recall = lsh_recall
        self.lsh_bands = lsh_bands
        self.lsh_rows = lsh_rows
        self.verify = verify
        self.story_threshold = story_threshold
        self.linkage = linkage
        self.attach_ratio = attach_ratio
        self.attach_floor = attach_floor
        self.title_weight = title_weight
        self.date_decay_days = date_decay_days
        self.candidate_terms = candidate_terms
        self.max_terms = max_terms
        self.max_postings = max_postings
        self.term_neighbours = term_neighbours
        self.max_block = max_block
        self.n_features = n_features
        self.kernel = kernel
        self.batch_size = batch_size
        self.workers = workers
        self.specific_terms = specific_terms
        self.specific_df = specific_df
        self.specific_share = specific_share
        self.specific_spread_days = specific_spread_days

    def _config(self) -> ClusterConfig:
        params: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(ClusterConfig)}
        return ClusterConfig(**params)

    def fit(self, X: Iterable[Article], y: object = None) -> StoryClusterer:
        """Cluster the articles.

        Parameters
        ----------
        X : iterable of Article
            The corpus.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        StoryClusterer
            The fitted estimator.
        """
        self.config_ = self._config()
        result = cluster(X, self.config_)
        self.clustering_: Clustering = result
        self.labels_: npt.NDArray[np.int64] = np.array(
            [a.story_id for a in result.assignments], dtype=np.int64
        )
        self.duplicate_labels_: npt.NDArray[np.int64] = np.array(
            [a.duplicate_group_id for a in result.assignments], dtype=np.int64
        )
        self.stories_: tuple[Story, ...] = result.stories
        self.duplicate_groups_: tuple[DuplicateGroup, ...] = result.duplicate_groups
        return self

    def fit_predict(self, X: Iterable[Article], y: object = None, **kwargs: Any) -> Any:
        """Cluster the articles and return the story label of each.

        Parameters
        ----------
        X : iterable of Article
            The corpus.
        y : None
            Ignored.
        **kwargs : dict
            Ignored.

        Returns
        -------
        ndarray of shape (n_articles,)
            Story ids.
        """
        return self.fit(X).labels_
