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
def int_lane(typingctx, word, t, bits, sign):
    """Value ``t`` (0 = lowest address) of a word of adjacent integers of ``bits`` bits each (at most
    32), as float64, for any such integer type given at run time: ``sign`` is the type's sign bit (0
    for unsigned types). The same value as converting the integer itself (one code for every small
    integer type: ``(v ^ sign) - sign`` sign-extends it)."""
    if not all(isinstance(a, types.Integer) for a in (word, t, bits, sign)):
        return None

    def codegen(context, builder, sig, args):
        i64 = ir.IntType(64)

        def widen(v):
            return builder.zext(v, i64) if v.type.width < 64 else builder.trunc(v, i64) if v.type.width > 64 else v

        w, tt, nb, sg = (widen(a) for a in args)
        v = builder.lshr(w, builder.mul(tt, nb))
        mask = builder.sub(builder.shl(ir.Constant(i64, 1), nb), ir.Constant(i64, 1))
        v = builder.and_(v, mask)
        v = builder.sub(builder.xor(v, sg), sg)
        return builder.sitofp(v, ir.DoubleType())

    return types.float64(word, t, bits, sign), codegen


@intrinsic
def word_float(typingctx, word, t, bits, sign, fkind):
    """Value ``t`` (0 = lowest address) of a word of adjacent values of ``bits`` bits each, as float64,
    for any data type given at run time: ``fkind`` 0 = signed or unsigned integer of at most 63 bits
    (``sign``: its sign bit, 0 if unsigned), 1 = float32, 2 = float64, 3 = uint64. Every conversion is
    computed and one selected (no branch: the loops calling it vectorise)."""
    if not all(isinstance(a, types.Integer) for a in (word, t, bits, sign, fkind)):
        return None

    def codegen(context, builder, sig, args):
        i64 = ir.IntType(64)
        dbl = ir.DoubleType()

        def widen(v):
            return builder.zext(v, i64) if v.type.width < 64 else builder.trunc(v, i64) if v.type.width > 64 else v

        w, tt, nb, sg, fk = (widen(a) for a in args)
        v = builder.lshr(w, builder.mul(tt, nb))
        mask = builder.lshr(ir.Constant(i64, -1), builder.sub(ir.Constant(i64, 64), nb))
        iv = builder.sub(builder.xor(builder.and_(v, mask), sg), sg)
        as_int = builder.sitofp(iv, dbl)
        as_f32 = builder.fpext(builder.bitcast(builder.trunc(v, ir.IntType(32)), ir.FloatType()), dbl)
        as_f64 = builder.bitcast(v, dbl)
        as_u64 = builder.uitofp(v, dbl)
        out = builder.select(builder.icmp_unsigned("==", fk, ir.Constant(i64, 1)), as_f32, as_int)
        out = builder.select(builder.icmp_unsigned("==", fk, ir.Constant(i64, 2)), as_f64, out)
        return builder.select(builder.icmp_unsigned("==", fk, ir.Constant(i64, 3)), as_u64, out)

    return types.float64(word, t, bits, sign, fkind), codegen


@intrinsic
def float_bits(typingctx, value, fkind):
    """The bits of the float64 ``value`` converted to a data type given at run time, as uint64 (the
    low bytes of it hold the value; :func:`word_float`'s ``fkind`` codes): 0 = integer (the value
    must be integral and in the type's range), 1 = float32, 2 = float64, 3 = uint64. Every conversion
    is computed and one selected (no branch: the loops calling it vectorise)."""
    if not isinstance(value, types.Float) or not isinstance(fkind, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        i64 = ir.IntType(64)
        v, fk = args
        if fk.type.width != 64:
            fk = builder.zext(fk, i64) if fk.type.width < 64 else builder.trunc(fk, i64)
        as_int = builder.fptosi(v, i64)
        as_f32 = builder.zext(builder.bitcast(builder.fptrunc(v, ir.FloatType()), ir.IntType(32)), i64)
        as_f64 = builder.bitcast(v, i64)
        as_u64 = builder.fptoui(v, i64)
        out = builder.select(builder.icmp_unsigned("==", fk, ir.Constant(i64, 1)), as_f32, as_int)
        out = builder.select(builder.icmp_unsigned("==", fk, ir.Constant(i64, 2)), as_f64, out)
        return builder.select(builder.icmp_unsigned("==", fk, ir.Constant(i64, 3)), as_u64, out)

    return types.uint64(value, fkind), codegen
