"""The public surface is pinned: a change to it must be deliberate."""

from __future__ import annotations

import subprocess
import sys

import clusterer

EXPECTED = [
    "SCHEME",
    "Article",
    "Assignment",
    "ClusterConfig",
    "ClustererError",
    "Clustering",
    "ConfigError",
    "CorpusError",
    "DuplicateGroup",
    "DuplicateIdError",
    "FieldMap",
    "IndexFileError",
    "Link",
    "LinkTable",
    "MissingExtraError",
    "OutputError",
    "ReadReport",
    "Reject",
    "Story",
    "StoryClusterer",
    "__version__",
    "cluster",
    "read_articles",
    "to_lean_minhash",
]


def isort_key(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then Classes, then functions and dunders."""
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_all_is_sorted_and_pinned() -> None:
    assert clusterer.__all__ == sorted(clusterer.__all__, key=isort_key)
    assert clusterer.__all__ == EXPECTED


def test_every_name_exists() -> None:
    for name in clusterer.__all__:
        assert hasattr(clusterer, name), name


def test_importing_does_not_import_typer() -> None:
    code = (
        "import sys, clusterer, clusterer.output, clusterer.explain; print('typer' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert proc.stdout.strip() == "False"


def test_errors_form_one_tree() -> None:
    for name in (
        "ConfigError",
        "CorpusError",
        "DuplicateIdError",
        "IndexFileError",
        "MissingExtraError",
        "OutputError",
    ):
        assert issubclass(getattr(clusterer, name), clusterer.ClustererError)
    assert issubclass(clusterer.ConfigError, ValueError)
    assert issubclass(clusterer.MissingExtraError, ImportError)
    assert "pip install" in str(clusterer.MissingExtraError("trafilatura", "html"))
