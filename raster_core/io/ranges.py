"""Byte-range planning for remote reads: merge nearby ranges, cap each request.

A read of a window needs the byte ranges of the tiles/strips it touches. Over HTTP each
request costs a round trip, so ranges separated by a small gap are fetched in one request
(the gap's bytes are wasted, a round trip is saved), and no request grows past a cap (so
that a full read is spread over concurrent requests). The planning here is pure; the
fetching is :mod:`raster_core.io.sources`.

Examples
--------
>>> plan_requests([0, 100, 5000], [100, 50, 10], gap=1000, cap=1 << 20)
[(0, 150), (5000, 5010)]
>>> plan_requests([0], [2500], gap=0, cap=1000)
[(0, 1000), (1000, 2000), (2000, 2500)]
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["plan_requests", "slice_ranges"]


def plan_requests(starts: Sequence[int], lengths: Sequence[int], *, gap: int, cap: int) -> list[tuple[int, int]]:
    """Requests ``[(start, end), ...]`` (end exclusive, sorted) covering every range.

    Ranges (in any order, overlaps allowed, empty ones ignored) closer than ``gap`` bytes are
    merged into runs; each run is cut into requests of ``cap`` bytes (the last one shorter),
    so a run of ``n`` bytes costs ``ceil(n / cap)`` requests whatever its ranges' sizes.

    Parameters
    ----------
    starts, lengths : sequence of int
        The ranges wanted.
    gap : int
        Largest gap (bytes) bridged by a merge.
    cap : int
        Largest request (bytes), >= 1.

    Examples
    --------
    >>> plan_requests([10, 0], [5, 5], gap=5, cap=100)
    [(0, 15)]
    >>> plan_requests([10, 0], [5, 5], gap=4, cap=100)
    [(0, 5), (10, 15)]
    >>> plan_requests([0, 6], [6, 6], gap=0, cap=5)
    [(0, 5), (5, 10), (10, 12)]
    """
    cap = max(1, int(cap))
    spans = sorted((int(s), int(s) + int(n)) for s, n in zip(starts, lengths, strict=True) if n > 0)
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged:
            ms, me = merged[-1]
            if s - me <= gap:
                merged[-1] = (ms, max(me, e))
                continue
        merged.append((s, e))
    out: list[tuple[int, int]] = []
    for s, e in merged:
        while e - s > cap:
            out.append((s, s + cap))
            s += cap
        out.append((s, e))
    return out


def slice_ranges(
    starts: Sequence[int], lengths: Sequence[int], requests: Sequence[tuple[int, int]], bodies: Sequence[bytes]
) -> list[bytes]:
    """The bytes of every wanted range, cut out of the fetched ``requests`` (their ``bodies``).

    Examples
    --------
    >>> slice_ranges([2, 6], [2, 3], [(0, 5), (5, 10)], [b"abcde", b"fghij"])
    [b'cd', b'ghi']
    """
    import bisect

    req_starts = [s for s, _ in requests]
    out: list[bytes] = []
    for s, n in zip(starts, lengths, strict=True):
        s, n = int(s), int(n)
        if n <= 0:
            out.append(b"")
            continue
        k = bisect.bisect_right(req_starts, s) - 1
        pieces = []
        pos, end = s, s + n
        while pos < end:
            rs, re_ = requests[k]
            if not rs <= pos < re_:
                raise ValueError(f"byte {pos} is not covered by the planned requests")
            body = bodies[k]
            take = min(end, re_)
            pieces.append(body[pos - rs : take - rs])
            pos = take
            k += 1
        out.append(pieces[0] if len(pieces) == 1 else b"".join(pieces))
    return out
