"""A cache index left by another version of the package never fails a kernel's first call.

Numba unpickles a kernel's cache index before it checks whether the index is fresh. An index
written by an older raster_core can name a class the installed one no longer has (an argument
type renamed or removed); unpickling it raises, and the kernel's first call would fail with
that error. Each step here runs a new interpreter sharing one ``NUMBA_CACHE_DIR``.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# a small package kernel: compiles in well under a second
SCRIPT = """
import warnings
import numpy as np
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    from raster_core._kernels.sorting import sort_ints
    values = np.array([5, 3, 9, 1, 3], dtype=np.int64)
    sort_ints(values)
print(values.tolist())
for w in caught:
    print("WARNING", w.category.__name__, str(w.message))
"""


def _run(cache_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)


def _indexes(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.rglob("*.nbi") if "sort_ints" in p.name)


def test_index_naming_a_missing_class_is_recompiled_with_one_warning(tmp_path: Path) -> None:
    first = _run(tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0] == "[1, 3, 3, 5, 9]"
    indexes = _indexes(tmp_path)
    assert indexes, "the kernel was not cached"
    for index in indexes:
        with open(index, "rb") as f:
            version = pickle.load(f)  # Numba's version, which Numba does check first
        # the rest: a pickle naming a class this package does not have
        index.write_bytes(pickle.dumps(version) + b"craster_core._kernels.args\nArgsOfAnOlderVersion\n.")

    second = _run(tmp_path)
    assert second.returncode == 0, second.stderr
    lines = second.stdout.splitlines()
    assert lines[0] == "[1, 3, 3, 5, 9]"
    warned = [line for line in lines[1:] if line.startswith("WARNING")]
    assert len(warned) == 1 and "RuntimeWarning" in warned[0] and "another version" in warned[0]

    # the index was written again: the next process loads the kernel without a warning
    third = _run(tmp_path)
    assert third.returncode == 0, third.stderr
    assert third.stdout.splitlines() == ["[1, 3, 3, 5, 9]"]
