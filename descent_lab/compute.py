"""A Setup's runs, computed: what the Playground draws and the exports write.

    from descent_lab.compute import runs
    views = runs(setup)  # [viz.RunView(label, color, trajectory), ...], in the setup's order

The page passes its cached runner as ``run``; the command line computes directly.
"""

from __future__ import annotations

from collections.abc import Callable

import optimizers
from viz import RunView, run_colors

from .setup import RunSpec, Setup


def label(slot: int, trajectory: optimizers.Trajectory) -> str:
    """E.g. '2. Adam (lr=0.1)': the run's number and its short description."""
    return f"{slot + 1}. {trajectory.optimizer.describe(short=True)}"


def trajectory(setup: Setup, spec: RunSpec) -> optimizers.Trajectory:
    """One run of ``setup``, computed (no cache)."""
    return optimizers.run(spec.optimizer(), setup.make_surface(), start=setup.start_point(),
                          steps=setup.steps, noise=setup.noise, seed=setup.seed,
                          batch_size=setup.batch or None)


def runs(setup: Setup, run: Callable[[Setup, RunSpec], optimizers.Trajectory] = trajectory) -> list[RunView]:
    """Every run of ``setup`` with its label and colour; ``run(setup, spec)`` makes each trajectory."""
    colors = run_colors([spec.name for spec in setup.runs])
    out = []
    for slot, spec in enumerate(setup.runs):
        tr = run(setup, spec)
        out.append(RunView(label(slot, tr), colors[slot], tr))
    return out
