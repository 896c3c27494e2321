"""Benchmark profiles: the sizes, real corpora and baseline limits of each profile.

``STAGES`` names the timed pipeline stages in report order. Re-exported by
:mod:`benchmarks.run`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .measure import REPO

REAL = {"reuters21578": REPO.parent / "shared" / "data" / "reuters21578" / "reuters21578.jsonl"}
STAGES = (
    "read",
    "normalise",
    "tokenise",
    "shingle_sign",
    "terms",
    "spill",
    "band_verify",
    "duplicate_groups",
    "tfidf",
    "story_candidates",
    "story_similarity",
    "link",
    "attach",
    "assemble",
    "write",
)


@dataclass(frozen=True)
class Profile:
    """Sizes and baseline limits of one benchmark profile.

    ``index_stored`` articles fill the story index before its ``add`` and ``query`` are
    timed (:mod:`benchmarks.index_suite`), in batches of ``index_batch``. Our full
    pipeline runs ``repeats`` times on each corpus; its record holds the median of each
    stage and of the whole run (a stage's exponent from one run moves by 0.05-0.1
    between runs on a shared 2-core machine).
    """

    sizes: tuple[int, ...]
    real: tuple[str, ...]
    doc_max: int
    bulk_max: int
    progress: bool
    index_stored: int
    index_batch: int
    repeats: int = 1


PROFILES = {
    "smoke": Profile((1000, 8000), (), 1000, 8000, False, 2000, 500),
    "regular": Profile(
        (10000, 30000, 100000), ("reuters21578",), 10000, 100000, False, 100000, 1000, 3
    ),
    # At 1M the datasketch passes would take longer than the whole profile: their cost
    # per article is taken from the latest run that measured them (and marked so).
    "large": Profile((100000, 1000000), (), 0, 0, True, 100000, 1000, 3),
}
