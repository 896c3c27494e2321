"""Crash safety and concurrency of the story index, with real processes (no mocks)."""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from index_helpers import make_articles

from clusterer.index import StoryIndex

HERE = Path(__file__).resolve().parent
#: Enough batches that the writer is still adding 1.5 s after its first acknowledgement
#: (the kill window below) even when ``add`` is fast.
BATCHES, SIZE = 120, 25


def _pythonpath() -> str:
    """Helpers plus this checkout's package, ahead of any installed copy of it."""
    parts = [str(HERE), str(HERE.parent), os.environ.get("PYTHONPATH", "")]
    return os.pathsep.join(p for p in parts if p)


def _members(path: str) -> set[str]:
    if not os.path.exists(path):  # killed before the first open created the file
        return set()
    with StoryIndex.open(path, create=False) as ix:
        return {m for s in ix.stories() for m in s.members}


@pytest.mark.slow
def test_sigkill_never_loses_or_splits_a_batch(tmp_path: Path) -> None:
    path = str(tmp_path / "crash.idx")
    rng = random.Random(5)
    trials = 20
    mid_run = 0
    for trial in range(trials):
        prefix = f"t{trial}-"
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "index_helpers.py"), path, prefix, str(BATCHES), str(SIZE)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": _pythonpath()},
        )
        # Kill at a random moment of the add loop: after the first acknowledgement
        # (start-up time varies with machine load), or before it in some trials.
        assert proc.stdout is not None
        first = proc.stdout.readline() if trial % 4 else b""
        time.sleep(rng.uniform(0.0, 1.5))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        out = first + out
        acked = {
            int(line.split()[1]) for line in out.decode().splitlines() if line.startswith("ACK")
        }
        mid_run += 0 < len(acked) < BATCHES
        present = _members(path)
        arts = make_articles(BATCHES * SIZE, seed=hash(prefix) % 1000, prefix=prefix)
        for b in range(BATCHES):
            ids = {a.id for a in arts[b * SIZE : (b + 1) * SIZE]}
            stored = len(ids & present)
            assert stored in (0, SIZE), f"trial {trial}: batch {b} partly stored ({stored}/{SIZE})"
            if b in acked:
                assert stored == SIZE, f"trial {trial}: acknowledged batch {b} lost"
        if os.path.exists(path):
            with StoryIndex.open(path, create=False) as ix:
                ix.query(arts[0])  # still answers
    assert mid_run >= trials // 2, f"only {mid_run} kills landed mid-run"
    print(f"{trials} SIGKILL trials, {mid_run} mid-run, no loss")


def _writer(path: str, prefix: str, n: int) -> None:
    arts = make_articles(n * 20, seed=len(prefix), prefix=prefix)
    with StoryIndex.open(path, timeout=120) as ix:
        for b in range(n):
            ix.add(arts[b * 20 : (b + 1) * 20])


def _reader(path: str, stop: float, errors: mp.Queue) -> None:  # type: ignore[type-arg]
    arts = make_articles(30, seed=99, prefix="q")
    try:
        with StoryIndex.open(path, create=False, timeout=120) as ix:
            while time.time() < stop:
                for a in arts:
                    ix.query(a)
                ix.stats()
    except Exception as exc:  # report any failure to the parent
        errors.put(repr(exc))


@pytest.mark.slow
def test_readers_beside_two_writers(tmp_path: Path) -> None:
    path = str(tmp_path / "conc.idx")
    StoryIndex.open(path).close()
    ctx = mp.get_context("spawn")
    errors = ctx.Queue()
    writers = [ctx.Process(target=_writer, args=(path, p, 15)) for p in ("wa", "wb")]
    readers = [ctx.Process(target=_reader, args=(path, time.time() + 15, errors)) for _ in range(3)]
    for p in writers + readers:
        p.start()
    for p in writers + readers:
        p.join(300)
        assert p.exitcode == 0
    assert errors.empty(), errors.get()
    present = _members(path)
    for prefix in ("wa", "wb"):
        expected = {a.id for a in make_articles(15 * 20, seed=len(prefix), prefix=prefix)}
        assert expected <= present, f"writer {prefix} lost articles"
    with StoryIndex.open(path) as ix:
        assert ix.stats().articles == 600
        assert ix.stats().batches == 30
