"""Test-wide settings.

Hypothesis' per-example deadline is a timing assertion, and timing belongs in the
benchmarks: on a loaded shared machine a correct example can take longer than 200 ms.
The ``clusterer`` profile drops the deadline and prints the blob that reproduces a
failure; the example counts set on each test still apply.
"""

from hypothesis import settings

settings.register_profile("clusterer", deadline=None, print_blob=True)
settings.load_profile("clusterer")
