"""The Learn pages' measurements: every number a Learn page prints about its runs, computed here from
the recorded runs. The pages read their widgets, run (cached), call these and show the results;
tests/test_learn_claims.py reads the numbers each page prints and recomputes them from the runs.

Steps are counted as the pages count them: path[t] is the point after t steps (path[0] the start).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import optimizers
from optimizers import moments

#: how close to the minimum a run must stay to count as there (the pages' "within 0.01")
NEAR = 0.01
#: a crossing of the valley floor counts when the run goes from more than this on one side to more
#: than this on the other: about two pixels on the pages' maps and y charts (smaller wiggles, down to
#: the 1e-20 of rounding, cannot be seen and are not overshoots anyone could point at)
CROSSING_TOL = 0.02


# --- generic read-outs ----------------------------------------------------------------------------


def path_length(path) -> float:
    """Total distance travelled along ``path`` (n, 2): the sum of the step lengths (NaN steps
    after a divergence are left out). A noisy path is long for the ground it covers."""
    d = np.linalg.norm(np.diff(np.asarray(path, dtype=float), axis=0), axis=1)
    return float(np.sum(d[np.isfinite(d)]))


def samples_per_update(batch_size: int | None, n: int) -> int:
    """Samples one gradient evaluation reads: all n for batch GD, else the batch size."""
    return n if batch_size is None or batch_size >= n else int(batch_size)


def samples_seen(batch_size: int | None, n: int, steps: int) -> np.ndarray:
    """Samples read before each recorded point, 0, B, 2B, ... (steps + 1 values)."""
    return np.arange(steps + 1) * samples_per_update(batch_size, n)


def overshoot(path, target) -> float:
    """How far ``path`` (n, 2) goes past ``target`` along the line from its start to the target
    (0 if it never passes it): the overshoot of a run aimed at a minimum."""
    path = np.asarray(path, dtype=float)
    target = np.asarray(target, dtype=float)
    d = target - path[0]
    norm = float(np.hypot(*d))
    if not norm:
        return 0.0
    beyond = (path - target) @ (d / norm)
    beyond = beyond[np.isfinite(beyond)]
    return float(max(0.0, beyond.max())) if beyond.size else 0.0


def widest_swing(y, start: int) -> float:
    """The largest distance |y| from the valley floor y = 0 from step ``start`` on (NaNs left out)."""
    y = np.abs(np.asarray(y, dtype=float)[start:])
    y = y[np.isfinite(y)]
    return float(y.max()) if y.size else float("nan")


def crossings(x, tol: float = CROSSING_TOL) -> int:
    """How often ``x`` (one coordinate along a run) goes from above ``tol`` to below ``-tol`` or back:
    crossings of 0 large enough to see (NaNs end the count)."""
    x = np.asarray(x, dtype=float)
    x = x[: np.flatnonzero(~np.isfinite(x))[0]] if not np.all(np.isfinite(x)) else x
    side = np.sign(x) * (np.abs(x) > tol)
    side = side[side != 0]
    return int(np.sum(side[1:] != side[:-1]))


def ahead_from(a, b) -> int:
    """The first step from which ``a`` stays below ``b`` to the end (two loss curves of the same
    length), or -1 if it is not below at the last step."""
    below = np.asarray(a, dtype=float) < np.asarray(b, dtype=float)
    if not below[-1]:
        return -1
    not_below = np.flatnonzero(~below)
    return int(not_below[-1] + 1) if not_below.size else 0


def largest_rise(loss) -> tuple[float, int]:
    """The largest factor by which ``loss`` climbs above its lowest value so far, and the step
    where it does (1.0 and 0 for a loss that never rises)."""
    loss = np.asarray(loss, dtype=float)
    lowest = np.minimum.accumulate(loss)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = loss[1:] / lowest[:-1]
    ratio = np.where(np.isfinite(ratio), ratio, 1.0)
    k = int(np.argmax(ratio))
    return (float(ratio[k]), k + 1) if ratio[k] > 1 else (1.0, 0)


def loss_bursts(loss, factor: float = 2.0) -> tuple[tuple[int, float], ...]:
    """The bursts of ``loss`` (J − J*, one value per point of the path): runs of steps where it is
    above ``factor`` times its lowest value before. Each as (its first step, its peak loss ÷ that
    lowest value)."""
    loss = np.asarray(loss, dtype=float)
    ratio = np.ones(len(loss))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio[1:] = loss[1:] / np.minimum.accumulate(loss)[:-1]
    above = np.isfinite(ratio) & (ratio > factor)
    edges = np.flatnonzero(np.diff(np.r_[0, above.astype(int), 0]))
    return tuple((int(a), float(ratio[a:b].max())) for a, b in zip(edges[::2], edges[1::2], strict=True))


def first_step(tr: optimizers.Trajectory) -> float:
    """The length of a run's first step in the weight it moved most."""
    return float(np.max(np.abs(tr.path[1] - tr.path[0])))


def largest_rate_fall(effective_lr, steps) -> tuple[float, int, int]:
    """The largest one-step fall of a per-weight rate at any of ``steps`` (each >= 2; those beyond
    the run are left out): (new rate ÷ old rate, the step that took the new rate, which weight: 0 for
    x, 1 for y). effective_lr[t - 1] is the rate of step t."""
    eff = np.asarray(effective_lr, dtype=float)
    t = np.array(sorted({int(k) for k in steps if 2 <= int(k) <= len(eff)}), dtype=int)
    if not t.size:
        return 1.0, 0, 0
    ratio = eff[t - 1] / eff[t - 2]
    k, w = np.unravel_index(int(np.argmin(ratio)), ratio.shape)
    return float(ratio[k, w]), int(t[k]), int(w)


def steps_rate_rose(effective_lr) -> int:
    """How many steps raised the rate of at least one weight (``effective_lr`` (steps, 2))."""
    eff = np.asarray(effective_lr, dtype=float)
    return int(np.sum(np.any(np.diff(eff, axis=0) > 0, axis=1)))


def nadam_mu(t, beta1: float, psi: float):
    """PyTorch NAdam's momentum schedule mu_t = beta1 (1 - 0.5 * 0.96^(t psi)) at step t."""
    return beta1 * (1 - 0.5 * 0.96 ** (np.asarray(t, dtype=float) * psi))


def distance_to_minimum(tr: optimizers.Trajectory, surface) -> float:
    """How far the run's last point is from the surface's first (global) minimum."""
    return float(np.linalg.norm(tr.path[-1] - np.asarray(surface.minima[0], dtype=float)))


# --- Learn 1: gradient descent ----------------------------------------------------------------------


def gd_verdict(tr: optimizers.Trajectory, surface, steps: int) -> tuple[str, str]:
    """Page 1's outcome of one GD run: a verdict and when."""
    out = optimizers.outcome(tr, surface, NEAR)
    if out.diverged_at >= 0:
        return "diverged", f"at step {int(out.diverged_at)}"
    start = float(optimizers.analysis.nearest_minimum(tr.path[0], surface)[1])
    if float(out.distance) > start:  # still inside the bounds the core checks, but flying off
        return "diverging", (f"{float(out.distance):.2g} from the minimum after {steps} steps "
                             f"(it started {start:.2g} away)")
    if out.reached_at >= 0:
        return "converged", f"within {NEAR:g} of the minimum from step {int(out.reached_at)}"
    return "not there yet", f"still more than {NEAR:g} away after {steps} steps"


# --- Learn 2: batches ---------------------------------------------------------------------------------


def batch_runs(run: Callable, n: int, size: int, steps: int, seed: int, colors: dict) -> list[dict]:
    """Page 2's three runs (batch, SGD, mini-batch of ``size``): key, label, batch size, colour, the
    run (``run(batch_size, steps, seed)``) and the samples read before each point."""
    kinds = (("batch", f"Batch (all {n})", None), ("sgd", "SGD (1 sample)", 1),
             ("mini", f"Mini-batch (B = {size})", size))
    return [{"key": key, "label": label, "batch_size": b, "color": colors[key],
             "trajectory": run(b, steps, seed), "samples": samples_seen(b, n, steps)}
            for key, label, b in kinds]


# --- Learn 4: momentum ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ravine:
    """Page 4's ravine read-outs for gradient descent and momentum (PyTorch form)."""

    swing: tuple[float, float]  # widest |y| from step swing_step on
    reached: tuple[int, int]  # within NEAR from step (-1: not within the run)
    distance: tuple[float, float]  # after the last step
    #: the first and last step of the first stretch of steps along the floor more than 1/(1 - beta)
    #: times as long as gradient descent's step from the same point at the same eta (steps count from 1)
    longer: tuple[int, int]
    beta: float


def ravine(gd: optimizers.Trajectory, mom: optimizers.Trajectory, surface, swing_step: int) -> Ravine:
    outs = [optimizers.outcome(t, surface, NEAR) for t in (gd, mom)]
    beta = float(mom.optimizer.hyper["beta"])
    # momentum's step along the floor over the step GD would take from the same point, same eta:
    # PyTorch's buffer over the gradient (in the average form, eta/(1 - beta) x v over eta x g)
    ratio = mom.state["velocity"][:, 0] / mom.grad[:, 0]
    longer = ratio > 1 / (1 - beta)
    first = int(np.argmax(longer))
    after = np.flatnonzero(~longer[first:])
    return Ravine(swing=tuple(widest_swing(t.path[:, 1], swing_step) for t in (gd, mom)),
                  reached=tuple(int(o.reached_at) for o in outs),
                  distance=tuple(float(o.distance) for o in outs),
                  longer=(first + 1, first + int(after[0]) if after.size else len(ratio)), beta=beta)


@dataclass(frozen=True)
class Swings:
    """Page 4's momentum run along the valley at one beta: overshoot past the minimum, crossings of it
    along x, and when it settles."""

    overshoot: float
    crossings: int
    reached: int


def swings(mom: optimizers.Trajectory, surface) -> Swings:
    return Swings(overshoot(mom.path, surface.minima[0]), crossings(mom.path[:, 0]),
                  int(optimizers.outcome(mom, surface, NEAR).reached_at))


def fastest(tr: optimizers.Trajectory, surface) -> tuple[float, int]:
    """The heavy-ball-optimal run: its widest swing across and the step from which it is within NEAR."""
    return widest_swing(tr.path[:, 1], 0), int(optimizers.outcome(tr, surface, NEAR).reached_at)


def largest_gap(a: optimizers.Trajectory, b: optimizers.Trajectory, lookahead: bool = False) -> float:
    """The largest distance between two runs' points (``lookahead``: b's look-ahead points against a's
    points before each step), for runs that take the same steps in two forms."""
    other = b.grad_point if lookahead else b.path
    return float(np.nanmax(np.abs(a.path[: len(other)] - other)))


def final_points(views, surface) -> list[tuple[float, bool]]:
    """Page 4's wells: each run's final loss and whether it ends in the deepest well."""
    outs = [optimizers.outcome(v.trajectory, surface, 0.05) for v in views]
    return [(float(o.final_loss), int(o.nearest) == 0) for o in outs]


# --- Learn 5: Nesterov -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Nesterov:
    """Page 5's read-outs for momentum and Nesterov (look-ahead form) at the same eta and beta."""

    crossings: tuple[int, int]  # crossings of the valley floor (y) above CROSSING_TOL
    deepest: tuple[float, float]  # the lowest y: how far past the floor the run swings
    reached: tuple[int, int]  # within NEAR of the minimum from step
    brake: int  # the first step whose look-ahead point lies past the floor while w_t does not


def nesterov(mom: optimizers.Trajectory, nag: optimizers.Trajectory, surface) -> Nesterov:
    y, look = nag.path[:-1, 1], nag.grad_point[:, 1]
    past = np.flatnonzero((np.sign(look) != np.sign(y)) & (np.abs(look) > CROSSING_TOL))
    return Nesterov(crossings=tuple(crossings(t.path[:, 1]) for t in (mom, nag)),
                    deepest=tuple(float(np.nanmin(t.path[:, 1])) for t in (mom, nag)),
                    reached=tuple(int(optimizers.outcome(t, surface, NEAR).reached_at) for t in (mom, nag)),
                    brake=int(past[0]) if past.size else -1)


# --- Learn 6 and 7: AdaGrad, RMSProp ---------------------------------------------------------------------


@dataclass(frozen=True)
class AdaGradBowl:
    """Page 6's bowl: distance left for GD and AdaGrad, AdaGrad's last rate for x over its rate for y."""

    distance: tuple[float, float]
    rate_ratio: float


def adagrad_bowl(gd: optimizers.Trajectory, ada: optimizers.Trajectory) -> AdaGradBowl:
    eff = ada.effective_lr[-1]
    return AdaGradBowl(tuple(float(np.linalg.norm(t.path[-1])) for t in (gd, ada)), float(eff[0] / eff[1]))


@dataclass(frozen=True)
class Fade:
    """Page 6's AdaGrad on Rosenbrock: first and last rate per weight, distance and loss gap left."""

    first: tuple[float, float]
    last: tuple[float, float]
    distance: float
    gap: float


def fade(tr: optimizers.Trajectory, surface) -> Fade:
    return Fade(tuple(map(float, tr.effective_lr[0])), tuple(map(float, tr.effective_lr[-1])),
                distance_to_minimum(tr, surface), float(tr.loss[-1] - surface.global_min))


def rates_rose(ada: optimizers.Trajectory, rms: optimizers.Trajectory) -> tuple[int, int, float]:
    """Page 7: steps where AdaGrad's and RMSProp's rate rose, and RMSProp's last rate over AdaGrad's
    (the smaller of the two weights' ratios)."""
    ratio = float(np.min(rms.effective_lr[-1] / ada.effective_lr[-1]))
    return steps_rate_rose(ada.effective_lr), steps_rate_rose(rms.effective_lr), ratio


# --- Learn 8: Adam, Nadam -------------------------------------------------------------------------------


def moved(tr: optimizers.Trajectory) -> float:
    """How far a run got from its start."""
    return float(np.linalg.norm(tr.path[-1] - tr.path[0]))


def adam_moments(adam: optimizers.Trajectory, shown: int, corrected: bool) -> dict:
    """Adam's gradient, first moment and root of the second moment for the first ``shown`` steps
    (bias-corrected or raw), per weight: {"g", "m", "root_v"} arrays (shown, 2)."""
    h = adam.optimizer.hyper
    m, v = adam.state["m"][:shown], adam.state["v"][:shown]
    if corrected:
        m, v = moments.bias_corrected(m, v, h["beta1"], h["beta2"])
    return {"g": adam.grad[:shown], "m": m, "root_v": np.sqrt(v)}


def adam_step_sizes(adam: optimizers.Trajectory) -> tuple[np.ndarray, np.ndarray]:
    """|step| per weight of Adam's real (bias-corrected) updates and of the uncorrected ones that m
    and v alone would give, from the same recorded averages."""
    h = adam.optimizer.hyper
    args = (adam.state["m"], adam.state["v"], adam.lr, h["beta1"], h["beta2"], h["eps"])
    return np.abs(moments.adam_updates(*args)), np.abs(moments.adam_updates(*args, corrected=False))


#: gradient sizes for page 8's first-step chart: from far below Adam's eps to far above 1
GRADIENT_SIZES = np.logspace(-10, 4, 57)


def first_steps(scales, hyper: dict) -> dict:
    """Adam's first step (corrected, uncorrected) and gradient descent's, for gradients of size ``scales``."""
    args = (hyper["lr"], hyper["beta1"], hyper["beta2"], hyper["eps"])
    scales = np.asarray(scales, dtype=float)
    return {"adam": moments.adam_first_step(scales, *args),
            "raw": moments.adam_first_step(scales, *args, corrected=False), "gd": hyper["lr"] * scales}


@dataclass(frozen=True)
class Race:
    """Page 8: from which step Nadam's loss stays below Adam's, each run's distance to the minimum and
    loss gap after the last step."""

    lead: int
    distance: tuple[float, float]
    gap: tuple[float, float]


def race(adam: optimizers.Trajectory, nadam: optimizers.Trajectory, surface) -> Race:
    runs = (adam, nadam)
    return Race(ahead_from(nadam.loss, adam.loss), tuple(distance_to_minimum(t, surface) for t in runs),
                tuple(float(t.loss[-1] - surface.global_min) for t in runs))
