"""How the command line reports failures: one line on standard error and an exit code.

========================================  =========
:class:`~clusterer.ConfigError`           2 (also click's usage errors)
any other :class:`~clusterer.ClustererError`  1
``KeyboardInterrupt``                     130
========================================  =========
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

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
    interrupted, previous = _watch_sigint()
    try:
        yield
    except ConfigError as exc:
        raise fail(str(exc), EXIT_CONFIG) from None
    except ClustererError as exc:
        raise fail(str(exc), EXIT_RUNTIME) from None
    except KeyboardInterrupt:
        raise fail(_INTERRUPTED, EXIT_INTERRUPTED) from None
    except Exception as exc:
        # Ctrl-C inside compiled (numba/LLVM) code does not always surface as
        # KeyboardInterrupt: it can come back wrapped in a SystemError, or be swallowed
        # by a callback that leaves a RuntimeError behind. A recorded SIGINT decides.
        if interrupted[0] or _caused_by_interrupt(exc):
            raise fail(_INTERRUPTED, EXIT_INTERRUPTED) from None
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


_INTERRUPTED = "interrupted (unfinished output files were not written)"


def _watch_sigint() -> tuple[list[bool], Any]:
    """Record SIGINT in a flag, then interrupt as Python normally does (main thread only).

    Returns the flag and the handler to restore afterwards (None if none was replaced).
    """
    flag = [False]

    def handler(signum: int, frame: FrameType | None) -> None:
        flag[0] = True
        raise KeyboardInterrupt

    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            return flag, signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread
        pass
    return flag, None


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
