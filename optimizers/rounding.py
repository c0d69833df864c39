"""Is a run sensitive to rounding? One extra row per run answers it.

A run is sensitive when a change of one rounding moves its end by more than TOL (relative): on
such a path the last digit of any one step grows until the end is elsewhere, so another program
that takes the same steps with its gradient computed another way (PyTorch's autograd instead of the
analytic gradient), or this code on another machine, may end elsewhere, and both are right.

The change is the start moved by one unit in the last place (``nudged``); ``optimizers.run(...,
rounding=True)`` runs it as one more row per run (record=False, the run's noise, seed and
mini-batches) and ``compare`` measures how far the two paths part. Relative means relative to
the point's norm, or to 1 near the origin (so a run that converges to (0, 0) is compared in
absolute terms there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A run whose end moves by more than this (relative) under one changed rounding is sensitive.
TOL = 1e-6


@dataclass(frozen=True)
class Rounding:
    """How a run answers one changed rounding. ``departs_at``: for a sensitive run, the step from
    which the nudged path stays more than TOL from the run's to the end, else -1; ``end_change``: the
    relative distance of the two ends. Scalars for one run, (R,) arrays for a batch."""

    departs_at: int | np.ndarray
    end_change: float | np.ndarray

    @property
    def sensitive(self) -> bool | np.ndarray:
        return np.asarray(self.departs_at) >= 0

    def row(self, r: int) -> Rounding:
        """Row ``r`` of a batch's, as the single run's."""
        return Rounding(int(self.departs_at[r]), float(self.end_change[r]))

    def note(self, who: str = "PyTorch") -> str:
        """What a viewer reads about a sensitive run (a single run), "" for the others."""
        if not self.sensitive:
            return ""
        return (f"This path is sensitive to rounding from about step {self.departs_at}: {who} may end "
                "elsewhere, and so may this app on another machine.")


def nudged(start: np.ndarray) -> np.ndarray:
    """The start with every coordinate moved by one unit in the last place (towards +inf)."""
    return np.nextafter(start, np.inf)


def compare(path: np.ndarray, other: np.ndarray) -> Rounding:
    """How far ``other`` (the nudged run's path) parts from ``path``: both (steps+1, [R,] D), as a
    Trajectory has them (a diverged run stays at its last point, so the paths hold no NaN)."""
    gap = np.linalg.norm(path - other, axis=-1) / np.maximum(np.linalg.norm(path, axis=-1), 1.0)
    gap = np.where(np.isnan(gap), np.inf, gap)  # a path with no number in it (an overflow) has parted
    apart = gap > TOL
    stays = np.flip(np.logical_and.accumulate(np.flip(apart, 0), 0), 0)  # apart from here to the end
    departs = np.where(apart[-1], stays.argmax(0), -1)
    if departs.ndim == 0:
        return Rounding(int(departs), float(gap[-1]))
    return Rounding(departs, gap[-1])
