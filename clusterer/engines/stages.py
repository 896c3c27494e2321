"""Per-partition pieces of the batch pipeline, as plain functions over NumPy arrays.

Each function takes one partition's data (or one shuffle bucket) and returns arrays; the
Dask engine maps them over partitions and moves only their (small) outputs. They call
the same stage functions as :mod:`clusterer.pipeline` (``featurize``, ``band_keys``,
``candidate_pairs``, ``exact_jaccard``, ``tfidf_rows``, ``top_per_row``,
``strong_posting_pairs``, ``story_similarity``, ``link_stories``), so the distributed
result is the local one exactly. Rows are addressed by their *global* number: partition
offset plus position, i.e. the row the local engine gives the article.

Nothing here imports Dask.

The pieces live in :mod:`._common_stages` (read, id sample, pair routing, row stores,
results), :mod:`._id_stages` (id ranks, the duplicate-id policy), :mod:`._dup_stages`
(near-duplicates), :mod:`._story_stages` (stories) and :mod:`._summary_stages` (the story
summary); this module gathers them under one name for the engine.
"""

from __future__ import annotations

from ._common_stages import (
    F64,
    I64,
    U64,
    Pairs,
    Part,
    Rows,
    assignments,
    gather_pairs,
    id_sample,
    id_split,
    load,
    meta_of,
    rejects_of,
    release,
    requests,
    route,
    size,
    write_part,
)
from ._dup_stages import band_pairs, band_split, collapse, dup_extract, dup_verify, whole_keys
from ._id_stages import (
    IdBucket,
    IdChanges,
    Occurrences,
    apply_ids,
    id_bucket,
    id_lookup,
    id_order,
    merge_rejects,
    resolve_ids,
)
from ._story_stages import (
    StoryPart,
    add,
    attach_scores,
    day_moments,
    doc_freq,
    link_bucket,
    posting_counts,
    postings_split,
    specific_flags,
    story_part,
    term_edges,
    tfidf_extract,
    useful_terms,
)
from ._summary_stages import StoryRows, join_stories, story_bounds, story_split, story_write

__all__ = [
    "F64",
    "I64",
    "U64",
    "IdBucket",
    "IdChanges",
    "Occurrences",
    "Pairs",
    "Part",
    "Rows",
    "StoryPart",
    "StoryRows",
    "add",
    "apply_ids",
    "assignments",
    "attach_scores",
    "band_pairs",
    "band_split",
    "collapse",
    "day_moments",
    "doc_freq",
    "dup_extract",
    "dup_verify",
    "gather_pairs",
    "id_bucket",
    "id_lookup",
    "id_order",
    "id_sample",
    "id_split",
    "join_stories",
    "link_bucket",
    "load",
    "merge_rejects",
    "meta_of",
    "posting_counts",
    "postings_split",
    "rejects_of",
    "release",
    "requests",
    "resolve_ids",
    "route",
    "size",
    "specific_flags",
    "story_bounds",
    "story_part",
    "story_split",
    "story_write",
    "term_edges",
    "tfidf_extract",
    "useful_terms",
    "whole_keys",
    "write_part",
]
