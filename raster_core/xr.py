"""xarray conventions of raster_core's results: pixel-centre coordinates and the CF/GDAL
``spatial_ref`` grid-mapping coordinate that rioxarray and odc-geo read.

Needs xarray (the ``xarray`` extra); ``import raster_core`` does not import this module.

Examples
--------
>>> from raster_core.grid import GeoBox
>>> gb = GeoBox("EPSG:32618", (500000, 30, 0, 4500000, 0, -30), width=3, height=2)
>>> x, y = pixel_centres(gb)
>>> x.tolist(), y.tolist()
([500015.0, 500045.0, 500075.0], [4499985.0, 4499955.0])
>>> spatial_ref_attrs(gb)["GeoTransform"]
'500000.0 30.0 0.0 4500000.0 0.0 -30.0'
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from raster_core.crs import gdal_geotransform
from raster_core.errors import ShapeError, UnsupportedFeatureError

__all__ = ["crs_wkt", "pixel_centres", "spatial_ref_attrs", "to_dataarray"]


def pixel_centres(geobox: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: the pixel-centre coordinates of the columns and rows of a north-up grid.

    Raises
    ------
    UnsupportedFeatureError
        For a rotated grid (x/y coordinates cannot describe it).
    """
    t = geobox.transform
    if t.b != 0 or t.d != 0:
        raise UnsupportedFeatureError("a rotated grid has no x/y coordinate vectors")
    x = t.c + (np.arange(geobox.width, dtype=np.float64) + 0.5) * t.a
    y = t.f + (np.arange(geobox.height, dtype=np.float64) + 0.5) * t.e
    return x, y


#: WKT of CRSs by the text they were made from (``pyproj.CRS.srs``): the same text makes the
#: same CRS, and writing WKT costs ~0.1 ms
_WKT: dict[str, str] = {}


def crs_wkt(crs: Any) -> str:
    """``crs.to_wkt()``, cached by the text ``crs`` was made from.

    Examples
    --------
    >>> import pyproj
    >>> crs_wkt(pyproj.CRS("EPSG:32618")) == pyproj.CRS("EPSG:32618").to_wkt()
    True
    """
    key = getattr(crs, "srs", None)
    if not isinstance(key, str) or not key:
        return str(crs.to_wkt())
    wkt = _WKT.get(key)
    if wkt is None:
        if len(_WKT) > 256:
            _WKT.clear()
        wkt = _WKT[key] = str(crs.to_wkt())
    return wkt


def spatial_ref_attrs(geobox: Any) -> dict[str, str]:
    """Attributes of the ``spatial_ref`` coordinate: WKT (under both names rioxarray and
    the CF conventions use) and GDAL's ``GeoTransform`` (which keeps the exact origin)."""
    wkt = crs_wkt(geobox.crs)
    gt = " ".join(repr(float(v)) for v in gdal_geotransform(geobox.transform))
    return {"crs_wkt": wkt, "spatial_ref": wkt, "GeoTransform": gt}


#: The coordinates' xarray indexes by what they are made from (the grid, the times, the band
#: names). xarray's indexes are immutable and their values read-only, so DataArrays may share
#: them (xarray itself does, e.g. on ``copy``); each DataArray gets its own coordinate variables.
_INDEXES: dict[tuple[str, Hashable], Any] = {}
_INDEXES_MAX = 64


def _index(dim: str, key: Hashable, make: Any) -> Any:
    """The ``PandasIndex`` of ``dim`` for ``key``; ``make()`` -> ``{dim: values, ...}`` on a miss
    (its other entries are kept too: x and y come from one grid)."""
    import pandas as pd
    from xarray.indexes import PandasIndex

    found = _INDEXES.get((dim, key))
    if found is None:
        made = {(d, key): PandasIndex(pd.Index(v, name=d), d, coord_dtype=v.dtype) for d, v in make().items()}
        if len(_INDEXES) >= _INDEXES_MAX:
            _INDEXES.clear()
        _INDEXES.update(made)
        found = made[(dim, key)]
    return found


def to_dataarray(data: Any, geobox: Any, *, times: Sequence[Any] | np.ndarray, bands: Sequence[str],
                 fill_value: Any, name: str | None = None) -> Any:
    """Wrap a ``(time, band, y, x)`` NumPy or Dask array on ``geobox`` as a DataArray.

    ``fill_value`` (the value of pixels without data) becomes the ``_FillValue`` and
    ``nodata`` attributes (absent when ``None``). The DataArray is assembled from its
    variables and indexes directly (xarray's checks are those below; xarray would otherwise
    build each index and then copy it), which is a good part of a lazy load's graph build.

    Raises
    ------
    ShapeError
        When ``data`` is not ``(len(times), len(bands), height, width)`` of ``geobox``.

    Examples
    --------
    >>> from raster_core.grid import GeoBox
    >>> gb = GeoBox("EPSG:32618", (500000, 30, 0, 4500000, 0, -30), width=3, height=2)
    >>> da = to_dataarray(np.zeros((1, 1, 2, 3), np.uint8), gb, times=np.array(["2020-05-01"], "M8[ns]"),
    ...                   bands=["red"], fill_value=np.uint8(0))
    >>> da.dims, da.x.values.tolist(), da.attrs["_FillValue"]
    (('time', 'band', 'y', 'x'), [500015.0, 500045.0, 500075.0], np.uint8(0))
    """
    import xarray as xr
    from xarray.indexes import Index

    time_values = np.asarray(times, dtype="datetime64[ns]")
    band_names = tuple(str(b) for b in bands)
    shape = (len(time_values), len(band_names), geobox.height, geobox.width)
    if tuple(data.shape) != shape:
        raise ShapeError(f"data of shape {tuple(data.shape)} for (time, band, y, x) coordinates of sizes {shape}")
    projected = geobox.crs.is_projected
    axis_attrs: dict[Hashable, dict[str, str]] = {
        "y": {"axis": "Y", "standard_name": "projection_y_coordinate" if projected else "latitude"},
        "x": {"axis": "X", "standard_name": "projection_x_coordinate" if projected else "longitude"},
    }
    grid_key = (tuple(gdal_geotransform(geobox.transform)), geobox.width, geobox.height)

    def grid_values() -> dict[str, np.ndarray]:
        x, y = pixel_centres(geobox)
        return {"y": y, "x": x}

    indexes: dict[Hashable, Index] = {
        "time": _index("time", ("time", time_values.tobytes()), lambda: {"time": time_values}),
        "band": _index("band", ("band", band_names),
                       lambda: {"band": np.asarray(list(band_names), dtype=object).astype(str)}),
        "y": _index("y", ("grid", grid_key), grid_values),
        "x": _index("x", ("grid", grid_key), grid_values),
    }
    variables: dict[Hashable, Any] = {}
    for dim, index in indexes.items():
        variables[dim] = index.create_variables()[dim]
        variables[dim].attrs.update(axis_attrs.get(dim, {}))
    variables["spatial_ref"] = xr.Variable((), np.int64(0), spatial_ref_attrs(geobox))
    attrs: dict[str, Any] = {"grid_mapping": "spatial_ref"}
    if fill_value is not None:
        attrs["_FillValue"] = fill_value
        attrs["nodata"] = fill_value
    variable = xr.Variable(("time", "band", "y", "x"), data, attrs)
    # name: not the Dask array's key name, which xarray would take by default
    return xr.DataArray(variable, coords=variables, name=name, indexes=indexes, fastpath=True)
