"""Long mode of the GeoTIFF reader's mutation fuzzer (the CI runs a 1200-case subset).

Runs ``--cases`` seeded cases (default 20,000) of :mod:`tests._fuzz` on ``--workers``
processes and prints the count of each outcome (ok / typed / untyped / crash / hang / oom)
plus every case that is not ok or typed, reproducible with
``python -m tests._fuzz --seed S --replay INDEX``. Exit status 1 if any case failed.

Usage (one benchmark at a time on the shared machine)::

    flock /tmp/raster_core_bench.lock python -m benchmarks.fuzz --seed 7 --cases 20000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests import _fuzz  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20.0)
    args = ap.parse_args(argv)
    last = [time.monotonic()]

    def progress(done: int) -> None:
        if time.monotonic() - last[0] > 30:
            last[0] = time.monotonic()
            print(f"  {done}/{args.cases}", file=sys.stderr, flush=True)

    res = _fuzz.run(args.seed, args.cases, workers=args.workers, timeout=args.timeout, progress=progress)
    summary = {"seed": args.seed, "cases": args.cases, "workers": args.workers, "seconds": round(res.seconds, 1),
               "counts": {k: res.counts[k] for k in _fuzz.OUTCOMES}}
    print(json.dumps(summary))
    for p in res.problems:
        print(json.dumps(p))
    return 1 if res.failures else 0


if __name__ == "__main__":
    sys.exit(main())
