"""Reading a formula's text (landscapes.expression): ``ast.parse`` only, the syntax tree checked
against an allow-list and bounded, every refusal a ValueError that says what to change."""

from __future__ import annotations

import ast
import math
import warnings

from .evaluate import USER_FUNCTIONS
from .simplify import add, call, div, mul, neg, power, sub
from .tree import (
    ALLOWED_CHARS,
    CONSTANTS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
    MAX_POWER,
    Const,
    Expr,
    Var,
    variables,
)

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
        if ch not in ALLOWED_CHARS:
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


