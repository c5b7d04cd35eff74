"""Which source overview GDAL's warper reads from (``gdalwarp -ovr AUTO``).

When the output is coarser than the source, ``gdalwarp`` (GDAL 3.10
``GDALWarp``, the per-source overview block) warps from an overview level
instead of the full-resolution image. This module reproduces that choice as a
pure function, so the Raster API can read ~1/256 of the pixels of a COG for a
1/16-resolution request and still match GDAL pixel for pixel.

The rule (``apps/gdalwarp_lib.cpp``):

1. Target ratio = source pixels per destination pixel.

   * When the output grid was fixed by the caller (``-te`` together with ``-tr`` or
     ``-ts``, or an existing destination), a 10 x 10 grid of destination
     pixel-corner points spanning the whole output is transformed to source
     pixels; ``ratio = min(src_x_span / dst_width, src_y_span / dst_height)``.
   * Otherwise, ``1 / res`` where ``res`` is the ``GDALSuggestedWarpOutput``
     resolution of the source expressed in *destination pixels*.

2. Nothing happens unless ``ratio > 1`` and the source has overviews.
3. With ``r(i) = src_width / overview_width(i)`` (x sizes only), the level with the
   largest ``r(i) < ratio * GDALWARP_OVERSAMPLING_THRESHOLD + 0.1`` (threshold 1.0 by
   default); full resolution when no level qualifies. (Verified against gdalwarp
   3.10.3's own choice; later GDAL versions walk the levels slightly differently.)
4. ``-ovr AUTO-n`` moves ``n`` levels towards full resolution; ``-ovr NONE`` (or
   ``"NONE"`` here) never uses overviews; ``-ovr k`` uses level ``k`` (the last
   level when ``k`` does not exist).

rasterio's ``reproject`` never uses overviews; ``WarpedVRT`` neither.

Examples
--------
>>> from affine import Affine
>>> from raster_core.grid import GeoBox
>>> src_tf = Affine(10, 0, 0, 0, -10, 16000)
>>> dst = GeoBox("EPSG:32633", Affine(160, 0, 0, 0, -160, 16000), 100, 100)
>>> choose_overview_level(src_tf, (1600, 1600), [2, 4, 8, 16], dst, "EPSG:32633")
3
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from affine import Affine

from raster_core.crs import CRSLike, TransformLike, to_affine, to_crs
from raster_core.errors import InvalidParameterError, TransformError
from raster_core.grid import GeoBox, SourceGrid, _positive_int, _suggested_warp_output

__all__ = ["choose_overview_level", "target_ratio", "overview_shapes_from_factors", "overview_transform"]

OverviewSpec = int | Sequence[int]


def overview_shapes_from_factors(src_shape: Sequence[int], factors: Sequence[int]) -> list[tuple[int, int]]:
    """Overview ``(rows, cols)`` for decimation ``factors``, as GDAL builds them (``ceil(size / f)``).

    Examples
    --------
    >>> overview_shapes_from_factors((2667, 2658), [2, 4])
    [(1334, 1329), (667, 665)]
    """
    h, w = (_positive_int(v, "src_shape") for v in src_shape)
    out = []
    for f in factors:
        f = _positive_int(f, "overview factor")
        out.append(((h + f - 1) // f, (w + f - 1) // f))
    return out


def overview_transform(src_transform: TransformLike, src_shape: Sequence[int], ovr_shape: Sequence[int]) -> Affine:
    """Geotransform of an overview level (GDAL scales the pixel size by ``size / ovr_size`` per axis).

    Examples
    --------
    >>> overview_transform(Affine(10, 0, 0, 0, -10, 100), (10, 10), (5, 5))
    Affine(20.0, 0.0, 0.0,
           0.0, -20.0, 100.0)
    """
    t = to_affine(src_transform)
    h, w = src_shape
    oh, ow = ovr_shape
    rx = w / ow
    ry = h / oh
    return Affine(t.a * rx, t.b * ry, t.c, t.d * rx, t.e * ry, t.f)


def _normalize_overviews(src_shape: tuple[int, int], overviews: Sequence[Any]) -> list[tuple[int, int]]:
    shapes: list[tuple[int, int]] = []
    for ov in overviews:
        if isinstance(ov, (int, np.integer)) and not isinstance(ov, bool):
            shapes.extend(overview_shapes_from_factors(src_shape, [int(ov)]))
        else:
            try:
                oh, ow = ov
            except (TypeError, ValueError):
                raise InvalidParameterError(f"overview must be a factor or a (rows, cols) shape, got {ov!r}") from None
            shapes.append((_positive_int(oh, "overview rows"), _positive_int(ow, "overview cols")))
    return shapes


def target_ratio(
    src_transform: TransformLike,
    src_shape: Sequence[int],
    dst_geobox: GeoBox,
    src_crs: CRSLike,
    *,
    explicit_grid: bool = True,
    gcps: Sequence[Any] | None = None,
) -> float:
    """Source pixels per destination pixel, as gdalwarp computes it for ``-ovr AUTO``.

    Parameters
    ----------
    src_transform, src_shape, src_crs
        Full-resolution source grid; ``src_shape`` is ``(rows, cols)``.
    dst_geobox : GeoBox
        Output grid.
    explicit_grid : bool, default True
        True when the caller fixed the output extent *and* its resolution or size
        (gdalwarp ``-te`` with ``-tr``/``-ts``; the Raster API with ``bounds`` and
        ``resolution``/``dimensions``, or a DLTile): the 10 x 10 corresponding-window
        rule. False: the suggested-output rule (gdalwarp with only ``-t_srs``/``-tr``).
    gcps : sequence of GCPs, optional
        For a GCP-georeferenced source (then ``src_crs`` is the GCPs' CRS and
        ``src_transform`` is ignored).

    Returns
    -------
    float (0.0 when it cannot be computed, meaning "no overview").
    """
    src = to_crs(src_crs, name="src_crs")
    h, w = (_positive_int(v, "src_shape") for v in src_shape)
    grid = SourceGrid(src, to_affine(src_transform, name="src_transform"), w, h,
                      gcps=None if gcps is None else tuple(gcps))
    tr = grid._gen_img_proj(dst_geobox.crs, dst_gt=dst_geobox.geotransform)
    if explicit_grid:
        n = 10
        dw, dh = dst_geobox.width, dst_geobox.height
        ix, iy = np.meshgrid(np.arange(n, dtype=np.float64), np.arange(n, dtype=np.float64), indexing="ij")
        px = dw * ix.ravel() / (n - 1)
        py = dh * iy.ravel() / (n - 1)
        sx, sy, ok = tr.inverse(px, py)
        if not ok.any():
            return 0.0
        sx, sy = sx[ok], sy[ok]
        rx = ry = 0.0
        if sx.max() > sx.min():
            rx = float(sx.max() - sx.min()) / dw
        if sy.max() > sy.min():
            ry = float(sy.max() - sy.min()) / dh
        return min(rx, ry)
    try:
        aff, _, _, _ = _suggested_warp_output(tr)
    except TransformError:
        return 0.0
    return 1.0 / aff.a


def choose_overview_level(
    src_transform: TransformLike,
    src_shape: Sequence[int],
    overviews: Sequence[Any],
    dst_geobox: GeoBox,
    src_crs: CRSLike,
    *,
    explicit_grid: bool = True,
    ovr: str | int = "AUTO",
    oversampling_threshold: float = 1.0,
    gcps: Sequence[Any] | None = None,
) -> int:
    """Index of the overview gdalwarp warps from (``-1`` = full resolution).

    Parameters
    ----------
    src_transform : Affine
        Full-resolution source transform.
    src_shape : (rows, cols)
        Full-resolution source size.
    overviews : sequence
        The source's overview levels, finest first, each a ``(rows, cols)`` shape or an
        integer decimation factor.
    dst_geobox : GeoBox
        Output grid.
    src_crs : CRS-like
    explicit_grid : bool, default True
        See :func:`target_ratio`.
    ovr : "AUTO", "AUTO-n", "NONE" or int, default "AUTO"
        gdalwarp's ``-ovr`` option.
    oversampling_threshold : float, default 1.0
        GDAL's ``GDALWARP_OVERSAMPLING_THRESHOLD`` configuration option.
    gcps : sequence of GCPs, optional
        For a GCP-georeferenced source, see :func:`target_ratio`.

    Returns
    -------
    int
        ``-1`` for the full-resolution image, else the overview index.

    Examples
    --------
    >>> from raster_core.grid import GeoBox
    >>> tf = Affine(10, 0, 0, 0, -10, 16000)
    >>> dst = GeoBox("EPSG:32633", Affine(35, 0, 0, 0, -35, 16000), 457, 457)
    >>> choose_overview_level(tf, (1600, 1600), [2, 4, 8], dst, "EPSG:32633")
    0
    >>> choose_overview_level(tf, (1600, 1600), [2, 4, 8], dst, "EPSG:32633", ovr="NONE")
    -1
    """
    h, w = (_positive_int(v, "src_shape") for v in src_shape)
    shapes = _normalize_overviews((h, w), overviews)
    n_ovr = len(shapes)
    auto_shift = 0
    if isinstance(ovr, str):
        key = ovr.strip().upper()
        if key == "NONE":
            return -1
        if key == "AUTO":
            auto_shift = 0
        elif key.startswith("AUTO-"):
            try:
                auto_shift = int(key[5:])
            except ValueError:
                raise InvalidParameterError(f"invalid ovr {ovr!r}: expected AUTO, AUTO-n, NONE or a level") from None
            if auto_shift < 0:
                raise InvalidParameterError(f"invalid ovr {ovr!r}")
        else:
            raise InvalidParameterError(f"invalid ovr {ovr!r}: expected AUTO, AUTO-n, NONE or a level")
    else:
        if isinstance(ovr, bool) or int(ovr) != ovr or ovr < 0:
            raise InvalidParameterError(f"invalid ovr {ovr!r}: expected AUTO, AUTO-n, NONE or a level >= 0")
        level = int(ovr)
        if level < n_ovr:
            return level
        return n_ovr - 1 if n_ovr > 0 else -1
    if n_ovr == 0:
        return -1
    ratio = target_ratio(src_transform, (h, w), dst_geobox, src_crs, explicit_grid=explicit_grid, gcps=gcps)
    if not ratio > 1.0:
        return -1
    # GDAL 3.10: the coarsest level whose decimation is below target * threshold + 0.1
    # (GDALWARP_OVERSAMPLING_THRESHOLD, default 1.0)
    i = -1
    limit = ratio * oversampling_threshold + 0.1
    for k, (_, ow) in enumerate(shapes):
        r = w / ow
        if r < limit and (i < 0 or r > w / shapes[i][1]):
            i = k
    i -= auto_shift
    return i if i >= 0 else -1
