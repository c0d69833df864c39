"""Learning rates that work: the best rate of a run's slider on its surface, and the largest
stable one from the curvature at the start.

    choice = choose_lr(setup, spec, previous_from="Adam's")  # spec: the run switched to GD, at its old lr
    choice.lr, choice.caption()  # 0.002, "η set to 0.002 for GD, the rate on the slider that ends ..."
    stability(setup, spec)  # Stability(limit=0.04, ...) for GD, momentum and Nesterov, else None

The best rate is found in one batched run of every value of the slider's grid (a learning-rate
family, descent_lab.families): the one that ends closest to the minimum, in f - f*, among the
rates whose path stays on the map (the surface's domain; all rates when none does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import optimizers
from optimizers.analysis import stable_lr

from .families import Family, lr_family
from .setup import RunSpec, Setup, prefixes

#: f - f* counts as 0 below this fraction of its value at the start (many rates converge to
#: rounding; among those the faster one wins)
GAP_FLOOR = 1e-12
#: the stability hint warns from this fraction of the largest stable rate on
NEAR = 0.9


def slider_family(setup: Setup, spec: RunSpec) -> Family:
    """``spec`` at every value of its learning-rate slider (and its own lr), in one batched run."""
    lrs = optimizers.rule(spec.name).lr.options(float(spec.hyper["lr"]))
    return lr_family(setup, spec, lrs)


FamilyFn = Callable[[Setup, RunSpec], Family]


def scores(family: Family, surface) -> np.ndarray:
    """How well each row of ``family`` does on ``surface`` (which has a global minimum), lower is
    better: its final f - f* (floored; inf when it diverged or ended on NaN), with ties on the floor
    broken by the mean log f - f* over the run (the faster one)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.asarray(family.trajectory.loss, dtype=float) - surface.global_min  # (steps + 1, R)
        gap = np.where(np.isfinite(gap), gap, np.inf)
        start = np.abs(gap[0])
        floor = GAP_FLOOR * (float(start[np.isfinite(start)].max()) if np.isfinite(start).any() else 1.0)
        kept = np.maximum(gap, floor)
        alive = np.isfinite(kept[-1]) & (np.asarray(family.trajectory.diverged_at) < 0)
        final = np.where(alive, kept[-1], np.inf)
        speed = np.log10(kept).mean(axis=0)
    # final gap first, then speed: sort key as one number per row
    order = np.lexsort((speed, final))
    rank = np.empty(len(order))
    rank[order] = np.arange(len(order))
    return np.where(np.isfinite(final), rank, np.inf)


def on_map(family: Family, surface) -> np.ndarray:
    """Per row of ``family``: whether its whole path stays inside ``surface``'s domain (the map)."""
    (x0, x1), (y0, y1) = surface.domain
    path = np.asarray(family.trajectory.path, dtype=float)  # (steps + 1, R, 2)
    with np.errstate(invalid="ignore"):
        inside = (path[..., 0] >= x0) & (path[..., 0] <= x1) & (path[..., 1] >= y0) & (path[..., 1] <= y1)
    return inside.all(axis=0)


@dataclass(frozen=True)
class Best:
    """The best rate of a slider's grid for one run, and how the run does at any rate of its family."""

    lr: float
    lrs: tuple[float, ...]
    diverged_at: tuple[int, ...]
    has_minimum: bool  # False: f has no minimum on the map, and lr is the run's own
    on_map: bool = True  # False: every rate's path leaves the map, so the best of all is taken

    def diverges_at(self, lr: float) -> int:
        """The step at which the run at ``lr`` (a rate of the family) diverges, or -1."""
        return self.diverged_at[self.lrs.index(float(lr))]


def best_lr(setup: Setup, spec: RunSpec, family: FamilyFn = slider_family) -> Best:
    """The rate of ``spec``'s slider grid that takes it closest to the minimum of ``setup``'s surface
    in ``setup``'s steps (from its start, with its noise) without leaving the map (of all rates when
    every one leaves it), and the family's outcomes (spec's own lr included).
    ``family(setup, spec)``: the slider family (the Playground passes its cached one, the same runs
    its stage is sent)."""
    fam = family(setup, spec)
    s = setup.make_surface()
    best = fam.lrs[fam.index]  # no minimum to aim for: no rate is best, the run's own stays
    stays = True
    if s.has_global_min:
        rank = scores(fam, s)
        grid = set(optimizers.rule(spec.name).lr.grid)
        on_grid = [i for i, lr in enumerate(fam.lrs) if lr in grid and np.isfinite(rank[i])]
        inside = on_map(fam, s)
        stays = any(inside[i] for i in on_grid)
        if stays:
            on_grid = [i for i in on_grid if inside[i]]
        if on_grid:
            best = fam.lrs[min(on_grid, key=lambda i: rank[i])]
    return Best(float(best), tuple(fam.lrs), tuple(int(d) for d in np.atleast_1d(fam.trajectory.diverged_at)),
                s.has_global_min, stays)


def _rate(v: float) -> str:
    return f"{v:.3g}"


def _number(v: float) -> str:
    """3 significant digits, without an exponent below a million (2090, not 2.09e+03)."""
    return f"{float(f'{v:.3g}'):.0f}" if 1e3 <= abs(v) < 1e6 else f"{v:.3g}"


@dataclass(frozen=True)
class LrChoice:
    """What a switch of optimizer or surface does to a run's learning rate."""

    name: str  # the run's optimizer (after the switch)
    lr: float  # the rate the run gets
    best: float  # the best rate of the slider on this surface
    kept: bool  # the user's own rate for this optimizer, kept
    previous: float  # the rate before the switch
    previous_from: str  # whose rate it was: "Adam's" or "the rate from Rosenbrock"
    previous_diverged_at: int  # of the run at the previous rate after the switch (-1: it did not)
    lr_diverged_at: int  # of the run at the rate it gets
    has_minimum: bool = True  # False: f has no minimum on the map, so no rate is best
    steps: int = 0  # of the runs the best rate is chosen by
    on_map: bool = True  # False: every rate's path leaves the map

    @property
    def criterion(self) -> str:
        """What "best" means: e.g. "the rate on the slider that ends closest to the minimum after
        100 steps without leaving the map"."""
        text = f"the rate on the slider that ends closest to the minimum after {self.steps} steps"
        return text + (" without leaving the map" if self.on_map else " (every rate leaves the map)")

    def caption(self) -> str:
        """One sentence on the choice, e.g. "η set to 0.0392 for GD, the rate on the slider that ends
        closest to the minimum after 100 steps without leaving the map; Adam's 0.1 diverges at step 3"."""
        label = optimizers.rule(self.name).short or optimizers.rule(self.name).label
        if not self.has_minimum:
            text = (f"η {_rate(self.lr)} {'kept' if self.kept else 'unchanged'}: J has no minimum on this "
                    "map, so no rate is best")
            if self.lr_diverged_at >= 0:
                text += f"; it diverges at step {self.lr_diverged_at} here"
            return text
        if self.kept:
            text = f"η {_rate(self.lr)} kept (you set it for {label})"
            if self.lr_diverged_at >= 0:
                text += f"; it diverges at step {self.lr_diverged_at} here"
            if self.best != self.lr:
                text += f"; for {label}, {self.criterion} is {_rate(self.best)}"
            return text
        text = f"η set to {_rate(self.lr)} for {label}, {self.criterion}"
        if self.previous != self.lr:
            before = f"{self.previous_from} {_rate(self.previous)}"
            if self.previous_diverged_at >= 0:
                text += f"; {before} diverges at step {self.previous_diverged_at}"
            else:
                text += f"; {before} ends farther from the minimum"
        return text


def choose_lr(setup: Setup, spec: RunSpec, *, previous_from: str, own: float | None = None,
              family: FamilyFn = slider_family) -> LrChoice:
    """The learning rate for run ``spec`` (the optimizer it was switched to, at the rate it had before
    the switch) on ``setup``: ``own`` (a rate the user set for this optimizer in this run) when
    there is one, else the best of the slider's grid."""
    lr_param = optimizers.rule(spec.name).lr
    previous = float(lr_param.clamp(spec.hyper["lr"]))
    at_previous = best_lr(setup, RunSpec(spec.name, {**spec.hyper, "lr": previous}, spec.schedule), family)
    lr = at_previous.lr if own is None else float(lr_param.clamp(own))
    at_lr = at_previous if lr in at_previous.lrs else best_lr(
        setup, RunSpec(spec.name, {**spec.hyper, "lr": lr}, spec.schedule), family)
    return LrChoice(spec.name, lr, at_previous.lr, own is not None, previous, previous_from,
                    at_previous.diverges_at(previous), at_lr.diverges_at(lr), at_previous.has_minimum,
                    setup.steps, at_previous.on_map)


@dataclass(frozen=True)
class Stability:
    """The largest stable learning rate of a run at its start (from the Hessian there) and where the
    run's own rate stands against it."""

    name: str
    lr: float
    limit: float  # factor(beta) / lambda_max
    lam: float  # lambda_max of the Hessian at the start

    @property
    def level(self) -> str:
        """"over" (lr above the limit), "near" (within NEAR of it) or "ok"."""
        return "over" if self.lr > self.limit else "near" if self.lr >= NEAR * self.limit else "ok"

    def caption(self, define: bool = True) -> str:
        """E.g. "largest stable η for GD here ≈ 0.04 (2/λmax; λmax = 50, the largest curvature
        (Hessian eigenvalue) at the start)"; ``define=False`` leaves out what λmax is (said once)."""
        rule = optimizers.rule(self.name)
        what = ", the largest curvature (Hessian eigenvalue)" if define else ""
        return (f"largest stable η for {rule.short or rule.label} here ≈ {_rate(self.limit)} "
                f"({rule.limit.formula}; λmax = {_number(self.lam)}{what} at the start)")

    def alarming(self, trajectory: optimizers.Trajectory) -> bool:
        """Whether the hint is a warning: the rate is near the limit (a warning before the user
        hits it), or over it and the run diverges or ends no lower than it started. A run over the
        limit that gets through (Rosenbrock's default GD) gets a caption, not an alarm."""
        if self.level == "over":
            return trajectory.diverged_at >= 0 or not trajectory.loss[-1] < trajectory.loss[0]
        return self.level == "near"

    def warning(self, trajectory: optimizers.Trajectory | None = None, surface=None) -> str | None:
        """A warning when the run's lr is above the limit or within NEAR of it (None below). Above
        it, with the run's ``trajectory`` on ``surface``, it says what the run did: the limit is
        exact on a quadratic, but a run that reaches flatter ground can get through."""
        if self.level == "ok":
            return None
        limit = f"the largest stable η ≈ {_rate(self.limit)} at the start"
        if self.level == "near":
            return (f"η {_rate(self.lr)} is within {1 - NEAR:.0%} of {limit}: a little more and each step "
                    "there overshoots by more than the last.")
        text = f"η {_rate(self.lr)} is above {limit}: there each step overshoots by more than the last"
        if trajectory is None:
            return text + "."
        if trajectory.diverged_at >= 0:
            return f"{text}, and this run diverges (step {int(trajectory.diverged_at)})."
        if not trajectory.loss[-1] < trajectory.loss[0]:
            return f"{text}: this run's swings grow, and it ends higher than it started."
        end = stable_lr(surface, trajectory.path[-1], self.name, trajectory.optimizer.hyper)
        if end is None or self.lr < end:
            return (f"{text}. This run gets through: where it goes the surface curves less, and there "
                    "its lr is stable.")
        return f"{text}. This run still ends lower than it started."


def stability(setup: Setup, spec: RunSpec) -> Stability | None:
    """``spec``'s stability hint on ``setup`` at its start, or None (see stable_lr)."""
    surface, start = setup.make_surface(), setup.start_point()
    limit = stable_lr(surface, start, spec.name, spec.hyper)
    if limit is None:
        return None
    lam = float(np.linalg.eigvalsh(surface.hess(np.asarray(start, dtype=float)))[-1])
    return Stability(spec.name, float(spec.hyper["lr"]), limit, lam)


def given_lrs(query, runs) -> tuple[bool, ...]:
    """Which runs of a link's ``runs`` got their learning rate from the link (``<prefix>.lr``)."""
    return tuple(f"{pre}.lr" in query for pre in prefixes(runs))

