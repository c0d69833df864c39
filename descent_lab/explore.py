"""Explore's batches: sweeps, fair comparisons, basins of attraction, noise clouds.

Each is one vectorized call of optimizers.run over a whole batch (a grid of settings, of
learning rates, of start points or of noise seeds); tests check every batch against single
runs. The Explore page only wires widgets to these and to viz.explore.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

import optimizers
from optimizers import NOISE
from optimizers.analysis import nearest_minimum
from specs import Param

from .networks import NetSetup
from .setup import run_spec

#: the learning rates the fair comparison tries: 1e-5 .. 10
FAIR_LRS = np.logspace(-5, 1, 40)
#: "near a minimum" in the fair comparison's table: the run ends within this distance of one
FAIR_TOL = 0.01
#: the learning rates basin maps choose from (tuned per surface by basin_lr): the lr grid's 1e-4..1
BASIN_LRS = tuple(v for v in optimizers.rule("gd").lr.grid if 1e-4 <= v <= 1)


def sweep_param(name: str, setting: str) -> Param:
    """The Param of a sweepable setting of optimizer ``name``: a hyperparameter, or "noise"."""
    if setting == NOISE.name:
        return NOISE
    return optimizers.rule(name).param(setting)


def sweep_settings(name: str) -> list[Param]:
    """What a sweep of optimizer ``name`` can put on an axis: its settings and the noise."""
    return [*optimizers.rule(name).params, NOISE]


def cell_hyper(name: str, xname: str, x: float, yname: str, y: float) -> tuple[dict, float]:
    """One cell's settings: (hyperparameters with defaults elsewhere, noise)."""
    hyper = optimizers.rule(name).defaults()
    noise = 0.0
    for k, v in ((xname, x), (yname, y)):
        if k == NOISE.name:
            noise = float(v)
        else:
            hyper[k] = float(v)
    return hyper, noise


def resolved(values) -> np.ndarray:
    """Sweep values rounded to the precision the map resolves: each to the decimal place one
    below its distance to the nearest neighbour (a 40-cell log axis keeps about 3 significant
    digits: 0.307, not 0.30702906297578497). Distinct values stay distinct and in order."""
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return v.copy()
    gaps = np.abs(np.diff(v))
    near = np.minimum(np.r_[np.inf, gaps], np.r_[gaps, np.inf])
    out = v.copy()
    for k, (x, d) in enumerate(zip(v, near, strict=True)):
        if d > 0 and np.isfinite(d):
            out[k] = round(float(x), 1 - math.floor(math.log10(d)))
    return out


def sweep_values(p: Param, lo: float, hi: float, n: int) -> np.ndarray:
    """The values of a sweep axis: ``n`` steps from lo to hi, evenly spaced on p's axis,
    rounded to what the map resolves (so a clicked cell's link shows round numbers and
    reproduces the cell exactly)."""
    return np.clip(resolved(p.sweep(lo, hi, n)), p.lo, p.hi)


@dataclass(frozen=True)
class Sweep:
    """A two-setting sweep; arrays are (ny, nx), cell (j, i) has x = xs[i], y = ys[j]."""

    xs: np.ndarray
    ys: np.ndarray
    final: np.ndarray  # (ny, nx, 2) end points
    loss: np.ndarray  # final f
    gap: np.ndarray  # final f - f*
    reached_at: np.ndarray | None  # None unless asked for (costly on surfaces with many minima)
    diverged_at: np.ndarray

    def best(self) -> tuple[int, int] | None:
        """(j, i) of the lowest final f - f* among the runs that did not diverge, or None."""
        ok = self.diverged_at < 0
        if not ok.any():
            return None
        j, i = np.unravel_index(np.argmin(np.where(ok, self.gap, np.inf)), self.gap.shape)
        return int(j), int(i)

    def fastest(self) -> tuple[int, int] | None:
        """(j, i) of the run that gets within tol of a minimum soonest (of ties, the lowest
        final f - f*), or None if none does (or reached_at was not asked for)."""
        if self.reached_at is None or not (self.reached_at >= 0).any():
            return None
        key = np.where(self.reached_at >= 0, self.reached_at, np.iinfo(np.int64).max).astype(float)
        key = key + np.where(np.isfinite(self.gap), np.arctan(self.gap) / np.pi + 0.5, 1.0) * 0.5
        j, i = np.unravel_index(np.argmin(key), key.shape)
        return int(j), int(i)


def sweep(surface, start, name: str, xname: str, xs, yname: str, ys, steps: int, tol: float | None) -> Sweep:
    """Run every cell of the xs x ys grid in one batched call (seed 0 for every cell).

    With ``tol``, reached_at is outcome()'s: the step each run gets within tol of a minimum for good.
    """
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    gx, gy = np.meshgrid(xs, ys)
    hyper, noise = optimizers.rule(name).defaults(), 0.0
    for k, v in ((xname, gx.ravel()), (yname, gy.ravel())):
        if k == NOISE.name:
            noise = v
        else:
            hyper[k] = v
    opt = optimizers.get(name, **hyper)
    tr = optimizers.run(opt, surface, start=start, steps=steps, noise=noise, seed=0, record=False)
    shape = gx.shape
    reached = None if tol is None else optimizers.outcome(tr, surface, tol).reached_at.reshape(shape)
    return Sweep(xs, ys, tr.path[-1].reshape(*shape, 2), tr.loss[-1].reshape(shape),
                 (tr.loss[-1] - surface.global_min).reshape(shape), reached,
                 np.asarray(tr.diverged_at).reshape(shape))


@dataclass(frozen=True)
class LrSweep:
    """One optimizer tried at every learning rate of ``lrs`` (other settings default)."""

    name: str
    lrs: np.ndarray
    gap: np.ndarray  # (n,) final f - f*
    diverged_at: np.ndarray  # (n,)
    loss: np.ndarray  # (steps+1, n)
    best: int | None  # index of the lowest final f - f* among the runs that did not diverge
    end_distance: np.ndarray  # (n,) from each run's end to the nearest known minimum (NaN: diverged)

    def not_diverged(self) -> int:
        """How many of the rates do not diverge."""
        return int((self.diverged_at < 0).sum())

    def near_a_minimum(self, tol: float | None = None) -> int:
        """How many of the rates end within ``tol`` (default FAIR_TOL) of a known minimum."""
        tol = FAIR_TOL if tol is None else tol
        with np.errstate(invalid="ignore"):
            return int(((self.diverged_at < 0) & (self.end_distance <= tol)).sum())


def best_index(gap, diverged_at) -> int | None:
    """argmin of ``gap`` over the runs that did not diverge and ended finite (None if there are none)."""
    g = np.where((np.asarray(diverged_at) < 0) & np.isfinite(gap), gap, np.inf)
    return int(np.argmin(g)) if np.isfinite(g).any() else None


def lr_sweep(surface, start, name: str, steps: int, lrs=FAIR_LRS) -> LrSweep:
    lrs = np.asarray(lrs, dtype=float)
    tr = optimizers.run(optimizers.get(name, lr=lrs), surface, start=start, steps=steps, record=False)
    gap = tr.loss[-1] - surface.global_min
    div = np.asarray(tr.diverged_at)
    _, dist = nearest_minimum(tr.path[-1], surface)
    return LrSweep(name, lrs, gap, div, tr.loss, best_index(gap, div), np.asarray(dist, dtype=float))


def grid_starts(surface, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """xs (n,), ys (n,) over the domain and the n*n starts, row j = ys[j]."""
    (x0, x1), (y0, y1) = surface.domain
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], -1)


def clicked_cell(point: dict, curve: int, nx: int, ny: int) -> tuple[int, int] | None:
    """The cell (row j, column i) of a sweep map that a click ``point`` (Plotly's selection event)
    chose on the map's trace of cells ``curve`` (cells row by row: point index j * nx + i), or None
    for a click elsewhere."""
    idx = point.get("point_index", point.get("pointIndex"))
    if idx is None or point.get("curve_number") not in (None, curve) or not 0 <= int(idx) < nx * ny:
        return None
    return divmod(int(idx), nx)


def clicked_start(point: dict, curve: int, xs, ys, stride: int) -> tuple[float, float] | None:
    """The start a click ``point`` chose on a basin map's grid of clickable starts ``curve`` (every
    ``stride``-th start both ways, row by row), rounded (rounded_start); None for a click elsewhere."""
    idx = point.get("point_index", point.get("pointIndex"))
    if idx is None or point.get("curve_number") != curve:
        return None
    jj, ii = divmod(int(idx), len(xs[::stride]))
    if not (0 <= ii * stride < len(xs) and 0 <= jj * stride < len(ys)):
        return None
    return rounded_start(xs, ys, ii * stride, jj * stride)


def rounded_start(xs, ys, i: int, j: int) -> tuple[float, float]:
    """The grid start (xs[i], ys[j]) of a basin map, rounded to the grid's resolution: one more
    decimal than the spacing between starts needs (a short number in a link, at most a tenth of a
    cell away from the start the map ran)."""
    spacing = min(float(np.ptp(xs)) / max(len(xs) - 1, 1), float(np.ptp(ys)) / max(len(ys) - 1, 1))
    digits = max(0, 1 - math.floor(math.log10(spacing))) if spacing > 0 else 3
    return round(float(xs[i]), digits), round(float(ys[j]), digits)


def run_ends(tr, surface, tol: float) -> np.ndarray:
    """Where each run of a batch ends: index of the known minimum it is within ``tol`` of,
    -2 if none (not converged), -1 if it diverged. (R,)."""
    index, dist = nearest_minimum(tr.path[-1], surface)
    with np.errstate(invalid="ignore"):
        labels = np.where(dist <= tol, index, -2)
    return np.where(np.asarray(tr.diverged_at) >= 0, -1, labels)


def basin_labels(surface, name: str, hyper: dict, n: int, steps: int, tol: float):
    """run_ends of the runs from each of n x n grid starts: xs, ys and labels (n, n)."""
    xs, ys, starts = grid_starts(surface, n)
    tr = optimizers.run(optimizers.get(name, **hyper), surface, start=starts, steps=steps, record=False)
    return xs, ys, run_ends(tr, surface, tol).reshape(n, n)


def basin_lr(surface, name: str, steps: int, tol: float, lrs=BASIN_LRS, n: int = 12) -> float:
    """The learning rate of ``lrs`` whose runs from an n x n grid of starts most often end
    within ``tol`` of a known minimum; of equally good ones, the middle one (the most robust).
    All len(lrs) * n * n runs are one batch."""
    lrs = np.asarray(lrs, dtype=float)
    _, _, starts = grid_starts(surface, n)
    tr = optimizers.run(optimizers.get(name, lr=np.repeat(lrs, len(starts))), surface,
                        start=np.tile(starts, (len(lrs), 1)), steps=steps, record=False)
    converged = (run_ends(tr, surface, tol) >= 0).reshape(len(lrs), len(starts)).sum(1)
    best = np.flatnonzero(converged == converged.max())
    return float(lrs[best[len(best) // 2]])


@dataclass(frozen=True)
class Cloud:
    """``runs`` noisy runs (seeds 0..runs-1) and the noise-free one."""

    path: np.ndarray  # (steps+1, runs, 2)
    loss: np.ndarray  # (steps+1, runs)
    clean_path: np.ndarray  # (steps+1, 2)
    clean_loss: np.ndarray  # (steps+1,)


def noise_cloud(surface, start, name: str, hyper: dict, steps: int, runs: int, noise: float,
                batch: int | None) -> Cloud:
    opt = optimizers.get(name, **hyper)
    tr = optimizers.run(opt, surface, start=start, steps=steps, noise=noise, seed=np.arange(runs),
                        batch_size=batch, record=False)
    clean = optimizers.run(opt, surface, start=start, steps=steps, record=False)
    return Cloud(tr.path, tr.loss, clean.path, clean.loss)


def sweep_range(p: Param) -> tuple[float, float]:
    """A sweep axis's default range for ``p``, on its sweep options: learning rates 100x either
    side of the default, betas 0 .. 0.999, noise 0.01 .. 10, anything else its whole range."""
    opts = np.array(p.sweep_options())
    if p.role == optimizers.LR_ROLE:
        lo, hi = p.default / 100, min(p.default * 100, p.hi)
    elif p.scale == "log1m":
        lo, hi = 0.0, 0.999
    elif p is NOISE:
        lo, hi = 0.01, 10.0
    else:
        lo, hi = opts[0], opts[-1]
    return float(opts[np.argmin(np.abs(opts - lo))]), float(opts[np.argmin(np.abs(opts - hi))])


# --- a learning-rate x beta sweep of a real network ---------------------------------------------------

#: the betas a network sweep tries (the optimizers' beta grid up to 0.995)
NET_BETAS = tuple(v for v in optimizers.rule("momentum").param("beta").grid if v <= 0.995)[:8]
NET_CELLS = 8  # learning rates (and betas) per axis
NET_STEPS = 200


def net_sweep_names() -> list[str]:
    """The optimizers a network sweep can map: those with a momentum-like beta."""
    return [n for n in optimizers.names() if optimizers.rule(n).net_lr_top and net_beta(n) is not None]


def net_beta(name: str) -> Param | None:
    """The beta a network sweep puts on its y axis: the optimizer's first beta (beta, beta1)."""
    return next((p for p in optimizers.rule(name).params if p.scale == "log1m"), None)


def net_lrs(name: str) -> np.ndarray:
    """NET_CELLS learning rates from the lr grid, the largest the entry's net_lr_top (the rates below
    it: the grid's next NET_CELLS - 1 values down; adaptive steps are about lr per weight)."""
    rule = optimizers.rule(name)
    grid = np.array(rule.lr.grid)
    top = int(np.argmin(np.abs(grid - rule.net_lr_top)))
    return grid[top - NET_CELLS + 1: top + 1].astype(float)


@dataclass(frozen=True, eq=False)
class NetSweep:
    """A learning-rate x beta sweep of one optimizer on a network; arrays (len(betas), len(lrs)),
    cell (j, i) has lr = lrs[i], beta = betas[j]."""

    setup: NetSetup  # what every cell shares: the network, its batch and steps
    name: str
    beta: str  # the beta's setting name
    lrs: np.ndarray
    betas: np.ndarray
    loss: np.ndarray  # final training loss (NaN: diverged)
    accuracy: np.ndarray  # final training accuracy (NaN: diverged)
    diverged_at: np.ndarray

    def best(self) -> tuple[int, int] | None:
        """(j, i) of the lowest final loss among the runs that did not diverge, or None."""
        i = best_index(self.loss.ravel(), self.diverged_at.ravel())
        return None if i is None else divmod(i, self.lrs.size)

    def cell(self, j: int, i: int) -> NetSetup:
        """The NetSetup of cell (j, i) alone: its link opens exactly that run on the Networks page."""
        spec = run_spec(self.name, lr=float(self.lrs[i]), **{self.beta: float(self.betas[j])})
        return replace(self.setup, runs=(spec,))


def net_sweep_setup(data: str = "moons") -> NetSetup:
    """The network a sweep trains: the Networks page's default one on ``data``, full batch,
    NET_STEPS steps."""
    return NetSetup(data=data, steps=NET_STEPS)


def net_sweep(setup: NetSetup, name: str, lrs=None, betas=NET_BETAS) -> NetSweep:
    """Every (beta, lr) cell of optimizer ``name`` (other settings default) on ``setup``'s network,
    from its start, with its batch and steps: one batched optimizers.run of all the cells (row
    j * len(lrs) + i is cell (j, i), equal to that cell's single run on the Networks page)."""
    beta = net_beta(name)
    if beta is None:
        raise ValueError(f"{name} has no beta to sweep")
    lrs = net_lrs(name) if lrs is None else np.asarray(lrs, dtype=float)
    betas = np.asarray(betas, dtype=float)
    net = setup.network()
    gl, gb = np.meshgrid(lrs, betas)
    hyper = {**optimizers.rule(name).defaults(), "lr": gl.ravel(), beta.name: gb.ravel()}
    tr = optimizers.run(optimizers.get(name, **hyper), net, start=np.tile(net.start, (gl.size, 1)),
                        steps=setup.steps, seed=setup.seed, batch_size=setup.batch or None, record=False)
    div = np.asarray(tr.diverged_at)
    with np.errstate(all="ignore"):
        loss = np.where(div < 0, tr.loss[-1], np.nan)
        acc = np.where(div < 0, net.accuracy(tr.path[-1]), np.nan)
    shape = gl.shape
    return NetSweep(setup, name, beta.name, lrs, betas, loss.reshape(shape), acc.reshape(shape),
                    div.reshape(shape))
