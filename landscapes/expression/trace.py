"""A built-in surface's formula, traced (landscapes.expression): its own value function run on
symbols instead of numbers gives the tree that the Code panel writes in torch operations."""

from __future__ import annotations

import math
from collections.abc import Callable

from ..surface import Surface
from .evaluate import USER_FUNCTIONS
from .parse import parse
from .simplify import add, call, div, mul, neg, powi, sub
from .tree import Const, Expr, PowInt, Var


def formula(surface: Surface) -> Expr:
    """f of ``surface`` as an expression tree, for its text and its PyTorch code: a typed
    surface's parsed formula, a built-in's own ``value`` traced on symbols (below). One
    definition per surface: the tree is read off the function the runs use."""
    if "expression" in surface.params:
        return parse(surface.params["expression"])
    return trace(surface.value)


def trace(value: Callable) -> Expr:
    """The expression tree of ``value(x, y, xp)``, a function written with + - * / and ``xp``'s
    functions (as the built-in surfaces are): it is called once on symbols whose arithmetic builds
    the tree, so the tree does the same operations in the same order, and evaluates to the same
    value to rounding. ``a * a`` is written ``a^2`` (``a^n * a`` as ``a^(n+1)``)."""
    return _Traced.expr(value(_Traced(Var("x")), _Traced(Var("y")), _TRACE_MATH))


class _Traced:
    """A symbolic number: arithmetic on it (and on plain or NumPy numbers) builds an Expr."""

    __array_ufunc__ = None  # a NumPy scalar on the left defers to the reflected operator
    __slots__ = ("e",)

    def __init__(self, e: Expr):
        self.e = e

    @staticmethod
    def expr(v) -> Expr:
        return v.e if isinstance(v, _Traced) else Const(float(v))

    def __add__(self, o):
        return _Traced(add(self.e, self.expr(o)))

    def __radd__(self, o):
        return _Traced(add(self.expr(o), self.e))

    def __sub__(self, o):
        b = self.expr(o)
        if isinstance(b, Const) and b.value < 0:  # x + 1.2 rather than x - (-1.2): the same bits
            return _Traced(add(self.e, Const(-b.value)))
        return _Traced(sub(self.e, b))

    def __rsub__(self, o):
        return _Traced(sub(self.expr(o), self.e))

    def __mul__(self, o):
        return _Traced(_square_aware_mul(self.e, self.expr(o)))

    def __rmul__(self, o):
        return _Traced(_square_aware_mul(self.expr(o), self.e))

    def __truediv__(self, o):
        return _Traced(div(self.e, self.expr(o)))

    def __rtruediv__(self, o):
        return _Traced(div(self.expr(o), self.e))

    def __neg__(self):
        return _Traced(neg(self.e))


def _square_aware_mul(a: Expr, b: Expr) -> Expr:
    if a == b:
        return powi(a, 2)
    if isinstance(a, PowInt) and a.a == b:
        return powi(b, a.n + 1)
    return mul(a, b)


def _traced_function(fn: str) -> Callable:
    return lambda a: _Traced(call(fn, _Traced.expr(a)))


_TRACE_MATH = type("TraceMath", (), {"pi": math.pi, **{
    fn: staticmethod(_traced_function(fn)) for fn in USER_FUNCTIONS}})


