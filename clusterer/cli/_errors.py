"""How the command line reports failures: one line on standard error and an exit code.

========================================  =========
:class:`~clusterer.ConfigError`           2 (also click's usage errors)
any other :class:`~clusterer.ClustererError`  1
``KeyboardInterrupt``                     130
========================================  =========
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from clusterer import ClustererError, ConfigError

__all__ = ["EXIT_CONFIG", "EXIT_INTERRUPTED", "EXIT_RUNTIME", "fail", "user_errors"]

EXIT_RUNTIME = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130


def fail(message: str, code: int) -> typer.Exit:
    """Print ``error: message`` on one line of standard error; return the exit to raise.

    Parameters
    ----------
    message : str
        What went wrong (line breaks are folded into spaces).
    code : int
        Exit code.

    Returns
    -------
    typer.Exit
        Raise it.
    """
    line = " ".join(str(message).split())
    sys.stderr.write(f"error: {line}\n")
    sys.stderr.flush()
    return typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn library errors and Ctrl-C into one line on stderr and an exit code."""
    try:
        yield
    except ConfigError as exc:
        raise fail(str(exc), EXIT_CONFIG) from None
    except ClustererError as exc:
        raise fail(str(exc), EXIT_RUNTIME) from None
    except KeyboardInterrupt:
        raise fail(
            "interrupted (unfinished output files were not written)", EXIT_INTERRUPTED
        ) from None
