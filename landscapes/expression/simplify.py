"""Building and differentiating formula trees (landscapes.expression): constructors with light
simplification (constant parts folded, so every constant is finite), and the symbolic derivative."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from specs import SCALAR_MATH

from .evaluate import operation
from .tree import MAX_POWER, Add, Call, Const, Div, Expr, Mul, Neg, Pow, PowInt, Sub, Var


def fold(node: Expr) -> Expr:
    """``node`` as a Const when its operands are constants; ValueError when that constant
    is not a finite number (``1/0``, ``0^-1``, ``log(0)``, ``(-1)^0.5``, ``1e300*1e300``).

    Folding runs the same code as evaluation (on SCALAR_MATH), so it changes no bit;
    it never costs more than MAX_POWER multiplications. Every Const is thus finite, and no
    step of an evaluation has only constant operands (Python floats, which raise).
    """
    kids = node.children()
    if not all(isinstance(k, Const) for k in kids):
        return node
    why = ""
    try:
        with np.errstate(all="ignore"):
            v = float(operation(node)(SCALAR_MATH, *(k.value for k in kids)))
    except ZeroDivisionError:
        why = "it divides by zero"
    except (ArithmeticError, ValueError):
        why = "it is outside the function's domain"
    else:
        if math.isnan(v):
            why = "it is not a number: a log, square root or fractional power of a negative number?"
        elif math.isinf(v):
            why = "it is infinite or beyond about 1e308"
    if why:
        raise ValueError(f"the constant part {node.to_text()} has no finite value: {why}")
    return Const(v)


def is_value(e: Expr, v: float) -> bool:
    return isinstance(e, Const) and e.value == v


def neg(a: Expr) -> Expr:
    return a.a if isinstance(a, Neg) else fold(Neg(a))


def add(a: Expr, b: Expr) -> Expr:
    if is_value(a, 0):
        return b
    if is_value(b, 0):
        return a
    if isinstance(b, Neg):
        return sub(a, b.a)
    return fold(Add(a, b))


def sub(a: Expr, b: Expr) -> Expr:
    if is_value(b, 0):
        return a
    if is_value(a, 0):
        return neg(b)
    if isinstance(b, Neg):
        return add(a, b.a)
    return fold(Sub(a, b))


def mul(a: Expr, b: Expr) -> Expr:
    if is_value(a, 0) or is_value(b, 0):
        return Const(0.0)
    if is_value(a, 1):
        return b
    if is_value(b, 1):
        return a
    if is_value(a, -1):
        return neg(b)
    if is_value(b, -1):
        return neg(a)
    if isinstance(a, Neg) and isinstance(b, Neg):
        return mul(a.a, b.a)
    if isinstance(a, Neg):
        return neg(mul(a.a, b))
    if isinstance(b, Neg):
        return neg(mul(a, b.a))
    return fold(Mul(a, b))


def div(a: Expr, b: Expr) -> Expr:
    if is_value(b, 0):
        raise ValueError(f"{Div(a, b).to_text()} divides by zero")
    if is_value(a, 0):
        return Const(0.0)
    if is_value(b, 1):
        return a
    if isinstance(a, Neg):
        return neg(div(a.a, b))
    return fold(Div(a, b))


def powi(a: Expr, n: int) -> Expr:
    if n == 0:
        return Const(1.0)
    if n == 1:
        return a
    if isinstance(a, PowInt) and abs(a.n * n) <= 2 * MAX_POWER:
        return powi(a.a, a.n * n)
    return fold(PowInt(a, n))


def power(a: Expr, b: Expr) -> Expr:
    """a^b: repeated multiplication for a constant integer b, exp(b log a) otherwise."""
    if isinstance(b, Const) and b.value == int(b.value) and abs(b.value) <= 2 * MAX_POWER:
        return powi(a, int(b.value))
    if is_value(a, math.e):
        return call("exp", b)
    return fold(Pow(a, b))


def call(fn: str, a: Expr) -> Expr:
    return fold(Call(fn, a))


#: Each function's derivative, (node, its argument) -> f'(argument) as an Expr
DERIVATIVE: dict[str, Callable] = {
    "sin": lambda f, a: call("cos", a),
    "cos": lambda f, a: neg(call("sin", a)),
    "tan": lambda f, a: add(Const(1.0), powi(f, 2)),
    "exp": lambda f, a: f,
    "log": lambda f, a: div(Const(1.0), a),
    "sqrt": lambda f, a: div(Const(0.5), f),
    "abs": lambda f, a: call("sign", a),
    "tanh": lambda f, a: sub(Const(1.0), powi(f, 2)),
    "sinh": lambda f, a: call("cosh", a),
    "cosh": lambda f, a: call("sinh", a),
    "sign": lambda f, a: Const(0.0),
}


def derivative(e: Expr, var: str) -> Expr:
    """d e / d var, lightly simplified."""
    memo: dict[int, Expr] = {}

    def d(e: Expr) -> Expr:
        key = id(e)
        if key not in memo:
            memo[key] = _d(e)
        return memo[key]

    def _d(e: Expr) -> Expr:
        if isinstance(e, Const):
            return Const(0.0)
        if isinstance(e, Var):
            return Const(1.0 if e.name == var else 0.0)
        if isinstance(e, Neg):
            return neg(d(e.a))
        if isinstance(e, Add):
            return add(d(e.a), d(e.b))
        if isinstance(e, Sub):
            return sub(d(e.a), d(e.b))
        if isinstance(e, Mul):
            return add(mul(d(e.a), e.b), mul(e.a, d(e.b)))
        if isinstance(e, Div):
            da, db = d(e.a), d(e.b)
            if is_value(db, 0):
                return div(da, e.b)
            return div(sub(mul(da, e.b), mul(e.a, db)), powi(e.b, 2))
        if isinstance(e, PowInt):
            return mul(mul(Const(float(e.n)), powi(e.a, e.n - 1)), d(e.a))
        if isinstance(e, Pow):
            if isinstance(e.b, Const):  # c a^(c-1) a': finite at a = 0 when c > 1
                c = e.b.value
                return mul(mul(Const(c), power(e.a, Const(c - 1))), d(e.a))
            return mul(e, add(mul(d(e.b), call("log", e.a)), div(mul(e.b, d(e.a)), e.a)))
        if isinstance(e, Call):
            return mul(DERIVATIVE[e.fn](e, e.a), d(e.a))
        raise TypeError(f"not an expression node: {e!r}")

    return d(e)


