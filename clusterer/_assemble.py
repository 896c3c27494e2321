"""Building the :class:`~clusterer.models.Clustering` result from the stage outputs."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from .config import ClusterConfig
from .models import Assignment, Clustering, DuplicateGroup, LinkTable, Story
from .signatures import Features

if TYPE_CHECKING:
    from .pipeline import _Meta

__all__ = ["assemble", "summarise"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def assemble(
    meta: _Meta,
    features: Features,
    dup_labels: I64,
    dup_score: F64,
    story_labels: I64,
    story_scores: F64,
    table: LinkTable,
    config: ClusterConfig,
) -> Clustering:
    """Build assignments, duplicate groups and stories (titles, spans, cohesion)."""
    n = len(meta.ids)
    dup_round = rounded(dup_score)
    story_round = rounded(story_scores)
    # Positional arguments over zipped columns: this builds one object per article.
    assignments = tuple(
        map(
            Assignment,
            meta.ids,
            meta.titles,
            meta.sources,
            meta.dates,
            meta.urls,
            story_labels.tolist(),
            dup_labels.tolist(),
            dup_round,
            story_round,
            (features.n_tokens == 0).tolist(),
            meta.origins,
        )
    )
    rejected = table.kind == 1
    rejected &= ~table.accepted
    n_story = int(story_labels.max()) + 1 if n else 0
    rejected_count = np.bincount(
        np.concatenate((story_labels[table.left[rejected]], story_labels[table.right[rejected]])),
        minlength=n_story,
    )
    attached_count = np.bincount(story_labels[table.left[table.kind == 2]], minlength=n_story)
    groups, stories = summarise(
        meta, dup_labels, story_labels, story_scores, rejected_count, attached_count
    )
    return Clustering(assignments, stories, groups, table, (), config.to_dict(), {})


def summarise(
    meta: _Meta,
    dup_labels: I64,
    story_labels: I64,
    story_scores: F64,
    rejected_count: I64,
    attached_count: I64,
) -> tuple[tuple[DuplicateGroup, ...], tuple[Story, ...]]:
    """Build the duplicate groups and the stories (titles, spans, cohesion) of some rows.

    Labels are numbered from 0 without gaps; rows are in input order (ties in the
    representative and the date span go to the lowest row). ``rejected_count`` and
    ``attached_count`` hold, per story, the refused links touching it and the lone
    articles the attachment pass joined to it. The Dask engine calls this on the rows
    of a range of stories at a time.
    """
    n = len(meta.ids)
    n_dup = int(dup_labels.max()) + 1 if n else 0
    n_story = int(story_labels.max()) + 1 if n else 0
    rows = np.arange(n)
    # Members in id order, cluster by cluster: one sort instead of one per cluster.
    id_rank = np.empty(n, np.int64)
    id_rank[np.argsort(np.array(meta.ids, dtype=object), kind="stable")] = rows
    dup_ids, dup_cut = _grouped(meta.ids, dup_labels, id_rank, n_dup)
    if np.array_equal(dup_labels, story_labels):  # each group is its own story (dup-only)
        story_ids, story_cut = dup_ids, dup_cut
    else:
        story_ids, story_cut = _grouped(meta.ids, story_labels, id_rank, n_story)
    first_row = np.full(n_dup, n, np.int64)
    np.minimum.at(first_row, dup_labels, rows)
    group_story = story_labels[first_row[:n_dup]].tolist() if n else []
    groups = tuple(
        DuplicateGroup(g, group_story[g], tuple(dup_ids[dup_cut[g] : dup_cut[g + 1]]))
        for g in range(n_dup)
    )
    # Representative: highest story score, the lowest row among ties.
    best = _first_per_label(story_labels, -story_scores, n_story)
    stamps = _stamps(meta.dates)
    earliest = _first_per_label(story_labels, stamps, n_story)
    latest = _first_per_label(story_labels, -stamps, n_story)
    size = np.bincount(story_labels, minlength=n_story)
    by_story = _rows_per_label(story_labels, n_story)
    cohesion = _mean_per_label(story_labels, story_scores, size, by_story)
    dup_sets = _distinct_per_label(story_labels, dup_labels, n_story)
    # Python lists, not NumPy scalars, inside the per-story loop.
    best_row = best.tolist()
    undated = np.isnan(stamps).tolist()
    earliest_row, latest_row = earliest.tolist(), latest.tolist()
    sizes, cohesions = size.tolist(), cohesion.tolist()
    rejections, attachments = rejected_count.tolist(), attached_count.tolist()
    sources, dates, titles, ids = meta.sources, meta.dates, meta.titles, meta.ids
    stories = []
    for s in range(n_story):
        b = best_row[s]
        if sizes[s] == 1:  # what the general case gives for one member, built directly
            src, date = sources[b], None if undated[b] else dates[b]
            stories.append(
                Story(
                    s,
                    (ids[b],),
                    titles[b],
                    ids[b],
                    (src,) if src else (),
                    date,
                    date,
                    dup_sets[s],
                    0.0,
                    rejections[s],
                    attachments[s],
                )
            )
            continue
        e, la = earliest_row[s], latest_row[s]
        stories.append(
            Story(
                id=s,
                members=tuple(story_ids[story_cut[s] : story_cut[s + 1]]),
                title=titles[b],
                representative=ids[b],
                sources=tuple(sorted({src for i in by_story[s] if (src := sources[i])})),
                first=None if undated[e] else dates[e],
                last=None if undated[la] else dates[la],
                duplicate_groups=dup_sets[s],
                cohesion=round(cohesions[s] if sizes[s] > 1 else 0.0, 6),
                rejected_links=rejections[s],
                attached=attachments[s],
            )
        )
    return groups, tuple(stories)


def _grouped(ids: list[str], labels: I64, id_rank: I64, k: int) -> tuple[list[str], list[int]]:
    """Ids ordered by (label, id), and where each label's run starts (``k + 1`` cuts)."""
    order = np.lexsort((id_rank, labels))
    cuts = np.zeros(k + 1, np.int64)
    np.cumsum(np.bincount(labels, minlength=k), out=cuts[1:])
    return [ids[i] for i in order.tolist()], cuts.tolist()


def _rows_per_label(labels: I64, k: int) -> list[list[int]]:
    """Rows of each label, ascending."""
    order = np.argsort(labels, kind="stable").tolist()
    cuts = np.zeros(k + 1, np.int64)
    np.cumsum(np.bincount(labels, minlength=k), out=cuts[1:])
    c = cuts.tolist()
    return [order[c[j] : c[j + 1]] for j in range(k)]


def _first_per_label(labels: I64, key: F64, k: int) -> I64:
    """Per label, the row with the smallest key (NaN last), the lowest row among ties.

    What ``min(rows, key=...)`` gives for rows in ascending order.
    """
    order = np.lexsort((np.arange(labels.size), key, labels))
    cuts = np.zeros(k, np.int64)
    np.cumsum(np.bincount(labels, minlength=k)[:-1], out=cuts[1:])
    out: I64 = order[cuts] if labels.size else np.zeros(0, np.int64)
    return out


def _mean_per_label(labels: I64, values: F64, size: I64, rows: list[list[int]]) -> F64:
    """Per label, ``np.mean`` of its values in row order (bit for bit).

    Below 8 values NumPy sums in order, as ``np.bincount`` does; larger labels go
    through ``np.mean`` itself, whose blocked summation may round differently.
    """
    k = size.size
    sums = np.bincount(labels, weights=values, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean: F64 = sums / size
    for j in np.flatnonzero(size >= 8).tolist():
        mean[j] = np.mean(values[rows[j]])
    return mean


def _distinct_per_label(labels: I64, values: I64, k: int) -> list[tuple[int, ...]]:
    """Per label, its distinct values ascending."""
    order = np.lexsort((values, labels))
    lab, val = labels[order], values[order]
    keep = np.ones(lab.size, bool)
    keep[1:] = (lab[1:] != lab[:-1]) | (val[1:] != val[:-1])
    lab, val = lab[keep], val[keep]
    cuts = np.zeros(k + 1, np.int64)
    np.cumsum(np.bincount(lab, minlength=k), out=cuts[1:])
    c = cuts.tolist()
    v = val.tolist()
    return [tuple(v[c[j] : c[j + 1]]) for j in range(k)]


def _sort_key(d: datetime) -> float:
    return (d if d.tzinfo else d.replace(tzinfo=timezone.utc)).timestamp()


def _stamps(dates: list[datetime | None]) -> F64:
    """POSIX times of the dates (a naive one taken as UTC), NaN where there is none."""
    nan = float("nan")
    return np.array(
        [nan if d is None else d.timestamp() if d.tzinfo else _sort_key(d) for d in dates],
        dtype=np.float64,
    )


def rounded(values: F64, digits: int = 6) -> list[float]:
    """``[round(x, digits) for x in values]``, rounding each distinct value once.

    Scores repeat a lot (zeros, and Jaccard values are ratios of small counts). Values
    are told apart by their bits, so ``-0.0`` and ``0.0`` keep their own results.

    Parameters
    ----------
    values : float64 array
        The values.
    digits : int, default 6
        Decimal digits kept.

    Returns
    -------
    list of float
        Rounded as Python's :func:`round` does.
    """
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    distinct, inverse = np.unique(bits, return_inverse=True)
    table = np.array([round(x, digits) for x in distinct.view(np.float64).tolist()], np.float64)
    out: list[float] = table[inverse.reshape(-1)].tolist()
    return out
