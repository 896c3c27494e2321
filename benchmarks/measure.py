"""Measuring helpers: peak RSS sampled in a thread, machine and commit description."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil

__all__ = ["RssSampler", "machine_info"]

REPO = Path(__file__).resolve().parent.parent


class RssSampler:
    """Sample the resident set size of this process (and its children) in a thread.

    Use as a context manager; ``peak`` is the largest RSS seen (bytes) and ``mark(name)``
    closes a named span so that ``spans[name]`` holds that span's peak.

    Parameters
    ----------
    interval : float, default 0.02
        Seconds between samples.
    """

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak = 0
        self.spans: dict[str, int] = {}
        self._span_peak = 0
        self._stop = threading.Event()
        self._proc = psutil.Process()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        rss = int(self._proc.memory_info().rss)
        for child in self._proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                rss += int(child.memory_info().rss)
        return rss

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            time.sleep(self.interval)

    def sample(self) -> int:
        """Take one sample now and return it."""
        rss = self._rss()
        self.peak = max(self.peak, rss)
        self._span_peak = max(self._span_peak, rss)
        return rss

    def mark(self, name: str) -> None:
        """End the current span under ``name`` (its peak RSS) and start a new one."""
        self.sample()
        self.spans[name] = self._span_peak
        self._span_peak = self._rss()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def _git(*args: str) -> str:
    try:
        out = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip()


def machine_info() -> dict[str, Any]:
    """Describe the commit, machine and current load (for every result line)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", "clusterer")
    return {
        "commit": _git("rev-parse", "--short", "HEAD") + ("+dirty" if dirty.strip() else ""),
        "machine": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }
