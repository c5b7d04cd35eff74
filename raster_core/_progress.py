"""Progress reports of the Raster API (``progress=True``): a tqdm bar when tqdm is installed,
else a plain line on stderr, never silence.

The unit is an image (a mosaic input or a stack layer); within an image the blocks of its
warps and scaling advance the same line (see :func:`raster_core._parallel.on_block`).

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> p = Progress(2, "ndarray", stream=out, use_tqdm=False)
>>> p.advance(); p.advance(); p.close()
>>> out.getvalue().splitlines()[-1]
'raster_core ndarray: 2/2 images'
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, Any

__all__ = ["Progress", "check_progress", "make_progress"]


class Progress:
    """Reports ``done/total`` images, and the blocks of the image in progress."""

    def __init__(self, total: int, what: str, *, stream: IO[str] | None = None, use_tqdm: bool = True,
                 min_interval: float = 0.2) -> None:
        self.total, self.what = int(total), what
        self.done = 0
        self._block = ""
        self._lock = threading.Lock()
        self._stream = stream
        self._last = 0.0
        self._min_interval = min_interval
        self._bar: Any = None
        if use_tqdm:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                pass
            else:
                self._bar = tqdm(total=self.total, desc=f"raster_core {what}", unit="image", file=stream)

    def _line(self) -> str:
        return f"raster_core {self.what}: {self.done}/{self.total} images{self._block}"

    def _show(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self._min_interval:
            return
        self._last = now
        if self._bar is not None:
            self._bar.set_postfix_str(self._block.strip(", "), refresh=True)
            return
        stream = self._stream or sys.stderr
        stream.write("\r" + self._line())
        stream.flush()

    def block(self, done: int, total: int) -> None:
        """``done`` of ``total`` blocks of the current image's step are finished."""
        with self._lock:
            self._block = f", block {done}/{total}"
            self._show()

    def advance(self) -> None:
        """One more image is finished."""
        with self._lock:
            self.done += 1
            self._block = ""
            if self._bar is not None:
                self._bar.update(1)
            self._show(force=True)

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                return
            stream = self._stream or sys.stderr
            stream.write("\r" + self._line() + "\n")
            stream.flush()


def check_progress(progress: Any) -> bool:
    """``progress`` as a bool (``None`` is ``False``); anything else than a bool is an
    :class:`~raster_core.errors.InvalidParameterError`."""
    if progress is None:
        return False
    if not isinstance(progress, bool) and type(progress).__name__ != "bool_":
        from raster_core.errors import InvalidParameterError

        raise InvalidParameterError(f"progress must be True, False or None, got {progress!r}")
    return bool(progress)


def make_progress(progress: Any, total: int, what: str) -> Progress | None:
    """A :class:`Progress` for ``progress=True``, ``None`` for ``None``/``False``."""
    return Progress(total, what) if check_progress(progress) else None
