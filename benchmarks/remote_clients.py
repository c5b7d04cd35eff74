"""Benchmark: the HTTP client under the byte sources, urllib3 (ours) vs obstore, same run.

Against the counting Range server in its own process (20 ms per request), both clients fetch
the same byte ranges of a COG: one small range (a header), 50 small ranges one after the
other (per-request overhead), and 8 separate 60 KB ranges at once (8 in flight for urllib3;
obstore's own coalescing and concurrency for ``obstore.get_ranges``). Also the import time of
each client in a fresh interpreter.

Usage::

    python benchmarks/remote_clients.py [--latency 0.02] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _import_ms(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print((time.perf_counter() - t) * 1000)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(3)]
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()

    import obstore
    from obstore.store import HTTPStore

    from benchmarks.remote import ServerProcess
    from raster_core.io.sources import HTTPSource

    data = ROOT.parent / "shared" / "data"
    name = "riotiler_mosaic_cog1.tif"
    size = (data / name).stat().st_size
    starts = [int(k * size / 8) for k in range(8)]
    lengths = [60_000] * 8  # gaps of ~300 KB: separate requests for both clients
    with ServerProcess(data, a.latency) as srv:
        base = f"http://127.0.0.1:{srv.port}"
        store = HTTPStore.from_url(base, client_options={"allow_http": True})

        def u3_one():
            HTTPSource(f"{base}/{name}").get_range(0, 16384)

        def ob_one():
            bytes(obstore.get_range(store, name, start=0, end=16384))

        def u3_seq():
            src = HTTPSource(f"{base}/{name}")
            for k in range(50):
                src.get_range(k * 1000, 500)

        def ob_seq():
            for k in range(50):
                bytes(obstore.get_range(store, name, start=k * 1000, end=k * 1000 + 500))

        def u3_many():
            return HTTPSource(f"{base}/{name}").get_ranges(starts, lengths)

        def ob_many():
            ends = [s + n for s, n in zip(starts, lengths, strict=True)]
            return [bytes(b) for b in obstore.get_ranges(store, name, starts=starts, ends=ends)]

        assert u3_many() == ob_many()
        rows = []
        for label, f_u3, f_ob in (("1 range (16 KiB)", u3_one, ob_one), ("50 ranges in a row", u3_seq, ob_seq),
                                  ("8 ranges at once", u3_many, ob_many)):
            res = {}
            for lib, fn in (("urllib3", f_u3), ("obstore", f_ob)):
                fn()  # warm connections
                times, reqs = [], []
                for _ in range(a.repeat):
                    srv.reset()
                    t0 = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - t0)
                    reqs.append(srv.stats()[0])
                res[lib] = (statistics.median(times), statistics.median(reqs))
            rows.append((label, res))
    print(f"{a.latency * 1000:.0f} ms per request, median of {a.repeat}; file {name}")
    print(f"{'case':<22}{'urllib3 req':>12}{'obstore req':>12}{'urllib3 ms':>11}{'obstore ms':>11}")
    for label, r in rows:
        print(f"{label:<22}{r['urllib3'][1]:>12.0f}{r['obstore'][1]:>12.0f}"
              f"{r['urllib3'][0] * 1000:>11.1f}{r['obstore'][0] * 1000:>11.1f}")
    print(f"import time: urllib3 {_import_ms('urllib3'):.1f} ms, obstore {_import_ms('obstore'):.1f} ms")


if __name__ == "__main__":
    main()
