"""The local engine: partitions read in order and fed to :func:`clusterer.pipeline.cluster`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..config import ClusterConfig
from ..models import Article, Clustering, Reject
from ..pipeline import cluster
from ..readers.ids import IdRegistry
from ..readers.options import ReadReport
from ._id_stages import merge_rejects
from .partitions import Partition, ReadOptions, count_lines, numbered, read_partition

__all__ = ["run_local"]


def run_local(
    parts: Sequence[Partition],
    config: ClusterConfig,
    options: ReadOptions,
    duplicates_only: bool = False,
) -> tuple[Clustering, ReadReport]:
    """Cluster all partitions in one process (the reference for the other engines)."""
    counts = [count_lines(p) if _split(p, parts) else 0 for p in parts]
    parts = numbered(parts, counts)
    report = ReadReport()
    registry = IdRegistry(options.on_duplicate_id)  # across partitions, as read_articles

    def articles() -> Iterator[Article]:
        for part in parts:
            own = ReadReport()
            repeated: list[Reject] = []
            for article in read_partition(part, options, own):
                admitted = registry.admit(article)
                if isinstance(admitted, Reject):
                    repeated.append(admitted)
                else:
                    yield admitted
            report.read += own.read
            report.files += own.files
            report.rejects.extend(merge_rejects(own.rejects, repeated))

    result = cluster(articles(), config, duplicates_only=duplicates_only)
    return result, report


def _split(part: Partition, parts: Sequence[Partition]) -> bool:
    return part.kind == "parquet" or sum(q.path == part.path for q in parts) > 1
