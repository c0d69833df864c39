"""Running optimizers on problems: one run, or a batch of R runs in one call.

A problem is a 2-D Surface or anything with the same protocol in D dimensions (see
landscapes/surface.py): ``dim``, ``start``, ``scale``, ``f``, ``grad`` and, with a data
set, ``data.n`` and ``batch_grad``. A batch is any call where ``start`` is (R, D) or a
hyperparameter, noise level, seed or schedule setting is an array of R values. Row r of a
batch equals the single run with row r's settings exactly: the update rules are the same
code on floats and on arrays, and elementwise. A single run of a 2-D surface on a
deterministic gradient takes a plain-float fast path, since NumPy's per-call overhead
dominates on (2,) arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from types import SimpleNamespace

import numpy as np

from landscapes import Surface
from specs import SCALAR_MATH, Param

from .rounding import Rounding, compare, nudged
from .rules import RULES, Rule
from .schedules import PARAMS as SCHEDULE_PARAMS
from .schedules import Schedule

#: A run diverges once a coordinate leaves +-DIVERGENCE_FACTOR * problem.scale.
DIVERGENCE_FACTOR = 1e6
#: The settings of a run (the hyperparameters are the rule's, the schedule's are in schedules).
STEPS = Param("steps", 500, 0, 5000, "Steps", scale="integer",
              grid=(10, 20, 30, 50, 80, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1500, 2000, 3000, 5000),
              help="How many updates each run makes.")
NOISE = Param("noise", 0.0, 0.0, 10.0, "Gradient noise σ", scale="log",
              grid=(0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
              help="Standard deviation of Gaussian noise added to every gradient component.")
SEED = Param("seed", 0, 0, 2**31 - 1, "Random seed", scale="integer",
             help="Seeds the gradient noise and the order of mini-batches.")
BATCH = Param("batch", 0, 0, 100_000, "Batch size", scale="integer", grid=(1, 2, 4, 8, 16, 32, 64, 128),
              help="Samples per gradient on data-set problems (0 = all samples; 1 = SGD).")


@dataclass(frozen=True)
class Optimizer:
    """A rule with its hyperparameters (scalars or arrays of R values) and schedule."""

    rule: Rule
    hyper: dict
    schedule: Schedule = field(default_factory=Schedule)

    @property
    def name(self) -> str:
        return self.rule.name

    def describe(self, short: bool = False) -> str:
        """E.g. 'Adam (η=0.01, β₁=0.9, β₂=0.999, ε=1e-08)', in the course's symbols (the link keys
        and PyTorch's code say lr, beta1, ...); ``short`` keeps η, a momentum's or RMSProp's β and
        the settings that differ from the defaults."""
        defaults = self.rule.defaults()
        args = ", ".join(f"{self.rule.param(k).symbol or k}={_fmt(v)}" for k, v in self.hyper.items()
                         if not short or k in ("lr", "beta") or np.any(v != defaults[k]))
        sched = "" if self.schedule.kind == "constant" and not np.any(self.schedule.warmup) else (
            f"; {self.schedule.describe()}")
        return f"{(self.rule.short or self.rule.label) if short else self.rule.label} ({args}{sched})"

    def torch_code(self, params: str = "params") -> str:
        """The PyTorch lines that take the same steps (one run: scalar settings); ``params``: the
        code of the optimizer's first argument."""
        lines = [f"opt = {self.rule.torch_code(self.hyper, params)}"]
        lr = self.hyper["lr"]
        sched = self.schedule.torch(lr, self.rule.torch_args(SimpleNamespace(**self.hyper))["lr"] / lr)
        return "\n".join([*lines, sched] if sched else lines)


def _fmt(v) -> str:
    return f"{v:g}" if np.ndim(v) == 0 else f"[{len(v)} values]"


def names() -> list[str]:
    """Registered optimizer names, in menu order."""
    return list(RULES)


def rule(name: str) -> Rule:
    """The registered rule ``name`` (label, parameters, formula, code)."""
    try:
        return RULES[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(RULES)}") from None


def get(name: str, schedule: Schedule | str | None = None, form: str = "pytorch", **hyper) -> Optimizer:
    """The optimizer ``name`` with keyword hyperparameters; defaults fill the rest. ``form``: "pytorch",
    or "keras" for the rules whose Keras optimizer takes other steps (Rule.in_form)."""
    r = rule(name).in_form(form)
    known = {p.name: p for p in r.params}
    unknown = set(hyper) - set(known)
    if unknown:
        raise ValueError(f"{r.label} has no setting {', '.join(sorted(unknown))}; "
                         f"it takes {', '.join(known)}")
    values = {p.name: p.check(hyper.get(p.name, p.default)) for p in r.params}
    if isinstance(schedule, str):
        schedule = Schedule(schedule)
    return Optimizer(r, values, schedule or Schedule())


@dataclass(frozen=True)
class Trajectory:
    """What a run did. Shapes are for one run; a batch adds an R axis after the step axis.

    path (steps+1, D), loss (steps+1,), lr (steps,): position, value, learning rate.
    grad (steps, D): the gradient used by update t (noise included), taken at
    grad_point (steps, D) (the look-ahead point for look-ahead rules).
    state: each slot after update t, (steps, D). effective_lr (steps, D): the
    per-parameter learning rate, lr / (sqrt(v_hat) + eps) for adaptive rules (it multiplies
    the gradient, or Adam's bias-corrected m_hat; plain lr for the others).
    After a divergence at step d the path stays at path[d - 1]; loss[d:] and the recorded
    fields from update d on are NaN.
    Recorded fields are None when the run was made with ``record=False``. rounding (made with
    ``rounding=True``): whether one changed rounding moves the end, and from which step
    (optimizers.rounding).
    """

    optimizer: Optimizer
    path: np.ndarray
    loss: np.ndarray
    diverged_at: int | np.ndarray
    lr: np.ndarray
    grad: np.ndarray | None = field(default=None, repr=False)
    grad_point: np.ndarray | None = field(default=None, repr=False)
    state: dict = field(default_factory=dict, repr=False)
    effective_lr: np.ndarray | None = field(default=None, repr=False)
    rounding: Rounding | None = None

    @property
    def steps(self) -> int:
        return len(self.path) - 1

    @property
    def velocity(self) -> np.ndarray | None:
        """The rule's velocity-like state slot (momentum buffer, Adam's m), if it has one."""
        slot = self.optimizer.rule.velocity
        return self.state.get(slot) if slot else None

    @property
    def sensitive_from(self) -> int | None:
        """For a single run made with ``rounding=True``: the step from which one changed rounding
        moves its path (optimizers.rounding), or None when it does not move its end."""
        r = self.rounding
        return int(r.departs_at) if r is not None and r.sensitive else None


def run(
    opt: Optimizer,
    problem,
    start=None,
    steps: int = 500,
    *,
    noise=0.0,
    seed=0,
    batch_size: int | None = None,
    record: bool = True,
    rounding: bool = False,
) -> Trajectory:
    """Run ``opt`` on ``problem`` for ``steps`` updates from ``start`` (default problem.start).

    problem: a Surface, or any problem of D parameters (landscapes/surface.py says what it has).
    start: (D,) for one run, (R, D) for a batch.
    noise: standard deviation of Gaussian noise added to each gradient component.
    seed: seeds the noise and the mini-batch order (per row when an array).
    batch_size: for data-set problems, samples per gradient (None or 0 = all; 1 = SGD);
    mini-batches are drawn without replacement, reshuffled every epoch, and an
    epoch's last partial batch is dropped.
    rounding: also run each run from its start moved by one unit in the last place (one more row
    per run, not recorded) and say in ``Trajectory.rounding`` whether, and from which step, that
    changes the path by more than optimizers.rounding.TOL.
    """
    steps = int(STEPS.check(steps))
    D = problem.dim
    start = problem.start if start is None else np.asarray(start, dtype=float)
    if start.shape[-1:] != (D,) or start.ndim > 2:
        raise ValueError(f"start must have shape ({D},) or (R, {D}), got {start.shape}")
    if not np.all(np.isfinite(start)):
        raise ValueError("start must be finite")
    sched = opt.schedule
    settings = [start[..., 0], noise, seed, *opt.hyper.values(),
                *(getattr(sched, k) for k in SCHEDULE_PARAMS)]
    sizes = {np.size(v) for v in settings if np.ndim(v) > 0}
    if len(sizes) > 1:
        raise ValueError(f"batched settings disagree on the number of runs: {sorted(sizes)}")
    batched = bool(sizes)
    R = sizes.pop() if batched else 1

    h = SimpleNamespace(**opt.hyper)
    if opt.rule.derive:  # always through NumPy, so floats and arrays agree
        derived = opt.rule.derive(SimpleNamespace(**{k: np.asarray(v) for k, v in opt.hyper.items()}))
        h.__dict__.update({k: v if batched else float(v) for k, v in derived.items()})
    rates = sched.rates(opt.hyper["lr"], steps)  # (steps,) or (steps, R)

    batch_size = int(BATCH.check(batch_size or 0))
    data = getattr(problem, "data", None)
    if batch_size and data is None:
        raise ValueError(f"{problem.title} has no data: batch_size applies to data-set problems")
    minibatch = data is not None and 0 < batch_size < data.n
    z = np.asarray(noise, dtype=float)
    rngs = _generators(seed) if minibatch or np.any(z != 0) else []
    idx = _minibatches(rngs, data.n, batch_size, steps) if minibatch else None
    kicks = None
    if np.any(z != 0):
        kicks = z * np.stack([g.standard_normal((steps, D)) for g in rngs], -1)  # (steps, D, R|1)

    bound = DIVERGENCE_FACTOR * problem.scale
    columns = np.broadcast_to(start, (R, D)).T.astype(float)  # (D, R)
    with np.errstate(all="ignore"):
        rec = None
        if not batched and not minibatch and isinstance(problem, Surface):
            rec = _run_floats(opt.rule, problem, columns[:, 0], steps, h, rates, kicks, bound, record)
        if rec is None:
            rec = _run_arrays(opt.rule, problem, columns, steps, h, rates, kicks, idx, record)
        out = _finish(opt, problem, rec, steps, h, rates, bound, batched, record)
    return replace(out, rounding=check_rounding(out, problem, noise=noise, seed=seed, batch_size=batch_size)
                   ) if rounding else out


def check_rounding(tr: Trajectory, problem, *, noise=0.0, seed=0, batch_size: int | None = None) -> Rounding:
    """Whether one changed rounding moves ``tr``, a run (or batch) of ``problem`` with these noise,
    seed and batch settings: each run again from its start moved by one ulp (one more row per run,
    not recorded), compared (optimizers.rounding)."""
    other = run(tr.optimizer, problem, nudged(tr.path[0]), tr.steps, noise=noise, seed=seed,
                batch_size=batch_size, record=False)
    return compare(tr.path, other.path)


def _generators(seed):
    seeds = np.asarray(seed)
    if seeds.ndim == 0:
        return [np.random.default_rng(int(seeds))]
    return [np.random.default_rng(int(s)) for s in seeds]


def _minibatches(rngs, n: int, size: int, steps: int) -> np.ndarray:
    """Sample indices of each update: (steps, B), or (steps, R, B) for per-row seeds."""
    per_epoch = n // size
    epochs = -(-steps // per_epoch)
    order = [g.permuted(np.tile(np.arange(n), (epochs, 1)), axis=1)[:, : per_epoch * size]
             .reshape(epochs * per_epoch, size)[:steps] for g in rngs]
    return order[0] if len(order) == 1 else np.stack(order, 1)


def _run_arrays(rule: Rule, problem, P, steps, h, rates, kicks, idx, record):
    """The batch loop on (D, R) arrays: each coordinate's R values are a contiguous row, for the
    elementwise rules. Problems get C-contiguous (R, D) copies: NumPy lays out a ufunc's result
    in its input's memory order, so a transposed view would change the order of a problem's sums
    with R, and a batch row would no longer equal the single run bit for bit."""
    D, R = P.shape
    state = rule.start_state((D, R))
    path = np.empty((steps + 1, D, R))
    path[0] = P
    grads, points, states = [], [], []
    # a problem whose loss comes with its gradient (a network's forward pass) gives f along the
    # path for free when the gradient is taken at the path itself, on all the data
    value_and_grad = getattr(problem, "value_and_grad", None)
    loss = np.full((steps + 1, R), np.nan) if value_and_grad and idx is None and rule.grad_point is None \
        else None
    for t in range(steps):
        q = P if rule.grad_point is None else rule.grad_point(P, state, h)
        if loss is not None:
            loss[t], g = value_and_grad(np.ascontiguousarray(q.T))
            g = g.T
        else:
            g = _gradient(problem, q, None if idx is None else idx[t])
        if kicks is not None:
            g = g + kicks[t]
        u, state = rule.step(g, state, h, rates[t], np, P)
        P = P + u
        path[t + 1] = P
        if record:
            grads.append(g)
            points.append(q)
            states.append(state)
    return path, grads, points, states, loss


def _gradient(problem, q, idx):
    """The gradient at the columns ``q`` (D, R), as (D, R); ``idx``: this update's samples or None.
    A surface is written per coordinate, so it takes x = q[0] and y = q[1] as they are (no copy,
    and its result stays in the columns' layout, which the rules' elementwise math runs fastest on)."""
    if isinstance(problem, Surface):
        if idx is None:
            gx, gy = problem.gradient(q[0], q[1], np)
        else:
            gx, gy = problem.sample_gradient(q[0], q[1], np.asarray(idx), np)
        return np.stack(np.broadcast_arrays(gx, gy))
    w = np.ascontiguousarray(q.T)
    return (problem.grad(w) if idx is None else problem.batch_grad(w, idx)).T


def _run_floats(rule: Rule, surface: Surface, P, steps, h, rates, kicks, bound, record):
    """The single-run loop on plain floats, one coordinate at a time."""
    x, y = float(P[0]), float(P[1])
    sx = sy = rule.init
    lrs = rates.tolist()
    kx = ky = None
    if kicks is not None:
        kx, ky = kicks[:, 0, 0].tolist(), kicks[:, 1, 0].tolist()
    grad, step, point = surface.gradient, rule.step, rule.grad_point
    xy = [x, y]  # flat x0, y0, x1, y1, ...
    gs, qs, ss = [], [], []  # flat too: appending floats is the cheapest record
    try:
        for t in range(steps):
            qx, qy = (x, y) if point is None else (point(x, sx, h), point(y, sy, h))
            gx, gy = grad(qx, qy, SCALAR_MATH)
            if kx is not None:
                gx, gy = gx + kx[t], gy + ky[t]
            ux, sx = step(gx, sx, h, lrs[t], math, x)
            uy, sy = step(gy, sy, h, lrs[t], math, y)
            x, y = x + ux, y + uy
            xy.append(x)
            xy.append(y)
            if record:
                gs.append(gx)
                gs.append(gy)
                ss.extend(sx)
                ss.extend(sy)
                if point is not None:
                    qs.append(qx)
                    qs.append(qy)
            if not (-bound < x < bound and -bound < y < bound):
                break
    except (ArithmeticError, ValueError):
        # Python raises where NumPy returns inf/nan (x/0, overflow): redo this rare
        # run on arrays so it still equals the batch row exactly
        return None
    path = np.full((steps + 1, 2, 1), np.nan)
    done = len(xy) // 2
    path[:done, :, 0] = np.reshape(xy, (done, 2))
    n = len(gs) // 2
    grads = np.full((steps, 2, 1), np.nan)
    grads[:n, :, 0] = np.reshape(gs, (n, 2))
    points = path[:-1].copy() if point is None else np.full((steps, 2, 1), np.nan)
    if point is not None:
        points[:n, :, 0] = np.reshape(qs, (n, 2))
    states = np.full((steps, len(rule.slots), 2, 1), np.nan)
    states[:n, :, :, 0] = np.reshape(ss, (n, 2, len(rule.slots))).transpose(0, 2, 1)
    return path, grads, points, states, None


def _finish(opt, problem, rec, steps, h, rates, bound, batched, record):
    """Loss, divergence, recorded arrays; then the public (step, [R,] D) layout."""
    path, grads, points, states, known = rec
    _, D, R = path.shape
    loss, bad = _values(problem, path, bound, known)
    hit = bad.any(0)
    div = np.where(hit, bad.argmax(0), -1)
    gone = np.arange(steps + 1)[:, None] >= np.where(hit, div, steps + 1)  # (steps+1, R): from step d on
    if hit.any():  # a diverged run stays at path[d - 1] and has no value
        last = path[np.maximum(div - 1, 0), :, np.arange(R)]  # (R, D)
        np.copyto(path, last.T[None], where=gone[:, None, :])
        loss[gone] = np.nan
    rates = np.broadcast_to(rates if rates.ndim > 1 else rates[:, None], (steps, R))
    out = dict(
        optimizer=opt,
        path=np.moveaxis(path, 1, 2),
        loss=loss,
        diverged_at=div,
        lr=rates,
    )
    if record:
        slots = opt.rule.slots
        grads = np.asarray(grads).reshape(steps, D, R)
        points = np.asarray(points).reshape(steps, D, R)
        st = np.asarray(states).reshape(steps, len(slots), D, R) if slots else None
        state = {name: st[:, i] for i, name in enumerate(slots)}
        lr3 = rates[:, None, :]
        if opt.rule.effective_lr:
            t = np.arange(1, steps + 1, dtype=float)[:, None, None]
            eff = opt.rule.effective_lr(state, h, lr3, t, np) + np.zeros((steps, D, R))
        else:
            eff = np.broadcast_to(lr3, (steps, D, R)).copy()
        after = gone[:-1]  # (steps, R): the updates from d on
        for a in (grads, points, eff, *state.values()):
            a[np.broadcast_to(after[:, None, :], a.shape)] = np.nan
        out.update(
            grad=np.moveaxis(grads, 1, 2),
            grad_point=np.moveaxis(points, 1, 2),
            state={k: np.moveaxis(v, 1, 2) for k, v in state.items()},
            effective_lr=np.moveaxis(eff, 1, 2),
        )
    if not batched:
        out = {k: _single(v) for k, v in out.items()}
    return Trajectory(**out)


#: values per block when evaluating f along a batch's path (temporaries that fit in cache)
BLOCK = 1 << 16


def _values(problem, path, bound, known=None) -> tuple[np.ndarray, np.ndarray]:
    """f at every point of a (steps+1, D, R) path, and where a coordinate is out of +-bound
    or f is not finite, both (steps+1, R). ``known``: f at every point but the last, from the
    loop. A block of steps at a time: on a 10,000-run path whole-array temporaries are 40 MB
    each, and ten times slower."""
    n, D, R = path.shape
    loss = np.empty((n, R)) if known is None else known
    first = 0 if known is None else n - 1
    bad = np.empty((n, R), dtype=bool)
    block = max(1, BLOCK // (R * max(1, D // 2)))
    for i in range(0, n, block):
        p, f = path[i:i + block], loss[i:i + block]
        if i + len(p) > first:
            j = max(first - i, 0)
            q = p[j:]
            f[j:] = problem.value(q[:, 0], q[:, 1], np) if isinstance(problem, Surface) else \
                problem.f(np.ascontiguousarray(np.moveaxis(q, 1, 2)))
        bad[i:i + block] = ~(np.abs(p) < bound).all(1) | ~np.isfinite(f)
    return loss, bad


def _single(v):
    if isinstance(v, dict):
        return {k: _single(a) for k, a in v.items()}
    if isinstance(v, np.ndarray):
        return int(v[0]) if v.ndim == 1 and v.dtype.kind == "i" else np.take(v, 0, axis=1)
    return v
