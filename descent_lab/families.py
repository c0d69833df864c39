"""Learning-rate families: one run computed at every value of its learning-rate slider in one call.

    fam = lr_family(setup, spec, lrs=(1e-4, 2e-4, 5e-4, 1e-3))
    fam.trajectory.path  # (steps + 1, R, 2): row r is the run with lr = lrs[r]
    row(fam.trajectory, fam.index)  # the run at the spec's own lr, as a single-run Trajectory

The Playground sends a family to the browser once, so dragging a learning-rate slider
switches paths there without asking the server. Row r of the batch equals the single run
with that learning rate exactly (the core's batch rule), so the run at the spec's own lr is
taken from the family instead of being computed again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

import optimizers
from optimizers.analysis import stable_lr

from .setup import RunSpec, Setup


@dataclass(frozen=True)
class Family:
    """``spec`` run at each learning rate of ``lrs`` (ascending); ``index``: the spec's own lr."""

    spec: RunSpec
    lrs: tuple[float, ...]
    index: int
    trajectory: optimizers.Trajectory  # batched over lrs: path (steps + 1, R, 2), loss (steps + 1, R)
    stable_lr: float | None = None  # the largest stable lr at the start (optimizers.analysis.stable_lr)


def with_lr(lrs, lr: float) -> tuple[float, ...]:
    """The grid ``lrs`` with ``lr`` in it (added in order if missing), as floats."""
    grid = sorted({float(v) for v in lrs} | {float(lr)})
    return tuple(grid)


def lr_grid(spec: RunSpec) -> tuple[float, ...]:
    """The values of ``spec``'s learning-rate slider, with its own lr (a link may hold any)."""
    return tuple(float(v) for v in optimizers.rule(spec.name).lr.options(float(spec.hyper["lr"])))


def lr_family(setup: Setup, spec: RunSpec, lrs) -> Family:
    """``spec`` on ``setup``'s surface, start, steps, noise, seed and batch at every lr of ``lrs``
    (plus the spec's own lr), in one batched call."""
    grid = with_lr(lrs, spec.hyper["lr"])
    opt = optimizers.get(spec.name, schedule=optimizers.Schedule(**spec.schedule), form=spec.form,
                         **{**spec.hyper, "lr": np.array(grid)})
    surface, start = setup.make_surface(), setup.start_point()
    tr = optimizers.run(opt, surface, start=start, steps=setup.steps, noise=setup.noise, seed=setup.seed,
                        batch_size=setup.batch or None)
    return Family(spec, grid, grid.index(float(spec.hyper["lr"])), tr,
                  stable_lr(surface, start, spec.name, spec.hyper))


def row(tr: optimizers.Trajectory, r: int) -> optimizers.Trajectory:
    """Row ``r`` of a batched trajectory as the single run it equals (its optimizer holds row r's
    settings)."""
    opt = tr.optimizer
    hyper = {k: float(np.asarray(v).ravel()[r]) if np.ndim(v) else v for k, v in opt.hyper.items()}
    # a batch's settings are arrays; a single run's are Python floats (as optimizers.get makes them)

    def take(a):
        return None if a is None else a[:, r]

    return optimizers.Trajectory(
        optimizer=replace(opt, hyper=hyper),
        path=tr.path[:, r], loss=tr.loss[:, r], diverged_at=int(tr.diverged_at[r]), lr=tr.lr[:, r],
        grad=take(tr.grad), grad_point=take(tr.grad_point),
        state={k: v[:, r] for k, v in tr.state.items()}, effective_lr=take(tr.effective_lr),
        rounding=tr.rounding and tr.rounding.row(r),
    )


def own_run(setup: Setup, fam: Family, surface) -> optimizers.Trajectory:
    """The run at the spec's own lr (its row of the family, ``surface`` being ``setup``'s) with
    whether it is sensitive to rounding: one more run, from its start moved by one ulp, not recorded
    (optimizers.check_rounding; the family's other rates are not checked)."""
    tr = row(fam.trajectory, fam.index)
    return replace(tr, rounding=optimizers.check_rounding(tr, surface, noise=setup.noise, seed=setup.seed,
                                                          batch_size=setup.batch or None))
