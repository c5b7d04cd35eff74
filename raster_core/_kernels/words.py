"""Packed tap loads: the ``ntaps`` adjacent source values of one kernel row in one memory load.

A 4x4 cubic kernel reads 16 source values per destination pixel; gathered one by one
these scalar loads (and the stores that stage them for the vectorised arithmetic) are most
of a warp's time. Adjacent taps are adjacent in memory, so for small types one unaligned
16/32/64-bit load fetches a whole kernel row (4 uint16 taps = 64 bits); the taps are then
unpacked with shifts in a vectorised loop. The values are the same, so are the results.

Little-endian only (tap ``t`` is bits ``[t * bits, (t + 1) * bits)`` of the word): callers
check :data:`LITTLE_ENDIAN` and :func:`packs` and otherwise gather the taps one by one.
"""
from __future__ import annotations

import sys

from llvmlite import ir
from numba import types
from numba.core.extending import intrinsic

LITTLE_ENDIAN = sys.byteorder == "little"


@intrinsic
def load_word(typingctx, arr, idx, ntaps):
    """``ntaps`` (a literal) adjacent values ``arr[idx], ..., arr[idx + ntaps - 1]`` of a 1-D
    C-contiguous array as one unsigned integer (one unaligned load, no bounds check).

    Only valid where :func:`packs` is true (the word has at most 64 bits); otherwise it is
    typed as uint64 so that dead branches still compile, and must not be called."""
    if not isinstance(ntaps, types.IntegerLiteral) or not isinstance(arr, types.Array):
        return None
    bits = arr.dtype.bitwidth * ntaps.literal_value
    if bits not in (16, 32, 64):
        bits = 64
    word_type = getattr(types, f"uint{bits}")

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = builder.gep(ary.data, [args[1]])
        word_ptr = builder.bitcast(ptr, ir.IntType(bits).as_pointer())
        return builder.load(word_ptr, align=1)

    return word_type(arr, idx, ntaps), codegen


@intrinsic
def lane(typingctx, word, t, like):
    """Value ``t`` (0 = lowest address) of a word from :func:`load_word`, as the dtype of the
    array ``like`` (the bits reinterpreted: integers keep their sign, floats their value)."""
    if not isinstance(word, types.Integer) or not isinstance(like, types.Array):
        return None
    dtype = like.dtype
    bits = dtype.bitwidth

    def codegen(context, builder, sig, args):
        w, tt = args[0], args[1]
        wt = w.type
        if tt.type.width < wt.width:
            tt = builder.zext(tt, wt)
        elif tt.type.width > wt.width:
            tt = builder.trunc(tt, wt)
        v = builder.lshr(w, builder.mul(tt, ir.Constant(wt, bits)))
        if wt.width > bits:
            v = builder.trunc(v, ir.IntType(bits))
        elif wt.width < bits:
            v = builder.zext(v, ir.IntType(bits))
        if isinstance(dtype, types.Float):
            v = builder.bitcast(v, context.get_value_type(dtype))
        return v

    return dtype(word, t, like), codegen


@intrinsic
def packs(typingctx, arr, ntaps):
    """True when ``ntaps`` (a literal) adjacent values of ``arr`` fit one :func:`load_word` word.

    A compile-time constant (from the array's type): LLVM drops the branch not taken before
    optimising it, so each source type compiles one gather path only."""
    if not isinstance(ntaps, types.IntegerLiteral) or not isinstance(arr, types.Array):
        return None
    fits = LITTLE_ENDIAN and arr.dtype.bitwidth * ntaps.literal_value <= 64

    def codegen(context, builder, sig, args):
        return context.get_constant(types.boolean, fits)

    return types.boolean(arr, ntaps), codegen


@intrinsic
def load_word64(typingctx, arr, idx):
    """The 64 bits at ``arr[idx]`` onwards (``word_lanes(arr)`` adjacent values of a 1-D
    C-contiguous array) as one uint64: one unaligned load, no bounds check (the caller makes sure
    the whole word lies inside the array)."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = builder.gep(ary.data, [args[1]])
        word_ptr = builder.bitcast(ptr, ir.IntType(64).as_pointer())
        return builder.load(word_ptr, align=1)

    return types.uint64(arr, idx), codegen


@intrinsic
def word_lanes(typingctx, arr):
    """How many values of ``arr`` one :func:`load_word64` word holds (8 for 8-bit types, 1 for
    64-bit ones; 0 on big-endian machines, where lanes are not laid out as :func:`lane` reads
    them): a compile-time constant."""
    if not isinstance(arr, types.Array):
        return None
    lanes = 64 // arr.dtype.bitwidth if LITTLE_ENDIAN else 0

    def codegen(context, builder, sig, args):
        return context.get_constant(types.int64, lanes)

    return types.int64(arr), codegen
