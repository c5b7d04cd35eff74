"""Numba kernels (private).

Rules for every module in this package:

* loops over arrays and scalars only: no CRS, no Python objects, no allocation of
  big temporaries inside hot loops;
* ``@numba.njit(nogil=True, cache=CACHE)``; **no** ``parallel=True``/``prange``:
  parallelism is done by :mod:`raster_core._parallel` (a thread pool over row
  blocks calling nogil kernels), which is safe when several Python threads call
  raster_core at once and independent of Numba's threading layer;
* importing a kernel module must not compile anything (compilation is lazy, on first
  call, and cached on disk);
* :data:`CACHE` (decided here, before any kernel is defined, by
  :func:`raster_core._kernels._cache.configure_cache`) is the ``cache=`` of every kernel: a
  read-only installation without a writable home falls back to a private temporary cache
  directory or to in-memory compilation instead of failing.
"""

from raster_core._kernels._cache import configure_cache

CACHE: bool = configure_cache()
