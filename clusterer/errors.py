"""Exceptions raised by clusterer.

Every error a user can cause derives from :class:`ClustererError`, so callers
can catch one type. The tree::

    ClustererError
    ├── ConfigError (also ValueError)     a parameter is out of range or of the wrong type
    ├── CorpusError                      an input file or line cannot be read; names path:line
    │   └── DuplicateIdError             two articles share an id
    ├── IndexFileError                   a story index file is missing, foreign, corrupt or stale
    ├── OutputError                      a result cannot be written
    └── MissingExtraError (ImportError)  an optional dependency is not installed

The CLI maps :class:`ConfigError` to exit code 2 and the others to exit code 1.
"""

from __future__ import annotations

__all__ = [
    "ClustererError",
    "ConfigError",
    "CorpusError",
    "DuplicateIdError",
    "IndexFileError",
    "MissingExtraError",
    "OutputError",
]


class ClustererError(Exception):
    """Base class of every error clusterer raises on purpose."""


class ConfigError(ClustererError, ValueError):
    """A configuration value is invalid.

    Parameters
    ----------
    message : str
        The full message, written with :func:`param_message`.
    """


class CorpusError(ClustererError):
    """An input cannot be read.

    Parameters
    ----------
    origin : str
        Where the problem is, as ``path:line`` (or ``path`` for whole-file problems).
    reason : str
        What is wrong and, where possible, what to do about it.
    """

    def __init__(self, origin: str, reason: str) -> None:
        super().__init__(f"{origin}: {reason}")
        self.origin = origin
        self.reason = reason


class DuplicateIdError(CorpusError):
    """Two articles share an id (see the ``on_duplicate_id`` option)."""


class IndexFileError(ClustererError):
    """A story index file cannot be used (foreign, corrupt, another version or config)."""


class OutputError(ClustererError):
    """A result cannot be written to the requested location."""


class MissingExtraError(ClustererError, ImportError):
    """An optional dependency is missing.

    Parameters
    ----------
    package : str
        The import name that failed.
    extra : str
        The extra of clusterer that installs it.
    """

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"This feature needs the optional package {package!r}. "
            f"Install it with: pip install 'clusterer[{extra}]'"
        )
        self.package = package
        self.extra = extra


def param_message(owner: str, name: str, expected: str, got: object) -> str:
    """Build the one error message template for bad parameters.

    Parameters
    ----------
    owner : str
        The object the parameter belongs to, e.g. ``"ClusterConfig"``.
    name : str
        The parameter name.
    expected : str
        What is allowed, e.g. ``"a float in [0, 1]"``.
    got : object
        The value that was given.

    Returns
    -------
    str
        ``The 'name' parameter of owner must be expected. Got got instead.``
    """
    return f"The {name!r} parameter of {owner} must be {expected}. Got {got!r} instead."
