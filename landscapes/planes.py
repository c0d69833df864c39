"""Planes through weight space: where a D-dimensional loss landscape is sliced and drawn.

    from landscapes import planes
    p = planes.pca(paths)                        # PCA plane of runs' weight trajectories
    p = planes.random(net, w, seed=0)            # two filter-normalized random directions at w
    p = planes.through(start, end1, end2)        # the plane through three points
    ab = p.project(paths)                        # (..., 2) plane coordinates of (..., D) points
    a, b, Z = planes.grid(net, p, *planes.extent(ab), num=41)   # the loss on the plane
    alpha, f = planes.interpolate(net, start, end)               # 1-D slice (Goodfellow et al.)

A plane is origin + a d1 + b d2. ``grid`` evaluates the loss at all num x num points in one
batched call of ``problem.f``; any object with ``f((..., D)) -> (...)`` works.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Plane:
    """The points origin + a d1 + b d2 (d1, d2 linearly independent, not necessarily orthogonal)."""

    origin: np.ndarray  # (D,)
    d1: np.ndarray  # (D,)
    d2: np.ndarray  # (D,)
    kind: str  # "pca", "random" or "through"
    #: PCA planes: the fraction of the points' variance along d1 and along d2
    explained: tuple[float, float] | None = None

    def point(self, a, b) -> np.ndarray:
        """Weights at plane coordinates a, b (broadcast together): (..., D)."""
        a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
        return self.origin + a[..., None] * self.d1 + b[..., None] * self.d2

    def project(self, w) -> np.ndarray:
        """Plane coordinates (a, b) of the points w (..., D) nearest to them (least squares),
        shape (..., 2); a point of the plane gets its own coordinates back."""
        basis = np.stack([self.d1, self.d2])  # (2, D)
        rhs = (np.asarray(w, dtype=float) - self.origin) @ basis.T  # (..., 2)
        return np.linalg.solve(basis @ basis.T, rhs[..., None])[..., 0]

    def distance(self, w) -> np.ndarray:
        """Euclidean distance of the points w (..., D) from the plane, shape (...)."""
        ab = self.project(w)
        return np.linalg.norm(np.asarray(w, dtype=float) - self.point(ab[..., 0], ab[..., 1]), axis=-1)


def pca(points, origin=None) -> Plane:
    """The plane of the two principal directions of ``points`` (..., D), e.g. runs' paths
    (steps + 1, R, D), through ``origin`` (default their mean). Li et al. (2018, section 7)
    put the origin at the final weights; the variance is then measured around that point.
    Directions are unit vectors, signed so that each one's largest component is positive."""
    x = np.asarray(points, dtype=float)
    x = x.reshape(-1, x.shape[-1])
    o = x.mean(0) if origin is None else np.asarray(origin, dtype=float)
    _, s, vt = np.linalg.svd(x - o, full_matrices=False)
    if len(s) < 2 or s[1] <= s[0] * 1e-12:
        raise ValueError("the points span less than two dimensions: no PCA plane")
    d = vt[:2] * np.sign(vt[:2][np.arange(2), np.abs(vt[:2]).argmax(1)])[:, None]
    var = s * s
    explained = var[:2] / var.sum()
    return Plane(o, d[0], d[1], "pca", (float(explained[0]), float(explained[1])))


def filter_normalized(net, w, rng: np.random.Generator, biases: str = "zero") -> np.ndarray:
    """A random direction (D,) at weights w, filter-normalized (Li et al. 2018, section 4):
    Gaussian, then each neuron's incoming weights (a row of a layer's weight matrix, the
    fully connected layer's "filter") rescaled to the norm of that row of w. Bias entries are
    zero (``biases="zero"``, the paper's choice) or w's biases (``"copy"``, its code's other
    option)."""
    if biases not in ("zero", "copy"):
        raise ValueError(f"biases must be 'zero' or 'copy', got {biases!r}")
    w = np.asarray(w, dtype=float)
    d = np.zeros(net.dim)
    for layer in net.layers:
        rows = rng.standard_normal((layer.out, layer.inp))
        target = np.linalg.norm(w[layer.weight].reshape(layer.out, layer.inp), axis=1, keepdims=True)
        d[layer.weight] = (rows * (target / np.linalg.norm(rows, axis=1, keepdims=True))).ravel()
        if biases == "copy":
            d[layer.bias] = w[layer.bias]
    return d


def random(net, w, seed: int = 0, biases: str = "zero") -> Plane:
    """The plane at w spanned by two filter-normalized random directions (seeded)."""
    rng = np.random.default_rng(seed)
    d1 = filter_normalized(net, w, rng, biases)
    d2 = filter_normalized(net, w, rng, biases)
    return Plane(np.asarray(w, dtype=float).copy(), d1, d2, "random")


def through(w0, w1, w2) -> Plane:
    """The plane through w0 (coordinates (0, 0)), w1 (1, 0) and w2 (0, 1): e.g. the start and
    two runs' end points (do they reach one minimum, is there a barrier between them?)."""
    w0, w1, w2 = (np.asarray(w, dtype=float) for w in (w0, w1, w2))
    d1, d2 = w1 - w0, w2 - w0
    g = np.array([[d1 @ d1, d1 @ d2], [d1 @ d2, d2 @ d2]])
    if np.linalg.det(g) <= 1e-12 * g[0, 0] * g[1, 1]:
        raise ValueError("the three points are (nearly) on one line: they do not span a plane")
    return Plane(w0, d1, d2, "through")


def extent(coords, margin: float = 0.2) -> tuple[tuple[float, float], tuple[float, float]]:
    """Ranges of a and b covering plane coordinates (..., 2), widened by ``margin`` times
    their span on each side (at least 1e-3 wide)."""
    ab = np.asarray(coords, dtype=float).reshape(-1, 2)
    ab = ab[np.isfinite(ab).all(1)]
    lo, hi = ab.min(0), ab.max(0)
    pad = margin * np.maximum(hi - lo, 1e-3)
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (float(lo[1] - pad[1]), float(hi[1] + pad[1]))


def grid(problem, plane: Plane, a_range, b_range, num: int = 41) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The loss on a num x num grid of the plane in one batched evaluation: a (num,), b (num,),
    Z (num, num) with Z[i, j] = problem.f(plane.point(a[j], b[i]))."""
    a, b = np.linspace(*a_range, num), np.linspace(*b_range, num)
    A, B = np.meshgrid(a, b)
    with np.errstate(all="ignore"):
        return a, b, problem.f(plane.point(A, B))


def interpolate(problem, w0, w1, num: int = 81, span=(-0.5, 1.5)) -> tuple[np.ndarray, np.ndarray]:
    """The loss along the line (1 - alpha) w0 + alpha w1 (Goodfellow et al. 2015): alpha (num,)
    over ``span`` (0 is w0, 1 is w1) and f (num,)."""
    alpha = np.linspace(*span, num)
    w0, w1 = np.asarray(w0, dtype=float), np.asarray(w1, dtype=float)
    return alpha, problem.f(w0 + alpha[:, None] * (w1 - w0))
