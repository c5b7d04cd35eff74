"""Numba kernels (private).

Rules for every module in this package:

* loops over arrays and scalars only: no CRS, no Python objects, no allocation of
  big temporaries inside hot loops;
* ``@numba.njit(nogil=True, cache=True)``; **no** ``parallel=True``/``prange``:
  parallelism is done by :mod:`raster_core._parallel` (a thread pool over row
  blocks calling nogil kernels), which is safe when several Python threads call
  raster_core at once and independent of Numba's threading layer;
* importing a kernel module must not compile anything (compilation is lazy, on first
  call, and cached on disk).
"""
