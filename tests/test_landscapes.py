"""Tests of the pure-NumPy surfaces in ``landscapes``.

Published reference values are typed in from the literature (Virtual Library of
Simulation Experiments, Wikipedia "Test functions for optimization",
benchmarkfcns.info); nothing here is copied from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscapes
from landscapes.surface import newton_minima


def _batch_grad(s, w, b, idx):
    """The problem's mini-batch gradient at (w, b) (arrays of one shape), as (gx, gy)."""
    g = s.batch_grad(np.stack(np.broadcast_arrays(w, b), -1), idx)
    return g[..., 0], g[..., 1]

NAMES = landscapes.names()
WITH_HESSIAN = [n for n in NAMES if landscapes.get(n).hessian is not None]
EPS = np.finfo(float).eps


# --- helpers ------------------------------------------------------------------


def fd_grad(s, p, h):
    """Fourth-order central-difference gradient of s.f at points p (k, 2), steps h (k,).

    (f(p-2h) - 8 f(p-h) + 8 f(p+h) - f(p+2h)) / 12h: truncation O(h^4 f^(5)),
    rounding about 1.5 eps |f| / h.
    """
    out = []
    for i in range(2):
        e = np.zeros_like(p)
        e[:, i] = h
        out.append((s.f(p - 2 * e) - 8 * s.f(p - e) + 8 * s.f(p + e) - s.f(p + 2 * e)) / (12 * h))
    return np.stack(out, -1)


def fd_tol(s, p, g, h):
    """What a correct gradient may differ from fd_grad by: relative 1e-7 plus rounding."""
    return 1e-7 * (1 + np.abs(g)) + 20 * EPS * (1 + np.abs(s.f(p)))[:, None] / h[:, None]


def fd_hess(s, p, h=1e-5):
    """Central-difference Hessian of s.grad at points p (..., 2), symmetrised."""
    p = np.asarray(p, dtype=float)
    h = h * np.maximum(1.0, np.abs(p))
    cols = []
    for i in range(2):
        e = np.zeros_like(p)
        e[..., i] = h[..., i]
        cols.append((s.grad(p + e) - s.grad(p - e)) / (2 * h[..., i : i + 1]))
    H = np.stack(cols, -1)
    return (H + np.swapaxes(H, -1, -2)) / 2


def inside(s, p):
    (x0, x1), (y0, y1) = s.domain
    p = np.asarray(p)
    return (p[..., 0] >= x0) & (p[..., 0] <= x1) & (p[..., 1] >= y0) & (p[..., 1] <= y1)


def points(s, u):
    """Map u in [0, 1]^2 (k, 2) to the surface's domain."""
    (x0, x1), (y0, y1) = s.domain
    u = np.asarray(u, dtype=float)
    return np.stack([x0 + (x1 - x0) * u[:, 0], y0 + (y1 - y0) * u[:, 1]], -1)


unit_points = st.lists(
    st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=20
).map(np.array)


def search_minima(s, n=61, steps=400):
    """Every local minimum a dense multi-start search finds inside the domain.

    Starts on an n x n grid, takes shrinking normalized gradient steps (so flat
    regions and steep walls are crossed alike), refines by Newton, and keeps
    points inside the domain with a vanishing gradient and a positive-definite
    finite-difference Hessian. Newton is also started from the raw grid, so a
    minimum is found if any grid point lies in its Newton basin or descent basin.
    """
    (x0, x1), (y0, y1) = s.domain
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    grid = np.stack([gx.ravel(), gy.ravel()], -1)
    p = grid.copy()
    size = max(x1 - x0, y1 - y0)
    with np.errstate(all="ignore"):
        for k in range(steps):
            g = s.grad(p)
            norm = np.linalg.norm(g, axis=-1, keepdims=True)
            p = p - size * 0.02 * 0.98**k * np.where(norm > 0, g / np.where(norm > 0, norm, 1), 0)
            p[:, 0] = np.clip(p[:, 0], x0, x1)
            p[:, 1] = np.clip(p[:, 1], y0, y1)
        q = newton_minima(s.gradient, np.concatenate([p, grid]), iters=40)
    q = q[np.isfinite(q).all(1)]
    q = q[inside(s, q)]
    q = q[np.linalg.norm(s.grad(q), axis=-1) < 1e-7 * (1 + np.abs(s.f(q)))]
    q = q[(np.linalg.eigvalsh(fd_hess(s, q)) > 0).all(-1)]
    found: list[np.ndarray] = []
    for pt in q:
        if all(np.linalg.norm(pt - f) > 1e-5 * size for f in found):
            found.append(pt)
    return np.array(found).reshape(-1, 2)


# --- API contract -------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(2,), (5, 2), (3, 4, 2)])
def test_shapes(name, shape):
    s = landscapes.get(name)
    rng = np.random.default_rng(0)
    xy = points(s, rng.uniform(size=(math.prod(shape[:-1]), 2))).reshape(shape)
    f, g = s.f(xy), s.grad(xy)
    assert f.shape == shape[:-1]
    assert g.shape == shape
    assert f.dtype == g.dtype == np.float64
    assert np.all(np.isfinite(f)) and np.all(np.isfinite(g))
    # batched evaluation equals point-by-point evaluation
    flat = xy.reshape(-1, 2)
    assert np.allclose(f.reshape(-1), [s.f(p) for p in flat], rtol=1e-14, atol=0)
    assert np.allclose(g.reshape(-1, 2), [s.grad(p) for p in flat], rtol=1e-14, atol=0)
    if s.hessian is not None:
        assert s.hess(xy).shape == (*shape, 2)
    else:
        with pytest.raises(ValueError, match="no analytic Hessian"):
            s.hess(xy)


@pytest.mark.parametrize("name", NAMES)
def test_domain_start_minima(name):
    s = landscapes.get(name)
    assert len(s.domain) == 2
    for lo, hi in s.domain:
        assert np.isfinite(lo) and np.isfinite(hi) and lo < hi
    assert s.start.shape == (2,) and s.start.dtype == np.float64
    assert inside(s, s.start)
    assert s.minima.ndim == 2 and s.minima.shape[1] == 2 and len(s.minima) >= 1
    assert s.minima.dtype == np.float64
    assert np.all(inside(s, s.minima))
    vals = s.minima_values
    assert vals.shape == (len(s.minima),)
    assert vals[0] == vals.min() == s.global_min
    assert s.title and s.lesson
    assert s.scale == max(1.0, *(abs(b) for pair in s.domain for b in pair))


# --- derivatives ------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=30, deadline=None)
@given(u=unit_points)
def test_gradient_matches_finite_differences(name, u):
    s = landscapes.get(name)
    p = points(s, u)
    h = 1e-4 * np.maximum(1.0, np.abs(p).max(1))
    fd = fd_grad(s, p, h)
    g = s.grad(p)
    tol = fd_tol(s, p, g, h)
    assert np.all(np.abs(fd - g) <= tol), np.max(np.abs(fd - g) / tol)


@pytest.mark.parametrize("name", WITH_HESSIAN)
@settings(max_examples=30, deadline=None)
@given(u=unit_points)
def test_hessian_matches_finite_differences(name, u):
    s = landscapes.get(name)
    p = points(s, u)
    H = s.hess(p)
    fd = fd_hess(s, p)
    scale = 1 + np.abs(H).max((-1, -2), keepdims=True) + np.linalg.norm(s.grad(p), axis=-1)[:, None, None]
    assert np.all(np.abs(fd - H) <= 1e-6 * scale)
    assert np.array_equal(H, np.swapaxes(H, -1, -2))


def test_gradient_check_can_fail():
    """The finite-difference check above does notice a wrong gradient."""
    s = landscapes.get("rosenbrock")
    p = points(s, np.random.default_rng(3).uniform(size=(20, 2)))
    h = 1e-4 * np.maximum(1.0, np.abs(p).max(1))
    fd = fd_grad(s, p, h)
    assert np.all(np.abs(fd - s.grad(p)) <= fd_tol(s, p, s.grad(p), h))
    wrong = s.grad(p) * np.array([1.0, 1.00001])
    assert not np.all(np.abs(fd - wrong) <= fd_tol(s, p, wrong, h))


# --- minima -------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_minima_are_stationary_local_minima(name):
    s = landscapes.get(name)
    m = s.minima
    H = fd_hess(s, m)
    g = np.linalg.norm(s.grad(m), axis=-1)
    # |grad| tiny relative to the curvature: the point is within ~1e-10 of a stationary point
    curv = np.abs(np.linalg.eigvalsh(H)).max(-1)
    assert np.all(g <= 1e-10 * (1 + curv) * s.scale), g
    assert np.all(np.linalg.eigvalsh(H) > 0), np.linalg.eigvalsh(H)
    # no two listed minima are the same point
    d = np.linalg.norm(m[:, None] - m[None], axis=-1) + np.eye(len(m))
    assert d.min() > 1e-3


def _assert_minimum(s, point, value, xtol, ftol):
    d = np.linalg.norm(s.minima - np.asarray(point), axis=-1)
    i = int(d.argmin())
    assert d[i] <= xtol, (point, s.minima[i])
    assert abs(s.minima_values[i] - value) <= ftol, (point, s.minima_values[i], value)
    assert abs(s.f(point) - value) <= max(ftol, 1e-3 * abs(value) + 1e-3)
    return i


def test_rosenbrock_published():
    s = landscapes.get("rosenbrock")
    assert len(s.minima) == 1
    _assert_minimum(s, (1, 1), 0.0, 1e-12, 1e-20)
    assert s.f([1.0, 1.0]) == 0 and np.array_equal(s.grad([1.0, 1.0]), [0.0, 0.0])
    assert s.f([0.0, 0.0]) == 1.0  # (1 - 0)^2 + 100 (0 - 0)^2


def test_himmelblau_published():
    s = landscapes.get("himmelblau")
    published = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
    assert len(s.minima) == 4
    hit = {_assert_minimum(s, p, 0.0, 1e-6, 1e-20) for p in published}
    assert hit == {0, 1, 2, 3}
    assert s.f([0.0, 0.0]) == 170.0  # 11^2 + 7^2


def test_beale_published():
    s = landscapes.get("beale")
    assert len(s.minima) == 1
    _assert_minimum(s, (3, 0.5), 0.0, 1e-9, 1e-20)
    assert s.f([0.0, 0.0]) == pytest.approx(1.5**2 + 2.25**2 + 2.625**2, rel=1e-15)


def test_booth_published():
    s = landscapes.get("booth")
    assert len(s.minima) == 1
    _assert_minimum(s, (1, 3), 0.0, 1e-12, 1e-20)
    assert s.f([0.0, 0.0]) == 74.0  # 7^2 + 5^2


def test_six_hump_camel_published():
    s = landscapes.get("six_hump_camel")
    # two global minima -1.0316 at (0.0898, -0.7126) and (-0.0898, 0.7126);
    # six local minima in all (benchmarkfcns.info: 4 besides the 2 global ones)
    assert len(s.minima) == 6
    a = _assert_minimum(s, (0.0898, -0.7126), -1.0316, 1e-4, 1e-4)
    b = _assert_minimum(s, (-0.0898, 0.7126), -1.0316, 1e-4, 1e-4)
    assert {a, b} == {0, 1}
    assert s.minima_values[0] == s.minima_values[1]
    # the function is symmetric about the origin, so the minima come in +- pairs
    for m in s.minima:
        assert np.min(np.linalg.norm(s.minima + m, axis=-1)) < 1e-9
    assert np.all(s.minima_values[2:] > -1.0316)


def test_styblinski_tang_published():
    s = landscapes.get("styblinski_tang")
    # per dimension: min of (x^4 - 16 x^2 + 5 x) / 2 is -39.16616570377142 at x = -2.903534
    # (Wikipedia: -39.16617 n < f < -39.16616 n; the VLSE's -39.16599 n is a rounded-off value)
    per_dim = -39.16616570377142
    _assert_minimum(s, (-2.903534, -2.903534), 2 * per_dim, 1e-6, 1e-9)
    assert s.minima_values[0] == pytest.approx(2 * per_dim, rel=1e-12)
    # separable quartic: in 1-D two local minima (-2.903534 and 2.746803), so four in 2-D
    assert len(s.minima) == 4

    def one_d(x):  # the published per-coordinate term, written out independently
        return (x**4 - 16 * x**2 + 5 * x) / 2

    a, b = -2.903534, 2.746803
    for p in [(a, b), (b, a), (b, b)]:
        _assert_minimum(s, p, one_d(p[0]) + one_d(p[1]), 1e-6, 1e-9)


def test_goldstein_price_published():
    s = landscapes.get("goldstein_price")
    assert len(s.minima) == 4
    assert _assert_minimum(s, (0, -1), 3.0, 1e-9, 1e-9) == 0
    for p, v in [((-0.6, -0.4), 30.0), ((1.8, 0.2), 84.0), ((1.2, 0.8), 840.0)]:
        _assert_minimum(s, p, v, 1e-9, 1e-9)


def test_rastrigin_published():
    s = landscapes.get("rastrigin")
    _assert_minimum(s, (0, 0), 0.0, 1e-12, 1e-12)
    assert s.minima_values[0] == 0.0
    assert len(s.minima) == 121  # 11 per axis in [-5.12, 5.12]
    # the local minima sit near the integer grid, one per grid point
    r = np.round(s.minima)
    assert len({tuple(p) for p in r}) == 121
    assert np.abs(r).max() == 5 and np.all(np.abs(s.minima - r) < 0.05)
    assert s.f([1.0, 0.0]) == pytest.approx(1.0, abs=1e-12)  # 20 + 1 - 10 - 10


def test_saddle_minima_and_saddle_point():
    s = landscapes.get("saddle")
    assert len(s.minima) == 2
    for p in [(1, 0), (-1, 0)]:
        _assert_minimum(s, p, -0.25, 1e-12, 1e-15)
    origin = np.zeros(2)
    assert np.array_equal(s.grad(origin), [0.0, 0.0])
    for H in (s.hess(origin), fd_hess(s, origin)):
        ev = np.linalg.eigvalsh(H)
        assert ev[0] < 0 < ev[1]
    assert np.allclose(np.linalg.eigvalsh(s.hess(origin)), [-1, 1])


@pytest.mark.parametrize("condition", [1.0, 7.5, 20.0, 1000.0])
def test_elongated_bowl_condition(condition):
    s = landscapes.get("elongated_bowl", condition=condition)
    rng = np.random.default_rng(1)
    for p in points(s, rng.uniform(size=(5, 2))):
        ev = np.linalg.eigvalsh(s.hess(p))
        assert ev[1] / ev[0] == pytest.approx(condition, rel=1e-12)
        ev_fd = np.linalg.eigvalsh(fd_hess(s, p))
        assert ev_fd[1] / ev_fd[0] == pytest.approx(condition, rel=1e-6)
    _assert_minimum(s, (0, 0), 0.0, 0, 0)
    assert s.params == {"condition": condition}


@pytest.mark.parametrize(("n", "seed"), [(100, 0), (10, 3), (537, 12345)])
def test_regression_matches_least_squares(n, seed):
    s = landscapes.get("regression", n=n, data_seed=seed)
    x, y = s.data.x, s.data.y
    assert s.data.n == n == len(y)
    A = np.stack([x, np.ones_like(x)], -1)
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    assert np.allclose(s.minima[0], coef, rtol=1e-9, atol=1e-9)
    resid = A @ coef - y
    assert s.minima_values[0] == pytest.approx(np.mean(resid * resid), rel=1e-9)
    rng = np.random.default_rng(seed)
    for w, b in points(s, rng.uniform(size=(10, 2))):
        r = w * x + b - y
        assert s.f([w, b]) == pytest.approx(np.mean(r * r), rel=1e-10)
        assert np.allclose(s.grad([w, b]), [2 * np.mean(r * x), 2 * np.mean(r)], rtol=1e-9, atol=1e-9)


# --- completeness ---------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_no_minimum_is_missing(name):
    s = landscapes.get(name)
    found = search_minima(s)
    d = np.linalg.norm(found[:, None] - s.minima[None], axis=-1)
    missing_from_catalog = found[d.min(1) > 1e-6]
    assert len(missing_from_catalog) == 0, missing_from_catalog
    # and the search is strong enough to find every listed minimum itself
    not_found = s.minima[d.min(0) > 1e-6]
    assert len(not_found) == 0, not_found


def test_search_finds_unlisted_minimum():
    """The completeness search does report a minimum the catalog would miss."""
    s = landscapes.get("styblinski_tang")
    found = search_minima(s)
    assert len(found) == 4
    # dropping one listed minimum makes it an unlisted one
    d = np.linalg.norm(found[:, None] - s.minima[None, 1:], axis=-1)
    assert np.sum(d.min(1) > 1e-6) == 1


# --- get() --------------------------------------------------------------------------


def test_get_unknown_surface():
    with pytest.raises(ValueError, match="unknown surface 'nope'") as e:
        landscapes.get("nope")
    assert "rosenbrock" in str(e.value)  # lists the choices
    with pytest.raises(ValueError, match="unknown surface"):
        landscapes.spec("nope")


def test_get_unknown_parameter():
    with pytest.raises(ValueError, match="no parameter condtion"):
        landscapes.get("elongated_bowl", condtion=5)
    with pytest.raises(ValueError, match="no parameter condition"):
        landscapes.get("rosenbrock", condition=5)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("elongated_bowl", {"condition": 0.5}),
        ("elongated_bowl", {"condition": 1e6}),
        ("elongated_bowl", {"condition": float("nan")}),
        ("elongated_bowl", {"condition": float("inf")}),
        ("regression", {"n": 5}),
        ("regression", {"n": 10**6}),
        ("regression", {"data_seed": -1}),
        ("regression", {"n": float("nan")}),
    ],
)
def test_get_out_of_range(name, params):
    with pytest.raises(ValueError, match=r"must be a number from .* got"):
        landscapes.get(name, **params)


def test_get_non_integer():
    with pytest.raises(ValueError, match="whole number"):
        landscapes.get("regression", n=50.5)


def test_parameters_change_the_surface():
    a = landscapes.get("elongated_bowl", condition=5)
    b = landscapes.get("elongated_bowl", condition=50)
    p = np.array([0.3, 0.7])
    assert a.f(p) == pytest.approx((0.09 + 5 * 0.49) / 2)
    assert b.f(p) == pytest.approx((0.09 + 50 * 0.49) / 2)
    default = landscapes.spec("elongated_bowl").params[0].default
    assert landscapes.get("elongated_bowl").params["condition"] == default

    r1 = landscapes.get("regression", n=50, data_seed=1)
    r2 = landscapes.get("regression", n=50, data_seed=2)
    r1b = landscapes.get("regression", data_seed=1, n=50.0)
    assert r1.data.n == 50
    assert not np.array_equal(r1.data.x, r2.data.x)
    assert not np.array_equal(r1.minima, r2.minima)
    assert np.array_equal(r1.data.x, r1b.data.x) and np.array_equal(r1.data.y, r1b.data.y)
    assert landscapes.get("regression", n=200, data_seed=1).data.n == 200
    assert r1.f(p) != r2.f(p)


# --- mini-batch gradients ------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    B=st.integers(1, 40),
    k=st.integers(1, 40),
    seed=st.integers(0, 2**31 - 1),
    w=st.floats(-1, 5),
    b=st.floats(-5, 3),
)
def test_minibatch_gradient_averages_to_full_gradient(B, k, seed, w, b):
    n = max(B * k, 10 * B)  # a multiple of B, at least the smallest dataset
    s = landscapes.get("regression", n=n, data_seed=seed)
    full = s.grad([w, b])
    # B = N: the mini-batch gradient is the full gradient
    gx, gy = _batch_grad(s, np.array(w), np.array(b), np.arange(n))
    assert np.allclose([gx, gy], full, rtol=1e-9, atol=1e-9)
    shuffled = np.random.default_rng(seed).permutation(n)
    gx, gy = _batch_grad(s, np.array(w), np.array(b), shuffled)
    assert np.allclose([gx, gy], full, rtol=1e-9, atol=1e-9)
    # one epoch of batches of size B, evaluated together: their mean is the full gradient
    batches = np.random.default_rng(seed).permutation(n).reshape(-1, B)
    m = len(batches)
    gx, gy = _batch_grad(s, np.full(m, w), np.full(m, b), batches)
    assert gx.shape == gy.shape == (m,)
    assert np.allclose([gx.mean(), gy.mean()], full, rtol=1e-9, atol=1e-9)
    # while single samples' gradients are not all the full gradient
    if B == 1:
        assert not np.allclose([gx, gy], full[:, None], rtol=1e-9, atol=1e-9)
