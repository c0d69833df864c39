"""The Surface type: a 2-D test function with its gradient, domain and minima.

A surface is written once, as ``value(x, y, xp)`` and ``gradient(x, y, xp)``
where ``xp`` is a math namespace: NumPy for arrays, ``specs.SCALAR_MATH`` for plain
floats (the fast path of a single run). Definitions use only + - * / and the
namespace's functions, never ``**``, so both namespaces give the same bits.

A Surface is one kind of *problem*, the thing optimizers.run descends. A problem has
``dim`` (D), ``start`` (D,), ``scale`` (coordinates beyond DIVERGENCE_FACTOR * scale
diverge), ``f(w)`` (..., D) -> (...), ``grad(w)`` (..., D) -> (..., D), and, when it has a
data set, ``data`` (with ``n`` samples) and ``batch_grad(w, idx)``: the gradient of the
mean loss over the samples ``idx`` ((B,) or (..., B) indices).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface. Its methods f, grad and hess take points shaped (..., 2); the functions
    it holds take the coordinates apart, as (x, y, xp) with xp the array module.

    ``sample_gradient(x, y, idx, xp)`` (dataset surfaces): the gradient over the samples
    ``idx`` (shape (..., B)) at (x, y) (shape (...)), as (gx, gy).
    """

    dim = 2

    name: str
    title: str
    lesson: str
    value: Callable = field(repr=False)  # value(x, y, xp) -> f
    gradient: Callable = field(repr=False)  # gradient(x, y, xp) -> (fx, fy)
    domain: tuple[tuple[float, float], tuple[float, float]]
    minima: np.ndarray = field(repr=False)  # (k, 2), global minima first (k = 0 possible, see below)
    start: np.ndarray = field(repr=False)  # (2,)
    log_scale: bool = False
    hessian: Callable | None = field(default=None, repr=False)  # (x, y, xp) -> (fxx, fxy, fyy)
    params: dict = field(default_factory=dict)
    data: Dataset | None = field(default=None, repr=False)
    sample_gradient: Callable | None = field(default=None, repr=False)
    #: False when f has no lowest point inside the domain (it keeps falling toward an edge, like
    #: x^2 - y^2): there is no f*, so ``global_min`` raises and figures show f, not f - f*.
    #: ``minima`` then lists only local minima (often none).
    has_global_min: bool = True

    def f(self, xy) -> np.ndarray:
        """Value at points ``xy`` of shape (..., 2)."""
        xy = np.asarray(xy, dtype=float)
        with np.errstate(all="ignore"):
            return np.asarray(self.value(xy[..., 0], xy[..., 1], np), dtype=float)

    def grad(self, xy) -> np.ndarray:
        """Analytic gradient at ``xy``, shape (..., 2)."""
        xy = np.asarray(xy, dtype=float)
        with np.errstate(all="ignore"):
            gx, gy = self.gradient(xy[..., 0], xy[..., 1], np)
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1)

    def batch_grad(self, xy, idx) -> np.ndarray:
        """Gradient over the samples ``idx`` ((B,) or (..., B)) at ``xy`` (..., 2): shape (..., 2)."""
        if self.sample_gradient is None:
            raise ValueError(f"{self.title} has no data: mini-batches apply to dataset surfaces")
        xy = np.asarray(xy, dtype=float)
        gx, gy = self.sample_gradient(xy[..., 0], xy[..., 1], np.asarray(idx), np)
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1)

    def hess(self, xy) -> np.ndarray:
        """Analytic Hessian at ``xy``, shape (..., 2, 2)."""
        if self.hessian is None:
            raise ValueError(f"{self.title} has no analytic Hessian")
        xy = np.asarray(xy, dtype=float)
        with np.errstate(all="ignore"):
            fxx, fxy, fyy = np.broadcast_arrays(*self.hessian(xy[..., 0], xy[..., 1], np))
        return np.stack([np.stack([fxx, fxy], -1), np.stack([fxy, fyy], -1)], -2)

    @property
    def minima_values(self) -> np.ndarray:
        """f at each known minimum, shape (k,)."""
        return self.f(self.minima)

    @property
    def global_min(self) -> float:
        """f*, the value of f at the global minimum (ValueError when ``has_global_min`` is False)."""
        if not self.has_global_min:
            raise ValueError(f"{self.title} has no minimum in its domain, so no f*")
        return float(self.minima_values.min())

    @property
    def scale(self) -> float:
        """Largest coordinate magnitude of the domain, at least 1."""
        return max(1.0, *(abs(b) for pair in self.domain for b in pair))


@dataclass(frozen=True)
class Dataset:
    """Samples (x_i, y_i) of a dataset-backed surface."""

    x: np.ndarray
    y: np.ndarray

    @property
    def n(self) -> int:
        return len(self.x)


def newton_minima(gradient, guesses, iters=30, h=1e-6) -> np.ndarray:
    """Refine ``guesses`` (k, 2) to stationary points of ``gradient`` by Newton.

    The Hessian is the central difference of the analytic gradient. Used at
    definition time so stored minima are exact to rounding, not to the few
    decimals of a published table (tests check they agree with the table).
    """
    p = np.array(guesses, dtype=float).reshape(-1, 2)
    for _ in range(iters):
        x, y = p[:, 0], p[:, 1]
        gx, gy = gradient(x, y, np)
        fxx, fyx = (np.asarray(a) - np.asarray(b) for a, b in
                    zip(gradient(x + h, y, np), gradient(x - h, y, np), strict=False))
        fxy, fyy = (np.asarray(a) - np.asarray(b) for a, b in
                    zip(gradient(x, y + h, np), gradient(x, y - h, np), strict=False))
        fxx, fxy, fyy = fxx / (2 * h), (fxy + fyx) / (4 * h), fyy / (2 * h)
        det = fxx * fyy - fxy * fxy
        dx = (fyy * gx - fxy * gy) / det
        dy = (fxx * gy - fxy * gx) / det
        p = p - np.stack([dx, dy], -1)
    return p
