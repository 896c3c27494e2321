"""Incremental story index: which story is this new article? (persistent, SQLite).

Modules
-------
``story_index``  :class:`StoryIndex`, the public entry point
``types``        result types (:class:`IndexAssignment`, :class:`IndexEvent`, ...)
``storage``      file format, pragmas, metadata checks, error translation
``batch``        featurise a batch, look up candidates, build the pool (no writes)
``weigh``        TF-IDF weighting with stored + batch statistics
``cache``        in-memory term rows of stored articles (``_weigh_kernel`` weighs them)
``assign``       placing articles into duplicate groups and stories (pure)
``lookup``       batched read SQL; ``writer`` / ``maintenance``: write SQL
``results``      per-article answers of a plan
``views``        read-only listings (stories, events, statistics)
"""

from __future__ import annotations

from .story_index import StoryIndex
from .types import IndexAssignment, IndexEvent, IndexStats, StoryRecord
from .views import UnknownStoryError

__all__ = [
    "IndexAssignment",
    "IndexEvent",
    "IndexStats",
    "StoryIndex",
    "StoryRecord",
    "UnknownStoryError",
]
