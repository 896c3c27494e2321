"""``clusterer cluster``: read a corpus, cluster it, write or show the result."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from clusterer import (
    ClusterConfig,
    Clustering,
    ConfigError,
    ReadReport,
    cluster,
)
from clusterer.explain import attachment_notes
from clusterer.output import (
    check_format,
    check_writable,
    summary_table,
    write_assignments,
    write_json,
    write_stories,
)

from . import _options as o
from ._feedback import Reporter, report_rejects
from ._options import ReadOptions, build_config

__all__ = ["cluster_command", "count_line", "print_links"]

_OUT = "Output"


def count_line(report: ReadReport, clustering: Clustering) -> str:
    """Return the final count line (read / clustered / rejected / stories / duplicate groups)."""
    copies = sum(1 for g in clustering.duplicate_groups if len(g.members) > 1)
    return (
        f"read {report.read} / clustered {clustering.n_articles} / "
        f"rejected {len(report.rejects)} / stories {len(clustering.stories)} / "
        f"duplicate groups {len(clustering.duplicate_groups)} ({copies} with copies)"
    )


def print_links(clustering: Clustering, console: Console) -> None:
    """Print, for each story of two or more articles, the links that joined it.

    Parameters
    ----------
    clustering : Clustering
        The result.
    console : Console
        Where to print.
    """
    story_of = {a.id: a.story_id for a in clustering.assignments}
    notes = attachment_notes(clustering)
    by_story: dict[int, list[str]] = {}
    for link in clustering.links():
        s = story_of[link.a]
        if link.reason == "attached":
            by_story.setdefault(s, []).append(f"  {link.a} — {link.b}  {notes[link.a]}")
        elif link.accepted or story_of[link.b] == s:
            kind = "duplicate" if link.reason == "duplicate" else "story"
            by_story.setdefault(s, []).append(
                f"  {link.a} — {link.b}  {kind} {link.similarity:.3f}"
                + ("" if link.accepted else "  (refused by linkage)")
            )
        else:
            for side in (s, story_of[link.b]):
                by_story.setdefault(side, []).append(
                    f"  {link.a} — {link.b}  story {link.similarity:.3f}  "
                    "(refused by linkage: stays apart)"
                )
    for story in clustering.stories:
        if len(story.members) < 2:
            continue
        console.print(
            f"[bold]story {story.id}[/bold] ({len(story.members)} articles): {story.title}",
            highlight=False,
        )
        for line in by_story.get(story.id, ["  (no scored links)"]):
            console.print(line, highlight=False, markup=False)


def _written_by_workers(output: str | None) -> bool:
    """Whether ``--engine dask`` writes this output on the workers (directory, Parquet).

    Takes the argument as typed: a trailing separator (``out.parquet/``) asks for a
    directory of parts, which a :class:`~pathlib.Path` would forget.
    """
    if output is None or output == "-":
        return False
    name = output.rstrip("/" + os.sep)
    return name != output or os.path.isdir(output) or Path(name).suffix.lower() in ("", ".parquet")


def _dask_engine(
    paths: list[str],
    config: ClusterConfig,
    reading: ReadOptions,
    report: ReadReport,
    cluster_options: tuple[str | None, int | None, int | None],
    output: str | None,
    stories: Path | None,
    duplicates_only: bool,
) -> Clustering | None:
    """Run ``--engine dask`` (clusterer/engines, docs/dask.md); None when it wrote the rows.

    A directory or ``.parquet`` ``--output`` is written by the workers, one part per
    input partition, and so is the story summary; otherwise the result is assembled
    here and written as usual. ``cluster_options`` are scheduler, workers, partitions.
    """
    scheduler, workers, partitions = cluster_options
    from clusterer.engines import ReadOptions as EngineReadOptions
    from clusterer.engines import run

    options = EngineReadOptions(
        reading.fields,
        reading.on_error,
        reading.encoding,
        reading.page_date,
        reading.on_duplicate_id,
    )
    partitioned = _written_by_workers(output)
    outcome = run(
        "dask",
        paths,
        config,
        scheduler=scheduler,
        workers=workers,
        partitions=partitions,
        output=output if partitioned else None,
        options=options,
        duplicates_only=duplicates_only,
        stories=stories if partitioned else None,
    )
    if isinstance(outcome, Clustering):
        report.read += outcome.n_articles + len(outcome.rejects)
        report.rejects.extend(outcome.rejects)
        return outcome
    report.rejects.extend(outcome.rejects)
    sys.stderr.write(
        f"read {outcome.articles + len(outcome.rejects)} / clustered {outcome.articles} / "
        f"rejected {len(outcome.rejects)} / stories {outcome.stories} / duplicate groups "
        f"{outcome.duplicate_groups} (written to {len(outcome.files)} file(s) at {output})\n"
    )
    return None


@o.reads_corpus
def cluster_command(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Input files or directories (JSONL, CSV/TSV, text, Markdown, HTML); "
            "'-' reads JSON Lines from standard input.",
            metavar="PATH",
            show_default=False,
        ),
    ],
    output_arg: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Write one row per article here ('-' for standard output). "
            "Without it, a table of stories is printed.",
            rich_help_panel=_OUT,
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        Literal["jsonl", "csv", "json", "parquet"] | None,
        typer.Option(
            "--format",
            help="Output format (default: from the suffix of --output, else jsonl; parquet "
            "needs clusterer[parquet]).",
            rich_help_panel=_OUT,
            show_default=False,
        ),
    ] = None,
    stories: Annotated[
        Path | None,
        typer.Option(
            help="Also write the story summary (JSONL; .json, .csv or .parquet by suffix).",
            rich_help_panel=_OUT,
            show_default=False,
        ),
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(
            help="Write skipped records here as JSONL [default: OUTPUT.rejects.jsonl "
            "with --output, else they are printed on standard error].",
            rich_help_panel=_OUT,
            show_default=False,
        ),
    ] = None,
    save_config: Annotated[
        Path | None,
        typer.Option(
            help="Write the parameters used as JSON (reusable with --config).",
            rich_help_panel=_OUT,
            show_default=False,
        ),
    ] = None,
    duplicates_only: Annotated[
        bool,
        typer.Option(
            "--duplicates-only",
            help="Stop after the near-duplicate groups: each group is its own story and the "
            "TF-IDF story stage is skipped (the fast deduplication pass).",
            rich_help_panel=_OUT,
        ),
    ] = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Print, per story of two or more articles, the links that joined it.",
            rich_help_panel=_OUT,
        ),
    ] = False,
    limit: Annotated[
        int,
        typer.Option(help="Stories shown in the terminal table (0 for all).", rich_help_panel=_OUT),
    ] = 50,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress display (the count line stays)."),
    ] = False,
    *,
    reading: ReadOptions,
    config_file: o.ConfigFile = None,
    shingle_size: o.ShingleSize = None,
    num_perm: o.NumPerm = None,
    seed: o.Seed = None,
    duplicate_threshold: o.DuplicateThreshold = None,
    lsh_recall: o.LshRecall = None,
    lsh_bands: o.LshBands = None,
    lsh_rows: o.LshRows = None,
    verify: o.VerifyOpt = None,
    story_threshold: o.StoryThreshold = None,
    linkage: o.LinkageOpt = None,
    attach_ratio: o.AttachRatio = None,
    attach_floor: o.AttachFloor = None,
    title_weight: o.TitleWeight = None,
    date_decay_days: o.DateDecayDays = None,
    no_date_decay: o.NoDateDecay = False,
    candidate_terms: o.CandidateTerms = None,
    max_terms: o.MaxTerms = None,
    max_postings: o.MaxPostings = None,
    term_neighbours: o.TermNeighbours = None,
    max_block: o.MaxBlock = None,
    n_features: o.NFeatures = None,
    kernel: o.KernelOpt = None,
    batch_size: o.BatchSize = None,
    workers: o.Workers = None,
    specific_terms: o.SpecificTerms = None,
    specific_df: o.SpecificDf = None,
    specific_share: o.SpecificShare = None,
    specific_spread_days: o.SpecificSpreadDays = None,
    # --- engine options (issue 6; clusterer/engines) ---
    engine: Annotated[
        Literal["local", "dask"],
        typer.Option(
            help="Where to run: this process, or a Dask cluster (pip install "
            "'clusterer\\[dask]'; JSONL/Parquet inputs; with --engine dask, --workers is the "
            "number of local Dask worker processes). Same result either way.",
            rich_help_panel="Engine",
        ),
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Address of a running Dask scheduler (tcp://host:8786).",
            rich_help_panel="Engine",
            show_default=False,
        ),
    ] = None,
    partitions: Annotated[
        int | None,
        typer.Option(
            help="Input partitions for --engine dask (default: one per file).",
            rich_help_panel="Engine",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Cluster articles into stories, with near-duplicate groups inside each story.

    Writes one row per article (story_id, duplicate_group_id, scores...) with
    [bold]--output[/bold], or prints a table of the stories. A count line
    (read / clustered / rejected) always ends the run on standard error.
    """
    options = o.config_options(locals())
    output = Path(output_arg) if output_arg is not None else None
    if engine == "dask":
        options["workers"] = None
    config = build_config(config_file, no_date_decay, **options)
    for target in (output, stories, rejects, save_config):
        if target is not None:
            check_writable(target)
    for target, as_format in ((output, fmt), (stories, None)):
        if target is not None:
            check_format(target, as_format)
    err = Console(stderr=True, highlight=False)
    out = Console(highlight=False)
    report = ReadReport()
    reporter = Reporter(err, enabled=not quiet and err.is_terminal)
    by_workers = engine == "dask" and _written_by_workers(output_arg)
    if by_workers and explain:
        raise ConfigError(
            "--explain lists every link with the ids of its articles, which --engine dask "
            "gathers only to assemble the result, not for a directory or .parquet --output; "
            "write a .jsonl or .csv file instead (--stories works with both), or run "
            "'clusterer explain OUTPUT ID --input CORPUS' on the written parts afterwards"
        )
    if engine == "dask":
        dask_result = _dask_engine(
            paths,
            config,
            reading,
            report,
            (scheduler, workers, partitions),
            output_arg,
            stories,
            duplicates_only,
        )
        if dask_result is None:  # the workers wrote the rows and the count line
            if save_config is not None:
                write_json(config.to_dict(), save_config)
            report_rejects(tuple(report.rejects), rejects, output, reading.on_error)
            return
        result = dask_result
    else:
        with reporter.progress:
            # The reader's stream itself, not a wrapper: the pass reads it as columns
            # (progress comes per batch through reporter.stage).
            articles = reading.read(paths, report)
            result = cluster(
                articles, config, progress=reporter.stage, duplicates_only=duplicates_only
            )
    result_rejects = tuple(report.rejects)

    if output is not None:
        write_assignments(result, output, fmt)
    if stories is not None:
        write_stories(result, stories)
    if save_config is not None:
        write_json(config.to_dict(), save_config)
    rejects_path = report_rejects(result_rejects, rejects, output, reading.on_error)

    if output is None:
        out.print(summary_table(result, limit or None))
    if explain:
        print_links(result, out if output is None or str(output) != "-" else err)
    line = count_line(report, result)
    if rejects_path is not None and result_rejects:
        line += f" (rejects in {rejects_path})"
    sys.stderr.write(line + "\n")
