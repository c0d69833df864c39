"""Evaluating formula trees (landscapes.expression): each function and operation with the same bits on
floats and arrays, and ``compile_exprs``, the closures that compute a list of trees at once."""

from __future__ import annotations

from collections.abc import Callable

from .tree import Add, Call, Const, Div, Expr, Mul, Neg, Pow, PowInt, Sub, Var, variables


def int_power(a, n: int):
    """a^n for an integer n != 0 by square-and-multiply: the same bits on floats and arrays."""
    if n < 0:
        return 1.0 / int_power(a, -n)
    result = None
    while True:
        if n & 1:
            result = a if result is None else result * a
        n >>= 1
        if not n:
            return result
        a = a * a


def _cosh(a, xp):
    return (xp.exp(a) + xp.exp(-a)) / 2


def _sign(a, xp):
    return (a > 0) * 1.0 - (a < 0) * 1.0  # 0 at 0 (and at NaN)


#: How each function is computed, (a, xp) -> f(a), with + - * / and SCALAR_MATH's functions only;
#: "sign" is internal (the derivative of abs), not for users.
EVALUATE: dict[str, Callable] = {
    "sin": lambda a, xp: xp.sin(a),
    "cos": lambda a, xp: xp.cos(a),
    "tan": lambda a, xp: xp.sin(a) / xp.cos(a),
    "exp": lambda a, xp: xp.exp(a),
    "log": lambda a, xp: xp.log(a),
    "sqrt": lambda a, xp: xp.sqrt(a),
    "abs": lambda a, xp: xp.abs(a),
    "tanh": lambda a, xp: xp.tanh(a),
    "sinh": lambda a, xp: xp.tanh(a) * _cosh(a, xp),
    "cosh": _cosh,
    "sign": _sign,
}
USER_FUNCTIONS = tuple(k for k in EVALUATE if k != "sign")

_OPS: dict[type, Callable] = {
    Neg: lambda xp, a: -a,
    Add: lambda xp, a, b: a + b,
    Sub: lambda xp, a, b: a - b,
    Mul: lambda xp, a, b: a * b,
    Div: lambda xp, a, b: a / b,
    Pow: lambda xp, a, b: xp.exp(b * xp.log(a)),
}


def operation(node: Expr) -> Callable:
    """The function (xp, *child values) -> value of ``node``'s operation."""
    if isinstance(node, PowInt):
        n = node.n
        return lambda xp, a: int_power(a, n)
    if isinstance(node, Call):
        f = EVALUATE[node.fn]
        return lambda xp, a: f(a, xp)
    return _OPS[type(node)]


def compile_exprs(roots: list[Expr]) -> Callable:
    """A function (x, y, xp) -> tuple of the roots' values.

    The roots become one list of steps, each a closure over a node's operation and
    its operands' slots; equal subtrees (the derivative rules repeat many) are
    computed once. A root without variables is broadcast like x (``c + 0*x``).
    """
    template: list = [None, None]  # slot 0: x, slot 1: y, then constants and results
    steps: list[tuple[int, Callable]] = []
    slot_of: dict[int, int] = {}
    slot_by_key: dict[tuple, int] = {}

    def new_slot(key, value=None) -> int:
        template.append(value)
        slot_by_key[key] = len(template) - 1
        return len(template) - 1

    def visit(e: Expr) -> int:
        if id(e) in slot_of:
            return slot_of[id(e)]
        if isinstance(e, Var):
            s = 0 if e.name == "x" else 1
        elif isinstance(e, Const):
            key = ("c", e.value.hex())
            s = slot_by_key[key] if key in slot_by_key else new_slot(key, e.value)
        else:
            args = tuple(visit(k) for k in e.children())
            key = (type(e), getattr(e, "n", None), getattr(e, "fn", None), args)
            if key in slot_by_key:
                s = slot_by_key[key]
            else:
                s = new_slot(key)
                steps.append((s, _step(operation(e), args)))
        slot_of[id(e)] = s
        return s

    outs = []
    for root in roots:
        s = visit(root)
        if not variables(root):
            s2 = len(template)
            template.append(None)
            steps.append((s2, _step(lambda xp, c, x: c + 0 * x, (s, 0))))
            s = s2
        outs.append(s)
    outs = tuple(outs)

    def evaluate(x, y, xp):
        r = template.copy()
        r[0], r[1] = x, y
        for s, f in steps:
            r[s] = f(r, xp)
        return tuple(r[s] for s in outs)

    return evaluate


def _step(op: Callable, args: tuple[int, ...]) -> Callable:
    if len(args) == 1:
        (i,) = args
        return lambda r, xp: op(xp, r[i])
    i, j = args
    return lambda r, xp: op(xp, r[i], r[j])


