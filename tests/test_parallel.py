"""The thread-pool runner every kernel uses: order, errors, reuse, nesting, fork safety."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from raster_core._parallel import resolve_num_threads, row_blocks, run_blocks
from raster_core.errors import InvalidParameterError


def test_row_blocks_partition():
    assert row_blocks(0, 5) == []
    assert row_blocks(7, 3) == [(0, 3), (3, 6), (6, 7)]
    assert row_blocks(3, 0) == [(0, 1), (1, 2), (2, 3)]


def test_results_in_block_order_and_errors_propagate():
    blocks = row_blocks(100, 7)
    assert run_blocks(lambda a, b: (a, b), blocks, num_threads=3) == blocks

    def boom(a, b):
        if a == 14:
            raise ValueError("block 14")
        return a

    with pytest.raises(ValueError, match="block 14"):
        run_blocks(boom, blocks, num_threads=2)


def test_pool_threads_are_reused():
    names = set()
    for _ in range(5):
        run_blocks(lambda a, b: names.add(threading.current_thread().name), row_blocks(8, 1), num_threads=2)
    assert len(names) <= 2


def test_nested_calls_do_not_deadlock():
    def inner(a, b):
        return sum(run_blocks(lambda c, d: d - c, row_blocks(10, 2), num_threads=2))

    # more outer blocks than pool threads: nested work runs inline in pool threads
    assert run_blocks(inner, row_blocks(8, 1), num_threads=2) == [10] * 8


def test_concurrent_callers():
    def job(i):
        return run_blocks(lambda a, b: a * i, row_blocks(50, 5), num_threads=2)

    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(job, range(16)))
    assert results == [[a * i for a in range(0, 50, 5)] for i in range(16)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_usable_after_fork():
    run_blocks(lambda a, b: a, row_blocks(4, 1), num_threads=2)  # parent pool exists
    pid = os.fork()
    if pid == 0:  # child: must not hang on the parent's dead threads
        ok = run_blocks(lambda a, b: a, row_blocks(4, 1), num_threads=2) == [0, 1, 2, 3]
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
def test_bad_thread_counts(bad):
    with pytest.raises(InvalidParameterError):
        resolve_num_threads(bad)


def test_default_thread_count():
    assert resolve_num_threads(None) >= 1 and resolve_num_threads(0) == resolve_num_threads(None)
