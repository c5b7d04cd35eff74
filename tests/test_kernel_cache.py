"""Numba's on-disk cache never makes a kernel import or compile fail.

Each case runs a fresh interpreter where Numba finds no writable cache location of its own: the
package is a copy in a directory the process cannot write (a read-only site-packages), ``HOME``
is unset, and ``NUMBA_CACHE_DIR`` and ``XDG_CACHE_HOME`` point into unwritable directories. As
root, permission bits do not stop writes, so the interpreter then runs as user ``nobody``.

A control case shows that these conditions do make Numba fail on a plain ``cache=True`` function
(``RuntimeError: cannot cache function ...: no locator available``); raster_core's kernels must
instead import, compile and run, caching in a private temporary directory, or in memory when no
directory at all is writable, with at most one warning.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOBODY = 65534
AS_ROOT = os.geteuid() == 0
SETPRIV = shutil.which("setpriv")

# Imports every kernel module (each decorates its functions, which is where a missing cache
# locator raises), then compiles and runs one small kernel.
KERNELS_SCRIPT = """
import json, sys, tempfile, warnings
if sys.argv[1] == "no-tmp":
    tempfile.tempdir = "/proc/raster-core-no-such-dir"
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    from raster_core._kernels import CACHE, approx, interp, reduce, rows, rasterize, scaling
    near_edge = approx._retry_test(-0.5, 0.5, 0.0, 0.0, 1.0, 1.0)
import numba
print(json.dumps({"cache": CACHE, "near_edge": bool(near_edge), "cache_dir": numba.config.CACHE_DIR,
                  "warnings": [str(w.message) for w in caught]}))
"""

CONTROL_SCRIPT = """
import numba

@numba.njit(cache=True)
def one():
    return 1
"""


def _chmod_tree(top: Path, dir_mode: int, file_mode: int) -> None:
    for dirpath, _dirs, files in os.walk(top):
        os.chmod(dirpath, dir_mode)
        for name in files:
            os.chmod(os.path.join(dirpath, name), file_mode)


@pytest.fixture
def readonly_install() -> Iterator[Path]:
    """A copy of the package in a directory the test interpreter cannot write (mode 0555)."""
    if AS_ROOT and SETPRIV is None:
        pytest.fail("running as root needs setpriv (util-linux) to drop to an unprivileged user")
    base = Path(tempfile.mkdtemp(prefix="raster-core-ro-"))
    try:
        os.chmod(base, 0o755)  # traversable by the unprivileged user
        site = base / "site"
        shutil.copytree(ROOT / "raster_core", site / "raster_core", ignore=shutil.ignore_patterns("__pycache__"))
        (site / "cache_control.py").write_text(CONTROL_SCRIPT)
        for name in ("numba-cache", "xdg-cache"):
            (base / "locked" / name).mkdir(parents=True)
        _chmod_tree(site, 0o555, 0o444)
        _chmod_tree(base / "locked", 0o555, 0o444)
        yield base
    finally:
        _chmod_tree(base, 0o755, 0o644)
        shutil.rmtree(base, ignore_errors=True)


def _run(base: Path, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "PYTHON", "XDG_"))}
    env.pop("HOME", None)
    env.update(
        PYTHONPATH=str(base / "site"),
        PYTHONDONTWRITEBYTECODE="1",
        NUMBA_CACHE_DIR=str(base / "locked" / "numba-cache"),
        XDG_CACHE_HOME=str(base / "locked" / "xdg-cache"),
    )
    cmd = [sys.executable, "-c", code, *args]
    if AS_ROOT:
        assert SETPRIV is not None
        cmd = [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]
    return subprocess.run(cmd, env=env, cwd=base, capture_output=True, text=True, timeout=600)


def _result(proc: subprocess.CompletedProcess[str]) -> dict:
    import json

    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_conditions_make_numba_fail(readonly_install: Path) -> None:
    proc = _run(readonly_install, "import cache_control")
    assert proc.returncode != 0
    assert "no locator available" in proc.stderr


def test_kernels_fall_back_to_private_temp_cache(readonly_install: Path) -> None:
    res = _result(_run(readonly_install, KERNELS_SCRIPT, "tmp"))
    assert res["cache"] is True
    assert res["near_edge"] is True
    assert len(res["warnings"]) <= 1
    cache_dir = Path(res["cache_dir"])
    assert cache_dir.parent == Path(tempfile.gettempdir())
    try:
        info = cache_dir.stat()
        assert info.st_uid == (NOBODY if AS_ROOT else os.geteuid())
        assert stat.S_IMODE(info.st_mode) == 0o700
        assert any(p.suffix == ".nbi" for p in cache_dir.rglob("*")), "nothing was cached"
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)


def test_kernels_compile_in_memory_without_any_writable_dir(readonly_install: Path) -> None:
    res = _result(_run(readonly_install, KERNELS_SCRIPT, "no-tmp"))
    assert res["cache"] is False
    assert res["near_edge"] is True
    assert len(res["warnings"]) == 1
    assert "NUMBA_CACHE_DIR" in res["warnings"][0]

