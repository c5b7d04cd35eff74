"""Segments of one read decoded from one shared queue by several threads: same pixels, none running after an error."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import raster_core
from raster_core.errors import RasterReadError
from raster_core.io.geotiff import _run_shared
from tests.conftest import data_file


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(), max_size=60), st.integers(1, 8))
def test_every_item_is_worked_once(items, threads):
    done: list[int] = []
    lock = threading.Lock()

    def work(item):
        with lock:
            done.append(item)

    _run_shared(work, items, threads)
    assert sorted(done) == sorted(items)


def test_no_item_runs_after_the_error_is_raised():
    running = [0]
    started: list[int] = []
    lock = threading.Lock()

    def work(item):
        with lock:
            running[0] += 1
            started.append(item)
        try:
            if item == 1:
                raise RasterReadError("segment 1 is corrupt")
            time.sleep(0.02)
        finally:
            with lock:
                running[0] -= 1

    with pytest.raises(RasterReadError, match="segment 1"):
        _run_shared(work, list(range(40)), 4)
    assert running[0] == 0  # every item that started had finished
    time.sleep(0.1)
    assert running[0] == 0 and len(started) < 40  # and none started later


def test_the_calling_thread_does_the_work_when_the_pool_is_busy():
    from raster_core.io.geotiff import _pool

    release = threading.Event()
    blockers = [_pool(2).submit(release.wait, 5) for _ in range(2)]  # every pool thread is taken
    try:
        workers: set[str] = set()
        _run_shared(lambda item: workers.add(threading.current_thread().name), list(range(10)), 2)
        assert workers == {threading.current_thread().name}
    finally:
        release.set()
        for f in blockers:
            f.result()


@pytest.mark.parametrize("name", ["riotiler_cog.tif", "titiler_TCI.tif", "rgbn.tif"])
def test_thread_count_does_not_change_pixels(name):
    with raster_core.open(data_file(name)) as ds:
        one = ds.read(num_threads=1)
        for n in (2, 3, 8):
            np.testing.assert_array_equal(ds.read(num_threads=n), one)
        if ds.overview_count:
            np.testing.assert_array_equal(ds.read(overview_level=0, num_threads=3),
                                          ds.read(overview_level=0, num_threads=1))
