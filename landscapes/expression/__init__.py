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

The work is split by job: ``tree`` (nodes, limits, printing), ``evaluate`` (functions and the
compiler), ``simplify`` (constructors and derivatives), ``parse`` (text), ``trace`` (built-in
surfaces' formulas) and ``minima``; this module builds the surface.
"""

from __future__ import annotations

import numpy as np

from ..surface import Surface
from .evaluate import USER_FUNCTIONS, compile_exprs
from .minima import check_domain, default_start, find_minima, global_first, grid_minima
from .parse import parse
from .simplify import derivative
from .trace import formula, trace
from .tree import (
    CONSTANTS,
    MAX_BOUND,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
    MAX_POWER,
    MIN_FINITE,
    Call,
    Const,
    Expr,
    Pow,
    PowInt,
    Var,
)

__all__ = [
    "CONSTANTS", "MAX_BOUND", "MAX_DEPTH", "MAX_LENGTH", "MAX_NODES", "MAX_POWER", "MIN_FINITE",
    "USER_FUNCTIONS", "Call", "Const", "Expr", "Pow", "PowInt", "Var", "compile_exprs", "derivative",
    "find_minima", "formula", "from_expression", "parse", "trace",
]


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
    dom = check_domain(domain)
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
    minima = find_minima(value, gradient, hessian, dom, seeds=grid_minima(grid, z))
    minima, has_global_min = global_first(value, minima, grid, z)

    if start is None:
        start = default_start(value, gradient, dom, grid, finite)
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
        lesson=f"Your own surface: J(x, y) = {shown}",
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


