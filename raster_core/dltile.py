"""DLTiles: the Descartes Labs grid of square tiles in UTM zones.

A DLTile is one square of a regular grid laid over a UTM zone. It is named by a
key ``"tilesize:pad:resolution:zone:ti:tj"``, for example ``"1024:0:60.0:13:-2:64"``:
``tilesize`` pixels of ``resolution`` metres on a side, ``pad`` extra pixels on every
side, UTM zone ``zone`` (always the *north* code ``EPSG:326zz``, also south of the
equator), column index ``ti`` (along x / easting) and row index ``tj`` (along
y / northing). The unpadded tile covers, with ``W = tilesize * resolution``::

    x in [500000 + ti * W, 500000 + (ti + 1) * W],   y in [tj * W, (tj + 1) * W]

and the raster of a tile has ``(tilesize + 2 * pad)`` pixels on each side.

This module re-implements the grid of the Descartes Labs Python client
(``descarteslabs.common.dltile``, ``descarteslabs.geo.DLTile``) without its
dependencies, with the same keys, bounds, geotransforms, lon/lat geometries and
errors. Differences (all deliberate fixes of client bugs) are listed in
:class:`DLTile`.

The projection ("DL-UTM") is the client's own third-order Krüger series for
transverse Mercator on WGS 84 (``k0 = 0.9996``, false easting 500 000 m, *no* false
northing, latitudes extended to +/-90). It agrees with PROJ's ``EPSG:326zz`` to
about 0.1 mm inside a zone; it is used here instead of pyproj so that tile keys and
lon/lat geometries are those of the client to the last digits (PROJ differs by up to
~6e-9 degrees, the client's inverse-series error). ``DLTile.geobox_params()`` gives
the output grid in pyproj/affine terms for the Raster API.

Examples
--------
>>> from raster_core.dltile import DLTile
>>> tile = DLTile.from_key("1024:0:60.0:13:-2:64")
>>> tile.bounds
(377120.0, 3932160.0, 438560.0, 3993600.0)
>>> tile.crs, tile.tile_extent
('EPSG:32613', 1024)
>>> DLTile.from_latlon(35.691, -105.944, resolution=10, tilesize=512, pad=0).key
'512:0:10.0:13:-17:771'
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from functools import lru_cache
from numbers import Integral, Real
from typing import Any, TypeAlias

import numpy as np
import shapely
import shapely.geometry as sgeom
from affine import Affine

from raster_core.errors import (
    InvalidLatLonError,
    InvalidRowColError,
    InvalidShapeError,
    InvalidTileError,
    TileIndexError,
)

__all__ = ["DLTile", "lonlat_to_utm", "utm_to_lonlat", "lon_to_zone"]

# --------------------------------------------------------------------------------------
# DL-UTM projection (client's utm.py constants and series)
# --------------------------------------------------------------------------------------

_A_AXIS = 6378137.0
_FLATTENING = 1.0 / 298.257223563
_K0 = 0.9996
FALSE_EASTING = 500000.0
_N3 = _FLATTENING / (2.0 - _FLATTENING)  # third flattening n
_RECT_RADIUS = _A_AXIS / (1.0 + _N3) * (1.0 + _N3**2 / 4.0 + _N3**4 / 64.0)
_KA = _K0 * _RECT_RADIUS
#: Northing of the poles in DL-UTM (client constant).
UTM_MAX_NORTH = 9997964.943
UTM_MIN_EAST = FALSE_EASTING - 334000.0
UTM_MAX_EAST = FALSE_EASTING + 334000.0

_ALPHA = (
    _N3 / 2.0 - 2.0 / 3.0 * _N3**2 + 5.0 / 16.0 * _N3**3,
    13.0 / 48.0 * _N3**2 - 3.0 / 5.0 * _N3**3,
    61.0 / 240.0 * _N3**3,
)
_BETA = (
    _N3 / 2.0 - 2.0 / 3.0 * _N3**2 + 37.0 / 96.0 * _N3**3,
    1.0 / 48.0 * _N3**2 + 1.0 / 15.0 * _N3**3,
    17.0 / 480.0 * _N3**3,
)
_DELTA = (
    2.0 * _N3 - 2.0 / 3.0 * _N3**2 - 2.0 * _N3**3,
    7.0 / 3.0 * _N3**2 - 8.0 / 5.0 * _N3**3,
    56.0 / 15.0 * _N3**3,
)
_NPRIME = 2.0 * math.sqrt(_N3) / (1.0 + _N3)


def lon_to_zone(lon: float) -> int:
    """UTM zone (1..60) of a longitude; a boundary longitude belongs to the eastern zone.

    Unlike the client, ``lon = 180`` gives zone 60 (the client returns 61, which then
    fails with "Invalid zone").

    Raises
    ------
    InvalidLatLonError
        When ``lon`` is not a finite number in [-180, 180].

    Examples
    --------
    >>> lon_to_zone(-90.0), lon_to_zone(6.0), lon_to_zone(-180.0), lon_to_zone(180.0)
    (16, 32, 1, 60)
    """
    lon = float(lon)
    if not (-180.0 <= lon <= 180.0):
        raise InvalidLatLonError("Longitude must be between -180.0 and 180.0")
    return int(min(60, max(1, 1 + math.floor((lon + 180.0) / 6.0))))


def lonlat_to_utm(lon: Any, lat: Any, zone: int) -> tuple[np.ndarray, np.ndarray]:
    """Forward DL-UTM: lon/lat degrees to (easting, northing) metres in ``zone``.

    Vectorised over numpy-broadcastable ``lon``/``lat``. Southern latitudes give
    negative northings (no false northing).

    Examples
    --------
    >>> e, n = lonlat_to_utm(-90.2, 44.8, 15)
    >>> round(float(e), 6), round(float(n), 6)
    (721449.950233, 4964547.664597)
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    lam = np.deg2rad(lon - (6.0 * zone - 183.0))
    sinphi = np.sin(np.deg2rad(lat))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.sinh(np.arctanh(sinphi) - _NPRIME * np.arctanh(_NPRIME * sinphi))
        etap = np.arctanh(np.sin(lam) / np.sqrt(1.0 + t * t))
        xip = np.arctan(t / np.cos(lam))
    a1, a2, a3 = _ALPHA
    east = FALSE_EASTING + _KA * (
        etap
        + a1 * np.cos(2 * xip) * np.sinh(2 * etap)
        + a2 * np.cos(4 * xip) * np.sinh(4 * etap)
        + a3 * np.cos(6 * xip) * np.sinh(6 * etap)
    )
    north = _KA * (
        xip
        + a1 * np.sin(2 * xip) * np.cosh(2 * etap)
        + a2 * np.sin(4 * xip) * np.cosh(4 * etap)
        + a3 * np.sin(6 * xip) * np.cosh(6 * etap)
    )
    return east, north


def utm_to_lonlat(east: Any, north: Any, zone: int, *, wrap: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Inverse DL-UTM: (easting, northing) metres in ``zone`` to lon/lat degrees.

    With ``wrap=True`` (the client's behaviour) longitudes are folded into
    [-180, 180); ``wrap=False`` keeps them continuous across the antimeridian.

    Examples
    --------
    >>> lon, lat = utm_to_lonlat(500000.0, 0.0, 15)
    >>> float(lon), float(lat)
    (-93.0, 0.0)
    """
    east = np.asarray(east, dtype=np.float64)
    north = np.asarray(north, dtype=np.float64)
    xi = north / _KA
    eta = (east - FALSE_EASTING) / _KA
    b1, b2, b3 = _BETA
    xip = xi - (
        b1 * np.sin(2 * xi) * np.cosh(2 * eta)
        + b2 * np.sin(4 * xi) * np.cosh(4 * eta)
        + b3 * np.sin(6 * xi) * np.cosh(6 * eta)
    )
    etap = eta - (
        b1 * np.cos(2 * xi) * np.sinh(2 * eta)
        + b2 * np.cos(4 * xi) * np.sinh(4 * eta)
        + b3 * np.cos(6 * xi) * np.sinh(6 * eta)
    )
    chi = np.arcsin(np.sin(xip) / np.cosh(etap))
    d1, d2, d3 = _DELTA
    lat = np.rad2deg(chi + d1 * np.sin(2 * chi) + d2 * np.sin(4 * chi) + d3 * np.sin(6 * chi))
    with np.errstate(divide="ignore"):
        lon = 6.0 * zone - 183.0 + np.rad2deg(np.arctan(np.sinh(etap) / np.cos(xip)))
    if wrap:
        lon = (lon + 180.0) % 360.0 - 180.0
    return lon, lat


# --------------------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------------------

# Like the client's regex, but the resolution may be one character ("1") and the dot is
# escaped; like the client it is a prefix match (trailing text after the key is ignored).
_KEY_RE = re.compile(
    r"\s*(?P<tilesize>\d+):(?P<pad>-?\d+):(?P<resolution>\d+(?:\.\d*)?|\.\d+):"
    r"(?P<zone>\d+):(?P<ti>-?\d+):(?P<tj>-?\d+)"
)


def _res_str(resolution: float) -> str:
    s = f"{resolution:f}".rstrip("0")
    if s.endswith("."):
        s += "0"
    return s


def _check_grid(resolution: Any, tilesize: Any, pad: Any) -> tuple[float, int, int]:
    """The client's ``Grid`` coercions and errors, plus type/finiteness checks."""
    for value, what in ((tilesize, "Tile size"), (pad, "Pad value")):
        if isinstance(value, Real) and not isinstance(value, Integral) and not float(value).is_integer():
            raise InvalidTileError(f"{what} must be an integer, got {value!r}")
    try:
        if isinstance(tilesize, bool) or isinstance(pad, bool) or isinstance(resolution, bool):
            raise TypeError
        tilesize_i = int(tilesize)
        pad_i = int(pad)
        res_f = float(resolution)
    except (TypeError, ValueError, OverflowError):
        raise InvalidTileError(
            f"invalid grid parameters resolution={resolution!r}, tilesize={tilesize!r}, pad={pad!r}"
        ) from None
    if tilesize_i <= 0:
        raise InvalidTileError("Tile size must be greater than zero")
    if pad_i < 0:
        raise InvalidTileError("Pad value must be non-negative")
    if not res_f > 0:
        raise InvalidTileError("Resolution must be greater than zero")
    if not math.isfinite(res_f):
        raise InvalidTileError(f"Resolution must be finite, got {resolution!r}")
    return res_f, tilesize_i, pad_i


def _check_index(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)):
        if isinstance(value, Real) and float(value).is_integer():
            return int(float(value))
        raise InvalidTileError(f"{name} must be an integer, got {value!r}")
    return int(value)


@lru_cache(maxsize=64)
def _pyproj_crs(epsg: int):  # pragma: no cover - trivial
    import pyproj

    return pyproj.CRS.from_epsg(epsg)


_WKT_TEMPLATE = (
    'PROJCS["WGS 84 / UTM zone {zone}N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,'
    '298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],'
    'PARAMETER["central_meridian",{cm}],PARAMETER["scale_factor",0.9996],'
    'PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,'
    'AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","{epsg}"]]'
)

ShapeLike: TypeAlias = str | dict | list | sgeom.Polygon | sgeom.MultiPolygon | Any


# --------------------------------------------------------------------------------------
# the tile
# --------------------------------------------------------------------------------------


class DLTile:
    """One DLTile: an immutable, hashable, picklable square of the DL UTM grid.

    Build one with :meth:`from_key`, :meth:`from_latlon`, :meth:`from_shape` /
    :meth:`iter_from_shape` or :meth:`subtile`; the constructor takes the six key
    fields. Two tiles are equal when their (canonical) keys are equal.

    Parameters
    ----------
    tilesize : int
        Side of the unpadded tile, in pixels (> 0).
    pad : int
        Extra pixels on every side (>= 0).
    resolution : float
        Pixel size in metres (> 0).
    zone : int
        UTM zone, 1..60 (always the north code ``EPSG:326zz``).
    ti, tj : int
        Column (easting) and row (northing) index of the tile in the zone's grid.

    Notes
    -----
    Deliberate differences from the Descartes Labs client:

    * ``lon = 180`` belongs to zone 60 (the client raises "Invalid zone").
    * Keys with a one-character resolution (``"512:0:1:13:0:0"``) parse (the client's
      regex needs two characters). Like the client, text after a key is ignored.
    * ``subtile(n, row=r, col=c)`` yields the single sub-tile at (r, c) (the client's
      generator yields nothing), and subtile arguments are checked when called rather
      than when iterated.
    * :meth:`latlon_to_rowcol` / :meth:`rowcol_to_latlon` accept any mix of int and
      float scalars (the client requires ``type(lat) is type(lon)``).
    * :meth:`from_shape` returns exactly the tiles whose lon/lat footprint (the
      straight-edged quadrilateral through the four UTM corners, the client's
      definition) intersects the shape, computed row by row; the client's quadtree
      approximates this set (it may add a tile whose footprint misses the shape when a
      whole quad is ``within`` it). Candidates are the tiles meeting the easting
      band [166000, 834000] m that holds the zone strip (as in the client) and not lying
      entirely beyond a pole; in rows reaching beyond 84 degrees the client's pole- and
      antimeridian-aware footprints are tested tile by tile, over the tiles within one
      tile (+100 m) of the shape's UTM extent. Invalid polygons are repaired with
      ``shapely.make_valid``; (near-)zero-area slivers that the zone clipping collapses
      to lines are dropped, as in the client.
    * ``all_touched`` of the client's geocontext is not modelled (pass it to the Raster
      API directly).

    Examples
    --------
    >>> t = DLTile.from_key("128:16:960.0:15:-1:37")
    >>> t.bounds, t.geotrans
    ((361760.0, 4531200.0, 515360.0, 4684800.0), (361760.0, 960.0, 0.0, 4684800.0, 0.0, -960.0))
    >>> t.assign(pad=8).key
    '128:8:960.0:15:-1:37'
    """

    __slots__ = ("_tilesize", "_pad", "_resolution", "_zone", "_ti", "_tj", "_key")
    _tilesize: int
    _pad: int
    _resolution: float
    _zone: int
    _ti: int
    _tj: int
    _key: str

    def __init__(self, tilesize: int, pad: int, resolution: float, zone: int, ti: int, tj: int) -> None:
        res, ts, pd = _check_grid(resolution, tilesize, pad)
        zone_i = _check_index(zone, "zone")
        if zone_i <= 0 or zone_i > 60:
            raise InvalidTileError("Invalid zone")
        set_ = object.__setattr__
        set_(self, "_tilesize", ts)
        set_(self, "_pad", pd)
        set_(self, "_resolution", res)
        set_(self, "_zone", zone_i)
        set_(self, "_ti", _check_index(ti, "ti"))
        set_(self, "_tj", _check_index(tj, "tj"))
        set_(self, "_key", f"{ts:d}:{pd:d}:{_res_str(res)}:{zone_i:02d}:{self._ti:d}:{self._tj:d}")

    # -- immutability, hashing, pickling ------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("DLTile is immutable; use assign() or a constructor")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("DLTile is immutable")

    def __reduce__(self):
        return (DLTile, (self._tilesize, self._pad, self._resolution, self._zone, self._ti, self._tj))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DLTile):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(("DLTile", self._key))

    def __repr__(self) -> str:
        return f"DLTile.from_key({self._key!r})"

    def __str__(self) -> str:
        return self._key

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def from_key(cls, key: str) -> DLTile:
        """The tile of a key ``"tilesize:pad:resolution:zone:ti:tj"``.

        The key is canonicalised as in the client: resolution with at least one
        decimal and at most six (``"30"`` -> ``"30.0"``), zone on two digits. A
        :class:`DLTile` is returned unchanged (handy for ``dltile=`` arguments).

        Raises
        ------
        InvalidTileError
            "Invalid DLTile key" (unparsable), "Invalid tile size", "Invalid padding",
            "Invalid resolution" or "Invalid zone".

        Examples
        --------
        >>> DLTile.from_key("2048:16:30:15:-5:15").key
        '2048:16:30.0:15:-5:15'
        >>> DLTile.from_key("2048:16:30.0:0:3:80")
        Traceback (most recent call last):
        ...
        raster_core.errors.InvalidTileError: Invalid zone
        """
        if isinstance(key, DLTile):
            return key
        if not isinstance(key, str):
            raise InvalidTileError("Invalid DLTile key")
        m = _KEY_RE.match(key)
        if m is None:
            raise InvalidTileError("Invalid DLTile key")
        g = m.groupdict()
        tilesize, pad, res = int(g["tilesize"]), int(g["pad"]), float(g["resolution"])
        zone, ti, tj = int(g["zone"]), int(g["ti"]), int(g["tj"])
        if tilesize <= 0:
            raise InvalidTileError("Invalid tile size")
        if pad < 0:
            raise InvalidTileError("Invalid padding")
        if not res > 0 or not math.isfinite(res):
            raise InvalidTileError("Invalid resolution")
        if zone <= 0 or zone > 60:
            raise InvalidTileError("Invalid zone")
        return cls(tilesize, pad, res, zone, ti, tj)

    @classmethod
    def from_latlon(cls, lat: float, lon: float, resolution: float, tilesize: int, pad: int) -> DLTile:
        """The tile of the grid ``(resolution, tilesize, pad)`` containing a lat/lon point.

        The zone is that of ``lon`` (a zone-boundary longitude belongs to the eastern
        zone; ``lon = 180`` to zone 60); ``ti = floor((E - 500000) / W)``,
        ``tj = floor(N / W)``.

        Raises
        ------
        InvalidLatLonError
            "Longitude must be between -180.0 and 180.0" / "Latitude must be between -90 and 90".
        InvalidTileError
            Invalid grid parameters.

        Examples
        --------
        >>> DLTile.from_latlon(lat=30.0131, lon=31.2089, resolution=10, tilesize=2, pad=49).key
        '2:49:10.0:36:-8637:166079'
        """
        res, ts, pd = _check_grid(resolution, tilesize, pad)
        try:
            lon_f, lat_f = float(lon), float(lat)
        except (TypeError, ValueError):
            raise InvalidLatLonError(f"lat and lon must be numbers, got {lat!r}, {lon!r}") from None
        if not (-180.0 <= lon_f <= 180.0):
            raise InvalidLatLonError("Longitude must be between -180.0 and 180.0")
        if not (-90.0 <= lat_f <= 90.0):
            raise InvalidLatLonError("Latitude must be between -90 and 90")
        zone = lon_to_zone(lon_f)
        e, n = lonlat_to_utm(lon_f, lat_f, zone)
        width = ts * res
        return cls(ts, pd, res, zone, int((float(e) - FALSE_EASTING) // width), int(float(n) // width))

    @classmethod
    def iter_from_shape(
        cls,
        shape: ShapeLike,
        resolution: float,
        tilesize: int,
        pad: int,
        keys_only: bool = False,
    ) -> Iterator[DLTile] | Iterator[str]:
        """Stream the tiles whose footprint intersects a lon/lat (multi)polygon.

        A generator: memory does not grow with the number of tiles (tiles are made
        row by row, zone by zone; there are no duplicates, so no key set is kept).
        The order (zone ascending, then rows north to south, then west to east) is
        not part of the contract.

        Parameters
        ----------
        shape : GeoJSON geometry / Feature / FeatureCollection dict, JSON string, list of
            those, shapely Polygon / MultiPolygon, or an object with ``__geo_interface__``
            Polygons in WGS 84 lon/lat.
        resolution, tilesize, pad
            The grid.
        keys_only : bool
            Yield keys (str) instead of :class:`DLTile` objects.

        Raises
        ------
        InvalidShapeError
            Non-polygonal or unparsable shapes, coordinates outside [-180, 180] x [-90, 90]
            (raised by this call, before iterating).
        InvalidTileError
            Invalid grid parameters (raised immediately).

        Examples
        --------
        >>> sf = {"type": "Polygon", "coordinates": [[[-122.5114, 37.7713], [-122.4548, 37.7748],
        ...       [-122.4530, 37.7666], [-122.5106, 37.7634], [-122.5114, 37.7713]]]}
        >>> keys = list(DLTile.iter_from_shape(sf, resolution=1, tilesize=500, pad=0, keys_only=True))
        >>> len(keys), "500:0:1.0:10:94:8359" in keys
        (31, True)
        """
        res, ts, pd = _check_grid(resolution, tilesize, pad)
        geom = _normalize_shape(shape)  # bad shapes fail here, before any iteration
        return cls._iter_from_geom(geom, res, ts, pd, bool(keys_only))

    @classmethod
    def _iter_from_geom(cls, geom, res, ts, pd, keys_only):
        width = ts * res
        res_s = _res_str(res)
        for zone, tj, ti0, ti1 in _iter_runs(geom, width):
            if keys_only:
                prefix = f"{ts:d}:{pd:d}:{res_s}:{zone:02d}:"
                for ti in range(ti0, ti1 + 1):
                    yield f"{prefix}{ti:d}:{tj:d}"
            else:
                for ti in range(ti0, ti1 + 1):
                    yield cls(ts, pd, res, zone, ti, tj)

    @classmethod
    def from_shape(
        cls,
        shape: ShapeLike,
        resolution: float,
        tilesize: int,
        pad: int,
        keys_only: bool = False,
    ) -> list[DLTile] | list[str]:
        """List of the tiles whose footprint intersects a lon/lat (multi)polygon.

        Same as ``list(iter_from_shape(...))``; warns (like the client) when the
        estimated count exceeds 50 000 tiles.

        Examples
        --------
        >>> sf = {"type": "Feature", "properties": None, "geometry": {"type": "Polygon",
        ...       "coordinates": [[[-122.51140471760839, 37.77130087547876],
        ...       [-122.45475646845254, 37.77475476721895], [-122.45303985468301, 37.76657207194229],
        ...       [-122.51057242081689, 37.763446782666094], [-122.51140471760839, 37.77130087547876]]]}}
        >>> len(DLTile.from_shape(sf, resolution=1.5, tilesize=512, pad=0, keys_only=True))
        14
        """
        res, ts, pd = _check_grid(resolution, tilesize, pad)
        geom = _normalize_shape(shape)
        if _estimate_ntiles(geom, ts * res) > 50000:
            warnings.warn(
                "DLTile.from_shape will return a large number of tiles. "
                "Consider using DLTile.iter_from_shape instead.",
                stacklevel=2,
            )
        return list(cls._iter_from_geom(geom, res, ts, pd, bool(keys_only)))

    @classmethod
    def count_from_shape(cls, shape: ShapeLike, resolution: float, tilesize: int, pad: int = 0) -> int:
        """Number of tiles :meth:`iter_from_shape` would yield, without making them.

        Examples
        --------
        >>> box = {"type": "Polygon", "coordinates": [[[-109, 37], [-102, 37], [-102, 41], [-109, 41], [-109, 37]]]}
        >>> DLTile.count_from_shape(box, resolution=30, tilesize=2048)
        104
        """
        res, ts, _ = _check_grid(resolution, tilesize, pad)
        geom = _normalize_shape(shape)
        return sum(ti1 - ti0 + 1 for _, _, ti0, ti1 in _iter_runs(geom, ts * res))

    def subtile(
        self,
        subdivide: int,
        resolution: float | None = None,
        pad: int | None = None,
        keys_only: bool = False,
        *,
        row: int | None = None,
        col: int | None = None,
    ) -> Iterator[DLTile] | Iterator[str]:
        """Iterate over the ``subdivide**2`` tiles that exactly partition this one.

        Sub-tiles are yielded row-major from the upper-left. They keep this tile's
        resolution and pad unless ``resolution`` / ``pad`` are given; the new tile size
        ``tilesize * self.resolution / (subdivide * resolution)`` must be an integer.
        With ``row`` and ``col`` (0-based from the upper-left) only that sub-tile is
        yielded (the client's generator yields nothing in that case).

        Raises
        ------
        InvalidTileError
            Non-integer ``subdivide``, ``subdivide`` not dividing ``tilesize``, or a
            ``resolution`` that gives a non-integer tile size.
        InvalidRowColError
            Only one of ``row`` / ``col`` given.
        TileIndexError
            ``row`` / ``col`` outside ``[0, subdivide)`` (also an ``IndexError``).

        Examples
        --------
        >>> tiles = list(DLTile.from_key("2048:0:30.0:15:3:80").subtile(8))
        >>> len(tiles), tiles[0].tilesize, tiles[0].key
        (64, 256, '256:0:30.0:15:24:647')
        """
        if (row is None) != (col is None):
            raise InvalidRowColError("col is None but row is not" if col is None else "row is None but col is not")
        try:
            sub_f = float(subdivide)
        except (TypeError, ValueError):
            raise InvalidTileError("subdivide ratio must be an integer") from None
        if isinstance(subdivide, bool) or not sub_f.is_integer() or sub_f < 1:
            raise InvalidTileError("subdivide ratio must be an integer")
        sub = int(sub_f)
        if row is not None and col is not None:
            for name, v in (("row", row), ("col", col)):
                if not (0 <= v < sub):
                    # row/col may be any real number: int() truncates as the client's %i did
                    raise TileIndexError(f"{name} is {int(v)} but should be between 0 and {sub}")
        if self._tilesize % sub != 0:
            raise InvalidTileError("The subdivide ratio must evenly divide the original tilesize")
        new_res = self._resolution if resolution is None else resolution
        new_pad = self._pad if pad is None else pad
        new_res, _, new_pad = _check_grid(new_res, 1, new_pad)
        new_ts_f = self._resolution * self._tilesize / (sub * new_res)
        new_ts = int(round(new_ts_f))
        if new_ts < 1 or not math.isclose(new_ts_f, new_ts, rel_tol=1e-9, abs_tol=1e-9):
            raise InvalidTileError(
                "The tile can only be subdivided if the subdivide * new tilesize * new resolution is "
                "equal to the original tilesize * original resolution"
            )
        ul_ti = self._ti * sub
        ul_tj = self._tj * sub + sub - 1
        cells = [(row, col)] if row is not None else [(j, i) for j in range(sub) for i in range(sub)]
        zone = self._zone
        return _subtile_gen(cells, new_ts, new_pad, new_res, zone, ul_ti, ul_tj, bool(keys_only))

    def assign(
        self,
        pad: int | None = None,
        *,
        resolution: float | None = None,
        tilesize: int | None = None,
    ) -> DLTile:
        """A copy with another pad (and optionally another resolution/tilesize).

        Changing ``resolution`` and/or ``tilesize`` keeps the tile's ground footprint
        (``tilesize * resolution``) and its indices; giving only one of them derives
        the other, which must then be an integer tile size. (The client's
        ``Tile.assign(resolution=...)`` keeps the tilesize and silently moves the tile.)

        Raises
        ------
        InvalidTileError
            Negative pad, or a resolution/tilesize that changes the footprint.

        Examples
        --------
        >>> DLTile.from_key("2048:16:30.0:15:3:80").assign(123).pad
        123
        >>> DLTile.from_key("2048:16:30.0:15:3:80").assign(resolution=60).key
        '1024:16:60.0:15:3:80'
        """
        new_pad = self._pad if pad is None else pad
        width = self._tilesize * self._resolution
        if resolution is None and tilesize is None:
            new_res, new_ts = self._resolution, self._tilesize
        elif resolution is not None and tilesize is not None:
            new_res, new_ts, _ = _check_grid(resolution, tilesize, 0)
            if not math.isclose(new_res * new_ts, width, rel_tol=1e-12):
                raise InvalidTileError(
                    "New resolution and tilesize are not compatible with the old resolution and tilesize"
                )
        elif resolution is not None:
            new_res, _, _ = _check_grid(resolution, 1, 0)
            ts_f = width / new_res
            new_ts = int(round(ts_f))
            if new_ts < 1 or not math.isclose(ts_f, new_ts, rel_tol=1e-9):
                raise InvalidTileError(
                    f"resolution {resolution!r} does not divide the tile width {width!r} m into whole pixels"
                )
        else:
            _, new_ts, _ = _check_grid(1.0, tilesize, 0)
            new_res = width / new_ts
        return DLTile(new_ts, new_pad, new_res, self._zone, self._ti, self._tj)

    # -- properties -----------------------------------------------------------------------
    @property
    def key(self) -> str:
        """The canonical key ``"tilesize:pad:resolution:zone:ti:tj"``."""
        return self._key

    @property
    def resolution(self) -> float:
        """Pixel size in metres."""
        return self._resolution

    @property
    def tilesize(self) -> int:
        """Side of the unpadded tile in pixels."""
        return self._tilesize

    @property
    def pad(self) -> int:
        """Extra pixels on each side."""
        return self._pad

    @property
    def tile_extent(self) -> int:
        """Side of the tile raster in pixels: ``tilesize + 2 * pad``."""
        return self._tilesize + 2 * self._pad

    @property
    def zone(self) -> int:
        """UTM zone (1..60)."""
        return self._zone

    @property
    def ti(self) -> int:
        """Column index (along x / easting) in the zone's grid (the client's "path")."""
        return self._ti

    @property
    def tj(self) -> int:
        """Row index (along y / northing) in the zone's grid (the client's "row")."""
        return self._tj

    @property
    def epsg(self) -> int:
        """EPSG code ``32600 + zone`` (north UTM, also south of the equator)."""
        return 32600 + self._zone

    @property
    def crs(self) -> str:
        """``"EPSG:326zz"``."""
        return f"EPSG:{self.epsg:d}"

    @property
    def bounds_crs(self) -> str:
        """CRS of :attr:`bounds` (same as :attr:`crs`)."""
        return self.crs

    @property
    def bounds_unpadded(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the unpadded tile in UTM metres."""
        w = self._resolution * self._tilesize
        xmin = FALSE_EASTING + self._ti * w
        ymin = self._tj * w
        return (xmin, ymin, xmin + w, ymin + w)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the padded tile in UTM metres (the output bounds)."""
        xmin, ymin, xmax, ymax = self.bounds_unpadded
        p = self._pad * self._resolution
        return (xmin - p, ymin - p, xmax + p, ymax + p)

    @property
    def geotrans(self) -> tuple[float, float, float, float, float, float]:
        """GDAL geotransform ``(xmin, res, 0.0, ymax, 0.0, -res)`` of the padded tile."""
        xmin, _, _, ymax = self.bounds
        return (xmin, self._resolution, 0.0, ymax, 0.0, -self._resolution)

    @property
    def transform(self) -> Affine:
        """:attr:`geotrans` as an :class:`affine.Affine`."""
        return Affine.from_gdal(*self.geotrans)

    @property
    def proj4(self) -> str:
        """PROJ.4 string as the client gives it (with its trailing space)."""
        return f"+proj=utm +zone={self._zone} +datum=WGS84 +units=m +no_defs "

    @property
    def wkt(self) -> str:
        """OGC WKT1 of ``EPSG:326zz`` exactly as the client gives it."""
        return _WKT_TEMPLATE.format(zone=self._zone, cm=6 * self._zone - 183, epsg=self.epsg)

    def _lonlat_polygon(self, bounds: tuple[float, float, float, float]) -> sgeom.Polygon:
        xmin, ymin, xmax, ymax = bounds
        xs = np.array([xmin, xmax, xmax, xmin, xmin])
        ys = np.array([ymin, ymin, ymax, ymax, ymin])
        lon, lat = utm_to_lonlat(xs, ys, self._zone)
        return sgeom.Polygon(np.column_stack([lon, lat]))

    @property
    def geometry(self) -> sgeom.Polygon:
        """Lon/lat polygon through the padded tile's four corners (no densification,
        no antimeridian/pole handling: the client's ``polygon``)."""
        return self._lonlat_polygon(self.bounds)

    @property
    def geometry_unpadded(self) -> sgeom.Polygon:
        """Lon/lat polygon through the unpadded tile's four corners."""
        return self._lonlat_polygon(self.bounds_unpadded)

    @property
    def __geo_interface__(self) -> dict:
        """:attr:`geometry` as a GeoJSON Polygon dict."""
        return sgeom.mapping(self.geometry)

    @property
    def feature(self) -> dict:
        """GeoJSON Feature: the geometry plus the client's geocontext properties.

        Properties: ``coordinateSystem`` ({"wkt": ...}), ``geometry``, ``key``,
        ``resolution``, ``tilesize``, ``pad``, ``cs_code``, ``outputBounds``, ``size``,
        ``zone``, ``ti``, ``tj``, ``geotrans``, ``geoTransform``, ``wkt``, ``proj4``.
        """
        geometry = self.__geo_interface__
        wkt = self.wkt
        return {
            "type": "Feature",
            "geometry": geometry,
            "properties": {
                "coordinateSystem": {"wkt": wkt},
                "geometry": geometry,
                "key": self._key,
                "resolution": self._resolution,
                "tilesize": self._tilesize,
                "pad": self._pad,
                "cs_code": self.crs,
                "outputBounds": self.bounds,
                "size": [self.tile_extent, self.tile_extent],
                "zone": self._zone,
                "ti": self._ti,
                "tj": self._tj,
                "geotrans": self.geotrans,
                "geoTransform": self.geotrans,
                "wkt": wkt,
                "proj4": self.proj4,
            },
        }

    #: Alias of :attr:`feature` under the client's name.
    geocontext = feature

    @property
    def raster_params(self) -> dict:
        """The client's ``DLTile.raster_params``: ``{"dltile": key, "align_pixels": False}``."""
        return {"dltile": self._key, "align_pixels": False}

    def geobox_params(self) -> dict:
        """The output grid of this tile for the Raster API.

        Returns
        -------
        dict
            ``crs`` (:class:`pyproj.CRS` ``EPSG:326zz``), ``transform``
            (:class:`affine.Affine` of the padded tile, north-up, pixel size
            ``resolution``), ``width`` and ``height`` (both ``tilesize + 2 * pad``).

        Examples
        --------
        >>> p = DLTile.from_key("128:16:960.0:15:-1:37").geobox_params()
        >>> p["crs"].to_epsg(), p["width"], p["height"], p["transform"].c, p["transform"].f
        (32615, 160, 160, 361760.0, 4684800.0)
        """
        return {
            "crs": _pyproj_crs(self.epsg),
            "transform": self.transform,
            "width": self.tile_extent,
            "height": self.tile_extent,
        }

    # -- pixel <-> coordinates ------------------------------------------------------------
    def _origin(self) -> tuple[int, int]:
        min_col = self._tilesize * self._ti - self._pad
        max_row = self._tilesize * (self._tj + 1) + self._pad
        return min_col, max_row

    def rowcol_to_latlon(self, row: Any, col: Any) -> list[tuple[float, ...]]:
        """Lat/lon of pixel *centres* (row 0, col 0 = top-left pixel of the padded tile).

        Returns ``[(lat,), (lon,)]`` for scalars, ``[(lat, ...), (lon, ...)]`` for
        sequences (the client's shapes).

        Raises
        ------
        InvalidRowColError
            Scalar mixed with a sequence, sequences of different lengths, non-numbers.

        Examples
        --------
        >>> DLTile.from_key("2048:0:30.0:15:3:80").rowcol_to_latlon(row=56, col=1111)
        [(44.894653081367544,), (-90.24334206726267,)]
        """
        scalar, r, c = _pair(row, col, InvalidRowColError, "row and col")
        min_col, max_row = self._origin()
        east = (c + min_col + 0.5) * self._resolution + FALSE_EASTING
        north = (max_row - r - 0.5) * self._resolution
        lon, lat = utm_to_lonlat(east, north, self._zone)
        return [tuple(float(v) for v in lat), tuple(float(v) for v in lon)]

    def latlon_to_rowcol(self, lat: Any, lon: Any) -> list[tuple[int, ...]]:
        """Pixel (row, col) containing lat/lon points (``floor`` of the continuous position).

        Returns ``[(row,), (col,)]`` for scalars, ``[(row, ...), (col, ...)]`` for
        sequences. Points outside the tile give indices outside ``[0, tile_extent)``.

        Raises
        ------
        InvalidLatLonError
            Scalar mixed with a sequence, sequences of different lengths, non-finite values.

        Examples
        --------
        >>> DLTile.from_key("2048:0:30.0:15:3:80").latlon_to_rowcol(lat=44.8, lon=-90.2)
        [(403,), (1237,)]
        """
        scalar, la, lo = _pair(lat, lon, InvalidLatLonError, "lat and lon")
        if not (np.all(np.isfinite(la)) and np.all(np.isfinite(lo))):
            raise InvalidLatLonError("lat and lon must be finite")
        east, north = lonlat_to_utm(lo, la, self._zone)
        min_col, max_row = self._origin()
        rows = np.floor(max_row - north / self._resolution)
        cols = np.floor((east - FALSE_EASTING) / self._resolution - min_col)
        if not (np.all(np.isfinite(rows)) and np.all(np.isfinite(cols))):
            raise InvalidLatLonError("lat/lon cannot be projected into this tile's zone")
        return [tuple(int(v) for v in rows), tuple(int(v) for v in cols)]


def _subtile_gen(cells, ts, pad, res, zone, ul_ti, ul_tj, keys_only):
    for j, i in cells:
        t = DLTile(ts, pad, res, zone, ul_ti + i, ul_tj - j)
        yield t.key if keys_only else t


def _pair(a: Any, b: Any, err: type, names: str) -> tuple[bool, np.ndarray, np.ndarray]:
    a_seq = isinstance(a, (Sequence, np.ndarray)) and not isinstance(a, str)
    b_seq = isinstance(b, (Sequence, np.ndarray)) and not isinstance(b, str)
    if a_seq != b_seq:
        raise err(f"{names} should have compatible types")
    if a_seq:
        if _lens_differ(a, b):
            raise err(f"{names} must be the same length")
        try:
            aa = np.asarray(a, dtype=np.float64)
            bb = np.asarray(b, dtype=np.float64)
        except (TypeError, ValueError):
            aa = bb = np.zeros((0, 0))
        if aa.ndim != 1 or bb.ndim != 1:
            raise err(f"{names} must be numbers or sequences of numbers, got {a!r:.100}, {b!r:.100}")
        return False, aa, bb
    if (
        isinstance(a, bool)
        or isinstance(b, bool)
        or not isinstance(a, (Real, np.number))
        or not isinstance(b, (Real, np.number))
    ):
        raise err(f"{names} must be numbers or sequences of numbers, got {a!r:.100}, {b!r:.100}")
    return True, np.array([float(a)]), np.array([float(b)])


def _lens_differ(a: Any, b: Any) -> bool:
    try:
        return len(a) != len(b)
    except TypeError:
        return False


# --------------------------------------------------------------------------------------
# shapes
# --------------------------------------------------------------------------------------


def _normalize_list(obj: Any) -> list:
    """The client's ``normalize_polygons``: a list of shapely (Multi)Polygons."""
    if isinstance(obj, str):
        try:
            obj = json.loads(obj)
        except ValueError as exc:
            raise InvalidShapeError(f"Could not parse shape JSON: {exc}") from None
    if isinstance(obj, (list, tuple)):
        out: list = []
        for item in obj:
            out.extend(_normalize_list(item))
        return out
    if isinstance(obj, dict):
        try:
            if "geometry" in obj:
                return _normalize_list(_geo_shape(obj["geometry"]))
            if "features" in obj:
                out = []
                for feature in obj["features"]:
                    out.extend(_normalize_list(_geo_shape(feature["geometry"])))
                return out
        except (KeyError, TypeError):
            raise InvalidShapeError("Could not normalize shape: malformed Feature/FeatureCollection") from None
        return _normalize_list(_geo_shape(obj))
    if isinstance(obj, (sgeom.Polygon, sgeom.MultiPolygon)):
        return [obj]
    if isinstance(obj, shapely.Geometry):
        raise InvalidShapeError(f"Geometries must be polygon or multipolygon, got {type(obj)}")
    if hasattr(obj, "__geo_interface__"):
        return _normalize_list(obj.__geo_interface__)
    raise InvalidShapeError(f"Could not normalize shape or shapes of type {type(obj)}")


def _geo_shape(obj: Any):
    if obj is None:
        raise InvalidShapeError("Could not normalize shape: geometry is null")
    if isinstance(obj, shapely.Geometry):
        return obj
    try:
        return sgeom.shape(obj)
    except Exception as exc:  # shapely raises several types for malformed GeoJSON
        raise InvalidShapeError(f"Could not normalize shape {obj!r:.200}: {exc}") from None


def _normalize_shape(shape: Any):
    """One valid lon/lat (Multi)Polygon (possibly empty) from any accepted shape."""
    polys = _normalize_list(shape)
    parts = []
    for p in polys:
        if p.is_empty:
            continue
        xy = shapely.get_coordinates(p)
        if not np.all(np.isfinite(xy)):
            raise InvalidShapeError("Polygon coordinates must be finite")
        min_lon, min_lat, max_lon, max_lat = p.bounds
        if min_lon < -180.0:
            raise InvalidShapeError("Polygon goes beyond -180deg longitude")
        if max_lon > 180.0:
            raise InvalidShapeError("Polygon goes beyond +180deg longitude")
        if min_lat < -90.0:
            raise InvalidShapeError("Polygon goes beyond -90deg latitude")
        if max_lat > 90.0:
            raise InvalidShapeError("Polygon goes beyond +90deg latitude")
        if not p.is_valid:
            p = shapely.make_valid(p)
        # make_valid may return collections holding lines: keep polygonal parts only
        parts.extend(_polygon_parts(p))
    if not parts:
        return sgeom.Polygon()
    geom = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    return geom


def _estimate_ntiles(geom, width: float) -> int:
    """The client's ``_estimate_ntiles_from_shape`` (sum over polygons)."""
    n = 0
    for p in shapely.get_parts(geom):
        if p.is_empty:
            continue
        lat = p.centroid.y
        n += (p.area * 12321000000 * math.cos(math.radians(lat))) // (width * width)
    return int(n)


# --------------------------------------------------------------------------------------
# tiling: exact set of tiles whose lon/lat footprint intersects the shape
# --------------------------------------------------------------------------------------

_POLAR_LAT = 84.0  # rows reaching beyond this latitude use the per-tile (client) footprint
_NORTH_POLAR = float(lonlat_to_utm(0.0, _POLAR_LAT, 31)[1])
_ROW_CHUNK = 32


def _polygon_parts(g) -> list:
    """The non-empty Polygons of any geometry, collections included."""
    if isinstance(g, sgeom.Polygon):
        return [] if g.is_empty else [g]
    out = []
    if isinstance(g, (sgeom.MultiPolygon, sgeom.GeometryCollection)):
        for p in shapely.get_parts(g):
            out.extend(_polygon_parts(p))
    return out


def _polygonal(g):
    """Polygonal part of a geometry (or None when it has none)."""
    if g.is_empty:
        return None
    if isinstance(g, (sgeom.Polygon, sgeom.MultiPolygon)):
        return g
    polys = _polygon_parts(g)
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else sgeom.MultiPolygon(polys)


def _iter_runs(geom, width: float) -> Iterator[tuple[int, int, int, int]]:
    """Yield ``(zone, tj, ti_first, ti_last)`` runs of tiles intersecting ``geom``."""
    if geom.is_empty:
        return
    min_lon, _, max_lon, _ = geom.bounds
    zmin = max(1, 1 + math.floor((min_lon + 180.0) / 6.0))
    zmax = min(60, 1 + math.floor((max_lon + 180.0) / 6.0))
    for zone in range(zmin, zmax + 1):
        strip = sgeom.box(6.0 * zone - 186.0, -90.0, 6.0 * zone - 180.0, 90.0)
        pz = _polygonal(shapely.intersection(geom, strip))
        if pz is None:
            continue
        yield from _tile_zone(pz, zone, width)


def _utm_extent(g, zone: int) -> tuple[float, float, float, float]:
    """UTM bounds of a lon/lat geometry whose straight edges are densified first."""
    dens = shapely.segmentize(g, 0.01)
    xy = shapely.get_coordinates(dens)
    e, n = lonlat_to_utm(xy[:, 0], xy[:, 1], zone)
    return float(e.min()), float(n.min()), float(e.max()), float(n.max())


def _corners(zone: int, ti: np.ndarray, tj: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Unwrapped lon/lat of grid corners (ti, tj) (corner = SW corner of tile ti, tj)."""
    return utm_to_lonlat(FALSE_EASTING + ti * width, tj * width, zone, wrap=False)


def _mesh_polygon(zone: int, p0: int, p1: int, j0: int, j1: int, width: float):
    """Lon/lat polygon of the union of the footprints of tiles [p0..p1] x [j0..j1]."""
    ii = np.arange(p0, p1 + 2, dtype=np.float64)
    jj = np.arange(j0, j1 + 2, dtype=np.float64)
    bottom = np.column_stack(_corners(zone, ii, np.full_like(ii, j0), width))
    right = np.column_stack(_corners(zone, np.full(len(jj) - 1, p1 + 1.0), jj[1:], width))
    top = np.column_stack(_corners(zone, ii[::-1][1:], np.full(len(ii) - 1, j1 + 1.0), width))
    left = np.column_stack(_corners(zone, np.full(len(jj) - 2, float(p0)), jj[::-1][1:-1], width))
    ring = np.concatenate([bottom, right, top, left])
    return sgeom.Polygon(ring)


def _tile_zone(pz, zone: int, width: float) -> Iterator[tuple[int, int, int, int]]:
    min_e, min_n, max_e, max_n = _utm_extent(pz, zone)
    margin = width + 100.0
    # candidate columns: tiles meeting the easting band [166000, 834000] m, which holds the
    # whole zone strip (the client clamps its candidates the same way)
    p_lo = max(math.floor((min_e - margin - FALSE_EASTING) / width), _min_column(width))
    p_hi = min(math.floor((max_e + margin - FALSE_EASTING) / width), _max_column(width))
    # candidate rows: never tiles lying entirely beyond a pole
    r_lo = max(math.floor((min_n - margin) / width), math.floor(-UTM_MAX_NORTH / width))
    r_hi = min(math.floor((max_n + margin) / width), math.ceil(UTM_MAX_NORTH / width) - 1)
    prepared = None
    j = r_hi
    while j >= r_lo:  # north to south, in chunks of rows
        if _row_is_polar(j, width):
            if prepared is None:
                prepared = pz
                shapely.prepare(prepared)
            run = _polar_row(prepared, zone, j, p_lo, p_hi, width)
            yield from ((zone, j, a, b) for a, b in run)
            j -= 1
            continue
        j_stop = j
        while j_stop - 1 >= r_lo and j - (j_stop - 1) < _ROW_CHUNK and not _row_is_polar(j_stop - 1, width):
            j_stop -= 1
        yield from _mesh_rows(pz, zone, j_stop, j, p_lo, p_hi, width)
        j = j_stop - 1


def _min_column(width: float) -> int:
    return math.floor((UTM_MIN_EAST - FALSE_EASTING) / width)


def _max_column(width: float) -> int:
    return math.ceil((UTM_MAX_EAST - FALSE_EASTING) / width) - 1


def _row_is_polar(j: int, width: float) -> bool:
    return max(abs(j * width), abs((j + 1) * width)) > _NORTH_POLAR


def _mesh_rows(pz, zone, j0, j1, p_lo, p_hi, width) -> Iterator[tuple[int, int, int, int]]:
    """Rows j1 down to j0 (not polar) by exact mesh intersection."""
    # clip the shape to a region a little larger than these rows (cheaper per-row overlays)
    chunk = _mesh_polygon(zone, p_lo - 1, p_hi + 1, j0 - 1, j1 + 1, width)
    if chunk.is_valid:
        pc = _polygonal(shapely.intersection(pz, chunk))
        if pc is None:
            return
        min_e, _, max_e, _ = _utm_extent(pc, zone)
        margin = width + 100.0
        p0 = max(p_lo, math.floor((min_e - margin - FALSE_EASTING) / width))
        p1 = min(p_hi, math.floor((max_e + margin - FALSE_EASTING) / width))
    else:  # pragma: no cover - degenerate meshes fall back to the whole zone part
        pc, p0, p1 = pz, p_lo, p_hi
    if p1 < p0:
        return
    ii = np.arange(p0, p1 + 2, dtype=np.float64)
    jj = np.arange(j0, j1 + 2, dtype=np.float64)
    # all grid corners of these rows at once: lon[k, i] for row line j0 + k
    lon, lat = _corners(zone, ii[None, :], jj[:, None], width)
    for j in range(j1, j0 - 1, -1):
        k = j - j0
        for a, b in _row_runs(pc, lon[k], lat[k], lon[k + 1], lat[k + 1], p0, zone, j, width):
            yield zone, j, a, b


def _row_runs(pc, bot_lon, bot_lat, top_lon, top_lat, p0, zone, j, width) -> list[tuple[int, int]]:
    ring = np.concatenate(
        [np.column_stack([bot_lon, bot_lat]), np.column_stack([top_lon[::-1], top_lat[::-1]])]
    )
    strip = sgeom.Polygon(ring)
    if not strip.is_valid:  # pragma: no cover - not expected below the polar latitude
        prepared = pc
        shapely.prepare(prepared)
        return _polar_row(prepared, zone, j, p0, p0 + len(bot_lon) - 2, width)
    r = shapely.intersection(pc, strip)
    if r.is_empty:
        return []
    ncell = len(bot_lon) - 1
    dx = top_lon - bot_lon  # dividing segments D_i: bottom corner -> top corner (northward)
    dy = top_lat - bot_lat
    runs = []
    for part in _connected_parts(r):
        xy = shapely.get_coordinates(part)
        if len(xy) == 0:
            continue
        # cell range of the part = [min over vertices of the first cell holding the vertex,
        # max over vertices of the last one]; a vertex on a dividing segment is in both cells
        lo = int(np.min(_count_lines_east(xy, bot_lon, bot_lat, dx, dy, strict=True))) - 1
        hi = int(np.max(_count_lines_east(xy, bot_lon, bot_lat, dx, dy, strict=False))) - 1
        lo = min(max(lo, 0), ncell - 1)
        hi = min(max(hi, 0), ncell - 1)
        if hi >= lo:
            runs.append((p0 + lo, p0 + hi))
    return _merge_runs(runs)


def _count_lines_east(xy, bx, by, dx, dy, *, strict: bool) -> np.ndarray:
    """For each point, how many dividing segments it lies east of (``strict``) or east
    of or on. The segments are ordered west to east across the row strip, so the
    predicate holds for a prefix of them: binary search, O(points) memory."""
    px, py = xy[:, 0], xy[:, 1]
    if len(px) * len(bx) <= 16384:  # small: one dense comparison (bounded memory)
        side = dx[None, :] * (py[:, None] - by[None, :]) - dy[None, :] * (px[:, None] - bx[None, :])
        return np.count_nonzero(side < 0 if strict else side <= 0, axis=1)
    lo = np.zeros(len(px), dtype=np.int64)
    hi = np.full(len(px), len(bx), dtype=np.int64)
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        m = np.minimum(mid, len(bx) - 1)
        side = dx[m] * (py - by[m]) - dy[m] * (px - bx[m])  # < 0: east of segment m
        pred = side < 0 if strict else side <= 0
        lo = np.where(active & pred, mid + 1, lo)
        hi = np.where(active & ~pred, mid, hi)


def _connected_parts(g) -> list:
    out = []
    for p in shapely.get_parts(g):
        if isinstance(p, (sgeom.GeometryCollection, sgeom.MultiPolygon, sgeom.MultiLineString, sgeom.MultiPoint)):
            out.extend(_connected_parts(p))
        elif not p.is_empty:
            out.append(p)
    return out


def _merge_runs(runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    if not runs:
        return []
    runs.sort()
    merged = [list(runs[0])]
    for a, b in runs[1:]:
        if a <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _client_footprint(zone: int, ti: int, tj: int, width: float):
    """The client's ``utm_box_to_lonlat`` of an unpadded tile (pole and antimeridian aware)."""
    x0 = FALSE_EASTING + ti * width
    y0 = tj * width
    x1, y1 = x0 + width, y0 + width
    lon, lat = utm_to_lonlat(np.array([x0, x1, x1, x0]), np.array([y0, y0, y1, y1]), zone)
    pts = np.column_stack([lon, lat])
    wrap_north = x0 <= FALSE_EASTING <= x1 and y0 <= UTM_MAX_NORTH <= y1
    wrap_south = x0 <= FALSE_EASTING <= x1 and y0 <= -UTM_MAX_NORTH <= y1
    globe = sgeom.box(-180.0, -90.0, 180.0, 90.0)
    if wrap_north or wrap_south:
        by_lon = np.sort(pts, axis=0)  # (sic) columns sorted independently, as in the client
        fwd = by_lon[0] + np.array([360.0, 0.0])
        back = by_lon[-1] - np.array([360.0, 0.0])
        if wrap_north:
            ring = np.concatenate([[back], by_lon, [fwd], [[fwd[0], 91.0], [back[0], 91.0]]])
        else:
            ring = np.concatenate([[fwd], by_lon[::-1], [back], [[back[0], -91.0], [fwd[0], -91.0]]])
        return shapely.make_valid(sgeom.Polygon(ring)).intersection(globe)
    poly = sgeom.Polygon(pts)
    if pts[:, 0].max() - pts[:, 0].min() <= 180.0:
        return poly
    west = pts.copy()
    west[west[:, 0] >= 0.0, 0] -= 360.0
    east = pts.copy()
    east[east[:, 0] < 0.0, 0] += 360.0
    return shapely.union(
        sgeom.Polygon(west).intersection(sgeom.box(-180.0, -90.0, 0.0, 90.0)),
        sgeom.Polygon(east).intersection(sgeom.box(0.0, -90.0, 180.0, 90.0)),
    )


def _polar_row(prepared, zone, j, p_lo, p_hi, width) -> list[tuple[int, int]]:
    """Row ``j`` tested tile by tile with the client's footprints (vectorised where they
    are plain corner quadrilaterals)."""
    if p_hi < p_lo:
        return []
    ti = np.arange(p_lo, p_hi + 1)
    x0 = FALSE_EASTING + ti * width
    y0 = j * width
    xs = np.stack([x0, x0 + width, x0 + width, x0, x0], axis=1)
    ys = np.broadcast_to(np.array([y0, y0, y0 + width, y0 + width, y0]), xs.shape)
    lon, lat = utm_to_lonlat(xs, ys, zone)
    quads = shapely.polygons(np.stack([lon, lat], axis=-1))
    hit = shapely.intersects(quads, prepared)
    holds_pole = (x0 <= FALSE_EASTING) & (x0 + width >= FALSE_EASTING) & (
        (y0 <= UTM_MAX_NORTH <= y0 + width) or (y0 <= -UTM_MAX_NORTH <= y0 + width)
    )
    special = holds_pole | (np.ptp(lon, axis=1) > 180.0) | ~shapely.is_valid(quads)
    for k in np.flatnonzero(special):
        hit[k] = shapely.intersects(_client_footprint(zone, int(ti[k]), j, width), prepared)
    return _merge_runs([(int(t), int(t)) for t in ti[hit]])
