"""Tests of ``landscapes.from_expression``: surfaces from typed formulas.

Values are checked against NumPy expressions written out by hand here, gradients
against finite differences; hostile text must give a ValueError and run nothing.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib.util
import math
import re
import subprocess
import sys
import warnings
from datetime import timedelta
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import landscapes
import optimizers
import viz
from landscapes import from_expression
from landscapes.expression import (
    MAX_LENGTH,
    MAX_POWER,
    Call,
    Const,
    Pow,
    PowInt,
    Var,
    compile_exprs,
    derivative,
    parse,
)
from specs import SCALAR_MATH

EPS = np.finfo(float).eps
ROOT = Path(__file__).resolve().parent.parent


def _fuzz_module():
    """scripts/fuzz_formulas.py: the random-formula generator and checks, shared with the tests."""
    spec = importlib.util.spec_from_file_location("fuzz_formulas", ROOT / "scripts" / "fuzz_formulas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fuzz = _fuzz_module()
ROSENBROCK = "(1-x)^2 + 100*(y-x^2)^2"


def fd_grad(f, p, h):
    """Fourth-order central differences of f(x, y) (arrays) at p (k, 2) with step h."""
    out = []
    for i in range(2):
        e = np.zeros_like(p)
        e[:, i] = h
        with np.errstate(all="ignore"):
            out.append((f(p - 2 * e) - 8 * f(p - e) + 8 * f(p + e) - f(p + 2 * e)) / (12 * h))
    return np.stack(out, -1)


def xy_points(lo=-3.0, hi=3.0, n=20):
    return st.lists(st.tuples(st.floats(lo, hi), st.floats(lo, hi)), min_size=1, max_size=n).map(np.array)


# --- known formulas -------------------------------------------------------------


def test_rosenbrock_matches_builtin():
    s = from_expression(ROSENBROCK, domain=((-2, 2), (-1, 3)))
    r = landscapes.get("rosenbrock")
    p = np.random.default_rng(0).uniform([-2, -1], [2, 3], size=(1000, 2))
    np.testing.assert_allclose(s.f(p), r.f(p), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s.grad(p), r.grad(p), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(s.hess(p), r.hess(p), rtol=1e-12, atol=1e-9)
    assert np.allclose(s.minima[0], [1.0, 1.0], atol=1e-10)
    assert s.log_scale
    assert s.params == {"expression": ROSENBROCK}
    assert s.title == f"Custom: {ROSENBROCK}" and ROSENBROCK in s.lesson
    assert s.name == "custom" and from_expression(ROSENBROCK, name="mine").name == "mine"


KNOWN = [  # text, the same written in NumPy, points to avoid (not differentiable there)
    ("sin(x)*cos(y)", lambda x, y: np.sin(x) * np.cos(y), None),
    ("x^2 + 3*y^2", lambda x, y: x * x + 3 * y * y, None),
    ("exp(-(x^2+y^2))", lambda x, y: np.exp(-(x * x + y * y)), None),
    ("abs(x) + y^2", lambda x, y: np.abs(x) + y * y, lambda x, y: np.abs(x) < 0.01),
    ("sqrt(x^2+y^2+1)", lambda x, y: np.sqrt(x * x + y * y + 1), None),
    ("log(1+x^2) + y**2", lambda x, y: np.log(1 + x * x) + y * y, None),
    ("tanh(x) - tanh(2*y)/3", lambda x, y: np.tanh(x) - np.tanh(2 * y) / 3, None),
    ("tan(x/2) + sinh(y) - cosh(x*y/3)", lambda x, y: np.tan(x / 2) + np.sinh(y) - np.cosh(x * y / 3), None),
    ("pi*x + e*y^3", lambda x, y: np.pi * x + np.e * y**3, None),
    ("e^(x/3) * 2^y", lambda x, y: np.exp(x / 3) * 2.0**y, None),
    ("(x^2+1)^(y/2)", lambda x, y: (x * x + 1) ** (y / 2), None),
    ("(x^2+1)^1.5 - y/(2+x)^3", lambda x, y: (x * x + 1) ** 1.5 - y / (2 + x) ** 3, lambda x, y: x < -1.5),
    ("x^-2 + 1/y^(-3)", lambda x, y: x**-2.0 + y**3,
     lambda x, y: (np.abs(x) < 0.3) | (np.abs(y) < 0.1)),  # y = 0: 1/inf; near x = 0 x^-2 is too steep for FD
    ("-x^2 + -(-y)^4 + +x", lambda x, y: -(x * x) - y**4 + x, None),
]


@pytest.mark.parametrize(("text", "ref", "avoid"), KNOWN, ids=[k[0] for k in KNOWN])
@settings(max_examples=20, deadline=None)
@given(p=xy_points())
def test_known_formulas(text, ref, avoid, p):
    s = _surface(text)
    with np.errstate(all="ignore"):
        want = ref(p[:, 0], p[:, 1])
    np.testing.assert_allclose(s.f(p), want, rtol=1e-13, atol=1e-13)
    if avoid is not None:
        p = p[~avoid(p[:, 0], p[:, 1])]
    h = 1e-3
    g = s.grad(p)
    fd = fd_grad(s.f, p, h)
    tol = 1e-7 * (1 + np.abs(g)) + 20 * EPS * (1 + np.abs(s.f(p)))[:, None] / h
    assert np.all(np.abs(g - fd) <= tol), (text, p, g, fd)
    # the Hessian is the derivative of the gradient
    if len(p):
        fh = np.stack([fd_grad(lambda q, i=i: s.grad(q)[:, i], p, h) for i in range(2)], -2)
        H = s.hess(p)
        htol = 1e-6 * (1 + np.abs(H)) + 20 * EPS * (1 + np.abs(g))[..., None] / h
        assert np.all(np.abs(H - fh) <= htol), (text, p, H, fh)


_CACHE: dict[str, landscapes.Surface] = {}


def _surface(text: str) -> landscapes.Surface:
    if text not in _CACHE:
        _CACHE[text] = from_expression(text)
    return _CACHE[text]


@pytest.mark.parametrize(("text", "minima"), [
    (ROSENBROCK, [[1, 1]]),
    ("x^2 + 3*y^2", [[0, 0]]),
    ("x^4 - 2*x^2 + y^2", [[-1, 0], [1, 0]]),
    ("(x-1)^2 + (y+2)^2 + 0.5*x", [[0.75, -2]]),
    ("-exp(-((x-1)^2+y^2)) - 0.5*exp(-((x+1.5)^2+(y-1)^2))", [[1, 0], [-1.5, 1]]),
    ("sqrt(x^2+y^2+1)", [[0, 0]]),
])
def test_minima_found_global_first(text, minima):
    s = from_expression(text)
    assert len(s.minima) == len(minima)
    # the first known minimum is the global one
    assert np.allclose(s.minima[0], minima[0], atol=2e-2)
    for m in minima:
        assert np.min(np.abs(s.minima - m).max(1)) < 2e-2, (m, s.minima)
    assert np.all(np.diff(s.minima_values) >= 0)
    assert np.all(np.abs(s.grad(s.minima)) < 1e-8 * (1 + np.abs(s.grad(s.start)).max()))


@pytest.mark.parametrize(("text", "where"), [
    ("abs(x) + abs(y-1)", [0.0, 1.0]),  # a kink, no stationary point: within a grid cell
    ("(x-y)^2", None),  # a valley of minima: no strict one
    ("(x - 0.7*y - 0.1)^2", None),  # a valley missing the grid points: still not "no minimum"
])
def test_minima_fallback_is_lowest_grid_point(text, where):
    """No strict minimum: the lowest inner point of the 201 x 201 grid (cells of 6/200 = 0.03)."""
    s = from_expression(text)
    assert s.minima.shape == (1, 2) and s.has_global_min
    (x0, x1), (y0, y1) = s.domain
    assert x0 <= s.minima[0, 0] <= x1 and y0 <= s.minima[0, 1] <= y1
    for got, want in zip(s.minima[0], where or [None, None], strict=True):
        assert want is None or abs(got - want) <= 0.03 / 2 + 1e-12
    assert s.global_min <= s.f(s.start)


def test_abs_subgradient_is_zero_at_the_kink():
    s = from_expression("abs(x) + y^2")
    np.testing.assert_array_equal(s.grad([[0.0, 0.0], [2.0, 1.0], [-2.0, 0.0]]),
                                  [[0.0, 0.0], [1.0, 2.0], [-1.0, 0.0]])


def test_log_scale_rule():
    assert from_expression(ROSENBROCK, domain=((-2, 2), (-1, 3))).log_scale
    assert from_expression("exp(x^2+y^2)").log_scale
    assert not from_expression("x^2 + 3*y^2").log_scale
    assert not from_expression("sin(x)*cos(y)").log_scale


def test_negative_base_of_non_integer_power_is_nan():
    s = from_expression("x^0.5 + y^2", domain=((-1, 4), (-2, 2)))
    assert np.isnan(s.f([-1.0, 0.0]))
    assert s.f([4.0, 1.0]) == pytest.approx(3.0, rel=1e-15)
    assert s.grad([4.0, 1.0]) == pytest.approx([0.25, 2.0], rel=1e-14)
    assert s.grad([0.0, 1.0])[0] == np.inf  # 0.5 * 0^-0.5
    assert from_expression("x^1.5 + y^2").grad([0.0, 0.0])[0] == 0.0  # c x^(c-1) is finite at 0


def test_shapes_and_broadcasting():
    s = from_expression("x^2 + 2*y")  # d/dy is the constant 2
    for shape in [(2,), (5, 2), (3, 4, 2)]:
        xy = np.random.default_rng(1).uniform(-3, 3, size=shape)
        assert s.f(xy).shape == shape[:-1]
        assert s.grad(xy).shape == shape
        assert s.hess(xy).shape == (*shape, 2)
    _, gy = s.gradient(np.zeros((3, 4)), np.zeros((3, 4)), np)
    assert np.shape(gy) == (3, 4) and np.all(gy == 2.0)
    assert s.gradient(1.0, 2.0, SCALAR_MATH) == (2.0, 2.0)
    assert type(s.value(1.5, 2.0, SCALAR_MATH)) is float


def test_tree_structure():
    assert parse("x^2") == PowInt(Var("x"), 2)
    assert parse("x**-3") == PowInt(Var("x"), -3)
    assert parse("x^2^3") == PowInt(Var("x"), 8)  # right-associative, 2^3 folded
    assert parse("x^0.5") == Pow(Var("x"), Const(0.5))
    assert parse("e^y") == Call("exp", Var("y"))
    assert parse("x^(1/4)") == Pow(Var("x"), Const(0.25))
    assert parse("x^1") == Var("x") and parse("(2*3)*y") == parse("6*y")
    assert derivative(parse("y^2"), "x") == Const(0.0)
    assert derivative(parse("x*y"), "x") == Var("y")


def test_domain_and_start():
    s = from_expression("x^2+y^2", domain=((0, 8), (-1, 3)))
    assert s.domain == ((0.0, 8.0), (-1.0, 3.0))
    np.testing.assert_array_equal(s.start, [2.0, 2.0])  # a quarter in from the top-left corner
    s = from_expression("x^2+y^2", start=(0.5, -1))
    np.testing.assert_array_equal(s.start, [0.5, -1.0])
    # where f is not defined at that point, the nearest grid point where it is
    s = from_expression("log(x) + y^2")
    assert np.isfinite(s.f(s.start)) and np.all(np.isfinite(s.grad(s.start)))
    for bad in [((1, 0), (0, 1)), ((0, 0), (0, 1)), ((0, np.inf), (0, 1)), ((0, 1), (np.nan, 1)),
                ((0, 2e6), (0, 1)), ((0, 1),), "abc", ((0, 1), (0, 1), (0, 1)), ((0, 1e-12), (0, 1))]:
        with pytest.raises(ValueError, match=r"domain|range"):
            from_expression("x+y^2", domain=bad)
    for bad in [(5, 0), (0, np.nan), (1, 2, 3)]:
        with pytest.raises(ValueError, match="start"):
            from_expression("x+y^2", start=bad)


def test_params_rebuild_the_surface():
    s = from_expression("sin(x) + y^2/4", domain=((-4, 4), (-2, 2)))
    t = from_expression(s.params["expression"], domain=s.domain)
    p = np.random.default_rng(2).uniform(-2, 2, size=(50, 2))
    np.testing.assert_array_equal(s.f(p), t.f(p))
    np.testing.assert_array_equal(s.minima, t.minima)


@pytest.mark.parametrize(("text", "match"), [
    ("1", "constant"),
    ("pi*e - 2", "constant"),
    ("x - x", "constant over the domain"),
    ("0*x + 3", "constant"),
    ("log(x) + log(-y) + log(x-2)", "not a finite number on"),
    ("sqrt(-x^2-y^2-1)", "not a finite number on"),
])
def test_constant_or_undefined_formulas_are_refused(text, match):
    with pytest.raises(ValueError, match=match):
        from_expression(text)


def test_partly_undefined_formula_is_a_surface():
    s = from_expression("log(x) + y^2")  # NaN on the left half: still drawn, start on the right
    assert s.start[0] > 0
    assert np.isnan(s.f([-1.0, 0.0]))


# --- a single run equals a row of a batch --------------------------------------


@pytest.mark.parametrize("text", [
    ROSENBROCK,
    "sin(3*x)*cos(2*y) + 0.1*(x^2+y^2)",
    "exp(-(x^2+y^2)) * -2 + abs(x)/3 + tanh(y)^2",
    "sqrt(x^2+y^2+1) + tan(x/3) + sinh(y/2) + cosh(x/4)",
    "(x^2+1)^(y/4) + y^4/10 + x^-2/100 + x^0.5",
    "sqrt(x) + y^2",  # crosses into x < 0: math.sqrt raises, the run redoes itself on arrays
])
@pytest.mark.parametrize("opt", ["adam", "gd", "nesterov"])
def test_single_run_equals_batch_row(text, opt):
    s = from_expression(text, domain=((-3, 3), (-3, 3)), start=(0.05, 1.5))
    o = optimizers.get(opt)
    single = optimizers.run(o, s, steps=50)
    batch = optimizers.run(o, s, start=np.array([s.start, s.start + 0.25]), steps=50)
    assert np.array_equal(single.path, batch.path[:, 0], equal_nan=True)
    assert np.array_equal(single.loss, batch.loss[:, 0], equal_nan=True)


def test_run_converges_on_a_typed_bowl():
    s = from_expression("(x-1)^2 + 4*(y+0.5)^2")
    t = optimizers.run(optimizers.get("adam", lr=0.05), s, steps=2000)
    np.testing.assert_allclose(t.path[-1], s.minima[0], atol=1e-3)


# --- errors ---------------------------------------------------------------------


HOSTILE = [
    ("__import__('os').system('ls')", "character \"'\""),
    ("x.__class__", "'.' is only allowed inside numbers"),
    ("().__class__.__bases__[0]", "character '\\['"),
    ("lambda: 1", "character ':'"),
    ("lambda x 1", "can't read"),
    ("[x for x in y]", "character '\\['"),
    ("(x for x in y)", "generator"),
    ("open('f')", "character"),
    ("open(x)", "unknown function 'open'"),
    ("exec(x)", "unknown function 'exec'"),
    ("z + 1", "unknown name 'z': use numbers, x, y, pi, e"),
    ("x +", "can't read the formula"),
    ("9**9**9**9", "exponent .* out of range"),
    ("2^1000000", "exponent .* out of range"),
    ("x^(10**100)", "exponent 100 is out of range"),
    ("x^13", "between -12 and 12"),
    ("'a' * 9", "character"),
    ("1 if x else 2", "'if ... else'"),
    ("x < y", "character '<'"),
    ("x and y", "'and' / 'or'"),
    ("not x", "'not'"),
    ("x is y", "comparisons"),
    ("sin(x, y)", "sin takes exactly one argument, got 2"),
    ("sin()", "sin takes exactly one argument, got 0"),
    ("sin", "sin needs an argument"),
    ("sin(*x)", "'\\*' before an argument"),
    ("f(x)=x", "character '='"),
    ("(" * 10_000 + "x" + ")" * 10_000, "too long"),
    ("-" * 200 + "x", "nested too deeply|too long"),
    ("sin(" * 41 + "x" + ")" * 41, "nested too deeply"),
    ("x" * 10_000, "too long"),
    ("+".join(["x"] * 120), "nested too deeply|too long"),
    ("", "empty"),
    ("  \n\t ", "empty"),
    ("nan", "unknown name 'nan'"),
    ("inf*x", "unknown name 'inf'"),
    ("1e400*x", "too large"),
    ("True", "True is not a number"),
    ("None + x", "None is not a number"),
    ("... + x", "Ellipsis is not a number"),
    ("1j*x", "imaginary"),
    ("x; y", "character ';'"),
    ("3y", "products need '\\*'"),
    ("2(x+1)", "write a product with '\\*'"),
    ("x(y)", "x is not a function"),
    ("(x, y)", "comma"),
    ("x // y", "'//'"),
    ("ln(x)", "log is the natural logarithm"),
    ("X^2", "lower-case"),
    ("((x)", "never closed"),
    ("x))", "unmatched"),
    ("ｘ^2", "character"),
    ("x\x00", "character"),
    ("x²", "character"),
    ("await x", "not allowed|can't read"),
    (None, "must be text"),
    (42, "must be text"),
]


@pytest.mark.parametrize(("text", "match"), HOSTILE, ids=[repr(t)[:40] for t, _ in HOSTILE])
def test_bad_input_is_a_helpful_value_error(text, match):
    with no_execution(), pytest.raises(ValueError, match=match):
        parse(text)
    with pytest.raises(ValueError, match=match):
        from_expression(text)


@contextlib.contextmanager
def no_execution():
    """Make eval, exec, open and import fail loudly while the body runs.

    Used around ``parse``, the only code that sees the text: the numerics after it
    may import NumPy submodules lazily.
    """
    calls = []

    def canary(name):
        def f(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} was called")
        return f

    with contextlib.ExitStack() as stack:
        for name in ("eval", "exec", "open", "__import__"):
            stack.enter_context(mock.patch.object(builtins, name, canary(name)))
        yield
    assert not calls, calls


def test_parentheses_are_not_depth():
    assert parse("(" * 149 + "x" + ")" * 149) == Var("x")


def test_no_execution_canary_works():
    with pytest.raises(AssertionError, match="eval was called"), no_execution():
        eval("1")


# --- fuzz -----------------------------------------------------------------------

FUZZ = settings(max_examples=200, deadline=timedelta(milliseconds=1000),
                suppress_health_check=[HealthCheck.too_slow])

TOKENS = ["x", "y", "sin", "cos", "exp", "log", "sqrt", "abs", "tanh", "(", ")", "^", "**", "*", "+", "-",
          "/", ".", "0", "1", "2", "9", "e", "pi", "__", "import", "class", ",", " ", "'", "[", "]", "=",
          ":", "lambda", "if", "else", "1e308", "j", "_", "os", "x^9^9"]


def _either_surface_or_value_error(text):
    try:
        with no_execution():
            parse(text)
    except ValueError as e:
        assert str(e)
    try:
        s = from_expression(text)
    except ValueError as e:
        assert str(e)
        return
    assert isinstance(s, landscapes.Surface)
    fuzz.check_surface(s)


@FUZZ
@given(st.text(max_size=MAX_LENGTH + 20))
def test_fuzz_random_text(text):
    _either_surface_or_value_error(text)


@FUZZ
@given(st.text(alphabet="xy0123456789.+-*/^() ,_episncoqrtlgabh", max_size=60))
def test_fuzz_formula_characters(text):
    _either_surface_or_value_error(text)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_fuzz_token_soup(text):
    _either_surface_or_value_error(text)


# --- property: symbolic gradients of random formulas ----------------------------

LEAVES = st.sampled_from(["x", "y", "2", "0.5", "3", "pi"])


def _extend(inner):
    unary = st.sampled_from(["-({})", "sin({})", "cos({})", "tanh({})", "exp(({})/4)", "sqrt(1+({})^2)",
                             "log(1+({})^2)", "({})^2", "({})^3", "(1+({})^2)^(-0.5)", "abs({})",
                             "sinh(({})/3)", "cosh(({})/3)", "tan(tanh({}))"])
    binary = st.sampled_from(["({})+({})", "({})-({})", "({})*({})", "({})/(1+({})^2)",
                              "(2+sin({}))^(({})/3)"])
    return st.one_of(st.tuples(unary, inner).map(lambda t: t[0].format(t[1])),
                     st.tuples(binary, inner, inner).map(lambda t: t[0].format(t[1], t[2])))


FORMULAS = st.recursive(LEAVES, _extend, max_leaves=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(text=FORMULAS, p=xy_points(-2.0, 2.0, n=8))
def test_symbolic_gradient_matches_finite_differences(text, p):
    assume(len(text) <= MAX_LENGTH)
    try:
        e = parse(text)
    except ValueError as err:
        assume("constant" not in str(err) and "nested" not in str(err))
        raise
    value = compile_exprs([e])
    grad = compile_exprs([derivative(e, "x"), derivative(e, "y")])

    def f(q):
        return np.asarray(value(q[:, 0], q[:, 1], np)[0], dtype=float) + 0 * q[:, 0]

    with np.errstate(all="ignore"):
        g = np.stack(np.broadcast_arrays(*grad(p[:, 0], p[:, 1], np)), -1) + 0 * p
        fp = f(p)
        h = 1e-3
        fd1, fd2 = fd_grad(f, p, h), fd_grad(f, p, h / 2)
        k = 1e-4  # one-sided differences disagree by about 2|u'| across a kink of abs(u)
        fwd = np.stack([f(p + k * np.eye(2)[i]) - fp for i in range(2)], -1) / k
        bwd = np.stack([fp - f(p - k * np.eye(2)[i]) for i in range(2)], -1) / k
    tol = 1e-6 * (1 + np.abs(fd2)) + 40 * EPS * (1 + np.abs(fp))[:, None] / h
    # compare where f is finite and smooth enough that two step sizes agree
    ok = (np.isfinite(fp)[:, None] & np.isfinite(fd1) & np.isfinite(fd2) & (np.abs(fd1 - fd2) <= tol)
          & (np.abs(fwd - bwd) <= 1e-2 * (1 + np.abs(fd2))))
    assert np.all(np.abs(g - fd2)[ok] <= 2 * tol[ok]), (text, p[ok.any(1)], g, fd2)
    # and the float path gives the same bits as the array path
    for q in p[:3]:
        with np.errstate(all="ignore"):
            try:
                scalar = grad(float(q[0]), float(q[1]), SCALAR_MATH)
            except (ArithmeticError, ValueError):
                continue
            arrays = grad(q[:1], q[1:], np)
        assert np.array_equal(np.broadcast_arrays(*arrays), np.array(scalar)[:, None], equal_nan=True)


def test_every_function_has_a_derivative_rule():
    from landscapes.expression import USER_FUNCTIONS

    for fn in USER_FUNCTIONS:
        s = from_expression(f"{fn}(x/4 + 0.3) + y^2")
        p = np.array([[0.1, 0.2], [1.0, -1.0]])
        np.testing.assert_allclose(s.grad(p), fd_grad(s.f, p, 1e-3), rtol=1e-8, atol=1e-10)
    assert math.isclose(from_expression("sqrt(x)+y").f([4.0, 0.0]), 2.0)


@settings(max_examples=60, deadline=timedelta(milliseconds=1000),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(text=FORMULAS)
def test_fuzz_valid_formulas_make_surfaces(text):
    """Formulas from the grammar (most valid) go all the way through the minima search."""
    assume(len(text) <= MAX_LENGTH)
    _either_surface_or_value_error(text)


# --- every failure is a ValueError: constants, and random formulas over the whole grammar ---



@pytest.mark.parametrize(("text", "match"), [
    ("1/0*x", r"1 / 0 divides by zero"),
    ("x/0", r"x / 0 divides by zero"),
    ("x/(1-1)", r"x / 0 divides by zero"),
    ("x*(0/0)", r"0 / 0 divides by zero"),
    ("x + 0^(-1)", r"0\^\(-1\) has no finite value: it divides by zero"),
    ("x + 0^-0.5", r"0\^\(-0.5\) has no finite value: it is infinite"),
    ("x + 1e-300^-2", r"1e-300\^\(-2\) has no finite value"),
    ("x + 1e300*1e300", r"1e\+300 \* 1e\+300 has no finite value: it is infinite or beyond about 1e308"),
    ("x + 1e300^2", r"1e\+300\^2 has no finite value"),
    ("exp(1000)*x", r"exp\(1000\) has no finite value"),
    ("x + cosh(800)", r"cosh\(800\) has no finite value"),
    ("x + sinh(-800)", r"sinh\(-800\) has no finite value"),
    ("log(0)*x", r"log\(0\) has no finite value"),
    ("x + log(-1)", r"log\(-1\) has no finite value: it is not a number"),
    ("y*(-8)^(1/3)", r"\(-8\)\^0.333.* has no finite value: it is not a number"),
    ("x + sqrt(-1)", r"sqrt\(-1\) has no finite value: it is outside the function's domain"),
    ("x + 0*(1/0)", r"1 / 0 divides by zero"),  # refused, not simplified away
])
def test_constant_parts_without_a_finite_value_are_refused(text, match):
    """The constant part is folded while reading: where Python's float arithmetic would raise
    (ZeroDivisionError, math domain error) or give inf/NaN, the formula is refused with a
    ValueError naming that part."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=match):
            parse(text)
        with pytest.raises(ValueError, match=match):
            from_expression(text)


@pytest.mark.parametrize(("text", "position"), [
    ("sin(x) +", 8), ("x +", 3), ("x**", 3), ("x ^", 3), ("(x + y) * ", 9), ("x ++", 4),
    ("x + * y", 5), ("x*(y+)", 6), ("(x+", 1), ("x + y)", 6),
])
def test_syntax_errors_are_reported_where_they_are(text, position):
    with pytest.raises(ValueError, match=rf"at character {position} of"):
        parse(text)


def test_formula_cut_short_says_so():
    with pytest.raises(ValueError, match=r"character 8 .* ends too early"):
        parse("sin(x) +")


GRAMMAR = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@GRAMMAR
@given(rng=st.randoms(use_true_random=False))
def test_reading_random_formulas_gives_a_tree_or_a_value_error(rng):
    """Reading and differentiating twice (what from_expression does) either works, with every
    constant finite, or raises ValueError; any other exception or warning fails the test."""
    text = fuzz.random_formula(rng, depth=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            e = parse(text)
        except ValueError as err:
            assert str(err)
            return
        try:  # a derivative may fold to a constant with no value (d/dx 0^x has log(0)): refused in words
            gx = derivative(e, "x")
            ds = (gx, derivative(e, "y"), derivative(gx, "x"), derivative(gx, "y"))
        except ValueError as err:
            assert "has no finite value" in str(err)
            ds = ()
        for d in ds:
            assert all(math.isfinite(c.value) for c in _nodes(d) if isinstance(c, Const))
    assert parse(e.to_text()) == e  # the text form reads back as the same tree


def _nodes(e):
    out, todo = [], [e]
    while todo:
        n = todo.pop()
        out.append(n)
        todo.extend(n.children())
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rng=st.randoms(use_true_random=False))
def test_random_formulas_make_a_surface_or_a_value_error(rng):
    """The whole path: surface (minima search included), evaluation at random points and short
    runs of two optimizers; only ValueError may come out, and no warning
    (scripts/fuzz_formulas.py runs the same check on thousands of formulas)."""
    assert fuzz.check_formula(fuzz.random_formula(rng), fuzz.random_domain(rng), rng, run_steps=10) in (
        "surface", "refused")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rng=st.randoms(use_true_random=False))
def test_random_formula_links_never_raise(rng):
    """A link with surface=custom&f=...&domain=... is read without raising; a formula or domain
    that can't be used is reported in the problems and replaced by a usable one."""
    query = fuzz.random_query(rng)
    result, problems = fuzz.check_query(query)
    if result.surface == "custom":
        text = result.surface_params["expression"]
        assert text == query["f"]
        assert isinstance(from_expression(text, result.surface_params["domain"]), landscapes.Surface)
    else:
        assert any("f=" in p or "formula" in p for p in problems), problems


def test_fuzz_script_runs():
    """The script's own loop, briefly: it reports and exits 0."""
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "fuzz_formulas.py"), "--count", "5"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "5 formulas in" in out.stdout and "no other exception, no warning" in out.stdout


# --- minima: the global one is found, spurious ones are not listed, none is none ---------


CLASSICS = [  # formula, domain, the built-in surface it equals (or None), global minimum (x, y, f)
    ("20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)", ((-5.12, 5.12), (-5.12, 5.12)), "rastrigin",
     (0.0, 0.0, 0.0)),
    ("(x^2+y-11)^2 + (x+y^2-7)^2", ((-5, 5), (-5, 5)), "himmelblau", None),
    ("(4 - 2.1*x^2 + x^4/3)*x^2 + x*y + (4*y^2 - 4)*y^2", ((-3, 3), (-2, 2)), "six_hump_camel", None),
    ("(x^4 - 16*x^2 + 5*x + y^4 - 16*y^2 + 5*y)/2", ((-5, 5), (-5, 5)), "styblinski_tang", None),
    ("(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2", ((-4.5, 4.5), (-4.5, 4.5)),
     "beale", None),
    ("(x + 2*y - 7)^2 + (2*x + y - 5)^2", ((-10, 10), (-10, 10)), "booth", None),
    ("(1 + (x+y+1)^2*(19 - 14*x + 3*x^2 - 14*y + 6*x*y + 3*y^2))"
     "*(30 + (2*x-3*y)^2*(18 - 32*x + 12*x^2 + 48*y - 36*x*y + 27*y^2))", ((-2, 2), (-2, 2)),
     "goldstein_price", None),
    # Ackley: a cone (sqrt: no derivative at the bottom) under ripples; found as the grid point
    ("-20*exp(-0.2*sqrt(0.5*(x^2+y^2))) - exp(0.5*(cos(2*pi*x)+cos(2*pi*y))) + e + 20",
     ((-5, 5), (-5, 5)), None, (0.0, 0.0, 0.0)),
    # Rastrigin moved off the grid's centre, on a domain with 441 local minima (more than are listed)
    ("(x-1.3)^2 + (y+2.2)^2 - 10*cos(2*pi*(x-1.3)) - 10*cos(2*pi*(y+2.2))", ((-10, 10), (-10, 10)), None,
     (1.3, -2.2, -20.0)),
    # a narrow deep well among wide shallow ones, between the search's first starts
    ("0.05*(x^2+y^2) - cos(3*x)*cos(3*y) - 3*exp(-40*((x-2.31)^2 + (y+1.17)^2))", ((-4, 4), (-4, 4)), None,
     (2.31, -1.17, None)),
]


@pytest.mark.parametrize(("text", "domain", "builtin", "best"), CLASSICS,
                         ids=[c[2] or c[0][:30] for c in CLASSICS])
def test_global_minimum_of_classic_formulas_is_found(text, domain, builtin, best):
    s = from_expression(text, domain=domain)
    assert s.has_global_min
    assert np.all(np.diff(s.minima_values) >= 0)  # lowest first
    if builtin is not None:
        b = landscapes.get(builtin)
        p = np.random.default_rng(3).uniform(*np.transpose(b.domain), size=(200, 2))
        np.testing.assert_allclose(s.f(p), b.f(p), rtol=1e-12, atol=1e-9)  # the same function
        assert s.global_min == pytest.approx(b.global_min, rel=1e-9, abs=1e-9)
        best_ones = b.minima[b.minima_values <= b.global_min + 1e-9]
        assert np.min(np.abs(best_ones - s.minima[0]).max(1)) < 1e-6, (s.minima[0], best_ones)
        if len(b.minima) <= 50:  # and every minimum it lists (Rastrigin's 121: see below)
            for m in b.minima:
                assert np.min(np.abs(s.minima - m).max(1)) < 1e-3, m
    if best is not None:
        x, y, f = best
        assert np.abs(s.minima[0] - [x, y]).max() < 0.02, s.minima[:3]
        if f is not None:
            assert s.global_min == pytest.approx(f, abs=1e-9)


def _is_local_minimum(s, m, radius):
    """f at m is no higher than on a ring of 16 points around it."""
    angle = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    ring = m + radius * np.stack([np.cos(angle), np.sin(angle)], -1)
    return bool(np.all(s.f(m) <= s.f(ring)))


@pytest.mark.parametrize("text", [
    "exp(x*y*10)", "exp(10*(x^2 - y^2))", "exp(x^2*y)", "-exp(x*y*10)", "exp(x*y*10) + x^2",
    "1/(1 + exp(-20*x*y))", "exp(-100*(x^2+y^2))",
])
def test_nearly_flat_or_overflowing_regions_give_no_spurious_minima(text):
    """Where exp(...) underflows, f is flat to rounding and its gradient tiny: no minimum there.
    Every listed minimum is a genuine one (lower than a small ring around it)."""
    s = from_expression(text)
    assert len(s.minima) <= 4, s.minima
    for m in s.minima:
        assert _is_local_minimum(s, m, 1e-3), (m, s.f(m))


@pytest.mark.parametrize(("text", "domain", "local"), [
    ("x^2 - y^2", None, []),
    ("y", None, []),
    ("x + 2*y", ((0, 1), (0, 1)), []),
    ("exp(x*y*10)", None, []),
    ("log(x) + y^2", None, []),  # falls to -inf at x = 0, where f stops being finite
    ("x^3 - 3*x + y^2", None, [[1.0, 0.0]]),  # a local minimum, and lower still at x = -3
    ("x^2 + y^2", ((1, 2), (1, 2)), []),  # the bowl's bottom is outside the domain
])
def test_no_minimum_in_the_domain_is_said(text, domain, local):
    s = from_expression(text, domain=domain or ((-3, 3), (-3, 3)))
    assert not s.has_global_min
    np.testing.assert_allclose(s.minima, np.reshape(local, (-1, 2)), atol=1e-9)
    with pytest.raises(ValueError, match="no minimum in its domain"):
        _ = s.global_min


def test_a_minimum_on_the_edge_is_a_minimum():
    s = from_expression("x^2 + y^2", domain=((0, 2), (0, 2)))
    assert s.has_global_min and s.global_min == 0.0
    np.testing.assert_array_equal(s.minima, [[0.0, 0.0]])


def test_rastrigin_formula_lists_its_lowest_minima():
    """121 minima in the domain, at most 50 listed: the lowest (ranked before the list is cut),
    and a group of equally low ones is listed whole or not at all (the stars stay symmetric)."""
    s = from_expression("20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)", domain=((-5.12, 5.12),) * 2)
    b = landscapes.get("rastrigin")
    k = len(s.minima)
    assert 40 <= k <= 50
    lowest = np.sort(b.minima_values)
    np.testing.assert_allclose(s.minima_values, lowest[:k], rtol=1e-9, atol=1e-9)
    assert lowest[k] > lowest[k - 1] + 1e-6  # the cut falls between two different values
    np.testing.assert_allclose(np.sort(s.minima[:, 0]), np.sort(-s.minima[:, 0]), atol=1e-9)  # symmetric
    np.testing.assert_allclose(np.sort(s.minima[:, 1]), np.sort(-s.minima[:, 1]), atol=1e-9)


# --- the formula as PyTorch code ---------------------------------------------------


def test_torch_code_of_a_formula():
    assert parse(ROSENBROCK).to_torch() == "(1.0 - x)**2 + 100.0 * (y - x**2)**2"
    assert parse("sin(x)*e^(y/2) - x^-2 + abs(y)^0.5").to_torch() == (
        "torch.sin(x) * torch.exp(y / 2.0) - x**(-2) + torch.abs(y)**0.5")
    assert parse("-(x - y) - (x - (y - 1))").to_text() == "-(x - y) - (x - (y - 1))"


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(rng=st.randoms(use_true_random=False))
def test_torch_code_computes_the_formula(rng):
    """The emitted code, run by torch on float64 tensors, equals the NumPy evaluation to 1e-12
    (relative) at random points where the formula is not ill-conditioned (where moving x and y
    by a few ulps changes f by more than 1e-13, a one-ulp difference of a library sin may be
    amplified beyond 1e-12, so those points are skipped)."""
    import torch

    text = fuzz.random_formula(rng)
    try:
        e = parse(text)
    except ValueError:
        assume(False)
    code = e.to_torch()
    f = eval(f"lambda x, y: {code}", {"torch": torch})  # our generated code, in a test only
    value = compile_exprs([e])
    p = np.array([[rng.uniform(-3, 3), rng.uniform(-3, 3)] for _ in range(32)])
    with np.errstate(all="ignore"):
        want = value(p[:, 0], p[:, 1], np)[0] + 0 * p[:, 0]
        nudged = [value(p[:, 0] * (1 + a * EPS), p[:, 1] * (1 + b * EPS), np)[0] + 0 * p[:, 0]
                  for a, b in ((4, 0), (0, 4), (-4, -4))]
        stable = np.isfinite(want) & np.all([np.abs(n - want) <= 1e-13 * np.abs(want) for n in nudged], 0)
    got = f(torch.tensor(p[:, 0]), torch.tensor(p[:, 1]))
    got = np.broadcast_to(np.asarray(got, dtype=float), want.shape)[stable]
    assert np.all(np.abs(got - want[stable]) <= 1e-12 * np.abs(want[stable])), (
        text, code, p[stable], got, want[stable])


# --- what uses f*: a surface without a minimum shows f, and says why -----------------


def test_outcome_without_a_minimum_has_no_gap():
    s = from_expression("x^3 - 3*x + y^2")  # a local minimum at (1, 0), lower still at x = -3
    tr = optimizers.run(optimizers.get("gd", lr=0.01), s, start=np.array([[1.5, 1.0], [-1.5, 1.0]]),
                        steps=300)
    o = optimizers.outcome(tr, s, 1e-2)
    assert np.all(np.isnan(o.gap))
    assert o.nearest.tolist() == [0, 0] and o.distance[0] < 1e-2  # the first run found the local one
    assert o.reached_at[0] > 0
    flat = from_expression("x^2 - y^2")
    o = optimizers.outcome(optimizers.run(optimizers.get("adam"), flat, steps=20), flat, 1e-2)
    assert np.isnan(o.gap) and np.isnan(o.distance) and o.reached_at == -1


def test_loss_chart_says_there_is_no_minimum():
    """The stage's loss chart: J − J* where there is a J*, else J less the lowest J shown, and
    its title says so (a run falling past the edge must not look "converged to 1e-15")."""
    from descent_lab.families import lr_family, row
    from descent_lab.setup import Setup, run_spec
    from viz.stage import stage_data

    def data(text, steps):
        s = from_expression(text)
        setup = Setup(surface="custom", surface_params={"expression": text, "domain": s.domain},
                      start=(0.5, 0.1), steps=steps, runs=(run_spec("adam", lr=0.1),))
        fam = lr_family(setup, setup.runs[0], [0.01, 0.1])
        views = [viz.RunView("Adam", "#000000", row(fam.trajectory, fam.index))]
        return views, stage_data(s, views, [fam], viz.landscape_png(s), arrows=True, show3d=False,
                                 multiples=False, speed="1x")

    views, d = data("x^2 - y^2", 100)
    assert "no minimum" in d["gap_title"] and "J*" not in d["gap_title"]
    loss = views[0].trajectory.loss
    assert loss[-1] < -5  # it keeps falling past the edge
    gap = d["runs"][0]["gap"]
    assert np.all(np.diff(gap) <= 0) and gap[0] > gap[-1] >= 0  # measured from the lowest J shown
    _, d = data("x^2 + y^2", 10)
    assert d["gap_title"] == "J − J* (log scale)"


def test_log_map_of_a_surface_without_a_minimum():
    s = from_expression("exp(x*y*10)")
    assert s.log_scale and not s.has_global_min
    z = viz.landscape_grid(s, 60)[2]
    show, title = viz.display_transform(s, z)
    assert title == "log10(J − lowest J shown)"
    c = show(z)
    assert np.all(np.isfinite(c)) and np.nanmin(c) == pytest.approx(np.log10(1e-4 * (np.nanpercentile(z, 99)
                                                                                       - np.nanmin(z))))
    uri, lo, hi = viz.landscape_png(s, 80)
    assert uri.startswith("data:image/png;base64,") and lo < hi


def _app_with(query: dict, panel: str | None = None):
    """The Playground opened from a link with ``query``, showing ``panel``."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(query)
    at.run()
    if panel:
        at.get("button_group")[0].set_value(panel)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_playground_results_and_loss_without_a_minimum():
    at = _app_with({"surface": "custom", "f": "x^2 - y^2", "optimizers": "adam,gd"}, "Results")
    columns = list(at.dataframe[0].value.columns)
    assert "J − J*" not in columns and "final J" in columns
    assert set(at.dataframe[0].value["nearest minimum"]) == {"none known"}
    assert any("no minimum in this domain" in c.value for c in at.caption)
    from viz.stage import unpack

    (stage,) = at.get("bidi_component")  # the stage's loss chart says why there is no J − J*
    assert "no minimum in this domain" in unpack(stage.proto.bytes)["gap_title"]
    # and a surface with a minimum keeps its J − J* column
    at = _app_with({"surface": "custom", "f": "x^2 + y^2", "optimizers": "adam"}, "Results")
    assert "J − J*" in list(at.dataframe[0].value.columns)


def test_formula_text_is_not_rendered_as_markdown():
    """A link's formula is quoted in the warning with Markdown escaped: no bold from **, no image
    fetched from another host, no link; a bad typed formula's message and the last good
    formula (inline code) likewise."""
    hostile = "x**2 + ![a](http://203.0.113.9/a.png) [b](http://203.0.113.9) _y_"
    at = _app_with({"surface": "custom", "f": hostile})
    (warning,) = [w.value for w in at.warning if "could not be used" in w.value]
    assert "x\\*\\*2" in warning and "\\!\\[a\\]\\(http\\:" in warning and "\\[b\\]" in warning
    assert not re.search(r"(?<!\\)[*_\[\]!]", warning.split("used: ", 1)[1])  # every one escaped
    at.selectbox(key="surface").set_value("custom")
    at.run()
    at.text_input(key="surface.custom.f").set_value("x**2 + y**2")
    at.run()
    at.text_input(key="surface.custom.f").set_value("x**2 + 1/0")
    at.run()
    (error,) = [e.value for e in at.error if "can't be used" in e.value]
    assert "1 / 0 divides by zero" in error.replace("\\", "")
    assert not re.search(r"(?<!\\)\*", error)
    assert any(c.value == "Still showing `J(x, y) = x**2 + y**2`" for c in at.caption)


@pytest.mark.parametrize("text", ["(x^12)^2", "(x^-12)^2", "(x^3)^5", "(sin(x)^6)^3", "(y^8)^3"])
def test_a_folded_power_beyond_the_readers_limit_reads_back(text):
    """(x^12)^2 folds to x^24, which a reader refuses (|exponent| <= MAX_POWER): its text is
    written as a power of a power, so it reads back as the same tree (found by the fuzz test)."""
    e = parse(text)
    assert isinstance(e, PowInt) and abs(e.n) > MAX_POWER
    assert parse(e.to_text()) == e
