"""Engines: the same clustering on one process (``"local"``) or on a Dask cluster (``"dask"``).

Both read partitioned JSON Lines or Parquet inputs (:mod:`.partitions`) and give the same
partition into duplicate groups and stories, with the same numbering::

    from clusterer.engines import cluster_partitioned

    result = cluster_partitioned("corpus/", engine="dask", workers=2)
    cluster_partitioned("corpus/*.parquet", engine="dask", scheduler="tcp://host:8786",
                        output="out.parquet/")   # one Parquet file per input partition

The Dask engine needs ``pip install 'clusterer[dask]'``. See ``docs/dask.md``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from ..config import ClusterConfig
from ..errors import ConfigError, MissingExtraError, param_message
from ..models import Clustering, Reject
from .partitions import (
    Kind,
    Partition,
    ReadOptions,
    concat_files,
    discover,
    output_kind,
    write_partition,
)

__all__ = ["ENGINES", "EngineRun", "ReadOptions", "cluster_partitioned", "run"]

Engine = Literal["local", "dask"]
ENGINES: tuple[str, ...] = ("local", "dask")


@dataclass(frozen=True)
class EngineRun:
    """Summary of a run whose rows were written to ``output``.

    Parameters
    ----------
    engine : str
        ``"local"`` or ``"dask"``.
    articles, stories, duplicate_groups : int
        Counts.
    partitions : int
        Input partitions.
    files : tuple of str
        Files written.
    rejects : tuple of Reject
        Skipped input records.
    timings : dict
        Seconds per stage.
    clustering : Clustering or None
        The result object (local engine only; the Dask engine does not assemble it).
    """

    engine: str
    articles: int
    stories: int
    duplicate_groups: int
    partitions: int
    files: tuple[str, ...]
    rejects: tuple[Reject, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    clustering: Clustering | None = None


def _require_dask() -> None:
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise MissingExtraError("dask", "dask") from None


def cluster_partitioned(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    config: ClusterConfig | None = None,
    *,
    engine: Engine = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    partitions: int | None = None,
    output: str | os.PathLike[str] | None = None,
    options: ReadOptions | None = None,
    client: Any = None,
    duplicates_only: bool = False,
    stories: str | os.PathLike[str] | None = None,
) -> Clustering | EngineRun:
    """Cluster partitioned JSON Lines / Parquet inputs with the local or the Dask engine.

    Parameters
    ----------
    paths : path, glob or sequence of them
        Files, directories (walked in sorted order) or glob patterns of ``.jsonl`` /
        ``.ndjson`` / ``.json`` (JSON Lines) and ``.parquet`` files.
    config : ClusterConfig, optional
        Parameters (the same for every engine; results do not depend on the engine).
    engine : {"local", "dask"}, default "local"
        Where to run.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``). Without it (and without
        ``client``) a local cluster of ``workers`` processes is started for the run.
    workers : int, optional
        Worker processes of that local cluster (default 2).
    partitions : int, optional
        Number of input partitions (default: one per file; more splits files).
    output : path, optional
        Write one row per article here instead of returning a :class:`Clustering`:
        a directory (``out/`` -> ``part-00000.jsonl``...; ``out.parquet/`` -> Parquet parts,
        one per input partition) or a single ``.jsonl`` / ``.parquet`` file.
    options : ReadOptions, optional
        Field mapping and error policy of the readers.
    client : distributed.Client, optional
        Use this client (``scheduler`` and ``workers`` are then ignored).
    duplicates_only : bool, default False
        Stop after the near-duplicate groups: each group is its own story and the
        TF-IDF story stage is skipped (as in :func:`clusterer.cluster`).
    stories : path, optional
        Also write the story summary here (JSON Lines; ``.json`` or ``.csv`` by suffix),
        as :func:`clusterer.output.write_stories` does. When the Dask engine writes
        ``output`` on the workers, the workers build it too, one range of stories each,
        in ``STORIES.parts/`` (which they must be able to write), joined at the end.

    Returns
    -------
    Clustering or EngineRun
        The result, or a summary when ``output`` is given.

    Raises
    ------
    MissingExtraError
        For ``engine="dask"`` without Dask installed (names ``pip install 'clusterer[dask]'``).
    ConfigError
        For an unknown engine or bad option.
    """
    if engine not in ENGINES:
        raise ConfigError(param_message("engine", "engine", "one of 'local', 'dask'", engine))
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ConfigError(param_message("engine", "workers", "an int >= 1 or None", workers))
    config = config or ClusterConfig()
    if engine == "dask":
        _require_dask()
    options = options or ReadOptions()
    parts = discover(paths, partitions)
    if engine == "local":
        result = _run_local(parts, config, options, output, duplicates_only)
    else:
        result = _run_dask(
            parts, config, options, output, scheduler, workers, client, duplicates_only, stories
        )
    assembled = result if isinstance(result, Clustering) else result.clustering
    if stories is not None and assembled is not None:
        from ..output import write_stories

        write_stories(assembled, stories)
    return result


def run(
    engine: str,
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    config: ClusterConfig | None = None,
    **options: Any,
) -> Clustering | EngineRun:
    """Run the engine named ``engine``; see :func:`cluster_partitioned` for the options."""
    return cluster_partitioned(paths, config, engine=cast(Engine, engine), **options)


def _targets(output: str | os.PathLike[str], count: int) -> tuple[Kind, bool, list[str]]:
    kind, directory = output_kind(output)
    suffix = ".parquet" if kind == "parquet" else ".jsonl"
    if directory:
        Path(output).mkdir(parents=True, exist_ok=True)
        return kind, True, [os.path.join(output, f"part-{p:05d}{suffix}") for p in range(count)]
    tmp = f"{output}.parts"
    Path(tmp).mkdir(parents=True, exist_ok=True)
    return kind, False, [os.path.join(tmp, f"part-{p:05d}{suffix}") for p in range(count)]


def _join(kind: Kind, files: Sequence[str], output: str | os.PathLike[str]) -> None:
    """Concatenate part files into one output file, streaming."""
    from ..output import atomic_write

    if kind == "jsonl":
        concat_files(files, output)
    else:
        import pyarrow.parquet as pq

        schema = pq.read_schema(files[0])
        with atomic_write(output, binary=True) as out, pq.ParquetWriter(out, schema) as writer:
            for f in files:
                writer.write_table(pq.read_table(f))
    shutil.rmtree(os.path.dirname(files[0]), ignore_errors=True)


def _run_local(
    parts: list[Partition],
    config: ClusterConfig,
    options: ReadOptions,
    output: str | os.PathLike[str] | None,
    duplicates_only: bool,
) -> Clustering | EngineRun:
    from .local import run_local

    t = time.perf_counter()
    result, report = run_local(parts, config, options, duplicates_only)
    result = dataclasses.replace(result, rejects=tuple(report.rejects))
    if output is None:
        return result
    kind, directory, files = _targets(output, 1)
    write_partition(result.assignments, files[0], kind)
    if not directory:
        _join(kind, files, output)
        files = [str(output)]
    return EngineRun(
        "local",
        result.n_articles,
        len(result.stories),
        len(result.duplicate_groups),
        len(parts),
        tuple(files),
        result.rejects,
        {**result.timings, "total": time.perf_counter() - t},
        result,
    )


def _run_dask(
    parts: list[Partition],
    config: ClusterConfig,
    options: ReadOptions,
    output: str | os.PathLike[str] | None,
    scheduler: str | None,
    workers: int | None,
    client: Any,
    duplicates_only: bool,
    stories: str | os.PathLike[str] | None,
) -> Clustering | EngineRun:
    from .dask_engine import client_for, run_dask

    t = time.perf_counter()
    files: list[str] = []
    kind: Kind = "jsonl"
    directory = True
    if output is not None:
        kind, directory, files = _targets(output, len(parts))

    def write(p: int) -> tuple[str, str]:
        return files[p], kind

    story_dir = "" if stories is None else f"{stories}.parts"
    if str(stories) == "-":  # standard output: the parts go to a temporary directory
        story_dir = tempfile.mkdtemp(prefix="clusterer-stories-")

    def story_part(b: int) -> str:
        Path(story_dir).mkdir(parents=True, exist_ok=True)
        return os.path.join(story_dir, f"part-{b:05d}.jsonl")

    def go(c: Any) -> tuple[Clustering | None, dict[str, Any]]:
        return run_dask(
            c,
            parts,
            config,
            options,
            write=write if output is not None else None,
            duplicates_only=duplicates_only,
            stories=story_part if stories is not None and output is not None else None,
        )

    if client is not None:
        result, info = go(client)
    else:
        with client_for(scheduler, workers) as c:
            result, info = go(c)
    if result is not None:
        return result
    if not directory and output is not None:
        _join(kind, files, output)
        files = [str(output)]
    if stories is not None:
        from .stages import join_stories

        join_stories(info["story_parts"], stories)
        shutil.rmtree(story_dir, ignore_errors=True)
    return EngineRun(
        "dask",
        info["articles"],
        info["stories"],
        info["duplicate_groups"],
        info["partitions"],
        tuple(files),
        info["rejects"],
        {**info["timings"], "total": time.perf_counter() - t},
    )
