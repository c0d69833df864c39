"""What a run achieved: final loss, nearest minimum, when it got there. Works on batches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landscapes import Surface

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
