"""A Setup's runs, computed: what the Playground draws and the exports write.

    from descent_lab.compute import runs
    views = runs(setup)  # [RunView(label, color, trajectory), ...], in the setup's order

The page passes its cached runner as ``run``; the command line computes directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

import optimizers

from .runlist import run_colors
from .setup import CUSTOM, RunSpec, Setup, make_surface


@dataclass(frozen=True)
class RunView:
    """One run as the figures draw it: its label, colour and single-run trajectory."""

    label: str
    color: str
    trajectory: optimizers.Trajectory


def frame_steps(steps: int, frames: int) -> np.ndarray:
    """At most ``frames`` step numbers from 0 to ``steps``: every k-th step for a round k (1, 2, 5,
    10, 20, ...), so the slider reads 0 20 40 ..., and always ``steps`` itself last."""
    need = 1 if steps + 1 <= frames else steps / max(1, frames - 2)  # room for the last step too
    k = next(m * 10**e for e in range(12) for m in (1, 2, 5) if m * 10**e >= need)
    return np.unique(np.append(np.arange(0, steps + 1, k), steps))


def gif_steps(steps: int, frames: int) -> np.ndarray:
    """The steps an animated picture shows: ``frames`` of them (all ``steps + 1`` when there are fewer),
    evenly spread from step 0 to ``steps``, which is always the last (one frame: that last step)."""
    n = min(max(1, frames), steps + 1)
    return np.array([steps]) if n == 1 else np.round(np.linspace(0, steps, n)).astype(int)


def surface_key(surface) -> tuple:
    """Hashable identity of a surface, for caches: name, parameters, domain."""
    return surface.name, tuple(sorted(surface.params.items())), surface.domain


def surface_setting(key: tuple) -> tuple[str, dict]:
    """A surface_key as a Setup's (surface, surface_params)."""
    name, params, domain = key
    params = dict(params)
    if name == CUSTOM:
        params["domain"] = domain
    return name, params


def surface_from_key(key: tuple):
    return make_surface(*surface_setting(key))


def keyed_run(surface_key: tuple, run_key: tuple, start: tuple, steps: int, noise: float, seed: int,
              batch_size: int | None) -> optimizers.Trajectory:
    """One run from hashable keys (surface_key, RunSpec.key()): what the pages cache."""
    name, hyper, schedule, form = run_key
    opt = optimizers.get(name, schedule=optimizers.Schedule(**dict(schedule)), form=form, **dict(hyper))
    return optimizers.run(opt, surface_from_key(surface_key), start=start, steps=steps, noise=noise,
                          seed=seed, batch_size=batch_size, rounding=True)


def label(slot: int, trajectory: optimizers.Trajectory) -> str:
    """E.g. '2. Adam (η=0.1)': the run's number and its short description."""
    return f"{slot + 1}. {trajectory.optimizer.describe(short=True)}"


def trajectory(setup: Setup, spec: RunSpec) -> optimizers.Trajectory:
    """One run of ``setup``, computed (no cache)."""
    return keyed_run(surface_key(setup.make_surface()), spec.key(), setup.start_point(), setup.steps,
                     setup.noise, setup.seed, setup.batch or None)


def runs(setup: Setup, run: Callable[[Setup, RunSpec], optimizers.Trajectory] = trajectory,
         colors: Sequence[str] | None = None) -> list[RunView]:
    """Every run of ``setup`` with its label and colour (``colors``, default run_colors of its
    optimizers); ``run(setup, spec)`` makes each trajectory."""
    colors = colors or run_colors([spec.name for spec in setup.runs])
    out = []
    for slot, spec in enumerate(setup.runs):
        tr = run(setup, spec)
        out.append(RunView(label(slot, tr), colors[slot], tr))
    return out
