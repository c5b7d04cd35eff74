"""Shared fixtures: paths to bundled and shared test data.

Also installs :mod:`tests._frame_chunks` (CPython frame-stack chunks kept for reuse: Numba's
cold-cache compiles in pytest-xdist workers were twice as slow without it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import _frame_chunks

_frame_chunks.install()

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SHARED_DATA = Path(os.environ.get("RASTER_CORE_SHARED_DATA", ROOT.parent / "shared" / "data"))
HAVE_SHARED = SHARED_DATA.is_dir() and any(SHARED_DATA.glob("*.tif"))


def shared_tifs() -> list[Path]:
    """Every GeoTIFF of ../shared/data (empty list when it is absent)."""
    return sorted(SHARED_DATA.glob("*.tif")) if HAVE_SHARED else []


def data_file(name: str) -> Path:
    """A data file: bundled ``data/`` first, then ``../shared/data``; skips if neither has it."""
    for base in (DATA, SHARED_DATA):
        p = base / name
        if p.exists():
            return p
    pytest.skip(f"{name} not available (neither in data/ nor in ../shared/data)")


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def shared_dir() -> Path:
    if not HAVE_SHARED:
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


# Test files whose tests compile the most kernels (one source dtype or staged kind after
# another: tens of seconds each with a cold Numba cache). Collected first, so that pytest-xdist
# hands them out while every worker is busy, instead of leaving one worker compiling alone at
# the end of the run.
_COMPILE_HEAVY = ("test_warp_rows.py", "test_warp_parity.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    order = {name: k for k, name in enumerate(_COMPILE_HEAVY)}
    items.sort(key=lambda item: order.get(item.path.name, len(order)))  # stable: the rest keep their order
