"""Ctrl-C: a public call stops its worker threads promptly, leaves no file, and the library
stays usable in that process."""

from __future__ import annotations

import _thread
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from raster_core._parallel import run_blocks
from tests.conftest import ROOT, data_file

_LONG_RASTER = textwrap.dedent("""
    import os, signal, sys, tempfile
    from raster_core.api import Raster

    # Ctrl-C raises KeyboardInterrupt, as in a terminal (a child inherits an ignored SIGINT: in a
    # CI run the pytest-xdist worker starting it had SIGINT ignored by then)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    src, out = sys.argv[1], sys.argv[2]
    r = Raster(num_threads=2)
    # first the same call on 2 images, elsewhere: it compiles every kernel of the long run (with a
    # cold Numba cache they would be compiled in a pool thread during it, and a compiling block
    # cannot be interrupted)
    warm = os.path.join(tempfile.mkdtemp(), "warm")
    r.raster([src] * 2, ["1"], srs="EPSG:4326", resolution=0.0005, resampler="bilinear", outfile_basename=warm)
    print("ready", flush=True)
    r.raster([src] * 400, ["1"], srs="EPSG:4326", resolution=0.0005, resampler="bilinear", outfile_basename=out)
    print("finished", flush=True)
""")


def test_sigint_stops_a_long_warp_and_leaves_no_file(tmp_path):
    src = str(data_file("RGB.byte.tif"))
    out = tmp_path / "never"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _LONG_RASTER, src, str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(2.0)  # well inside the mosaic of 400 warps
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        start = time.monotonic()
        proc.wait(timeout=30)
        elapsed = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read() if proc.stderr else ""
    assert "KeyboardInterrupt" in stderr
    assert elapsed < 2.0, elapsed
    assert os.listdir(tmp_path) == []  # neither the file nor a temporary one


def test_interrupted_run_blocks_stops_its_workers_and_the_pool_stays_usable():
    started: list[int] = []
    lock = threading.Lock()

    def block(a: int, b: int) -> int:
        with lock:
            started.append(a)
        time.sleep(0.05)
        return a

    # Ctrl-C from another thread. An interrupt that lands while the main thread runs a garbage
    # collector callback (hypothesis installs one) is swallowed there, so it is repeated every
    # second until run_blocks has raised; once it has, further ones are ignored.
    done = threading.Event()
    fired: list[float] = []

    def on_sigint(signum: int, frame: object) -> None:
        if not done.is_set():
            raise KeyboardInterrupt

    def interrupt_until_done() -> None:
        while not done.wait(1.0 if fired else 0.3):
            fired.append(time.monotonic())
            _thread.interrupt_main()

    previous = signal.signal(signal.SIGINT, on_sigint)
    interrupter = threading.Thread(target=interrupt_until_done)
    interrupter.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            try:
                run_blocks(block, [(i, i + 1) for i in range(400)], num_threads=2)
            finally:
                done.set()
    finally:
        done.set()
        interrupter.join()
        signal.signal(signal.SIGINT, previous)
    n = len(started)
    time.sleep(0.3)
    assert len(started) == n  # nothing runs after the call returned
    assert n < 40 * len(fired)  # it stopped at the interrupt that got through (~12 blocks per 0.3 s)
    assert run_blocks(lambda a, b: b - a, [(0, 3), (3, 5)], num_threads=2) == [3, 2]


def test_nested_blocks_are_skipped_after_a_failure():
    inner_runs: list[int] = []

    def outer(a: int, b: int) -> None:
        if a == 0:
            raise ValueError("first block fails")
        time.sleep(0.1)

        def inner(c: int, d: int) -> None:
            inner_runs.append(c)
            time.sleep(0.02)

        run_blocks(inner, [(i, i + 1) for i in range(50)], num_threads=2)  # inline in the pool thread

    with pytest.raises(ValueError, match="first block fails"):
        run_blocks(outer, [(0, 1), (1, 2)], num_threads=2)
    assert len(inner_runs) < 50


def test_a_failing_block_cancels_the_later_blocks_at_once():
    """Block 1 fails while block 0 is still running: the blocks after it must not start."""
    ran: list[int] = []
    lock = threading.Lock()

    def block(a: int, b: int) -> int:
        with lock:
            ran.append(a)
        if a == 0:
            time.sleep(0.5)
        elif a == 1:
            raise ValueError("block 1 fails")
        else:
            time.sleep(0.02)
        return a

    t0 = time.monotonic()
    with pytest.raises(ValueError, match="block 1 fails"):
        run_blocks(block, [(i, i + 1) for i in range(100)], num_threads=2)
    assert time.monotonic() - t0 < 2.0
    assert len(ran) <= 4, sorted(ran)  # was ~25: the other thread kept going until block 0 finished


def test_the_first_failure_in_block_order_is_raised_whatever_the_thread_count():
    def block(a: int, b: int) -> int:
        if a in (3, 7):
            time.sleep(0.05 if a == 3 else 0.0)  # block 7 fails first in time with several threads
            raise ValueError(f"block {a}")
        return a

    for n in (1, 2, 4):
        with pytest.raises(ValueError, match="block 3"):
            run_blocks(block, [(i, i + 1) for i in range(10)], num_threads=n)
        assert run_blocks(lambda a, b: a * b, [(i, i + 1) for i in range(10)], num_threads=n) == [
            i * (i + 1) for i in range(10)]
