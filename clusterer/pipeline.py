"""The batch path: articles in, near-duplicate groups nested in stories out.

``cluster()`` runs the stages of DESIGN.md in one direction, timing each:

read + featurise (batches; texts are dropped after their batch) -> band -> verify ->
duplicate groups -> TF-IDF -> story candidates -> story similarity -> linkage -> result.

The partition does not depend on input order: every tie is broken by article id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import numpy.typing as npt

from ._ahead import FeaturizeAhead
from ._arrays import bound_heap_growth, trim_heap
from ._assemble import assemble as _assemble
from ._gc import gc_paused
from ._spill import FeatureSpill, RaggedStore, SpillBeyond
from ._verify import exact_jaccard_blocked
from .config import ClusterConfig
from .errors import DuplicateIdError
from .grouping import (
    Attachments,
    attach_singletons,
    components,
    link_stories,
    story_duplicates,
)
from .headline import headline_of
from .lsh import Banding, band_keys, candidate_pairs, choose_banding
from .models import (
    Article,
    Clustering,
    LinkTable,
    Reject,
)
from .readers.api import ArticleStream
from .readers.columns import ArticleColumns
from .signatures import Features
from .similarity import (
    edge_threshold,
    estimated_jaccard,
    exact_jaccard,
    story_similarity,
    strong_story_pairs,
    tfidf_rows,
    tfidf_rows_stored,
)

__all__ = ["Progress", "cluster", "cluster_features", "duplicate_groups"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: ``progress(stage, done, total)``; total is None when unknown (reading a stream).
Progress = Callable[[str, int, "int | None"], None]


@dataclass
class _Meta:
    """What is kept of each article once its text has been featurised."""

    ids: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    sources: list[str | None] = field(default_factory=list)
    dates: list[datetime | None] = field(default_factory=list)
    urls: list[str | None] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)

    def add(self, a: Article) -> None:
        self.ids.append(a.id)
        self.titles.append(a.title)
        self.sources.append(a.source)
        self.dates.append(a.date)
        self.urls.append(a.url)
        self.origins.append(a.origin)

    def extend(self, batch: ArticleColumns) -> None:
        self.ids += batch.ids
        self.titles += batch.titles
        self.sources += batch.sources
        self.dates += batch.dates
        self.urls += batch.urls
        self.origins += batch.origins


def _batches(articles: Iterable[Article], size: int) -> Iterator[ArticleColumns]:
    """Articles as batches of ``size`` columns; a repeated id is an error."""
    seen: dict[str, str] = {}
    batch = ArticleColumns()
    for article in articles:
        if article.id in seen:
            raise DuplicateIdError(
                article.origin or article.id,
                f"duplicate id {article.id!r} (first seen at {seen[article.id]}); "
                "ids must be unique (the CLI's --on-duplicate-id first|rename resolves this)",
            )
        seen[article.id] = article.origin or "?"
        batch.add(article)
        if len(batch) >= size:
            yield batch.take()
    if len(batch):
        yield batch


def banding_for(config: ClusterConfig) -> Banding:
    """Return the banding a config asks for (forced, or chosen for recall)."""
    if config.lsh_bands is not None and config.lsh_rows is not None:
        return Banding(config.lsh_bands, config.lsh_rows)
    return choose_banding(config.duplicate_threshold, config.num_perm, config.lsh_recall)


def _days(dates: Sequence[datetime | None]) -> F64:
    out = np.full(len(dates), np.nan)
    for i, d in enumerate(dates):
        if d is not None:
            if d.tzinfo is None:
                d = d.replace(tzinfo=timezone.utc)
            out[i] = d.timestamp() / 86400.0
    return out


@gc_paused()
def cluster(
    articles: Iterable[Article],
    config: ClusterConfig | None = None,
    *,
    rejects: Sequence[Reject] = (),
    progress: Progress | None = None,
    duplicates_only: bool = False,
) -> Clustering:
    """Cluster articles into near-duplicate groups nested in story clusters.

    Parameters
    ----------
    articles : iterable of Article
        The corpus; consumed once, in batches of ``config.batch_size``.
    config : ClusterConfig, optional
        Parameters; defaults to ``ClusterConfig()``.
    rejects : sequence of Reject, optional
        Records skipped while reading, carried into the result for reporting.
    progress : callable, optional
        Called as ``progress(stage, done, total)``: ``("featurise", articles so far,
        None)`` after each batch, ``("featurise", n, n)`` when all are featurised, then
        ``(stage, n, n)`` as each later stage ends (the keys of ``Clustering.cpu_timings``).
    duplicates_only : bool, default False
        Stop after the near-duplicate groups: each group is reported as its own story
        and the TF-IDF stage is skipped.

    Returns
    -------
    Clustering
        Every article exactly once, in input order.

    Raises
    ------
    DuplicateIdError
        If two articles share an id.
    """
    config = config or ClusterConfig()
    if isinstance(articles, ArticleStream) and not articles.started:
        batches = articles.batches(config.batch_size)  # ids are unique: the stream's policy
    else:
        batches = _batches(articles, config.batch_size)
    with ExitStack() as stack:
        meta = _Meta()
        ahead = FeaturizeAhead(config, terms=not duplicates_only)
        holder: SpillBeyond | None = None
        read_seconds = 0.0
        titles: list[str] = []
        texts: list[str] = []
        t_read = time.perf_counter()
        for batch in batches:
            meta.extend(batch)
            titles = list(map(headline_of, batch.titles, batch.urls))
            texts = batch.texts
            del batch
            if len(texts) >= config.batch_size:
                read_seconds += time.perf_counter() - t_read
                # Only corpora of several batches tune the (process-wide) allocator and
                # may spill to disk: a host process calling cluster() on small inputs
                # keeps its malloc settings and its arrays in memory. Larger ones spill
                # once their shingles and term counts pass a memory budget.
                bound_heap_growth()
                if holder is None:
                    holder = SpillBeyond(
                        lambda: stack.enter_context(_spill_for(config, duplicates_only))
                    )
                # Featurised while the next batch is read; held or spilled once collected.
                ahead.submit(titles, texts, then=holder.take)
                titles, texts = [], []
                if progress:
                    progress("featurise", len(meta.ids), None)
                t_read = time.perf_counter()
        read_seconds += time.perf_counter() - t_read
        if texts or not ahead.submitted:
            ahead.submit(titles, texts, then=None if holder is None else holder.take)
        parts = ahead.results()
        spill = None if holder is None else holder.spill
        if progress:
            progress("featurise", len(meta.ids), len(meta.ids))
        del titles, texts
        trim_heap()  # the batches' texts were freed in the middle of the heap
        features = Features.concat(parts, config.num_perm, release=True)
        del parts
        timings = {"read": read_seconds, **features.timings}
        return cluster_features(
            features,
            meta,
            config,
            rejects=rejects,
            timings=timings,
            duplicates_only=duplicates_only,
            release=True,
            spill=spill,
            progress=progress,
        )


def _spill_for(config: ClusterConfig, duplicates_only: bool) -> FeatureSpill:
    return FeatureSpill(
        config.n_features, shingles=config.verify == "exact", terms=not duplicates_only
    )


def cluster_features(
    features: Features,
    meta: _Meta,
    config: ClusterConfig,
    *,
    rejects: Sequence[Reject] = (),
    timings: dict[str, float] | None = None,
    duplicates_only: bool = False,
    release: bool = False,
    spill: FeatureSpill | None = None,
    progress: Progress | None = None,
) -> Clustering:
    """Run the stages after featurisation (shared by the local and Dask engines).

    With ``release``, arrays of ``features`` are emptied once no later stage needs them
    (shingles after verification, term counts after TF-IDF) to bound peak memory. With
    ``spill``, shingles and term counts are read from its stores instead of ``features``.
    ``progress(stage, n, n)`` is called as each stage ends.
    """
    timings = dict(timings or {})
    n = len(features)
    done = None if progress is None else (lambda stage: progress(stage, n, n))
    clock = _Clock(timings, done=done)
    rank = np.empty(n, np.int64)
    rank[np.argsort(np.array(meta.ids, dtype=object), kind="stable")] = np.arange(n)
    eligible = features.n_tokens > 0
    if spill is not None and spill.terms is not None:
        story_eligible = np.diff(spill.terms.ptr) > 0  # Features.has_terms of the store
    else:
        story_eligible = features.has_terms()

    clock.start()
    dup_left, dup_right, dup_sim, truncated = near_duplicate_pairs(
        features, eligible, config, spill.shingles if spill else None
    )
    clock.stop("band_verify")
    if release:
        features.shingles = np.zeros(0, np.uint32)

    if duplicates_only:
        clock.start()
        dup_labels, dup_score = duplicate_groups(n, dup_left, dup_right, dup_sim, rank)
        clock.stop("duplicate_groups")
        return _finish(
            features,
            meta,
            config,
            rejects,
            timings,
            dup_left,
            dup_right,
            dup_sim,
            dup_labels,
            dup_score,
            _EMPTY_EDGES,
            dup_labels.copy(),
            np.zeros(n),
            np.zeros(0, bool),
            0,
            truncated,
            cpu=clock.cpu,
            done=done,
        )

    clock.start()
    days = _days(meta.dates)
    if spill is not None and spill.terms is not None:
        rows = tfidf_rows_stored(spill.terms, spill.df, config, days)
    else:
        rows = tfidf_rows(features, config, days=days)
    clock.stop("tfidf")
    clock.start()
    dup_left, dup_right, dup_sim = story_duplicates(
        dup_left,
        dup_right,
        dup_sim,
        story_similarity(rows, days, dup_left, dup_right, config),
        config.story_threshold,
    )
    dup_labels, dup_score = duplicate_groups(n, dup_left, dup_right, dup_sim, rank)
    clock.stop("duplicate_groups")
    if release:
        features.term_features = np.zeros(0, np.uint32)
        features.term_body = np.zeros(0, np.uint16)
        features.term_title = np.zeros(0, np.uint16)
    clock.start()
    # Candidates are scored as they are enumerated; only those reaching the edge
    # threshold are kept (the same pairs as story_candidates + story_similarity +
    # threshold). Links below story_threshold only serve the attachment pass.
    s_left, s_right, s_sim = strong_story_pairs(rows, days, story_eligible, config)
    keep = s_sim >= edge_threshold(config)
    if not keep.all():  # the kernel scores as story_similarity does: none falls short
        s_left, s_right, s_sim = s_left[keep], s_right[keep], s_sim[keep]
    clock.stop("story_candidates")

    clock.start()
    order = np.argsort(rank)  # rows in id order: ties in the linkage break by id

    def score(a: I64, b: I64) -> F64:
        return story_similarity(rows, days, order[a], order[b], config)

    ranked_left, ranked_right = rank[s_left], rank[s_right]  # for the linkage and attachment
    result = link_stories(
        n,
        ranked_left,
        ranked_right,
        s_sim,
        dup_labels[order],
        score,
        config.story_threshold,
        config.linkage,
        config.max_block,
    )
    clock.stop("link")
    clock.start()
    attached = attach_singletons(
        result.labels,
        result.scores,
        ranked_left,
        ranked_right,
        s_sim,
        score,
        config.attach_ratio,
        config.attach_floor,
        links=result.lone_links,
    )
    del ranked_left, ranked_right
    clock.stop("attach")
    # Back to row order, counted with the assembly of the result that _finish times.
    # The linkage and the pass number stories by first row in rank order, i.e. by
    # smallest id rank already: _by_rank would be the identity here.
    clock.start()
    story_labels = attached.labels[rank]
    story_scores = attached.scores[rank]
    strong = s_sim >= config.story_threshold
    s_left, s_right, s_sim = s_left[strong], s_right[strong], s_sim[strong]
    rejected = story_labels[s_left] != story_labels[s_right]
    attachments = attachment_links(attached, order)
    clock.stop("assemble", report=False)
    return _finish(
        features,
        meta,
        config,
        rejects,
        timings,
        dup_left,
        dup_right,
        dup_sim,
        dup_labels,
        dup_score,
        (s_left, s_right, s_sim),
        story_labels,
        story_scores,
        rejected,
        result.cuts,
        truncated,
        attachments,
        cpu=clock.cpu,
        done=done,
    )


class _Clock:
    """Wall and process CPU seconds of the stages that run one after another.

    CPU time is of the whole process (all threads); nothing else of the run works
    while these stages do, so it is the stage's own, and steadier than wall time on
    a loaded machine.
    """

    def __init__(
        self,
        wall: dict[str, float],
        cpu: dict[str, float] | None = None,
        done: Callable[[str], None] | None = None,
    ) -> None:
        self.wall = wall
        self.cpu: dict[str, float] = {} if cpu is None else cpu
        self._done = done
        self._wall0 = self._cpu0 = 0.0

    def start(self) -> None:
        """Start timing a stage."""
        self._wall0, self._cpu0 = time.perf_counter(), time.process_time()

    def stop(self, name: str, *, report: bool = True) -> None:
        """Add the time since :meth:`start` to stage ``name``; report it ended if ``report``.

        A stage timed in several pieces (``assemble``: the conversion to row order, then
        the result) reports only its last.
        """
        self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - self._wall0
        self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - self._cpu0
        if report and self._done is not None:
            self._done(name)


_EMPTY_EDGES = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))


def _finish(
    features: Features,
    meta: _Meta,
    config: ClusterConfig,
    rejects: Sequence[Reject],
    timings: dict[str, float],
    dup_left: I64,
    dup_right: I64,
    dup_sim: F64,
    dup_labels: I64,
    dup_score: F64,
    story_edges: tuple[I64, I64, F64],
    story_labels: I64,
    story_scores: F64,
    rejected: npt.NDArray[np.bool_],
    cuts: int,
    truncated: int,
    attached: tuple[I64, I64, F64] = _EMPTY_EDGES,
    *,
    cpu: dict[str, float] | None = None,
    done: Callable[[str], None] | None = None,
) -> Clustering:
    """Build the result object from the stage outputs.

    ``story_edges`` are the links at or above ``story_threshold`` (``rejected`` says
    which ended apart); ``attached`` holds one ``(article, partner, mean similarity)``
    link per article joined by the attachment pass (see :func:`attachment_links`).
    """
    s_left, s_right, s_sim = story_edges
    a_left, a_right, a_sim = attached
    clock = _Clock(timings, cpu, done)
    clock.start()
    table = LinkTable(
        np.concatenate((dup_left, s_left, a_left)),
        np.concatenate((dup_right, s_right, a_right)),
        np.concatenate((dup_sim, s_sim, a_sim)),
        np.concatenate((np.ones(dup_left.size, bool), ~rejected, np.ones(a_left.size, bool))),
        np.concatenate(
            (
                np.zeros(dup_left.size, np.int8),
                np.ones(s_left.size, np.int8),
                np.full(a_left.size, 2, np.int8),
            )
        ),
    )
    clustering = _assemble(
        meta, features, dup_labels, dup_score, story_labels, story_scores, table, config
    )
    clock.stop("assemble")
    stats = {"lsh_truncated_buckets": truncated, "oversized_components_cut": cuts}
    return Clustering(
        clustering.assignments,
        clustering.stories,
        clustering.duplicate_groups,
        table,
        tuple(rejects),
        {**config.to_dict(), "stats": stats},
        timings,
        clock.cpu,
    )


def attachment_links(attached: Attachments, order: I64) -> tuple[I64, I64, F64]:
    """Attachments as link-table rows: (article, partner, mean similarity), by article row.

    Parameters
    ----------
    attached : Attachments
        The pass's output, in id-rank space.
    order : (n,) int64
        Article row of each id rank.

    Returns
    -------
    left, right : int64 arrays
        Attached article and its strongest partner in the story, as article rows.
    similarity : float64 array
        Mean similarity to the story's members (what the pass compared).
    """
    rows, partners = order[attached.rows], order[attached.partners]
    by_row = np.argsort(rows, kind="stable")
    return rows[by_row], partners[by_row], attached.similarity[by_row]


def near_duplicate_pairs(
    features: Features,
    eligible: npt.NDArray[np.bool_],
    config: ClusterConfig,
    shingles: RaggedStore | None = None,
) -> tuple[I64, I64, F64, int]:
    """Find verified near-duplicate pairs: collapse identical signatures, band, verify.

    Parameters
    ----------
    features : Features
        Signatures (and shingles for exact verification).
    eligible : (n,) bool
        Articles with text.
    config : ClusterConfig
        Threshold, banding and verification settings.
    shingles : RaggedStore, optional
        Where the shingle sets are when they are not in ``features`` (spilled).

    Returns
    -------
    left, right : int64 arrays
        Pairs with similarity at or above ``duplicate_threshold``.
    similarity : float64 array
        Their (exact or estimated) Jaccard.
    truncated : int
        Oversized LSH buckets that were linked partially.
    """
    n = len(features)
    # Identical signatures collapse onto one representative before banding, so that
    # thousands of identical texts cost one bucket entry, not a quadratic pair list.
    whole = band_keys(features.signatures, Banding(1, config.num_perm))[:, 0]
    rows = np.flatnonzero(eligible)
    order = rows[np.argsort(whole[rows], kind="stable")]
    first = np.concatenate(([True], whole[order][1:] != whole[order][:-1])) if order.size else order
    rep = np.arange(n)
    rep[order] = order[np.flatnonzero(first)][np.cumsum(first) - 1] if order.size else order
    copy_left, copy_right = rep[order[~first]], order[~first]
    representative = eligible & (rep == np.arange(n))
    keys = band_keys(features.signatures, banding_for(config), by_band=True)
    left, right, truncated = candidate_pairs(keys, representative)
    left = np.concatenate((left, np.minimum(copy_left, copy_right)))
    right = np.concatenate((right, np.maximum(copy_left, copy_right)))
    # Pairs below the threshold are dropped: their comparison may stop early.
    floor = config.duplicate_threshold
    if config.verify == "exact" and shingles is not None:
        sim = exact_jaccard_blocked(shingles, left, right, at_least=floor)
    elif config.verify == "exact":
        sim = exact_jaccard(features, left, right, at_least=floor)
    else:
        sim = estimated_jaccard(features.signatures, left, right)
    keep = sim >= config.duplicate_threshold
    return left[keep], right[keep], sim[keep], truncated


def duplicate_groups(n: int, left: I64, right: I64, sim: F64, rank: I64) -> tuple[I64, F64]:
    """Near-duplicate groups of verified pairs, and each article's best match score.

    Parameters
    ----------
    n : int
        Number of articles.
    left, right, sim : arrays
        Verified near-duplicate pairs (article rows) and their Jaccard similarity.
    rank : (n,) int64
        Id rank of each article row.

    Returns
    -------
    labels : (n,) int64
        Group per article, numbered by the smallest id rank among its members.
    score : (n,) float64
        Highest similarity of each article to another member of its group (0 alone).
    """
    labels = _by_rank(components(n, left, right), rank)
    score = np.zeros(n)
    np.maximum.at(score, left, sim)
    np.maximum.at(score, right, sim)
    return labels, score


def _by_rank(labels: I64, rank: I64) -> I64:
    """Renumber clusters 0.. by the smallest id rank among their members."""
    k = int(labels.max()) + 1 if labels.size else 0
    first = np.full(k, np.iinfo(np.int64).max)
    np.minimum.at(first, labels, rank)
    new = np.empty(k, np.int64)
    new[np.argsort(first)] = np.arange(k)
    return new[labels]
