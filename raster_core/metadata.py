"""The metadata dict the Raster API returns with every array or file (spec §1.6).

It follows ``gdalinfo -json`` as the Descartes Labs service returned it: ``geoTransform``,
``size`` ``[width, height]`` of the *output*, ``cornerCoordinates`` (``upperLeft``,
``lowerLeft``, ``upperRight``, ``lowerRight``, ``center``), ``wgs84Extent`` (GeoJSON polygon,
ring UL -> LL -> LR -> UR -> UL, 7 decimals), ``coordinateSystem`` (``wkt``, ``proj4``,
``epsg``, ``dataAxisToSRSAxisMapping``), ``metadata`` (GDAL's ``PROJCS``/``GEOGCS`` items),
``bands`` (``band``, ``type``, ``block``, ``colorInterpretation``, optional ``noDataValue``
and ``mask``, ``metadata`` and ``description`` = the band's catalog properties) and ``id``.

Examples
--------
>>> from raster_core.metadata import build_metadata
>>> md = build_metadata("EPSG:32618", (300000.5, 200.0, 0.0, 3200000.25, 0.0, -200.0), 500, 1000,
...                     bands=["vv", "vh"], data_type="Float32", ids=["s1"])
>>> md["cornerCoordinates"]["upperLeft"], md["cornerCoordinates"]["lowerRight"]
([300000.5, 3200000.25], [400000.5, 3000000.25])
>>> md["size"], md["geoTransform"]
([500, 1000], [300000.5, 200.0, 0.0, 3200000.25, 0.0, -200.0])
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from affine import Affine

from raster_core.bands import Band
from raster_core.crs import gdal_geotransform, to_affine, to_crs
from raster_core.errors import InvalidParameterError
from raster_core.scaling import parse_data_type

__all__ = [
    "COLOR_INTERPRETATIONS",
    "build_metadata",
    "corner_coordinates",
    "wgs84_extent",
    "coordinate_system",
    "color_interpretation",
]

#: raster_core.io's lower-case names -> GDAL's ``GDALGetColorInterpretationName`` spelling.
COLOR_INTERPRETATIONS = {
    "undefined": "Undefined", "gray": "Gray", "grey": "Gray", "palette": "Palette", "red": "Red",
    "green": "Green", "blue": "Blue", "alpha": "Alpha", "hue": "Hue", "saturation": "Saturation",
    "lightness": "Lightness", "cyan": "Cyan", "magenta": "Magenta", "yellow": "Yellow", "black": "Black",
    "ycbcr_y": "YCbCr_Y", "ycbcr_cb": "YCbCr_Cb", "ycbcr_cr": "YCbCr_Cr",
}


def _xy(aff: Affine, col: float, row: float) -> list[float]:
    x, y = aff @ (col, row)
    return [float(x), float(y)]


def corner_coordinates(transform: Any, width: int, height: int) -> dict[str, list[float]]:
    """``cornerCoordinates`` of a grid, as ``gdalinfo`` computes them from the geotransform.

    >>> corner_coordinates((0.0, 10.0, 0.0, 100.0, 0.0, -10.0), 3, 2)["center"]
    [15.0, 90.0]
    """
    aff = to_affine(transform)
    return {
        "upperLeft": _xy(aff, 0, 0),
        "lowerLeft": _xy(aff, 0, height),
        "upperRight": _xy(aff, width, 0),
        "lowerRight": _xy(aff, width, height),
        "center": _xy(aff, width / 2.0, height / 2.0),
    }


def wgs84_extent(crs: Any, corners: Mapping[str, Sequence[float]]) -> dict[str, Any] | None:
    """GeoJSON polygon of the four corners in WGS84 lon/lat (UL, LL, LR, UR, UL), rounded to
    7 decimals like ``gdalinfo -json``; ``None`` when the corners cannot be transformed.

    >>> wgs84_extent("EPSG:4326", corner_coordinates((-100, 1, 0, 40, 0, -1), 2, 2))["coordinates"][0][:2]
    [[-100.0, 40.0], [-100.0, 38.0]]
    """
    from raster_core.geo.transformers import pyproj_transformer

    src = to_crs(crs)
    order = ("upperLeft", "lowerLeft", "lowerRight", "upperRight", "upperLeft")
    try:
        tr = pyproj_transformer(src, "EPSG:4326")
        pts = []
        for key in order:
            x, y = corners[key]
            lon, lat = tr.transform(x, y)
            if not (abs(lon) <= 360 and abs(lat) <= 90):
                return None
            pts.append([round(float(lon), 7), round(float(lat), 7)])
    except Exception:  # noqa: BLE001 - an unprojectable corner just drops the key
        return None
    return {"type": "Polygon", "coordinates": [pts]}


def _axis_mapping(crs: Any) -> list[int]:
    """GDAL's data-axis-to-SRS-axis mapping under traditional GIS order (x = east/lon)."""
    try:
        first = crs.axis_info[0].direction.lower()
    except (IndexError, AttributeError):
        return [1, 2]
    return [2, 1] if first in ("north", "south") else [1, 2]


def coordinate_system(crs: Any) -> dict[str, Any]:
    """``{wkt, proj4, epsg, dataAxisToSRSAxisMapping}`` of a CRS (WKT1 like the service).

    >>> cs = coordinate_system("EPSG:4326")
    >>> cs["epsg"], cs["proj4"], cs["dataAxisToSRSAxisMapping"]
    (4326, '+proj=longlat +datum=WGS84 +no_defs', [2, 1])
    """
    c = to_crs(crs)
    try:
        wkt = c.to_wkt("WKT1_GDAL")
    except Exception:  # noqa: BLE001 - not expressible in WKT1
        wkt = None
    if not wkt:
        wkt = c.to_wkt()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            proj4 = c.to_proj4()
        except Exception:  # noqa: BLE001
            proj4 = None
    if proj4:
        proj4 = re.sub(r"\s*\+type=crs\s*", " ", proj4).strip()
    try:
        epsg = c.to_epsg()
    except Exception:  # noqa: BLE001
        epsg = None
    return {"wkt": wkt, "proj4": proj4, "epsg": epsg, "dataAxisToSRSAxisMapping": _axis_mapping(c)}


def _wkt1_items(wkt: str) -> dict[str, str]:
    """GDAL's default metadata items from a WKT1 string (``PROJCS``, ``GEOGCS``...)."""
    out: dict[str, str] = {}
    m = re.match(r'\s*PROJCS\["([^"]*)"', wkt)
    if m:
        out["PROJCS"] = m.group(1)
    for key, pattern in (
        ("GEOGCS", r'GEOGCS\["([^"]*)"'),
        ("GEOGCS|DATUM", r'DATUM\["([^"]*)"'),
        ("GEOGCS|PRIMEM", r'PRIMEM\["([^"]*)"'),
        ("GEOGCS|SPHEROID", r'SPHEROID\["([^"]*)"'),
    ):
        m = re.search(pattern, wkt)
        if m:
            out[key] = m.group(1)
    return out


def color_interpretation(band: Any, name: str | None = None) -> str:
    """GDAL colour interpretation name of an output band: the band's own, else from its
    name (``red``, ``green``, ``blue``, ``alpha``, ``gray``), else ``Undefined``.

    >>> color_interpretation(None, "alpha"), color_interpretation(None, "nir")
    ('Alpha', 'Undefined')
    """
    ci = None
    if isinstance(band, Band):
        ci = band.colorinterp
        name = name or band.name
    elif isinstance(band, Mapping):
        ci = band.get("colorinterp") or band.get("color")
        name = name or band.get("name")
    if ci and str(ci).lower() in COLOR_INTERPRETATIONS and str(ci).lower() != "undefined":
        return COLOR_INTERPRETATIONS[str(ci).lower()]
    if name and name.lower() in COLOR_INTERPRETATIONS:
        return COLOR_INTERPRETATIONS[name.lower()]
    return "Undefined"


def _describe(band: Any, name: str | None) -> dict[str, Any]:
    if isinstance(band, Band):
        d = band.describe()
    elif isinstance(band, Mapping):
        d = dict(band)
    else:
        d = {}
    if name is not None:
        d.setdefault("name", name)
    return d


def build_metadata(
    crs: Any,
    transform: Any,
    width: int,
    height: int,
    *,
    bands: Sequence[Any],
    data_type: Any,
    ids: Sequence[str] | str | None = None,
    band_names: Sequence[str] | None = None,
    nodata: float | None = None,
    alpha_last: bool = False,
    block: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """The metadata dict of one Raster output (spec §1.6).

    Parameters
    ----------
    crs, transform, width, height
        The output grid (any CRS form :func:`raster_core.crs.to_crs` takes; an Affine or a
        GDAL 6-tuple). A GeoBox-like object's attributes can be passed as they are.
    bands
        One entry per output band: a catalog :class:`~raster_core.bands.Band`, a dict of
        band properties, or a band name.
    data_type
        Output data type (``Byte`` ...): every band's ``type``.
    ids
        Image id(s) of the call; ``id`` is the first one (as the client sets it).
    band_names
        Requested names, when they differ from the bands' own (aliases).
    nodata
        Output nodata value (``raster(nodata=...)``): adds ``noDataValue`` to every band.
    alpha_last
        The last band is an alpha band: the other bands get GDAL's
        ``mask: {flags: ["PER_DATASET", "ALPHA"]}``.
    block
        Block size ``[w, h]`` (default: whole rows, ``[width, 1]``).

    Raises
    ------
    InvalidParameterError
        For a non-positive size, or ``band_names`` of the wrong length.
    """
    if isinstance(width, bool) or isinstance(height, bool) or int(width) != width or int(height) != height \
            or width <= 0 or height <= 0:
        raise InvalidParameterError(f"size must be positive integers, got {width!r} x {height!r}")
    width, height = int(width), int(height)
    aff = to_affine(transform)
    c = to_crs(crs)
    dt = parse_data_type(data_type, allow_none=False)
    names: list[str | None]
    if band_names is not None:
        if len(band_names) != len(bands):
            raise InvalidParameterError(f"{len(band_names)} band names for {len(bands)} bands")
        names = list(band_names)
    else:
        names = [b if isinstance(b, str) else None for b in bands]
    corners = corner_coordinates(aff, width, height)
    cs = coordinate_system(c)
    out_bands = []
    for i, (band, name) in enumerate(zip(bands, names, strict=True)):
        binfo: dict[str, Any] = {
            "band": i + 1,
            "block": list(block) if block else [width, 1],
            "type": dt,
            "colorInterpretation": color_interpretation(None if isinstance(band, str) else band, name),
        }
        if nodata is not None:
            binfo["noDataValue"] = float(nodata)
        if alpha_last and i < len(bands) - 1:
            binfo["mask"] = {"flags": ["PER_DATASET", "ALPHA"], "overviews": []}
        binfo["metadata"] = {}
        binfo["description"] = _describe(None if isinstance(band, str) else band, name)
        out_bands.append(binfo)
    if isinstance(ids, str):
        ids = [ids]
    md: dict[str, Any] = {
        "driverShortName": "MEM",
        "driverLongName": "In Memory Raster",
        "files": [],
        "size": [width, height],
        "coordinateSystem": cs,
        "geoTransform": list(gdal_geotransform(aff)),
        "metadata": _wkt1_items(cs["wkt"] or ""),
        "cornerCoordinates": corners,
        "bands": out_bands,
    }
    ext = wgs84_extent(c, corners)
    if ext is not None:
        md["wgs84Extent"] = ext
    if ids:
        md["id"] = str(list(ids)[0])
    return md
