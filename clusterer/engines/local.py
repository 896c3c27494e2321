"""The local engine: partitions read in order and fed to :func:`clusterer.pipeline.cluster`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..config import ClusterConfig
from ..models import Article, Clustering
from ..pipeline import cluster
from ..readers.options import ReadReport
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

    def articles() -> Iterator[Article]:
        for part in parts:
            own = ReadReport()
            yield from read_partition(part, options, own)
            report.read += own.read
            report.files += own.files
            report.rejects.extend(own.rejects)

    result = cluster(articles(), config, duplicates_only=duplicates_only)
    return result, report


def _split(part: Partition, parts: Sequence[Partition]) -> bool:
    return part.kind == "parquet" or sum(q.path == part.path for q in parts) > 1
