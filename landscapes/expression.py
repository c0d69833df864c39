"""Surfaces from a formula the user types: ``from_expression("(1-x)^2 + 100*(y-x^2)^2")``.

The text is read by :func:`ast.parse` only (never eval/exec/compile to code) and the
syntax tree is checked against an allow-list:

* numbers (int or float literals, finite), the names ``x``, ``y``, ``pi``, ``e``;
* ``+ - * /``, unary ``-`` and ``+``, powers ``^`` or ``**``;
* one-argument calls of ``sin cos tan exp log sqrt abs tanh sinh cosh``.

Anything else is a ValueError whose message says what to change. The input is
bounded (MAX_LENGTH characters, MAX_DEPTH levels, MAX_NODES syntax nodes) and a
constant exponent must lie in [-MAX_POWER, MAX_POWER], so reading any text is
fast and no huge number is ever computed (``9^9^9^9`` is refused, not folded).
Constant parts are computed while reading; one without a finite value (``1/0``,
``0^-1``, ``log(0)``, ``1e300*1e300``), and any division by a constant zero, is a
ValueError too, so every failure while reading, simplifying, differentiating or
evaluating is that one clear error (scripts/fuzz_formulas.py checks it on random formulas).

The formula becomes a small immutable expression tree (:class:`Expr`), which is
differentiated symbolically, so the gradient (and Hessian) are exact. Trees are
evaluated by closures over the tree's nodes (no generated source) that use only
``+ - * /`` and the ``xp`` namespace's functions, like the built-in surfaces, so a
plain-float run (``xp=SCALAR_MATH``) and a NumPy batch give identical bits:

* integer powers are repeated multiplication (``1 / ...`` when negative), never ``**``;
* other powers ``a^b`` are ``exp(b * log(a))``: NaN where the base is negative
  (``x^0.5`` is NaN for x < 0, as ``sqrt(x)`` is), and ``e^b`` is ``exp(b)``;
* ``tan = sin / cos``, ``cosh = (exp(u) + exp(-u)) / 2``, ``sinh = tanh(u) cosh(u)``
  (accurate near 0 too), since SCALAR_MATH has only sin, cos, exp, log, sqrt, abs, tanh;
* the derivative of ``abs(u)`` uses sign(u) with sign(0) = 0 (a subgradient).

A tree prints itself back as a formula (:meth:`Expr.to_text`) or as PyTorch code on
tensors ``x`` and ``y`` (:meth:`Expr.to_torch`, for code shown to users; never run here).
"""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from specs import SCALAR_MATH

from .surface import Surface

MAX_LENGTH = 300  # characters
MAX_DEPTH = 40  # nesting levels of the syntax tree
MAX_NODES = 200  # syntax-tree nodes
MAX_POWER = 12  # largest |constant exponent|
MAX_BOUND = 1e6  # largest |domain bound|
MIN_FINITE = 0.25  # f must be finite on at least this share of the domain

CONSTANTS = {"pi": math.pi, "e": math.e}
_ALLOWED_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-*/^()., ")


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


def _ipow(a, n: int):
    """a^n for an integer n != 0 by square-and-multiply: the same bits on floats and arrays."""
    if n < 0:
        return 1.0 / _ipow(a, -n)
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


@dataclass(frozen=True)
class _Function:
    evaluate: Callable  # (a, xp) -> f(a)
    derivative: Callable  # (node, a) -> f'(a) as an Expr


#: The callable functions; "sign" is internal (the derivative of abs), not for users.
FUNCTIONS: dict[str, _Function] = {
    "sin": _Function(lambda a, xp: xp.sin(a), lambda f, a: call("cos", a)),
    "cos": _Function(lambda a, xp: xp.cos(a), lambda f, a: neg(call("sin", a))),
    "tan": _Function(lambda a, xp: xp.sin(a) / xp.cos(a), lambda f, a: add(Const(1.0), powi(f, 2))),
    "exp": _Function(lambda a, xp: xp.exp(a), lambda f, a: f),
    "log": _Function(lambda a, xp: xp.log(a), lambda f, a: div(Const(1.0), a)),
    "sqrt": _Function(lambda a, xp: xp.sqrt(a), lambda f, a: div(Const(0.5), f)),
    "abs": _Function(lambda a, xp: xp.abs(a), lambda f, a: call("sign", a)),
    "tanh": _Function(lambda a, xp: xp.tanh(a), lambda f, a: sub(Const(1.0), powi(f, 2))),
    "sinh": _Function(lambda a, xp: xp.tanh(a) * _cosh(a, xp), lambda f, a: call("cosh", a)),
    "cosh": _Function(_cosh, lambda f, a: call("sinh", a)),
    "sign": _Function(_sign, lambda f, a: Const(0.0)),
}
USER_FUNCTIONS = tuple(k for k in FUNCTIONS if k != "sign")

_OPS: dict[type, Callable] = {
    Neg: lambda xp, a: -a,
    Add: lambda xp, a, b: a + b,
    Sub: lambda xp, a, b: a - b,
    Mul: lambda xp, a, b: a * b,
    Div: lambda xp, a, b: a / b,
    Pow: lambda xp, a, b: xp.exp(b * xp.log(a)),
}


def _op(node: Expr) -> Callable:
    """The function (xp, *child values) -> value of ``node``'s operation."""
    if isinstance(node, PowInt):
        n = node.n
        return lambda xp, a: _ipow(a, n)
    if isinstance(node, Call):
        f = FUNCTIONS[node.fn].evaluate
        return lambda xp, a: f(a, xp)
    return _OPS[type(node)]


_PRECEDENCE = {Add: 1, Sub: 1, Mul: 2, Div: 2, Neg: 3, Pow: 4, PowInt: 4}  # Python's
_SYMBOLS = {Add: "+", Sub: "-", Mul: "*", Div: "/"}


def _precedence(e: Expr) -> int:
    if isinstance(e, Const) and math.copysign(1.0, e.value) < 0:
        return _PRECEDENCE[Neg]  # -2 reads like a negation
    return _PRECEDENCE.get(type(e), 5)  # 5: numbers, names, calls


def _short_number(v: float) -> str:
    text = repr(v)
    return text[:-2] if text.endswith(".0") else text


def _render(e: Expr, power: str, prefix: str, number: Callable[[float], str]) -> str:
    """``e`` as text with Python's precedences; parentheses wherever a different grouping
    would change the order of operations (``a - (b - c)``, ``(a^b)^c``, ``x^(-2)``)."""

    def operand(e: Expr, tighter_than: int) -> str:
        text = body(e)
        return f"({text})" if _precedence(e) < tighter_than else text

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
            return f"{operand(e.a, 5)}{power}{e.n if e.n > 0 else f'({e.n})'}"
        if isinstance(e, Pow):
            return f"{operand(e.a, 5)}{power}{operand(e.b, 4)}"
        p = _PRECEDENCE[type(e)]
        negative = _precedence(e.b) == _PRECEDENCE[Neg]  # x - (-y) rather than x - -y
        return f"{operand(e.a, p)} {_SYMBOLS[type(e)]} {operand(e.b, 4 if negative else p + 1)}"

    return body(e)


# --- constructors with light simplification ---------------------------------


def _fold(node: Expr) -> Expr:
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
            v = float(_op(node)(SCALAR_MATH, *(k.value for k in kids)))
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


def _is(e: Expr, v: float) -> bool:
    return isinstance(e, Const) and e.value == v


def neg(a: Expr) -> Expr:
    return a.a if isinstance(a, Neg) else _fold(Neg(a))


def add(a: Expr, b: Expr) -> Expr:
    if _is(a, 0):
        return b
    if _is(b, 0):
        return a
    if isinstance(b, Neg):
        return sub(a, b.a)
    return _fold(Add(a, b))


def sub(a: Expr, b: Expr) -> Expr:
    if _is(b, 0):
        return a
    if _is(a, 0):
        return neg(b)
    if isinstance(b, Neg):
        return add(a, b.a)
    return _fold(Sub(a, b))


def mul(a: Expr, b: Expr) -> Expr:
    if _is(a, 0) or _is(b, 0):
        return Const(0.0)
    if _is(a, 1):
        return b
    if _is(b, 1):
        return a
    if _is(a, -1):
        return neg(b)
    if _is(b, -1):
        return neg(a)
    if isinstance(a, Neg) and isinstance(b, Neg):
        return mul(a.a, b.a)
    if isinstance(a, Neg):
        return neg(mul(a.a, b))
    if isinstance(b, Neg):
        return neg(mul(a, b.a))
    return _fold(Mul(a, b))


def div(a: Expr, b: Expr) -> Expr:
    if _is(b, 0):
        raise ValueError(f"{Div(a, b).to_text()} divides by zero")
    if _is(a, 0):
        return Const(0.0)
    if _is(b, 1):
        return a
    if isinstance(a, Neg):
        return neg(div(a.a, b))
    return _fold(Div(a, b))


def powi(a: Expr, n: int) -> Expr:
    if n == 0:
        return Const(1.0)
    if n == 1:
        return a
    if isinstance(a, PowInt) and abs(a.n * n) <= 2 * MAX_POWER:
        return powi(a.a, a.n * n)
    return _fold(PowInt(a, n))


def power(a: Expr, b: Expr) -> Expr:
    """a^b: repeated multiplication for a constant integer b, exp(b log a) otherwise."""
    if isinstance(b, Const) and b.value == int(b.value) and abs(b.value) <= 2 * MAX_POWER:
        return powi(a, int(b.value))
    if _is(a, math.e):
        return call("exp", b)
    return _fold(Pow(a, b))


def call(fn: str, a: Expr) -> Expr:
    return _fold(Call(fn, a))


# --- differentiation ---------------------------------------------------------


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
            if _is(db, 0):
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
            return mul(FUNCTIONS[e.fn].derivative(e, e.a), d(e.a))
        raise TypeError(f"not an expression node: {e!r}")

    return d(e)


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


# --- evaluation --------------------------------------------------------------


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
                steps.append((s, _step(_op(e), args)))
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


# --- reading text --------------------------------------------------------------

_NODE_NAMES = {
    ast.IfExp: "'if ... else'",
    ast.BoolOp: "'and' / 'or'",
    ast.Compare: "comparisons",
    ast.Tuple: "a comma outside a function's parentheses",
    ast.Starred: "'*' before an argument",
    ast.Lambda: "lambda",
    ast.GeneratorExp: "generator expressions",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.NamedExpr: "':='",
}
_OP_NAMES = {ast.FloorDiv: "'//' (use /)", ast.Mod: "'%'", ast.MatMult: "'@'", ast.LShift: "'<<'",
             ast.RShift: "'>>'", ast.BitOr: "'|'", ast.BitAnd: "'&'", ast.Not: "'not'", ast.Invert: "'~'"}
_NAME_HINTS = {
    "ln": "log is the natural logarithm",
    "atan": "arctan is not available",
    "arctan": "arctan is not available",
    "nan": "numbers must be finite",
    "inf": "numbers must be finite",
    "X": "names are lower-case",
    "Y": "names are lower-case",
    "PI": "names are lower-case",
}


def _vocabulary() -> str:
    return f"use numbers, x, y, pi, e, + - * / ^, parentheses and the functions {', '.join(USER_FUNCTIONS)}"


def parse(text: str) -> Expr:
    """The expression tree of ``text``; ValueError (with what to fix) if it isn't a formula."""
    if not isinstance(text, str):
        raise ValueError(f"the formula must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"the formula is too long: {len(text)} characters, at most {MAX_LENGTH}")
    text = " ".join(text.split())
    if not text:
        raise ValueError("the formula is empty: type one in x and y, e.g. x^2 + 3*y^2")
    for i, ch in enumerate(text):
        if ch not in _ALLOWED_CHARS:
            raise ValueError(
                f"the character {ch!r} (at position {i + 1}) is not allowed: {_vocabulary()}")
    source, origin = [], []  # '^' -> '**', remembering where each character came from
    for i, ch in enumerate(text):
        for c in ("**" if ch == "^" else ch):
            source.append(c)
            origin.append(i)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse("".join(source), mode="eval")
    except SyntaxError as err:
        raise ValueError(_syntax_message(text, err, origin)) from None
    except (MemoryError, RecursionError, ValueError):
        raise ValueError("the formula is too complicated to read") from None
    count, todo = 0, [tree]  # iterative, any depth (not ast.walk, which imports on each call)
    while todo:
        n = todo.pop()
        count += isinstance(n, ast.expr)
        todo.extend(ast.iter_child_nodes(n))
    if count > MAX_NODES:
        raise ValueError(f"the formula is too long: {count} parts, at most {MAX_NODES}")
    e = _convert(tree.body, 1)
    if not variables(e):
        raise ValueError("the formula is a constant: use x and/or y")
    return e


def _syntax_message(text: str, err: SyntaxError, origin: list[int]) -> str:
    # offset 0: the text ends too early ("sin(x) +"), so the problem is at its end
    pos = origin[min(err.offset - 1, len(origin) - 1)] + 1 if err.offset else len(text)
    msg = (err.msg or "invalid syntax").split(".")[0]
    hint = ""
    low = msg.lower()
    if "decimal literal" in low or "forgot a comma" in low:
        hint = ": products need '*', e.g. 3*y rather than 3y, and x*y rather than x y"
    elif "never closed" in low or "unexpected eof" in low or "incomplete" in low:
        hint = ": a parenthesis is not closed or an operand is missing"
    elif not err.offset:
        hint = ": it ends too early (a number, a name or a ')' is missing at the end)"
    elif low.startswith("invalid syntax"):
        hint = ": look for a missing number or name, a missing '*' or an extra operator"
    return f"can't read the formula at character {pos} of {text!r} ({msg}){hint}"


def _convert(node: ast.AST, depth: int) -> Expr:
    if depth > MAX_DEPTH:
        raise ValueError(f"the formula is nested too deeply: at most {MAX_DEPTH} levels")
    depth += 1
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or v is None or v is Ellipsis:
            raise ValueError(f"{v!r} is not a number here: {_vocabulary()}")
        if isinstance(v, complex):
            raise ValueError(f"imaginary numbers like {v!r} are not allowed")
        if not isinstance(v, int | float):
            raise ValueError(f"{type(v).__name__} values are not allowed: {_vocabulary()}")
        try:
            f = float(v)
        except OverflowError:
            f = math.inf
        if not math.isfinite(f):
            raise ValueError("a number in the formula is too large: numbers must be below about 1e308")
        return Const(f)
    if isinstance(node, ast.Name):
        if node.id in ("x", "y"):
            return Var(node.id)
        if node.id in CONSTANTS:
            return Const(CONSTANTS[node.id])
        if node.id in USER_FUNCTIONS:
            raise ValueError(f"{node.id} needs an argument in parentheses, e.g. {node.id}(x)")
        hint = f" ({_NAME_HINTS[node.id]})" if node.id in _NAME_HINTS else ""
        raise ValueError(f"unknown name {node.id!r}{hint}: {_vocabulary()}")
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            return neg(_convert(node.operand, depth))
        if isinstance(node.op, ast.UAdd):
            return _convert(node.operand, depth)
        raise ValueError(f"not allowed: {_OP_NAMES.get(type(node.op), type(node.op).__name__)}; "
                         f"{_vocabulary()}")
    if isinstance(node, ast.BinOp):
        if type(node.op) not in (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow):
            raise ValueError(f"not allowed: {_OP_NAMES.get(type(node.op), type(node.op).__name__)}; "
                             "the operators are + - * / and ^")
        a = _convert(node.left, depth)
        b = _convert(node.right, depth)
        if isinstance(node.op, ast.Pow):
            if isinstance(b, Const) and abs(b.value) > MAX_POWER:
                raise ValueError(f"the exponent {b.value:g} is out of range: a constant exponent must be "
                                 f"between -{MAX_POWER} and {MAX_POWER}")
            return power(a, b)
        return {ast.Add: add, ast.Sub: sub, ast.Mult: mul, ast.Div: div}[type(node.op)](a, b)
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name) and f.id in USER_FUNCTIONS:
            if node.keywords:
                raise ValueError(f"{f.id} takes no keyword arguments: write {f.id}(x)")
            if len(node.args) != 1:
                raise ValueError(f"{f.id} takes exactly one argument, got {len(node.args)}: "
                                 f"write e.g. {f.id}(x)")
            return call(f.id, _convert(node.args[0], depth))
        if isinstance(f, ast.Name) and f.id in ("x", "y", *CONSTANTS):
            raise ValueError(f"{f.id} is not a function: write {f.id}*(...) for a product")
        if isinstance(f, ast.Name):
            hint = f" ({_NAME_HINTS[f.id]})" if f.id in _NAME_HINTS else ""
            raise ValueError(f"unknown function {f.id!r}{hint}: the functions are "
                             f"{', '.join(USER_FUNCTIONS)}")
        if isinstance(f, ast.Constant | ast.BinOp | ast.UnaryOp | ast.Call):
            raise ValueError("only functions can be called: write a product with '*', e.g. 2*(x+1) "
                             "or sin(x)*(y+1)")
        raise ValueError(f"only the functions {', '.join(USER_FUNCTIONS)} can be called")
    if isinstance(node, ast.Attribute):
        raise ValueError(f"'.' is only allowed inside numbers such as 0.5: '.{node.attr}' is not allowed")
    if isinstance(node, ast.Subscript):
        raise ValueError("brackets [] are not allowed: use parentheses")
    what = _NODE_NAMES.get(type(node), type(node).__name__)
    raise ValueError(f"not allowed: {what}; {_vocabulary()}")


# --- the surface --------------------------------------------------------------


def from_expression(text: str, domain=((-3.0, 3.0), (-3.0, 3.0)), start=None,
                    name: str = "custom") -> Surface:
    """A Surface for the formula ``text`` in x and y over ``domain``.

    Raises ValueError, with what to fix, for text that is not an allowed formula
    (see the module docstring), a bad domain or start, a formula that is constant,
    or one that is not finite on more than three quarters of the domain.

    start: default a quarter of the way in from the domain's top-left corner (or the
    grid point nearest to it where f and its gradient are finite).
    minima: found numerically (see :func:`find_minima`), global first. Where f is lowest on
    a 201 x 201 grid tells whether f has a minimum in the domain: when that lowest point is
    on the domain's edge or next to where f is not finite, and no minimum found is as low,
    f keeps falling past the edge (x^2 - y^2, a plane, exp(10*x*y)): has_global_min is
    False and minima lists only local minima (often none). When it is inside and lower than
    every strict minimum found (a kink like abs(x) + abs(y), a valley of minima like
    (x - y)^2), that grid point is listed first as the global minimum.
    log_scale: True when, over that grid, max(f - min f) exceeds 500 times the 5th
    percentile of f - min f (a deep, narrow valley under high walls); this picks the
    built-ins' setting except Himmelblau's.
    params: {"expression": text}, so ``from_expression(params["expression"], domain)`` rebuilds it.
    """
    expr = parse(text)
    dom = _check_domain(domain)
    gx, gy = derivative(expr, "x"), derivative(expr, "y")
    value_all = compile_exprs([expr])
    gradient = compile_exprs([gx, gy])
    hessian = compile_exprs([derivative(gx, "x"), derivative(gx, "y"), derivative(gy, "y")])

    def value(x, y, xp):
        return value_all(x, y, xp)[0]

    (x0, x1), (y0, y1) = dom
    n = 201
    gxs, gys = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    with np.errstate(all="ignore"):
        z = np.asarray(value(gxs, gys, np), dtype=float) + np.zeros_like(gxs)
    finite = np.isfinite(z)
    if finite.mean() < MIN_FINITE:
        raise ValueError(f"f is not a finite number on {1 - finite.mean():.0%} of the domain: "
                         "choose a domain where it is defined (e.g. x > 0 for log(x))")
    zf = z[finite]
    lo, hi = float(zf.min()), float(zf.max())
    if hi - lo <= 4 * np.finfo(float).eps * max(abs(lo), abs(hi)):
        raise ValueError("f is constant over the domain: there is nothing to descend")
    with np.errstate(over="ignore"):  # values near +-1e308: their differences are inf
        q = zf - lo
        log_scale = bool(q.max() > 500 * np.percentile(q, 5))

    grid = np.stack([gxs, gys], -1)
    minima = find_minima(value, gradient, hessian, dom, seeds=_grid_minima(grid, z))
    minima, has_global_min = _global_first(value, minima, grid, z)

    if start is None:
        start = _default_start(value, gradient, dom, grid, finite)
    else:
        start = np.asarray(start, dtype=float)
        if start.shape != (2,) or not np.all(np.isfinite(start)):
            raise ValueError(f"start must be two finite numbers, got {start.tolist()}")
        if not (x0 <= start[0] <= x1 and y0 <= start[1] <= y1):
            raise ValueError(f"start {start.tolist()} is outside the domain {dom}")

    shown = " ".join(text.split())
    return Surface(
        name=name,
        title=f"Custom: {shown}",
        lesson=f"Your own surface: f(x, y) = {shown}",
        value=value,
        gradient=gradient,
        domain=dom,
        minima=minima,
        start=start,
        log_scale=log_scale,
        hessian=hessian,
        params={"expression": text},
        has_global_min=has_global_min,
    )


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


def _check_domain(domain) -> tuple[tuple[float, float], tuple[float, float]]:
    try:
        d = np.asarray(domain, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"domain must be ((x_min, x_max), (y_min, y_max)), got {domain!r}") from None
    if d.shape != (2, 2):
        raise ValueError(f"domain must be ((x_min, x_max), (y_min, y_max)), got {domain!r}")
    if not np.all(np.isfinite(d)) or np.any(np.abs(d) > MAX_BOUND):
        raise ValueError(f"domain bounds must be finite numbers from {-MAX_BOUND:g} to {MAX_BOUND:g}")
    for (a, b), axis in zip(d, "xy", strict=True):
        if not b - a >= 1e-6 * max(1.0, abs(a), abs(b)):
            raise ValueError(f"the {axis} range must have min < max (and not be vanishingly small), "
                             f"got {a:g} to {b:g}")
    return (float(d[0, 0]), float(d[0, 1])), (float(d[1, 0]), float(d[1, 1]))


def _default_start(value, gradient, dom, grid, finite) -> np.ndarray:
    (x0, x1), (y0, y1) = dom
    p = np.array([x0 + (x1 - x0) / 4, y1 - (y1 - y0) / 4])
    with np.errstate(all="ignore"):
        gx, gy = np.broadcast_arrays(*gradient(grid[..., 0], grid[..., 1], np))
    ok = finite & np.isfinite(gx) & np.isfinite(gy)
    span = np.array([x1 - x0, y1 - y0])
    d = (((grid - p) / span) ** 2).sum(-1)
    with np.errstate(all="ignore"):
        here = [np.asarray(v, dtype=float) for v in (value(p[0], p[1], np), *gradient(p[0], p[1], np))]
    if all(np.isfinite(here)) or not ok.any():
        return p
    return grid[np.unravel_index(np.argmin(np.where(ok, d, np.inf)), d.shape)].copy()


def _grid_minima(grid: np.ndarray, z: np.ndarray, count: int = 150) -> np.ndarray:
    """The ``count`` lowest points of the grid that are no higher than their 8 neighbours
    (one or more in every basin wider than a cell), shape (k, 2): starts for the search."""
    padded = np.pad(np.where(np.isfinite(z), z, np.inf), 1, constant_values=np.inf)
    rows, cols = z.shape
    low = np.isfinite(z)
    for di in (0, 1, 2):
        for dj in (0, 1, 2):
            low &= z <= padded[di:di + rows, dj:dj + cols]
    order = np.argsort(z[low], kind="stable")[:count]
    return grid[low][order]


def _global_first(value, minima: np.ndarray, grid: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, bool]:
    """``minima`` (lowest first) with the grid's lowest inner point put first when it is
    lower than all of them, and whether f has a lowest point inside the domain.

    Inner grid points have four finite neighbours; the others are the edge (of the domain,
    or of where f is finite). The lowest inner point may miss a valley's floor by up to
    half a cell: its largest second difference / 2 bounds what that can cost, so an edge
    lower by less than that is a tie, not a fall past the edge, provided no neighbour of
    that point is lower (else f falls from it toward the edge, as exp(10*x*y) does).
    """
    finite = np.isfinite(z)
    padded = np.pad(finite, 1, constant_values=False)
    inner = finite & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    low_edge = float(z[finite & ~inner].min()) if (finite & ~inner).any() else np.inf
    low_inner, slack = np.inf, 0.0
    if inner.any():
        i, j = np.unravel_index(np.argmin(np.where(inner, z, np.inf)), z.shape)
        low_inner = float(z[i, j])
        around = z[i - 1:i + 2, j - 1:j + 2]
        if np.all(low_inner <= around[np.isfinite(around)]):
            with np.errstate(over="ignore"):
                slack = max(abs(z[i - 1, j] - 2 * low_inner + z[i + 1, j]),
                            abs(z[i, j - 1] - 2 * low_inner + z[i, j + 1])) / 2

    def at_most(a: float, b: float) -> bool:  # a <= b up to rounding
        return a <= b + 8 * np.finfo(float).eps * max(abs(a), abs(b))

    if len(minima):
        with np.errstate(all="ignore"):
            lowest_found = float(np.asarray(value(minima[0, 0], minima[0, 1], np), dtype=float))
        if at_most(lowest_found, min(low_inner, low_edge)):
            return minima, True
    if inner.any() and at_most(low_inner - slack, low_edge):
        return np.vstack([grid[i, j], minima]), True
    return minima, False


def find_minima(value, gradient, hessian, domain, seeds=None, n: int = 25, steps: int = 120,
                max_count: int = 50) -> np.ndarray:
    """Strict local minima of a surface inside ``domain``, lowest first, shape (k, 2), maybe k = 0.

    Starts: an n x n grid and ``seeds`` (k, 2). From each: ``steps`` normalized gradient
    steps (in coordinates scaled to the unit square, step length shrinking geometrically
    from 1/n to 1e-4), then Newton steps with the analytic Hessian. Kept: finite points in
    the domain where the Hessian is positive definite and the last Newton step is below
    1e-7 of the domain's size (scale-free: where exp(...) underflows f is nearly flat and
    its gradient tiny, but Newton still moves far, so such points are not minima). All
    points are ranked by f before those closer than 1e-4 (scaled) to a lower one are merged
    and the list is cut at ``max_count``, so the lowest minima are the ones kept.
    """
    (x0, x1), (y0, y1) = domain
    lo, span = np.array([x0, y0]), np.array([x1 - x0, y1 - y0])
    u = (np.arange(n) + 0.5) / n
    p = lo + span * np.stack(np.meshgrid(u, u), -1).reshape(-1, 2)
    if seeds is not None:
        p = np.concatenate([p, np.asarray(seeds, dtype=float).reshape(-1, 2)])
    with np.errstate(all="ignore"):
        g = _grad(gradient, p) * span
        for rate in np.geomspace(1.0 / n, 1e-4, steps):
            norm = np.hypot(*g.T)[:, None]
            move = np.where(np.isfinite(g).all(1, keepdims=True) & (norm > 0), g / norm, 0.0)
            p = np.clip(p - rate * span * move, lo - 0.05 * span, lo + 1.05 * span)
            g = _grad(gradient, p) * span
        for _ in range(16):
            step, convex = _newton_step(gradient, hessian, p)
            p = np.where(convex[:, None], p - step, p)
        step, convex = _newton_step(gradient, hessian, p)
        inside = np.all((p >= lo - 1e-9 * span) & (p <= lo + (1 + 1e-9) * span), axis=1)
        keep = (np.isfinite(p).all(1) & inside & convex
                & np.all(np.abs(step) <= 1e-7 * span, axis=1))
        p = np.clip(p[keep], lo, lo + span)
        f = np.asarray(value(p[:, 0], p[:, 1], np), dtype=float) + 0 * p[:, 0]
    order = np.argsort(np.where(np.isfinite(f), f, np.inf), kind="stable")[: np.isfinite(f).sum()]
    p, f = p[order], f[order]
    _, first = np.unique(np.round((p - lo) / span * 1e4), axis=0, return_index=True)
    first = np.sort(first)  # one (the lowest) per cell of 1e-4: most starts of a basin meet
    p, f = p[first], f[first]
    out: list[int] = []
    for k, q in enumerate(p):
        if all(np.abs((q - p[r]) / span).max() > 1e-4 for r in out):
            out.append(k)
            if len(out) > max_count:
                break
    if len(out) > max_count:  # cut below the first left out, and all that tie with it (symmetry)
        cut = f[out[-1]]
        out = [r for r in out[:-1] if f[r] < cut - 1e-9 * abs(cut) - 1e-300]
    return p[out].reshape(-1, 2)


def _newton_step(gradient, hessian, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Newton step H^-1 g at each of ``p`` (k, 2), and where H is positive definite."""
    gx, gy = np.broadcast_arrays(*gradient(p[:, 0], p[:, 1], np), p[:, 0])[:2]
    fxx, fxy, fyy = np.broadcast_arrays(*hessian(p[:, 0], p[:, 1], np), p[:, 0])[:3]
    det = fxx * fyy - fxy * fxy
    step = np.stack([fyy * gx - fxy * gy, fxx * gy - fxy * gx], -1) / det[:, None]
    convex = (fxx > 0) & (det > 1e-8 * (fxx * fxx + 2 * fxy * fxy + fyy * fyy)) & np.isfinite(step).all(1)
    return np.where(convex[:, None], step, 0.0), convex


def _grad(gradient, p: np.ndarray) -> np.ndarray:
    gx, gy = gradient(p[:, 0], p[:, 1], np)
    return np.stack(np.broadcast_arrays(gx, gy), -1).astype(float)
