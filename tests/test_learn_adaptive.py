"""Learn pages 5-9 (Nesterov, AdaGrad, RMSProp, Adam, reference card): their figures, the claims
they make (checked on the core) and the pages themselves under AppTest, through the navigation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from conftest import assert_on_playground, follow_playground_link, ok, open_page
from streamlit.testing.v1 import AppTest

import landscapes
import optimizers
import viz
from descent_lab import learn
from descent_lab.presets import PRESETS
from optimizers import moments
from viz import learn_adaptive as la

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60
BOWL = landscapes.get("elongated_bowl", condition=50)
ROSEN = landscapes.get("rosenbrock")
START = (-2.8, 1.5)


def run(name, surface=BOWL, start=START, steps=150, **hyper):
    return optimizers.run(optimizers.get(name, **hyper), surface, start=start, steps=steps)


def valid(fig: dict) -> go.Figure:
    return go.Figure(fig)  # raises on anything Plotly's schema rejects


# --- moments.py helpers -------------------------------------------------------------------------


def test_previous_and_sign_flips():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(moments.previous(a), [[0, 0], [1, 2]])
    assert moments.sign_flips([1, -1, 0, -2, 3, np.nan, 4]) == 2
    assert moments.sign_flips(np.zeros(5)) == 0
    np.testing.assert_array_equal(moments.sign_flips(np.array([[1, 1], [-1, 1], [1, 1]])), [2, 0])


def test_adam_first_step_formulas():
    g = np.logspace(-6, 4, 11)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    corrected = moments.adam_first_step(g, lr, b1, b2, eps)
    np.testing.assert_allclose(corrected, lr * g / (g + eps), rtol=1e-15)
    assert np.all(np.abs(corrected - lr) < lr * 1e-2)  # about lr for |g| >= 1e-6
    raw = moments.adam_first_step(g, lr, b1, b2, eps, corrected=False)
    np.testing.assert_allclose(raw, lr * (1 - b1) * g / (np.sqrt(1 - b2) * g + eps), rtol=1e-15)
    np.testing.assert_allclose(raw[3:], lr * (1 - b1) / np.sqrt(1 - b2), rtol=1e-3)  # ~3.16 lr, |g| >> eps


# --- the claims of page 5: Nesterov -------------------------------------------------------------


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.95, 0.98])
def test_lookahead_points_are_w_plus_beta_v_and_torch_iterates(beta):
    lr = PRESETS["nesterov"].setup().runs[1].hyper["lr"]
    look = run("nesterov_lookahead", lr=lr, beta=beta)
    expected = moments.lookahead_points(look.path, look.state["velocity"], beta)
    np.testing.assert_allclose(look.grad_point, expected, rtol=0, atol=1e-15)
    # the look-ahead rule's velocity is the step it took: v_t = w_{t+1} - w_t
    np.testing.assert_allclose(look.state["velocity"], np.diff(look.path, axis=0), atol=1e-14)
    torch_form = run("nesterov", lr=lr, beta=beta)
    np.testing.assert_allclose(look.grad_point, torch_form.path[:-1], rtol=1e-12, atol=1e-14)


def test_nesterov_oscillates_less_than_momentum_at_same_beta():
    """Page 5 at every beta of its slider: both runs cross the valley floor (by more than the page's
    tolerance): Nesterov can overshoot too, but crosses fewer times and swings less deep."""
    setup = PRESETS["nesterov"].setup()
    lr = setup.runs[1].hyper["lr"]
    for beta in (0.5, 0.8, 0.9, 0.95, 0.98):  # the page's beta slider
        mom = run("momentum", lr=lr, beta=beta)
        nag = run("nesterov_lookahead", lr=lr, beta=beta)
        assert 1 <= learn.crossings(nag.path[:, 1]) < learn.crossings(mom.path[:, 1]), beta
        assert np.nanmin(mom.path[:, 1]) < np.nanmin(nag.path[:, 1]) < -learn.CROSSING_TOL, beta
    # not eta = 1/L across the valley, where Nesterov would settle y in one step for any beta
    assert lr * setup.make_surface().params["condition"] != pytest.approx(1.0, abs=0.1)


def test_the_brake_step():
    """Page 5's telling step: w_t is still on the start's side of the floor, its look-ahead point is
    past it, the slope there points back, and the velocity across shrinks by more than beta alone."""
    setup = PRESETS["nesterov"].setup()
    lr, s = setup.runs[1].hyper["lr"], setup.make_surface()
    for beta in (0.5, 0.8, 0.9, 0.95, 0.98):
        nag = run("nesterov_lookahead", lr=lr, beta=beta)
        t = learn.nesterov(run("momentum", lr=lr, beta=beta), nag, s).brake
        assert t >= 1, beta
        y0, w, look = nag.path[0, 1], nag.path[t, 1], nag.grad_point[t, 1]
        assert np.sign(w) == np.sign(y0) and np.sign(look) == -np.sign(y0)
        assert abs(look) > learn.CROSSING_TOL
        assert np.sign(nag.grad[t, 1]) == np.sign(look)  # downhill there points back across
        v = nag.state["velocity"][:, 1]
        assert abs(v[t]) < beta * abs(v[t - 1])  # braked beyond the decay


def test_lookahead_figure():
    mom = run("momentum", lr=0.02, beta=0.95)
    nag = run("nesterov_lookahead", lr=0.02, beta=0.95)
    image = viz.landscape_png(BOWL)
    for step in (0, 1, 75, 149, 500):
        fig = la.lookahead_figure(BOWL, image, mom.path, nag.path, nag.grad_point, nag.grad, step)
        f = valid(fig)
        names = [t.name for t in f.data]
        assert "Momentum" in names and "Nesterov" in names
        assert "look-ahead points (gradient taken here)" in names
        cross = next(t for t in f.data if t.name == "look-ahead points (gradient taken here)")
        t = min(step, 149)
        assert len(cross.x) == t + 1
        np.testing.assert_allclose(np.array(cross.x, dtype=float), nag.grad_point[: t + 1, 0])
        assert len(f.layout.images) == 1
        ends = [d for d in f.data if d.mode == "markers" and d.hoverinfo == "skip"]
        assert all(tuple(d.marker.symbol) == ("circle-open",) for d in ends)  # starts only: no squares
        labels = next(d for d in f.data if d.mode == "markers+text")
        for x, pos in zip(labels.x, labels.textposition, strict=True):  # labels point into the map
            assert pos.endswith("right" if x < 0 else "left"), (step, x, pos)


def test_lookahead_labels_keep_apart_where_the_points_are_close():
    """Learn 5's run at its telling step 2, where w_2 and w_3 lie 0.34 apart on the map (about 25 px):
    each label sits above, level with or below its point as the point is the highest, middle or lowest
    of the three, so the labels stack in the points' order instead of running into each other."""
    from descent_lab.presets import PRESETS

    setup = PRESETS["nesterov"].setup()
    surface = setup.make_surface()
    mom, nag = (optimizers.run(optimizers.get(r.name, **r.hyper), surface, start=setup.start_point(),
                               steps=setup.steps) for r in setup.runs)
    image = viz.landscape_png(surface)
    for step in range(setup.steps):
        fig = la.lookahead_figure(surface, image, mom.path, nag.path, nag.grad_point, nag.grad, step)
        labels = next(d for d in fig["data"] if d.get("mode") == "markers+text")
        order = np.argsort(-np.asarray(labels["y"], dtype=float), kind="stable")
        assert [labels["textposition"][i].split()[0] for i in order] == ["top", "middle", "bottom"], step
    w2, w3 = nag.path[2], nag.path[3]
    assert w2[1] > w3[1] and np.linalg.norm(w2 - w3) < 0.4  # the close pair this is about


def test_series_and_map_figures():
    tr = run("adam", lr=0.1)
    f = valid(la.series_figure(la.rate_series("Adam", viz.PALETTE[0], tr.effective_lr), log_y=True,
                               yrange=la.positive_range(tr.effective_lr), title="rates", ytitle="rate"))
    assert [t.name for t in f.data] == ["Adam: x", "Adam: y"] and f.layout.yaxis.type == "log"
    f = valid(la.series_figure([{"label": "a", "color": "#000000", "y": [1, np.nan, np.inf], "x": [1, 2, 3]}],
                               log_x=True))
    assert f.data[0].y == (1.0, None, None)
    f = valid(la.map_figure(ROSEN, viz.landscape_png(ROSEN), [("GD", viz.PALETTE[0], tr.path)], title="t"))
    assert f.data[1].name == "GD"
    assert la.positive_range([np.nan, -1]) == (1e-3, 1.0)


# --- the pages, through the app's navigation ----------------------------------------------------




def assert_opens_preset(at: AppTest, label: str, preset: str) -> None:
    """Following the demo link lands on the Playground with the preset's surface and runs."""
    follow_playground_link(at, label)
    assert_on_playground(at, PRESETS[preset].setup())


def footer_ok(at: AppTest, file: str) -> None:
    assert any("Learn · page" in c.value for c in at.caption), file


def test_page_nesterov():
    at = open_page("app_pages/learn_5_nesterov.py")
    assert at.title[0].value.startswith("Nesterov")
    assert len(at.get("plotly_chart")) == 2
    footer_ok(at, "nesterov")
    for beta in (0.5, 0.98):
        at.select_slider(key="nag.beta").set_value(beta)
        for step in (0, 149):
            at.slider(key="nag.step").set_value(step)
            ok(at)
    assert_opens_preset(at, "Open this comparison in the Playground", "nesterov")


# --- the claims of pages 6 and 7: AdaGrad and RMSProp -------------------------------------------


@pytest.mark.parametrize("k", [10.0, 100.0, 1000.0])
def test_adagrad_finds_per_weight_rates_where_gd_crawls(k):
    """Page 6 (k is the page's L): the more stretched the bowl, the further GD at 1/L is left
    behind; AdaGrad ends at the same point for every L."""
    bowl = landscapes.get("elongated_bowl", condition=k)
    gd = run("gd", surface=bowl, steps=100, lr=1 / k)
    ada = run("adagrad", surface=bowl, steps=100, lr=0.5)
    assert np.linalg.norm(ada.path[-1]) < 1e-3  # AdaGrad arrives for every L
    flatter = run("gd", surface=landscapes.get("elongated_bowl", condition=k / 2), steps=100, lr=2 / k)
    assert np.linalg.norm(gd.path[-1]) > np.linalg.norm(flatter.path[-1])  # GD crawls more as L grows
    if k >= 100:
        assert np.linalg.norm(gd.path[-1]) > 1.0  # page default L = 100: GD still far away
    eff = ada.effective_lr[-1]
    assert eff[0] > 0.3 * k * eff[1]  # the flat weight x gets the larger rate, by about k
    # AdaGrad's path does not depend on the scale k (the page says so)
    ref = run("adagrad", surface=landscapes.get("elongated_bowl", condition=10.0), steps=100, lr=0.5)
    np.testing.assert_allclose(ada.path, ref.path, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("steps", [200, 400, 800, 1600])
def test_adagrad_rate_never_rises_and_run_stalls(steps):
    setup = PRESETS["adagrad-fades"].setup()
    s = setup.make_surface()
    ada = optimizers.run(setup.runs[0].optimizer(), s, start=setup.start_point(), steps=steps)
    assert np.all(np.diff(ada.effective_lr, axis=0) <= 0)
    assert np.linalg.norm(ada.path[-1] - 1.0) > 0.5  # still short of (1, 1)
    # "most of the fall happens in the first steps": 90 % of it (on the log axis) within 10 steps
    eff = ada.effective_lr
    assert np.all(np.log(eff[0] / eff[9]) > 0.9 * np.log(eff[0] / eff[-1]))


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.99, 0.999, 0.9999])
def test_rmsprop_rate_recovers(beta):
    setup = PRESETS["adagrad-fades"].setup()
    s = setup.make_surface()
    ada = optimizers.run(setup.runs[0].optimizer(), s, start=setup.start_point(), steps=setup.steps)
    hyper = {**setup.runs[1].hyper, "beta": beta}
    rms = optimizers.run(optimizers.get("rmsprop", **hyper), s, start=setup.start_point(), steps=setup.steps)
    assert rms.diverged_at == -1
    rose = learn.steps_rate_rose(rms.effective_lr)  # the page's count: steps, not weights
    assert 100 < rose <= setup.steps  # it rises again, often
    assert learn.steps_rate_rose(ada.effective_lr) == 0  # AdaGrad's never does
    if beta <= 0.999:  # a very long memory (0.9999) ends up much like AdaGrad, as the page says
        assert np.all(rms.effective_lr[-1] > ada.effective_lr[-1])
    if beta == 0.0:  # no memory: every step is lr * sign(g)
        np.testing.assert_allclose(np.abs(np.diff(rms.path, axis=0)), setup.runs[1].hyper["lr"], rtol=1e-6)


def test_page_adagrad():
    at = open_page("app_pages/learn_6_adagrad.py")
    assert at.title[0].value.startswith("AdaGrad")
    assert len(at.get("plotly_chart")) == 4
    footer_ok(at, "adagrad")
    pictures = [[c.proto.spec for c in at.get("plotly_chart")]]
    for key, value in (("ada.k", 10.0), ("ada.k", 1000.0), ("ada.steps", 200), ("ada.steps", 1600)):
        at.select_slider(key=key).set_value(value)
        ok(at)
        pictures.append([c.proto.spec for c in at.get("plotly_chart")])
        assert pictures[-1] != pictures[-2], f"{key}={value} changed no chart"
    assert_opens_preset(at, "Open AdaGrad vs RMSProp on Rosenbrock in the Playground", "adagrad-fades")


def test_page_rmsprop():
    at = open_page("app_pages/learn_7_rmsprop.py")
    assert at.title[0].value.startswith("RMSProp")
    assert len(at.get("plotly_chart")) == 4
    footer_ok(at, "rmsprop")
    steps = PRESETS["adagrad-fades"].setup().steps
    for beta in (0.0, 0.9999):
        at.select_slider(key="rms.beta").set_value(beta)
        ok(at)
        rose = next(m for m in at.metric if "RMSProp's rate rose" in m.label)
        assert f"of {steps}" in rose.label and 0 < int(rose.value) <= steps  # steps, not weights
    assert_opens_preset(at, "Open this comparison in the Playground", "adagrad-fades")


# --- the claims of page 8: Adam and Nadam -------------------------------------------------------


def adam_run(steps=600):
    setup = PRESETS["adam-nadam"].setup()
    spec = next(r for r in setup.runs if r.name == "adam")
    return optimizers.run(spec.optimizer(), setup.make_surface(), start=setup.start_point(), steps=steps)


def test_adam_moments_helpers_match_direct_formulas():
    tr = adam_run()
    h = tr.optimizer.hyper
    b1, b2, eps, lr = h["beta1"], h["beta2"], h["eps"], h["lr"]
    g = tr.grad
    # the recorded moments are the EWMAs of g and g^2 from zero
    m = np.zeros(2)
    v = np.zeros(2)
    ms, vs = [], []
    for gt in g:
        m = b1 * m + (1 - b1) * gt
        v = b2 * v + (1 - b2) * gt * gt
        ms.append(m)
        vs.append(v)
    np.testing.assert_allclose(tr.state["m"], ms, rtol=1e-12)
    np.testing.assert_allclose(tr.state["v"], vs, rtol=1e-12)
    t = np.arange(1, len(g) + 1)[:, None]
    m_hat, v_hat = moments.bias_corrected(tr.state["m"], tr.state["v"], b1, b2)
    np.testing.assert_allclose(m_hat, np.array(ms) / (1 - b1**t), rtol=1e-12)
    np.testing.assert_allclose(v_hat, np.array(vs) / (1 - b2**t), rtol=1e-12)
    # corrected updates are the steps Adam took; uncorrected ones are m / (sqrt(v) + eps)
    real = moments.adam_updates(tr.state["m"], tr.state["v"], tr.lr, b1, b2, eps)
    np.testing.assert_allclose(real, np.diff(tr.path, axis=0), rtol=1e-9, atol=1e-15)
    raw = moments.adam_updates(tr.state["m"], tr.state["v"], lr, b1, b2, eps, corrected=False)
    np.testing.assert_allclose(raw, -lr * np.array(ms) / (np.sqrt(vs) + eps), rtol=1e-12)
    # the first corrected step is lr * g / (|g| + eps); uncorrected ~3.16 times larger (page 8's text)
    np.testing.assert_allclose(real[0], -lr * g[0] / (np.abs(g[0]) + eps), rtol=1e-12)
    np.testing.assert_allclose(np.abs(real[0]), moments.adam_first_step(g[0], lr, b1, b2, eps), rtol=1e-12)
    np.testing.assert_allclose(np.abs(raw[0] / real[0]), (1 - b1) / np.sqrt(1 - b2), rtol=1e-6)
    # ... and uncorrected steps stay larger over the first hundreds of steps
    ratio = np.abs(raw / real)
    np.testing.assert_allclose(ratio, (1 - b1**t) / np.sqrt(1 - b2**t) + 0 * ratio, rtol=1e-6)
    assert np.all(ratio[:300] > 1.5)


ADAM_NADAM = PRESETS["adam-nadam"].setup()


def preset_run(name, steps=600, **hyper):
    spec = next(r for r in ADAM_NADAM.runs if r.name == name)
    opt = optimizers.get(name, **{**spec.hyper, **hyper})
    return optimizers.run(opt, ADAM_NADAM.make_surface(), start=ADAM_NADAM.start_point(), steps=steps)


def test_nadam_claims_of_page_8():
    """Page 8: at the same lr Nadam stays below Adam from an early step on and ends closer; at
    lr = 0.1 its loss jumps by a large factor near step 500, recovers, and ends behind Adam."""
    adam, nadam = preset_run("adam"), preset_run("nadam")
    lead = learn.ahead_from(nadam.loss, adam.loss)
    assert 0 < lead <= 20 and np.all(nadam.loss[lead:] < adam.loss[lead:])
    star = ROSEN.minima[0]
    assert np.linalg.norm(nadam.path[-1] - star) < 0.6 * np.linalg.norm(adam.path[-1] - star)
    assert min(np.linalg.norm(t.path[-1] - star) for t in (adam, nadam)) > 0.1  # neither is there yet
    hot_adam, hot = preset_run("adam", lr=0.1), preset_run("nadam", lr=0.1)
    rise, at = learn.largest_rise(hot.loss)
    assert rise > 100 and 400 <= at <= 550
    assert hot.loss[-1] < 0.01 * hot.loss[at]  # it recovers ...
    assert hot.loss[-1] > 10 * hot_adam.loss[-1]  # ... but ends behind Adam at the same lr


def test_adam_default_lr_is_too_small_for_this_map():
    """Page 8's caption: each Adam step moves a weight by about lr, so at the course's 0.001 the
    run barely moves in 600 steps on this map."""
    slow = preset_run("adam", lr=0.001)
    assert np.abs(np.diff(slow.path, axis=0)).max() <= 0.001 * 1.001
    moved = np.linalg.norm(slow.path[-1] - slow.path[0])
    assert moved < 0.1 < np.linalg.norm(slow.path[0] - ROSEN.minima[0]) / 20


def test_nadam_schedule_read_out():
    """The caption's mu_t values are PyTorch NAdam's (the core's recorded momentum products)."""
    nadam = preset_run("nadam", steps=50)
    prod = nadam.state["mu_product"][:, 0]  # the same for both weights
    psi = nadam.optimizer.hyper["momentum_decay"]
    mu = prod / np.concatenate([[1.0], prod[:-1]])  # mu_t = prod_t / prod_{t-1}
    np.testing.assert_allclose(mu, learn.nadam_mu(np.arange(1, 51), 0.9, psi), rtol=1e-12)
    assert learn.nadam_mu(1, 0.9, 0.004) == pytest.approx(0.45, abs=0.01)
    assert learn.nadam_mu(600, 0.9, 0.004) < 0.5 < 0.89 < learn.nadam_mu(100, 0.9, 1.0)  # Keras: ~0.9 by 100


def test_read_outs():
    assert learn.ahead_from([1, 3, 1, 1], [2, 2, 2, 2]) == 2
    assert learn.ahead_from([1, 1], [2, 2]) == 0 and learn.ahead_from([1, 3], [2, 2]) == -1
    assert learn.largest_rise([4.0, 2.0, 3.0, 1.0, 5.0]) == (5.0, 4)
    assert learn.largest_rise([3.0, 2.0, 1.0]) == (1.0, 0)
    assert learn.largest_rise([1.0, 2.0, np.nan]) == (2.0, 1)  # NaN (after a divergence) is left out
    assert learn.steps_rate_rose([[1, 1], [2, 2], [2, 1], [3, 0]]) == 2
    # bursts: runs of steps above twice the lowest before; each with its first step and peak ratio
    assert learn.loss_bursts([4.0, 2.0, 5.0, 1.0, 3.0, 2.5, 1.0, 1.9]) == ((2, 2.5), (4, 3.0))
    assert learn.loss_bursts([3.0, 2.0, 1.0]) == () == learn.loss_bursts([1.0, 0.5, np.nan, 3.0])  # NaN: over
    # the largest one-step fall of a rate, at the steps asked about only (rate of step t: row t - 1)
    rates = [[1.0, 1.0], [0.5, 1.0], [0.5, 0.2], [0.4, 0.2]]
    assert learn.largest_rate_fall(rates, [2, 3, 4]) == (0.2, 3, 1)
    assert learn.largest_rate_fall(rates, [2, 4, 9]) == (0.5, 2, 0)
    assert learn.largest_rate_fall(rates, [1, 9]) == (1.0, 0, 0)


def test_page_adam():
    at = open_page("app_pages/learn_8_adam.py")
    assert at.title[0].value.startswith("Adam")
    assert len(at.get("plotly_chart")) == 6  # moments x and y, steps, first step, map, loss
    footer_ok(at, "adam")
    text = " ".join(m.value for m in at.markdown)
    adam, nadam = preset_run("adam"), preset_run("nadam")
    assert f"From step {learn.ahead_from(nadam.loss, adam.loss)} on, Nadam's loss stays below Adam's" in text
    assert "J* is the lowest value of the loss" in " ".join(c.value for c in at.caption)
    at.toggle(key="adam.correct").set_value(False)
    for shown in (10, 600):
        at.select_slider(key="adam.shown").set_value(shown)
        ok(at)
    assert_opens_preset(at, "Open this comparison in the Playground", "adam-nadam")


# --- page 9: the reference card -----------------------------------------------------------------


def test_page_reference_card():
    at = open_page("app_pages/learn_9_reference.py")
    assert at.title[0].value == "Reference card"
    footer_ok(at, "reference")
    codes = iter(c.value for c in at.code)
    names = optimizers.names()
    for n in names:  # PyTorch's constructor for each, Keras's where Keras has the optimizer (RAdam: not)
        rule = optimizers.rule(n)
        torch_code = next(codes)
        assert torch_code.endswith(rule.torch_code(rule.defaults())), n  # the registry's constructor
        if rule.keras_code(rule.defaults()) is not None:
            assert next(codes).endswith(rule.keras_code(rule.defaults())), n
        for p in rule.params:
            if not rule.form_of:  # another form's code carries the torch form's numbers
                assert f"{p.default:g}" in torch_code, (n, p.name, torch_code)
        assert any(rule.label == h.value for h in at.subheader)
    latex = [e.value for e in at.latex]
    for n in names:
        assert any(optimizers.rule(n).formula in t for t in latex), n
    text = " ".join(m.value for m in at.markdown) + " ".join(i.value for i in at.info)
    for phrase in ("exactly PyTorch's steps", "1e-7", "alpha", "rho", "initial_accumulator_value",
                   "momentum_decay", "0.001"):
        assert phrase in text, phrase
    assert "tests/" not in text and "scripts/" not in text and ".py" not in text  # no repository paths
    assert next(codes, None) is None  # no code block beyond those
    for c in (c.value for c in at.code):  # laid out for a narrow column: comments on own lines, short lines
        for line in c.splitlines():
            assert len(line) <= 56, line
            assert "#" not in line or line.startswith("#"), line
