"""Benchmarks of clusterer: quality on labelled news sets (``python -m benchmarks.quality``).

Benchmarks use only the public API, read third-party data from outside the repository at
run time, and append JSON lines (with commit, machine and date) under
``benchmarks/results/``.
"""
