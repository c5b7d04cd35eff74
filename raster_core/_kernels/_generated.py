"""How the variants of a generated kernel are compiled: each under a qualified name of its own.

The row kernels are written once, in a factory, and generated per variant (the variant's choices
are closure integers, so Numba prunes the other branches). Numba names compiled code after the
Python function's qualified name and a counter private to the process, and it caches that code
on disk under the same name. Two processes can give two variants of one factory the same
counter value; a process that then loads both variants from the cache links calls of one to the
other's body, and returns wrong pixels without an error (numba/numba#10486 describes the same
collision). A name that spells out the variant's choices makes the symbols of different variants
differ whatever the counter says; it also gives each variant its own cache file.

Examples
--------
>>> from raster_core._kernels.rows import _staged_row_kernel
>>> _staged_row_kernel(3, 0, 1, 2).py_func.__qualname__
'_staged_row_kernel.staged_rows__3_0_1_2'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba

from raster_core._kernels import CACHE


def variant_qualname(qualname: str, choice: tuple[int, ...]) -> str:
    """``qualname`` without its ``<locals>`` part, followed by the variant's choices.

    Examples
    --------
    >>> variant_qualname("_staged_row_kernel.<locals>.staged_rows", (3, -1))
    '_staged_row_kernel.staged_rows__3_m1'
    """
    base = qualname.replace(".<locals>.", ".")
    return base + "__" + "_".join(str(int(c)).replace("-", "m") for c in choice)


def njit_variant(*choice: int) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit(nogil=True, cache=CACHE, error_model="numpy")`` for the variant ``choice`` of a
    generated kernel, under the qualified name :func:`variant_qualname` gives it."""

    def compile_variant(func: Callable[..., Any]) -> Any:
        func.__qualname__ = variant_qualname(func.__qualname__, choice)
        return numba.njit(nogil=True, cache=CACHE, error_model="numpy")(func)

    return compile_variant
