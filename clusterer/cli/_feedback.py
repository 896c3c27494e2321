"""What a long command shows the user on standard error: progress, then its rejects."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from clusterer import Reject
from clusterer.output import write_rejects

__all__ = ["Reporter", "report_rejects"]


class Reporter:
    """A transient progress line on stderr: what is being done, articles done, time.

    Parameters
    ----------
    console : rich.console.Console
        Where to draw (standard error).
    enabled : bool
        False draws nothing (``--quiet``, or standard error is not a terminal).
    """

    def __init__(self, console: Console, enabled: bool) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed} articles"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not enabled,
        )
        self.task = self.progress.add_task("reading", total=None)

    def stage(self, stage: str, done: int, total: int | None) -> None:
        """Show ``done`` articles through ``stage`` (the pipeline's progress callback).

        Parameters
        ----------
        stage : str
            What is being done (``"featurise"`` is shown as featurising).
        done : int
            Articles done so far.
        total : int or None
            Articles in all, when known; once reached, the line says clustering.
        """
        description = "featurising" if stage == "featurise" else stage
        if total is not None and done >= total:
            description = "clustering"
        self.progress.update(self.task, description=description, completed=done)


def report_rejects(
    result_rejects: tuple[Reject, ...],
    rejects: Path | None,
    output: Path | None,
    on_error: str,
) -> Path | None:
    """Write the rejects to ``--rejects`` (or next to a file output), else to stderr.

    Returns the file written, if any.
    """
    rejects_path = rejects
    to_file = output is not None and str(output) != "-"
    if (
        rejects_path is None
        and output is not None
        and to_file
        and (on_error == "skip" or result_rejects)
    ):
        rejects_path = output.with_name(output.name + ".rejects.jsonl")
    if rejects_path is not None:
        write_rejects(result_rejects, rejects_path)
    else:
        for r in result_rejects:
            sys.stderr.write(f"rejected {r.origin}: {r.reason}\n")
    return rejects_path
