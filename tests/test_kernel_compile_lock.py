"""Processes sharing a cache directory compile each kernel once.

Two fresh interpreters with the same empty ``NUMBA_CACHE_DIR`` wait for each other at a file
barrier, then run the same first rasterisation at the same moment. Each records the kernels it
compiled (Numba's compile events; a kernel loaded from the cache raises none): no kernel may be
compiled by both, and both must get the same pixels. Without the compile lock of
``raster_core._kernels._cache`` both compile every kernel side by side (the kernels take about a
second to compile, the barrier releases the two within milliseconds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import json, os, sys, time
from numba.core import event

compiled = []


class Compiled(event.Listener):
    def on_start(self, ev):
        pass

    def on_end(self, ev):
        compiled.append(ev.data["dispatcher"].py_func.__qualname__ + " " + str(ev.data["args"]))


event.register("numba:compile", Compiled())
import raster_core
from raster_core._kernels import rasterize as _load_kernels  # noqa: F401  (the kernels' module, defined)

barrier, me, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
open(os.path.join(barrier, me), "w").close()
deadline = time.monotonic() + 60
while len(os.listdir(barrier)) < n and time.monotonic() < deadline:
    time.sleep(0.002)
square = {"type": "Polygon", "coordinates": [[(1.5, 1.5), (50.2, 3.0), (40.0, 60.7), (1.5, 1.5)]]}
out = raster_core.rasterize([square], out_shape=(64, 64), transform=(0.0, 1.0, 0.0, 64.0, 0.0, -1.0))
print(json.dumps({"compiled": compiled, "burned": int(out.sum())}))
"""


def test_processes_sharing_a_cache_compile_each_kernel_once(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    barrier = tmp_path / "barrier"
    cache.mkdir()
    barrier.mkdir()
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache),
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = [
        subprocess.Popen([sys.executable, "-c", SCRIPT, str(barrier), str(i), "2"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    first, second = (set(r["compiled"]) for r in results)
    assert first | second, "nothing was compiled: the cache was not empty"
    assert not first & second, f"compiled by both processes: {sorted(first & second)}"
    assert results[0]["burned"] == results[1]["burned"] > 0
