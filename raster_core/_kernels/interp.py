"""Interpolating warp kernels: near, bilinear, cubic, cubicspline, lanczos (GDAL 3.10 rules).

One kernel, :func:`warp_interp_block`, processes a block of destination pixels whose
source pixel coordinates (full-raster, continuous, GDAL convention) are given, and
writes the results into the destination block with GDAL's rounding, clamping,
density blending and dst-nodata collision rules. See raster_core/warp.py.
"""

from __future__ import annotations

import math

import numba
import numpy as np

NEAR = 0
BILINEAR = 1
CUBIC = 2
CUBICSPLINE = 3
LANCZOS = 4

WORK_FLOAT64 = 0
WORK_FLOAT32 = 1
WORK_INT = 2

_MAXTAPS = 4096


@numba.njit(nogil=True, cache=True, inline="always")
def _cubic_kernel(x):
    ax = abs(x)
    if ax <= 1.0:
        return x * x * (1.5 * ax - 2.5) + 1.0
    if ax <= 2.0:
        return x * x * (-0.5 * ax + 2.5) - 4.0 * ax + 2.0
    return 0.0


@numba.njit(nogil=True, cache=True, inline="always")
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


@numba.njit(nogil=True, cache=True, inline="always")
def _lanczos3(x):
    if x == 0.0:
        return 1.0
    if x <= -3.0 or x >= 3.0:
        return 0.0
    px = math.pi * x
    return 3.0 * math.sin(px) * math.sin(px / 3.0) / (px * px)


@numba.njit(nogil=True, cache=True, inline="always")
def _kernel(method, x):
    if method == BILINEAR:
        ax = abs(x)
        return 1.0 - ax if ax < 1.0 else 0.0
    if method == CUBIC:
        return _cubic_kernel(x)
    if method == CUBICSPLINE:
        return _bspline_kernel(x)
    return _lanczos3(x)


@numba.njit(nogil=True, cache=True, inline="always")
def _tap_ok(valid, has_valid, dens, has_dens, iy, ix):
    if has_valid and valid[iy, ix] == 0:
        return False
    if has_dens and dens[iy, ix] < 1e-9:
        return False
    return True


@numba.njit(nogil=True, cache=True)
def _write(dst, b, r, c, v, rho, dst_valid, has_dst_valid, work_kind, wmin, wmax,
           dst_is_int, dmin, dmax, dst_nodata, collide):
    """GWKSetPixelValue: blend (density < 0.9999), round/clamp, collision, store."""
    if rho < 1e-4:
        return
    if rho < 0.9999:
        rhod = 1.0
        if has_dst_valid and dst_valid[r, c] == 0:
            rhod = 0.0
        infl = (1.0 - rho) * rhod
        cur = float(dst[b, r, c])
        v = (v * rho + cur * infl) / (rho + infl)
    if work_kind == WORK_INT:
        if v < wmin:
            w = wmin
        elif v > wmax:
            w = wmax
        elif v != v:
            w = 0.0
        else:
            w = math.floor(v + 0.5)
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
        dst[b, r, c] = w
    else:
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
                v = math.floor(v + 0.5)
            else:
                v = math.ceil(v - 0.5)
        dst[b, r, c] = v


@numba.njit(nogil=True, cache=True)
def warp_interp_block(src, valid, has_valid, dens, has_dens, X, Y, OK,
                      xoff, yoff, method, xscale, yscale, xradius, yradius, fast_path,
                      dst, dst_valid, has_dst_valid, work_kind, wmin, wmax,
                      dst_is_int, dmin, dmax, dst_nodata, collide, produced):
    """Warp one block.

    src: (bands, H, W) source window; valid (H, W) uint8 (1 = valid), dens (H, W) float32;
    X, Y (rows, cols) full-raster source pixel coordinates of the destination pixel
    centres, OK (rows, cols) bool; xoff, yoff: window offset in the full raster.
    dst (bands, rows, cols) written in place; dst_valid (rows, cols) uint8 (existing
    destination validity, used for density blending); produced (rows, cols) uint8 out.
    """
    nb = src.shape[0]
    H = src.shape[1]
    W = src.shape[2]
    nrows = X.shape[0]
    ncols = X.shape[1]
    use4 = xscale >= 0.95 and yscale >= 0.95
    sx = xscale if xscale < 1.0 else 1.0
    sy = yscale if yscale < 1.0 else 1.0
    masked = has_valid or has_dens
    meth = method
    if (not fast_path) and (W == 1 or H == 1):
        meth = NEAR
    # kernel radius R and window start (GDAL nFiltInit / fast path 1 - radius)
    R = 0
    if meth == BILINEAR:
        R = 1
    elif meth == CUBIC or meth == CUBICSPLINE:
        R = 2
    elif meth == LANCZOS:
        R = 3
    if fast_path:
        initx = 1 - xradius
        inity = 1 - yradius
    else:
        initx = ((R + 1) % 2) - xradius
        inity = ((R + 1) % 2) - yradius
    # fast path fallback to 4-sample bilinear when the widened radius exceeds the window
    fallback_bilinear = False
    if fast_path and meth != NEAR and meth != LANCZOS:
        if xradius > W or yradius > H:
            fallback_bilinear = True
    nwx = 2 * xradius + 2
    nwy = 2 * yradius + 2
    wx = np.empty(nwx)
    wy = np.empty(nwy)
    acc = np.empty(nb)
    rowacc = np.empty(nb)
    fW = float(W)
    fH = float(H)
    for r in range(nrows):
        for c in range(ncols):
            if not OK[r, c]:
                continue
            Xf = X[r, c]
            Yf = Y[r, c]
            if Xf != Xf or Yf != Yf:
                continue
            if Xf < xoff or Yf < yoff:
                continue
            if Xf + 1e-10 > xoff + fW or Yf + 1e-10 > yoff + fH:
                continue
            isx = int(Xf + 1e-10) - xoff
            isy = int(Yf + 1e-10) - yoff
            if isx >= W:
                isx = W - 1
            if isy >= H:
                isy = H - 1
            # centre rule
            if has_valid and valid[isy, isx] == 0:
                continue
            cdens = 1.0
            if has_dens:
                cdens = dens[isy, isx]
                if cdens < 1e-9:
                    continue
            dx = Xf - xoff
            dy = Yf - yoff
            rho = 1.0
            found = False
            if meth == NEAR:
                for b in range(nb):
                    acc[b] = src[b, isy, isx]
                rho = cdens
                found = True
            elif (meth == BILINEAR and use4) or fallback_bilinear or (meth == CUBIC and use4):
                done = False
                if meth == CUBIC and not fallback_bilinear:
                    ix = int(dx - 0.5)
                    iy = int(dy - 0.5)
                    if ix - 1 >= 0 and ix + 2 < W and iy - 1 >= 0 and iy + 2 < H:
                        allok = True
                        if masked:
                            for j in range(4):
                                for i in range(4):
                                    if not _tap_ok(valid, has_valid, dens, has_dens, iy - 1 + j, ix - 1 + i):
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
                            for b in range(nb):
                                v = 0.0
                                for j in range(4):
                                    yy = iy - 1 + j
                                    rv = (cx0 * src[b, yy, ix - 1] + cx1 * src[b, yy, ix]
                                          + cx2 * src[b, yy, ix + 1] + cx3 * src[b, yy, ix + 2])
                                    if j == 0:
                                        v += cy0 * rv
                                    elif j == 1:
                                        v += cy1 * rv
                                    elif j == 2:
                                        v += cy2 * rv
                                    else:
                                        v += cy3 * rv
                                acc[b] = v
                            if has_dens:
                                dv = 0.0
                                for j in range(4):
                                    yy = iy - 1 + j
                                    rv = (cx0 * dens[yy, ix - 1] + cx1 * dens[yy, ix]
                                          + cx2 * dens[yy, ix + 1] + cx3 * dens[yy, ix + 2])
                                    cyj = cy0 if j == 0 else (cy1 if j == 1 else (cy2 if j == 2 else cy3))
                                    dv += cyj * rv
                                rho = dv
                            found = True
                            done = True
                if not done:
                    # 4-sample bilinear
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
                    div = 0.0
                    dacc = 0.0
                    for b in range(nb):
                        acc[b] = 0.0
                    for k in range(4):
                        if k == 0:
                            tx = ix
                            ty = iy
                            m = rx * ry
                        elif k == 1:
                            tx = ix + 1
                            ty = iy
                            m = (1.0 - rx) * ry
                        elif k == 2:
                            tx = ix
                            ty = iy + 1
                            m = rx * (1.0 - ry)
                        else:
                            tx = ix + 1
                            ty = iy + 1
                            m = (1.0 - rx) * (1.0 - ry)
                        if tx < 0 or tx >= W or ty < 0 or ty >= H:
                            continue
                        if masked and not _tap_ok(valid, has_valid, dens, has_dens, ty, tx):
                            continue
                        div += m
                        for b in range(nb):
                            acc[b] += src[b, ty, tx] * m
                        if has_dens:
                            dacc += dens[ty, tx] * m
                    if div < 1e-5:
                        found = False
                    else:
                        if div != 1.0:
                            for b in range(nb):
                                acc[b] = acc[b] / div
                        if has_dens:
                            rho = dacc / div
                        found = True
            else:
                # general separable path (bilinear/cubic downsampling, cubicspline, lanczos)
                i0 = int(math.floor(dx - 0.5))
                j0 = int(math.floor(dy - 0.5))
                d = dx - 0.5 - i0
                e = dy - 0.5 - j0
                imin = initx
                if -i0 > imin:
                    imin = -i0
                imax = xradius
                if W - 1 - i0 < imax:
                    imax = W - 1 - i0
                jmin = inity
                if -j0 > jmin:
                    jmin = -j0
                jmax = yradius
                if H - 1 - j0 < jmax:
                    jmax = H - 1 - j0
                if meth == LANCZOS:
                    while imin <= imax and (imin - d) * sx < -3.0:
                        imin += 1
                    while imax >= imin and (imax - d) * sx > 3.0:
                        imax -= 1
                    while jmin <= jmax and (jmin - e) * sy < -3.0:
                        jmin += 1
                    while jmax >= jmin and (jmax - e) * sy > 3.0:
                        jmax -= 1
                if imin > imax or jmin > jmax:
                    continue
                for i in range(imin, imax + 1):
                    wx[i - imin] = _kernel(meth, (i - d) * sx)
                for j in range(jmin, jmax + 1):
                    wy[j - jmin] = _kernel(meth, (j - e) * sy)
                if not masked:
                    sumx = 0.0
                    for i in range(imin, imax + 1):
                        sumx += wx[i - imin]
                    sumy = 0.0
                    for j in range(jmin, jmax + 1):
                        sumy += wy[j - jmin]
                    wt = sumx * sumy
                    for b in range(nb):
                        acc[b] = 0.0
                    for j in range(jmin, jmax + 1):
                        yy = j0 + j
                        wyj = wy[j - jmin]
                        for b in range(nb):
                            rv = 0.0
                            for i in range(imin, imax + 1):
                                rv += wx[i - imin] * src[b, yy, i0 + i]
                            acc[b] += wyj * rv
                    if fast_path:
                        if wt != 0.0:
                            for b in range(nb):
                                acc[b] = acc[b] / wt
                            found = True
                    else:
                        if wt < 1e-6 and meth != LANCZOS:
                            found = False
                        else:
                            if abs(wt - 1.0) > 1e-5 and wt != 0.0:
                                for b in range(nb):
                                    acc[b] = acc[b] / wt
                            found = wt != 0.0
                else:
                    wt = 0.0
                    dacc = 0.0
                    nvalid = 0
                    for b in range(nb):
                        acc[b] = 0.0
                    for j in range(jmin, jmax + 1):
                        yy = j0 + j
                        wyj = wy[j - jmin]
                        rw = 0.0
                        rd = 0.0
                        for b in range(nb):
                            rowacc[b] = 0.0
                        for i in range(imin, imax + 1):
                            xx = i0 + i
                            if not _tap_ok(valid, has_valid, dens, has_dens, yy, xx):
                                continue
                            nvalid += 1
                            w = wx[i - imin]
                            rw += w
                            if has_dens:
                                rd += w * dens[yy, xx]
                            else:
                                rd += w
                            for b in range(nb):
                                rowacc[b] += w * src[b, yy, xx]
                        if rw == 0.0 and rd == 0.0:
                            continue
                        wt += wyj * rw
                        dacc += wyj * rd
                        for b in range(nb):
                            acc[b] += wyj * rowacc[b]
                    ntaps = (imax - imin + 1) * (jmax - jmin + 1)
                    if wt < 1e-6 or dacc < 1e-6:
                        found = False
                    elif meth == LANCZOS and nvalid < ntaps // 2:
                        found = False
                    else:
                        if abs(wt - 1.0) > 1e-5:
                            for b in range(nb):
                                acc[b] = acc[b] / wt
                            rho = dacc / wt
                        else:
                            rho = dacc
                        found = True
            if not found:
                continue
            produced[r, c] = 1
            for b in range(nb):
                _write(dst, b, r, c, acc[b], rho, dst_valid, has_dst_valid, work_kind, wmin, wmax,
                       dst_is_int, dmin, dmax, dst_nodata, collide)
    return 0


@numba.njit(nogil=True, cache=True)
def write_block(out, out_density, band_produced, dst, dst_valid, has_dst_valid, work_kind, wmin, wmax,
                dst_is_int, dmin, dmax, dst_nodata, collide, produced):
    """Write values computed by the reduce family (float64) with GDAL's write rules."""
    nb = out.shape[0]
    nrows = out.shape[1]
    ncols = out.shape[2]
    for r in range(nrows):
        for c in range(ncols):
            anyb = False
            for b in range(nb):
                if band_produced[b, r, c]:
                    anyb = True
                    _write(dst, b, r, c, out[b, r, c], out_density[b, r, c], dst_valid, has_dst_valid,
                           work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide)
            if anyb:
                produced[r, c] = 1
    return 0
