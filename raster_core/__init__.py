"""raster_core: a GDAL-free raster warping engine with the Descartes Labs Raster API.

Public names are imported lazily, so ``import raster_core`` stays fast and never
compiles a Numba kernel or imports an optional dependency.

Examples
--------
>>> import raster_core
>>> raster_core.RasterCoreError.__name__
'RasterCoreError'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from raster_core.errors import *  # noqa: F401,F403  (small, dependency-free)
from raster_core.errors import __all__ as _error_names

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    # GeoTIFF / image I/O
    "open": "raster_core.io",
    "write_geotiff": "raster_core.io",
    "write_image": "raster_core.io",
    "Dataset": "raster_core.io",
    # CRS and affine helpers
    "to_crs": "raster_core.crs",
    "to_affine": "raster_core.crs",
    # output grids
    "GeoBox": "raster_core.grid",
    "calculate_default_transform": "raster_core.grid",
    "aligned_target": "raster_core.grid",
    "transform_bounds": "raster_core.grid",
    # warping
    "reproject": "raster_core.warp",
    "Resampling": "raster_core.resampling",
    # rasterization
    "rasterize": "raster_core.rasterize",
    "geometry_mask": "raster_core.rasterize",
    # DLTiles
    "DLTile": "raster_core.dltile",
    # Raster API
    "Raster": "raster_core.api",
    "ndarray": "raster_core.api",
    "stack": "raster_core.api",
    "raster": "raster_core.api",
    "Catalog": "raster_core.catalog",
    # lazy stacks (xarray + Dask)
    "load": "raster_core.loader",
    "explain": "raster_core.loader",
    "reproject_xarray": "raster_core.xr_reproject",
    # memory kept between calls
    "clear_caches": "raster_core.caches",
    # ahead-of-use kernel compilation
    "warmup": "raster_core._warmup",
}

__all__ = ["__version__", *_error_names, *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'raster_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from raster_core._warmup import warmup
    from raster_core.api import Raster, ndarray, raster, stack
    from raster_core.caches import clear_caches
    from raster_core.catalog import Catalog
    from raster_core.crs import to_affine, to_crs
    from raster_core.dltile import DLTile
    from raster_core.grid import GeoBox, aligned_target, calculate_default_transform, transform_bounds
    from raster_core.io import Dataset, open, write_geotiff, write_image
    from raster_core.loader import explain, load
    from raster_core.rasterize import geometry_mask, rasterize
    from raster_core.resampling import Resampling
    from raster_core.warp import reproject
    from raster_core.xr_reproject import reproject_xarray
