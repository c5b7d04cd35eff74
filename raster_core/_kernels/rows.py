"""Staged (SIMD-friendly) warp of the interior pixels of one destination row.

The per-pixel kernels of :mod:`raster_core._kernels.interp` handle every case (masks,
density, edges, fallbacks) one pixel at a time, which keeps LLVM from vectorising them.
For the common case (no alpha density) a destination row is done here in stages instead,
each a simple loop over the row:

1. coordinates -> per pixel: "interior" flag, flat source index, kernel weights (vectorised);
   with a source mask, pixels whose centre pixel is invalid are skipped, and pixels with invalid
   taps are left to the per-pixel kernel, except in the kinds of any tap count (widened separable
   kernels, lanczos), where the invalid taps' values and weights count as exact zeros (adding
   +-0.0 to a sum that starts at +0.0 never changes it: the same bits as leaving them out);
2. per band: gather the taps into contiguous rows (scalar loads; a kernel row's adjacent taps
   in one packed load when they fit 64 bits, :mod:`raster_core._kernels.words`), then the
   weighted sums (vectorised where the taps were gathered first);
3. normalise, round/clamp/convert (GDAL's rules: ``_store_value`` == ``_convert`` at density 1)
   and store where the flag is set (vectorised).

Pixels that are inside the source window but not interior (kernel taps crossing the
window edge, invalid taps, weight sums needing GDAL's special cases) are reported back and
done by the per-pixel kernels. Every interior pixel gets the same operations in the same
order as in the per-pixel kernels, so the results are bit-identical (tests/test_warp_rows.py).

What it takes for Numba/LLVM to vectorise these loops (each measured):

* ``error_model="numpy"``: the default Python error model puts a zero check (and a possible
  ZeroDivisionError) on every division; callers that inline this code need it too;
* at most two output arrays per loop: more need more run-time alias checks than the
  vectoriser accepts;
* C-contiguous rows: the kernels receive the whole destination and a row offset, and scratch
  buffers are allocated at their exact size (a slice of a larger buffer loses the C layout);
* selects instead of branches in the conversion, unsigned indices for the gathers (Numba
  skips its negative-index wraparound code); rows of 2-D buffers are indexed in place
  (``WX[k, c]``) rather than through views made per row, each of which costs atomic
  reference counts.

The staged kernels are generated (:func:`_staged_row_kernel`) with the staged kind and the store
class as compile-time constants, chosen with the per-pixel kernel by one pure function of the plan
(:func:`select_row_kernels`): a first warp compiles only its own kernels, and no
code is inlined at Numba's IR level (which cost tens of seconds of compilation per kind). The
kernels take their arguments in a few named tuples (:class:`SourceArgs`, :class:`KernelArgs`,
:class:`StoreArgs`, :class:`DestArgs`, and the coordinates).

Numba links each callee's LLVM code into its caller and optimises it again there (measured: a
compiled driver's machine code contained its staged and per-pixel kernels, and cost 2.2 s of
compilation per data type), so a function's compile time grows with everything below it. The row
driver (:func:`run_rows`) is therefore Python, calling the coordinate filler, the staged kernel and
the per-pixel kernel once per chunk of rows; below them the tree is one level of small helpers.
"""
from __future__ import annotations

import functools
from typing import Any, NamedTuple

import numba
import numpy as np

from raster_core._kernels import CACHE
from raster_core._kernels._generated import njit_variant
from raster_core._kernels.approx import fill_rows
from raster_core._kernels.args import DestArgs, KernelArgs, RowPlanTables, SourceArgs, StoreArgs
from raster_core._kernels.interp import (
    BILINEAR,
    CUBIC,
    CUBICSPLINE,
    LANCZOS,
    NEAR,
    P_BILINEAR4,
    P_CUBIC16,
    P_NEAR,
    P_NEAR_DIRECT,
    P_NONE,
    P_SEPARABLE,
    _bspline_kernel,
    _cubic_kernel,
    _loop_4sample,
    _loop_near,
    _separable_kernel,
    _store_value,
    first_taps,
    kernel_taps,
    lanczos_down_start,
    lanczos_down_steps,
    lanczos_down_weight,
    lanczos_taps,
    lanczos_up_numerators,
    pixel_kind,
    warp_near_direct,
)
from raster_core._kernels.words import LITTLE_ENDIAN, lane, load_word, load_word64, packs, word_lanes

# staged kinds
K_NONE = -1
K_NEAR = 0
K_BILINEAR4 = 1  # GDAL's 4-sample bilinear (no downsampling)
K_CUBIC16 = 2  # GDAL's 4x4 cubic (no downsampling)
K_SEPARABLE = 3  # widened bilinear/cubic, cubicspline: (xradius - initx + 1) x (yradius - inity + 1) taps
K_LANCZOS = 4  # lanczos: the separable taps, trimmed per pixel to where the kernel is not zero


def staged_kind(method: int, xscale: float, yscale: float, fast_path: bool, src_w: int, src_h: int, xradius: int,
                yradius: int, initx: int, inity: int) -> int:
    """Which staged kernel handles the interior pixels of an unmasked warp (K_NONE: none).

    Follows the dispatch of :func:`raster_core._kernels.interp.pixel_kind`; kinds whose
    full kernel does not fit in the source window are K_NONE (no pixel would be interior)."""
    if (not fast_path) and (src_w == 1 or src_h == 1):
        return K_NEAR if method == NEAR else K_NONE
    if method == NEAR:
        return K_NEAR
    if method == LANCZOS:
        # widened in at least one axis (more than 7 x 7 taps): upsampled, where the sines' start
        # values (8 libm calls per pixel) dominate either way, the per-pixel kernel measured faster
        # (random case 13, 7 x 7 taps: 86 vs 102 ms); the staged kernel reads the taps in 64-bit
        # words only (little-endian)
        nx = xradius - initx + 1
        ny = yradius - inity + 1
        ok = LITTLE_ENDIAN and nx * ny > 49 and src_w >= nx and src_h >= ny
        return K_LANCZOS if ok else K_NONE
    if method != BILINEAR and method != CUBIC and method != CUBICSPLINE:
        return K_NONE
    if fast_path and (xradius > src_w or yradius > src_h):
        return K_NONE  # GDAL's fast path falls back to 4-sample bilinear
    if xscale >= 0.95 and yscale >= 0.95 and method != CUBICSPLINE:
        if method == BILINEAR:
            return K_BILINEAR4 if src_w >= 2 and src_h >= 2 else K_NONE
        return K_CUBIC16 if src_w >= 4 and src_h >= 4 else K_NONE
    if src_w < xradius - initx + 1 or src_h < yradius - inity + 1:
        return K_NONE
    return K_SEPARABLE


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _tap_weights(meth, D, init, s, WK, SUM):
    """WK[k, c] = kernel((k + init - D[c]) * s) (GDAL's separable tap weights, the arithmetic of
    ``interp._separable_kernel``) and SUM[c] += WK[k, c] in tap order; one vectorisable loop per tap."""
    for k in range(WK.shape[0]):
        fk = float(k + init)
        if meth == BILINEAR:
            for c in range(D.shape[0]):
                w = max(0.0, 1.0 - abs((fk - D[c]) * s))
                WK[k, c] = w
                SUM[c] = SUM[c] + w
        elif meth == CUBIC:
            for c in range(D.shape[0]):
                w = _cubic_kernel((fk - D[c]) * s)
                WK[k, c] = w
                SUM[c] = SUM[c] + w
        else:
            for c in range(D.shape[0]):
                w = _bspline_kernel((fk - D[c]) * s)
                WK[k, c] = w
                SUM[c] = SUM[c] + w
    return 0


# unsigned tap offsets (unsigned indices: Numba skips its negative-index wraparound code)
_U1 = np.uint64(1)
_U2 = np.uint64(2)
_U3 = np.uint64(3)
_U4 = np.uint64(4)
_U56 = np.uint64(56)
_ZERO = np.uint64(0)
_ONES = np.uint64(0x0101010101010101)  # a 1 in every byte

# IDX codes besides flat source indices (>= 0, pixel done by the staged kernel)
_REST = -1  # inside the source window, left to the per-pixel kernel
_SKIP = -2  # outside the window (or transform failed): never produced

# store classes: which conversions a warp's stores can need, a constant per entry point (see
# select_row_kernels), so that LLVM drops the others instead of computing them all and selecting
S_ANY = 0  # any working/destination types, the nodata collision rule: ``_store_value``
S_INT = 1  # integer working and destination types, no collision rule


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _store(v, sclass, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide):
    """``_store_value`` for the store class ``sclass`` (S_INT: its integer branch without the
    collision rule, the same operations; tests/test_warp_rows.py checks it against ``_convert``)."""
    if sclass == S_INT:
        w = np.floor(min(max(v, wmin), wmax) + 0.5)
        w = 0.0 if v != v else w
        return min(max(w, dmin), dmax)
    return _store_value(v, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide)


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _in_window(ok, Xf, Yf, fxo, fyo, fW, fH):
    return ok & (Xf >= fxo) & (Yf >= fyo) & (Xf + 1e-10 <= fxo + fW) & (Yf + 1e-10 <= fyo + fH)


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _cubic4(d):
    """GDAL's 4 cubic tap weights at offset ``d`` (the polynomial form of ``_loop_4sample``)."""
    return (0.5 * d * (-1.0 + d * (2.0 - d)), 1.0 + 0.5 * d * d * (-5.0 + 3.0 * d),
            0.5 * d * (1.0 + d * (4.0 - 3.0 * d)), 0.5 * d * d * (-1.0 + d))


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _cubic4_weights(D, WK):
    """:func:`_cubic4` of every D[c] into the rows of WK (4, n) (rows indexed in place: views
    would cost reference counts)."""
    for c in range(D.shape[0]):
        w0, w1, w2, w3 = _cubic4(D[c])
        WK[0, c] = w0
        WK[1, c] = w1
        WK[2, c] = w2
        WK[3, c] = w3
    return 0


class PlannedCoords(NamedTuple):
    """Rows [a, b) x columns [c0, c1) of a recorded approximate-transformer plan
    (:class:`raster_core.transform.RowPlan`'s tables), filled a chunk of rows at a time by
    :func:`raster_core._kernels.approx.fill_rows`."""

    plan: RowPlanTables
    a: int
    b: int
    c0: int
    c1: int


class ArrayCoords(NamedTuple):
    """Source coordinates of a block given as (rows, cols) C-contiguous arrays."""

    X: np.ndarray
    Y: np.ndarray
    OK: np.ndarray


# tap shapes of the separable staged kinds, each with its own gather-and-sum loops (a kernel
# compiled for one shape only costs a third less compilation than one holding all four)
TAPS_ANY = 0  # any nx x ny (and the kinds without separable taps)
TAPS_2 = 2  # 2 x ny (bilinear widened in y only; 2 x 4 has loops of its own)
TAPS_4 = 4  # 4 x ny (4x4 cubic, cubic/cubicspline at scale ~1, bilinear widened x2)


def tap_class(staged: int, kernel: KernelArgs) -> int:
    """The tap shape class (TAPS_*) of a staged kind and kernel.

    Examples
    --------
    >>> tap_class(K_SEPARABLE, KernelArgs(BILINEAR, 1.0, 0.5, 1, 2, True, False))
    2
    >>> tap_class(K_CUBIC16, KernelArgs(CUBIC, 1.0, 1.0, 2, 2, True, False))
    4
    """
    if staged == K_CUBIC16:
        return TAPS_4
    if staged != K_SEPARABLE:
        return TAPS_ANY  # (K_LANCZOS: any tap count)
    initx = first_taps(kernel.method, kernel.fast_path, kernel.xradius, kernel.yradius)[0]
    nx = kernel.xradius - initx + 1
    return TAPS_2 if nx == 2 else TAPS_4 if nx == 4 else TAPS_ANY


def staged_masks_taps(staged: int, kernel: KernelArgs) -> bool:
    """Whether the staged kind takes masked sources' footprints with invalid taps itself (the
    per-pixel kernel then only gets the pixels at the window's edges).

    Examples
    --------
    >>> staged_masks_taps(K_SEPARABLE, KernelArgs(CUBIC, 0.4, 0.4, 5, 5, False, False))
    True
    >>> staged_masks_taps(K_CUBIC16, KernelArgs(CUBIC, 1.0, 1.0, 2, 2, True, False))
    False
    """
    return LITTLE_ENDIAN and (staged == K_LANCZOS or (staged == K_SEPARABLE and tap_class(staged, kernel) == TAPS_ANY))


@functools.cache
def _staged_row_kernel(kind: int, sclass: int, masked: int, taps: int) -> Any:
    """The staged kernel of chunks of destination rows for the staged ``kind``, the store class
    ``sclass``, sources with (``masked=1``) or without a validity mask, and the tap shape class
    ``taps`` (:func:`tap_class`), all compile-time constants of the generated function (Numba
    prunes the other branches before typing them, so a warp compiles only its own code; closures
    over integers are cached on disk like module-level functions).

    The kernel ``(flat, source, kernel, store, X, Y, OK, dst, drow0, produced, rest)`` warps a chunk
    of destination rows: ``flat`` (bands, rows * cols) is ``source.src`` reshaped once by the caller,
    read at flat indices ``(row0 + iy) * cols + col0 + ix``; X, Y, OK (rows, n) the rows' full-raster
    source coordinates; ``dst[:, drow0 + r, :]`` destination row ``r`` (a C-contiguous ``dst`` lets
    the stores vectorise); produced (rows, n) bool. ``kernel.direct_near``: K_NEAR copies values
    unconverted. Returns the number of pixels left for the per-pixel kernel, flagged in ``rest``
    (rows, n) bool. With a source mask (``source.has_valid``) pixels with invalid taps are left to the
    per-pixel kernel, except in the kinds of any tap count (:func:`staged_masks_taps`), which take
    them; densities never come here.

    Kinds of any tap count (``TAPS_ANY``): a kernel row's taps are read in 64-bit words (one load per
    8 uint8 / 4 int16 / 2 float32 taps, :func:`raster_core._kernels.words.load_word64`), then each
    tap is weighted and summed in one vectorised pass over the row of pixels (the per-pixel order).

    Each loop writes at most two arrays: more need more run-time alias checks than LLVM's
    vectoriser allows. Unconditional divisions replace GDAL's ``if div != 1`` (x / 1.0 == x).
    """

    if (kind == K_SEPARABLE or kind == K_LANCZOS) and taps == TAPS_ANY and LITTLE_ENDIAN:
        # a kernel of its own (this one's fixed-shape paths would cost its compilation, and its size
        # every other variant's: Numba's untyped passes see the branches it prunes)
        return _staged_any_kernel(kind, sclass, masked)

    @njit_variant(kind, sclass, masked, taps)
    def staged_rows(flat, source, kernel, store, XS, YS, OKS, dst, drow0, PRODUCED, REST):
        H = source.height
        W = source.width
        # row pitch and offset of the window in the flat source (exact in double arithmetic too)
        pitch = source.src.shape[2]
        base = source.row0 * pitch + source.col0
        fpitch = float(pitch)
        fbase = float(base)
        valid = source.valid
        xoff = source.xoff
        yoff = source.yoff
        meth, xradius, yradius, fast_path, sx, sy, initx, inity = kernel_taps(kernel)
        direct = kernel.direct_near
        work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide = store
        nb = flat.shape[0]
        n = XS.shape[1]
        fW = float(W)
        fH = float(H)
        fxo = float(xoff)
        fyo = float(yoff)
        # row buffers, allocated once per chunk of rows: separate arrays at their exact sizes (LLVM
        # then needs no run-time overlap checks between them, and slices would lose the C layout)
        nxs = 4 if kind == K_CUBIC16 else max(xradius - initx + 1, 1)
        nys = 4 if kind == K_CUBIC16 else max(yradius - inity + 1, 1)
        IDX = np.empty(n, dtype=np.int64)
        D = np.empty(n)
        E = np.empty(n)
        WT = np.empty(n)
        ACC = np.empty(n)
        SUMX = np.empty(n)
        SUMY = np.empty(n)
        WTM = np.empty(n)
        WX = np.empty((nxs, n))
        WY = np.empty((nys, n))
        G = np.empty((4, n), dtype=flat.dtype)
        G8 = np.empty((8, n), dtype=flat.dtype)
        P = np.empty((nys, n), dtype=np.uint64)
        nrest = 0
        for r in range(XS.shape[0]):
            drow = drow0 + r
            if kind == K_NEAR:
                for c in range(n):
                    Xf = XS[r, c]
                    Yf = YS[r, c]
                    inw = _in_window(OKS[r, c], Xf, Yf, fxo, fyo, fW, fH)
                    ix = min(int(Xf + 1e-10 if inw else fxo) - xoff, W - 1)
                    iy = min(int(Yf + 1e-10 if inw else fyo) - yoff, H - 1)
                    IDX[c] = iy * pitch + ix + base if inw else _SKIP
                    D[c] = float(iy * W + ix)  # the pixel's index in the window's mask
                if masked == 1:
                    vflat = valid.reshape(H * W)
                    for c in range(n):
                        i = IDX[c]
                        IDX[c] = i if vflat[np.uint64(D[c])] != 0 else _SKIP
                for b in range(nb):
                    fb = flat[b]
                    out = dst[b, drow]
                    if direct:
                        for c in range(n):
                            i = IDX[c]
                            v = fb[np.uint64(max(i, 0))]
                            out[c] = v if i >= 0 else out[c]
                    else:
                        for c in range(n):
                            i = IDX[c]
                            w = _store(float(fb[np.uint64(max(i, 0))]), sclass, work_kind, wmin, wmax, dst_is_int, dmin,
                                       dmax, dst_nodata, collide)
                            out[c] = w if i >= 0 else out[c]
                for c in range(n):
                    PRODUCED[r, c] = PRODUCED[r, c] | (IDX[c] >= 0)
                continue

            if kind == K_BILINEAR4:
                lo_x, hi_x, lo_y, hi_y = 0.0, 1.0, 0.0, 1.0
            elif kind == K_CUBIC16:
                lo_x, hi_x, lo_y, hi_y = -1.0, 2.0, -1.0, 2.0
            else:
                lo_x, hi_x, lo_y, hi_y = float(initx), float(xradius), float(inity), float(yradius)
            for c in range(n):
                Xf = XS[r, c]
                Yf = YS[r, c]
                inw = _in_window(OKS[r, c], Xf, Yf, fxo, fyo, fW, fH)
                dx = Xf - fxo
                dy = Yf - fyo
                fx = np.floor(dx - 0.5)
                fy = np.floor(dy - 0.5)
                # interior: the kernel's taps [fx + lo, fx + hi] x [fy + lo, fy + hi] are inside the window
                ok = inw & (fx + lo_x >= 0.0) & (fx + hi_x <= fW - 1.0) & (fy + lo_y >= 0.0) & (fy + hi_y <= fH - 1.0)
                # flat index of the first tap, in exact double arithmetic (< 2**53): one conversion and
                # no 64-bit integer multiply in the vectorised loop
                fi = (fy + lo_y) * fpitch + (fx + lo_x) + fbase if ok else 0.0
                IDX[c] = int(fi) if ok else (_REST if inw else _SKIP)
                D[c] = dx - 0.5 - fx
            for c in range(n):
                dy = YS[r, c] - fyo
                E[c] = dy - 0.5 - np.floor(dy - 0.5)
            if masked == 1 and kind != K_SEPARABLE:
                # masked source (K_BILINEAR4, K_CUBIC16): a pixel whose centre pixel and taps are all valid
                # gets exactly the unmasked arithmetic in the per-pixel kernel; the others go there
                ntap = 2 if kind == K_BILINEAR4 else 4
                _require_valid_taps(valid, XS, YS, r, xoff, yoff, ntap, ntap, IDX, lo_x, lo_y)
            if kind == K_BILINEAR4:
                # D, E -> rx = 1 - d, ry = 1 - e (``_loop_4sample``); every weight > 0, sum ~1, never
                # below GDAL's 1e-5 cut
                uW = np.uint64(pitch)
                packed = packs(flat, 2)
                for b in range(nb):
                    fb = flat[b]
                    out = dst[b, drow]
                    # gather the 4 taps (scalar loads; a word per kernel row when they fit, unpacked into
                    # rows), then the arithmetic in one vectorised loop (one copy of it: compile time)
                    if packed:
                        for c in range(n):
                            i = np.uint64(max(IDX[c], 0))
                            P[0, c] = load_word(fb, i, 2)
                            P[1, c] = load_word(fb, i + uW, 2)
                        for c in range(n):
                            G[0, c] = lane(P[0, c], 0, fb)
                            G[1, c] = lane(P[0, c], 1, fb)
                        for c in range(n):
                            G[2, c] = lane(P[1, c], 0, fb)
                            G[3, c] = lane(P[1, c], 1, fb)
                    else:
                        for c in range(n):
                            i = np.uint64(max(IDX[c], 0))
                            j = i + uW
                            G[0, c] = fb[i]
                            G[1, c] = fb[i + _U1]
                            G[2, c] = fb[j]
                            G[3, c] = fb[j + _U1]
                    for c in range(n):
                        rx = 1.0 - D[c]
                        ry = 1.0 - E[c]
                        m0 = rx * ry
                        m1 = (1.0 - rx) * ry
                        m2 = rx * (1.0 - ry)
                        m3 = (1.0 - rx) * (1.0 - ry)
                        p01 = float(G[0, c]) * m0 + float(G[1, c]) * m1
                        # GDAL's general path adds the taps one by one; its fast path (as here) in pairs
                        val = (p01 + (float(G[2, c]) * m2 + float(G[3, c]) * m3) if fast_path
                               else (p01 + float(G[2, c]) * m2) + float(G[3, c]) * m3)
                        val = val / (m0 + m1 + m2 + m3)
                        w = _store(val, sclass, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide)
                        out[c] = w if IDX[c] >= 0 else out[c]
                nrest += _finish(IDX, PRODUCED, REST, r)
                continue

            # K_CUBIC16 and K_SEPARABLE: separable weights per pixel, stored tap-major (WX[k, c])
            if kind == K_CUBIC16:
                nx = 4
                ny = 4
            else:
                nx = xradius - initx + 1
                ny = yradius - inity + 1
            if kind == K_CUBIC16:
                if not packs(flat, 4):
                    # (packed taps: the fused loop below computes the weights from D and E itself, which
                    # is faster than 8 passes writing them to memory and reading them back, even when
                    # they are recomputed for each band)
                    _cubic4_weights(D, WX)
                    _cubic4_weights(E, WY)
            else:
                SUMX[:] = 0.0
                SUMY[:] = 0.0
                _tap_weights(meth, D, initx, sx, WX, SUMX)
                _tap_weights(meth, E, inity, sy, WY, SUMY)
                if masked == 1:
                    _masked_separable_flags(valid, XS, YS, r, xoff, yoff, WY, SUMX, nx, IDX, WT, WTM, lo_x, lo_y)
                else:
                    _weight_totals(SUMX, SUMY, WY, fast_path, IDX, WT)
            # the 4x4 cubic sums have no leading 0.0 term; -0.0 + x == x for every x, so starting the
            # sums at -0.0 reproduces them exactly, and 0.0 reproduces the separable kernels' sums
            z = -0.0 if kind == K_CUBIC16 else 0.0
            uW = np.uint64(pitch)
            for b in range(nb):
                fb = flat[b]
                # per pixel: the gathers are scalar loads anyway; the weights come from stage 1 and the
                # horizontal taps are unrolled for the common widths (2: bilinear, 4: cubic/cubicspline)
                if taps == TAPS_2 and ny == 4:
                    # bilinear widened in y only (e.g. UTM -> lon/lat): gather the 8 taps, then one
                    # vectorised loop with the sums unrolled in the same order
                    for c in range(n):
                        k = np.uint64(max(IDX[c], 0))
                        G8[0, c] = fb[k]
                        G8[1, c] = fb[k + _U1]
                        k = k + uW
                        G8[2, c] = fb[k]
                        G8[3, c] = fb[k + _U1]
                        k = k + uW
                        G8[4, c] = fb[k]
                        G8[5, c] = fb[k + _U1]
                        k = k + uW
                        G8[6, c] = fb[k]
                        G8[7, c] = fb[k + _U1]
                    for c in range(n):
                        w0 = WX[0, c]
                        w1 = WX[1, c]
                        acc = z + WY[0, c] * (z + w0 * float(G8[0, c]) + w1 * float(G8[1, c]))
                        acc = acc + WY[1, c] * (z + w0 * float(G8[2, c]) + w1 * float(G8[3, c]))
                        acc = acc + WY[2, c] * (z + w0 * float(G8[4, c]) + w1 * float(G8[5, c]))
                        acc = acc + WY[3, c] * (z + w0 * float(G8[6, c]) + w1 * float(G8[7, c]))
                        ACC[c] = acc
                elif taps == TAPS_2:
                    for c in range(n):
                        k = np.uint64(max(IDX[c], 0))
                        w0 = WX[0, c]
                        w1 = WX[1, c]
                        acc = z
                        for j in range(ny):
                            rv = z + w0 * float(fb[k])
                            rv = rv + w1 * float(fb[k + _U1])
                            acc = acc + WY[j, c] * rv
                            k = k + uW
                        ACC[c] = acc
                elif taps == TAPS_4 and packs(flat, 4):
                    # per kernel row: the 4 taps in one word (a load), then unpack, weight and accumulate
                    # them in a vectorised loop (same products and sums, same order)
                    if kind == K_CUBIC16:
                        # 4x4 taps: gather, then sums and store in one loop (separable kinds, whose tap
                        # counts vary at run time, keep the per-row loops below: less code to compile)
                        for c in range(n):
                            k = np.uint64(max(IDX[c], 0))
                            P[0, c] = load_word(fb, k, 4)
                            k = k + uW
                            P[1, c] = load_word(fb, k, 4)
                            k = k + uW
                            P[2, c] = load_word(fb, k, 4)
                            k = k + uW
                            P[3, c] = load_word(fb, k, 4)
                        out = dst[b, drow]
                        for c in range(n):
                            # (one call site per inlined helper: each site costs Numba compile time)
                            x0, x1, x2, x3 = _cubic4(D[c])
                            wy = _cubic4(E[c])
                            acc = z
                            for j in range(4):
                                acc = acc + wy[j] * _packed_row4(P[j, c], x0, x1, x2, x3, z, fb)
                            w = _store(acc, sclass, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide)
                            out[c] = w if IDX[c] >= 0 else out[c]
                        continue
                    for j in range(ny):
                        off = np.uint64(j * pitch)
                        for c in range(n):
                            P[j, c] = load_word(fb, np.uint64(max(IDX[c], 0)) + off, 4)
                    for j in range(ny):
                        for c in range(n):
                            ACC[c] = (z if j == 0 else ACC[c]) + WY[j, c] * _packed_row4(P[j, c], WX[0, c], WX[1, c],
                                                                                           WX[2, c], WX[3, c], z, fb)
                elif taps == TAPS_4:
                    # per kernel row: gather the 4 taps (scalar loads into contiguous rows), then weight and
                    # accumulate them in a vectorised loop (same products and sums, same order)
                    for j in range(ny):
                        off = j * pitch
                        for c in range(n):
                            k = np.uint64(max(IDX[c], 0) + off)
                            G[0, c] = fb[k]
                            G[1, c] = fb[k + _U1]
                            G[2, c] = fb[k + _U2]
                            G[3, c] = fb[k + _U3]
                        for c in range(n):
                            rv = z + WX[0, c] * float(G[0, c])
                            rv = rv + WX[1, c] * float(G[1, c])
                            rv = rv + WX[2, c] * float(G[2, c])
                            rv = rv + WX[3, c] * float(G[3, c])
                            ACC[c] = (z if j == 0 else ACC[c]) + WY[j, c] * rv
                else:
                    for c in range(n):
                        k = np.uint64(max(IDX[c], 0))
                        acc = z
                        for j in range(ny):
                            rv = z
                            for t in range(nx):
                                rv = rv + WX[t, c] * float(fb[k + np.uint64(t)])
                            acc = acc + WY[j, c] * rv
                            k = k + uW
                        ACC[c] = acc
                out = dst[b, drow]
                if kind == K_CUBIC16:  # no normalisation
                    for c in range(n):
                        w = _store(ACC[c], sclass, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide)
                        out[c] = w if IDX[c] >= 0 else out[c]
                else:
                    for c in range(n):
                        w = _store(ACC[c] / WT[c], sclass, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata,
                                   collide)
                        out[c] = w if IDX[c] >= 0 else out[c]
            nrest += _finish(IDX, PRODUCED, REST, r)
            continue

        return nrest

    return staged_rows


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _interior_row(X, Y, OK, fxo, fyo, fW, fH, lo_x, hi_x, lo_y, hi_y, fpitch, fbase, IDX, D, E):
    """Stage 1 of one row of the separable kinds, as in :func:`_staged_row_kernel`: IDX[c] = the flat
    source index of the first tap of the pixels whose taps [fx + lo_x, fx + hi_x] x [fy + lo_y,
    fy + hi_y] are inside the window (else _REST inside the window, _SKIP outside), D, E = the
    fractional offsets."""
    for c in range(IDX.shape[0]):
        Xf = X[c]
        Yf = Y[c]
        inw = _in_window(OK[c], Xf, Yf, fxo, fyo, fW, fH)
        dx = Xf - fxo
        dy = Yf - fyo
        fx = np.floor(dx - 0.5)
        fy = np.floor(dy - 0.5)
        ok = inw & (fx + lo_x >= 0.0) & (fx + hi_x <= fW - 1.0) & (fy + lo_y >= 0.0) & (fy + hi_y <= fH - 1.0)
        fi = (fy + lo_y) * fpitch + (fx + lo_x) + fbase if ok else 0.0
        IDX[c] = int(fi) if ok else (_REST if inw else _SKIP)
        D[c] = dx - 0.5 - fx
    for c in range(IDX.shape[0]):
        dy = Y[c] - fyo
        E[c] = dy - 0.5 - np.floor(dy - 0.5)
    return 0


@functools.cache
def _staged_any_kernel(kind: int, sclass: int, masked: int) -> Any:
    """The staged kernel of the separable kinds of any tap count (widened ``K_SEPARABLE`` with
    ``TAPS_ANY``, ``K_LANCZOS``), little-endian machines; the arguments and results of
    :func:`_staged_row_kernel`'s kernels. Per row: the interior (:func:`_interior_row`), the weights,
    with a source mask or lanczos the kept taps and GDAL's totals (:func:`_kept_taps`), then per
    band the sums (:func:`_any_tap_sums`), normalised and stored."""
    lanczos = kind == K_LANCZOS
    # taps masked per pixel (a source mask, lanczos' trimmed taps)
    mask_taps = masked == 1 or kind == K_LANCZOS

    @njit_variant(kind, sclass, masked)
    def staged_any_rows(flat, source, kernel, store, XS, YS, OKS, dst, drow0, PRODUCED, REST):
        W = source.width
        H = source.height
        pitch = source.src.shape[2]
        fbase = float(source.row0 * pitch + source.col0)
        valid = source.valid
        xoff = source.xoff
        yoff = source.yoff
        meth, xradius, yradius, fast_path, sx, sy, initx, inity = kernel_taps(kernel)
        work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide = store
        nb = flat.shape[0]
        n = XS.shape[1]
        nx = xradius - initx + 1
        ny = yradius - inity + 1
        lo_x, hi_x, lo_y, hi_y = float(initx), float(xradius), float(inity), float(yradius)
        IDX = np.empty(n, dtype=np.int64)
        D = np.empty(n)
        E = np.empty(n)
        WT = np.empty(n)
        ACC = np.empty(n)
        SUMX = np.empty(n)
        SUMY = np.empty(n)
        WTM = np.empty(n)
        WX = np.empty((nx, n))
        WY = np.empty((ny, n))
        # a kernel row's taps in nw 64-bit words of NL values each; span: the flat index after the last
        # value a pixel's words read, relative to its first tap
        NL = word_lanes(flat)
        nw = (nx + NL - 1) // NL
        PW = np.empty((ny * nw, n), dtype=np.uint64)
        RV = np.empty(n)
        span = (ny - 1) * pitch + nw * NL
        total = flat.shape[1]
        # the kept taps, a byte each in (nx + 7) // 8 words per kernel row (see _kept_taps); lanczos: the
        # kept tap ranges per axis, the sine recurrences' states, the kept taps' counts
        VW = np.empty((ny * ((nx + 7) // 8) if mask_taps else 0, n), dtype=np.uint64)
        RW = np.empty(n if mask_taps else 0)
        VI = np.empty(n if masked == 1 else 0, dtype=np.int64)
        nl = n if lanczos else 0
        TLH = np.empty((2, nl), dtype=np.int64)
        JLH = np.empty((2, nl), dtype=np.int64)
        SN = np.empty(nl)
        CS = np.empty(nl)
        S3 = np.empty(nl)
        C3 = np.empty(nl)
        XV = np.empty(nl)
        NV = np.empty(nl, dtype=np.int64)
        nrest = 0
        for r in range(XS.shape[0]):
            _interior_row(XS[r], YS[r], OKS[r], float(xoff), float(yoff), float(W), float(H), lo_x, hi_x, lo_y, hi_y,
                          float(pitch), fbase, IDX, D, E)
            if lanczos:
                _lanczos_weights(D, initx, xradius, sx, WX, SUMX, TLH, SN, CS, S3, C3, XV)
                _lanczos_weights(E, inity, yradius, sy, WY, SUMY, JLH, SN, CS, S3, C3, XV)
            else:
                SUMX[:] = 0.0
                SUMY[:] = 0.0
                _tap_weights(meth, D, initx, sx, WX, SUMX)
                _tap_weights(meth, E, inity, sy, WY, SUMY)
            if mask_taps:
                _kept_taps(lanczos, masked == 1, valid, XS[r], YS[r], xoff, yoff, lo_x, lo_y, TLH, JLH, VI, VW, RW,
                           NV, IDX, WX, WY, SUMX, SUMY, WTM, WT)
            else:
                _weight_totals(SUMX, SUMY, WY, fast_path, IDX, WT)
            # the last word of a kernel row can reach past its last tap: a pixel whose words would end
            # past the source buffer (its last rows only) goes to the per-pixel kernel
            for c in range(n):
                i = IDX[c]
                IDX[c] = _REST if (i >= 0 and i + span > total) else i
            for b in range(nb):
                fb = flat[b]
                _any_tap_sums(fb, IDX, pitch, PW, VW, mask_taps, lanczos and masked == 1, valid, WX, WY, RV, ACC)
                out = dst[b, drow0 + r]
                for c in range(n):
                    # (GDAL's lanczos multiplies by the reciprocal of the weight total)
                    v = ACC[c] * (1.0 / WT[c]) if lanczos else ACC[c] / WT[c]
                    w = _store(v, sclass, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide)
                    out[c] = w if IDX[c] >= 0 else out[c]
            nrest += _finish(IDX, PRODUCED, REST, r)
        return nrest

    return staged_any_rows


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _weight_totals(SUMX, SUMY, WY, fast_path, IDX, WT):
    """Unmasked separable kernels (not lanczos): WT[c] = the divisor of pixel c: with GDAL's fast
    path the product of its weight sums per axis; without it the total accumulated row by row,
    ``wt += wy[j] * sumx`` (GDAL's general path; a total within 1e-5 of 1 is not divided by,
    WT = 1.0). Staged pixels whose total is zero (without the fast path: below 1e-6) are left to
    the per-pixel kernel (IDX = _REST)."""
    if not fast_path:
        for c in range(IDX.shape[0]):
            WT[c] = 0.0
        for j in range(WY.shape[0]):
            for c in range(IDX.shape[0]):
                WT[c] = WT[c] + WY[j, c] * SUMX[c]
    for c in range(IDX.shape[0]):
        i = IDX[c]
        if fast_path:
            wt = SUMX[c] * SUMY[c]
            ok = wt != 0.0
            WT[c] = wt
        else:
            wt = WT[c]
            ok = (wt != 0.0) & (wt >= 1e-6)
            WT[c] = wt if abs(wt - 1.0) > 1e-5 else 1.0
        IDX[c] = i if (ok or i < 0) else _REST
    return 0


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _packed_row4(g, w0, w1, w2, w3, z, like):
    """One kernel row's weighted sum (weights ``w0..w3``) of its 4 taps packed in the word ``g``
    (``like``: the source array, for the taps' type), in the per-pixel kernels' order."""
    rv = z + w0 * float(lane(g, 0, like))
    rv = rv + w1 * float(lane(g, 1, like))
    rv = rv + w2 * float(lane(g, 2, like))
    return rv + w3 * float(lane(g, 3, like))


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _require_valid_taps(valid, X, Y, r, xoff, yoff, nx, ny, IDX, lo_x, lo_y):
    """Send to the per-pixel kernel (IDX = _REST) the staged pixels whose centre pixel (GDAL's
    centre-pixel rule) or one of whose ``nx`` x ``ny`` taps (the first at ``lo_x``, ``lo_y`` from
    floor(x - 0.5), floor(y - 0.5) in the window) is invalid."""
    H = valid.shape[0]
    W = valid.shape[1]
    vflat = valid.reshape(H * W)
    uW = np.uint64(W)
    for c in range(IDX.shape[0]):
        i = IDX[c]
        if i < 0:
            continue
        cx = min(int(X[r, c] + 1e-10) - xoff, W - 1)
        cy = min(int(Y[r, c] + 1e-10) - yoff, H - 1)
        good = vflat[np.uint64(cy * W + cx)] != 0
        fx = np.floor(X[r, c] - xoff - 0.5) + lo_x
        fy = np.floor(Y[r, c] - yoff - 0.5) + lo_y
        k = np.uint64(fy * W + fx)  # the first tap in the window's mask
        for _ in range(ny):
            if nx == 4:
                good = (good and vflat[k] != 0 and vflat[k + _U1] != 0 and vflat[k + _U2] != 0
                        and vflat[k + _U3] != 0)
            elif nx == 2:
                good = good and vflat[k] != 0 and vflat[k + _U1] != 0
            else:
                for t in range(nx):
                    good = good and vflat[k + np.uint64(t)] != 0
            k = k + uW
        if not good:
            IDX[c] = _REST
    return 0


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _masked_separable_flags(valid, X, Y, r, xoff, yoff, WY, SUMX, nx, IDX, WT, WTM, lo_x, lo_y):
    """Masked source, separable kernels: a pixel whose centre pixel and ``nx`` x ``ny`` taps are
    all valid gets the unmasked sums in ``interp._separable_kernel``'s masked branch, but its weight
    total is accumulated row by row (``wt += wy[j] * rw``, rw = the x-weights' sum = SUMX) and it
    is divided by it when |wt - 1| > 1e-5 (its density is exactly 1 then, or within 1e-5 of 1:
    no blending). Sets WT (the divisor, 1.0 = none) and sends the other pixels to the
    per-pixel kernel (IDX = _REST)."""
    n = IDX.shape[0]
    ny = WY.shape[0]
    WTM[:] = 0.0
    for j in range(ny):
        wyj = WY[j]
        for c in range(n):
            WTM[c] = WTM[c] + wyj[c] * SUMX[c]
    for c in range(n):
        wt = WTM[c]
        i = IDX[c]
        WT[c] = wt if abs(wt - 1.0) > 1e-5 else 1.0
        IDX[c] = i if (wt >= 1e-6 or i < 0) else _REST
    _require_valid_taps(valid, X, Y, r, xoff, yoff, nx, ny, IDX, lo_x, lo_y)
    return 0


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _lanczos_weights(D, init, radius, s, WK, SUM, LH, SN, CS, S3, C3, XV):
    """Lanczos-3 tap weights of every D[c] with ``interp._separable_kernel``'s arithmetic (GDAL's): the
    kept taps LH[0, c] .. LH[1, c] (tap indices from ``init``) are those where the kernel can be
    non-zero; into WK[k, c], 0.0 elsewhere, and SUM[c] = their sum in tap order. At scale >= 1 three
    numerators per pixel (in SN, CS, S3) over (k - d)^2; below 1 a sine recurrence started at the
    first kept tap (its trig calls per pixel), advanced a tap at a time over the whole row with
    x += s (in XV). Vectorised loops, each writing at most two arrays."""
    n = D.shape[0]
    down = s < 1.0
    co3, so3, cS, sS = lanczos_down_steps(s)
    for c in range(n):
        d = D[c]
        lo, hi = lanczos_taps(init, radius, d, s)
        LH[0, c] = lo - init
        LH[1, c] = hi - init
        if down:
            x0 = (lo - d) * s
            XV[c] = x0
            SN[c], CS[c], S3[c], C3[c] = lanczos_down_start(x0)
        else:
            SN[c], CS[c], S3[c] = lanczos_up_numerators(d)
    for k in range(WK.shape[0]):
        if down:
            # the recurrence advances at each kept tap after the first
            for c in range(n):
                adv = k > LH[0, c]
                XV[c] = XV[c] + s if adv else XV[c]
            for c in range(n):
                sn = SN[c]
                cs = CS[c]
                adv = k > LH[0, c]
                SN[c] = sn * cS + cs * sS if adv else sn
                CS[c] = cs * cS - sn * sS if adv else cs
            for c in range(n):
                s3 = S3[c]
                c3 = C3[c]
                adv = k > LH[0, c]
                S3[c] = s3 * co3 + c3 * so3 if adv else s3
                C3[c] = c3 * co3 - s3 * so3 if adv else c3
            for c in range(n):
                w = lanczos_down_weight(XV[c], SN[c], S3[c])
                WK[k, c] = w if (k >= LH[0, c]) & (k <= LH[1, c]) else 0.0
        else:
            kk = k + init
            m = (kk + 3) % 3
            fk = float(kk)
            for c in range(n):
                x = fk - D[c]
                num = SN[c] if m == 0 else (CS[c] if m == 1 else S3[c])
                w = 1.0 if x == 0.0 else num / (x * x)
                WK[k, c] = w if (k >= LH[0, c]) & (k <= LH[1, c]) else 0.0
        for c in range(n):
            SUM[c] = (0.0 if k == 0 else SUM[c]) + WK[k, c]
    return 0


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _kept_taps(lanczos, masked, valid, X, Y, xoff, yoff, lo_x, lo_y, TLH, JLH, VI, VW, RW, NV, IDX, WX, WY, SUMX, SUMY,
               WTM, WT):
    """One destination row of the staged kinds of any tap count with taps masked per pixel (a source
    mask, lanczos' trimmed taps): VW[j * nwv + q, c] = the kept taps (a byte each, 1 = kept: valid
    in the source mask and, for lanczos, inside the pixel's tap ranges TLH, JLH) of kernel row j;
    then GDAL's weight totals and tests, those of ``interp._separable_kernel``: WT[c] = the divisor
    (1.0 = none), and IDX[c] = _SKIP for the pixels it skips (centre pixel invalid, weight total
    below 1e-6 (0 unmasked), lanczos with fewer than half its taps valid), _REST for those whose
    mask words would end past the mask (its last rows). A separate function: compiled only where
    used, and once for every data type."""
    n = IDX.shape[0]
    nx = WX.shape[0]
    ny = WY.shape[0]
    nwv = VW.shape[0] // ny
    H = valid.shape[0]
    W = valid.shape[1]
    vflat = valid.reshape(H * W)
    fxo = float(xoff)
    fyo = float(yoff)
    if masked:
        _centre_valid(valid, X, Y, xoff, yoff, IDX)
        vspan = (ny - 1) * W + nwv * 8
        for c in range(n):
            # the first tap's index in the window's mask
            VI[c] = int((np.floor(Y[c] - fyo - 0.5) + lo_y) * float(W) + np.floor(X[c] - fxo - 0.5) + lo_x)
            i = IDX[c]
            IDX[c] = _REST if (i >= 0 and VI[c] + vspan > H * W) else i
    for j in range(ny):
        for q in range(nwv):
            off = j * W + q * 8
            row = j * nwv + q
            b0 = q * 8
            for c in range(n):
                w = _ONES
                if masked:
                    # (the mask bytes made 0/1: OR of each byte's bits into its lowest)
                    v = load_word64(vflat, np.uint64(VI[c] + off)) if IDX[c] >= 0 else _ZERO
                    v = v | (v >> _U4)
                    v = v | (v >> _U2)
                    v = v | (v >> _U1)
                    w = v & _ONES
                if lanczos:
                    lo = min(max(TLH[0, c] - b0, 0), 7)
                    hi = min(max(TLH[1, c] - b0, 0), 7)
                    m = (_ONES >> np.uint64(8 * (7 - hi))) & (_ONES << np.uint64(8 * lo))
                    inside = (TLH[0, c] - b0 <= 7) & (TLH[1, c] - b0 >= 0) & (j >= JLH[0, c]) & (j <= JLH[1, c])
                    w = (w & m) if inside else _ZERO
                    # (the bytes' sum in the top byte)
                    NV[c] = (0 if row == 0 else NV[c]) + np.int64((w * _ONES) >> _U56)
                VW[row, c] = w
    if masked and lanczos:
        # GDAL's masked lanczos: one flat sum of wy * wx over the taps kept (those left out add exact zeros)
        for j in range(ny):
            for t in range(nx):
                q = j * nwv + t // 8
                sh = t % 8
                for c in range(n):
                    ok = lane(VW[q, c], sh, vflat) != 0
                    w2 = WY[j, c] * WX[t, c]
                    WTM[c] = (0.0 if j + t == 0 else WTM[c]) + (w2 if ok else 0.0)
    elif masked:
        # the weight totals over the taps kept (GDAL's masked sums: per kernel row the x-weights of its
        # valid taps, then wt += wy * rw; the taps left out add exact zeros)
        for j in range(ny):
            for t in range(nx):
                q = j * nwv + t // 8
                sh = t % 8
                for c in range(n):
                    ok = lane(VW[q, c], sh, vflat) != 0
                    wv = WX[t, c]
                    RW[c] = (0.0 if t == 0 else RW[c]) + (wv if ok else 0.0)
            for c in range(n):
                WTM[c] = (0.0 if j == 0 else WTM[c]) + WY[j, c] * RW[c]
    for c in range(n):
        i = IDX[c]
        if masked:
            wt = WTM[c]
            keep = wt >= 1e-6
        else:
            wt = SUMX[c] * SUMY[c]
            keep = (wt != 0.0) & (wt >= 1e-6)
        if lanczos:
            keep = keep & (TLH[0, c] <= TLH[1, c]) & (JLH[0, c] <= JLH[1, c])
            if masked:
                keep = keep & (NV[c] >= ((TLH[1, c] - TLH[0, c] + 1) * (JLH[1, c] - JLH[0, c] + 1)) // 2)
        WT[c] = wt if abs(wt - 1.0) > 1e-5 else 1.0
        # a pixel the per-pixel kernel would skip is neither staged nor left to it
        IDX[c] = i if (keep or i < 0) else _SKIP
    return 0


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _any_tap_sums(fb, IDX, pitch, PW, VW, masked_taps, flat_sums, valid, WX, WY, RV, ACC):
    """The weighted sums ACC[c] of one band (flat source ``fb``) over the nx x ny taps of the pixels
    with IDX[c] >= 0 (the flat index of their first tap): per kernel row its 64-bit words (a load
    each, into PW), then per tap one vectorised pass over the row, in the per-pixel kernel's order
    (rv = ((0 + w0 g0) + w1 g1) ..., acc = (0 + wy0 rv0) + ...). ``masked_taps``: the taps not kept in
    VW (see :func:`_kept_taps`) read as 0.0, their products exact zeros. ``flat_sums`` (lanczos with a
    source mask, GDAL's order there): acc = (0 + g00 (wy0 wx0)) + g01 (wy0 wx1) ... over all taps."""
    n = IDX.shape[0]
    nx = WX.shape[0]
    ny = WY.shape[0]
    NL = word_lanes(fb)
    nw = PW.shape[0] // ny
    nwv = VW.shape[0] // ny
    for j in range(ny):
        for q in range(nw):
            off = np.uint64(j * pitch + q * NL)
            row = j * nw + q
            for c in range(n):
                i = IDX[c]
                if i >= 0:
                    PW[row, c] = load_word64(fb, np.uint64(i) + off)
    for j in range(ny):
        for t in range(nx):
            row = j * nw + t // NL
            sh = t % NL
            if flat_sums:
                q = j * nwv + t // 8
                sh8 = t % 8
                for c in range(n):
                    ok = lane(VW[q, c], sh8, valid) != 0
                    gv = float(lane(PW[row, c], sh, fb))
                    g = gv if ok else 0.0
                    ACC[c] = (0.0 if j + t == 0 else ACC[c]) + g * (WY[j, c] * WX[t, c])
            elif masked_taps:
                q = j * nwv + t // 8
                sh8 = t % 8
                for c in range(n):
                    ok = lane(VW[q, c], sh8, valid) != 0
                    # (loaded unconditionally, then selected: a load under the condition made LLVM
                    # emit masked loads, 100 times slower here)
                    gv = float(lane(PW[row, c], sh, fb))
                    g = gv if ok else 0.0
                    RV[c] = (0.0 if t == 0 else RV[c]) + WX[t, c] * g
            elif NL == 8 and sh == 0 and t + 8 <= nx:
                # a whole word's taps in one pass (the same sums in the same order; the other taps of
                # the word are skipped below): RV stays in a register across them
                for c in range(n):
                    wd = PW[row, c]
                    rv = (0.0 if t == 0 else RV[c]) + WX[t, c] * float(lane(wd, 0, fb))
                    rv = rv + WX[t + 1, c] * float(lane(wd, 1, fb))
                    rv = rv + WX[t + 2, c] * float(lane(wd, 2, fb))
                    rv = rv + WX[t + 3, c] * float(lane(wd, 3, fb))
                    rv = rv + WX[t + 4, c] * float(lane(wd, 4, fb))
                    rv = rv + WX[t + 5, c] * float(lane(wd, 5, fb))
                    rv = rv + WX[t + 6, c] * float(lane(wd, 6, fb))
                    RV[c] = rv + WX[t + 7, c] * float(lane(wd, 7, fb))
            elif NL == 8 and t + 8 - sh <= nx:
                pass  # done with the word's first tap
            else:
                for c in range(n):
                    RV[c] = (0.0 if t == 0 else RV[c]) + WX[t, c] * float(lane(PW[row, c], sh, fb))
        if not flat_sums:
            for c in range(n):
                ACC[c] = (0.0 if j == 0 else ACC[c]) + WY[j, c] * RV[c]
    return 0


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _centre_valid(valid, X, Y, xoff, yoff, IDX):
    """Skip (IDX = _SKIP) the staged pixels whose centre pixel (GDAL's centre-pixel rule) is invalid:
    the per-pixel kernel produces nothing there."""
    H = valid.shape[0]
    W = valid.shape[1]
    for c in range(IDX.shape[0]):
        i = IDX[c]
        if i < 0:
            continue
        cx = min(int(X[c] + 1e-10) - xoff, W - 1)
        cy = min(int(Y[c] + 1e-10) - yoff, H - 1)
        IDX[c] = i if valid[cy, cx] != 0 else _SKIP
    return 0


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _finish(IDX, produced, rest, r):
    """Row ``r`` of the chunk: produced |= done; rest = left to the per-pixel kernel; returns how
    many are left."""
    nrest = 0
    for c in range(IDX.shape[0]):
        produced[r, c] = produced[r, c] | (IDX[c] >= 0)
    for c in range(IDX.shape[0]):
        left = IDX[c] == _REST
        rest[r, c] = left
        nrest += left
    return nrest


#: destination pixels per chunk of rows of :func:`run_rows` with planned coordinates (fill, staged
#: kernel, per-pixel kernel). Each chunk costs ~12 us of calls (argument unboxing), which showed
#: below 64k pixels (random case 12, nearest: 4.1-4.6 ms at 32k, 3.9 ms at 128k); at 256k the
#: fresh coordinate buffers cost page faults (case 0: 6.2 -> 10-11 ms)
CHUNK_POINTS = 131072

class RowKernels(NamedTuple):
    """The kernels of a warp's rows, chosen by :func:`select_row_kernels`."""

    staged: int  #: K_* (K_NONE: every pixel by the per-pixel kernel)
    pixel: int  #: P_*: the per-pixel kernel of the pixels not staged
    sclass: int  #: S_*: the staged kernels' store class


def select_row_kernels(method: int, xscale: float, yscale: float, fast_path: bool, src_w: int, src_h: int,
                       xradius: int, yradius: int, *, has_dens: bool, direct_near: bool, store_int: bool,
                       reference: bool = False) -> RowKernels:
    """The one execution path of an interpolating warp's rows, a pure function of the plan.

    ``reference=True`` selects the per-pixel kernels only (the reference the staged kernels are
    tested against bit for bit). ``store_int``: integer working and destination types and no
    nodata collision rule (store class S_INT, whose stores compile without the other conversions).

    Examples
    --------
    >>> select_row_kernels(NEAR, 1.0, 1.0, True, 100, 100, 1, 1, has_dens=False, direct_near=True,
    ...                    store_int=False)
    RowKernels(staged=0, pixel=-1, sclass=0)
    >>> select_row_kernels(CUBIC, 0.5, 0.5, True, 100, 100, 4, 4, has_dens=True, direct_near=False,
    ...                    store_int=True).staged == K_NONE
    True
    """
    pixel = pixel_kind(method, xscale, yscale, fast_path, src_w, src_h, xradius, yradius)
    staged = K_NONE
    if not reference and not has_dens:
        initx, inity = first_taps(method, fast_path, xradius, yradius)
        staged = staged_kind(method, xscale, yscale, fast_path, src_w, src_h, xradius, yradius, initx, inity)
    if staged == K_NEAR:
        pixel = P_NONE
    elif pixel == P_NEAR and direct_near:
        pixel = P_NEAR_DIRECT
    sclass = S_INT if store_int and staged != K_NONE else S_ANY
    return RowKernels(staged, pixel, sclass)


def _pixel_kernel(kind: int, masked: int, source: SourceArgs, kernel: KernelArgs, X: np.ndarray, Y: np.ndarray,
                  OK: np.ndarray, dest: DestArgs, store: StoreArgs) -> None:
    if kind == P_SEPARABLE:
        _separable_kernel(masked)(source, kernel, X, Y, OK, dest, store)
    elif kind == P_BILINEAR4 or kind == P_CUBIC16:
        _loop_4sample(source, X, Y, OK, kind == P_CUBIC16, kernel.fast_path, dest, store)
    elif kind == P_NEAR:
        _loop_near(source, X, Y, OK, dest, store)
    elif kind == P_NEAR_DIRECT:
        warp_near_direct(source, X, Y, OK, dest)


def run_rows(kernels: RowKernels, coords: PlannedCoords | ArrayCoords, source: SourceArgs, kernel: KernelArgs,
             store: StoreArgs, dest: DestArgs, chunk_points: int = CHUNK_POINTS) -> None:
    """Warp the rows of ``coords`` into ``dest`` with the kernels chosen by :func:`select_row_kernels`.

    The one row driver of the interpolating warps, a loop over chunks of rows (about
    ``chunk_points`` pixels each): their source coordinates (filled from the recorded plan, or the
    given arrays), the staged kernel on the interior pixels, then the per-pixel kernel on the
    pixels left (few, mostly at the footprint's edges); with no staged kernel, the per-pixel
    kernel on every pixel. Each stage is compiled on its own and called from here: a compiled
    driver would compile (and optimise) the kernels it calls once more for each data type.
    Rows are independent: the result does not depend on the chunks or blocks.
    """
    planned = isinstance(coords, PlannedCoords)
    if isinstance(coords, PlannedCoords):
        nrows = coords.b - coords.a
        w = coords.c1 - coords.c0
    else:
        nrows, w = coords.X.shape
    if nrows == 0 or w == 0:
        return
    # given coordinates are already in memory: one chunk; planned ones are filled chunk by chunk
    chunk = max(1, min(nrows, chunk_points // w)) if planned else nrows
    XB = np.empty((chunk if planned else 0, w))
    YB = np.empty((chunk if planned else 0, w))
    OKB = np.empty((chunk if planned else 0, w), dtype=np.bool_)
    staged = kernels.staged
    src = source.src
    # the kernels' variant for masked sources (a validity mask; densities: per-pixel kernels only)
    masked = int(source.has_valid or source.has_dens)
    if staged != K_NONE:
        stage = _staged_row_kernel(staged, kernels.sclass, masked, tap_class(staged, kernel))
        flat = src.reshape(src.shape[0], src.shape[1] * src.shape[2])
        REST = np.empty((chunk, w), dtype=np.bool_)
    # a zero-width ``dest.produced``: the caller does not want the mask, and the kernels flag one
    # chunk-sized buffer over and over (no block-sized mask to allocate and fault in)
    own = dest.produced.shape[1] == 0
    produced_buf = np.zeros((chunk, w), dtype=np.bool_) if own else dest.produced
    with_dv = dest.has_dst_valid
    for ra in range(0, nrows, chunk):
        rb = min(nrows, ra + chunk)
        n = rb - ra
        if isinstance(coords, PlannedCoords):
            X, Y, OK = XB[:n], YB[:n], OKB[:n]
            fill_rows(coords.plan, coords.a + ra, coords.a + rb, coords.c0, coords.c1, X, Y, OK)
        else:
            X, Y, OK = coords.X[ra:rb], coords.Y[ra:rb], coords.OK[ra:rb]
        produced = produced_buf[:n] if own else produced_buf[ra:rb]
        flags = OK
        if staged != K_NONE:
            flags = REST[:n]
            nrest = stage(flat, source, kernel, store, X, Y, OK, dest.dst, dest.row0 + ra, produced, flags)
            if nrest == 0 or kernels.pixel == P_NONE:
                continue
        rows = DestArgs(dest.dst, dest.row0 + ra, dest.dst_valid[ra:rb] if with_dv else dest.dst_valid, with_dv,
                        produced)
        _pixel_kernel(kernels.pixel, masked, source, kernel, X, Y, flags, rows, store)
