"""Atomic file output: a written file is complete or absent.

Every file raster_core writes (GeoTIFF, PNG/JPEG, catalog JSON, CLI outputs) goes
through :func:`atomic_path`: the content is written to a temporary file in the
destination folder, which is renamed onto the final name only when writing succeeded,
and removed on any error (including KeyboardInterrupt). A process killed while writing
(SIGKILL, power loss) cannot remove its temporary file: every write removes those of ours
(``.<name>.raster-core.<8 random characters>.tmp``, a name no other program writes) older than a
day from its folder, once per folder and process.

Examples
--------
>>> import os, tempfile
>>> from raster_core._atomic import atomic_path
>>> folder = tempfile.mkdtemp()
>>> target = os.path.join(folder, "a.txt")
>>> with atomic_path(target) as tmp:
...     with open(tmp, "w") as f:
...         _ = f.write("done")
>>> open(target).read(), sorted(os.listdir(folder))
('done', ['a.txt'])
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from raster_core.errors import RasterWriteError

__all__ = ["atomic_path", "new_file_mode", "remove_stale_temporaries"]

#: the names ``atomic_path`` gives its temporary files (mkstemp's 8 random characters)
_TEMP_NAME = re.compile(r"^\..+\.raster-core\.[A-Za-z0-9_]{8}\.tmp$")
#: folders already cleaned by this process (a stack of N layers must not scan its folder N times)
_CLEANED: set[str] = set()
#: age after which a temporary file of ours is abandoned (its writer was killed)
STALE_AFTER_SECONDS = 24 * 3600


def new_file_mode() -> int:
    """Permissions a newly created file gets (0o666 minus the umask), read without changing it
    (``os.umask`` would change it process-wide, which is not thread-safe)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def remove_stale_temporaries(folder: str, *, older_than: float = STALE_AFTER_SECONDS) -> list[str]:
    """Remove the temporary files of :func:`atomic_path` in ``folder`` last modified more than
    ``older_than`` seconds ago (left by killed writers); return their paths. Errors (a file
    removed meanwhile, no permission) are ignored: cleaning never fails a write.

    Examples
    --------
    >>> import tempfile
    >>> remove_stale_temporaries(tempfile.mkdtemp())
    []
    """
    removed: list[str] = []
    limit = time.time() - older_than
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not _TEMP_NAME.match(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < limit:
                os.unlink(entry.path)
                removed.append(entry.path)
        except OSError:
            pass
    return removed


@contextmanager
def atomic_path(path: Any, *, fsync: bool = False) -> Iterator[str]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds.

    Parameters
    ----------
    path : str or os.PathLike
        Final file name. Its folder must exist.
    fsync : bool, default False
        Flush the temporary file to disk before the rename.

    Raises
    ------
    RasterWriteError
        When the folder does not exist. Errors raised inside the block propagate
        unchanged after the temporary file is removed.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise RasterWriteError(f"cannot write {path!r}: folder {folder!r} does not exist")
    if folder not in _CLEANED:
        _CLEANED.add(folder)
        remove_stale_temporaries(folder)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".raster-core.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.chmod(tmp, new_file_mode())  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
