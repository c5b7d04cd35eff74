"""Helpers shared by the I/O parity tests (rasterio is the oracle, tests only)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from tests.conftest import DATA, shared_tifs


def parity_files() -> list[Path]:
    """Every GeoTIFF of ../shared/data, plus the bundled ones (bundled copy preferred)."""
    files = {p.name: p for p in shared_tifs()}
    for p in sorted(DATA.glob("*.tif")):
        files[p.name] = p
    return [files[k] for k in sorted(files)]


def rio_crs_to_pyproj(rcrs):
    import pyproj

    return None if rcrs is None else pyproj.CRS.from_wkt(rcrs.to_wkt())


def crs_match(ours, theirs) -> bool:
    if ours is None or theirs is None:
        return ours is None and theirs is None
    if ours.equals(theirs, ignore_axis_order=True):
        return True
    e1, e2 = ours.to_epsg(), theirs.to_epsg()
    return e1 is not None and e1 == e2


def nodata_equal(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == b or (math.isnan(a) and math.isnan(b))


def pixel_tolerance(name: str) -> int:
    """goes.tif is JPEG-YCbCr: libjpeg builds may differ by a few DN (documented <= 11)."""
    return 11 if name == "goes.tif" else 0


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    if a.size == 0:
        return 0.0
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(invalid="ignore"):
        d = np.abs(a64 - b64)
    d[(np.isnan(a64) & np.isnan(b64)) | (a64 == b64)] = 0.0
    return float(np.nanmax(np.where(np.isnan(d), np.inf, d)))


def rio_open(path, **kw):
    import rasterio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rasterio.open(path, **kw)
