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


# Two signatures of one small kernel (sort_ints on int64 and on int32 arrays), one per process.
SIGNATURES_SCRIPT = """
import json, os, sys, time
from numba.core import caching, event

barrier, me, mode = sys.argv[1], sys.argv[2], sys.argv[3]
compiled = []


class Compiled(event.Listener):
    def on_start(self, ev):
        pass

    def on_end(self, ev):
        compiled.append(ev.data["dispatcher"].py_func.__qualname__)


event.register("numba:compile", Compiled())
import numpy as np
from raster_core._kernels import _cache
from raster_core._kernels.sorting import sort_ints

if mode == "slow-save":
    # widen the window between reading the index and writing it back: two unlocked saves of
    # different signatures then both start from the empty index and the later drops the earlier
    save_index = caching.IndexDataCacheFile._save_index

    def slow_save_index(self, overloads):
        time.sleep(1.0)
        save_index(self, overloads)

    caching.IndexDataCacheFile._save_index = slow_save_index
elif mode == "hold":
    # hold the lock this signature's compilation takes (the first lock taken) until the other
    # process has compiled its signature
    compile_lock = _cache._compile_lock
    first = []

    class held:
        def __init__(self, path):
            self.inner = compile_lock(path)

        def __enter__(self):
            self.inner.__enter__()
            if first:
                return
            first.append(True)
            open(os.path.join(barrier, "holding"), "w").close()
            deadline = time.monotonic() + 60
            while not os.path.exists(os.path.join(barrier, "other-done")) and time.monotonic() < deadline:
                time.sleep(0.01)
            open(os.path.join(barrier, "released"), "w").close()

        def __exit__(self, *exc):
            return self.inner.__exit__(*exc)

    _cache._compile_lock = held
elif mode == "after-hold":
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(barrier, "holding")) and time.monotonic() < deadline:
        time.sleep(0.01)

if mode in ("slow-save",):
    open(os.path.join(barrier, me), "w").close()
    deadline = time.monotonic() + 60
    while len([f for f in os.listdir(barrier) if f.isdigit()]) < 2 and time.monotonic() < deadline:
        time.sleep(0.002)
values = np.array([5, 3, 9, 1, 3], dtype=np.int64 if me == "0" else np.int32)
sort_ints(values)
if mode == "after-hold":
    print(json.dumps({"released_before_done": os.path.exists(os.path.join(barrier, "released"))}))
    open(os.path.join(barrier, "other-done"), "w").close()
print(json.dumps({"compiled": compiled, "sorted": values.tolist()}))
"""


def _start(cache: Path, barrier: Path, me: str, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache),
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-c", SIGNATURES_SCRIPT, str(barrier), me, mode], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(p: subprocess.Popen[str]) -> list[dict]:
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err[-2000:]
    return [json.loads(line) for line in out.strip().splitlines() if line.startswith("{")]


def test_saves_of_different_signatures_at_once_keep_both(tmp_path: Path) -> None:
    cache, barrier = tmp_path / "cache", tmp_path / "barrier"
    cache.mkdir()
    barrier.mkdir()
    procs = [_start(cache, barrier, me, "slow-save") for me in ("0", "1")]
    for p in procs:
        assert _finish(p)[-1]["sorted"] == [1, 3, 3, 5, 9]
    # a third process finds both signatures in the index: it loads them, compiles nothing
    again = [_start(cache, barrier, me, "load") for me in ("0", "1")]
    for p in again:
        assert _finish(p)[-1]["compiled"] == []


def test_a_signature_being_compiled_does_not_hold_up_another(tmp_path: Path) -> None:
    cache, barrier = tmp_path / "cache", tmp_path / "barrier"
    cache.mkdir()
    barrier.mkdir()
    holder = _start(cache, barrier, "0", "hold")
    other = _start(cache, barrier, "1", "after-hold")
    first, last = _finish(other)
    assert not first["released_before_done"], "the other signature waited for the held one's lock"
    assert last["sorted"] == [1, 3, 3, 5, 9] and "sort_ints" in last["compiled"]
    assert _finish(holder)[-1]["sorted"] == [1, 3, 3, 5, 9]
