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

Numba decides whether a cached kernel is fresh from its own source file only, but a kernel's
compiled code contains the kernels it calls from other modules (a row driver holds the
per-pixel loops of ``interp.py``): after an edit of ``interp.py`` alone, the drivers would load
stale code. :func:`install_package_stamp` makes the freshness of every kernel of this package
the hash of all the package's kernel sources (and of the method codes they import), so that
any edit recompiles them all.

Processes that share a cache directory (pytest-xdist workers, ``raster-core warmup --processes``,
Dask workers started together) would otherwise compile the same new kernel side by side, and
two of them saving different signatures of one kernel at once could each drop the other's entry
from the kernel's cache index. :func:`install_compile_lock` makes a process compile (or load) a
kernel of this package for one signature while holding that signature's lock file next to the
kernel's cache files: the others wait, then load what it saved; saves into the kernel's index
hold the index's own lock file. It also makes a kernel's cache index that cannot be unpickled (one
written by another version of this package) count as empty instead of failing the call.

Examples
--------
>>> from raster_core._kernels import CACHE
>>> isinstance(CACHE, bool)
True
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import stat
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_ENV = "NUMBA_CACHE_DIR"
_KERNELS_DIR = Path(__file__).resolve().parent
#: how long a process waits for another's compilation of a kernel before compiling it itself (a
#: process stopped while compiling must not stall the others; a compilation takes seconds)
COMPILE_LOCK_WAIT_S = 300.0
#: lock files this process holds (compiling a kernel compiles its callees inside: each has its own)
_held_locks: set[str] = set()


def kernel_sources() -> list[Path]:
    """The files whose content the compiled kernels depend on: every module of this package and
    the method codes (``raster_core/resampling.py``).

    Examples
    --------
    >>> sorted(p.name for p in kernel_sources())[:3]
    ['__init__.py', '_cache.py', '_generated.py']
    """
    return sorted(_KERNELS_DIR.glob("*.py")) + [_KERNELS_DIR.parent / "resampling.py"]


@functools.cache
def package_stamp() -> str:
    """SHA-256 of the contents of :func:`kernel_sources` (computed once per process).

    Examples
    --------
    >>> len(package_stamp())
    64
    """
    digest = hashlib.sha256()
    for path in kernel_sources():
        digest.update(path.name.encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<missing>")
    return digest.hexdigest()


def _in_kernels(py_file: str) -> bool:
    try:
        return Path(py_file).resolve().parent == _KERNELS_DIR
    except OSError:
        return False


def _package_stamped(locator_class: Any) -> Any:
    """``locator_class``, for this package's kernels only, with :func:`package_stamp` as freshness."""

    class PackageStamped(locator_class):
        def get_source_stamp(self) -> str:
            return package_stamp()

        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            if not _in_kernels(py_file):
                return None
            return super().from_function(py_func, py_file)

    PackageStamped.__name__ = PackageStamped.__qualname__ = f"PackageStamped{locator_class.__name__}"
    return PackageStamped


def install_package_stamp() -> bool:
    """Put package-stamped versions of Numba's file-backed locators first (once); returns whether
    they are installed. Nothing changes when the user chose the locators
    (``NUMBA_CACHE_LOCATOR_CLASSES``) or Numba's internals are not the expected ones: Numba's own
    per-file freshness then applies.
    """
    from numba.core import caching, config

    if getattr(config, "CACHE_LOCATOR_CLASSES", None):
        return False
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    classes = getattr(impl, "_locator_classes", None)
    if not isinstance(classes, list):
        return False
    if any(getattr(c, "__name__", "").startswith("PackageStamped") for c in classes):
        return True
    names = ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")
    bases = [getattr(caching, n, None) or getattr(caching, "_" + n, None) for n in names]
    if not all(isinstance(b, type) and hasattr(b, "get_source_stamp") for b in bases):
        return False
    impl._locator_classes = [_package_stamped(b) for b in bases] + classes  # type: ignore[union-attr]
    return True


def _lock_base(dispatcher: Any) -> str | None:
    """The path, without suffix, of the lock files of a kernel of this package cached on disk (None
    for any other function): ``<base>.lock`` guards its cache index, ``<base>-<hash>.lock`` its
    compilation for one signature (:func:`_signature_lock`)."""
    cache = getattr(dispatcher, "_cache", None)
    impl = getattr(cache, "_impl", None)
    locator = getattr(impl, "locator", None)
    if locator is None or not type(locator).__name__.startswith("PackageStamped"):
        return None
    return os.path.join(cache._cache_path, impl.filename_base)  # type: ignore[union-attr]


def _signature_lock(base: str, args: tuple) -> str:
    """The lock file of the compilation of a kernel (lock base ``base``) for the argument types ``args``."""
    return base + "-" + hashlib.sha256(str(args).encode()).hexdigest()[:16] + ".lock"


@contextlib.contextmanager
def _compile_lock(path: str) -> Iterator[None]:
    """Hold the lock file ``path`` (waiting at most :data:`COMPILE_LOCK_WAIT_S`); proceed unlocked
    where locks are unavailable (no ``fcntl``, an unwritable directory)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    if path in _held_locks:  # pragma: no cover - a kernel compiled while compiling itself
        yield
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + COMPILE_LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            except OSError:
                break
        _held_locks.add(path)
        try:
            yield
        finally:
            _held_locks.discard(path)
    finally:
        os.close(fd)  # (releases the lock)


_unreadable_index_warned = False


def _guard_cache_file(dispatcher: Any, index_lock: str) -> None:
    """Guard the cache index of a kernel of this package (once per kernel and process).

    * Saves hold the index's lock file ``index_lock``: a save rewrites the whole index, so two
      processes saving different signatures at once could each drop the other's entry.
    * An index that cannot be read counts as empty. Numba unpickles an index before it compares
      the index's freshness stamp, so an index pickled by another version of the package (the
      class of an argument type since removed or renamed) raises there, on the kernel's first
      call; Numba only skips indexes of other Numba versions. Treated as empty, the kernel
      compiles and its index is written again. One warning per process.
    """
    cache_file = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
    if cache_file is None or "_load_index" in vars(cache_file):
        return
    load_index = cache_file._load_index
    save = cache_file.save

    def save_locked(key: Any, data: Any) -> None:
        with _compile_lock(index_lock):
            save(key, data)

    def load_index_or_empty() -> dict:
        global _unreadable_index_warned
        try:
            return load_index()
        except Exception as exc:  # any unpickling error: the file is only a cache
            if not _unreadable_index_warned:
                _unreadable_index_warned = True
                warnings.warn(f"raster_core: ignored a Numba cache index written by another version "
                              f"({cache_file._index_path}: {exc!r}); its kernel is compiled again",
                              RuntimeWarning, stacklevel=2)
            return {}

    cache_file._load_index = load_index_or_empty
    cache_file.save = save_locked


def install_compile_lock() -> bool:
    """Make every process compile a kernel of this package under its lock file, so that processes
    sharing a cache directory compile each kernel once: the first compiles and saves it, the
    others wait and load it (once per process; returns whether the lock is installed).

    Numba's ``Dispatcher.compile`` (which first looks in the cache, then compiles and saves) is
    wrapped for the functions whose cache locator is this package's; every other function is
    passed through. Each signature of a kernel has its own lock, so processes compiling a kernel
    for different data types do not wait for each other; the kernel's index has one more, held
    only while a save rewrites it (:func:`_guard_cache_file`). The locks are taken inside
    Numba's own compiler lock, which a process's threads take one at a time; kernels never call
    each other in a cycle and nothing is locked while the index lock is held, so no two
    processes can each hold a lock the other waits for.

    Examples
    --------
    >>> install_compile_lock()
    True
    """
    from numba.core import sigutils
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.dispatcher import Dispatcher

    original = Dispatcher.compile
    if getattr(original, "_raster_core_lock", False):
        return True

    @functools.wraps(original)
    def compile_locked(self: Any, sig: Any) -> Any:
        base = _lock_base(self)
        if base is None:
            return original(self, sig)
        with global_compiler_lock:
            _guard_cache_file(self, base + ".lock")
            args, _ = sigutils.normalize_signature(sig)
            if tuple(args) in self.overloads:  # compiled already: no lock needed
                return original(self, sig)
            with _compile_lock(_signature_lock(base, tuple(args))):
                return original(self, sig)

    compile_locked._raster_core_lock = True  # type: ignore[attr-defined]
    Dispatcher.compile = compile_locked  # type: ignore[method-assign]
    return True


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

    install_package_stamp()
    install_compile_lock()
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
