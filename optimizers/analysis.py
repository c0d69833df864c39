"""What a run achieved: final loss, nearest minimum, when it got there. Works on batches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landscapes import Surface

from .run import Trajectory


@dataclass(frozen=True)
class Outcome:
    """Per run (scalars for one run, arrays of R for a batch).

    gap: final f - f*; nearest: index into surface.minima of the minimum closest to
    the end point; distance: how far the end point is from it; reached_at: first
    step within ``tol`` of any known minimum and staying there, or -1.
    """

    final_loss: np.ndarray
    gap: np.ndarray
    nearest: np.ndarray
    distance: np.ndarray
    reached_at: np.ndarray
    diverged_at: np.ndarray


def outcome(tr: Trajectory, surface: Surface, tol: float) -> Outcome:
    """Summarize ``tr`` on ``surface``; ``tol`` is a distance in the surface's coordinates."""
    path = tr.path  # (steps+1, [R,] 2)
    mins = surface.minima  # (k, 2)
    dist = np.linalg.norm(path[..., None, :] - mins, axis=-1)  # (steps+1, [R,] k)
    near = dist.min(-1)  # (steps+1, [R])
    end = dist[-1]
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
        gap=final - surface.global_min,
        nearest=end.argmin(-1),
        distance=end.min(-1),
        reached_at=reached,
        diverged_at=diverged,
    )
