"""Where Numba keeps the compiled kernels: decided once, before the first kernel is defined.

Numba picks a cache directory per ``cache=True`` function when the function is *defined*
(``NUMBA_CACHE_DIR``, else ``__pycache__`` next to the source, else a user-wide cache directory
such as ``~/.cache/numba``) and raises ``RuntimeError: cannot cache function ...: no locator
available`` when none is writable: a read-only site-packages in a container without a writable
``HOME``, for instance. :func:`configure_cache` asks Numba's own locators first and changes
nothing when one of them works. Otherwise it points ``NUMBA_CACHE_DIR`` at a private directory in
the temporary directory (created with mode 0700 and used only if this user owns it and nobody
else can write it, since Numba's cache files are pickles) and, when even that is impossible,
turns caching off so that kernels compile in memory. Either fallback emits one warning.

Examples
--------
>>> from raster_core._kernels import CACHE
>>> isinstance(CACHE, bool)
True
"""

from __future__ import annotations

import os
import stat
import tempfile
import warnings

_ENV = "NUMBA_CACHE_DIR"


def _probe() -> None:
    """Stands for a kernel of this package when asking Numba's locators."""


def _numba_finds_locator() -> bool:
    """Whether Numba's locators would place a cache for a kernel defined in this directory."""
    from numba.core import caching, config

    if getattr(config, "CACHE_LOCATOR_CLASSES", None):
        return True  # the user chose the locators (NUMBA_CACHE_LOCATOR_CLASSES): leave them alone
    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
    for locator_class in impl._locator_classes:
        try:
            if locator_class.from_function(_probe, __file__) is not None:
                return True
        except (OSError, NotImplementedError):
            continue
    return False


def _private_temp_dir() -> str | None:
    """A directory in the temporary directory that only this user can write, or None."""
    try:
        path = os.path.join(tempfile.gettempdir(), f"raster-core-numba-{os.geteuid()}")
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.lstat(path)
        if (
            not stat.S_ISDIR(info.st_mode)
            or info.st_uid != os.geteuid()
            or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        ):
            return None
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return None
    return path


def configure_cache() -> bool:
    """Make sure Numba can cache this package's kernels; return whether caching is on.

    Returns
    -------
    bool
        ``True`` when kernels are cached on disk (Numba's own choice of directory, or the private
        temporary one this function set as ``NUMBA_CACHE_DIR``), ``False`` when they compile in
        memory (the value to pass as ``cache=`` to ``numba.njit``).

    Examples
    --------
    >>> configure_cache() in (True, False)
    True
    """
    from numba.core import config

    if _numba_finds_locator():
        return True
    requested = os.environ.get(_ENV) or None
    fallback = _private_temp_dir()
    if fallback is not None:
        # Both: Numba re-reads NUMBA_* variables at every compilation when the environment changed.
        os.environ[_ENV] = fallback
        config.CACHE_DIR = fallback
        where = f"the cache directory {requested!r} is not writable" if requested else "no cache directory is writable"
        warnings.warn(
            f"raster_core: {where} (set {_ENV} to a writable directory); "
            f"compiled kernels are cached in {fallback}",
            RuntimeWarning,
            stacklevel=2,
        )
        return True
    warnings.warn(
        f"raster_core: no writable directory for Numba's cache (set {_ENV} to one); "
        "kernels are compiled in memory, again in every new process",
        RuntimeWarning,
        stacklevel=2,
    )
    return False
