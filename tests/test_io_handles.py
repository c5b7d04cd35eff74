"""One file handle per dataset: closed on a failed open, and a forked child can read."""

from __future__ import annotations

import multiprocessing
import os
import shutil

import numpy as np
import pytest

import raster_core
from raster_core.errors import RasterReadError
from tests.conftest import data_file


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_failed_open_closes_its_file_descriptor(tmp_path):
    good = data_file("byte.tif").read_bytes()
    bad = tmp_path / "bad.tif"
    bad.write_bytes(good[:8] + b"\xff" * 64)  # a TIFF magic with a garbage IFD
    not_tiff = tmp_path / "not.tif"
    not_tiff.write_bytes(b"hello world, not a TIFF")
    before = _open_fds()
    for _ in range(20):
        for path in (bad, not_tiff):
            with pytest.raises(RasterReadError):
                raster_core.open(path)
    assert _open_fds() == before


def test_parse_and_read_share_one_descriptor(tmp_path):
    path = tmp_path / "x.tif"
    shutil.copy(data_file("rgbn_suba.tif"), path)
    before = _open_fds()
    with raster_core.open(path) as ds:
        assert _open_fds() == before + 1
        expected = ds.read()
        # replacing the file by name does not change what the open dataset reads
        tmp = tmp_path / "y.tif"
        shutil.copy(data_file("rgbn_subb.tif"), tmp)
        os.replace(tmp, path)
        np.testing.assert_array_equal(ds.read(), expected)
    assert _open_fds() == before


def _child_read(path: str, queue: multiprocessing.Queue) -> None:
    with raster_core.open(path) as ds:
        queue.put(int(ds.read(1, window=(0, 0, 1024, 1024)).astype(np.int64).sum()))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_reads_a_tiled_file_its_parent_read():
    path = str(data_file("riotiler_cog.tif"))
    with raster_core.open(path) as ds:
        expected = int(ds.read(1, window=(0, 0, 1024, 1024), num_threads=4).astype(np.int64).sum())
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_read, args=(path, queue))
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung reading a tiled file (I/O pool not reset after fork)")
    assert child.exitcode == 0
    assert queue.get(timeout=5) == expected
