"""The ``clusterer`` command line: one typer application, one module per command.

``cluster`` and ``explain`` live in :mod:`.cluster` and :mod:`.explain`; ``evaluate``
(:mod:`.evaluate`, function ``evaluate_command``) and the ``index`` group
(:mod:`.index`, ``index_app``) are registered when their modules are present. The
commands only use the public library API.

Every :class:`~clusterer.ClustererError` raised by any command becomes one line on
standard error (``error: ...``) with exit code 2 for configuration errors and 1 for
the others; Ctrl-C exits with 130.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ._errors import user_errors
from .cluster import cluster_command
from .explain import explain_command

__all__ = ["app", "main"]


class _Group(TyperGroup):
    """The root group: runs every subcommand under :func:`user_errors`."""

    def invoke(self, ctx: Any) -> Any:
        """Invoke the chosen subcommand, mapping user errors to one line and an exit code."""
        with user_errors():
            return super().invoke(ctx)


app = typer.Typer(
    name="clusterer",
    cls=_Group,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
    help="Group news articles into [bold]stories[/bold], with near-duplicate groups inside.",
)
app.command("cluster")(cluster_command)
app.command("explain")(explain_command)


def _version_line() -> str:
    """Versions of clusterer and of what decides its results, for bug reports."""
    from importlib import metadata

    import clusterer

    parts = [f"clusterer {clusterer.__version__}", f"Python {sys.version.split()[0]}"]
    for dist in ("numpy", "numba", "datasketch", "scikit-learn"):
        try:
            parts.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{dist} not installed")
    return ", ".join(parts)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(_version_line())
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Show the versions of clusterer and of the libraries behind its results.",
        ),
    ] = False,
) -> None:
    """Group news articles into [bold]stories[/bold], with near-duplicate groups inside."""


def _optional(module: str) -> Any:
    """Import ``clusterer.cli.<module>`` if that file exists, else return None."""
    name = f"{__name__}.{module}"
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


_evaluate = _optional("evaluate")
if _evaluate is not None:
    app.command("evaluate")(_evaluate.evaluate_command)
_index = _optional("index")
if _index is not None:
    app.add_typer(_index.index_app, name="index")


def main() -> None:
    """Run the command line (the ``clusterer`` console script)."""
    app()
