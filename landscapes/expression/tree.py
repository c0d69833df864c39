"""The expression tree of a formula (landscapes.expression): its nodes, the limits on a formula,
printing a tree back as a formula or as PyTorch code, and the variables it uses."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

MAX_LENGTH = 300  # characters
MAX_DEPTH = 40  # nesting levels of the syntax tree
MAX_NODES = 200  # syntax-tree nodes
MAX_POWER = 12  # largest |constant exponent|
MAX_BOUND = 1e6  # largest |domain bound|
MIN_FINITE = 0.25  # f must be finite on at least this share of the domain

CONSTANTS = {"pi": math.pi, "e": math.e}
ALLOWED_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-*/^()., ")




# --- the expression tree ----------------------------------------------------


class Expr:
    """A node of a formula. Subclasses are frozen dataclasses: compare by structure."""

    __slots__ = ()

    def children(self) -> tuple[Expr, ...]:
        return ()

    def to_text(self) -> str:
        """The formula in the syntax users type (``^`` for powers), e.g. ``sin(x) * y^2``."""
        return _render(self, "^", "", _short_number)

    def to_torch(self) -> str:
        """The formula as a PyTorch expression of tensors ``x`` and ``y``, e.g.
        ``torch.sin(x) * y**2``: the same operations in the same order (so the same value to
        rounding), for code shown to users. Meant for trees from :func:`parse`: a shared
        subtree is written out at each use.
        """
        return _render(self, "**", "torch.", repr)


@dataclass(frozen=True)
class Const(Expr):
    value: float


@dataclass(frozen=True)
class Var(Expr):
    name: str  # "x" or "y"


@dataclass(frozen=True)
class Neg(Expr):
    a: Expr

    def children(self):
        return (self.a,)


@dataclass(frozen=True)
class _Binary(Expr):
    a: Expr
    b: Expr

    def children(self):
        return (self.a, self.b)


class Add(_Binary):
    pass


class Sub(_Binary):
    pass


class Mul(_Binary):
    pass


class Div(_Binary):
    pass


class Pow(_Binary):
    """a^b for any b, computed as exp(b log a)."""


@dataclass(frozen=True)
class PowInt(Expr):
    """a^n for a constant integer n, computed by repeated multiplication."""

    a: Expr
    n: int

    def children(self):
        return (self.a,)


@dataclass(frozen=True)
class Call(Expr):
    fn: str
    a: Expr

    def children(self):
        return (self.a,)


_PRECEDENCE = {Add: 1, Sub: 1, Mul: 2, Div: 2, Neg: 3, Pow: 4, PowInt: 4}  # Python's
_SYMBOLS = {Add: "+", Sub: "-", Mul: "*", Div: "/"}


def _precedence(e: Expr) -> int:
    if isinstance(e, Const) and math.copysign(1.0, e.value) < 0:
        return _PRECEDENCE[Neg]  # -2 reads like a negation
    return _PRECEDENCE.get(type(e), 5)  # 5: numbers, names, calls


def _short_number(v: float) -> str:
    text = repr(v)
    return text[:-2] if text.endswith(".0") else text


def _power_factor(n: int) -> int | None:
    """For |n| > MAX_POWER, a factor k of n with k and n / k both within MAX_POWER (None when
    |n| <= MAX_POWER or there is none)."""
    if abs(n) <= MAX_POWER:
        return None
    return next((k for k in range(2, MAX_POWER + 1) if n % k == 0 and abs(n // k) <= MAX_POWER), None)


def _render(e: Expr, power: str, prefix: str, number: Callable[[float], str]) -> str:
    """``e`` as text with Python's precedences; parentheses wherever a different grouping
    would change the order of operations (``a - (b - c)``, ``(a^b)^c``, ``x^(-2)``)."""

    def operand(e: Expr, tighter_than: int) -> str:
        text = body(e)
        return f"({text})" if _precedence(e) < tighter_than else text

    def exponent(n: int) -> str:
        return f"{n}" if n > 0 else f"({n})"

    def int_power(e: PowInt) -> str:
        # a folded power such as (x^12)^2 = x^24 goes beyond what a reader takes (|n| <= MAX_POWER):
        # written as a power of a power, so the text reads back as the same tree
        k = _power_factor(e.n)
        if k is None:
            return f"{operand(e.a, 5)}{power}{exponent(e.n)}"
        return f"({operand(e.a, 5)}{power}{k}){power}{exponent(e.n // k)}"

    def body(e: Expr) -> str:
        if isinstance(e, Const):
            return number(e.value)
        if isinstance(e, Var):
            return e.name
        if isinstance(e, Neg):
            return "-" + operand(e.a, 3)
        if isinstance(e, Call):
            return f"{prefix}{e.fn}({body(e.a)})"
        if isinstance(e, PowInt):
            return int_power(e)
        if isinstance(e, Pow):
            return f"{operand(e.a, 5)}{power}{operand(e.b, 4)}"
        p = _PRECEDENCE[type(e)]
        negative = _precedence(e.b) == _PRECEDENCE[Neg]  # x - (-y) rather than x - -y
        return f"{operand(e.a, p)} {_SYMBOLS[type(e)]} {operand(e.b, 4 if negative else p + 1)}"

    return body(e)


def variables(e: Expr) -> set[str]:
    """The variable names ``e`` uses."""
    out, todo, seen = set(), [e], set()
    while todo:
        n = todo.pop()
        if id(n) in seen:  # derivative trees share subtrees: walk each once
            continue
        seen.add(id(n))
        if isinstance(n, Var):
            out.add(n.name)
        todo.extend(n.children())
    return out


