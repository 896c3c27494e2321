"""A cache prefetch hint usable inside numba kernels.

Kernels that read rows scattered over a large array (one row per posting of a term
list) wait on main memory for each row they touch; asking for a row a few steps
before it is needed lets those waits overlap with the work on the current row. The
hint changes no value: it only moves data towards the core.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["prefetch"]


def _address_type() -> Any:
    """Return the pointer type of ``llvm.prefetch``: opaque (``p0``) where LLVM has those."""
    try:
        return ir.PointerType()
    except TypeError:  # typed pointers (older llvmlite): an i8 pointer, ``p0i8``
        return ir.IntType(8).as_pointer()


def _prefetch(typingctx: Any, array: Any, index: Any) -> Any:
    """Hint that ``array[index]`` will be read soon (LLVM ``llvm.prefetch``, for reading).

    Only for use inside ``@njit`` functions, on a one-dimensional array; ``index``
    must be within the array (no bounds check, no wrap-around of negative indices).
    """
    sig = types.void(array, index)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        item = cgutils.get_item_pointer  # numba's helper carries no annotations
        ptr = item(context, builder, aryty, ary, [args[1]], wraparound=False)  # type: ignore[no-untyped-call]
        ptrty = _address_type()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [ptrty, i32, i32, i32])
        name = f"llvm.prefetch.{ptrty.intrinsic_name}"
        fn = builder.module.globals.get(name) or ir.Function(builder.module, fnty, name)
        # Arguments: address, 0 = read, 3 = keep in all cache levels, 1 = data cache.
        builder.call(fn, [builder.bitcast(ptr, ptrty), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


# Typed as what it is inside compiled code: a call on an array and an index.
prefetch = cast(Callable[[Any, int], None], intrinsic(_prefetch))
