"""Helpers shared by the benchmark scripts: data files and peak-memory sampling."""

from __future__ import annotations

import resource
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def find_data(name: str) -> Path:
    """``name`` in the bundled ``data/``, else in ``../shared/data``; exits when neither has it."""
    for base in (ROOT / "data", ROOT.parent / "shared" / "data"):
        if (base / name).exists():
            return base / name
    sys.exit(f"{name} not found in data/ or ../shared/data")


def rss_mb() -> float:
    """This process's resident set size in MB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_during(fn: Callable[[], Any], interval: float = 0.001) -> tuple[float, Any]:
    """``(peak RSS growth in MB while fn runs, fn's result)``, sampled every ``interval`` s."""
    import time

    base = rss_mb()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out = fn()
    finally:
        done.set()
        sampler.join()
    return max(peak[0], rss_mb()) - base, out
