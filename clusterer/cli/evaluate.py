"""``clusterer evaluate``: score story clusters against gold labels.

Two forms::

    clusterer evaluate INPUT... [--gold-field cluster] [--config F] [--story-threshold 0.3 ...]
    clusterer evaluate --predicted OUT.jsonl --gold GOLD.jsonl [--gold-field cluster] [--json]

The first clusters the inputs with the given settings and scores the stories against the
gold label each record carries (every clustering option of ``clusterer cluster`` is
accepted, defined once in :mod:`._options`); the second scores a clustering written
earlier. This module only defines :func:`evaluate_command`; the application registers it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ..errors import ConfigError
from ..evaluate import Missing, Scores, Unmatched, evaluate, score_files
from ..readers import read_articles
from . import _options as o
from ._options import build_config

__all__ = ["evaluate_command"]

_FILES_HELP = "Scoring a written result"


def evaluate_command(
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Labelled corpus: files or directories to cluster and score.",
            show_default=False,
        ),
    ] = None,
    gold_field: Annotated[
        str, typer.Option(help="Record field holding the gold cluster label.")
    ] = "cluster",
    predicted: Annotated[
        Path | None,
        typer.Option(
            help="Per-article result written earlier (JSONL, CSV or Parquet with id and story_id).",
            rich_help_panel=_FILES_HELP,
        ),
    ] = None,
    gold: Annotated[
        Path | None,
        typer.Option(
            help="Per-article gold labels (JSONL, CSV or Parquet with id and the gold field).",
            rich_help_panel=_FILES_HELP,
        ),
    ] = None,
    id_field: Annotated[
        str, typer.Option(help="Id field of both files.", rich_help_panel=_FILES_HELP)
    ] = "id",
    story_field: Annotated[
        str,
        typer.Option(help="Predicted label field of --predicted.", rich_help_panel=_FILES_HELP),
    ] = "story_id",
    unmatched: Annotated[
        str,
        typer.Option(
            help="Ids found in one file only: 'error' or 'drop' (score the shared ids).",
            rich_help_panel=_FILES_HELP,
        ),
    ] = "error",
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
    missing: Annotated[
        str,
        typer.Option(help="Articles without a gold label: 'singleton' or 'drop'."),
    ] = "singleton",
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
) -> None:
    """Score story clusters against gold labels (B-cubed, pairwise, ARI, NMI).

    Give a labelled corpus to cluster and score, or --predicted with --gold.
    """
    options = o.config_options(locals())
    changes = {k: v for k, v in options.items() if v is not None}
    if config_file is not None:
        changes["config"] = config_file
    if no_date_decay:
        if date_decay_days is not None:
            raise ConfigError("Give either --date-decay-days or --no-date-decay, not both.")
        changes["no_date_decay"] = True
    policy = _choice("missing", missing, ("singleton", "drop"))
    start = time.perf_counter()
    config_dict: dict[str, Any] | None = None
    if predicted is not None or gold is not None:
        if inputs:
            raise ConfigError("Give INPUT files to cluster, or --predicted and --gold, not both.")
        if predicted is None or gold is None:
            raise ConfigError("--predicted and --gold go together; give both files.")
        if changes:
            flags = ", ".join("--" + k.replace("_", "-") for k in sorted(changes))
            raise ConfigError(f"{flags}: clustering settings apply only when clustering INPUT.")
        scores = score_files(
            predicted,
            gold,
            gold_field=gold_field,
            id_field=id_field,
            story_field=story_field,
            missing=policy,
            unmatched=_unmatched(unmatched),
        )
        source = f"{predicted} vs {gold}"
    else:
        if not inputs:
            raise ConfigError(
                "Nothing to evaluate: give INPUT files with gold labels, "
                "or --predicted OUT --gold GOLD."
            )
        config = build_config(config_file, no_date_decay, **options)
        scores, _ = evaluate(read_articles(inputs), gold_field, config, missing=policy)
        config_dict = config.to_dict()
        source = ", ".join(str(p) for p in inputs)
    seconds = time.perf_counter() - start
    if json_output:
        payload = {**scores.to_dict(), "seconds": round(seconds, 3), "config": config_dict}
        typer.echo(json.dumps(payload))
    else:
        _print_table(scores, source, gold_field, seconds)


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> Missing:
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ConfigError(f"--{name} must be one of {options}. Got {value!r} instead.")
    return value  # type: ignore[return-value]


def _unmatched(value: str) -> Unmatched:
    return _choice("unmatched", value, ("error", "drop"))  # type: ignore[return-value]


def _print_table(scores: Scores, source: str, gold_field: str, seconds: float) -> None:
    table = Table()
    table.add_column("metric")
    table.add_column("precision", justify="right")
    table.add_column("recall", justify="right")
    table.add_column("F1", justify="right")
    s = scores
    table.add_row(
        "B-cubed", f"{s.bcubed_precision:.3f}", f"{s.bcubed_recall:.3f}", f"{s.bcubed_f1:.3f}"
    )
    table.add_row(
        "pairwise",
        f"{s.pairwise_precision:.3f}",
        f"{s.pairwise_recall:.3f}",
        f"{s.pairwise_f1:.3f}",
    )
    table.add_row("ARI", "", "", f"{s.ari:.3f}")
    table.add_row("NMI", "", "", f"{s.nmi:.3f}")
    console = Console()
    console.print(f"{source} (gold field {gold_field!r})", highlight=False)
    console.print(table)
    missing = f", {s.missing_gold} without gold label" if s.missing_gold else ""
    console.print(
        f"{s.n_articles} articles{missing}; clusters predicted {s.n_clusters_predicted} "
        f"(largest {s.largest_predicted}), gold {s.n_clusters_gold} "
        f"(largest {s.largest_gold}); {seconds:.2f} s"
    )
