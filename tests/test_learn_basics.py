"""Learn pages 1-4 (gradient descent, batches, EWMA, momentum): their figures, the claims they make
(checked on the core) and the pages themselves under AppTest, through the navigation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from conftest import assert_on_playground, follow_playground_link, ok, open_page
from hypothesis import given, settings
from hypothesis import strategies as hst
from streamlit.testing.v1 import AppTest

import landscapes
import optimizers
import viz
from descent_lab import learn
from descent_lab.presets import PRESETS
from optimizers import analysis, ewma, moments
from optimizers.run import _generators, _minibatches
from viz import learn_basics as lb


def _batch_grad(s, w, b, idx):
    """The problem's mini-batch gradient at (w, b) (arrays of one shape), as (gx, gy)."""
    g = s.batch_grad(np.stack(np.broadcast_arrays(w, b), -1), idx)
    return g[..., 0], g[..., 1]

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60
REG = landscapes.get("regression")


def run(name, surface, start=None, steps=100, **kw):
    batch = kw.pop("batch_size", None)
    seed = kw.pop("seed", 0)
    return optimizers.run(optimizers.get(name, **kw), surface, start=start, steps=steps, batch_size=batch,
                          seed=seed)


def valid(fig: dict) -> go.Figure:
    return go.Figure(fig)  # raises on anything Plotly's schema rejects


# --- page 1: the learning rate and 2/L ----------------------------------------------------------


@pytest.mark.parametrize("k", [5.0, 20.0, 50.0])
def test_lr_above_two_over_L_diverges_below_converges(k):
    bowl = landscapes.get("elongated_bowl", condition=k)
    L = float(np.linalg.eigvalsh(bowl.hess(np.zeros(2))).max())
    assert pytest.approx(k) == L  # L is the steepest curvature, the condition number here
    for lr in (0.5 / L, 1.9 / L):
        tr = run("gd", bowl, start=(-2.8, 1.5), steps=2000, lr=lr)
        assert tr.diverged_at == -1 and np.abs(tr.path[-1]).max() < 1e-3
    tr = run("gd", bowl, start=(-2.8, 1.5), steps=2000, lr=2.1 / L)
    assert tr.diverged_at >= 0
    # along y each step multiplies the distance by 1 - lr L, exactly as the page says
    lr = 0.3 / L * 2
    tr = run("gd", bowl, start=(-2.8, 1.5), steps=5, lr=lr)
    np.testing.assert_allclose(tr.path[1:, 1] / tr.path[:-1, 1], 1 - lr * L, rtol=1e-12)


def test_page1_rates_tell_their_story():
    setup = PRESETS["learning-rate"].setup()
    s = setup.make_surface()
    L = s.params["condition"]
    small, right, large = (r.hyper["lr"] for r in setup.runs)
    assert small < right < 2 / L < large
    outs = [optimizers.outcome(run("gd", s, setup.start_point(), setup.steps, lr=lr), s, 0.01)
            for lr in (small, right, large, 1 / 3, 0.4, 0.5)]
    assert outs[0].reached_at == -1 and outs[0].diverged_at == -1  # too small: not there
    assert outs[1].reached_at >= 0  # just right
    assert outs[3].reached_at >= 0 and outs[3].reached_at < outs[1].reached_at  # 1/3 is faster
    assert outs[4].reached_at == -1 and outs[4].diverged_at == -1  # 2/L: bounces for ever
    assert outs[5].diverged_at >= 0  # 0.5 on the slider: diverges within the page's steps
    tr = run("gd", s, setup.start_point(), setup.steps, lr=large)  # too large: grows
    assert np.abs(tr.path[-1, 1]) > 10 * np.abs(tr.path[0, 1])


def test_page1_one_third_is_the_fastest_slider_rate():
    """Page 1's caption: "Try η = 1/3 (fastest here)", among the slider's rates."""
    setup = PRESETS["learning-rate"].setup()
    s = setup.make_surface()
    rates = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 1 / 3, 0.38, 0.4, 0.41, 0.45, 0.5]  # the page's slider
    start, steps = setup.start_point(), setup.steps
    reached = {lr: optimizers.outcome(run("gd", s, start, steps, lr=lr), s, 0.01).reached_at for lr in rates}
    fastest = reached[1 / 3]
    assert fastest >= 0 and all(r == -1 or r > fastest for lr, r in reached.items() if lr != 1 / 3)


# --- the stability limit (the hint for the learning-rate slider) --------------------------------


QUADRATICS = [landscapes.get("elongated_bowl", condition=5), landscapes.get("elongated_bowl", condition=50),
              landscapes.get("booth")]


@pytest.mark.parametrize("surface", QUADRATICS, ids=lambda s: f"{s.name}{s.params.get('condition', '')}")
@pytest.mark.parametrize("name", [n for n in optimizers.names() if optimizers.rule(n).limit])
def test_max_stable_lr_is_exact_on_quadratics(surface, name):
    """Just below the limit a run converges, just above it diverges, for every beta."""
    betas = [0.0] if name == "gd" else [0.0, 0.5, 0.9]
    limits = np.array([analysis.max_stable_lr(surface, surface.start, name, b) for b in betas])
    hyper = {"lr": np.concatenate([0.99 * limits, 1.01 * limits])}
    if name != "gd":
        hyper["beta"] = np.array(betas * 2)
    tr = optimizers.run(optimizers.get(name, **hyper), surface, steps=1500, record=False)
    k = len(betas)
    assert np.all(tr.diverged_at[:k] == -1) and np.all(tr.diverged_at[k:] >= 0)
    below = np.linalg.norm(tr.path[-1, :k] - surface.minima[0], axis=-1)
    assert np.all(below < 1e-6 * np.linalg.norm(surface.start - surface.minima[0]))


def test_max_stable_lr_formulas_and_inputs():
    bowl = landscapes.get("elongated_bowl", condition=50)
    assert analysis.max_stable_lr(bowl, (0.3, -1.0), "gd") == pytest.approx(2 / 50)
    assert analysis.max_stable_lr(bowl, (0.0, 0.0), "momentum", 0.9) == pytest.approx(2 * 1.9 / 50)
    # the course's average form is PyTorch's momentum with lr (1 - beta): its limit is 1 / (1 - beta) larger
    assert analysis.max_stable_lr(bowl, (0, 0), "momentum_ewma", 0.9) == pytest.approx(2 * 1.9 / 50 / 0.1)
    booth = landscapes.get("booth")  # Hessian [[10, 8], [8, 10]]: lambda_max = 18
    assert analysis.max_stable_lr(booth, (0, 0), "nesterov", 0.5) == pytest.approx(2 * 1.5 / 2 / 18)
    many = analysis.max_stable_lr(bowl, np.zeros((4, 2)), "gd")
    assert many.shape == (4,) and np.allclose(many, 2 / 50)
    # a point where nothing curves upwards has no limit; adaptive rules have none either
    saddle = landscapes.get("saddle")
    lam = np.linalg.eigvalsh(saddle.hess(np.zeros(2)))
    assert analysis.max_stable_lr(saddle, (0, 0), "gd") == pytest.approx(2 / lam.max())
    concave = landscapes.from_expression("-(x^2 + y^2)", domain=((-1, 1), (-1, 1)))
    assert analysis.max_stable_lr(concave, (0.2, 0.1), "gd") == np.inf
    with pytest.raises(ValueError, match="no curvature limit"):
        analysis.max_stable_lr(bowl, (0, 0), "adam")


def test_quadratic_tuning():
    t = analysis.quadratic_tuning(1.0, 50.0)
    assert t.gd_lr == pytest.approx(2 / 51) and t.gd_rate == pytest.approx(49 / 51)
    assert t.momentum_beta == pytest.approx(((50**0.5 - 1) / (50**0.5 + 1)) ** 2)
    assert t.momentum_lr == pytest.approx(4 / (50**0.5 + 1) ** 2)
    assert t.momentum_rate == pytest.approx(t.momentum_beta**0.5)
    with pytest.raises(ValueError):
        analysis.quadratic_tuning(2.0, 1.0)
    # the rates are what the runs show: late in a run the distance shrinks by about the rate per step
    bowl = landscapes.get("elongated_bowl", condition=50)
    gd = run("gd", bowl, (-2.8, 1.5), 200, lr=t.gd_lr)
    d = np.linalg.norm(gd.path, axis=1)
    assert d[150] / d[140] == pytest.approx(t.gd_rate**10, rel=0.01)
    hb = run("momentum", bowl, (-2.8, 1.5), 80, lr=t.momentum_lr, beta=t.momentum_beta)
    d = np.linalg.norm(hb.path, axis=1)
    assert t.momentum_rate**10 < d[70] / d[60] < 2 * t.momentum_rate**10  # double root: (t + 1) rate^t


# --- page 2: batch, SGD, mini-batch -------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_sgd_is_noisier_than_batch(seed):
    steps = 200
    batch = run("gd", REG, steps=steps, lr=0.05)
    sgd = run("gd", REG, steps=steps, lr=0.05, batch_size=1, seed=seed)
    mini = run("gd", REG, steps=steps, lr=0.05, batch_size=10, seed=seed)
    lengths = [learn.path_length(t.path) for t in (batch, mini, sgd)]
    assert lengths[0] < lengths[1] < lengths[2]  # more noise, longer path
    off = [float(np.linalg.norm(t.path - batch.path, axis=1).mean()) for t in (mini, sgd)]
    assert off[0] < off[1]
    assert batch.loss[-1] < sgd.loss[-1]  # SGD never quite settles


@pytest.mark.parametrize("seed", [0, 1, 7, 9999])
def test_per_sample_read_sgd_and_minibatch_are_ahead(seed):
    """Page 2: counted per update batch GD is lowest; counted per sample read, SGD and the
    mini-batch are far down the slope while batch GD has taken its first two steps."""
    n, steps = REG.data.n, 200
    batch = run("gd", REG, steps=steps, lr=0.05)
    sgd = run("gd", REG, steps=steps, lr=0.05, batch_size=1, seed=seed)
    mini = run("gd", REG, steps=steps, lr=0.05, batch_size=10, seed=seed)
    assert batch.loss[-1] <= min(sgd.loss[-1], mini.loss[-1])  # per update (left chart, at its end)
    reads = steps  # SGD's whole run reads 200 samples: batch GD's first two updates
    first = batch.loss[reads // n]
    assert sgd.loss[reads] < 0.5 * first and mini.loss[reads // 10] < first


def test_seed_changes_sgd_not_batch():
    a, b = (run("gd", REG, steps=50, lr=0.05, batch_size=1, seed=s) for s in (0, 1))
    assert not np.allclose(a.path, b.path)
    c, d = (run("gd", REG, steps=50, lr=0.05, seed=s) for s in (0, 1))
    np.testing.assert_array_equal(c.path, d.path)
    np.testing.assert_array_equal(a.path, run("gd", REG, steps=50, lr=0.05, batch_size=1, seed=0).path)


@pytest.mark.parametrize("size", [1, 2, 10, 50])
def test_each_update_reads_the_stated_number_of_samples(size):
    steps, seed = 30, 3
    tr = run("gd", REG, steps=steps, lr=0.05, batch_size=size, seed=seed)
    idx = _minibatches(_generators(seed), REG.data.n, size, steps)
    assert idx.shape == (steps, learn.samples_per_update(size, REG.data.n))
    for t in range(steps):
        assert len(set(idx[t])) == size
        gx, gy = _batch_grad(REG, np.array(tr.path[t, 0]), np.array(tr.path[t, 1]), idx[t])
        np.testing.assert_allclose(tr.grad[t], [gx, gy], rtol=1e-12, atol=1e-12)
    full = run("gd", REG, steps=5, lr=0.05)
    np.testing.assert_allclose(full.grad, REG.grad(full.path[:-1]), rtol=1e-12)  # batch: all n


def test_cost_read_outs():
    n = REG.data.n
    assert learn.samples_per_update(None, n) == n and learn.samples_per_update(1, n) == 1
    assert learn.samples_per_update(n + 5, n) == n
    np.testing.assert_array_equal(learn.samples_seen(10, n, 3), [0, 10, 20, 30])
    trs = {b: run("gd", REG, steps=40, lr=0.05, batch_size=b) for b in (None, 1, 10)}
    rows = lb.cost_rows([{"label": str(b), "batch_size": b, "trajectory": t} for b, t in trs.items()], n)
    assert [r["samples seen"] for r in rows] == [40 * n, 40, 400]
    assert [r["epochs"] for r in rows] == [40, 0.4, 4]
    assert rows[0]["final loss"] == pytest.approx(trs[None].loss[-1])
    assert learn.path_length([[0, 0], [3, 4], [3, 4], [np.nan, np.nan]]) == 5


# --- page 3: EWMA -------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(hst.lists(hst.floats(-1e3, 1e3), min_size=1, max_size=40), hst.sampled_from([0.0, 0.5, 0.9, 0.99]))
def test_ewma_matches_a_direct_loop(values, beta):
    theta = np.array(values)
    v, expected = 0.0, []
    for x in theta:
        v = beta * v + (1 - beta) * x
        expected.append(v)
    np.testing.assert_allclose(ewma.ewma(theta, beta), expected, rtol=1e-12, atol=1e-9)
    # the unrolled sum with weights (1 - beta) beta^k
    t = len(theta)
    np.testing.assert_allclose(ewma.weights(beta, t) @ theta[::-1], expected[-1], rtol=1e-9, atol=1e-9)
    corrected = ewma.ewma(theta, beta, corrected=True)
    assert corrected[0] == pytest.approx(theta[0], rel=1e-12, abs=1e-12)  # V_1 hat = theta_1
    np.testing.assert_allclose(corrected, np.array(expected) / (1 - beta ** np.arange(1, t + 1)), rtol=1e-12)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.8, 0.9, 0.95, 0.98])
@pytest.mark.parametrize("t", [1, 10, 120])
def test_weights_sum_window_and_bias(beta, t):
    w = ewma.weights(beta, t)
    assert w.sum() == pytest.approx(1 - beta**t, abs=1e-12)
    assert np.all(np.diff(w) <= 0)  # recent values weigh most
    assert ewma.window(beta) == pytest.approx(1 / (1 - beta))
    share = ewma.window_share(beta, t)
    assert share == pytest.approx(1 - beta ** min(round(ewma.window(beta)), t), abs=1e-12)
    # a constant series: the raw average is biased towards 0 by exactly 1 - beta^t, the corrected one is not
    const = np.full(t, 7.0)
    np.testing.assert_allclose(ewma.ewma(const, beta), 7 * (1 - beta ** np.arange(1, t + 1)), rtol=1e-12)
    np.testing.assert_allclose(ewma.ewma(const, beta, corrected=True), 7.0, rtol=1e-12)


def test_ewma_on_arrays_and_the_demo_series():
    theta = np.arange(12.0).reshape(6, 2)
    np.testing.assert_allclose(ewma.ewma(theta, 0.9)[:, 1], ewma.ewma(theta[:, 1], 0.9))
    a, b = ewma.demo_series(120, 0), ewma.demo_series(120, 0)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (120,) and a.min() > 0  # far from 0: the start-up bias is visible
    # a larger beta is smoother (smaller total variation) and lags more
    tv = [np.abs(np.diff(ewma.ewma(a, beta, corrected=True))).sum() for beta in (0.5, 0.9, 0.98)]
    assert tv[0] > tv[1] > tv[2]


@pytest.mark.parametrize("seed", [0, 10_000])
def test_large_beta_lags_and_the_correction_joins(seed):
    """Page 3: a larger beta lags behind the data; the corrected average starts on the data and
    joins the plain one once beta^t has faded (a few windows)."""
    theta = ewma.demo_series(120, seed)

    def lag(beta):  # the shift that best aligns the average with the data
        v = ewma.ewma(theta, beta, corrected=True)
        return int(np.argmin([np.mean(np.abs(v[k:] - theta[: len(theta) - k])) for k in range(30)]))

    lags = [lag(b) for b in (0.0, 0.5, 0.9, 0.98)]
    assert lags[0] == 0 and lags == sorted(lags) and lags[3] > lags[1]
    for beta in (0.5, 0.8, 0.9, 0.95):
        v, v_hat = ewma.ewma(theta, beta), ewma.ewma(theta, beta, corrected=True)
        after = int(np.ceil(5 * ewma.window(beta)))
        assert np.all(np.abs(v_hat[after:] - v[after:]) < 0.01 * np.abs(v[after:]))
        assert abs(v_hat[0] - theta[0]) < 1e-9 and v[0] == pytest.approx((1 - beta) * theta[0])


# --- page 4: momentum ---------------------------------------------------------------------------


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99])
def test_momentum_ewma_is_momentum_with_lr_times_one_minus_beta(beta):
    bowl = landscapes.get("elongated_bowl", condition=50)
    lr = 0.01
    torch_form = run("momentum", bowl, (-2.8, 1.5), 150, lr=lr, beta=beta)
    course = run("momentum_ewma", bowl, (-2.8, 1.5), 150, lr=lr / (1 - beta), beta=beta)
    np.testing.assert_allclose(course.path, torch_form.path, rtol=1e-9, atol=1e-12)
    # and the other way round, as the rule's note states it
    a = run("momentum_ewma", landscapes.get("rosenbrock"), None, 200, lr=0.002, beta=beta)
    b = run("momentum", landscapes.get("rosenbrock"), None, 200, lr=0.002 * (1 - beta), beta=beta)
    np.testing.assert_allclose(a.path, b.path, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.velocity, (1 - beta) * b.velocity, rtol=1e-9, atol=1e-12)


def test_momentum_rolls_into_the_deepest_well():
    setup = PRESETS["local-minima"].setup()
    s = setup.make_surface()
    trs = [run(r.name, s, setup.start_point(), setup.steps, **r.hyper) for r in setup.runs]
    gd, mom = (optimizers.outcome(t, s, 0.05) for t in trs)
    assert gd.nearest != 0 and gd.reached_at >= 0
    assert mom.nearest == 0 and mom.final_loss == pytest.approx(s.global_min, abs=1e-3)
    # "where it swings back and forth and settles": it crosses the deepest minimum several times
    inside = trs[1].path[mom.reached_at:] - s.minima[0]
    assert min(moments.sign_flips(inside[:, 0]), moments.sign_flips(inside[:, 1])) >= 2


RAVINE = PRESETS["ravine"].setup()
BOWL50 = RAVINE.make_surface()


def ravine_runs():
    return [run(r.name, BOWL50, RAVINE.start_point(), RAVINE.steps, **r.hyper) for r in RAVINE.runs]


def test_ravine_gd_at_its_best_rate_and_momentums_velocity():
    """Page 4's ravine text: GD's factors are about -0.96 across and 0.96 along; momentum's
    velocity builds up along the floor (several gradients) while across it stays about one."""
    gd, mom = ravine_runs()
    L, lr = BOWL50.params["condition"], RAVINE.runs[0].hyper["lr"]
    assert 1 - lr * L == pytest.approx(-0.96, abs=0.005) and 1 - lr == pytest.approx(0.96, abs=0.005)
    np.testing.assert_allclose(gd.path[1:, 0] / gd.path[:-1, 0], 1 - lr, rtol=1e-12)  # crawls along
    np.testing.assert_allclose(gd.path[1:, 1] / gd.path[:-1, 1], 1 - lr * L, rtol=1e-9)  # zig-zags across
    beta = RAVINE.runs[1].hyper["beta"]
    v, g = mom.state["velocity"], mom.grad
    along = v[5:21, 0] / g[5:21, 0]
    assert np.all(along > 1 / (1 - beta))  # from step 5 on, more than 1 / (1 - beta) gradients
    across = np.abs(v[1:21, 1]) / np.abs(g[1:21, 1])
    assert np.median(across) < 1.5  # the flips cancel: about one gradient's worth
    # the table: within 0.01 from step, and the distance after 150 steps
    gd_o, mom_o = (optimizers.outcome(t, BOWL50, 0.01) for t in (gd, mom))
    assert mom_o.reached_at < gd_o.reached_at and mom_o.distance < 1e-6 < gd_o.distance
    assert lb.step_text(mom_o.reached_at) == str(int(mom_o.reached_at)) and lb.step_text(-1) != "-1"


def test_the_fastest_heavy_ball_settings_claims():
    """Page 4's expander: the optimal tuning's η exceeds GD's limit but not momentum's, its first
    swings go beyond the map, and it arrives a little sooner than the page's gentler setting."""
    best = analysis.quadratic_tuning(1.0, BOWL50.params["condition"])
    start = RAVINE.start_point()
    assert analysis.max_stable_lr(BOWL50, start, "gd") < best.momentum_lr
    assert best.momentum_lr < analysis.max_stable_lr(BOWL50, start, "momentum", best.momentum_beta)
    fastest = run("momentum", BOWL50, start, RAVINE.steps, lr=best.momentum_lr, beta=best.momentum_beta)
    assert fastest.diverged_at == -1
    assert learn.widest_swing(fastest.path[:, 1], 0) > BOWL50.domain[1][1]  # beyond the map
    gentle = optimizers.outcome(ravine_runs()[1], BOWL50, 0.01).reached_at
    quick = optimizers.outcome(fastest, BOWL50, 0.01).reached_at
    assert 0 <= quick <= gentle <= quick + 5


def test_beta_too_large_overshoots():
    """Page 4's beta section at the ravine's lr, one claim per slider value."""
    lr = RAVINE.runs[1].hyper["lr"]
    start = RAVINE.start_point()
    trs = {b: run("momentum", BOWL50, start, RAVINE.steps, lr=lr, beta=b)
           for b in (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)}
    out = {b: optimizers.outcome(t, BOWL50, 0.01) for b, t in trs.items()}
    over = {b: learn.overshoot(t.path, (0, 0)) for b, t in trs.items()}
    assert all(t.diverged_at == -1 for t in trs.values())
    assert over[0.0] == 0 and out[0.0].reached_at == -1  # plain GD: never passes, not within 0.01
    assert over[0.5] == 0 and 0 < over[0.7] < 0.02  # 0.5 to 0.7: stops at the minimum (0.7: ~0.01 past)
    assert out[0.7].reached_at < out[0.5].reached_at < 150  # faster
    assert 0.2 < over[0.8] < over[0.9] < over[0.95] < over[0.99]  # rolls past, further with beta
    assert out[0.7].reached_at < out[0.8].reached_at < out[0.9].reached_at  # settling takes longer
    assert moments.sign_flips(trs[0.9].path[:, 0]) >= 2  # past the minimum and back, at least twice
    assert out[0.95].reached_at == -1 and out[0.99].reached_at == -1 and out[0.99].distance > 1
    assert all(out[0.7].reached_at <= o.reached_at for o in out.values() if o.reached_at >= 0)


# --- figures ------------------------------------------------------------------------------------


def test_map_and_series_figures():
    bowl = landscapes.get("elongated_bowl", condition=5)
    image = viz.landscape_png(bowl, width_px=100)
    tr = run("gd", bowl, (-2.8, 1.5), 60, lr=0.5)  # diverges: NaNs at the end
    assert tr.diverged_at >= 0
    paths = [{"label": "a", "color": viz.PALETTE[0], "path": tr.path, "diverged": True},
             {"label": "b", "color": viz.PALETTE[1], "path": tr.path[:3], "dash": "dash"},
             {"label": "c", "color": viz.PALETTE[2], "path": [[0, 0], [1, 1], [np.nan, np.nan]]}]
    fig = lb.map_figure(bowl, image, paths, title="t", step_dots=True, axis_titles=("w", "b"))
    f = valid(fig)
    names = [t.name for t in f.data]
    assert "a" in names and "b" in names and f.layout.images[0].source.startswith("data:image/png")
    assert f.layout.xaxis.title.text == "w"
    ends = [t for t in f.data if t.mode == "markers" and t.marker.symbol is not None
            and isinstance(t.marker.symbol, tuple)]
    assert [e.marker.symbol[1] for e in ends] == ["x", "square", "x"]  # a diverged run ends with an x
    s = valid(lb.series_figure([{"label": "loss", "color": "red", "y": tr.loss},
                                {"label": "x", "color": "blue", "y": [1, 2], "x": [1, 10]}],
                               log_y=True, log_x=True, yrange=(1e-3, 1e3), title="T",
                               hlines=[{"y": 1.0, "label": "one"}]))
    assert [t.name for t in s.data] == ["loss", "x", "one"] and s.layout.yaxis.type == "log"
    assert s.data[2].line.dash == "dot" and s.data[2].y == (1.0, 1.0)  # a reference line, in the legend
    assert not s.layout.annotations  # nothing written on the curves
    assert s.layout.legend.yref == "container" and s.layout.legend.y == 0  # below the axis title
    # log ticks read as numbers: 1-2-5 within three decades, powers of ten beyond
    assert lb.log_ticks([[0.6, 13.0]]) == {"tickvals": [1, 2, 5, 10], "ticktext": ["1", "2", "5", "10"]}
    assert lb.log_ticks([[0.4, 13.0]])["ticktext"][0] == "0.5"
    wide = lb.log_ticks([[1e-12, 1e8]])
    assert wide["tickvals"][0] == 1e-12 and len(wide["tickvals"]) == 11
    assert wide["ticktext"][-1] == "10<sup>8</sup>" and wide["ticktext"][6] == "10<sup>0</sup>"
    assert lb.log_ticks([[np.nan, -1.0]])["tickvals"] == [1, 2, 5, 10]  # nothing to show: one decade
    assert lb.log_ticks([[0.07, 200.0]])["ticktext"] == ["0.1", "1", "10", "100"]  # plain while short


def test_fit_ewma_and_weights_figures():
    lines = [{"label": "batch", "color": "blue", "w": 2.0, "b": -1.0},
             {"label": "bad", "color": "red", "w": float("nan"), "b": 0.0}]
    f = valid(lb.fit_figure(REG.data.x, REG.data.y, lines, title="fit"))
    assert [t.name for t in f.data] == ["data", "batch", "bad"] and len(f.data[0].x) == REG.data.n
    assert f.data[1].y[0] == pytest.approx(2 * f.data[1].x[0] - 1)
    theta = ewma.demo_series(50)
    v, v_hat = ewma.ewma(theta, 0.9), ewma.ewma(theta, 0.9, corrected=True)
    e = valid(lb.ewma_figure(theta, v, beta=0.9, v_hat=v_hat, mark=10))
    assert len(e.data) == 3 and e.layout.shapes[0].x0 == 10
    assert len(valid(lb.ewma_figure(theta, ewma.ewma(theta, 0.5), beta=0.5)).data) == 2
    w = valid(lb.weights_figure(ewma.weights(0.9, 30), t=30, window=ewma.window(0.9)))
    assert w.data[0].type == "bar" and len(w.data[0].y) == 30 and w.data[0].x[0] == 30
    colors = w.data[0].marker.color
    assert sum(c == viz.PALETTE[0] for c in colors) == 10  # the effective window, dark
    assert valid(lb.weights_figure(ewma.weights(0.0, 1), t=1, window=ewma.window(0.0))).data[0].y == (1.0,)


# --- the pages, through the app's navigation ----------------------------------------------------




def footer_ok(at: AppTest, page: int) -> None:
    assert any(f"Learn · page {page} of" in c.value for c in at.caption)


@pytest.mark.parametrize("label, nth, preset", [
    ("Open these three in the Playground", 0, "learning-rate"), ("Open in the Playground", 0, "one-rate"),
    ("Open in the Playground", 1, "local-minima"), ("Open in the Playground", 2, "saddle"),
])
def test_page_gradient_descent_demo_links(label, nth, preset):
    at = open_page("app_pages/learn_1_gradient_descent.py")
    follow_playground_link(at, label, nth)
    assert_on_playground(at, PRESETS[preset].setup())


def test_page_gradient_descent():
    at = open_page("app_pages/learn_1_gradient_descent.py")
    assert at.title[0].value.startswith("Gradient descent")
    assert len(at.get("plotly_chart")) == 7  # three rates (side by side, and stacked for a phone), map, loss,
    # three challenges
    footer_ok(at, 1)
    for lr in (0.005, 0.4, 0.41, 0.5):
        at.select_slider(key="gd.lr").set_value(lr)
        ok(at)
    outcome = next(m for m in at.metric if m.label == "Outcome")
    assert outcome.value == "diverged"
    at.select_slider(key="gd.lr").set_value(1 / 3)
    ok(at)
    assert next(m for m in at.metric if m.label == "Outcome").value == "converged"


def test_page_batches():
    at = open_page("app_pages/learn_2_batches.py")
    assert at.title[0].value.startswith("Batch, stochastic")
    assert len(at.get("plotly_chart")) == 6  # the data, one loss map per run, two loss charts
    footer_ok(at, 2)
    table = at.dataframe[0].value
    n = REG.data.n
    assert list(table["samples per update"]) == [n, 1, 10]
    assert list(table["samples seen"]) == [200 * n, 200, 2000]
    for size, steps, seed in ((2, 50, 0), (50, 400, 9999)):
        at.select_slider(key="b.size").set_value(size)
        at.select_slider(key="b.steps").set_value(steps)
        at.number_input(key="b.seed").set_value(seed)
        ok(at)
        for t in (0, steps):
            at.slider(key="b.step").set_value(t)
            ok(at)
    assert list(at.dataframe[0].value["samples seen"]) == [400 * n, 400, 400 * 50]
    follow_playground_link(at, "Open the mini-batch run in the Playground")
    assert at.selectbox(key="surface").value == "regression"
    assert at.session_state["batch_kind"] == "a mini-batch" and at.session_state["batch_size"] == 50
    assert at.session_state["seed"] == 9999 and at.select_slider(key="steps").value == 400


def test_page_ewma():
    at = open_page("app_pages/learn_3_ewma.py")
    assert at.title[0].value.startswith("Exponentially weighted")
    assert len(at.get("plotly_chart")) == 2
    footer_ok(at, 3)
    for beta in (0.0, 0.98):
        at.select_slider(key="ewma.beta").set_value(beta)
        at.toggle(key="ewma.correct").set_value(beta > 0)
        for t in (1, 120):
            at.slider(key="ewma.t").set_value(t)
            ok(at)
    at.number_input(key="ewma.seed").set_value(10_000)
    ok(at)
    total = next(m for m in at.metric if m.label.startswith("Sum of the weights"))
    assert float(total.value) == pytest.approx(1 - 0.98**120, abs=1e-4)


def test_page_momentum():
    at = open_page("app_pages/learn_4_momentum.py")
    assert at.title[0].value == "Momentum"
    assert len(at.get("plotly_chart")) == 6
    footer_ok(at, 4)
    gd, mom = ravine_runs()
    table = next(m.value for m in at.markdown if m.value.startswith("| | Gradient descent | Momentum |"))
    swings = [learn.widest_swing(t.path[:, 1], 20) for t in (gd, mom)]
    assert f"| {swings[0]:.2g} | {swings[1]:.2g} |" in table
    reached = [optimizers.outcome(t, BOWL50, 0.01).reached_at for t in (gd, mom)]
    assert f"| {reached[0]} | {reached[1]} |" in table
    assert at.select_slider(key="mom.beta").value == RAVINE.runs[1].hyper["beta"]
    best = analysis.quadratic_tuning(1.0, BOWL50.params["condition"])
    fastest = run("momentum", BOWL50, RAVINE.start_point(), RAVINE.steps, lr=best.momentum_lr,
                  beta=best.momentum_beta)
    quick = optimizers.outcome(fastest, BOWL50, 0.01).reached_at
    (fastest_box,) = [e for e in at.expander if e.label == "The fastest settings for this valley"]
    expander = " ".join(m.value for m in fastest_box.markdown)
    assert f"minimum from step {quick}:" in expander and "(beyond the map)" in expander
    for beta in (0.0, 0.99):
        at.select_slider(key="mom.beta").set_value(beta)
        ok(at)
        gap = next(m for m in at.metric if m.label.startswith("Largest distance"))
        assert float(gap.value) < 1e-9
    # the wells' outcome is told in a closed box below the animation, which opens at step 0
    (ends_box,) = [e for e in at.expander if e.label.startswith("Where they end")]
    assert ends_box.proto.expanded is False
    deltas = [m.delta for m in ends_box.metric if m.label.startswith(("Gradient descent", "Momentum"))]
    assert deltas == ["a shallow well", "the deepest well"]
    for nth, preset in ((0, "local-minima"), (1, "ravine")):
        at = open_page("app_pages/learn_4_momentum.py")
        follow_playground_link(at, nth=nth)
        assert_on_playground(at, PRESETS[preset].setup())


# --- in a browser: no legend on an axis title ---------------------------------------------------


LEGEND_AND_TITLES = """() => [...document.querySelectorAll('.js-plotly-plot')].map(p => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  return {legend: [...p.querySelectorAll('g.legend')].map(box),
          titles: [...p.querySelectorAll('.g-xtitle text, .g-ytitle text, .g-x2title text')].map(box)};
})"""


@pytest.mark.parametrize("path", ["learn_2_batches", "learn_7_rmsprop"])
def test_legends_never_sit_on_axis_titles(page, app_url, path):
    """Issue 12: the legends of the Learn charts sat on their x-axis titles (page 2). Measured in
    Chromium: no legend box intersects an axis title's box."""
    page.goto(f"{app_url}/{path}")
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000)
    page.wait_for_selector(".js-plotly-plot g.legend", timeout=60_000)
    charts = page.evaluate(LEGEND_AND_TITLES)
    assert sum(bool(c["legend"]) for c in charts) >= 3
    for c in charts:
        for lx0, ly0, lx1, ly1 in c["legend"]:
            for tx0, ty0, tx1, ty1 in c["titles"]:
                assert lx1 <= tx0 or tx1 <= lx0 or ly1 <= ty0 or ty1 <= ly0, (path, c)
