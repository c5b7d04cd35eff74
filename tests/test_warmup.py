"""``raster_core.warmup`` / ``raster-core warmup``: kernels compiled ahead of use are loaded from the
on-disk cache by a later process, which then compiles nothing for those warps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import raster_core
from raster_core._warmup import GRIDS, MASKS, WarmupCase, warmup_cases
from raster_core.errors import InvalidParameterError

ROOT = Path(__file__).resolve().parent.parent

# counts the compilations (cache misses) and cache loads of every raster_core kernel after a warp
_PROBE = r"""
import gc, json, sys
from raster_core._warmup import WarmupCase, run_case
run_case(WarmupCase(*sys.argv[1:5]))
from numba.core.registry import CPUDispatcher
misses = hits = 0
for o in gc.get_objects():
    if isinstance(o, CPUDispatcher) and o.py_func.__module__.startswith("raster_core"):
        misses += sum(o.stats.cache_misses.values())
        hits += sum(o.stats.cache_hits.values())
print(json.dumps({"misses": misses, "hits": hits}))
"""


def _run(args: list[str], cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=900)


def test_cases_cover_every_grid_and_mask_kind() -> None:
    cases = warmup_cases(["bilinear"], ["uint16"])
    assert {c.grid for c in cases} == set(GRIDS) and {c.mask for c in cases} == set(MASKS)
    assert len(warmup_cases()) == len(raster_core._warmup.RESAMPLERS) * 5 * len(GRIDS) * len(MASKS)


@pytest.mark.parametrize("bad", [dict(resamplers=["nearest-ish"]), dict(dtypes=["complex64"]),
                                 dict(grids=["sideways"]), dict(masks=["cutline?"])])
def test_unknown_names_are_typed_errors(bad: dict) -> None:
    with pytest.raises(InvalidParameterError) as err:
        raster_core.warmup(**bad)
    assert isinstance(err.value, ValueError)


def test_bad_process_count() -> None:
    with pytest.raises(InvalidParameterError):
        raster_core.warmup(["near"], ["uint8"], grids=["same-up"], masks=["none"], processes=0)


def test_cli_warmup_then_a_new_process_compiles_nothing(tmp_path: Path) -> None:
    """The CLI compiles into NUMBA_CACHE_DIR; a new process running the same warps loads them.

    (Nearest on bytes: what is proven does not depend on the resampler, and its kernels are the
    quickest to compile into an empty cache.)"""
    cache = tmp_path / "numba-cache"
    cli = _run(["-m", "raster_core.cli", "warmup", "--resamplers", "near", "--dtypes", "uint8",
                "--grids", "reproj-down", "--masks", "none,nodata"], cache)
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert "2 warps" in cli.stdout and str(cache) in cli.stdout
    assert any(cache.rglob("*.nbi")), "nothing was written to the cache directory"
    for mask in ("none", "nodata"):
        probe = _run(["-c", _PROBE, "near", "uint8", "reproj-down", mask], cache)
        assert probe.returncode == 0, probe.stderr[-3000:]
        counts = json.loads(probe.stdout.strip().splitlines()[-1])
        assert counts["misses"] == 0 and counts["hits"] > 0, counts


def test_warmup_in_processes_fills_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "numba-cache"
    code = ("import raster_core, json; r = raster_core.warmup(['near', 'average'], ['uint8'], grids=['same-down'], "
            "masks=['none'], processes=2); print(json.dumps(r._asdict()))")
    done = _run(["-c", code], cache)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["cases"] == 2
    for method in ("near", "average"):
        probe = _run(["-c", _PROBE, method, "uint8", "same-down", "none"], cache)
        counts = json.loads(probe.stdout.strip().splitlines()[-1])
        assert counts["misses"] == 0 and counts["hits"] > 0, (method, counts)


@pytest.mark.parametrize("grid", GRIDS)
def test_warmup_cases_are_real_warps(grid: str) -> None:
    """Every grid kind overlaps the source: most of the output is produced (a warp producing
    nothing would compile nothing)."""
    for mask in MASKS:
        out = raster_core._warmup.run_case(WarmupCase("near", "uint8", grid, mask))
        assert (out[0] != 0).mean() > 0.4, (grid, mask)
