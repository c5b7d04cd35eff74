"""Interpolating warp kernels: near, bilinear, cubic, cubicspline, lanczos (GDAL 3.10 rules).

Per-pixel kernels (``_loop_*``), one per branch of GDAL's dispatch (:func:`pixel_kind`), each
processing the pixels flagged in ``OK`` of a block of destination rows whose source pixel
coordinates (full-raster, continuous, GDAL convention) are given, and writing the results into
``dest`` (:class:`DestArgs`: row ``r`` of the block is ``dest.dst[:, dest.row0 + r, :]``) with GDAL's
rounding, clamping, density blending and dst-nodata collision rules; the row driver of
:mod:`raster_core._kernels.rows` calls them for the pixels its staged kernels leave, and
:func:`warp_interp_block` runs one on a whole block (the reference in tests). See
raster_core/warp.py.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numba
import numpy as np
from numba.extending import register_jitable

from raster_core._kernels import CACHE
from raster_core._kernels._generated import njit_variant
from raster_core._kernels.args import DestArgs, KernelArgs, SourceArgs, StoreArgs
from raster_core.resampling import METHOD_CODES

# method codes (defined once, in raster_core.resampling)
NEAR = METHOD_CODES["near"]
BILINEAR = METHOD_CODES["bilinear"]
CUBIC = METHOD_CODES["cubic"]
CUBICSPLINE = METHOD_CODES["cubicspline"]
LANCZOS = METHOD_CODES["lanczos"]

WORK_FLOAT64 = 0
WORK_FLOAT32 = 1
WORK_INT = 2

# the per-pixel kernels (GDAL's dispatch, chosen by pixel_kind)
P_NONE = -1  # none needed (the staged nearest kernel does every pixel inside the window)
P_NEAR = 0  # _loop_near
P_BILINEAR4 = 1  # _loop_4sample, bilinear
P_CUBIC16 = 2  # _loop_4sample, 4x4 cubic with GDAL's bilinear fallback
P_SEPARABLE = 3  # _separable_kernel
P_NEAR_DIRECT = 4  # warp_near_direct

_MAXTAPS = 4096


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _cubic_kernel(x):
    ax = abs(x)
    if ax <= 1.0:
        return x * x * (1.5 * ax - 2.5) + 1.0
    if ax <= 2.0:
        return x * x * (-0.5 * ax + 2.5) - 4.0 * ax + 2.0
    return 0.0


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _bspline_kernel(x):
    # GDAL's GWKBSpline, literally (x6, and -(x-2)^3 for x > 2: GDAL evaluates it so)
    xp2 = x + 2.0
    xp1 = x + 1.0
    xm1 = x - 1.0
    if xp2 <= 0.0:
        return 0.0
    r = xp2 * xp2 * xp2
    if xp1 > 0.0:
        r2 = -4.0 * xp1 * xp1 * xp1
        if x > 0.0:
            r3 = 6.0 * x * x * x
            if xm1 > 0.0:
                r3 += -4.0 * xm1 * xm1 * xm1
            r2 += r3
        r += r2
    return r


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _lanczos3(x):
    if x == 0.0:
        return 1.0
    if x <= -3.0 or x >= 3.0:
        return 0.0
    px = math.pi * x
    return 3.0 * math.sin(px) * math.sin(px / 3.0) / (px * px)


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _kernel(method, x):
    if method == BILINEAR:
        ax = abs(x)
        return 1.0 - ax if ax < 1.0 else 0.0
    if method == CUBIC:
        return _cubic_kernel(x)
    if method == CUBICSPLINE:
        return _bspline_kernel(x)
    return _lanczos3(x)


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _convert(v, rho, cur, rhod, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide):
    """GWKSetPixelValue on scalars: blend (density < 0.9999) with the current destination value
    ``cur`` (weight ``rhod``), round/clamp to the working type, apply the dst-nodata collision
    rule, convert to the destination type (GDALCopyWords). Returns the value to store.

    Only scalars: calling helpers with array arguments in hot loops costs NRT refcounting."""
    if rho < 0.9999:
        infl = (1.0 - rho) * rhod
        v = (v * rho + cur * infl) / (rho + infl)
    if work_kind == WORK_INT:
        if v < wmin:
            w = wmin
        elif v > wmax:
            w = wmax
        elif v != v:
            w = 0.0
        else:
            w = np.floor(v + 0.5)
        if collide and w == dst_nodata:
            if w == wmin:
                w = wmin + 1.0
            else:
                w = w - 1.0
        if dst_is_int:
            if w < dmin:
                w = dmin
            elif w > dmax:
                w = dmax
        return w
    if work_kind == WORK_FLOAT32:
        v = float(np.float32(v))
    if dst_is_int:
        # GDALCopyWords: NaN -> 0, clamp, round half away from zero
        if v != v:
            v = 0.0
        elif v <= dmin:
            v = dmin
        elif v >= dmax:
            v = dmax
        elif v > 0:
            v = np.floor(v + 0.5)
        else:
            v = np.ceil(v - 0.5)
    return v


@register_jitable
def first_taps(method, fast_path, xradius, yradius):
    """Offsets (initx, inity) of the first horizontal/vertical taps of the separable kernels
    relative to floor(x - 0.5): GDAL's fast path starts at 1 - radius, the general path at
    ((R + 1) % 2) - radius with R the kernel's own radius (bilinear 1, cubic(spline) 2,
    lanczos 3)."""
    if fast_path:
        return 1 - xradius, 1 - yradius
    R = 1
    if method == CUBIC or method == CUBICSPLINE:
        R = 2
    elif method == LANCZOS:
        R = 3
    return ((R + 1) % 2) - xradius, ((R + 1) % 2) - yradius


@register_jitable
def kernel_taps(kernel):
    """``(method, xradius, yradius, fast_path, sx, sy, initx, inity)`` of a :class:`KernelArgs`:
    the scales capped at 1 (the kernel's stretch when downsampling) and GDAL's first taps."""
    sx = kernel.xscale if kernel.xscale < 1.0 else 1.0
    sy = kernel.yscale if kernel.yscale < 1.0 else 1.0
    initx, inity = first_taps(kernel.method, kernel.fast_path, kernel.xradius, kernel.yradius)
    return kernel.method, kernel.xradius, kernel.yradius, kernel.fast_path, sx, sy, initx, inity


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _store_value(v, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide):
    """``_convert(v, 1.0, ...)`` (density 1: no blending) written with selects instead of
    branches, so that the conversion loops vectorise; identical results
    (tests/test_warp_rows.py checks every value class against ``_convert``)."""
    if work_kind == WORK_INT:
        w = np.floor(min(max(v, wmin), wmax) + 0.5)
        w = 0.0 if v != v else w
        if collide:
            w = (wmin + 1.0 if w == wmin else w - 1.0) if w == dst_nodata else w
        if dst_is_int:
            w = min(max(w, dmin), dmax)
        return w
    if work_kind == WORK_FLOAT32:
        v = float(np.float32(v))
    if dst_is_int:
        r = np.floor(v + 0.5) if v > 0 else np.ceil(v - 0.5)
        r = dmax if v >= dmax else r
        r = dmin if v <= dmin else r
        v = 0.0 if v != v else r
    return v


@register_jitable
def lanczos_taps(lo, hi, d, s):
    """The taps ``lo .. hi`` (offsets from a pixel's first tap position, at fraction ``d``, scale
    ``s``) trimmed to those where the Lanczos-3 kernel can be non-zero, ``|(i - d) * s| < 3`` at
    the ends (GDAL's trimming; lo > hi when none is left)."""
    while lo <= hi and (lo - d) * s < -3.0:
        lo += 1
    while hi >= lo and (hi - d) * s > 3.0:
        hi -= 1
    return lo, hi


#: GDAL's downsampling Lanczos weights are 3 pi^2 sin(pi x) sin(pi x / 3) / x^2, pi^4 times the
#: Lanczos-3 function; the weight of a tap at x = 0 is pi^4 on that scale (GDAL 3.10 gives it 1.0, see
#: warp.GDAL_DEVIATIONS), and 3 pi^2 is GDAL's constant, computed as it does
_THREE_PI_PI = 3.0 * math.pi * math.pi
_PI4 = math.pi ** 4


@register_jitable
def lanczos_up_numerators(d):
    """GDAL's Lanczos weights at kernel scale >= 1 for a pixel at fraction ``d``: the tap at offset
    ``k`` (from floor(x - 0.5)) has weight c[(k + 3) % 3] / (k - d)^2 (1.0 at k == d); returns c,
    computed in GDAL's order (one sine and one square root per pixel and axis)."""
    s3 = math.sin((-math.pi / 3.0) * d)
    s3sq = s3 * s3
    c3 = math.sqrt(1.0 - s3sq)
    a = (3.0 / (math.pi * math.pi)) * ((3.0 - 4.0 * s3sq) * s3)
    m = -0.5 * a * s3
    q = 0.8660254037844386 * a * c3
    return a * s3, m - q, m + q


@register_jitable
def lanczos_up_weight(k, d, c0, c1, c2):
    """The weight of the tap at offset ``k`` (see :func:`lanczos_up_numerators`)."""
    x = float(k) - d
    m = (k + 3) % 3
    c = c0 if m == 0 else (c1 if m == 1 else c2)
    return 1.0 if x == 0.0 else c / (x * x)


@register_jitable
def lanczos_down_steps(s):
    """cos, sin of pi s / 3 and of pi s: the step of GDAL's sine recurrence at kernel scale ``s`` < 1
    (the sine of pi s / 3 and the triple angle from the cosine, as GDAL computes them)."""
    co3 = math.cos((math.pi / 3.0) * s)
    so3 = math.sqrt(1.0 - co3 * co3)
    cs = (4.0 * co3 * co3 - 3.0) * co3
    return co3, so3, cs, math.sqrt(1.0 - cs * cs)


@register_jitable
def lanczos_down_start(x):
    """(sin pi x, cos pi x, sin pi x / 3, cos pi x / 3) at the first tap ``x`` = (lo - d) * s, the
    triple angles from the third (two libm calls per pixel and axis)."""
    a = (math.pi / 3.0) * x
    c3 = math.cos(a)
    s3 = math.sin(a)
    return (3.0 - 4.0 * s3 * s3) * s3, (4.0 * c3 * c3 - 3.0) * c3, s3, c3


@register_jitable
def lanczos_down_advance(sn, cs, s3, c3, co3, so3, cS, sS):
    """The recurrence's state one tap on (x + s), by angle addition, in GDAL's arithmetic."""
    return sn * cS + cs * sS, cs * cS - sn * sS, s3 * co3 + c3 * so3, c3 * co3 - s3 * so3


@register_jitable
def lanczos_down_weight(x, sn, s3):
    """GDAL's weight 3 pi^2 sin(pi x) sin(pi x / 3) / x^2; near x = 0 (a tap on a source centre, where
    GDAL's recurrence divides rounding noise by x^2) the true weight on the same scale, pi^4."""
    return _PI4 if abs(x) < 1e-9 else _THREE_PI_PI * sn * s3 / (x * x)


@register_jitable
def _centre_pixel(Xf, Yf, xoff, yoff, W, H):
    """Window indices (isx, isy) of the source pixel holding the point (Xf, Yf) of the window
    (GDAL's centre pixel: truncation with a 1e-10 nudge, clamped to the last row and column)."""
    isx = int(Xf + 1e-10) - xoff
    isy = int(Yf + 1e-10) - yoff
    if isx >= W:
        isx = W - 1
    if isy >= H:
        isy = H - 1
    return isx, isy


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _loop_near(source, X, Y, OK, dest, store):
    """Nearest neighbour, with masks, densities and GDAL's write rules (§2.1)."""
    src, valid, has_valid, dens, has_dens, xoff, yoff, r0, c0, H, W, runs, has_runs = source
    dst, drow0, dst_valid, has_dst_valid, produced = dest
    work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide = store
    nb = src.shape[0]
    fW = float(W)
    fH = float(H)
    for r in range(X.shape[0]):
        dr = drow0 + r  # the destination row (dest.dst holds rows from dest.row0)
        for c in range(X.shape[1]):
            if not OK[r, c]:
                continue
            Xf = X[r, c]
            Yf = Y[r, c]
            if not (Xf >= xoff and Yf >= yoff and Xf + 1e-10 <= xoff + fW and Yf + 1e-10 <= yoff + fH):
                continue  # also rejects NaN
            isx, isy = _centre_pixel(Xf, Yf, xoff, yoff, W, H)
            if has_valid and valid[isy, isx] == 0:
                continue
            cdens = 1.0
            if has_dens:
                cdens = float(dens[isy, isx])
                if cdens < 1e-9:
                    continue
            produced[r, c] = 1
            if cdens < 1e-4:
                continue
            rhod = 1.0
            if has_dst_valid and dst_valid[r, c] == 0:
                rhod = 0.0
            for b in range(nb):
                cur = float(dst[b, dr, c]) if cdens < 0.9999 else 0.0
                dst[b, dr, c] = _convert(float(src[b, r0 + isy, c0 + isx]), cdens, cur, rhod, work_kind, wmin,
                                        wmax, dst_is_int, dmin, dmax, dst_nodata, collide)
    return 0


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _loop_4sample(source, X, Y, OK, cubic, fast_path, dest, store):
    """Bilinear 4-sample, or cubic 4x4 with GDAL's bilinear fallback (§2.2, §2.3 case A).

    Per-band sums are scalars (no accumulator arrays: those defeat LLVM's register allocation)."""
    src, valid, has_valid, dens, has_dens, xoff, yoff, r0, c0, H, W, runs, has_runs = source
    dst, drow0, dst_valid, has_dst_valid, produced = dest
    work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide = store
    nb = src.shape[0]
    fW = float(W)
    fH = float(H)
    masked = has_valid or has_dens
    for r in range(X.shape[0]):
        dr = drow0 + r  # the destination row (dest.dst holds rows from dest.row0)
        for c in range(X.shape[1]):
            if not OK[r, c]:
                continue
            Xf = X[r, c]
            Yf = Y[r, c]
            if not (Xf >= xoff and Yf >= yoff and Xf + 1e-10 <= xoff + fW and Yf + 1e-10 <= yoff + fH):
                continue  # also rejects NaN
            dx = Xf - xoff
            dy = Yf - yoff
            if masked:  # centre-pixel rule
                isx, isy = _centre_pixel(Xf, Yf, xoff, yoff, W, H)
                if (has_valid and valid[isy, isx] == 0) or (has_dens and dens[isy, isx] < 1e-9):
                    continue
            if cubic:
                ix = int(dx - 0.5)
                iy = int(dy - 0.5)
                if ix - 1 >= 0 and ix + 2 < W and iy - 1 >= 0 and iy + 2 < H:
                    allok = True
                    if masked:
                        for j in range(4):
                            for i in range(4):
                                if ((has_valid and valid[iy - 1 + j, ix - 1 + i] == 0)
                                        or (has_dens and dens[iy - 1 + j, ix - 1 + i] < 1e-9)):
                                    allok = False
                    if allok:
                        d = dx - 0.5 - ix
                        e = dy - 0.5 - iy
                        h = 0.5 * d
                        cx0 = h * (-1.0 + d * (2.0 - d))
                        cx1 = 1.0 + h * d * (-5.0 + 3.0 * d)
                        cx2 = h * (1.0 + d * (4.0 - 3.0 * d))
                        cx3 = h * d * (-1.0 + d)
                        h = 0.5 * e
                        cy0 = h * (-1.0 + e * (2.0 - e))
                        cy1 = 1.0 + h * e * (-5.0 + 3.0 * e)
                        cy2 = h * (1.0 + e * (4.0 - 3.0 * e))
                        cy3 = h * e * (-1.0 + e)
                        rho = 1.0
                        if has_dens:
                            q0 = (cx0 * dens[iy - 1, ix - 1] + cx1 * dens[iy - 1, ix]
                                  + cx2 * dens[iy - 1, ix + 1] + cx3 * dens[iy - 1, ix + 2])
                            q1 = (cx0 * dens[iy, ix - 1] + cx1 * dens[iy, ix]
                                  + cx2 * dens[iy, ix + 1] + cx3 * dens[iy, ix + 2])
                            q2 = (cx0 * dens[iy + 1, ix - 1] + cx1 * dens[iy + 1, ix]
                                  + cx2 * dens[iy + 1, ix + 1] + cx3 * dens[iy + 1, ix + 2])
                            q3 = (cx0 * dens[iy + 2, ix - 1] + cx1 * dens[iy + 2, ix]
                                  + cx2 * dens[iy + 2, ix + 1] + cx3 * dens[iy + 2, ix + 2])
                            rho = cy0 * q0 + cy1 * q1 + cy2 * q2 + cy3 * q3
                        produced[r, c] = 1
                        if rho < 1e-4:
                            continue
                        rhod = 1.0
                        if has_dst_valid and dst_valid[r, c] == 0:
                            rhod = 0.0
                        sy0 = r0 + iy  # the taps' row and column in ``src``
                        sx0 = c0 + ix
                        for b in range(nb):
                            q0 = (cx0 * src[b, sy0 - 1, sx0 - 1] + cx1 * src[b, sy0 - 1, sx0]
                                  + cx2 * src[b, sy0 - 1, sx0 + 1] + cx3 * src[b, sy0 - 1, sx0 + 2])
                            q1 = (cx0 * src[b, sy0, sx0 - 1] + cx1 * src[b, sy0, sx0]
                                  + cx2 * src[b, sy0, sx0 + 1] + cx3 * src[b, sy0, sx0 + 2])
                            q2 = (cx0 * src[b, sy0 + 1, sx0 - 1] + cx1 * src[b, sy0 + 1, sx0]
                                  + cx2 * src[b, sy0 + 1, sx0 + 1] + cx3 * src[b, sy0 + 1, sx0 + 2])
                            q3 = (cx0 * src[b, sy0 + 2, sx0 - 1] + cx1 * src[b, sy0 + 2, sx0]
                                  + cx2 * src[b, sy0 + 2, sx0 + 1] + cx3 * src[b, sy0 + 2, sx0 + 2])
                            val = cy0 * q0 + cy1 * q1 + cy2 * q2 + cy3 * q3
                            cur = float(dst[b, dr, c]) if rho < 0.9999 else 0.0
                            dst[b, dr, c] = _convert(val, rho, cur, rhod, work_kind, wmin, wmax, dst_is_int, dmin,
                                                    dmax, dst_nodata, collide)
                        continue
            # 4-sample bilinear (§2.2)
            ix = int(math.floor(dx - 0.5))
            iy = int(math.floor(dy - 0.5))
            rx = 1.0 - (dx - 0.5 - ix)
            ry = 1.0 - (dy - 0.5 - iy)
            if not fast_path:
                if ix == -1:
                    ix = 0
                    rx = 1.0
                if iy == -1:
                    iy = 0
                    ry = 1.0
            x1 = ix + 1
            y1 = iy + 1
            okx0 = ix >= 0 and ix < W
            okx1 = x1 >= 0 and x1 < W
            oky0 = iy >= 0 and iy < H
            oky1 = y1 >= 0 and y1 < H
            ok0 = okx0 and oky0
            ok1 = okx1 and oky0
            ok2 = okx0 and oky1
            ok3 = okx1 and oky1
            if masked:
                if ok0 and ((has_valid and valid[iy, ix] == 0) or (has_dens and dens[iy, ix] < 1e-9)):
                    ok0 = False
                if ok1 and ((has_valid and valid[iy, x1] == 0) or (has_dens and dens[iy, x1] < 1e-9)):
                    ok1 = False
                if ok2 and ((has_valid and valid[y1, ix] == 0) or (has_dens and dens[y1, ix] < 1e-9)):
                    ok2 = False
                if ok3 and ((has_valid and valid[y1, x1] == 0) or (has_dens and dens[y1, x1] < 1e-9)):
                    ok3 = False
            m0 = rx * ry if ok0 else 0.0
            m1 = (1.0 - rx) * ry if ok1 else 0.0
            m2 = rx * (1.0 - ry) if ok2 else 0.0
            m3 = (1.0 - rx) * (1.0 - ry) if ok3 else 0.0
            div = m0 + m1 + m2 + m3
            if div < 1e-5:
                continue
            rho = 1.0
            if has_dens:
                dacc = 0.0
                if ok0:
                    dacc += dens[iy, ix] * m0
                if ok1:
                    dacc += dens[iy, x1] * m1
                if ok2:
                    dacc += dens[y1, ix] * m2
                if ok3:
                    dacc += dens[y1, x1] * m3
                rho = dacc / div
            produced[r, c] = 1
            if rho < 1e-4:
                continue
            rhod = 1.0
            if has_dst_valid and dst_valid[r, c] == 0:
                rhod = 0.0
            if ok0 and ok1 and ok2 and ok3:
                for b in range(nb):
                    if fast_path:
                        val = ((src[b, r0 + iy, c0 + ix] * m0 + src[b, r0 + iy, c0 + x1] * m1)
                               + (src[b, r0 + y1, c0 + ix] * m2 + src[b, r0 + y1, c0 + x1] * m3))
                    else:
                        # GDAL's general path adds the taps one by one (UL, UR, LL, LR)
                        val = (((src[b, r0 + iy, c0 + ix] * m0 + src[b, r0 + iy, c0 + x1] * m1)
                                + src[b, r0 + y1, c0 + ix] * m2) + src[b, r0 + y1, c0 + x1] * m3)
                    if div != 1.0:
                        val = val / div
                    cur = float(dst[b, dr, c]) if rho < 0.9999 else 0.0
                    dst[b, dr, c] = _convert(val, rho, cur, rhod, work_kind, wmin, wmax, dst_is_int, dmin, dmax,
                                            dst_nodata, collide)
            else:
                for b in range(nb):
                    val = 0.0
                    if ok0:
                        val += src[b, r0 + iy, c0 + ix] * m0
                    if ok1:
                        val += src[b, r0 + iy, c0 + x1] * m1
                    if ok2:
                        val += src[b, r0 + y1, c0 + ix] * m2
                    if ok3:
                        val += src[b, r0 + y1, c0 + x1] * m3
                    if div != 1.0:
                        val = val / div
                    cur = float(dst[b, dr, c]) if rho < 0.9999 else 0.0
                    dst[b, dr, c] = _convert(val, rho, cur, rhod, work_kind, wmin, wmax, dst_is_int, dmin, dmax,
                                            dst_nodata, collide)
    return 0


@functools.cache
def _separable_kernel(masked: int) -> Any:
    """The general separable per-pixel kernel (§2.4, §2.5, §2.6: bilinear/cubic downsampling,
    cubicspline, lanczos) ``(source, kernel, X, Y, OK, dest, store)``, generated for sources with
    (``masked=1``: a validity mask or densities) or without a mask, a compile-time constant: an
    unmasked warp does not compile the masked sums.

    Examples
    --------
    >>> _separable_kernel(0).py_func.__qualname__
    '_separable_kernel.loop_separable__0'
    """

    @njit_variant(masked)
    def loop_separable(source, kernel, X, Y, OK, dest, store):
        meth, xradius, yradius, fast_path, sx, sy, initx, inity = kernel_taps(kernel)
        src, valid, has_valid, dens, has_dens, xoff, yoff, r0, c0, H, W, runs, has_runs = source
        dst, drow0, dst_valid, has_dst_valid, produced = dest
        work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide = store
        nb = src.shape[0]
        fW = float(W)
        fH = float(H)
        lanczos = meth == LANCZOS
        wx = np.empty(2 * xradius + 2)
        wy = np.empty(2 * yradius + 2)
        steps_x = lanczos_down_steps(sx)
        steps_y = lanczos_down_steps(sy)
        for r in range(X.shape[0]):
            dr = drow0 + r  # the destination row (dest.dst holds rows from dest.row0)
            for c in range(X.shape[1]):
                if not OK[r, c]:
                    continue
                Xf = X[r, c]
                Yf = Y[r, c]
                if not (Xf >= xoff and Yf >= yoff and Xf + 1e-10 <= xoff + fW and Yf + 1e-10 <= yoff + fH):
                    continue  # also rejects NaN
                if masked == 1:  # centre-pixel rule
                    isx, isy = _centre_pixel(Xf, Yf, xoff, yoff, W, H)
                    if (has_valid and valid[isy, isx] == 0) or (has_dens and dens[isy, isx] < 1e-9):
                        continue
                dx = Xf - xoff
                dy = Yf - yoff
                i0 = int(math.floor(dx - 0.5))
                j0 = int(math.floor(dy - 0.5))
                d = dx - 0.5 - i0
                e = dy - 0.5 - j0
                imin = max(initx, -i0)
                imax = min(xradius, W - 1 - i0)
                jmin = max(inity, -j0)
                jmax = min(yradius, H - 1 - j0)
                if lanczos:
                    imin, imax = lanczos_taps(imin, imax, d, sx)
                    jmin, jmax = lanczos_taps(jmin, jmax, e, sy)
                if imin > imax or jmin > jmax:
                    continue
                nx = imax - imin + 1
                ny = jmax - jmin + 1
                if lanczos:
                    # GDAL's Lanczos weights (its arithmetic): at scale >= 1 three numerators per pixel over
                    # (k - d)^2; below 1 a sine recurrence along the taps, x advanced by s per tap
                    for axis in range(2):
                        if axis == 0:
                            n_ = nx
                            s_ = sx
                            k0 = imin
                            f_ = d
                        else:
                            n_ = ny
                            s_ = sy
                            k0 = jmin
                            f_ = e
                        if s_ < 1.0:
                            co3, so3, cS, sS = steps_x if axis == 0 else steps_y
                            xv = (k0 - f_) * s_
                            sn, cs, s3, c3 = lanczos_down_start(xv)
                            for i in range(n_):
                                if i > 0:
                                    xv += s_
                                    sn, cs, s3, c3 = lanczos_down_advance(sn, cs, s3, c3, co3, so3, cS, sS)
                                w = lanczos_down_weight(xv, sn, s3)
                                if axis == 0:
                                    wx[i] = w
                                else:
                                    wy[i] = w
                        else:
                            u0, u1, u2 = lanczos_up_numerators(f_)
                            for i in range(n_):
                                w = lanczos_up_weight(k0 + i, f_, u0, u1, u2)
                                if axis == 0:
                                    wx[i] = w
                                else:
                                    wy[i] = w
                elif meth == CUBIC:
                    for i in range(nx):
                        wx[i] = _cubic_kernel((i + imin - d) * sx)
                    for j in range(ny):
                        wy[j] = _cubic_kernel((j + jmin - e) * sy)
                elif meth == CUBICSPLINE:
                    for i in range(nx):
                        wx[i] = _bspline_kernel((i + imin - d) * sx)
                    for j in range(ny):
                        wy[j] = _bspline_kernel((j + jmin - e) * sy)
                else:
                    for i in range(nx):
                        wx[i] = max(0.0, 1.0 - abs((i + imin - d) * sx))
                    for j in range(ny):
                        wy[j] = max(0.0, 1.0 - abs((j + jmin - e) * sy))
                xa = i0 + imin
                ya = j0 + jmin
                rho = 1.0
                divide = False
                val0 = 0.0
                # masked: a kernel row whose taps are all valid (one look-up in ``runs``) takes the sums
                # without the per-tap tests, the same operations in the same order
                use_runs = has_runs and (not has_dens) and nx <= 255
                if masked == 0:
                    sumx = 0.0
                    for i in range(nx):
                        sumx += wx[i]
                    if fast_path or lanczos:
                        # GDAL's fast path and its lanczos: the product of the axes' sums
                        sumy = 0.0
                        for j in range(ny):
                            sumy += wy[j]
                        wt = sumx * sumy
                    else:
                        # GDAL's general path: the total accumulated row by row, as with masks
                        wt = 0.0
                        for j in range(ny):
                            wt += wy[j] * sumx
                    if wt == 0.0:
                        continue
                    if fast_path:
                        divide = True
                    else:
                        if wt < 1e-6:
                            continue
                        divide = abs(wt - 1.0) > 1e-5
                elif lanczos and not has_dens and nb > 0:
                    # GDAL's lanczos with a validity mask: one flat sum over the valid taps of wy * wx (its
                    # density sum is the same sum), the first band's sum taken along in the same loop (two
                    # independent chains); a kernel row whose taps are all valid (one look-up in ``runs``)
                    # without the per-tap tests
                    wt = 0.0
                    nvalid = 0
                    for j in range(ny):
                        yy = ya + j
                        wj = wy[j]
                        if use_runs and runs[yy, xa] >= nx:
                            nvalid += nx
                            for i in range(nx):
                                w2 = wj * wx[i]
                                wt += w2
                                val0 += src[0, r0 + yy, c0 + xa + i] * w2
                        else:
                            for i in range(nx):
                                if has_valid and valid[yy, xa + i] == 0:
                                    continue
                                nvalid += 1
                                w2 = wj * wx[i]
                                wt += w2
                                val0 += src[0, r0 + yy, c0 + xa + i] * w2
                    if wt < 1e-6 or nvalid < (nx * ny) // 2:
                        continue
                    if abs(wt - 1.0) > 1e-5:
                        divide = True
                        rho = wt * (1.0 / wt)
                    else:
                        rho = wt
                elif lanczos:
                    # GDAL's lanczos with a mask: one flat sum over the valid taps of wy * wx
                    wt = 0.0
                    dacc = 0.0
                    nvalid = 0
                    for j in range(ny):
                        yy = ya + j
                        for i in range(nx):
                            xx = xa + i
                            if (has_valid and valid[yy, xx] == 0) or (has_dens and dens[yy, xx] < 1e-9):
                                continue
                            nvalid += 1
                            w2 = wy[j] * wx[i]
                            wt += w2
                            if has_dens:
                                dacc += float(dens[yy, xx]) * w2
                            else:
                                dacc += w2
                    if wt < 1e-6 or dacc < 1e-6 or nvalid < (nx * ny) // 2:
                        continue
                    if abs(wt - 1.0) > 1e-5:
                        divide = True
                        rho = dacc * (1.0 / wt)
                    else:
                        rho = dacc
                else:
                    wt = 0.0
                    dacc = 0.0
                    nvalid = 0
                    rall = 0.0
                    for i in range(nx):
                        rall += wx[i]
                    for j in range(ny):
                        yy = ya + j
                        if use_runs and runs[yy, xa] >= nx:
                            rw = rall
                            rd = rall
                            nvalid += nx
                            wt += wy[j] * rw
                            dacc += wy[j] * rd
                            continue
                        rw = 0.0
                        rd = 0.0
                        for i in range(nx):
                            xx = xa + i
                            if (has_valid and valid[yy, xx] == 0) or (has_dens and dens[yy, xx] < 1e-9):
                                continue
                            nvalid += 1
                            rw += wx[i]
                            if has_dens:
                                rd += wx[i] * dens[yy, xx]
                            else:
                                rd += wx[i]
                        wt += wy[j] * rw
                        dacc += wy[j] * rd
                    if wt < 1e-6 or dacc < 1e-6:
                        continue
                    if lanczos and nvalid < (nx * ny) // 2:
                        continue
                    if abs(wt - 1.0) > 1e-5:
                        divide = True
                        rho = dacc / wt
                    else:
                        rho = dacc
                produced[r, c] = 1
                if rho < 1e-4:
                    continue
                rhod = 1.0
                if has_dst_valid and dst_valid[r, c] == 0:
                    rhod = 0.0
                for b in range(nb):
                    val = 0.0
                    if masked == 1 and lanczos and not has_dens and b == 0:
                        val = val0  # (summed with the weight total)
                    elif masked == 1 and lanczos:
                        for j in range(ny):
                            yy = ya + j
                            for i in range(nx):
                                xx = xa + i
                                if (has_valid and valid[yy, xx] == 0) or (has_dens and dens[yy, xx] < 1e-9):
                                    continue
                                val += src[b, r0 + yy, c0 + xx] * (wy[j] * wx[i])
                    for j in range(ny if not (masked == 1 and lanczos) else 0):
                        yy = ya + j
                        rv = 0.0
                        if masked == 1 and not (use_runs and runs[yy, xa] >= nx):
                            for i in range(nx):
                                xx = xa + i
                                if (has_valid and valid[yy, xx] == 0) or (has_dens and dens[yy, xx] < 1e-9):
                                    continue
                                rv += wx[i] * src[b, r0 + yy, c0 + xx]
                        else:
                            for i in range(nx):
                                rv += wx[i] * src[b, r0 + yy, c0 + xa + i]
                        val += wy[j] * rv
                    if divide:
                        # (GDAL's lanczos multiplies by the reciprocal)
                        val = val * (1.0 / wt) if lanczos else val / wt
                    cur = float(dst[b, dr, c]) if rho < 0.9999 else 0.0
                    dst[b, dr, c] = _convert(val, rho, cur, rhod, work_kind, wmin, wmax, dst_is_int, dmin, dmax,
                                            dst_nodata, collide)
        return 0


    return loop_separable


def pixel_kind(method: int, xscale: float, yscale: float, fast_path: bool, src_w: int, src_h: int, xradius: int,
               yradius: int) -> int:
    """The per-pixel kernel GDAL's dispatch gives a warp (§2): nearest, 4-sample bilinear, 4x4
    cubic (with its bilinear fallback) or the general separable kernel."""
    if (not fast_path) and (src_w == 1 or src_h == 1):
        return P_NEAR
    if method == NEAR:
        return P_NEAR
    fallback_bilinear = fast_path and method != LANCZOS and (xradius > src_w or yradius > src_h)
    if fallback_bilinear:
        return P_BILINEAR4
    if xscale >= 0.95 and yscale >= 0.95 and (method == BILINEAR or method == CUBIC):
        return P_CUBIC16 if method == CUBIC else P_BILINEAR4
    return P_SEPARABLE


def warp_interp_block(src, valid, has_valid, dens, has_dens, X, Y, OK,
                      xoff, yoff, method, xscale, yscale, xradius, yradius, fast_path,
                      dst, dst_valid, has_dst_valid, work_kind, wmin, wmax,
                      dst_is_int, dmin, dmax, dst_nodata, collide, produced):
    """Warp one block with the per-pixel kernel :func:`pixel_kind` chooses (the reference the
    staged row kernels equal bit for bit).

    src: (bands, H, W) source window; valid (H, W) uint8 (1 = valid), dens (H, W) float32;
    X, Y (rows, cols) full-raster source pixel coordinates of the destination pixel
    centres, OK (rows, cols) bool; xoff, yoff: window offset in the full raster.
    dst (bands, rows, cols) written in place; dst_valid (rows, cols) uint8 (existing
    destination validity, used for density blending); produced (rows, cols) uint8 out.
    """
    H = src.shape[1]
    W = src.shape[2]
    source = SourceArgs(np.ascontiguousarray(src), valid, has_valid, dens, has_dens, int(xoff), int(yoff), 0, 0,
                        H, W, valid, False)
    store = StoreArgs(int(work_kind), float(wmin), float(wmax), bool(dst_is_int), float(dmin), float(dmax),
                      float(dst_nodata), bool(collide))
    dest = DestArgs(dst, 0, dst_valid, bool(has_dst_valid), produced)
    kind = pixel_kind(method, xscale, yscale, fast_path, W, H, xradius, yradius)
    if kind == P_NEAR:
        return _loop_near(source, X, Y, OK, dest, store)
    if kind == P_BILINEAR4 or kind == P_CUBIC16:
        return _loop_4sample(source, X, Y, OK, kind == P_CUBIC16, fast_path, dest, store)
    kernel = KernelArgs(int(method), float(xscale), float(yscale), int(xradius), int(yradius), bool(fast_path),
                        False)
    return _separable_kernel(int(has_valid or has_dens))(source, kernel, X, Y, OK, dest, store)


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def valid_runs(valid, runs):
    """runs[y, x] = how many valid pixels (``valid`` != 0) start at (y, x) along the row, capped at
    255: the per-pixel separable kernel checks a kernel row's taps with one look-up.

    Examples
    --------
    >>> import numpy as np
    >>> runs = np.empty((1, 5), dtype=np.uint8)
    >>> _ = valid_runs(np.array([[1, 1, 0, 1, 1]], dtype=np.uint8), runs)
    >>> runs.tolist()
    [[2, 1, 0, 2, 1]]
    """
    for y in range(valid.shape[0]):
        n = 0
        for x in range(valid.shape[1] - 1, -1, -1):
            n = min(n + 1, 255) if valid[y, x] != 0 else 0
            runs[y, x] = n
    return 0


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def write_block(out, band_produced, dst, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide,
                produced):
    """Write values computed by the reduce family (float64) with GDAL's write rules, for the
    methods whose density is 1.0 everywhere (all but ``sum``: no blending, see
    :func:`write_block_density`). :func:`_stored_values` turns ``out`` into the stored values in
    place (compiled once for every destination type); the loop here copies them."""
    _stored_values(out, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide)
    for r in range(out.shape[1]):
        for b in range(out.shape[0]):
            for c in range(out.shape[2]):
                p = band_produced[b, r, c] != 0
                if p:
                    dst[b, r, c] = out[b, r, c]
                produced[r, c] = produced[r, c] | p
    return 0


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def write_block_density(out, out_density, band_produced, dst, dst_valid, has_dst_valid, work_kind, wmin, wmax,
                        dst_is_int, dmin, dmax, dst_nodata, collide, produced):
    """:func:`write_block` with the band densities ``out_density`` of ``sum`` (GDAL's blend with
    the destination's current value below 0.9999)."""
    nb = out.shape[0]
    nrows = out.shape[1]
    ncols = out.shape[2]
    for r in range(nrows):
        for c in range(ncols):
            anyb = False
            for b in range(nb):
                if band_produced[b, r, c]:
                    anyb = True
                    rho = out_density[b, r, c]
                    if rho < 1e-4:
                        continue
                    rhod = 1.0
                    if has_dst_valid and dst_valid[r, c] == 0:
                        rhod = 0.0
                    cur = float(dst[b, r, c]) if rho < 0.9999 else 0.0
                    dst[b, r, c] = _convert(out[b, r, c], rho, cur, rhod, work_kind, wmin, wmax, dst_is_int, dmin,
                                            dmax, dst_nodata, collide)
            if anyb:
                produced[r, c] = 1
    return 0


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _stored_values(out, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide):
    """``out`` (bands, rows, cols) float64 -> :func:`_convert` of each value at density 1.0 (no
    blend), in place: its branches as selects, a few simple loops per row so that each vectorises."""
    # (the destination's clamp is a no-op for float destinations, the collision test for no collision)
    lo = dmin if dst_is_int else -np.inf
    hi = dmax if dst_is_int else np.inf
    nodata = dst_nodata if collide else np.nan
    for b in range(out.shape[0]):
        for r in range(out.shape[1]):
            row = out[b, r]
            if work_kind == WORK_INT:
                for c in range(row.shape[0]):
                    v = row[c]
                    w = np.floor(v + 0.5)
                    w = wmin if v < wmin else w
                    w = wmax if v > wmax else w
                    w = 0.0 if v != v else w
                    w = (wmin + 1.0 if w == wmin else w - 1.0) if w == nodata else w
                    w = lo if w < lo else w
                    row[c] = hi if w > hi else w
                continue
            if work_kind == WORK_FLOAT32:
                for c in range(row.shape[0]):
                    row[c] = float(np.float32(row[c]))
            if dst_is_int:
                # GDALCopyWords: NaN -> 0, clamp, round half away from zero
                for c in range(row.shape[0]):
                    v = row[c]
                    rv = np.floor(v + 0.5) if v > 0 else np.ceil(v - 0.5)
                    rv = dmin if v <= dmin else rv
                    rv = dmax if v >= dmax else rv
                    row[c] = 0.0 if v != v else rv


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def warp_near_direct(source, X, Y, OK, dest):
    """Nearest neighbour copy when source, working and destination types are equal and no
    density, blending or collision rule applies (GDAL's dedicated nearest kernels)."""
    src, valid, has_valid, dens, has_dens, xoff, yoff, r0, c0, H, W, runs, has_runs = source
    dst, drow0, _dv, _has_dv, produced = dest
    nb = src.shape[0]
    fW = float(W)
    fH = float(H)
    for r in range(X.shape[0]):
        dr = drow0 + r  # the destination row (dest.dst holds rows from dest.row0)
        for c in range(X.shape[1]):
            if not OK[r, c]:
                continue
            Xf = X[r, c]
            Yf = Y[r, c]
            if not (Xf >= xoff and Yf >= yoff and Xf + 1e-10 <= xoff + fW and Yf + 1e-10 <= yoff + fH):
                continue  # also rejects NaN
            isx, isy = _centre_pixel(Xf, Yf, xoff, yoff, W, H)
            if has_valid and valid[isy, isx] == 0:
                continue
            produced[r, c] = 1
            for b in range(nb):
                dst[b, dr, c] = src[b, r0 + isy, c0 + isx]
    return 0


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def retry_candidates(X, Y, OK, x0, y0, x1, y1, rows, cols):
    """Pixels whose approximate centre falls within 1 px outside the window (GDAL retries them
    with an exact transform, §1.4). Returns their count; fills rows/cols unless they are empty."""
    n = 0
    store = rows.shape[0] > 0
    for r in range(X.shape[0]):
        for c in range(X.shape[1]):
            if not OK[r, c]:
                continue
            x = X[r, c]
            y = Y[r, c]
            if ((x < x0 and x > x0 - 1.0) or (y < y0 and y > y0 - 1.0)
                    or (x + 1e-10 > x1 and x < x1 + 1.0) or (y + 1e-10 > y1 and y < y1 + 1.0)):
                if store:
                    rows[n] = r
                    cols[n] = c
                n += 1
    return n


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _axis_weights(P, off, fsize, size, meth, s, radius, init, lanczos, WA, NA, A0, SUMA, OKA):
    """Per-column (or per-row) taps of the separable kernel for axis-aligned warps: the
    same arithmetic as :func:`_separable_kernel` (so results are bit-identical)."""
    for c in range(P.shape[0]):
        OKA[c] = False
        p = P[c]
        if not (p >= off and p + 1e-10 <= off + fsize):
            continue
        dp = p - off
        i0 = int(math.floor(dp - 0.5))
        d = dp - 0.5 - i0
        lo = max(init, -i0)
        hi = min(radius, size - 1 - i0)
        if lanczos:
            lo, hi = lanczos_taps(lo, hi, d, s)
        if lo > hi:
            continue
        n = hi - lo + 1
        if lanczos and s < 1.0:
            co3, so3, cS, sS = lanczos_down_steps(s)
            xv = (lo - d) * s
            sn, cs, s3, c3 = lanczos_down_start(xv)
            for i in range(n):
                if i > 0:
                    xv += s
                    sn, cs, s3, c3 = lanczos_down_advance(sn, cs, s3, c3, co3, so3, cS, sS)
                WA[c, i] = lanczos_down_weight(xv, sn, s3)
        elif lanczos:
            u0, u1, u2 = lanczos_up_numerators(d)
            for i in range(n):
                WA[c, i] = lanczos_up_weight(lo + i, d, u0, u1, u2)
        elif meth == CUBIC:
            for i in range(n):
                WA[c, i] = _cubic_kernel((i + lo - d) * s)
        elif meth == CUBICSPLINE:
            for i in range(n):
                WA[c, i] = _bspline_kernel((i + lo - d) * s)
        else:
            for i in range(n):
                WA[c, i] = max(0.0, 1.0 - abs((i + lo - d) * s))
        tot = 0.0
        for i in range(n):
            tot += WA[c, i]
        SUMA[c] = tot
        NA[c] = n
        A0[c] = i0 + lo
        OKA[c] = True
    return 0


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _tap_span(OKA, A0, NA, size):
    """(first, last) source index used by the taps A0[k] .. A0[k] + NA[k] - 1 of the OKA entries
    ((size, -1) when there are none)."""
    lo = size
    hi = -1
    for k in range(OKA.shape[0]):
        if OKA[k]:
            lo = min(lo, A0[k])
            hi = max(hi, A0[k] + NA[k] - 1)
    return lo, hi


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def warp_separable_aligned(src, win, Xc, Yr, xoff, yoff, method, xscale, yscale, xradius, yradius, fast_path,
                           dst, dst_row0, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide,
                           produced):
    """Separable kernels (bilinear/cubic downsampling, cubicspline, lanczos) for an axis-aligned
    same-CRS warp without source masks: X depends on the column only (``Xc``), Y on the row only
    (``Yr``), so the horizontal sums are computed once per (source row, destination column)
    and reused by every destination row. Bit-identical to :func:`_separable_kernel`.
    The source window is read in place: ``src[:, row0:row0 + H, col0:col0 + W]`` for
    ``win = (row0, col0, H, W)``. Rows go to ``dst[:, dst_row0 + r, :]`` (C-contiguous rows
    when ``dst`` is)."""
    nb = src.shape[0]
    row0, col0, H, W = win
    ncols = Xc.shape[0]
    nrows = Yr.shape[0]
    lanczos = method == LANCZOS
    initx, inity = first_taps(method, fast_path, xradius, yradius)
    sx = xscale if xscale < 1.0 else 1.0
    sy = yscale if yscale < 1.0 else 1.0
    WX = np.empty((ncols, 2 * xradius + 2))
    NX = np.zeros(ncols, dtype=np.int64)
    XA = np.zeros(ncols, dtype=np.int64)
    SX = np.zeros(ncols)
    OKX = np.zeros(ncols, dtype=np.bool_)
    WY = np.empty((nrows, 2 * yradius + 2))
    NY = np.zeros(nrows, dtype=np.int64)
    YA = np.zeros(nrows, dtype=np.int64)
    SY = np.zeros(nrows)
    OKY = np.zeros(nrows, dtype=np.bool_)
    _axis_weights(Xc, xoff, float(W), W, method, sx, xradius, initx, lanczos, WX, NX, XA, SX, OKX)
    _axis_weights(Yr, yoff, float(H), H, method, sy, yradius, inity, lanczos, WY, NY, YA, SY, OKY)
    rlo, rhi = _tap_span(OKY, YA, NY, H)  # source rows used by the vertical taps
    if rhi < rlo:
        return 0
    # (columns that are not OKX are never written nor used: no need to zero the buffer)
    tmp = np.empty((rhi - rlo + 1, ncols))
    vacc = np.empty(ncols)
    # GDAL's general path (not its fast path, not lanczos) accumulates the weight total row by row
    rowwise_total = not (fast_path or lanczos)
    wtr = np.empty(ncols if rowwise_total else 0)
    clo, chi = _tap_span(OKX, XA, NX, W)  # source columns used by the horizontal taps
    rowf = np.empty(max(0, chi - clo + 1))
    for b in range(nb):
        for sr in range(rlo, rhi + 1):
            # the source row converted to float64 once (vectorised), then the taps read it with
            # unsigned indices (no wraparound code); the same products and sums as before
            # (an unsigned index: with a signed one Numba adds its negative-index wraparound to
            # every element and LLVM turns the copy into a gather, ~28 % of a same-CRS bilinear)
            srow = src[b, row0 + sr]
            uclo = np.uint64(col0 + clo)
            for x in range(rowf.shape[0]):
                rowf[x] = srow[uclo + np.uint64(x)]
            trow = tmp[sr - rlo]
            for c in range(ncols):
                if not OKX[c]:
                    continue
                rv = 0.0
                xa = np.uint64(XA[c] - clo)
                wc = WX[c]
                for i in range(NX[c]):
                    rv += wc[i] * rowf[xa + np.uint64(i)]
                trow[c] = rv
        for r in range(nrows):
            if not OKY[r]:
                continue
            ya = YA[r] - rlo
            # vertical pass over whole rows (vectorisable; per pixel the same j-ascending sum)
            for c in range(ncols):
                vacc[c] = 0.0
            for j in range(NY[r]):
                wyj = WY[r, j]
                for c in range(ncols):
                    vacc[c] += wyj * tmp[ya + j, c]
            if rowwise_total:
                for c in range(ncols):
                    wtr[c] = 0.0
                for j in range(NY[r]):
                    wyj = WY[r, j]
                    for c in range(ncols):
                        wtr[c] += wyj * SX[c]
            # normalise, convert and store (branch-free: vectorised; the rules of _separable_kernel)
            out = dst[b, dst_row0 + r]
            prow = produced[r]
            syr = SY[r]
            if lanczos:
                # (GDAL's lanczos multiplies by the reciprocal of the weight total)
                for c in range(ncols):
                    wt = SX[c] * syr
                    ok = OKX[c] & (wt != 0.0) & (wt >= 1e-6)
                    q = wt if abs(wt - 1.0) > 1e-5 else 1.0
                    w = _store_value(vacc[c] * (1.0 / q), work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata,
                                     collide)
                    out[c] = w if ok else out[c]
                    prow[c] = prow[c] | ok
                continue
            for c in range(ncols):
                wt = wtr[c] if rowwise_total else SX[c] * syr
                if fast_path:
                    ok = OKX[c] & (wt != 0.0)
                    q = wt
                else:
                    ok = OKX[c] & (wt != 0.0) & (wt >= 1e-6)
                    q = wt if abs(wt - 1.0) > 1e-5 else 1.0
                w = _store_value(vacc[c] / q, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide)
                out[c] = w if ok else out[c]
                prow[c] = prow[c] | ok
    return 0
