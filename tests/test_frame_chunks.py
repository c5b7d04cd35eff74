"""The test suite's caching arena allocator (tests/_frame_chunks.py) is installed and sound."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tests import _frame_chunks


def _depth(k: int) -> int:
    return 0 if k == 0 else 1 + _depth(k - 1)


@pytest.mark.skipif(sys.implementation.name != "cpython" or sys.version_info < (3, 11)
                    or not sys.platform.startswith("linux"), reason="CPython >= 3.11 on Linux only")
def test_installed_and_reused() -> None:
    assert _frame_chunks.install()  # conftest installed it; a second call is a no-op
    state = _frame_chunks._installed[2]
    assert isinstance(state, np.ndarray) and state.shape == (2 * _frame_chunks.SLOTS,)
    for _ in range(200):  # frames across many chunks, pushed and popped again
        assert _depth(600) == 600
    assert (state[0::2] != 0).any()  # freed chunks are kept for reuse
    # pymalloc arenas come from the same allocator: many small objects, freed, then again
    for _ in range(3):
        objs = [(i, str(i)) for i in range(300_000)]
        assert objs[-1] == (299_999, "299999")
        del objs
