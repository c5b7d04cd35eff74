"""Output-chunk-driven Dask graphs: one task per output chunk, all referencing one shared plan
key; chunks that no source touches are constant fills.

The client finds the sources of each chunk with one shapely STRtree over the sources'
footprints (in output pixel coordinates); no per-source task and no ``dask.delayed``.

Needs dask (the ``xarray``/``dask`` extras); ``import raster_core`` does not import this module.

Examples
--------
>>> import numpy as np
>>> boxes = np.array([[0, 0, 10, 10], [30, 30, 40, 40]], dtype=float)   # col0, row0, col1, row1
>>> chunks = ((1,), (20, 20), (20, 20))                                 # time, y, x
>>> sources_by_chunk(boxes, np.array([0, 0]), chunks)
{(0, 0, 0): [0], (0, 1, 1): [1]}
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["chunk_bounds", "chunk_sources", "sources_by_chunk", "chunked_array", "constant_block"]


def chunk_bounds(sizes: Sequence[int]) -> np.ndarray:
    """Start offsets of the chunks of one axis, and the end: ``len(sizes) + 1`` values
    (read-only: shared by the calls with the same sizes).

    Examples
    --------
    >>> chunk_bounds((3, 3, 1)).tolist()
    [0, 3, 6, 7]
    """
    return _chunk_bounds(tuple(int(v) for v in sizes))


@functools.lru_cache(maxsize=256)
def _chunk_bounds(sizes: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(np.asarray(sizes, dtype=np.int64), out=out[1:])
    out.setflags(write=False)
    return out


#: up to this many (box, chunk) pairs are tested directly, more through an STRtree
DENSE_PAIRS_MAX = 1 << 15


def chunk_sources(boxes: np.ndarray, steps: np.ndarray, chunks: tuple[Sequence[int], Sequence[int], Sequence[int]],
                  dense_max: int = DENSE_PAIRS_MAX) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which sources each ``(time, y, x)`` chunk needs, as arrays ``(t, y, x, source)`` of
    the intersecting pairs, sorted by chunk then source.

    The boxes go into a shapely STRtree queried with the chunks' cells; when there are at
    most ``dense_max`` (box, cell) pairs they are all tested at once instead (same result).

    Parameters
    ----------
    boxes
        ``(n, 4)`` footprints ``(col0, row0, col1, row1)`` in output pixels (halo included).
    steps
        ``(n,)`` time step of each source.
    chunks
        Chunk sizes along time, y and x.
    dense_max
        Most (box, cell) pairs tested without the tree.

    Returns
    -------
    tuple of numpy.ndarray
        Four ``int64`` arrays of equal length.

    Examples
    --------
    >>> boxes = np.array([[0, 0, 25, 10]], dtype=float)
    >>> [a.tolist() for a in chunk_sources(boxes, np.array([0]), ((1,), (20, 20), (20, 20)))]
    [[0, 0], [0, 0], [0, 1], [0, 0]]
    """
    import shapely

    tb, yb, xb = (chunk_bounds(c) for c in chunks)
    # half-open pixel ranges: shrink by a hair so that touching edges do not intersect (and
    # leave out empty boxes, which shrink to inverted ones)
    eps = 1e-6
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    kept = np.flatnonzero((boxes[:, 2] - boxes[:, 0] > 2 * eps) & (boxes[:, 3] - boxes[:, 1] > 2 * eps))
    if len(kept) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    ny, nx = len(yb) - 1, len(xb) - 1
    b = boxes[kept]
    grid_y, grid_x = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    yy, xx = grid_y.ravel(), grid_x.ravel()
    if len(b) * len(yy) <= dense_max:
        # few boxes and chunks: every pair tested at once (the tree's own set-up costs more);
        # the same shrunk boxes and closed cells, so the same pairs
        hit = ((b[:, 0:1] + eps <= xb[xx + 1]) & (b[:, 2:3] - eps >= xb[xx])
               & (b[:, 1:2] + eps <= yb[yy + 1]) & (b[:, 3:4] - eps >= yb[yy]))
        tree_idx, cell_idx = np.nonzero(hit)
    else:
        tree = shapely.STRtree(shapely.box(b[:, 0] + eps, b[:, 1] + eps, b[:, 2] - eps, b[:, 3] - eps))
        cells = shapely.box(xb[xx], yb[yy], xb[xx + 1], yb[yy + 1])
        cell_idx, tree_idx = tree.query(cells, predicate="intersects")
    src_idx = kept[tree_idx]
    t_idx = np.searchsorted(tb, steps[src_idx], side="right") - 1
    y_idx, x_idx = yy[cell_idx], xx[cell_idx]
    order = np.lexsort((src_idx, x_idx, y_idx, t_idx))
    return (t_idx[order].astype(np.int64), y_idx[order].astype(np.int64), x_idx[order].astype(np.int64),
            src_idx[order].astype(np.int64))


def sources_by_chunk(boxes: np.ndarray, steps: np.ndarray,
                     chunks: tuple[Sequence[int], Sequence[int], Sequence[int]],
                     ) -> dict[tuple[int, int, int], list[int]]:
    """Which sources each ``(time, y, x)`` chunk needs (:func:`chunk_sources` as a dict).

    Returns
    -------
    dict
        ``(ti, yi, xi) -> [source index, ...]`` in source order, only for chunks with sources.
    """
    out: dict[tuple[int, int, int], list[int]] = {}
    t, y, x, s = chunk_sources(boxes, steps, chunks)
    for key in zip(t.tolist(), y.tolist(), x.tolist(), s.tolist(), strict=True):
        out.setdefault(key[:3], []).append(key[3])
    return out


def constant_block(shape: tuple[int, ...], value: Any, dtype: Any) -> np.ndarray:
    """A read-only block of one value (a broadcast: no memory until someone writes a copy)."""
    return np.broadcast_to(np.array(value, dtype=dtype), shape)


def chunked_array(name: str, plan: Any, func: Callable[..., np.ndarray], chunks: tuple[Sequence[int], ...],
                  tasks: Mapping[tuple[int, ...], tuple[Any, ...]], fill: Any, dtype: Any) -> Any:
    """A Dask array of one task per chunk.

    ``tasks`` maps a chunk index to the extra arguments of ``func(plan, slices, *args)``;
    the other chunks are ``constant_block(shape, fill, dtype)``. ``plan`` is stored once
    under its own key, which every chunk task references.
    """
    import dask.array as da
    from dask._task_spec import DataNode, Task, TaskRef
    from dask.highlevelgraph import HighLevelGraph

    plan_key = f"{name}-plan"
    dsk: dict[Any, Any] = {plan_key: DataNode(plan_key, plan)}
    ref = TaskRef(plan_key)
    dtype_str = np.dtype(dtype).str
    # per axis: (chunk index, (start, stop)) as Python ints, combined without NumPy per chunk
    axes = [list(enumerate(zip(b[:-1].tolist(), b[1:].tolist(), strict=True)))
            for b in (chunk_bounds(c) for c in chunks)]
    for combo in itertools.product(*axes):
        idx = tuple(i for i, _ in combo)
        slices = tuple(se for _, se in combo)
        key = (name, *idx)
        args = tasks.get(idx)
        if args is None:
            shape = tuple(e - s for s, e in slices)
            dsk[key] = Task(key, constant_block, shape, fill, dtype_str, _data_producer=True)
        else:
            dsk[key] = Task(key, func, ref, slices, *args, _data_producer=True)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=())
    return da.Array(graph, name, chunks=chunks, dtype=dtype)
