"""Argument checks the generated Numba kernels run before their loops.

Numba does no bounds checks, and a vendored module is called directly, not through
``runtime/``'s validation: an array shorter than the first one, or a class label outside
``[0, C)``, made a kernel read and write past its arrays (heap corruption, ``free(): invalid
pointer``). Each kernel compares its arrays' sizes with the first array's, in O(1), and
softmax_ce checks the labels in one pass before the rows; an output that partly overlaps an
input (a shifted view, overwritten before it is read) is refused too. A failed check raises
ValueError naming the argument and the value. ``CHECKS_SOURCE`` is printed into every
generated module that uses :func:`size_checks`.
"""

CHECKS_SOURCE = '''
# Argument checks (from codegen/numba_checks.py): Numba does no bounds checks, so a
# kernel compares its arrays' sizes (and class labels) before it reads with them, and
# refuses an output that partly overlaps an input.
@numba.njit(cache=CACHE)
def size_error(name, size, expected, what):
    raise ValueError(name + " has " + str(size) + " elements, not " + str(expected)
                     + " (" + what + ")")


@numba.njit(cache=CACHE)
def overlap_error(out, arg):
    raise ValueError(out + " overlaps " + arg + " without being the same array (in place: pass "
                     + arg + " itself; a shifted view would be read after it is written)")


@numba.njit(cache=CACHE)
def disjoint_error(out, arg):
    raise ValueError(out + " overlaps " + arg + ": it must be an array of its own")


@numba.njit(cache=CACHE)
def rows_error(name, size, vec, features):
    raise ValueError(name + " has " + str(size) + " elements, not a positive multiple of " + vec
                     + ".size = " + str(features) + " (a raveled (N, F) or, for the _rows "
                     "kernels, (F, N) array, F = " + vec + ".size)")


@numba.njit(cache=CACHE)
def label_error(i, label, n_classes, ignore_index):
    raise ValueError("labels[" + str(i) + "] = " + str(label) + " is not a class index in [0, "
                     + str(n_classes) + ") nor ignore_index (" + str(ignore_index) + ")")
'''


def size_checks(checks, indent: str = "    ") -> list[str]:
    """Source lines that raise (size_error) unless each ``(name, size, expected, what)``
    holds ``size == expected``; all four are source text, ``name`` and ``what`` quoted."""
    out = []
    for name, size, expected, what in checks:
        out += [f"{indent}if {size} != {expected}:",
                f"{indent}    size_error({name!r}, {size}, {expected}, {what!r})"]
    return out


def overlap_checks(pairs, indent: str = "    ") -> list[str]:
    """Source lines that raise (overlap_error) when output ``o`` overlaps input ``a`` without
    being the same array, for each ``(o, a)``: the same array is in place, which the kernels
    support; a shifted view of it would be overwritten before it is read. Uses the module's
    ``overlaps`` (codegen.numba_reduce.STREAM_SOURCE)."""
    out = []
    for o, a in pairs:
        out += [f"{indent}if overlaps({o}, {a}) and ({o}.ctypes.data != {a}.ctypes.data "
                f"or {o}.strides != {a}.strides):",
                f"{indent}    overlap_error({o!r}, {a!r})"]
    return out
