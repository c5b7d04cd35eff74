"""Thread-pool execution of nogil Numba kernels over independent blocks.

raster_core never uses Numba's ``parallel=True``: its workqueue threading layer
aborts when two Python threads enter parallel regions at once, and TBB/OpenMP are
not guaranteed to be installed. Instead, kernels are compiled with ``nogil=True``
and run on blocks (usually destination row ranges) from a thread pool. Results
never depend on the number of threads because every block is computed exactly as
it would be in a serial run.

Examples
--------
>>> from raster_core._parallel import row_blocks, run_blocks
>>> row_blocks(10, 4)
[(0, 4), (4, 8), (8, 10)]
>>> run_blocks(lambda a, b: b - a, row_blocks(10, 4), num_threads=2)
[4, 4, 2]
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

from raster_core.errors import InvalidParameterError

__all__ = ["Cancelled", "on_block", "resolve_num_threads", "row_blocks", "run_blocks"]

T = TypeVar("T")

# One persistent pool per thread count, shared by every caller (threads keep their
# per-thread caches, e.g. pyproj transformers, across calls). Work submitted from a
# pool thread runs inline, so nested calls (a stack of mosaics of warps) cannot
# deadlock by waiting on their own pool.
_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()
_LOCAL = threading.local()


def _mark_pool_thread() -> None:
    _LOCAL.in_pool = True


def _pool(n: int) -> ThreadPoolExecutor:
    with _POOLS_LOCK:
        pool = _POOLS.get(n)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix=f"raster_core-{n}",
                                      initializer=_mark_pool_thread)
            _POOLS[n] = pool
        return pool


def _forget_pools() -> None:  # a forked child must not reuse the parent's (dead) threads
    _POOLS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


def resolve_num_threads(num_threads: int | None) -> int:
    """Number of threads to use: ``None`` or ``0`` means every available core."""
    if num_threads is None or num_threads == 0:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not on Linux
            return max(1, os.cpu_count() or 1)
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 0:
        raise InvalidParameterError(f"num_threads must be a non-negative integer or None, got {num_threads!r}")
    return num_threads


def row_blocks(n_rows: int, block_rows: int) -> list[tuple[int, int]]:
    """Split ``range(n_rows)`` into ``[start, stop)`` blocks of ``block_rows`` rows."""
    block_rows = max(1, int(block_rows))
    return [(r, min(r + block_rows, n_rows)) for r in range(0, n_rows, block_rows)]


class Cancelled(Exception):
    """A block skipped because its call was abandoned (the caller got an exception, such as
    KeyboardInterrupt); never seen by the caller, who gets the original exception."""


@contextmanager
def on_block(callback: Callable[[int, int], None] | None) -> Iterator[None]:
    """While active, ``run_blocks`` calls made by this thread report ``callback(done, total)``
    after each finished block (progress reports; blocks run by pool threads on behalf of
    these calls do not report their own nested blocks)."""
    previous = getattr(_LOCAL, "on_block", None)
    _LOCAL.on_block = callback
    try:
        yield
    finally:
        _LOCAL.on_block = previous


def _check_cancelled() -> None:
    event = getattr(_LOCAL, "cancel", None)
    if event is not None and event.is_set():
        raise Cancelled


def run_blocks(
    func: Callable[[int, int], T],
    blocks: Sequence[tuple[int, int]],
    *,
    num_threads: int | None = None,
) -> list[T]:
    """Call ``func(start, stop)`` for every block, in a pool of ``num_threads`` threads.

    Results come back in block order. With one thread or one block, or when called from
    one of raster_core's own pool threads, the blocks run inline in the calling thread.
    The pools are persistent (one per thread count). Exceptions raised by ``func``
    propagate to the caller.

    Cancellation: when the caller is interrupted (Ctrl-C raises KeyboardInterrupt while it
    waits) or a block fails, the call's cancel flag is set at once (by the failing block
    itself, not when the caller reaches it in block order); blocks not started yet, and
    blocks of nested ``run_blocks`` calls made from the pool threads, are skipped (the flag
    is checked between blocks), the running ones are waited for (one block each), and the
    exception propagates: the first failure in block order among the blocks that ran. The
    pool stays usable.
    """
    n = resolve_num_threads(num_threads)
    report = getattr(_LOCAL, "on_block", None)
    if n <= 1 or len(blocks) <= 1 or getattr(_LOCAL, "in_pool", False):
        out = []
        for a, b in blocks:
            _check_cancelled()
            out.append(func(a, b))
            if report is not None:
                report(len(out), len(blocks))
        return out
    cancel = threading.Event()

    def guarded(a: int, b: int) -> T:
        if cancel.is_set():
            raise Cancelled
        _LOCAL.cancel = cancel
        try:
            return func(a, b)
        except BaseException:
            cancel.set()  # at once: the blocks not started yet are skipped, not run until the caller looks
            raise
        finally:
            _LOCAL.cancel = None

    futures = [_pool(n).submit(guarded, a, b) for a, b in blocks]
    try:
        results = []
        for f in futures:
            results.append(f.result())
            if report is not None:
                report(len(results), len(blocks))
        return results
    except BaseException as exc:
        cancel.set()
        for f in futures:
            f.cancel()
        wait(futures)
        if isinstance(exc, Cancelled):  # a block skipped because a later one failed first: raise that failure
            for f in futures:
                failure = None if f.cancelled() else f.exception()
                if failure is not None and not isinstance(failure, Cancelled):
                    raise failure from None
        raise
