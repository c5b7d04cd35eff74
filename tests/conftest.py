"""Shared fixtures: paths to bundled and shared test data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SHARED_DATA = Path(os.environ.get("RASTER_CORE_SHARED_DATA", ROOT.parent / "shared" / "data"))
HAVE_SHARED = SHARED_DATA.is_dir() and any(SHARED_DATA.glob("*.tif"))


def _use_the_oracles_epsg_database() -> None:
    """Point pyproj at the PROJ database bundled with rasterio's GDAL (the test oracle).

    Which operation PROJ takes at a point depends on the operations' areas of use, and those
    come from the EPSG database: rasterio 1.4.4's wheel has EPSG v12.029, pyproj 3.7.2's v11.022,
    where for example CH1903+ to WGS 84 (1) covers 45.81-47.81 N against 45.82-47.81 N, so points
    in between take a ballpark operation (~100 m off) in one and the Helmert one in the other.
    Parity with GDAL is parity for the same database; this runs at start-up, before any thread
    has a PROJ context (pyproj's data directory is read once per thread).
    """
    try:
        import rasterio
    except ImportError:  # the test extra is absent: GDAL parity tests skip anyway
        return
    import pyproj

    proj_data = Path(rasterio.__file__).parent / "proj_data"
    if (proj_data / "proj.db").is_file():
        pyproj.datadir.set_data_dir(str(proj_data))


_use_the_oracles_epsg_database()


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
