"""The built-in surfaces: one small definition each, registered by name.

A definition is a factory taking the surface's keyword parameters and returning
a Surface. ``value``/``gradient``/``hessian`` use only + - * / and ``xp``.
Published minima are refined by Newton's method at definition time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from specs import Param, grid_125

from .surface import Dataset, Surface, newton_minima


@dataclass(frozen=True)
class SurfaceDef:
    """A registered surface: its factory and the parameters the factory takes."""

    name: str
    title: str
    make: Callable[..., Surface]
    params: tuple[Param, ...] = ()


REGISTRY: dict[str, SurfaceDef] = {}


def register(name: str, title: str, *params: Param):
    def wrap(make):
        REGISTRY[name] = SurfaceDef(name, title, make, params)
        return make

    return wrap


def _surface(name, lesson, value, gradient, domain, minima, start, **kw) -> Surface:
    return Surface(
        name=name,
        title=REGISTRY[name].title,
        lesson=lesson,
        value=value,
        gradient=gradient,
        domain=domain,
        minima=newton_minima(gradient, minima),
        start=np.array(start, dtype=float),
        **kw,
    )


# --- Rosenbrock -------------------------------------------------------------


@register("rosenbrock", "Rosenbrock")
def rosenbrock() -> Surface:
    """f = (1 - x)^2 + 100 (y - x^2)^2; minimum 0 at (1, 1)."""

    def value(x, y, xp):
        u, w = 1 - x, y - x * x
        return u * u + 100 * w * w

    def gradient(x, y, xp):
        w = y - x * x
        return -2 * (1 - x) - 400 * x * w, 200 * w

    def hessian(x, y, xp):
        return 2 - 400 * y + 1200 * x * x, -400 * x, 200 + 0 * x

    return _surface(
        "rosenbrock",
        "A curved, flat-bottomed valley: reaching it is easy, following it to (1, 1) is slow.",
        value, gradient, ((-2.0, 2.0), (-1.0, 3.0)), [[1.0, 1.0]], (-1.5, 2.0),
        log_scale=True, hessian=hessian,
    )


# --- Saddle -----------------------------------------------------------------


@register("saddle", "Saddle")
def saddle() -> Surface:
    """f = x^4/4 - x^2/2 + y^2/2; saddle at (0, 0), minima -1/4 at (±1, 0)."""

    def value(x, y, xp):
        x2 = x * x
        return x2 * x2 / 4 - x2 / 2 + y * y / 2

    def gradient(x, y, xp):
        return x * x * x - x, y + 0 * x

    def hessian(x, y, xp):
        return 3 * x * x - 1, 0 * x, 1 + 0 * x

    return _surface(
        "saddle",
        "Near the saddle at (0, 0) the gradient almost vanishes: plain GD stalls there, "
        "momentum or noise escapes to a minimum.",
        value, gradient, ((-2.0, 2.0), (-2.0, 2.0)), [[-1.0, 0.0], [1.0, 0.0]], (1e-3, 1.8),
        hessian=hessian,
    )


# --- Elongated bowl ---------------------------------------------------------


@register(
    "elongated_bowl", "Elongated bowl",
    Param("condition", 20.0, 1.0, 1000.0, "Condition number", scale="log", grid=grid_125(1.0, 1000.0),
          help="Ratio of the steepest to the flattest curvature."),
)
def elongated_bowl(condition: float = 20.0) -> Surface:
    """f = (x^2 + k y^2) / 2 with condition number k; minimum 0 at (0, 0)."""
    k = float(condition)

    def value(x, y, xp):
        return (x * x + k * y * y) / 2

    def gradient(x, y, xp):
        return x + 0 * y, k * y + 0 * x

    def hessian(x, y, xp):
        return 1 + 0 * x, 0 * x, k + 0 * x

    return _surface(
        "elongated_bowl",
        "One learning rate for two very different curvatures: the steep direction "
        "caps the rate, the flat one then crawls.",
        value, gradient, ((-3.0, 3.0), (-3.0, 3.0)), [[0.0, 0.0]], (-2.8, 1.5),
        hessian=hessian, params={"condition": k},
    )


# --- Himmelblau -------------------------------------------------------------


@register("himmelblau", "Himmelblau")
def himmelblau() -> Surface:
    """f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2; four minima of value 0."""

    def value(x, y, xp):
        a, b = x * x + y - 11, x + y * y - 7
        return a * a + b * b

    def gradient(x, y, xp):
        a, b = x * x + y - 11, x + y * y - 7
        return 4 * x * a + 2 * b, 2 * a + 4 * y * b

    def hessian(x, y, xp):
        return 12 * x * x + 4 * y - 42, 4 * x + 4 * y, 4 * x + 12 * y * y - 26

    return _surface(
        "himmelblau",
        "Four equally good minima: which one you reach depends only on where you start.",
        value, gradient, ((-5.0, 5.0), (-5.0, 5.0)),
        [[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]],
        (-0.5, -0.5), log_scale=True, hessian=hessian,
    )


# --- Sum of Gaussian wells --------------------------------------------------

# centre x, centre y, depth, width
_WELLS = np.array([
    [2.0, 1.5, 3.0, 0.9],    # the global minimum
    [-1.2, -0.6, 1.6, 0.7],
    [-2.2, 2.2, 1.4, 0.6],
    [1.4, -2.4, 1.2, 0.6],
])
_BOWL = 0.04


@register("wells", "Gaussian wells")
def wells() -> Surface:
    """f = 0.04 (x^2 + y^2) - sum_i d_i exp(-|p - c_i|^2 / (2 s_i^2))."""

    def terms(x, y, xp):
        for cx, cy, d, s in _WELLS:
            dx, dy = x - cx, y - cy
            yield dx, dy, d * xp.exp(-(dx * dx + dy * dy) / (2 * s * s)), s * s

    def value(x, y, xp):
        f = _BOWL * (x * x + y * y)
        for _, _, e, _ in terms(x, y, xp):
            f = f - e
        return f

    def gradient(x, y, xp):
        gx, gy = 2 * _BOWL * x, 2 * _BOWL * y
        for dx, dy, e, s2 in terms(x, y, xp):
            gx, gy = gx + e * dx / s2, gy + e * dy / s2
        return gx, gy

    return _surface(
        "wells",
        "One deep well and several shallow ones: plain GD settles in the nearest, "
        "momentum can roll over a rim into a better one.",
        value, gradient, ((-4.0, 4.0), (-4.0, 4.0)),
        [[2.0, 1.5], [-1.2, -0.6], [-2.2, 2.2], [1.4, -2.4]], (3.4, -1.6),
    )


# --- Rastrigin --------------------------------------------------------------


@register("rastrigin", "Rastrigin")
def rastrigin() -> Surface:
    """f = 20 + sum_i (x_i^2 - 10 cos(2 pi x_i)); minimum 0 at (0, 0)."""

    def value(x, y, xp):
        tau = 2 * xp.pi
        return 20 + x * x - 10 * xp.cos(tau * x) + y * y - 10 * xp.cos(tau * y)

    def gradient(x, y, xp):
        tau = 2 * xp.pi
        return 2 * x + 10 * tau * xp.sin(tau * x), 2 * y + 10 * tau * xp.sin(tau * y)

    def hessian(x, y, xp):
        tau = 2 * xp.pi
        return 2 + 10 * tau * tau * xp.cos(tau * x), 0 * x, 2 + 10 * tau * tau * xp.cos(tau * y)

    grid = np.arange(-5.0, 6.0)
    guesses = np.stack(np.meshgrid(grid, grid), -1).reshape(-1, 2)
    guesses = guesses[np.argsort(np.abs(guesses).sum(1), kind="stable")]  # global first
    return _surface(
        "rastrigin",
        "A bowl covered in a regular grid of 121 local minima: small steps get trapped "
        "in the first pit.",
        value, gradient, ((-5.12, 5.12), (-5.12, 5.12)), guesses, (3.6, -2.7),
        hessian=hessian,
    )


# --- Beale ------------------------------------------------------------------


@register("beale", "Beale")
def beale() -> Surface:
    """f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2; 0 at (3, 0.5)."""

    def value(x, y, xp):
        a, b, c = 1.5 - x + x * y, 2.25 - x + x * y * y, 2.625 - x + x * y * y * y
        return a * a + b * b + c * c

    def gradient(x, y, xp):
        y2 = y * y
        a, b, c = 1.5 - x + x * y, 2.25 - x + x * y2, 2.625 - x + x * y2 * y
        gx = 2 * (a * (y - 1) + b * (y2 - 1) + c * (y2 * y - 1))
        gy = 2 * x * (a + 2 * b * y + 3 * c * y2)
        return gx, gy

    return _surface(
        "beale",
        "Sharp ridges and broad flat plateaus: step sizes that suit one region fail in the other.",
        value, gradient, ((-4.5, 4.5), (-4.5, 4.5)), [[3.0, 0.5]], (-1.0, 1.5),
        log_scale=True,
    )


# --- Booth ------------------------------------------------------------------


@register("booth", "Booth")
def booth() -> Surface:
    """f = (x + 2y - 7)^2 + (2x + y - 5)^2; minimum 0 at (1, 3)."""

    def value(x, y, xp):
        a, b = x + 2 * y - 7, 2 * x + y - 5
        return a * a + b * b

    def gradient(x, y, xp):
        return 10 * x + 8 * y - 34, 8 * x + 10 * y - 38

    def hessian(x, y, xp):
        return 10 + 0 * x, 8 + 0 * x, 10 + 0 * x

    return _surface(
        "booth",
        "A tilted quadratic bowl: the easy case every optimizer should solve.",
        value, gradient, ((-10.0, 10.0), (-10.0, 10.0)), [[1.0, 3.0]], (-8.0, -6.0),
        hessian=hessian,
    )


# --- Six-hump camel ---------------------------------------------------------


@register("six_hump_camel", "Six-hump camel")
def six_hump_camel() -> Surface:
    """f = (4 - 2.1x^2 + x^4/3) x^2 + xy + (4y^2 - 4) y^2; two global minima -1.0316."""

    def value(x, y, xp):
        x2, y2 = x * x, y * y
        return (4 - 2.1 * x2 + x2 * x2 / 3) * x2 + x * y + (4 * y2 - 4) * y2

    def gradient(x, y, xp):
        x2 = x * x
        return 8 * x - 8.4 * x2 * x + 2 * x2 * x2 * x + y, x - 8 * y + 16 * y * y * y

    def hessian(x, y, xp):
        x2 = x * x
        return 8 - 25.2 * x2 + 10 * x2 * x2, 1 + 0 * x, 48 * y * y - 8

    return _surface(
        "six_hump_camel",
        "Two equally deep global minima among four shallower ones.",
        value, gradient, ((-3.0, 3.0), (-2.0, 2.0)),
        [[0.0898, -0.7126], [-0.0898, 0.7126], [1.7036, -0.7961], [-1.7036, 0.7961],
         [1.6071, 0.5687], [-1.6071, -0.5687]],
        (-2.2, -1.4), log_scale=False, hessian=hessian,
    )


# --- Styblinski-Tang --------------------------------------------------------


@register("styblinski_tang", "Styblinski-Tang")
def styblinski_tang() -> Surface:
    """f = sum_i (x_i^4 - 16 x_i^2 + 5 x_i) / 2; minimum -78.33233 at (-2.903534, -2.903534)."""

    def value(x, y, xp):
        x2, y2 = x * x, y * y
        return (x2 * x2 - 16 * x2 + 5 * x + y2 * y2 - 16 * y2 + 5 * y) / 2

    def gradient(x, y, xp):
        return 2 * x * x * x - 16 * x + 2.5, 2 * y * y * y - 16 * y + 2.5

    def hessian(x, y, xp):
        return 6 * x * x - 16, 0 * x, 6 * y * y - 16

    a, b = -2.903534, 2.746803
    return _surface(
        "styblinski_tang",
        "Four basins of different depth: the nearest minimum is rarely the best one.",
        value, gradient, ((-5.0, 5.0), (-5.0, 5.0)), [[a, a], [a, b], [b, a], [b, b]],
        (4.2, 4.5), hessian=hessian,
    )


# --- Goldstein-Price --------------------------------------------------------


@register("goldstein_price", "Goldstein-Price")
def goldstein_price() -> Surface:
    """f = [1 + (x+y+1)^2 P] [30 + (2x-3y)^2 Q]; minimum 3 at (0, -1)."""

    def parts(x, y):
        s, d = x + y + 1, 2 * x - 3 * y
        p = 19 - 14 * x + 3 * x * x - 14 * y + 6 * x * y + 3 * y * y
        q = 18 - 32 * x + 12 * x * x + 48 * y - 36 * x * y + 27 * y * y
        return s, d, p, q, 1 + s * s * p, 30 + d * d * q

    def value(x, y, xp):
        *_, a, b = parts(x, y)
        return a * b

    def gradient(x, y, xp):
        s, d, p, q, a, b = parts(x, y)
        ps = -14 + 6 * x + 6 * y  # dP/dx == dP/dy
        ax = ay = 2 * s * p + s * s * ps
        bx = 4 * d * q + d * d * (-32 + 24 * x - 36 * y)
        by = -6 * d * q + d * d * (48 - 36 * x + 54 * y)
        return ax * b + a * bx, ay * b + a * by

    return _surface(
        "goldstein_price",
        "Values spanning six orders of magnitude: a learning rate that suits the basin "
        "explodes on the walls, while adaptive methods cope.",
        value, gradient, ((-2.0, 2.0), (-2.0, 2.0)),
        [[0.0, -1.0], [-0.6, -0.4], [1.8, 0.2], [1.2, 0.8]], (0.4, -1.4), log_scale=True,
    )


# --- Linear regression (dataset-backed) -------------------------------------


@register(
    "regression", "Linear regression (MSE)",
    Param("n", 100, 10, 2000, "Samples", scale="integer"),
    Param("data_seed", 0, 0, 2**31 - 1, "Data seed", scale="integer"),
)
def regression(n: int = 100, data_seed: int = 0) -> Surface:
    """Mean squared error of y = w x + b over a seeded synthetic dataset.

    f(w, b) = mean_i (w x_i + b - y_i)^2, written through the data's moments so
    that the full-batch value and gradient cost O(1); mini-batch gradients use
    the samples themselves (``sample_gradient``).
    """
    rng = np.random.default_rng(data_seed)
    xs = rng.uniform(0.0, 4.0, n)
    ys = 2.0 * xs - 1.0 + rng.normal(0.0, 0.8, n)
    mx, my, mxx, mxy, myy = xs.mean(), ys.mean(), (xs * xs).mean(), (xs * ys).mean(), (ys * ys).mean()

    def value(w, b, xp):
        return w * w * mxx + 2 * w * b * mx + b * b - 2 * w * mxy - 2 * b * my + myy

    def gradient(w, b, xp):
        return 2 * (w * mxx + b * mx - mxy), 2 * (w * mx + b - my)

    def hessian(w, b, xp):
        return 2 * mxx + 0 * w, 2 * mx + 0 * w, 2 + 0 * w

    def sample_gradient(w, b, idx, xp):
        sx, sy = xs[idx], ys[idx]
        r = w[..., None] * sx + b[..., None] - sy
        return 2 * (r * sx).mean(-1), 2 * r.mean(-1)

    return _surface(
        "regression",
        "The loss of a real model on real data: every sample pulls on (w, b), and "
        "a mini-batch only hears some of them.",
        value, gradient, ((-1.0, 5.0), (-5.0, 3.0)), [[2.0, -1.0]], (-0.5, 2.5),
        hessian=hessian, params={"n": int(n), "data_seed": int(data_seed)}, data=Dataset(xs, ys),
        sample_gradient=sample_gradient,
    )

