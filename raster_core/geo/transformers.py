"""The one factory of pyproj transformers, shared by grid planning and the warper.

GDAL builds one reprojection transformer per warp (``GDALCreateGenImgProjTransformer2``): the
operation from the source CRS to the destination CRS, chosen by PROJ within an *area of
interest* (the source raster's corners in its geographic CRS), and it maps destination points
back with the inverse of that same operation. Grid planning (:mod:`raster_core.grid`) and the
warper (:mod:`raster_core.transform`) both get their transformer here, keyed by
``(source WKT, destination WKT, area of interest)``, so that they pick the same operation and
share its set-up cost.

pyproj (>= 3.1) gives each thread its own PROJ object behind one ``Transformer``, so one cached
transformer serves every thread.

Examples
--------
>>> import numpy as np
>>> from raster_core.geo.transformers import area_of_interest, pyproj_transformer
>>> aoi = area_of_interest("EPSG:32631", (500000, 10, 0, 4500000, 0, -10), 100, 100)
>>> [round(v, 3) for v in aoi]
[3.0, 40.642, 3.012, 40.651]
>>> tr = pyproj_transformer("EPSG:32631", "EPSG:4326", aoi)
>>> tr is pyproj_transformer("EPSG:32631", "EPSG:4326", aoi)
True
>>> [round(float(v), 6) for v in tr.transform(500000.0, 4500000.0)]
[3.0, 40.650857]
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pyproj
from pyproj.transformer import AreaOfInterest

from raster_core.crs import CRSLike, to_crs
from raster_core.errors import CRSError

__all__ = ["AOI", "pyproj_transformer", "area_of_interest", "geodetic_crs"]

#: ``(west, south, east, north)`` in degrees, as GDALComputeAreaOfInterest gives it
AOI = tuple[float, float, float, float]

_CACHE: dict[tuple[str, str, AOI | None], pyproj.Transformer] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_MAX = 64


def _wkt(crs: CRSLike | pyproj.CRS) -> str:
    if isinstance(crs, str) and "[" in crs and not crs.lstrip().startswith("{"):  # WKT (not PROJJSON): no re-parse
        return crs
    return (crs if isinstance(crs, pyproj.CRS) else to_crs(crs)).to_wkt()


def pyproj_transformer(src: CRSLike | pyproj.CRS, dst: CRSLike | pyproj.CRS,
                       aoi: AOI | None = None) -> pyproj.Transformer:
    """The cached ``always_xy`` transformer from ``src`` to ``dst`` within ``aoi``.

    Parameters
    ----------
    src, dst
        CRSs (WKT strings are used as they are; anything else goes through
        :func:`raster_core.crs.to_crs`).
    aoi
        Area of interest ``(west, south, east, north)`` in degrees, or None.

    Returns
    -------
    pyproj.Transformer
        Shared by all callers and threads; map points back with
        ``direction=TransformDirection.INVERSE``.

    Raises
    ------
    CRSError
        PROJ has no operation between the two CRSs.

    Examples
    --------
    >>> tr = pyproj_transformer("EPSG:4326", "EPSG:3857")
    >>> [round(float(v), 2) for v in tr.transform(1.0, 0.0)]
    [111319.49, 0.0]
    """
    src_wkt = _wkt(src)
    dst_wkt = _wkt(dst)
    key = (src_wkt, dst_wkt, aoi)
    tr = _CACHE.get(key)
    if tr is not None:
        return tr
    s = pyproj.CRS.from_wkt(src_wkt)
    d = pyproj.CRS.from_wkt(dst_wkt)
    try:
        tr = pyproj.Transformer.from_crs(s, d, always_xy=True,
                                         area_of_interest=AreaOfInterest(*aoi) if aoi else None)
    except pyproj.exceptions.ProjError as exc:
        raise CRSError(f"cannot transform from {s.name!r} to {d.name!r}: {exc}") from None
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        return _CACHE.setdefault(key, tr)


def geodetic_crs(crs: pyproj.CRS) -> pyproj.CRS | None:
    """The geodetic (geographic) CRS underlying ``crs``, or None when it has none."""
    try:
        return crs.geodetic_crs
    except Exception:  # pragma: no cover - pyproj raises for exotic CRSs
        return None


def area_of_interest(src: CRSLike | pyproj.CRS, gt: Sequence[float], width: int, height: int) -> AOI | None:
    """GDALComputeAreaOfInterest: the raster's 4 corners in its geographic CRS.

    Parameters
    ----------
    src
        The raster's CRS.
    gt
        Its GDAL-order geotransform.
    width, height
        Its size in pixels.

    Returns
    -------
    tuple or None
        ``(west, south, east, north)`` in degrees; None when the corners do not transform
        or fall outside lon/lat range (GDAL then sets no area of interest).

    Examples
    --------
    >>> area_of_interest("EPSG:4326", (10, 1, 0, 50, 0, -1), 5, 5)
    (10.0, 45.0, 15.0, 50.0)
    """
    crs = src if isinstance(src, pyproj.CRS) else to_crs(src)
    geog = geodetic_crs(crs)
    if geog is None:
        return None
    try:
        tr = pyproj_transformer(crs, geog, None)
    except CRSError:
        return None
    xs = np.array([gt[0], gt[0] + width * gt[1], gt[0], gt[0] + width * gt[1]])
    ys = np.array([gt[3], gt[3], gt[3] + height * gt[5], gt[3] + height * gt[5]])
    lon, lat = tr.transform(xs, ys, errcheck=False)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return None
    w, s, e, n = lon[ok].min(), lat[ok].min(), lon[ok].max(), lat[ok].max()
    if ok[0] and ok[1] and lon[0] > lon[1]:  # the raster crosses the antimeridian
        w, e = lon[0], lon[1]
    if abs(w) <= 180 and abs(e) <= 180 and abs(s) <= 90 and abs(n) <= 90:
        return (float(w), float(s), float(e), float(n))
    return None
