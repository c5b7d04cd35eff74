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


#: how :func:`raw_float` and :func:`raw_store` read and write a value's bytes: (bytes, integer signed,
#: float) per code; the codes follow :data:`RAW_DTYPES`
RAW_DTYPES: tuple[str, ...] = ("uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float32",
                               "float64")
_RAW_LAYOUT = ((1, False, False), (1, True, False), (2, False, False), (2, True, False), (4, False, False),
               (4, True, False), (8, False, False), (8, True, False), (4, False, True), (8, False, True))


def _raw_switch(builder, kind, emit):
    """A switch on the run-time ``kind`` (a code of :data:`RAW_DTYPES`) with one block per code, each
    filled by ``emit(code, nbytes, signed, is_float)``; returns the values the blocks give, as a phi
    (None when they give none)."""
    end = builder.append_basic_block("raw_end")
    blocks = [builder.append_basic_block(f"raw_{k}") for k in range(len(_RAW_LAYOUT))]
    sw = builder.switch(kind, blocks[-1])
    for k, blk in enumerate(blocks):
        sw.add_case(ir.Constant(kind.type, k), blk)
    results = []
    for k, blk in enumerate(blocks):
        builder.position_at_end(blk)
        v = emit(k, *_RAW_LAYOUT[k])
        results.append((v, builder.block))
        builder.branch(end)
    builder.position_at_end(end)
    if results[0][0] is None:
        return None
    phi = builder.phi(results[0][0].type)
    for v, blk in results:
        phi.add_incoming(v, blk)
    return phi


@intrinsic
def raw_float(typingctx, arr, idx, kind):
    """The value at byte ``idx`` of the bytes ``arr`` (a uint8 array) of an array of the data type
    ``kind`` (a run-time code of :data:`RAW_DTYPES`), as float64: the same value as converting the
    typed element itself. One compiled load for every data type (a switch on ``kind``: the same
    branch for a whole loop)."""
    if not isinstance(arr, types.Array) or not isinstance(kind, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = builder.gep(ary.data, [args[1]])
        dbl = ir.DoubleType()

        def emit(k, nbytes, signed, is_float):
            if is_float:
                ftype = ir.FloatType() if nbytes == 4 else dbl
                v = builder.load(builder.bitcast(ptr, ftype.as_pointer()), align=1)
                return builder.fpext(v, dbl) if nbytes == 4 else v
            v = builder.load(builder.bitcast(ptr, ir.IntType(8 * nbytes).as_pointer()), align=1)
            return builder.sitofp(v, dbl) if signed else builder.uitofp(v, dbl)

        return _raw_switch(builder, args[2], emit)

    return types.float64(arr, idx, kind), codegen


@intrinsic
def raw_store(typingctx, arr, idx, value, kind):
    """Store the float64 ``value`` at byte ``idx`` of the bytes ``arr`` (a uint8 array) of an array of
    the data type ``kind`` (a run-time code of :data:`RAW_DTYPES`), converted as a store into the typed
    array converts it (the value must be representable: integral and in range for integer types)."""
    if not isinstance(arr, types.Array) or not isinstance(kind, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = builder.gep(ary.data, [args[1]])
        v = args[2]

        def emit(k, nbytes, signed, is_float):
            if is_float:
                out = builder.fptrunc(v, ir.FloatType()) if nbytes == 4 else v
            else:
                it = ir.IntType(8 * nbytes)
                out = builder.fptosi(v, it) if signed else builder.fptoui(v, it)
            builder.store(out, builder.bitcast(ptr, out.type.as_pointer()), align=1)
            return None

        _raw_switch(builder, args[3], emit)
        return context.get_dummy_value()

    return types.none(arr, idx, value, kind), codegen


@intrinsic
def raw_copy(typingctx, src, si, dst, di, nbytes):
    """Copy ``nbytes`` (1, 2, 4 or 8, run time) bytes from byte ``si`` of the uint8 array ``src`` to byte
    ``di`` of ``dst`` (one load and one store of that width: a value copied unconverted)."""
    if not isinstance(src, types.Array) or not isinstance(dst, types.Array):
        return None

    def codegen(context, builder, sig, args):
        sa = context.make_array(sig.args[0])(context, builder, args[0])
        da = context.make_array(sig.args[2])(context, builder, args[2])
        sp = builder.gep(sa.data, [args[1]])
        dp = builder.gep(da.data, [args[3]])
        end = builder.append_basic_block("copy_end")
        blocks = {w: builder.append_basic_block(f"copy_{w}") for w in (1, 2, 4, 8)}
        sw = builder.switch(args[4], blocks[8])
        for w, blk in blocks.items():
            sw.add_case(ir.Constant(args[4].type, w), blk)
        for w, blk in blocks.items():
            builder.position_at_end(blk)
            pt = ir.IntType(8 * w).as_pointer()
            builder.store(builder.load(builder.bitcast(sp, pt), align=1), builder.bitcast(dp, pt), align=1)
            builder.branch(end)
        builder.position_at_end(end)
        return context.get_dummy_value()

    return types.none(src, si, dst, di, nbytes), codegen


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
