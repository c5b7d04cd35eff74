"""Segments of one read decoded in per-thread batches: same pixels, every batch done before an error."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import raster_core
from raster_core.errors import RasterReadError
from raster_core.io.geotiff import _batches, _run_batches
from tests.conftest import data_file


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(), min_size=1, max_size=60), st.integers(1, 12))
def test_batches_keep_order_and_balance(items, n):
    parts = _batches(items, n)
    assert [x for p in parts for x in p] == items
    assert 1 <= len(parts) <= n and all(parts)
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_every_batch_finishes_before_the_first_error_is_raised():
    finished: list[int] = []
    lock = threading.Lock()

    def run(batch):
        if batch[0] == 0:
            raise RasterReadError("segment 0 is corrupt")
        time.sleep(0.05)  # slower than the failing batch in the calling thread
        with lock:
            finished.extend(batch)

    with pytest.raises(RasterReadError, match="segment 0"):
        _run_batches(run, _batches(list(range(6)), 3), 3)
    assert sorted(finished) == [2, 3, 4, 5]


@pytest.mark.parametrize("name", ["riotiler_cog.tif", "titiler_TCI.tif", "rgbn.tif"])
def test_thread_count_does_not_change_pixels(name):
    with raster_core.open(data_file(name)) as ds:
        one = ds.read(num_threads=1)
        for n in (2, 3, 8):
            np.testing.assert_array_equal(ds.read(num_threads=n), one)
        if ds.overview_count:
            np.testing.assert_array_equal(ds.read(overview_level=0, num_threads=3),
                                          ds.read(overview_level=0, num_threads=1))
