"""Byte-level TIFF editing for tests: walk IFDs, rewrite or add entries of an existing file.

Independent of raster_core, so that the mutation fuzzer and the corrupt-file tests build their
inputs with code that shares nothing with the reader under test.

Examples
--------
>>> import io, numpy as np, tifffile
>>> buf = io.BytesIO(); tifffile.imwrite(buf, np.zeros((4, 4), np.uint8))
>>> data = bytearray(buf.getvalue())
>>> [e.tag for e in ifd_entries(data)[0]][:3]
[256, 257, 258]
>>> data = set_tag(data, 0, 257, 3, [7])          # ImageLength := 7 (SHORT)
>>> [e.values(data) for e in ifd_entries(data)[0] if e.tag == 257]
[(7,)]
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Entry", "TYPE_FORMATS", "header", "ifd_offsets", "ifd_entries", "set_tag", "pack_values"]

# TIFF field type -> struct code (RATIONAL and SRATIONAL as two integers each)
TYPE_FORMATS: dict[int, str] = {
    1: "B", 2: "s", 3: "H", 4: "I", 5: "II", 6: "b", 7: "B", 8: "h", 9: "i", 10: "ii",
    11: "f", 12: "d", 13: "I", 16: "Q", 17: "q", 18: "Q",
}


def _type_size(type_: int) -> int:
    return struct.calcsize("<" + TYPE_FORMATS.get(type_, "B"))


@dataclass(frozen=True)
class Entry:
    """One IFD entry: where it is and what it says."""

    ifd: int
    pos: int  # byte position of the entry in the file
    tag: int
    type: int
    count: int
    big: bool
    order: str

    @property
    def value_pos(self) -> int:
        """Position of the inline value field."""
        return self.pos + (12 if self.big else 8)

    def data_pos(self, data: bytes | bytearray) -> int:
        """Position of the values (inline or at the offset the entry holds)."""
        size = self.count * _type_size(self.type)
        inline = 8 if self.big else 4
        if size <= inline:
            return self.value_pos
        fmt = "Q" if self.big else "I"
        return struct.unpack_from(self.order + fmt, data, self.value_pos)[0]

    def values(self, data: bytes | bytearray, limit: int = 4096) -> tuple:
        """Decoded values (at most ``limit``; empty if they lie past the end)."""
        n = min(self.count, limit)
        code = TYPE_FORMATS.get(self.type, "B")
        if code == "s":
            code = "B"
        fmt = self.order + code * n
        pos = self.data_pos(data)
        if pos + struct.calcsize(fmt) > len(data):
            return ()
        return struct.unpack_from(fmt, data, pos)


def header(data: bytes | bytearray) -> tuple[str, bool, int]:
    """``(byte order, is BigTIFF, first IFD offset)``; raises ValueError if not a TIFF."""
    if data[:2] == b"II":
        order = "<"
    elif data[:2] == b"MM":
        order = ">"
    else:
        raise ValueError("not a TIFF")
    magic = struct.unpack_from(order + "H", data, 2)[0]
    if magic == 42:
        return order, False, struct.unpack_from(order + "I", data, 4)[0]
    if magic == 43:
        return order, True, struct.unpack_from(order + "Q", data, 8)[0]
    raise ValueError("not a TIFF")


def ifd_offsets(data: bytes | bytearray, limit: int = 64) -> list[int]:
    """Offsets of the chained IFDs (stops at a loop, at the end of the file or after ``limit``)."""
    order, big, off = header(data)
    seen: list[int] = []
    while off and off not in seen and len(seen) < limit:
        head = 8 if big else 2
        if off + head > len(data):
            break
        n = struct.unpack_from(order + ("Q" if big else "H"), data, off)[0]
        esize = 20 if big else 12
        nxt = off + head + n * esize
        if nxt + (8 if big else 4) > len(data):
            break
        seen.append(off)
        off = struct.unpack_from(order + ("Q" if big else "I"), data, nxt)[0]
    return seen


def ifd_entries(data: bytes | bytearray) -> list[list[Entry]]:
    """Entries of each IFD, in file order."""
    order, big, _ = header(data)
    out = []
    for k, off in enumerate(ifd_offsets(data)):
        n = struct.unpack_from(order + ("Q" if big else "H"), data, off)[0]
        first = off + (8 if big else 2)
        esize = 20 if big else 12
        entries = []
        for i in range(n):
            pos = first + i * esize
            if big:
                tag, typ, count = struct.unpack_from(order + "HHQ", data, pos)
            else:
                tag, typ, count = struct.unpack_from(order + "HHI", data, pos)
            entries.append(Entry(k, pos, tag, typ, count, big, order))
        out.append(entries)
    return out


def pack_values(order: str, type_: int, values: Sequence[float] | bytes) -> bytes:
    """Values of a TIFF field type as bytes."""
    if isinstance(values, (bytes, bytearray)):
        return bytes(values)
    code = TYPE_FORMATS[type_]
    if code == "s":
        code = "B"
    flat: list = []
    for v in values:
        if code in ("II", "ii"):
            flat.extend(v if isinstance(v, (tuple, list)) else (v, 1))
        else:
            flat.append(v)
    return struct.pack(order + code[0] * len(flat), *flat)


def set_tag(
    data: bytes | bytearray, ifd: int, tag: int, type_: int, values: Sequence[float] | bytes
) -> bytearray:
    """Copy of ``data`` whose entry ``tag`` of IFD ``ifd`` holds ``values`` of ``type_``.

    The entry is rewritten in place (its value appended at the end of the file when it does
    not fit inline); a missing entry is added by moving the IFD, with it, to the end of the file.
    """
    out = bytearray(data)
    entries = ifd_entries(out)[ifd]
    order, big = entries[0].order, entries[0].big
    entry = next((e for e in entries if e.tag == tag), None)
    if entry is None:
        out = _add_entry(out, ifd, tag)
        entry = next(e for e in ifd_entries(out)[ifd] if e.tag == tag)
    raw = pack_values(order, type_, values)
    size = _type_size(type_)
    count = len(raw) // size if size else len(raw)
    inline = 8 if big else 4
    if big:
        struct.pack_into(order + "HHQ", out, entry.pos, tag, type_, count)
    else:
        struct.pack_into(order + "HHI", out, entry.pos, tag, type_, count)
    if len(raw) <= inline:
        out[entry.value_pos : entry.value_pos + inline] = raw.ljust(inline, b"\0")
    else:
        if len(out) % 2:
            out += b"\0"
        pos = len(out)
        out += raw
        struct.pack_into(order + ("Q" if big else "I"), out, entry.value_pos, pos)
    return out


def _add_entry(data: bytearray, ifd: int, tag: int) -> bytearray:
    """Copy IFD ``ifd`` to the end of the file with one more (zeroed, BYTE) entry ``tag``."""
    order, big, first = header(data)
    offsets = ifd_offsets(data)
    off = offsets[ifd]
    head, esize, ptr = (8, 20, "Q") if big else (2, 12, "I")
    n = struct.unpack_from(order + ("Q" if big else "H"), data, off)[0]
    raw_entries = [bytes(data[off + head + i * esize : off + head + (i + 1) * esize]) for i in range(n)]
    nxt = struct.unpack_from(order + ptr, data, off + head + n * esize)[0]
    new = struct.pack(order + ("HHQ" if big else "HHI"), tag, 1, 0).ljust(esize, b"\0")
    raw_entries.append(new)
    raw_entries.sort(key=lambda e: struct.unpack_from(order + "H", e, 0)[0])
    if len(data) % 2:
        data += b"\0"
    pos = len(data)
    data += struct.pack(order + ("Q" if big else "H"), n + 1) + b"".join(raw_entries) + struct.pack(order + ptr, nxt)
    if ifd == 0:
        struct.pack_into(order + ptr, data, 8 if big else 4, pos)
    else:
        prev = offsets[ifd - 1]
        pn = struct.unpack_from(order + ("Q" if big else "H"), data, prev)[0]
        struct.pack_into(order + ptr, data, prev + head + pn * esize, pos)
    return data
