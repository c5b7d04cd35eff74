"""Painter's mosaic of already-warped layers, with the Raster API's alpha rules (spec §2.4).

Layers are ``(bands, rows, cols)`` arrays on the same output grid, each with a validity
mask (True = the layer has a value there: inside its footprint and cutline, not nodata).
They are painted in list order, **last on top**: a later layer overwrites only where it is
valid, so its nodata, its outside and its transparent pixels leave the earlier pixels
visible, exactly as GDAL's warper does when it mosaics several sources into one output.

When the last requested band is an alpha band (``alpha_last=True``), a layer contributes
only where its alpha is 1; the output alpha is 1 where any layer contributed; pixels no
layer contributed to are 0 in every band and masked in every band (the alpha band too).

Examples
--------
>>> import numpy as np
>>> from raster_core.mosaic import mosaic
>>> a = np.array([[[1, 1, 1]]]); b = np.array([[[2, 0, 2]]])
>>> data, valid = mosaic([a, b], [np.ones((1, 3), bool), np.array([[True, False, True]])])
>>> data[0, 0].tolist(), valid[0, 0].tolist()
([2, 1, 2], [True, True, True])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from raster_core.errors import InvalidParameterError, ShapeError

__all__ = ["Mosaic", "TopDownMosaic", "filled", "mosaic", "nodata_valid", "open_boxes", "unified_valid"]


def filled(shape: tuple[int, ...], value: Any, dtype: Any) -> np.ndarray:
    """A new array of ``value``; zeros through ``np.zeros`` when ``value`` is all zero bits.

    A large ``np.zeros`` comes from the system as untouched pages that read as zero, so
    only the pages a mosaic paints are ever written (``np.full`` writes them all): most of
    an output chunk of a scattered collection is never painted.

    Examples
    --------
    >>> filled((2,), 0, np.uint16).tolist(), filled((2,), 7, np.uint16).tolist()
    ([0, 0], [7, 7])
    >>> np.signbit(filled((1,), -0.0, np.float32))[0]   # -0.0 is not all zero bits
    np.True_
    """
    dt = np.dtype(dtype)
    if dt.kind in "biuf" and isinstance(value, (int, float, np.integer, np.floating)):
        try:
            zero = not any(np.asarray(value, dtype=dt).tobytes())
        except (OverflowError, ValueError):
            zero = False  # np.full says what is wrong with it
        if zero:
            return np.zeros(shape, dtype=dt)
    return np.full(shape, value, dtype=dt)


def _as_valid(valid: Any, shape: tuple[int, int, int], what: str) -> np.ndarray | None:
    """A validity mask as a bool array of shape (rows, cols) or (bands, rows, cols)."""
    if valid is None:
        return None
    v = np.asarray(valid)
    if v.dtype != np.bool_:
        v = v != 0
    if v.shape == shape[1:] or v.shape == shape:
        return v
    if v.ndim == 3 and v.shape[0] == 1 and v.shape[1:] == shape[1:]:
        return v[0]
    raise ShapeError(f"{what} has shape {v.shape}; expected {shape[1:]} or {shape}")


def _mosaic_shape(band_count: int, height: int, width: int) -> tuple[int, int, int]:
    """``(bands, rows, cols)`` of a mosaic, checked."""
    if band_count < 1 or height < 0 or width < 0:
        raise ShapeError(f"invalid mosaic shape ({band_count}, {height}, {width})")
    return int(band_count), int(height), int(width)


def _layer_in_window(
    layer: np.ndarray, valid: Any, window: Any, shape: tuple[int, int, int]
) -> tuple[np.ndarray, np.ndarray | None, tuple[int, int, int, int]]:
    """A layer given to a mosaic of ``shape`` as a 3-D array, its validity (:func:`_as_valid`)
    and its window ``(row0, row1, col0, col1)`` (the whole grid for ``None``), checked."""
    arr = np.asarray(layer)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    nb, rows, cols = shape
    r0, r1, c0, c1 = (0, rows, 0, cols) if window is None else (int(v) for v in window)
    if not (0 <= r0 <= r1 <= rows and 0 <= c0 <= c1 <= cols):
        raise ShapeError(f"window {window} is outside the mosaic grid ({rows}, {cols})")
    part = (nb, r1 - r0, c1 - c0)
    if arr.shape != part:
        raise ShapeError(f"layer has shape {arr.shape}; the mosaic window is {part}")
    return arr, _as_valid(valid, part, "valid"), (r0, r1, c0, c1)


class Mosaic:
    """Accumulates warped layers one at a time (so a mosaic of many images needs one
    output array, not one per image).

    Parameters
    ----------
    band_count, height, width
        Output shape ``(bands, rows, cols)``.
    dtype
        Output dtype (layers are cast to it with NumPy's rules: cast them first when
        GDAL semantics matter).
    alpha_last
        Apply the alpha rules of spec §2.4 (the last band is an alpha band).
    fill
        Value of pixels no layer contributed to (0 like the Raster service).
    track_valid
        Keep the per-band validity that :meth:`result` returns; without it (no alpha rules)
        only the values are kept (:meth:`values`), which saves a mask of the output's size.

    Examples
    --------
    >>> m = Mosaic(2, 1, 3, np.uint8, alpha_last=True)
    >>> m.add(np.array([[[5, 5, 5]], [[1, 1, 0]]], np.uint8))
    >>> m.add(np.array([[[7, 7, 7]], [[0, 1, 1]]], np.uint8))
    >>> data, valid = m.result()
    >>> data[:, 0].tolist(), valid[0, 0].tolist()
    ([[5, 7, 7], [1, 1, 1]], [True, True, True])
    """

    def __init__(
        self,
        band_count: int,
        height: int,
        width: int,
        dtype: Any,
        *,
        alpha_last: bool = False,
        fill: float = 0,
        track_valid: bool = True,
    ) -> None:
        if alpha_last and not track_valid:
            raise InvalidParameterError("the alpha rules need the validity (track_valid=True)")
        self.track_valid = bool(track_valid)
        self.shape = _mosaic_shape(band_count, height, width)
        self.dtype = np.dtype(dtype)
        self.alpha_last = bool(alpha_last)
        self.fill = fill
        # allocated on the first add (a first layer covering the whole grid may be adopted)
        self.data: np.ndarray | None = None
        self._painted: np.ndarray | None = None
        self._valid: np.ndarray | None = None
        self.layers = 0

    def _allocate(self) -> None:
        if self.data is not None:
            return
        self.data = filled(self.shape, self.fill, self.dtype)
        if self.alpha_last:
            self._painted = np.zeros(self.shape[1:], dtype=bool)
        elif self.track_valid:
            self._valid = np.zeros(self.shape, dtype=bool)

    def add(
        self,
        layer: np.ndarray,
        valid: Any = None,
        *,
        window: tuple[int, int, int, int] | None = None,
        take: bool = False,
    ) -> None:
        """Paint one layer on top.

        Parameters
        ----------
        layer
            ``(bands, rows, cols)`` values (2-D for a single band) covering ``window``.
        valid
            True where the layer has data: ``(rows, cols)`` for every band, or
            ``(bands, rows, cols)`` per band; ``None`` = everywhere. With ``alpha_last`` the
            layer additionally needs alpha == 1.
        window
            ``(row0, row1, col0, col1)``: the part of the mosaic grid the layer covers (the
            rows/cols of an image's footprint); ``None`` = the whole grid. Pixels outside
            it are left as they are, so a mosaic needs the output plus one image's window.
        take
            The mosaic may keep ``layer`` (and ``valid``) as its own arrays and modify them
            (no copy when the first layer covers the whole grid and has the mosaic's dtype).

        Raises
        ------
        ShapeError
            When the layer, mask or window does not match the mosaic.
        """
        arr, v, (r0, r1, c0, c1) = _layer_in_window(layer, valid, window, self.shape)
        nb, rows, cols = self.shape
        full = (r0, r1, c0, c1) == (0, rows, 0, cols)
        if (take and self.data is None and full and arr.dtype == self.dtype and arr.flags.writeable
                and arr.flags.c_contiguous):
            self._adopt(arr, v)
            return
        self._allocate()
        assert self.data is not None
        data = self.data[:, r0:r1, c0:c1]
        self.layers += 1
        if self.alpha_last:
            assert self._painted is not None
            where = arr[-1] == 1
            if v is not None:
                where &= v if v.ndim == 2 else v.all(axis=0)
            np.copyto(data, arr, where=where[np.newaxis], casting="unsafe")
            self._painted[r0:r1, c0:c1] |= where
            return
        if not self.track_valid:
            np.copyto(data, arr, where=True if v is None else (v[np.newaxis] if v.ndim == 2 else v), casting="unsafe")
            return
        assert self._valid is not None
        pvalid = self._valid[:, r0:r1, c0:c1]
        if v is None:
            np.copyto(data, arr, casting="unsafe")
            pvalid[...] = True
        elif v.ndim == 2:
            np.copyto(data, arr, where=v[np.newaxis], casting="unsafe")
            pvalid |= v[np.newaxis]
        else:
            np.copyto(data, arr, where=v, casting="unsafe")
            pvalid |= v

    def _adopt(self, arr: np.ndarray, v: np.ndarray | None) -> None:
        """First layer over the whole grid: keep it, with the fill where it is not valid."""
        self.layers += 1
        self.data = arr
        if self.alpha_last:
            where = arr[-1] == 1
            if v is not None:
                where &= v if v.ndim == 2 else v.all(axis=0)
            np.copyto(arr, arr.dtype.type(self.fill), where=~where[np.newaxis])
            self._painted = where
            return
        if v is None:
            if self.track_valid:
                self._valid = np.ones(self.shape, dtype=bool)
            return
        if not self.track_valid:
            np.copyto(arr, arr.dtype.type(self.fill), where=~(v[np.newaxis] if v.ndim == 2 else v))
            return
        if v.flags.writeable and v.shape == self.shape:
            valid = v  # taken too
        elif v.flags.writeable and self.shape[0] == 1:
            valid = v[np.newaxis]
        else:
            valid = np.array(np.broadcast_to(v, self.shape), dtype=bool)  # own copy, per band
        np.copyto(arr, arr.dtype.type(self.fill), where=~valid)
        self._valid = valid

    def values(self) -> np.ndarray:
        """The mosaic's values (pixels no layer contributed to are the fill).

        Examples
        --------
        >>> m = Mosaic(1, 1, 3, np.uint8, fill=9, track_valid=False)
        >>> m.add(np.array([[[5, 6, 7]]], np.uint8), np.array([[True, False, True]]))
        >>> m.values()[0, 0].tolist()
        [5, 9, 7]
        """
        if self.alpha_last:
            return self.result()[0]
        self._allocate()
        assert self.data is not None
        return self.data

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """``(data, valid)``: the mosaic and its per-band validity ``(bands, rows, cols)``.

        With ``alpha_last`` the alpha band is 1 where any layer contributed and 0 elsewhere,
        every band is 0 (the fill) where nothing contributed, and ``valid`` is the alpha for
        every band.
        """
        self._allocate()
        assert self.data is not None
        if self.alpha_last:
            assert self._painted is not None
            self.data[-1][self._painted] = 1
            self.data[-1][~self._painted] = 0
            return self.data, np.broadcast_to(self._painted, self.shape).copy()
        if self._valid is None:
            raise InvalidParameterError("this mosaic keeps no validity (track_valid=False)")
        return self.data, self._valid


Box = tuple[int, int, int, int]  # (row0, row1, col0, col1)


class TopDownMosaic:
    """The painter's mosaic of :class:`Mosaic` built from the top layer down: each layer added
    goes *under* the layers added before it, so the first layer added is the top one.

    A layer's pixel shows only where no layer above is valid there (per band; with the alpha
    rules, where no layer above contributed), which is where the bottom-up painting leaves it
    visible: adding the layers of a bottom-up :class:`Mosaic` in reverse order gives its
    result bit for bit. The point is :meth:`open_boxes`: the parts of a window that layers
    above have not yet settled, so that a layer below need only be made for them (a layer
    whose window is settled is not made at all).

    Parameters
    ----------
    band_count, height, width, dtype, alpha_last, fill
        As :class:`Mosaic`. The validity is always kept (it says what is settled): one mask
        for every band while each layer's validity is one mask for every band, per band
        after a layer with per-band validity.

    Examples
    --------
    >>> m = TopDownMosaic(1, 2, 3, np.uint8)
    >>> m.add(np.array([[[7, 7]]], np.uint8), np.array([[True, False]]), window=(0, 1, 0, 2))  # the top
    >>> m.open_boxes((0, 2, 0, 3))             # what the top left open, as boxes
    [(0, 1, 1, 3), (1, 2, 0, 3)]
    >>> m.add(np.ones((1, 2, 3), np.uint8))    # under it
    >>> m.values()[0].tolist()
    [[7, 1, 1], [1, 1, 1]]
    """

    def __init__(self, band_count: int, height: int, width: int, dtype: Any, *, alpha_last: bool = False,
                 fill: float = 0) -> None:
        self.shape = _mosaic_shape(band_count, height, width)
        self.dtype = np.dtype(dtype)
        self.alpha_last = bool(alpha_last)
        self.fill = fill
        self.data: np.ndarray | None = None
        # alpha rules: where a layer contributed (every band); else the validity, (rows, cols)
        # while every layer's is one mask for all bands, else (bands, rows, cols)
        self._settled: np.ndarray | None = None
        # the windows painted so far (row0, row1, col0, col1): nothing is settled outside them
        self._windows = np.zeros((8, 4), dtype=np.int64)
        self.layers = 0

    def _allocate(self) -> None:
        if self.data is None:
            self.data = filled(self.shape, self.fill, self.dtype)
            self._settled = np.zeros(self.shape[1:], dtype=bool)

    def _painted(self, window: Box) -> None:
        if self.layers == len(self._windows):
            self._windows = np.concatenate([self._windows, np.zeros_like(self._windows)])
        self._windows[self.layers] = window
        self.layers += 1

    def add(self, layer: np.ndarray, valid: Any = None, *, window: Box | None = None, take: bool = False) -> None:
        """Paint one layer under the layers added so far.

        Parameters
        ----------
        layer, valid, window, take
            As :meth:`Mosaic.add`.

        Raises
        ------
        ShapeError
            When the layer, mask or window does not match the mosaic.
        """
        arr, v, (r0, r1, c0, c1) = _layer_in_window(layer, valid, window, self.shape)
        nb, rows, cols = self.shape
        if (self.data is None and take and (r0, r1, c0, c1) == (0, rows, 0, cols) and arr.dtype == self.dtype
                and arr.flags.writeable and arr.flags.c_contiguous):
            # the top layer over the whole grid: Mosaic's adoption (the fill where it is not valid)
            first = Mosaic(nb, rows, cols, self.dtype, alpha_last=self.alpha_last, fill=self.fill)
            first.add(arr, v, take=True)
            self.data = arr
            settled = first._painted if self.alpha_last else first._valid
            assert settled is not None
            self._settled = settled[0] if settled.ndim == 3 and (v is None or v.ndim == 2 or nb == 1) else settled
            self._painted((r0, r1, c0, c1))
            return
        self._allocate()
        assert self.data is not None and self._settled is not None
        first_layer = self.layers == 0
        self._painted((r0, r1, c0, c1))
        data = self.data[:, r0:r1, c0:c1]
        if self.alpha_last:
            where = arr[-1] == 1
            if v is not None:
                where &= v if v.ndim == 2 else v.all(axis=0)
            painted = self._settled[r0:r1, c0:c1]
            if not first_layer:
                where &= ~painted
            np.copyto(data, arr, where=where[np.newaxis], casting="unsafe")
            painted |= where
            return
        if v is not None and v.ndim == 3 and nb > 1 and self._settled.ndim == 2:
            self._settled = np.array(np.broadcast_to(self._settled, self.shape))  # per band from now on
        settled = self._settled[..., r0:r1, c0:c1]
        if v is None:
            np.copyto(data, arr, where=True if first_layer else ~settled if settled.ndim == 3
                      else ~settled[np.newaxis], casting="unsafe")
            settled[...] = True
            return
        if v.ndim == 3 and settled.ndim == 2:  # one band
            v = v[0]
        if first_layer or not settled.any():  # nothing settled here yet: Mosaic.add
            new = v
            settled[...] = v if v.ndim == settled.ndim else v[np.newaxis]
        else:
            new = v & ~settled if v.ndim == settled.ndim else v[np.newaxis] & ~settled
            settled |= new
        np.copyto(data, arr, where=new if new.ndim == 3 else new[np.newaxis], casting="unsafe")

    def open_boxes(self, window: Box, *, max_boxes: int = 8) -> list[Box]:
        """The parts of ``window`` ``(row0, row1, col0, col1)`` that layers below may still
        show through: boxes holding every pixel of ``window`` not settled by the layers added
        so far (with the alpha rules, not contributed to; else not valid in every band);
        ``[]`` when all are settled. Only the part of ``window`` within the windows painted
        so far is looked at pixel by pixel (the rest is open). Each row's open pixels count
        from its first to its last; see :func:`open_boxes`."""
        r0, r1, c0, c1 = (int(v) for v in window)
        if r1 <= r0 or c1 <= c0:
            return []
        w = self._windows[:self.layers]
        hit = (w[:, 0] < r1) & (w[:, 1] > r0) & (w[:, 2] < c1) & (w[:, 3] > c0) & (w[:, 1] > w[:, 0]) & (
            w[:, 3] > w[:, 2])
        if self._settled is None or not hit.any():
            return [(r0, r1, c0, c1)]
        w = w[hit]
        # the part of the window any painted window reaches
        s0, s1 = max(r0, int(w[:, 0].min())), min(r1, int(w[:, 1].max()))
        t0, t1 = max(c0, int(w[:, 2].min())), min(c1, int(w[:, 3].max()))
        part = self._settled[..., s0:s1, t0:t1]
        settled: np.ndarray = part if part.ndim == 2 else np.asarray(part.all(axis=0))
        has, first, last = _row_spans(settled)
        rows = r1 - r0
        lo = np.full(rows, c0, dtype=np.int64)
        hi = np.full(rows, c1, dtype=np.int64)
        inside = slice(s0 - r0, s1 - r0)
        # a row of the painted part opens from its first open pixel unless columns on the
        # left of the part are open, and to its last unless columns on the right are
        if t0 == c0:
            lo[inside] = np.where(has, first + t0, t1)
        if t1 == c1:
            hi[inside] = np.where(has, last + t0, t0)
        if t0 == c0 and t1 == c1:
            keep = np.ones(rows, dtype=bool)
            keep[inside] = has
        else:
            keep = np.ones(rows, dtype=bool)  # open columns beside the painted part
        return _span_boxes(np.flatnonzero(keep) + r0, lo[keep], hi[keep], max_boxes)

    def values(self) -> np.ndarray:
        """As :meth:`Mosaic.values`."""
        if self.alpha_last:
            return self.result()[0]
        self._allocate()
        assert self.data is not None
        return self.data

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`Mosaic.result`: ``(data, valid)``, ``valid`` per band and the caller's."""
        self._allocate()
        assert self.data is not None and self._settled is not None
        if self.alpha_last:
            self.data[-1][self._settled] = 1
            self.data[-1][~self._settled] = 0
            return self.data, np.broadcast_to(self._settled, self.shape).copy()
        if self._settled.ndim == 3:
            return self.data, self._settled
        if self.shape[0] == 1:
            return self.data, self._settled[np.newaxis]
        return self.data, np.array(np.broadcast_to(self._settled, self.shape))


def _row_spans(settled: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(has, first, last)`` per row of ``settled`` (rows, cols): whether it has a False
    pixel, and the columns of its first False pixel and one past its last (0 without)."""
    rows, cols = settled.shape
    if cols == 0:
        z = np.zeros(rows, dtype=np.int64)
        return np.zeros(rows, dtype=bool), z, z
    first = settled.argmin(axis=1)  # the first False (0 when none: told apart by `has`)
    has = ~settled[np.arange(rows), first]
    last = cols - settled[:, ::-1].argmin(axis=1)
    return has, np.where(has, first, 0), np.where(has, last, 0)


def _span_boxes(rows: np.ndarray, lo: np.ndarray, hi: np.ndarray, max_boxes: int) -> list[Box]:
    """Boxes ``(row0, row1, col0, col1)`` covering the spans ``[lo, hi)`` of the (increasing)
    ``rows``: runs of consecutive rows with the same span as one box, then the two
    neighbouring boxes whose union wastes the fewest pixels merged until at most
    ``max_boxes`` are left."""
    if rows.size == 0:
        return []
    brk = np.flatnonzero((np.diff(rows) != 1) | (np.diff(lo) != 0) | (np.diff(hi) != 0)) + 1
    starts = np.concatenate([[0], brk]).tolist()
    ends = np.concatenate([brk, [rows.size]]).tolist()
    rl, ll, hl = rows.tolist(), lo.tolist(), hi.tolist()
    # [row0, row1, col0, col1, pixels the box was made for]
    boxes = [[rl[a], rl[b - 1] + 1, ll[a], hl[a], (rl[b - 1] + 1 - rl[a]) * (hl[a] - ll[a])]
             for a, b in zip(starts, ends, strict=True)]
    while len(boxes) > max(1, max_boxes):
        best, best_waste = 0, None
        for k in range(len(boxes) - 1):
            a, b = boxes[k], boxes[k + 1]
            waste = (b[1] - a[0]) * (max(a[3], b[3]) - min(a[2], b[2])) - a[4] - b[4]
            if best_waste is None or waste < best_waste:
                best, best_waste = k, waste
        a, b = boxes[best], boxes.pop(best + 1)
        boxes[best] = [a[0], b[1], min(a[2], b[2]), max(a[3], b[3]), a[4] + b[4]]
    return [(b[0], b[1], b[2], b[3]) for b in boxes]


def open_boxes(settled: np.ndarray, *, max_boxes: int = 8) -> list[Box]:
    """Boxes ``(row0, row1, col0, col1)`` holding every False pixel of ``settled`` (rows,
    cols): the rows' spans from their first to their last False pixel, runs of rows with
    the same span as one box, then the two neighbouring boxes whose union wastes the fewest
    pixels merged until at most ``max_boxes`` are left. Exact for a region whose rows are
    spans (what rectangles leave open of a rectangle); otherwise each row's span also holds
    the settled pixels between its ends.

    Examples
    --------
    >>> s = np.zeros((4, 6), bool); s[:2, :4] = True        # the top left settled
    >>> open_boxes(s)                                       # an L: two boxes
    [(0, 2, 4, 6), (2, 4, 0, 6)]
    >>> open_boxes(s, max_boxes=1), open_boxes(np.ones((2, 2), bool))
    ([(0, 4, 0, 6)], [])
    """
    has, first, last = _row_spans(np.asarray(settled, dtype=bool))
    rows = np.flatnonzero(has)
    return _span_boxes(rows, first[rows], last[rows], max_boxes)


def mosaic(
    layers: Sequence[np.ndarray],
    valids: Sequence[Any] | None = None,
    *,
    alpha_last: bool = False,
    dtype: Any = None,
    fill: float = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Painter's mosaic of layers on one grid (first at the bottom, last on top).

    Parameters
    ----------
    layers
        ``(bands, rows, cols)`` arrays of the same shape.
    valids
        One validity mask per layer (``None`` entries = all valid), see :meth:`Mosaic.add`.
    alpha_last
        Apply the alpha rules of spec §2.4.
    dtype
        Output dtype (default: the first layer's).
    fill
        Value where nothing contributed.

    Returns
    -------
    (data, valid)
        The mosaic and its per-band validity.

    Raises
    ------
    ShapeError
        For no layers, or layers/masks of different shapes.

    Examples
    --------
    >>> rgba1 = np.array([[[10, 10]], [[1, 1]]]); rgba2 = np.array([[[20, 20]], [[0, 1]]])
    >>> mosaic([rgba1, rgba2], alpha_last=True)[0][:, 0].tolist()
    [[10, 20], [1, 1]]
    """
    if not layers:
        raise ShapeError("mosaic needs at least one layer")
    first = np.asarray(layers[0])
    if first.ndim == 2:
        first = first[np.newaxis]
    if valids is not None and len(valids) != len(layers):
        raise ShapeError(f"{len(valids)} masks for {len(layers)} layers")
    m = Mosaic(first.shape[0], first.shape[1], first.shape[2], dtype or first.dtype, alpha_last=alpha_last, fill=fill)
    for i, layer in enumerate(layers):
        m.add(layer, None if valids is None else valids[i])
    return m.result()


def nodata_valid(band: np.ndarray, nodata: float | None, out: np.ndarray | None = None) -> np.ndarray:
    """True where ``band`` is not its nodata value, with GDAL's warper comparison rules
    (into ``out``, a bool array of ``band``'s shape, when given).

    * a nodata value not exactly representable in the band's type (``0.3`` for integers,
      ``-3.4e38`` for float32) masks nothing: GDAL's warper discards it;
    * Byte/UInt16/Int16 (and Int8): a nodata outside the type's range masks nothing;
      otherwise ``v == int(floor(nodata + 1e-6))``;
    * Float32: compared in float32; NaN nodata matches NaN; otherwise
      ``a == b or |a - b| < FLT_EPSILON * |a + b| * 2``;
    * other types: the same relative comparison in float64.

    Examples
    --------
    >>> nodata_valid(np.array([0, 1, 2], np.uint8), 0).tolist()
    [False, True, True]
    >>> nodata_valid(np.array([-9999.003, -9999.01]), -9999).tolist()
    [False, True]
    >>> nodata_valid(np.array([1, 255], np.uint8), 300).tolist()
    [True, True]
    """
    a = np.asarray(band)
    if out is not None:
        if out.shape != a.shape or out.dtype != np.bool_:
            raise ShapeError(f"out must be a bool array of shape {a.shape}, got {out.dtype} {out.shape}")
        if (a.dtype.kind in "iub" and a.dtype.itemsize <= 2 and nodata is not None and math.isfinite(float(nodata))
                and _exactly_representable(float(nodata), a.dtype)):
            lo, hi = _int_range(a.dtype)
            nd = float(nodata)
            target = math.floor(nd + 1e-6)
            if lo <= target <= hi and lo <= nd <= hi:
                return np.not_equal(a, target, out=out)
        out[...] = nodata_valid(a, nodata)
        return out
    if nodata is None:
        return np.ones(a.shape, dtype=bool)
    nd = float(nodata)
    if not _exactly_representable(nd, a.dtype):
        return np.ones(a.shape, dtype=bool)
    if a.dtype.kind in "iub" and a.dtype.itemsize <= 2:
        if not math.isfinite(nd):
            return np.ones(a.shape, dtype=bool)
        lo, hi = _int_range(a.dtype)
        target = math.floor(nd + 1e-6)
        if target < lo or target > hi or nd < lo or nd > hi:
            return np.ones(a.shape, dtype=bool)
        return a != target
    eps = float(np.finfo(np.float32).eps)
    if a.dtype == np.float32:
        if math.isnan(nd):
            return ~np.isnan(a)
        ndf = np.float32(nd)
        with np.errstate(over="ignore", invalid="ignore"):
            equal = (a == ndf) | (np.abs(a - ndf) < np.float32(eps) * np.abs(a + ndf) * np.float32(2))
        return ~equal
    x = a.astype(np.float64, copy=False)
    if math.isnan(nd):
        return ~np.isnan(x)
    with np.errstate(over="ignore", invalid="ignore"):
        equal = (x == nd) | (np.abs(x - nd) < eps * np.abs(x + nd) * 2)
    return ~equal


@functools.lru_cache(maxsize=64)
def _int_range(dtype: np.dtype) -> tuple[int, int]:
    """``(min, max)`` of an integer (or bool, as uint8) dtype (``np.iinfo`` costs microseconds,
    and a chunk task asks once per image and band)."""
    info = np.iinfo(dtype) if dtype.kind != "b" else np.iinfo(np.uint8)
    return int(info.min), int(info.max)


def _exactly_representable(value: float, dtype: np.dtype) -> bool:
    """GDAL's ``GDALIsValueExactAs``."""
    if math.isnan(value):
        return dtype.kind == "f"
    if dtype.kind in "iub":
        lo, hi = _int_range(dtype)
        return math.isfinite(value) and value == math.floor(value) and lo <= value <= hi
    if dtype == np.float32:
        if math.isinf(value):
            return True
        return abs(value) <= float(np.finfo(np.float32).max) and float(np.float32(value)) == value
    return True


def unified_valid(valid: np.ndarray) -> np.ndarray:
    """GDAL's unified source validity: a pixel is valid if any band is valid.

    >>> unified_valid(np.array([[[True, False]], [[False, False]]])).tolist()
    [[True, False]]
    """
    v = np.asarray(valid, dtype=bool)
    return np.asarray(v.any(axis=0)) if v.ndim == 3 else v
