"""Keep CPython's freed frame-stack chunks for reuse (test-suite speed only, never shipped).

CPython >= 3.11 keeps Python frames in 16 KiB "data stack" chunks that it maps with ``mmap``
when a call does not fit in the current chunk and unmaps as soon as that call returns. When a
hot function happens to sit at a chunk boundary, every call costs an ``mmap``/``munmap`` pair
plus fresh-page faults. Numba's compiler is deep, call-heavy Python: in pytest-xdist workers
(whose stacks are deeper by execnet's frames) a cold-cache compile measured 84 s instead of
38 s, half of it in the kernel (``strace -c``: ~22,000 mmap/munmap pairs a second).

CPython allocates those chunks (and pymalloc's arenas) through its public arena allocator
(``PyObject_SetArenaAllocator``). :func:`install` replaces it with one that still maps and
unmaps pages, but keeps up to ``SLOTS`` freed blocks and hands them out again for the same
size. It is written as Numba C callbacks (no Python code runs inside the allocator) and keeps
its state in a NumPy array that lives as long as the process.
"""

from __future__ import annotations

import ctypes
import sys

import numpy as np

SLOTS = 32

_installed: list[object] = []  # keeps the callbacks and their state alive


class _ArenaAllocator(ctypes.Structure):
    _fields_ = [("ctx", ctypes.c_void_p), ("alloc", ctypes.c_void_p), ("free", ctypes.c_void_p)]


def install() -> bool:
    """Install the caching arena allocator once (CPython >= 3.11 on Linux only); returns
    whether it is active."""
    if _installed:
        return True
    if sys.implementation.name != "cpython" or sys.version_info < (3, 11) or not sys.platform.startswith("linux"):
        return False
    from numba import carray, cfunc, types

    libc = ctypes.CDLL(None)
    mmap = libc.mmap
    mmap.restype = ctypes.c_ssize_t  # pointers as integers (same registers in the C ABI)
    mmap.argtypes = [ctypes.c_ssize_t, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_ssize_t]
    munmap = libc.munmap
    munmap.restype = ctypes.c_int
    munmap.argtypes = [ctypes.c_ssize_t, ctypes.c_size_t]
    prot = 0x1 | 0x2  # PROT_READ | PROT_WRITE
    flags = 0x02 | 0x20  # MAP_PRIVATE | MAP_ANONYMOUS
    map_failed = -1
    n = SLOTS

    @cfunc(types.intp(types.voidptr, types.uintp))
    def alloc(ctx, size):
        state = carray(ctx, (2 * n,), np.int64)  # (address, size) pairs; address 0 = empty
        for k in range(n):
            if state[2 * k] != 0 and state[2 * k + 1] == size:
                p = state[2 * k]
                state[2 * k] = 0
                return p
        p = mmap(0, size, prot, flags, -1, 0)
        return 0 if p == map_failed else p

    @cfunc(types.void(types.voidptr, types.intp, types.uintp))
    def free(ctx, ptr, size):
        state = carray(ctx, (2 * n,), np.int64)
        for k in range(n):
            if state[2 * k] == 0:
                state[2 * k] = ptr
                state[2 * k + 1] = size
                return
        munmap(ptr, size)

    state = np.zeros(2 * n, dtype=np.int64)
    allocator = _ArenaAllocator(state.ctypes.data, alloc.address, free.address)
    set_allocator = ctypes.pythonapi.PyObject_SetArenaAllocator
    set_allocator.argtypes = [ctypes.POINTER(_ArenaAllocator)]
    set_allocator.restype = None
    _installed.extend([alloc, free, state, allocator, libc])
    set_allocator(ctypes.byref(allocator))
    return True
