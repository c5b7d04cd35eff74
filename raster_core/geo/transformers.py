"""The one factory of coordinate transformers, shared by grid planning, the warper and metadata.

GDAL builds one reprojection transformer per warp (``GDALCreateGenImgProjTransformer2``): the
operation from the source CRS to the destination CRS chosen by PROJ within an *area of
interest* (the source raster's corners in its geographic CRS), and it maps destination points
back with the inverse of that same operation. Grid planning (:mod:`raster_core.grid`), the
warper (:mod:`raster_core.transform`) and metadata all get their transformer here, keyed by
``(source WKT, destination WKT, area of interest)``, so that they pick the same operation and
share its set-up cost. A pair PROJ has a single operation for (a projection and its own
geographic CRS) gets one transformer for every area of interest inside that operation's area of
use: the area cannot change PROJ's choice there. The process keeps the most recently used
transformers (a lazy load's items each have their own area of interest).

Which operation transforms a point (see ``docs/operation_choice.md``): when PROJ finds several
candidate operations, it chooses one *per point*: among the candidates whose area of use,
as a box in the input CRS, contains the point, the most accurate one; when none contains it,
the first candidate that needs no grid. GDAL 3.10 (its default ``OGR_CT_OP_SELECTION=PROJ``)
leaves this choice to PROJ. pyproj wraps an older PROJ than GDAL's wheels, and the two compute
those boxes a few units in the last place apart, which decides points that lie *exactly* on a
box edge (the corner of a box cut along an area of use, as grid planning sees it) differently:
the Helmert operation on one side, a ballpark one (~100 m off) on the other. So
:class:`CRSTransformer` repeats PROJ's choice with each candidate's box widened by
``EDGE_RTOL`` (relative) and, for the few points whose choice that changes, transforms them with
the candidate that contains them. With one candidate (most CRS pairs) it is PROJ's transformer
as it is. The areas of use themselves come from PROJ's EPSG database, so GDAL's choices are
reproduced for the database pyproj uses (the tests give it the one of rasterio's GDAL).

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

import math
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj
from pyproj.enums import TransformDirection
from pyproj.transformer import AreaOfInterest, TransformerGroup

from raster_core.crs import CRSLike, to_crs
from raster_core.errors import CRSError

__all__ = ["AOI", "EDGE_RTOL", "CRSTransformer", "pyproj_transformer", "area_of_interest", "geodetic_crs"]

#: ``(west, south, east, north)`` in degrees, as GDALComputeAreaOfInterest gives it
AOI = tuple[float, float, float, float]

#: a point this close to a candidate's box (relative to the box's coordinates) counts as inside:
#: far above the last-place differences of two PROJ versions (~1e-14), far below any real distance
EDGE_RTOL = 1e-12

_CACHE: dict[tuple[str, str, AOI | None], CRSTransformer] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_MAX = 64
#: transformers kept per process, least recently used dropped first: each item of a load has
#: its own area of interest, and one costs 0.5-30 ms to make (25-55 KB kept)
_TRANSFORMERS_MAX = 256
#: per CRS pair (WKTs): the area of use of its only operation, or None when PROJ has several
_ONE_OPERATION_AREA: dict[tuple[str, str], tuple[float, float, float, float] | None] = {}

_NO_LIMIT = np.finfo(np.float64).max  # PROJ's box of a world-wide area of use is +-DBL_MAX
_BOX_SAMPLES = 21  # points per edge of an area of use projected to a box (as PROJ does)
#: operations PROJ keeps when an equally accurate one has a smaller area (null transformations)
_PRIORITY_OPERATIONS = ("NAD83 to NAD83(HARN) (47)", "NAD83 to NAD83(HARN) (48)", "NAD83 to NAD83(HARN) (49)",
                        "NAD83 to NAD83(HARN) (50)", "GDA94 to WGS 84 (1)", "GDA2020 to WGS 84 (2)")


def _by_crs(memo: dict[int, tuple[pyproj.CRS, Any]], crs: pyproj.CRS, derive: Callable[[pyproj.CRS], Any]) -> Any:
    """``derive(crs)``, remembered per CRS object (the object is kept with its value, so that its id
    is not reused while remembered; :func:`raster_core.crs.to_crs` returns one object per text)."""
    hit = memo.get(id(crs))
    if hit is not None and hit[0] is crs:
        return hit[1]
    value = derive(crs)
    if len(memo) >= _CACHE_MAX:
        memo.pop(next(iter(memo)), None)
    memo[id(crs)] = (crs, value)
    return value


_WKT_BY_CRS: dict[int, tuple[pyproj.CRS, Any]] = {}
_GEODETIC_BY_CRS: dict[int, tuple[pyproj.CRS, Any]] = {}


def crs_wkt(crs: pyproj.CRS) -> str:
    """``crs.to_wkt()``, computed once per CRS object (about 60 us each time otherwise)."""
    return str(_by_crs(_WKT_BY_CRS, crs, pyproj.CRS.to_wkt))


def _wkt(crs: CRSLike | pyproj.CRS) -> str:
    if isinstance(crs, str) and "[" in crs and not crs.lstrip().startswith("{"):  # WKT (not PROJJSON): no re-parse
        return crs
    return crs_wkt(crs if isinstance(crs, pyproj.CRS) else to_crs(crs))


def _is_lonlat_degrees(crs: pyproj.CRS) -> bool:
    """Geographic with degree axes: ``always_xy`` input is lon/lat and longitudes may wrap."""
    if not crs.is_geographic:
        return False
    try:
        return all(abs((a.unit_conversion_factor or 0.0) - math.pi / 180) < 1e-14 for a in crs.axis_info[:2])
    except Exception:  # pragma: no cover - exotic axes
        return False


def _lonlat_on_ellipsoid(crs: pyproj.CRS) -> pyproj.CRS | None:
    """Longitude/latitude in degrees on ``crs``'s ellipsoid, Greenwich prime meridian (the CRS in
    which PROJ projects an operation's area of use to a box of ``crs``)."""
    ell = crs.ellipsoid
    if ell is None:
        return None
    if ell.inverse_flattening:
        shape = f"+a={ell.semi_major_metre!r} +rf={ell.inverse_flattening!r}"
    else:
        shape = f"+a={ell.semi_major_metre!r} +b={ell.semi_minor_metre!r}"
    try:
        return pyproj.CRS.from_proj4(f"+proj=longlat {shape} +no_defs +type=crs")
    except pyproj.exceptions.CRSError:  # pragma: no cover - defensive
        return None


def _area_box(lonlat_to_crs: pyproj.Transformer, w: float, s: float, e: float, n: float) -> tuple[float, ...] | None:
    """An area of use (degrees) as a box of the CRS: 21 points per edge, the box of those that
    transform; ``+-DBL_MAX`` for the whole world; None when no point transforms."""
    if (w, s, e, n) == (-180.0, -90.0, 180.0, 90.0):
        return (-_NO_LIMIT, -_NO_LIMIT, _NO_LIMIT, _NO_LIMIT)
    j = np.arange(_BOX_SAMPLES, dtype=np.float64)
    steps = _BOX_SAMPLES - 1
    lon = w + j * ((e - w) / steps)
    lat = s + j * ((n - s) / steps)
    xs = np.concatenate([lon, lon, np.full(_BOX_SAMPLES, w), np.full(_BOX_SAMPLES, e)])
    ys = np.concatenate([np.full(_BOX_SAMPLES, s), np.full(_BOX_SAMPLES, n), lat, lat])
    bx, by = lonlat_to_crs.transform(xs, ys, errcheck=False)
    bx = np.asarray(bx, dtype=np.float64)
    by = np.asarray(by, dtype=np.float64)
    ok = np.isfinite(bx) & np.isfinite(by)
    if not ok.any():
        return None
    return (float(bx[ok].min()), float(by[ok].min()), float(bx[ok].max()), float(by[ok].max()))


def _edges(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The distinct finite x and y edges of ``(n, 4)`` boxes, sorted, and ``EDGE_RTOL`` times
    the largest finite box coordinate."""
    finite = np.abs(boxes) < _NO_LIMIT
    xe = boxes[:, [0, 2]][finite[:, [0, 2]]]
    ye = boxes[:, [1, 3]][finite[:, [1, 3]]]
    big = np.abs(boxes[finite])
    return np.unique(xe), np.unique(ye), EDGE_RTOL * float(big.max()) if big.size else 0.0


def _near_any(v: np.ndarray, edges: np.ndarray, pad: float) -> np.ndarray:
    """Whether an edge lies in ``[v - pad, v + pad]`` (NaN: False)."""
    if not edges.size:
        return np.zeros(v.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.searchsorted(edges, v - pad, side="left") != np.searchsorted(edges, v + pad, side="right")


@dataclass(frozen=True)
class _Candidates:
    """PROJ's candidate operations of a CRS pair, in PROJ's order, as PROJ ranks them per point.

    One row per (operation, box): an operation whose area of use crosses the antimeridian has
    two boxes. ``src``/``dst``: ``(n, 4)`` boxes ``(minx, miny, maxx, maxy)`` in the source /
    destination CRS; ``op``: the index of each row's transformer in ``transformers``.
    """

    transformers: tuple[pyproj.Transformer, ...]
    op: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    accuracy: np.ndarray
    pseudo_area: np.ndarray
    offshore: np.ndarray
    unknown_area: np.ndarray
    priority: np.ndarray
    src_lonlat: bool
    dst_lonlat: bool
    #: per direction (forward: source boxes, inverse: destination boxes): the sorted x edges,
    #: the sorted y edges and the widening of the largest box coordinate
    edges: tuple[tuple[np.ndarray, np.ndarray, float], tuple[np.ndarray, np.ndarray, float]]

    @staticmethod
    def build(s: pyproj.CRS, d: pyproj.CRS, aoi: AOI | None) -> _Candidates | None:
        """The candidates, or None when there are fewer than two (PROJ's choice is then fixed)."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "best transformation is not available" (missing grids)
                group = TransformerGroup(s, d, always_xy=True, allow_ballpark=True,
                                         area_of_interest=AreaOfInterest(*aoi) if aoi else None)
        except pyproj.exceptions.ProjError:  # pragma: no cover - from_crs succeeded for the same pair
            return None
        ops = list(group.transformers)
        if len(ops) < 2:
            return None
        s_geog, d_geog = _lonlat_on_ellipsoid(s), _lonlat_on_ellipsoid(d)
        if s_geog is None or d_geog is None:
            return None
        to_src = pyproj.Transformer.from_crs(s_geog, s, always_xy=True)
        to_dst = pyproj.Transformer.from_crs(d_geog, d, always_xy=True)
        rows: list[tuple[int, tuple[float, ...], tuple[float, ...], float, float, bool, bool, bool]] = []
        for k, t in enumerate(ops):
            a = t.area_of_use
            w, so, e, n = (-180.0, -90.0, 180.0, 90.0) if a is None else (a.west, a.south, a.east, a.north)
            name = "" if a is None else (a.name or "")
            parts = [(w, so, e, n)] if w <= e else [(w, so, 180.0, n), (-180.0, so, e, n)]
            priority = any(p in (t.description or "") for p in _PRIORITY_OPERATIONS)
            for pw, ps, pe, pn in parts:
                # the part's area on the unit sphere: the smaller one wins a tie of accuracies
                area = (math.radians(pe) - math.radians(pw)) * (math.sin(math.radians(pn)) - math.sin(math.radians(ps)))
                bs = _area_box(to_src, pw, ps, pe, pn)
                bd = _area_box(to_dst, pw, ps, pe, pn)
                if bs is None or bd is None:
                    continue
                acc = t.accuracy if t.accuracy is not None else -1.0
                rows.append((k, bs, bd, float(acc), area, "- offshore" in name, name in ("", "unknown"), priority))
        if len(rows) < 2:
            return None
        src_boxes = np.array([r[1] for r in rows], dtype=np.float64)
        dst_boxes = np.array([r[2] for r in rows], dtype=np.float64)
        return _Candidates(
            edges=(_edges(src_boxes), _edges(dst_boxes)),
            transformers=tuple(ops),
            op=np.array([r[0] for r in rows], dtype=np.int64),
            src=src_boxes,
            dst=dst_boxes,
            accuracy=np.array([r[3] for r in rows], dtype=np.float64),
            pseudo_area=np.array([r[4] for r in rows], dtype=np.float64),
            offshore=np.array([r[5] for r in rows], dtype=bool),
            unknown_area=np.array([r[6] for r in rows], dtype=bool),
            priority=np.array([r[7] for r in rows], dtype=bool),
            src_lonlat=_is_lonlat_degrees(s),
            dst_lonlat=_is_lonlat_degrees(d),
        )

    def near_edges(self, x: np.ndarray, y: np.ndarray, *, forward: bool) -> np.ndarray:
        """Whether each point lies within ``EDGE_RTOL`` (of the largest box coordinate) of an
        edge of any box: only those points may be chosen differently with widened boxes."""
        x_edges, y_edges, pad = self.edges[0 if forward else 1]
        lonlat = self.src_lonlat if forward else self.dst_lonlat
        near = _near_any(y, y_edges, pad)
        near |= _near_any(x, x_edges, pad)
        if lonlat:
            with np.errstate(invalid="ignore"):
                near |= _near_any(np.where(x > 180.0, x - 360.0, np.where(x < -180.0, x + 360.0, x)), x_edges, pad)
        return near

    def choose(self, x: np.ndarray, y: np.ndarray, *, forward: bool, widen: float) -> np.ndarray:
        """PROJ's per-point choice: the row of the chosen candidate for each point, -1 when no
        box contains it. Boxes are widened by ``widen`` times their largest coordinate."""
        boxes = self.src if forward else self.dst
        lonlat = self.src_lonlat if forward else self.dst_lonlat
        wrapped = None
        if lonlat:
            with np.errstate(invalid="ignore"):
                wrapped = np.where(x > 180.0, x - 360.0, np.where(x < -180.0, x + 360.0, x))
                far = np.abs(wrapped) > 180.0
                if far.any():
                    wrapped = np.where(far, np.fmod(wrapped + 180.0, 360.0) - 180.0, wrapped)
        best = np.full(x.shape, -1, dtype=np.int64)
        best_acc = np.full(x.shape, _NO_LIMIT)
        for i in range(boxes.shape[0]):
            x0, y0, x1, y1 = boxes[i]
            finite = [abs(v) for v in (x0, y0, x1, y1) if abs(v) < _NO_LIMIT]
            pad = widen * max(finite, default=0.0)
            x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
            with np.errstate(invalid="ignore"):
                in_y = (y >= y0) & (y <= y1)
                inside = (x >= x0) & (x <= x1) & in_y
                if wrapped is not None:
                    inside |= in_y & (wrapped >= x0) & (wrapped <= x1)
            acc = self.accuracy[i]
            if self.offshore[i]:
                take = inside & (best < 0)
            else:
                ib = np.maximum(best, 0)
                better = (acc >= 0) & (acc < best_acc)
                smaller = ((acc == best_acc) & (self.pseudo_area[i] < self.pseudo_area[ib])
                           & ~(self.unknown_area[i] & ~self.unknown_area[ib]) & ~self.priority[ib])
                take = inside & ((best < 0) | better | smaller)
            best[take] = i
            best_acc[take] = acc
        return best


class CRSTransformer:
    """An ``always_xy`` transformer between two CRSs that chooses the operation per point like
    GDAL 3.10 (see the module docstring).

    Parameters
    ----------
    proj
        PROJ's transformer of the pair (``Transformer.from_crs`` within the area of interest).
    candidates
        The candidate operations when there are several, else None.

    Examples
    --------
    >>> tr = pyproj_transformer("EPSG:4326", "EPSG:3857")
    >>> [round(float(v), 2) for v in tr.transform(1.0, 0.0)]
    [111319.49, 0.0]
    >>> tr.candidate_count
    1
    >>> pyproj_transformer("EPSG:27700", "EPSG:4326").candidate_count > 1  # OSGB36 -> WGS 84: several
    True
    """

    __slots__ = ("proj", "_candidates", "_key")

    def __init__(self, proj: pyproj.Transformer, candidates: _Candidates | None = None,
                 key: tuple[str, str, AOI | None] | None = None) -> None:
        self.proj = proj
        self._candidates = candidates
        self._key = key

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled as the factory call that made it (the candidates' transformers do not pickle)
        if self._key is None:
            raise TypeError("only transformers made by pyproj_transformer can be pickled")
        return (pyproj_transformer, self._key)

    @property
    def source_crs(self) -> pyproj.CRS | None:
        return self.proj.source_crs

    @property
    def target_crs(self) -> pyproj.CRS | None:
        return self.proj.target_crs

    @property
    def candidate_count(self) -> int:
        """How many operations PROJ may choose from (1: the same one for every point)."""
        return 1 if self._candidates is None else len(self._candidates.transformers)

    def transform(self, xx: Any, yy: Any, *, errcheck: bool = False,
                  direction: TransformDirection | str = TransformDirection.FORWARD) -> tuple[Any, Any]:
        """Transform coordinates (scalars or arrays), like ``pyproj.Transformer.transform``.

        ``direction=TransformDirection.INVERSE`` maps target -> source. Failed points are inf
        (``errcheck=True``: pyproj raises instead).

        Examples
        --------
        >>> tr = pyproj_transformer("EPSG:3857", "EPSG:4326")
        >>> x, y = tr.transform(np.array([0.0, 111319.49079327357]), np.array([0.0, 0.0]))
        >>> np.round(x, 9).tolist(), np.round(y, 9).tolist()
        ([0.0, 1.0], [0.0, 0.0])
        """
        direction = TransformDirection.create(direction)
        ox, oy = self.proj.transform(xx, yy, errcheck=errcheck, direction=direction)
        c = self._candidates
        if c is None:
            return ox, oy
        scalar = np.ndim(ox) == 0
        fx = np.asarray(xx, dtype=np.float64).ravel()
        fy = np.asarray(yy, dtype=np.float64).ravel()
        if fx.size != np.size(ox) or fy.size != fx.size:  # pragma: no cover - pyproj broadcast rules
            return ox, oy
        forward = direction is TransformDirection.FORWARD
        near = np.flatnonzero(c.near_edges(fx, fy, forward=forward))
        if not near.size:  # the usual case: no point within EDGE_RTOL of any box edge
            return ox, oy
        sx, sy = fx[near], fy[near]
        widened = c.choose(sx, sy, forward=forward, widen=EDGE_RTOL)
        moved = (widened >= 0) & (widened != c.choose(sx, sy, forward=forward, widen=0.0))
        if not moved.any():
            return ox, oy
        rx = np.array(ox, dtype=np.float64, copy=True).reshape(-1)
        ry = np.array(oy, dtype=np.float64, copy=True).reshape(-1)
        ops = c.op[widened]
        for k in np.unique(ops[moved]):
            sel = np.flatnonzero(moved & (ops == k))
            tx, ty = c.transformers[int(k)].transform(sx[sel], sy[sel], errcheck=False, direction=direction)
            tx = np.asarray(tx, dtype=np.float64)
            ty = np.asarray(ty, dtype=np.float64)
            good = np.isfinite(tx) & np.isfinite(ty)  # PROJ retries another operation when one fails
            rx[near[sel[good]]] = tx[good]
            ry[near[sel[good]]] = ty[good]
        if scalar:
            return float(rx[0]), float(ry[0])
        shape = np.shape(ox)
        return rx.reshape(shape), ry.reshape(shape)


def pyproj_transformer(src: CRSLike | pyproj.CRS, dst: CRSLike | pyproj.CRS,
                       aoi: AOI | None = None) -> CRSTransformer:
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
    CRSTransformer
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
    with _CACHE_LOCK:
        tr = _CACHE.pop(key, None)
        if tr is not None:
            _CACHE[key] = tr  # now the most recently used
            return tr
    s = pyproj.CRS.from_wkt(src_wkt)
    d = pyproj.CRS.from_wkt(dst_wkt)
    if aoi is not None and _inside(aoi, _one_operation_area(src_wkt, dst_wkt, s, d)):
        # PROJ has one operation for the pair and the area of interest lies in its area of use:
        # every such area selects that operation, so all share the transformer made without one
        tr = pyproj_transformer(src_wkt, dst_wkt, None)
    else:
        try:
            proj = pyproj.Transformer.from_crs(s, d, always_xy=True,
                                               area_of_interest=AreaOfInterest(*aoi) if aoi else None)
        except pyproj.exceptions.ProjError as exc:
            raise CRSError(f"cannot transform from {s.name!r} to {d.name!r}: {exc}") from None
        tr = CRSTransformer(proj, None if _one_operation(proj) else _Candidates.build(s, d, aoi), key)
    with _CACHE_LOCK:
        while len(_CACHE) >= _TRANSFORMERS_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        return _CACHE.setdefault(key, tr)


def _one_operation_area(src_wkt: str, dst_wkt: str, s: pyproj.CRS,
                        d: pyproj.CRS) -> tuple[float, float, float, float] | None:
    """``(west, south, east, north)`` of the area of use of the pair's only operation (the whole
    world when it has none), or None when PROJ knows several operations (or some it cannot
    use here for want of a grid) or the area crosses the antimeridian; once per pair."""
    pair = (src_wkt, dst_wkt)
    if pair in _ONE_OPERATION_AREA:
        return _ONE_OPERATION_AREA[pair]
    area: tuple[float, float, float, float] | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "best transformation is not available" (missing grids)
            group = TransformerGroup(s, d, always_xy=True, allow_ballpark=True)
    except pyproj.exceptions.ProjError:
        group = None
    if group is not None and len(group.transformers) == 1 and not group.unavailable_operations:
        a = group.transformers[0].area_of_use
        box = (-180.0, -90.0, 180.0, 90.0) if a is None else (a.west, a.south, a.east, a.north)
        area = box if box[0] <= box[2] else None
    with _CACHE_LOCK:
        if len(_ONE_OPERATION_AREA) >= _CACHE_MAX:
            _ONE_OPERATION_AREA.pop(next(iter(_ONE_OPERATION_AREA)))
        _ONE_OPERATION_AREA[pair] = area
    return area


def _one_operation(proj: pyproj.Transformer) -> bool:
    """Whether PROJ made ``proj`` from one operation: it chooses among alternatives per point
    only in a transformer of PROJ's "unknown" type (its candidates are not needed otherwise, and
    finding them costs a second search, ~16 ms for EPSG:3035 -> EPSG:4326)."""
    # pyproj names the type in its repr only; without it, look the candidates up as before
    type_name = getattr(getattr(proj, "_transformer", None), "type_name", None)
    return type_name is not None and type_name != "Unknown Transformer"


def _inside(aoi: AOI, area: tuple[float, float, float, float] | None) -> bool:
    """Whether the area of interest lies within ``area`` (None: no area, False)."""
    return area is not None and area[0] <= aoi[0] and aoi[2] <= area[2] and area[1] <= aoi[1] and aoi[3] <= area[3]


def _geodetic(crs: pyproj.CRS) -> pyproj.CRS | None:
    try:
        return crs.geodetic_crs
    except Exception:  # pragma: no cover - pyproj raises for exotic CRSs
        return None


def geodetic_crs(crs: pyproj.CRS) -> pyproj.CRS | None:
    """The geodetic (geographic) CRS underlying ``crs``, or None when it has none (remembered per
    CRS object: pyproj builds a new one, about 0.2 ms, each time it is asked)."""
    return _by_crs(_GEODETIC_BY_CRS, crs, _geodetic)


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
