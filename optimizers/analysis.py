"""What a run achieved: final loss, nearest minimum, when it got there. Works on batches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landscapes import Surface

from .rules import RULES
from .run import Trajectory


@dataclass(frozen=True)
class Outcome:
    """Per run (scalars for one run, arrays of R for a batch).

    gap: final f - f* (NaN when the surface has no minimum in its domain, so no f*);
    nearest: index into surface.minima of the minimum closest to the end point;
    distance: how far the end point is from it (NaN, and nearest 0, when minima is empty);
    reached_at: first step within ``tol`` of any known minimum and staying there, or -1.
    """

    final_loss: np.ndarray
    gap: np.ndarray
    nearest: np.ndarray
    distance: np.ndarray
    reached_at: np.ndarray
    diverged_at: np.ndarray


def nearest_minimum(points, surface: Surface) -> tuple[np.ndarray, np.ndarray]:
    """Index into surface.minima of the known minimum nearest to each of ``points`` (..., 2),
    and the distance to it (first index on ties).

    One pass per minimum, so memory stays that of ``points`` (a 10,000-run batch of 500
    steps on Rastrigin's 121 minima would otherwise need a 5 GB distance array).
    """
    p = np.asarray(points, dtype=float)
    px, py = p[..., 0], p[..., 1]
    best = np.full(px.shape, np.inf)
    index = np.zeros(px.shape, dtype=int)
    with np.errstate(invalid="ignore"):
        for i, (mx, my) in enumerate(surface.minima):
            dx, dy = px - mx, py - my
            d = np.sqrt(dx * dx + dy * dy)
            closer = d < best
            best = np.where(closer, d, best)
            index[closer] = i
    best[~np.isfinite(best)] = np.nan  # a NaN point is nowhere
    return index[()], best[()]


def outcome(tr: Trajectory, surface: Surface, tol: float) -> Outcome:
    """Summarize ``tr`` on ``surface``; ``tol`` is a distance in the surface's coordinates."""
    path = tr.path  # (steps+1, [R,] 2)
    _, near = nearest_minimum(path, surface)  # (steps+1, [R])
    nearest, distance = nearest_minimum(path[-1], surface)
    with np.errstate(invalid="ignore"):
        inside = near <= tol
    # first step from which the run stays within tol to the end
    outside_after = np.flip(np.cumsum(np.flip(~inside, 0), 0), 0)  # steps outside from t on
    settled = outside_after == 0
    reached = np.where(settled.any(0), settled.argmax(0), -1)
    diverged = np.asarray(tr.diverged_at)
    reached = np.where(diverged >= 0, -1, reached)
    final = tr.loss[-1]
    return Outcome(
        final_loss=final,
        gap=final - (surface.global_min if surface.has_global_min else np.nan),
        nearest=nearest,
        distance=distance,
        reached_at=reached,
        diverged_at=diverged,
    )


# Curvature limits (each rule's Rule.limit) of the rules whose steps are linear in the gradient: on
# a quadratic with largest Hessian eigenvalue lam, a run is stable exactly when lr < factor(beta) / lam.
# From the roots of each rule's characteristic polynomial (lr lam = h): gradient descent z = 1 - h;
# heavy ball (PyTorch form v = beta v + g, w -= lr v) z^2 - (1 + beta - h) z + beta; Nesterov
# z^2 - (1 + beta)(1 - h) z + beta (1 - h); the average form of momentum is the heavy ball with
# lr (1 - beta). Adaptive rules rescale the gradient per weight and have no such limit.


def max_stable_lr(surface: Surface, point, name: str, beta: float = 0.0):
    """The largest stable learning rate of rule ``name`` (with momentum ``beta``) on the
    quadratic model of ``surface`` at ``point`` (2,) or (..., 2): factor(beta) / lambda_max of
    the Hessian there (2 / lambda_max for gradient descent, 2 (1 + beta) / lambda_max for
    PyTorch-form momentum). Exact on quadratic surfaces: just below it a run converges, just
    above it diverges. inf where no direction curves upwards (lambda_max <= 0).

    Raises ValueError for a rule without a curvature limit (Rule.limit) or a surface
    without an analytic Hessian.
    """
    limit = RULES[name].limit
    if limit is None:
        raise ValueError(f"{name} has no curvature limit on its learning rate")
    lam = np.linalg.eigvalsh(surface.hess(point))[..., -1]
    factor = limit.factor(float(beta))
    with np.errstate(divide="ignore"):
        limit = np.where(lam > 0, factor / np.where(lam > 0, lam, 1.0), np.inf)
    return float(limit) if limit.ndim == 0 else limit


def stable_lr(surface, point, name: str, hyper: dict) -> float | None:
    """The largest stable rate of optimizer ``name`` with ``hyper`` at ``point`` of ``surface``
    (max_stable_lr), or None where there is none to show: adaptive rules,
    surfaces without an analytic Hessian, no upward curvature at the point, or a NaN."""
    if RULES[name].limit is None or surface.hessian is None:
        return None
    limit = max_stable_lr(surface, np.asarray(point, dtype=float), name, float(hyper.get("beta", 0.0)))
    return float(limit) if np.isfinite(limit) and limit > 0 else None


@dataclass(frozen=True)
class QuadraticTuning:
    """The fastest constant settings for a quadratic whose Hessian eigenvalues lie in [mu, L]
    (Polyak; Goh, "Why momentum really works", Distill 2017). Rates are the factors by which
    the distance to the minimum shrinks per step in the long run."""

    gd_lr: float  # 2 / (L + mu)
    gd_rate: float  # (L - mu) / (L + mu)
    momentum_lr: float  # (2 / (sqrt L + sqrt mu))^2, PyTorch form
    momentum_beta: float  # ((sqrt L - sqrt mu) / (sqrt L + sqrt mu))^2
    momentum_rate: float  # sqrt(beta)


def quadratic_tuning(mu: float, L: float) -> QuadraticTuning:
    """Best gradient descent and heavy-ball settings for curvatures 0 < mu <= L."""
    if not 0 < mu <= L:
        raise ValueError(f"need 0 < mu <= L, got mu = {mu}, L = {L}")
    rm, rl = np.sqrt(mu), np.sqrt(L)
    beta = float(((rl - rm) / (rl + rm)) ** 2)
    return QuadraticTuning(gd_lr=2 / (L + mu), gd_rate=(L - mu) / (L + mu),
                           momentum_lr=float((2 / (rl + rm)) ** 2), momentum_beta=beta,
                           momentum_rate=float(np.sqrt(beta)))
