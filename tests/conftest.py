"""Shared fixtures: paths to bundled and shared test data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
