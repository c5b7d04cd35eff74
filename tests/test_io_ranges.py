"""Byte-range planning: every wanted byte covered, requests capped, sliced back exactly."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from raster_core.io.ranges import plan_requests, slice_ranges

ranges = st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 700)), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(ranges, st.integers(0, 2000), st.integers(1, 3000))
def test_plan_covers_caps_and_slices_exactly(wanted, gap, cap):
    starts = [s for s, _ in wanted]
    lengths = [n for _, n in wanted]
    plan = plan_requests(starts, lengths, gap=gap, cap=cap)
    assert all(0 < e - s <= cap for s, e in plan)
    assert all(a[1] <= b[0] for a, b in zip(plan, plan[1:], strict=False))  # sorted, disjoint
    for s, n in wanted:  # every wanted byte is fetched
        if n:
            assert any(ps <= s < pe for ps, pe in plan)
    blob = bytes(i % 251 for i in range(6000))
    bodies = [blob[s:e] for s, e in plan]
    assert slice_ranges(starts, lengths, plan, bodies) == [blob[s : s + n] for s, n in wanted]
    # no byte is fetched twice, and a merged run costs ceil(run / cap) requests
    fetched = sum(e - s for s, e in plan)
    union = len({b for s, n in wanted for b in range(s, s + n)})
    assert fetched >= union
    if gap == 0 and all(n for n in lengths):
        assert len(plan) <= sum(math.ceil(n / cap) for n in lengths)
