"""The measurements of Learn page 10, "Real networks": small MLPs trained for real, batched runs.

    from descent_lab import network_lessons as nl
    m = nl.minima()          # Adam and GD from many seeds: losses, plateaus, Hessian spectra, lines
    z = nl.noise()           # full batch, mini-batch and SGD for the same number of epochs
    s = nl.scaling()         # one input feature x100: GD and Adam over a learning-rate grid
    k = nl.sharp_flat()      # large and small batches: sharpness, flatness, test accuracy
    nl.networks_links(m)     # (label, link) pairs: the lesson's seed-0 runs on the Networks page

Each function returns a frozen dataclass with the numbers the page shows (the page formats
them and reads its verdicts from their properties; the tests check the claims on them),
computed once per setting: cached here, so all of a server's sessions, and the page and the
tests in one process, share one computation. Every network is ``lesson_net()``: a 2-16-16-1
tanh MLP on two moons (seeded), with a large separate test set so that test accuracies are
not quantized to a few percent."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

import landscapes
import optimizers
from landscapes import planes
from landscapes.datasets import Samples

from .learn import largest_rise
from .networks import NetSetup, link
from .setup import run_spec

#: the page's network: the core's default MLP on 200 training points, 1,000 test points
NET = dict(data="moons", hidden=(16, 16), activation="tanh", n=200, noise=0.2, seed=0, n_test=1000)
#: relative size under which a Hessian eigenvalue counts as zero (of the largest |eigenvalue|)
ZERO = 1e-6


def lesson_net(**changes) -> landscapes.Network:
    return landscapes.network(**{**NET, **changes})


def hessian(net, w) -> np.ndarray:
    """The full Hessian of the training loss at weights w (..., D): (..., D, D), from D exact
    Hessian-vector products (one batched call), symmetrized."""
    w = np.asarray(w, dtype=float)
    lead, D = w.shape[:-1], net.dim
    rows = np.repeat(w.reshape(-1, D), D, axis=0)
    eye = np.tile(np.eye(D), (rows.shape[0] // D, 1))
    h = net.hvp(rows, eye).reshape(*lead, D, D)
    return (h + np.swapaxes(h, -1, -2)) / 2


@dataclass(frozen=True)
class Spectrum:
    """Eigenvalues of the Hessian at one point (ascending) and what the page reads from them."""

    step: int
    loss: float
    eigenvalues: np.ndarray  # (D,)

    @property
    def top(self) -> float:
        return float(self.eigenvalues[-1])

    @property
    def bottom(self) -> float:
        return float(self.eigenvalues[0])

    @property
    def negative(self) -> int:
        """Directions of downward curvature (eigenvalues below -ZERO * the largest |eigenvalue|)."""
        scale = np.abs(self.eigenvalues).max()
        return int(np.sum(self.eigenvalues < -ZERO * scale))

    @property
    def down_over_up(self) -> float:
        """How strong the strongest downward curvature is against the strongest upward one."""
        return max(0.0, -self.bottom) / self.top


def spectrum(net, w, step: int = 0) -> Spectrum:
    return Spectrum(step, float(net.f(w)), np.linalg.eigvalsh(hessian(net, w)))


@dataclass(frozen=True, eq=False)
class Minima:
    """Runs from many seeds: where they end, the curvature there and between them."""

    seeds: np.ndarray  # (R,)
    lr: float
    steps: int
    loss: np.ndarray  # (steps + 1, R) training loss along each run
    train_acc: np.ndarray  # (R,) at the end
    test_acc: np.ndarray  # (R,)
    along: tuple[Spectrum, ...]  # seed 0's Hessian along its run (steps in ascending order)
    ends: tuple[Spectrum, ...]  # the Hessian at the end of the first few seeds
    alpha: np.ndarray  # (num,) interpolation coordinates: 0 = one end, 1 = the other
    between: np.ndarray  # (num,) loss on the line from seed 0's end to seed 1's end
    from_start: np.ndarray  # (num,) loss on the line from seed 0's start to its end
    agreement: float  # the fraction of test points seed 0's and seed 1's networks classify alike
    #: seed 0's and seed 1's predictions over the plane of inputs: xs (num,), ys (num,), P (2, num, num)
    boundary: tuple
    gd_lr: float
    gd_loss: np.ndarray  # (steps + 1, R) plain gradient descent from the same starts
    #: (R,) the gradient's norm at GD's starts and ends
    gd_grad_start: np.ndarray
    gd_grad_end: np.ndarray
    end_weights: np.ndarray = dataclasses.field(repr=False)  # (R, D) each run's last weights

    @property
    def same_function(self) -> bool:
        """Whether seed 0's and seed 1's networks classify at least 95 % of the test points alike."""
        return self.agreement >= 0.95

    @property
    def gd_plateau(self) -> bool:
        """Whether plain GD sits on one plateau: every seed within 10 % of one loss, above Adam's
        worst end, with a gradient under a tenth of its size at the start."""
        end = self.gd_loss[-1]
        return bool(np.ptp(end) < 0.1 * end.min() and end.min() > self.final.max()
                    and np.all(self.gd_grad_end < 0.1 * self.gd_grad_start))

    @property
    def gd_last_drop(self) -> np.ndarray:
        """(R,) how much GD's loss fell over its last 100 steps (or its whole run, if shorter)."""
        return self.gd_loss[max(0, self.steps - 100)] - self.gd_loss[-1]

    @property
    def adam_passes(self) -> int:
        """The first step at which Adam's seed 0 is below GD's lowest end (-1: never)."""
        below = np.flatnonzero(self.loss[:, 0] < self.gd_loss[-1].min())
        return int(below[0]) if below.size else -1

    @property
    def final(self) -> np.ndarray:
        return self.loss[-1]

    @property
    def start_loss(self) -> np.ndarray:
        return self.loss[0]

    @property
    def barrier(self) -> float:
        """The highest loss on the segment between the two ends, above the higher end."""
        inside = (self.alpha >= 0) & (self.alpha <= 1)
        return float(self.between[inside].max() - max(self.between[self.alpha == 0][0],
                                                      self.between[self.alpha == 1][0]))

    @property
    def end_losses(self) -> tuple[float, float]:
        """The loss at the two ends of the line between seed 0's and seed 1's solutions."""
        return float(self.between[self.alpha == 0][0]), float(self.between[self.alpha == 1][0])

    @property
    def stalled(self) -> bool:
        """Whether some run ended above half the lowest starting loss (stuck, not trained)."""
        return bool(self.final.max() > 0.5 * self.start_loss.min())

    @property
    def separated(self) -> bool:
        """Whether the line between the two solutions climbs more than 10 % above the worse one."""
        return self.barrier > 0.1 * max(self.end_losses)

    @property
    def monotone_from_start(self) -> bool:
        """Whether the loss falls all the way along the straight line from start to end."""
        inside = (self.alpha >= 0) & (self.alpha <= 1)
        return bool(np.all(np.diff(self.from_start[inside]) <= 0))


@lru_cache(maxsize=8)
def minima(seeds: int = 8, steps: int = 400, lr: float = 0.02, gd_lr: float = 0.5, hessians: int = 3,
           along=(0, 10, 30, 100)) -> Minima:
    """Adam from ``seeds`` random initializations (one batched run) and plain gradient descent from
    the same starts; full Hessians at the end of the first ``hessians`` Adam runs and at steps
    ``along`` (plus the end) of the first one."""
    net = lesson_net()
    ids = np.arange(seeds)
    tr = optimizers.run(optimizers.get("adam", lr=lr), net, start=net.init(ids), steps=steps, record=False)
    gd = optimizers.run(optimizers.get("gd", lr=gd_lr), net, start=net.init(ids), steps=steps, record=False)
    grad_norm = np.linalg.norm(net.grad(np.stack([gd.path[0], gd.path[-1]])), axis=-1)  # (2, R)
    end = tr.path[-1]
    marks = sorted({*(s for s in along if s < steps)})
    points = np.concatenate([tr.path[marks, 0], end[:hessians]])
    eig = np.linalg.eigvalsh(hessian(net, points))
    spec = [Spectrum(s, float(tr.loss[s, 0]), e) for s, e in zip(marks, eig[:len(marks)], strict=True)]
    ends = tuple(Spectrum(steps, float(tr.loss[-1, r]), eig[len(marks) + r]) for r in range(hessians))
    alpha, between = planes.interpolate(net, end[0], end[1], num=61, span=(-0.25, 1.25))
    _, from_start = planes.interpolate(net, tr.path[0, 0], end[0], num=61, span=(-0.25, 1.25))
    same = np.mean((net.logits(end[0], net.test.x) >= 0) == (net.logits(end[1], net.test.x) >= 0))
    return Minima(ids, lr, steps, tr.loss, net.accuracy(end), net.accuracy(end, net.test),
                  (*spec, ends[0]), ends, alpha, between, from_start, float(same), net.boundary(end[:2], 81),
                  gd_lr, gd.loss, grad_norm[0], grad_norm[1], end)


@dataclass(frozen=True, eq=False)
class NoiseRun:
    label: str
    batch: int  # samples per update
    loss: np.ndarray  # (updates + 1,) the loss on all training data after each update

    @property
    def updates(self) -> int:
        return self.loss.size - 1

    def epochs(self, n: int) -> np.ndarray:
        """The epoch (passes over the data) after each update."""
        return np.arange(self.loss.size) * self.batch / n

    @property
    def rises(self) -> float:
        """The fraction of updates after which the loss on all the data went up."""
        return float(np.mean(np.diff(self.loss) > 0))

    def wobble(self, n: int) -> float:
        """max - min of the loss over the last epoch's updates."""
        last = self.loss[-max(1, n // self.batch) - 1:]
        return float(last.max() - last.min())


@dataclass(frozen=True, eq=False)
class Noise:
    epochs: int
    lr: float
    n: int
    runs: tuple[NoiseRun, ...]  # full batch, mini-batch, SGD

    @property
    def best(self) -> NoiseRun:
        """The run with the lowest loss after the epochs."""
        return min(self.runs, key=lambda r: r.loss[-1])


@lru_cache(maxsize=8)
def noise(epochs: int = 10, lr: float = 0.5, batch: int = 20, seed: int = 0) -> Noise:
    """Gradient descent with one learning rate, fed full-batch, mini-batch and one-sample
    gradients, for the same number of epochs."""
    net = lesson_net()
    n = net.data.n
    gd = optimizers.get("gd", lr=lr)
    runs = []
    for label, b in (("full batch", n), (f"mini-batch (B = {batch})", batch), ("SGD (B = 1)", 1)):
        tr = optimizers.run(gd, net, steps=epochs * (n // b), batch_size=b if b < n else None, seed=seed,
                            record=False)
        runs.append(NoiseRun(label, b, tr.loss))
    return Noise(epochs, lr, n, tuple(runs))


def rescaled(net, factors) -> landscapes.Network:
    """``net`` with its input features multiplied by ``factors`` (2,), training and test data alike."""
    f = np.asarray(factors, dtype=float)
    return dataclasses.replace(net, data=Samples(net.data.x * f, net.data.y),
                               test=Samples(net.test.x * f, net.test.y))


#: the learning rates each optimizer is tried at, on both data sets
SCALING_LRS = (1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0)


@dataclass(frozen=True, eq=False)
class Scaling:
    factor: float
    steps: int
    lrs: np.ndarray  # (L,)
    #: final training loss per (optimizer, data) and lr: keys ("gd" | "adam", "plain" | "scaled")
    final: dict
    #: the loss curve (steps + 1,) at the best lr of each (optimizer, data)
    curves: dict
    #: mean |gradient| of the first layer's weights on feature 1 over those on feature 2, at the start
    grad_ratio: dict
    #: the fraction of first-layer tanh outputs beyond +-0.99 (saturated: slope < 0.02) over the
    #: training data at the start, per data set
    saturated: dict

    def best(self, opt: str, data: str) -> tuple[float, float]:
        """(best final loss, its learning rate); diverged runs (NaN) are left out."""
        f = self.final[opt, data]
        i = int(np.nanargmin(f))
        return float(f[i]), float(self.lrs[i])

    def runner_up(self, opt: str, data: str) -> tuple[float, float]:
        """(second-best final loss, its learning rate), diverged runs left out."""
        f = self.final[opt, data]
        i = np.argsort(np.where(np.isfinite(f), f, np.inf))[1]
        return float(f[i]), float(self.lrs[i])

    @property
    def adam_wins(self) -> bool:
        """Whether Adam's best run on the scaled data ends below GD's best there."""
        return self.best("adam", "scaled")[0] < self.best("gd", "scaled")[0]

    @property
    def adam_hurt(self) -> bool:
        """Whether the scaling costs Adam too (its best loss is higher than on the plain data)."""
        return self.best("adam", "scaled")[0] > self.best("adam", "plain")[0]


@lru_cache(maxsize=8)
def scaling(factor: float = 100.0, steps: int = 200, lrs=SCALING_LRS) -> Scaling:
    """GD and Adam at every learning rate of ``lrs`` (one batched call each) on the plain data and
    on the data with feature 1 multiplied by ``factor``."""
    plain = lesson_net()
    nets = {"plain": plain, "scaled": rescaled(plain, (factor, 1.0))}
    lrs = np.asarray(lrs, dtype=float)
    final, curves, ratio, saturated = {}, {}, {}, {}
    first = plain.layers[0]
    w1, b1 = plain.start[first.weight].reshape(first.out, first.inp), plain.start[first.bias]
    for data, net in nets.items():
        g = np.abs(net.grad(net.start)[first.weight].reshape(-1, 2)).mean(0)
        ratio[data] = float(g[0] / g[1])
        saturated[data] = float(np.mean(np.abs(np.tanh(net.data.x @ w1.T + b1)) > 0.99))
        for name in ("gd", "adam"):
            tr = optimizers.run(optimizers.get(name, lr=lrs), net, start=np.tile(net.start, (len(lrs), 1)),
                                steps=steps, record=False)
            end = np.where(tr.diverged_at < 0, tr.loss[-1], np.nan)
            final[name, data] = end
            curves[name, data] = tr.loss[:, int(np.nanargmin(end))]
    return Scaling(factor, steps, lrs, final, curves, ratio, saturated)


@dataclass(frozen=True)
class Spike:
    """The largest spike in plain GD's loss on the plain data at one learning rate, and the
    curvature around it: the Hessian's top eigenvalue where the rise began and where the loss is
    back below its lowest before the spike (GD is stable along a direction only while that
    eigenvalue is below 2 / η)."""

    lr: float
    rise: float  # the loss's largest climb over its lowest value so far (a factor)
    at: int  # the step where it peaks
    began: int  # the last step before the peak where the loss was at its lowest so far
    back: int  # the first step after the peak below that lowest value (-1: not within the run)
    sharpness: tuple[float, float]  # top Hessian eigenvalue at `began` and at `back` (NaN if never back)


@lru_cache(maxsize=8)
def gd_spike(lr: float, steps: int) -> Spike:
    """Plain GD at ``lr`` on the plain data (the badly-scaled lesson's GD run), its largest spike."""
    net = lesson_net()
    tr = optimizers.run(optimizers.get("gd", lr=lr), net, start=net.start, steps=steps)
    loss = tr.loss
    rise, at = largest_rise(loss)
    lowest = np.minimum.accumulate(loss)
    began = int(np.flatnonzero(loss[:at] <= lowest[:at])[-1])
    below = np.flatnonzero(loss[at:] < loss[began])
    back = int(below[0] + at) if below.size else -1

    def top(t: int) -> float:
        return float(np.linalg.eigvalsh(hessian(net, tr.path[t]))[-1]) if t >= 0 else float("nan")

    return Spike(lr, rise, at, began, back, (top(began), top(back)))


@dataclass(frozen=True, eq=False)
class SharpFlat:
    lr: float
    steps: int
    batches: tuple[int, int]  # (large, small) samples per update
    seeds: np.ndarray  # (R,)
    train_loss: dict  # batch -> (R,) at the end
    test_loss: dict
    test_acc: dict
    sharpness: dict  # batch -> (R,) the top Hessian eigenvalue at the end
    rise: dict  # batch -> (R,) mean loss increase at distance `radius` along filter-normalized directions
    radius: float
    alpha: np.ndarray  # (num,) coordinates along one filter-normalized direction
    profile: dict  # batch -> (num,) the loss of seed 0's end along that direction
    end_weights: dict = dataclasses.field(repr=False)  # batch -> (R, D)

    def mean(self, what: str, batch: int) -> float:
        return float(np.mean(getattr(self, what)[batch]))

    def spread(self, what: str) -> float:
        """The largest difference between two seeds of one batch size."""
        return float(max(np.ptp(v) for v in getattr(self, what).values()))

    @property
    def edge(self) -> float:
        """2 / lr: the largest curvature gradient descent with this learning rate is stable on."""
        return 2 / self.lr

    @property
    def flatter(self) -> bool:
        """Whether the small batches end flatter by both measures (mean over seeds)."""
        large, small = self.batches
        return (self.mean("sharpness", small) < self.mean("sharpness", large)
                and self.mean("rise", small) < self.mean("rise", large))

    @property
    def large_at_edge(self) -> bool:
        """Whether the full batch's mean sharpness is within 30 % of 2 / lr."""
        return abs(self.mean("sharpness", self.batches[0]) / self.edge - 1) < 0.3

    @property
    def small_generalizes_better(self) -> bool:
        """Whether the small batches' mean test accuracy beats the large ones' by more than half
        the spread between seeds."""
        large, small = self.batches
        gain = self.mean("test_acc", small) - self.mean("test_acc", large)
        return gain > 0.5 * self.spread("test_acc")


@lru_cache(maxsize=8)
def sharp_flat(small: int = 8, seeds: int = 4, steps: int = 1000, lr: float = 0.5, radius: float = 0.5,
               directions: int = 4) -> SharpFlat:
    """Gradient descent with one learning rate, full batch and mini-batches of ``small``, the same
    number of updates from the same ``seeds`` initializations (batched); then at each end the
    Hessian's top eigenvalue (power iteration), the loss increase at ``radius`` along
    ``directions`` filter-normalized random directions (Li et al. 2018), and the test set."""
    net = lesson_net()
    n = net.data.n
    ids = np.arange(seeds)
    gd = optimizers.get("gd", lr=lr)
    out = {k: {} for k in ("train_loss", "test_loss", "test_acc", "sharpness", "rise", "profile",
                           "end_weights")}
    alpha = np.linspace(-1.0, 1.0, 41)
    for b in (n, small):
        tr = optimizers.run(gd, net, start=net.init(ids), steps=steps, batch_size=b if b < n else None,
                            seed=ids, record=False)
        end = out["end_weights"][b] = tr.path[-1]
        out["train_loss"][b] = net.f(end)
        out["test_loss"][b] = net.loss(end, net.test)
        out["test_acc"][b] = net.accuracy(end, net.test)
        out["sharpness"][b] = net.sharpness(end, iters=60)
        rng = np.random.default_rng(0)
        dirs = np.stack([[planes.filter_normalized(net, w, rng) for _ in range(directions)] for w in end])
        moved = end[:, None] + radius * dirs  # (R, k, D)
        out["rise"][b] = (net.f(moved) - net.f(end)[:, None]).mean(1)
        out["profile"][b] = net.f(end[0] + alpha[:, None] * dirs[0, 0])
    return SharpFlat(lr, steps, (n, small), ids, radius=radius, alpha=alpha, **out)


# --- the lessons' runs on the Networks page -----------------------------------------------------------

#: what a lesson link's runs share with the lesson, and what not (the page's caption says so)
NETWORKS_NOTE = (f"The Networks page trains the same network on the same {NET['n']} training points from "
                 "seed 0's start (the same numbers of training loss), with its own, smaller test set "
                 f"({NET['n'] // 4} points, here {NET['n_test']:,}): its test numbers differ.")


def networks_setup(runs, steps: int, batch: int = 0, panel: str = "") -> NetSetup:
    """The Networks page on the lessons' network (seed 0: its data and its start) with ``runs``."""
    return NetSetup(data=NET["data"], n=NET["n"], noise=NET["noise"], seed=NET["seed"], hidden=NET["hidden"],
                    activation=NET["activation"], batch=batch, steps=steps, runs=tuple(runs), panel=panel)


def networks_links(lesson) -> tuple[tuple[str, str], ...]:
    """(label, link) pairs opening seed 0's runs of a lesson (a Minima, Noise or SharpFlat) on the
    Networks page: the same data, start, optimizer, steps and mini-batches (seed 0's)."""
    if isinstance(lesson, Minima):
        setups = (("Adam and GD from seed 0's start",
                   networks_setup((run_spec("adam", lr=lesson.lr), run_spec("gd", lr=lesson.gd_lr)),
                                  lesson.steps)),)
    elif isinstance(lesson, Noise):
        gd = (run_spec("gd", lr=lesson.lr),)
        setups = tuple((r.label, networks_setup(gd, r.updates, 0 if r.batch >= lesson.n else r.batch))
                       for r in lesson.runs)
    elif isinstance(lesson, SharpFlat):
        gd = (run_spec("gd", lr=lesson.lr),)
        large, small = lesson.batches
        setups = ((f"full batch ({large}), seed 0", networks_setup(gd, lesson.steps, 0, "sharpness")),
                  (f"batch {small}, seed 0", networks_setup(gd, lesson.steps, small, "sharpness")))
    else:
        raise TypeError(f"no Networks runs for {type(lesson).__name__}")
    return tuple((label, link(setup)) for label, setup in setups)
