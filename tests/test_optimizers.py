"""Tests of the pure-NumPy optimizers: update rules, batched runs, schedules, divergence."""

from __future__ import annotations

import dataclasses
import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscapes
import optimizers
from optimizers import Schedule
from optimizers.run import _minibatches


def _batch_grad(s, w, b, idx):
    """The problem's mini-batch gradient at (w, b) (arrays of one shape), as (gx, gy)."""
    g = s.batch_grad(np.stack(np.broadcast_arrays(w, b), -1), idx)
    return g[..., 0], g[..., 1]

NAMES = optimizers.names()
ADAPTIVE = ["adagrad", "rmsprop", "adam", "nadam"]
SLOW = settings(max_examples=3, deadline=None)
EPS = np.finfo(float).eps
TRAJ_ARRAYS = ("path", "loss", "lr", "grad", "grad_point", "effective_lr")


# --- helpers ------------------------------------------------------------------


def random_hyper(name, rng, size=None):
    """Random settings for every parameter of ``name``, inside its allowed range."""
    out = {}
    for p in optimizers.rule(name).params:
        if p.name == "lr":
            v = 10 ** rng.uniform(-5, 0, size)
        elif p.name == "eps":
            v = 10 ** rng.uniform(-12, -2, size)
        else:
            v = rng.uniform(p.lo, p.hi, size)
        out[p.name] = v if size is None else np.asarray(v)
    return out


def random_starts(s, rng, R):
    (x0, x1), (y0, y1) = s.domain
    return np.stack([rng.uniform(x0, x1, R), rng.uniform(y0, y1, R)], -1)


def row(v, r):
    return v[r] if np.ndim(v) > 0 else v


def assert_same_run(batch, r, single):
    """Row r of a batched Trajectory equals a single run, bit for bit."""
    assert int(batch.diverged_at[r]) == single.diverged_at
    for name in TRAJ_ARRAYS:
        b, a = getattr(batch, name), getattr(single, name)
        assert np.array_equal(b[:, r], a, equal_nan=True), (name, b[:, r], a)
    assert batch.state.keys() == single.state.keys()
    for k in single.state:
        assert np.array_equal(batch.state[k][:, r], single.state[k], equal_nan=True), k


def assert_rows_equal_singles(opt_name, surface, hyper, *, start, schedule=None, steps=40, **kw):
    """Run a batch, then each row alone with its scalar settings, and compare."""
    batch = optimizers.run(optimizers.get(opt_name, schedule=schedule, **hyper), surface, start, steps, **kw)
    R = batch.path.shape[1]
    assert batch.path.shape == (steps + 1, R, 2)
    for r in range(R):
        sched_r = None
        if schedule is not None:
            sched_r = Schedule(schedule.kind, **{
                k: row(getattr(schedule, k), r)
                for k in ("step_size", "gamma", "t_max", "eta_min", "warmup", "warmup_start")})
        opt_r = optimizers.get(opt_name, schedule=sched_r, **{k: row(v, r) for k, v in hyper.items()})
        kw_r = {k: row(v, r) for k, v in kw.items()}
        single = optimizers.run(opt_r, surface, None if start is None else row(start, r), steps, **kw_r)
        assert np.ndim(single.diverged_at) == 0
        assert_same_run(batch, r, single)
    return batch


def assert_clean_divergence(tr):
    """After divergence at d: path frozen at path[d - 1] and finite, loss NaN from d on."""
    d = int(tr.diverged_at)
    assert d >= 1
    assert np.all(np.isfinite(tr.path))
    assert np.all(tr.path[d:] == tr.path[d - 1])
    assert np.all(np.isnan(tr.loss[d:]))
    assert np.all(np.isfinite(tr.loss[:d]))
    assert np.all(np.isfinite(tr.grad[: d - 1]))
    assert np.all(np.isnan(tr.grad[d:]))


# --- zero gradient ------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("surface", "point"), [("elongated_bowl", (0.0, 0.0)), ("rosenbrock", (1.0, 1.0)),
                                                ("booth", (1.0, 3.0))])
def test_zero_gradient_no_move_defaults(name, surface, point):
    """At a zero gradient nothing moves, except what weight decay pulls towards the origin."""
    s = landscapes.get(surface)
    assert np.array_equal(s.grad(point), [0.0, 0.0])
    decay = optimizers.rule(name).defaults().get("weight_decay", 0.0)
    tr = optimizers.run(optimizers.get(name, **({"weight_decay": 0.0} if decay else {})), s, point, 50)
    assert tr.diverged_at == -1
    assert np.array_equal(tr.path, np.broadcast_to(point, (51, 2)))
    assert np.all(tr.loss == 0)
    if decay and any(point):
        first = optimizers.run(optimizers.get(name), s, point, 1).path[1]
        np.testing.assert_allclose(first, np.multiply(point, 1 - 0.01 * decay), rtol=1e-15)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_zero_gradient_no_move_any_settings(name, data):
    """Any allowed hyperparameters (the eps range includes its lower bound) keep a zero-gradient point."""
    hyper = {p.name: data.draw(st.floats(p.lo, p.hi), label=p.name) for p in optimizers.rule(name).params}
    s = landscapes.get("elongated_bowl")
    tr = optimizers.run(optimizers.get(name, **hyper), s, (0.0, 0.0), 20)
    assert tr.diverged_at == -1
    assert np.array_equal(tr.path, np.zeros((21, 2)))


# --- GD on the quadratic bowl ----------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(condition=st.floats(1, 1000), c=st.floats(0.05, 1.95))
def test_gd_converges_below_two_over_L(condition, c):
    s = landscapes.get("elongated_bowl", condition=condition)
    lr = c / condition  # L = condition
    steps = 300
    tr = optimizers.run(optimizers.get("gd", lr=lr), s, steps=steps)
    assert tr.diverged_at == -1
    # on f = (x^2 + k y^2) / 2, GD is x_t = (1 - lr)^t x_0, y_t = (1 - lr k)^t y_0
    t = np.arange(steps + 1)
    x0, y0 = s.start
    expect = np.stack([x0 * (1 - lr) ** t, y0 * (1 - lr * condition) ** t], -1)
    assert np.allclose(tr.path, expect, rtol=1e-9, atol=1e-14)
    # the loss never rises and ends far below where it started
    assert np.all(np.diff(tr.loss) <= 1e-15)
    assert tr.loss[-1] < 0.99 * tr.loss[0]


@settings(max_examples=30, deadline=None)
@given(condition=st.floats(1, 1000), c=st.floats(2.05, 3.0))
def test_gd_diverges_above_two_over_L(condition, c):
    s = landscapes.get("elongated_bowl", condition=condition)
    lr = c / condition
    tr = optimizers.run(optimizers.get("gd", lr=lr), s, steps=60)
    # the steep coordinate grows by |1 - c| >= 1.05 each step (until divergence freezes the path)
    end = tr.diverged_at if tr.diverged_at >= 0 else 61
    y = np.abs(tr.path[:end, 1])
    assert np.all(y[1:] > y[:-1])
    assert np.linalg.norm(tr.path[-1]) > np.linalg.norm(tr.path[0])
    # with enough steps it leaves DIVERGENCE_FACTOR * scale
    long = optimizers.run(optimizers.get("gd", lr=lr), s, steps=1500)
    d = long.diverged_at
    assert d >= 0
    bound = optimizers.DIVERGENCE_FACTOR * s.scale
    first = min(math.ceil(math.log(bound / abs(x0)) / math.log(grow))
                for x0, grow in zip(s.start, (abs(1 - lr), abs(1 - c)), strict=True) if grow > 1)
    assert abs(d - first) <= 1
    assert_clean_divergence(long)


# --- first steps ---------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), surface=st.sampled_from(["rosenbrock", "goldstein_price", "wells"]))
def test_first_steps(seed, surface):
    rng = np.random.default_rng(seed)
    s = landscapes.get(surface)
    start = random_starts(s, rng, 1)[0]
    g = s.grad(start)
    assert np.all(g != 0)
    # no first step may leave the divergence bound (then the path stays put)
    lr = min(10 ** rng.uniform(-5, 0), 0.1 * optimizers.DIVERGENCE_FACTOR * s.scale / (2 * np.abs(g).max()))
    beta, beta1, beta2 = rng.uniform(0, 0.9999, 3)
    eps = 10 ** rng.uniform(-12, -6)

    def step(name, **hyper):
        tr = optimizers.run(optimizers.get(name, lr=lr, **hyper), s, start, 1)
        assert np.array_equal(tr.grad[0], g)
        return tr.path[1] - tr.path[0]

    def close(got, want, rtol):
        # path[1] - path[0] loses about eps * |start| to cancellation
        return np.all(np.abs(got - want) <= rtol * np.abs(want) + 4 * EPS * np.abs(start))

    # Adam: m_hat = g, v_hat = g^2, so the step is lr * g / (|g| + eps): lr * sign(g) up to eps
    adam = step("adam", beta1=beta1, beta2=beta2, eps=eps)
    assert close(adam, -lr * np.sign(g), 1e-9 + eps / np.abs(g).min())
    assert close(adam, -lr * g / (np.abs(g) + eps), 1e-9)
    # AdaGrad: G = g^2, the same first step as Adam
    assert close(step("adagrad", eps=eps), -lr * g / (np.abs(g) + eps), 1e-12)
    # RMSProp: v = (1 - beta) g^2, step lr g / (sqrt(1 - beta) |g| + eps)
    rms = step("rmsprop", beta=beta, eps=eps)
    assert close(rms, -lr * g / (np.sqrt(1 - beta) * np.abs(g) + eps), 1e-9)
    # momentum's buffer starts at g: its first step is GD's, exactly
    gd = step("gd")
    assert np.array_equal(gd, (start - lr * g) - start)
    assert np.array_equal(step("momentum", beta=beta), gd)
    assert close(step("nesterov", beta=beta), -lr * (1 + beta) * g, 1e-12)
    assert close(step("momentum_ewma", beta=beta), -lr * (1 - beta) * g, 1e-9)
    assert np.array_equal(step("nesterov_lookahead", beta=beta), gd)


# --- reference implementations (PyTorch's published algorithms) --------------------


def reference_step(name, g, prev, t, h):
    """One update t = 1, 2, ... as the torch.optim documentation writes it.

    ``prev`` holds the previous buffers (momentum / m, and v); returns the
    parameter change and the new buffers.
    """
    m, v = prev
    lr = h["lr"]
    if name == "gd":
        return -lr * g, (m, v)
    if name in ("momentum", "nesterov"):
        m = h["beta"] * m + g if t > 1 else g
        return -lr * (g + h["beta"] * m if name == "nesterov" else m), (m, v)
    if name == "adagrad":
        v = v + g * g
        return -lr * g / (np.sqrt(v) + h["eps"]), (m, v)
    if name == "rmsprop":
        v = h["beta"] * v + (1 - h["beta"]) * (g * g)
        return -lr * g / (np.sqrt(v) + h["eps"]), (m, v)
    m = h["beta1"] * m + (1 - h["beta1"]) * g
    v = h["beta2"] * v + (1 - h["beta2"]) * (g * g)
    denom = np.sqrt(v / (1 - h["beta2"] ** t)) + h["eps"]
    if name == "adam":
        return -lr * (m / (1 - h["beta1"] ** t)) / denom, (m, v)
    # nadam: mu_t = beta1 (1 - 0.5 * 0.96^(t psi))
    mu = [h["beta1"] * (1 - 0.5 * 0.96 ** (i * h["momentum_decay"])) for i in range(1, t + 2)]
    prod_t, prod_next = math.prod(mu[:-1]), math.prod(mu)
    m_hat = mu[-1] * m / (1 - prod_next) + (1 - mu[-2]) * g / (1 - prod_t)
    return -lr * m_hat / denom, (m, v)


REFERENCE_SLOTS = {"gd": (None, None), "momentum": ("velocity", None), "nesterov": ("velocity", None),
                   "adagrad": (None, "sum_sq"), "rmsprop": (None, "mean_sq"), "adam": ("m", "v"),
                   "nadam": ("m", "v")}


@pytest.mark.parametrize("name", list(REFERENCE_SLOTS))
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), surface=st.sampled_from(["booth", "himmelblau", "wells"]))
def test_matches_reference_algorithm(name, seed, surface):
    """Every update of a run is PyTorch's update from the recorded buffers and gradient."""
    rng = np.random.default_rng(seed)
    s = landscapes.get(surface)
    hyper = random_hyper(name, rng)
    hyper["lr"] = 10 ** rng.uniform(-4, -2)
    start = random_starts(s, rng, 1)[0]
    steps = 100
    tr = optimizers.run(optimizers.get(name, **hyper), s, start, steps)
    assert tr.diverged_at == -1
    slot_m, slot_v = REFERENCE_SLOTS[name]
    m = v = np.zeros(2)
    for t in range(1, steps + 1):
        g = tr.grad[t - 1]
        assert np.allclose(g, s.grad(tr.path[t - 1]), rtol=1e-12, atol=1e-13)
        want, (m_new, v_new) = reference_step(name, g, (m, v), t, hyper)
        got = tr.path[t] - tr.path[t - 1]
        tol = 1e-9 * np.abs(want) + 4 * EPS * np.abs(tr.path[t - 1])
        assert np.all(np.abs(got - want) <= tol), (t, got, want)
        if slot_m:
            assert np.allclose(tr.state[slot_m][t - 1], m_new, rtol=1e-12, atol=1e-300)
            m = tr.state[slot_m][t - 1]
        if slot_v:
            assert np.allclose(tr.state[slot_v][t - 1], v_new, rtol=1e-12, atol=1e-300)
            v = tr.state[slot_v][t - 1]
    # and over the whole run, the reference from the same start stays close for a while
    w = np.array(start)
    m = v = np.zeros(2)
    for t in range(1, 11):
        u, (m, v) = reference_step(name, s.grad(w), (m, v), t, hyper)
        w = w + u
        assert np.allclose(w, tr.path[t], rtol=1e-10, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_documented_equivalences(seed):
    rng = np.random.default_rng(seed)
    s = landscapes.get("rosenbrock")
    start = random_starts(s, rng, 1)[0]
    lr, beta = 10 ** rng.uniform(-4.5, -3.5), rng.uniform(0, 0.9)  # lr * (1 - beta) >= 1e-6
    # EWMA momentum = PyTorch momentum with lr * (1 - beta)
    ewma = optimizers.run(optimizers.get("momentum_ewma", lr=lr, beta=beta), s, start, 200)
    torch_form = optimizers.run(optimizers.get("momentum", lr=lr * (1 - beta), beta=beta), s, start, 200)
    assert np.allclose(ewma.path, torch_form.path, rtol=1e-9, atol=1e-12)
    # the look-ahead form's gradient points are PyTorch's NAG iterates
    look = optimizers.run(optimizers.get("nesterov_lookahead", lr=lr, beta=beta), s, start, 200)
    nag = optimizers.run(optimizers.get("nesterov", lr=lr, beta=beta), s, start, 200)
    assert np.allclose(look.grad_point, nag.path[:-1], rtol=1e-9, atol=1e-12)
    assert np.allclose(look.grad, nag.grad, rtol=1e-7, atol=1e-9)
    # look-ahead point = w + beta * v_{t-1}
    v_prev = np.concatenate([np.zeros((1, 2)), look.state["velocity"][:-1]])
    assert np.allclose(look.grad_point, look.path[:-1] + beta * v_prev, rtol=1e-12, atol=1e-15)


# --- recorded fields -------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_recorded_fields_are_consistent(name):
    s = landscapes.get("himmelblau")
    opt = optimizers.get(name, schedule=Schedule("exponential", gamma=0.99))
    tr = optimizers.run(opt, s, steps=80)
    assert tr.diverged_at == -1
    assert np.allclose(tr.grad, s.grad(tr.grad_point), rtol=1e-12, atol=1e-12)
    if optimizers.rule(name).grad_point is None:
        assert np.array_equal(tr.grad_point, tr.path[:-1])
    assert np.allclose(tr.loss, s.f(tr.path), rtol=1e-15, atol=0)
    step = np.diff(tr.path, axis=0)
    if name == "gd":
        assert np.allclose(step, -tr.effective_lr * tr.grad, rtol=1e-12, atol=1e-15)
    if name in ("adagrad", "rmsprop"):  # effective_lr is the per-parameter step size
        assert np.allclose(step, -tr.effective_lr * tr.grad, rtol=1e-9, atol=1e-15)
    if name == "adam":  # lr_t / (sqrt(v_hat) + eps) multiplies m_hat = m / (1 - beta1^t)
        t = np.arange(1, 81)[:, None]
        m_hat = tr.state["m"] / (1 - 0.9**t)
        assert np.allclose(step, -tr.effective_lr * m_hat, rtol=1e-9, atol=1e-15)
    if optimizers.rule(name).effective_lr is None:
        assert np.array_equal(tr.effective_lr, np.stack([tr.lr, tr.lr], -1))
    vel = optimizers.rule(name).velocity
    assert (tr.velocity is None) == (vel is None)
    if vel:
        assert tr.velocity is tr.state[vel]


@pytest.mark.parametrize("name", NAMES)
def test_trajectory_shapes(name):
    s = landscapes.get("beale")
    slots = optimizers.rule(name).slots
    single = optimizers.run(optimizers.get(name), s, steps=30)
    assert single.steps == 30
    assert single.path.shape == (31, 2) and single.loss.shape == (31,)
    assert single.lr.shape == (30,)
    assert single.grad.shape == single.grad_point.shape == single.effective_lr.shape == (30, 2)
    assert isinstance(single.diverged_at, int)
    assert tuple(single.state) == slots
    assert all(v.shape == (30, 2) for v in single.state.values())
    R = 3
    batch = optimizers.run(optimizers.get(name), s, np.tile(s.start, (R, 1)), 30)
    assert batch.steps == 30
    assert batch.path.shape == (31, R, 2) and batch.loss.shape == (31, R)
    assert batch.lr.shape == (30, R)
    assert batch.grad.shape == batch.grad_point.shape == batch.effective_lr.shape == (30, R, 2)
    assert batch.diverged_at.shape == (R,)
    assert tuple(batch.state) == slots
    assert all(v.shape == (30, R, 2) for v in batch.state.values())
    for r in range(R):
        assert_same_run(batch, r, single)
    bare = optimizers.run(optimizers.get(name), s, steps=30, record=False)
    assert bare.grad is None and bare.grad_point is None and bare.effective_lr is None and bare.state == {}
    assert np.array_equal(bare.path, single.path) and np.array_equal(bare.loss, single.loss)


@pytest.mark.parametrize("name", ["gd", "adam"])
def test_zero_steps(name):
    """steps=0 is accepted by run()'s check; the trajectory is just the start."""
    s = landscapes.get("booth")
    tr = optimizers.run(optimizers.get(name), s, steps=0)
    assert tr.steps == 0 and tr.diverged_at == -1
    assert np.array_equal(tr.path, s.start[None]) and tr.loss.shape == (1,) and tr.lr.shape == (0,)
    batch = optimizers.run(optimizers.get(name), s, np.zeros((3, 2)), 0)
    assert batch.path.shape == (1, 3, 2) and batch.grad.shape == (0, 3, 2)


def test_adagrad_rate_only_falls_rmsprop_can_rise():
    s = landscapes.get("elongated_bowl")
    for start in [s.start, (0.3, -2.0), (2.9, 0.01)]:
        ada = optimizers.run(optimizers.get("adagrad", lr=0.5), s, start, 400)
        assert np.all(np.diff(ada.effective_lr, axis=0) <= 0)
        assert np.all(np.diff(ada.state["sum_sq"], axis=0) >= 0)
    rng = np.random.default_rng(5)
    for name in ("rosenbrock", "rastrigin", "wells"):
        surf = landscapes.get(name)
        tr = optimizers.run(optimizers.get("adagrad"), surf, random_starts(surf, rng, 20), 300, noise=0.5)
        assert np.all(np.diff(tr.effective_lr, axis=0) <= 0)
    rms = optimizers.run(optimizers.get("rmsprop", lr=0.05), s, steps=400)
    assert rms.diverged_at == -1
    assert np.any(np.diff(rms.effective_lr, axis=0) > 0)


# --- batch == single --------------------------------------------------------------

BATCH_SURFACES = ["rosenbrock", "wells", "rastrigin", "regression"]


@pytest.mark.parametrize("surface", BATCH_SURFACES)
@pytest.mark.parametrize("name", NAMES)
@SLOW
@given(seed=st.integers(0, 2**32 - 1))
def test_batch_of_starts(name, surface, seed):
    rng = np.random.default_rng(seed)
    s = landscapes.get(surface)
    assert_rows_equal_singles(name, s, {}, start=random_starts(s, rng, 4))


@pytest.mark.parametrize("surface", BATCH_SURFACES)
@pytest.mark.parametrize("name", NAMES)
@SLOW
@given(seed=st.integers(0, 2**32 - 1))
def test_batch_of_hyperparameters(name, surface, seed):
    rng = np.random.default_rng(seed)
    s = landscapes.get(surface)
    assert_rows_equal_singles(name, s, random_hyper(name, rng, 5), start=None)


@pytest.mark.parametrize("surface", BATCH_SURFACES)
@pytest.mark.parametrize("name", NAMES)
@SLOW
@given(seed=st.integers(0, 2**32 - 1), per_row_noise=st.booleans())
def test_batch_of_noise_seeds(name, surface, seed, per_row_noise):
    rng = np.random.default_rng(seed)
    s = landscapes.get(surface)
    R = 4
    noise = rng.uniform(0, 2, R) if per_row_noise else 0.7
    seeds = rng.integers(0, 2**31, R)
    assert_rows_equal_singles(name, s, random_hyper(name, rng, R), start=random_starts(s, rng, R),
                              noise=noise, seed=seeds)


@pytest.mark.parametrize("batch_size", [1, 7])
@pytest.mark.parametrize("name", NAMES)
@SLOW
@given(seed=st.integers(0, 2**32 - 1))
def test_batch_of_minibatch_runs(name, batch_size, seed):
    rng = np.random.default_rng(seed)
    s = landscapes.get("regression", n=int(rng.integers(10, 60)), data_seed=int(rng.integers(0, 100)))
    R = 4
    seeds = rng.integers(0, 2**31, R)
    # per-row seeds (each row its own batch order), with per-row starts and settings
    assert_rows_equal_singles(name, s, random_hyper(name, rng, R), start=random_starts(s, rng, R),
                              seed=seeds, batch_size=batch_size)
    # one seed shared by all rows, noise on top
    assert_rows_equal_singles(name, s, {}, start=random_starts(s, rng, R), seed=int(seeds[0]),
                              batch_size=batch_size, noise=0.3)


@pytest.mark.parametrize("kind", optimizers.SCHEDULES)
@pytest.mark.parametrize("name", NAMES)
@SLOW
@given(seed=st.integers(0, 2**32 - 1))
def test_batch_of_schedules(name, kind, seed):
    rng = np.random.default_rng(seed)
    R = 4
    sched = Schedule(kind, step_size=rng.integers(1, 30, R), gamma=rng.uniform(0.5, 1.0, R),
                     t_max=rng.integers(0, 80, R), eta_min=rng.uniform(0, 1e-4, R),
                     warmup=rng.integers(0, 20, R), warmup_start=rng.uniform(0.01, 1, R))
    for surface in ("rosenbrock", "rastrigin"):
        s = landscapes.get(surface)
        batch = assert_rows_equal_singles(name, s, {}, start=None, schedule=sched)
        assert np.array_equal(batch.lr, sched.rates(optimizers.rule(name).defaults()["lr"], 40))


def test_batch_settings_must_agree():
    s = landscapes.get("rosenbrock")
    with pytest.raises(ValueError, match="disagree"):
        optimizers.run(optimizers.get("gd", lr=np.array([0.1, 0.2])), s, np.zeros((3, 2)), 5)
    with pytest.raises(ValueError, match="start must have shape"):
        optimizers.run(optimizers.get("gd"), s, np.zeros((2, 3, 2)), 5)
    with pytest.raises(ValueError, match="no data"):
        optimizers.run(optimizers.get("gd"), s, steps=5, batch_size=4)
    with pytest.raises(ValueError, match="must be a number from 0"):
        optimizers.run(optimizers.get("gd"), landscapes.get("regression"), steps=5, batch_size=-1)
    reg = landscapes.get("regression")  # batch size 0 means all samples, as in links
    assert np.array_equal(optimizers.run(optimizers.get("gd"), reg, steps=5, batch_size=0).path,
                          optimizers.run(optimizers.get("gd"), reg, steps=5).path)


# --- divergence ---------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("surface", ["rosenbrock", "goldstein_price", "booth", "wells", "rastrigin"])
def test_divergence_is_clean(name, surface):
    s = landscapes.get(surface)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            single = optimizers.run(optimizers.get(name, lr=10.0), s, steps=150)
            small = 1e-6 if surface == "goldstein_price" else 1e-4  # GP's gradients reach 1e6
            lrs = np.array([small, 10.0, small, 3.0])
            batch = optimizers.run(optimizers.get(name, lr=lrs), s, steps=150)
    assert np.all(np.isfinite(single.path)) and np.all(np.isfinite(batch.path))
    if name in ("gd", "momentum", "momentum_ewma", "nesterov", "nesterov_lookahead") and surface in (
            "rosenbrock", "goldstein_price", "booth"):
        assert single.diverged_at >= 0
    if single.diverged_at >= 0:
        assert_clean_divergence(single)
    for r, lr in enumerate(lrs):
        alone = optimizers.run(optimizers.get(name, lr=lr), s, steps=150)
        assert_same_run(batch, r, alone)
    assert np.all(batch.diverged_at[[0, 2]] == -1)


def test_divergence_inside_a_batch_leaves_other_rows_alone():
    s = landscapes.get("rosenbrock")
    starts = np.array([[-1.5, 2.0], [1.9, -0.9], [0.0, 0.0], [1.5, 2.5]])
    lrs = np.array([1e-3, 5.0, 2e-4, 1e-3])
    batch = optimizers.run(optimizers.get("momentum", lr=lrs), s, starts, 400)
    assert batch.diverged_at[1] >= 0
    assert np.all(batch.diverged_at[[0, 2, 3]] == -1)
    for r in range(4):
        alone = optimizers.run(optimizers.get("momentum", lr=lrs[r]), s, starts[r], 400)
        assert_same_run(batch, r, alone)


def test_float_exception_single_equals_batch():
    """A gradient that divides by zero: Python floats raise where NumPy gives inf.

    Whatever the run makes of it, a batch row must equal the single run.
    """
    base = landscapes.get("elongated_bowl")
    s = dataclasses.replace(
        base, name="reciprocal",
        value=lambda x, y, xp: x * x + y * y,
        gradient=lambda x, y, xp: (1 / x, 2 * y),
    )
    single = optimizers.run(optimizers.get("adagrad"), s, (0.0, 1.0), 5)
    assert single.diverged_at == 1
    batch = optimizers.run(optimizers.get("adagrad"), s, np.array([[0.0, 1.0], [1.0, 1.0]]), 5)
    assert_same_run(batch, 0, single)


# --- schedules ---------------------------------------------------------------------


def closed_form(kind, lr, t, steps, step_size, gamma, t_max, eta_min, warmup, warmup_start):
    if kind == "constant":
        rate = lr
    elif kind == "step":
        rate = lr * gamma ** (t // step_size)
    elif kind == "exponential":
        rate = lr * gamma**t
    else:
        T = t_max if t_max else steps
        rate = eta_min + (lr - eta_min) * (1 + math.cos(math.pi * t / T)) / 2
    if warmup > 0:
        rate *= warmup_start + (1 - warmup_start) * min(t, warmup) / warmup
    return rate


schedule_settings = st.fixed_dictionaries({
    "kind": st.sampled_from(optimizers.SCHEDULES),
    "step_size": st.integers(1, 50),
    "gamma": st.floats(1e-3, 1.0),
    "t_max": st.integers(0, 200),
    "eta_min": st.floats(0, 1e-3),
    "warmup": st.integers(0, 60),
    "warmup_start": st.floats(1e-3, 1.0),
})


@settings(max_examples=150, deadline=None)
@given(cfg=schedule_settings, lr=st.floats(1e-5, 1.0), steps=st.integers(1, 300))
def test_schedule_closed_forms(cfg, lr, steps):
    sched = Schedule(**cfg)
    rates = sched.rates(lr, steps)
    assert rates.shape == (steps,)
    args = {k: v for k, v in cfg.items() if k != "kind"}
    expect = [closed_form(cfg["kind"], lr, t, steps, **args) for t in range(steps)]
    assert np.allclose(rates, expect, rtol=1e-12, atol=1e-300)
    if cfg["warmup"] > 0:
        assert rates[0] == pytest.approx(cfg["warmup_start"] * closed_form(cfg["kind"], lr, 0, steps, **{
            **args, "warmup": 0}), rel=1e-12)
    if cfg["kind"] == "cosine" and cfg["t_max"] == 0 and cfg["warmup"] == 0 and steps > 1:
        # T_max = steps: from lr toward eta_min (upwards when eta_min > lr), not there at the last step
        lo, hi = sorted((lr, cfg["eta_min"]))
        assert rates[0] == lr and lo <= rates[-1] <= hi
        if hi - lo > 1e-9 * hi:
            assert rates[-1] != cfg["eta_min"]


@pytest.mark.parametrize("kind", optimizers.SCHEDULES)
def test_run_uses_schedule(kind):
    s = landscapes.get("booth")
    sched = Schedule(kind, step_size=10, gamma=0.8, t_max=0, eta_min=1e-4, warmup=15, warmup_start=0.2)
    tr = optimizers.run(optimizers.get("gd", lr=0.02, schedule=sched), s, steps=100)
    assert np.array_equal(tr.lr, sched.rates(0.02, 100))
    assert np.allclose(np.diff(tr.path, axis=0), -tr.lr[:, None] * tr.grad, rtol=1e-12, atol=1e-15)
    assert np.array_equal(tr.effective_lr, np.stack([tr.lr, tr.lr], -1))


def test_schedule_errors_and_text():
    with pytest.raises(ValueError, match="unknown schedule"):
        Schedule("linear")
    with pytest.raises(ValueError, match="must be a number"):
        Schedule("step", gamma=1.5)
    with pytest.raises(ValueError, match="whole number"):
        Schedule("step", step_size=2.5)
    s = Schedule("step", step_size=25, gamma=0.3, warmup=5, warmup_start=0.5)
    assert "25" in s.describe() and "0.3" in s.describe() and "warm-up 5" in s.describe()
    code = s.torch()
    assert "StepLR" in code and "step_size=25" in code and "gamma=0.3" in code
    assert "LinearLR" in code and "start_factor=0.5" in code and "total_iters=5" in code
    assert Schedule().torch() == ""
    opt = optimizers.get("adam", lr=0.003, schedule="cosine")
    assert "CosineAnnealingLR" in opt.torch_code() and "cosine" in opt.describe()


# --- reproducibility and mini-batches ---------------------------------------------


@pytest.mark.parametrize("name", ["gd", "adam"])
def test_noise_reproducible(name):
    s = landscapes.get("himmelblau")
    opt = optimizers.get(name, lr=0.01)
    a = optimizers.run(opt, s, steps=200, noise=1.0, seed=3)
    b = optimizers.run(opt, s, steps=200, noise=1.0, seed=3)
    c = optimizers.run(opt, s, steps=200, noise=1.0, seed=4)
    clean = optimizers.run(opt, s, steps=200)
    assert np.array_equal(a.path, b.path) and np.array_equal(a.grad, b.grad)
    assert not np.array_equal(a.path, c.path)
    assert not np.array_equal(a.path, clean.path)
    assert np.array_equal(optimizers.run(opt, s, steps=200, noise=0.0, seed=9).path, clean.path)


def test_noise_has_the_requested_size():
    s = landscapes.get("elongated_bowl")
    tr = optimizers.run(optimizers.get("gd", lr=0.01), s, steps=4000, noise=0.5, seed=1)
    kick = tr.grad - s.grad(tr.grad_point)
    assert abs(kick.mean()) < 0.03
    assert kick.std() == pytest.approx(0.5, rel=0.05)
    assert abs(np.corrcoef(kick[:, 0], kick[:, 1])[0, 1]) < 0.05


@settings(max_examples=60, deadline=None)
@given(n=st.integers(10, 200), B=st.integers(1, 60), steps=st.integers(1, 400),
       seed=st.integers(0, 2**32 - 1))
def test_minibatches_without_replacement(n, B, steps, seed):
    B = min(B, n)
    idx = _minibatches([np.random.default_rng(seed)], n, B, steps)
    assert idx.shape == (steps, B)
    assert idx.min() >= 0 and idx.max() < n
    per_epoch = n // B
    epochs = [idx[e : e + per_epoch].ravel() for e in range(0, steps, per_epoch)]
    for k, ep in enumerate(epochs):
        # the batches of an epoch are disjoint: n // B * B distinct samples
        assert len(np.unique(ep)) == len(ep)
        assert len(ep) == n // B * B or (k == len(epochs) - 1 and len(ep) < n // B * B)
    full = [ep for ep in epochs if len(ep) == per_epoch * B]
    if len(full) >= 3:
        # reshuffled every epoch
        assert any(not np.array_equal(full[0], f) for f in full[1:])
    # per-row seeds: each row's order is that seed's order
    seeds = [seed, seed + 1]
    both = _minibatches([np.random.default_rng(x) for x in seeds], n, B, steps)
    assert both.shape == (steps, 2, B)
    for r, x in enumerate(seeds):
        assert np.array_equal(both[:, r], _minibatches([np.random.default_rng(x)], n, B, steps))


def test_minibatch_epochs_reshuffle():
    idx = _minibatches([np.random.default_rng(0)], 20, 5, 40)  # 4 batches per epoch, 10 epochs
    epochs = idx.reshape(10, 20)
    assert all(sorted(e) == list(range(20)) for e in epochs)
    assert len({tuple(e) for e in epochs}) == 10
    # dropped samples: with B = 3 each epoch leaves out n % B = 2 samples, not always the same
    idx = _minibatches([np.random.default_rng(0)], 20, 3, 60)  # 6 per epoch, 10 epochs
    left_out = [frozenset(range(20)) - frozenset(e) for e in idx.reshape(10, 18)]
    assert all(len(x) == 2 for x in left_out) and len(set(left_out)) > 1


@pytest.mark.parametrize("batch_size", [1, 4, 10])
def test_minibatch_run_uses_the_batches(batch_size):
    s = landscapes.get("regression", n=30, data_seed=2)
    tr = optimizers.run(optimizers.get("gd", lr=0.01), s, steps=50, batch_size=batch_size, seed=11)
    idx = _minibatches([np.random.default_rng(11)], 30, batch_size, 50)
    w, b = tr.grad_point[:, 0], tr.grad_point[:, 1]
    gx, gy = _batch_grad(s, w[:, None], b[:, None], idx[:, None])
    assert np.allclose(tr.grad, np.stack([gx[:, 0], gy[:, 0]], -1), rtol=1e-12, atol=1e-14)
    again = optimizers.run(optimizers.get("gd", lr=0.01), s, steps=50, batch_size=batch_size, seed=11)
    other = optimizers.run(optimizers.get("gd", lr=0.01), s, steps=50, batch_size=batch_size, seed=12)
    assert np.array_equal(tr.path, again.path) and not np.array_equal(tr.path, other.path)
    # batch_size >= n is the full gradient, whatever the seed
    full = optimizers.run(optimizers.get("gd", lr=0.01), s, steps=50, batch_size=30, seed=5)
    assert np.array_equal(full.path, optimizers.run(optimizers.get("gd", lr=0.01), s, steps=50).path)


# --- get() -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_get_defaults_and_text(name):
    r = optimizers.rule(name)
    opt = optimizers.get(name)
    assert opt.name == name
    assert opt.hyper == {p.name: p.default for p in r.params} == r.defaults()
    assert opt.schedule == Schedule()
    # one setting given, the rest defaulted
    custom = optimizers.get(name, lr=0.0375)
    assert custom.hyper["lr"] == 0.0375
    assert {k: v for k, v in custom.hyper.items() if k != "lr"} == {k: v for k, v in opt.hyper.items()
                                                                    if k != "lr"}
    text, code = custom.describe(), custom.torch_code()
    assert r.label in text
    for p in r.params:  # the text in the course's symbols (η=0.0375, β=0.9), the code in PyTorch's
        assert p.symbol and f"{p.symbol}={custom.hyper[p.name]:g}" in text and f"{p.name}=" not in text
        if not (r.form_of and p.name == "lr"):
            assert f"{custom.hyper[p.name]:g}" in code
    shown_lr = 0.0375 * (1 - custom.hyper["beta"]) if name == "momentum_ewma" else 0.0375
    assert re.search(rf"lr={shown_lr:g}[,)]", code) and code.startswith(f"opt = torch.optim.{r.torch_class}(")
    assert "params" in code and all(len(line) <= 56 for line in code.splitlines())
    assert "[3 values]" in optimizers.get(name, lr=np.array([0.1, 0.2, 0.3])).describe()


def test_get_errors():
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'") as e:
        optimizers.get("adamax")
    assert "adam" in str(e.value)
    with pytest.raises(ValueError, match="no setting momentum; it takes lr, beta1, beta2, eps"):
        optimizers.get("adam", momentum=0.9)
    for bad in [{"lr": 0.0}, {"lr": -0.1}, {"lr": 100.0}, {"lr": float("nan")}, {"beta1": 1.0},
                {"beta2": -0.1}, {"eps": 2.0}, {"lr": np.array([0.1, float("inf")])}]:
        with pytest.raises(ValueError, match="must be a number from"):
            optimizers.get("adam", **bad)
    with pytest.raises(ValueError, match="unknown schedule"):
        optimizers.get("gd", schedule="warm")
    with pytest.raises(ValueError, match="must be a number"):
        optimizers.run(optimizers.get("gd"), landscapes.get("booth"), steps=-1)
