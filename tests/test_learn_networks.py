"""Learn page 10, "Real networks": the measurements behind its four claims (with the page's own
settings, computed once per module and shared with the page through network_lessons' cache),
its figures, and the page under AppTest, whose text must carry the measured numbers."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from conftest import ok, open_page

import optimizers
from app_pages.learn_path import LEARN_PAGES
from descent_lab import network_lessons as nl
from viz import learn_networks as ln
from viz.learn_networks import percent, span

PAGE = "app_pages/learn_10_networks.py"


# the page's calls, exactly (the cache is keyed on them)
@pytest.fixture(scope="module")
def m():
    return nl.minima()


@pytest.fixture(scope="module")
def z():
    return nl.noise(batch=20)


@pytest.fixture(scope="module")
def s():
    return nl.scaling()


@pytest.fixture(scope="module")
def k():
    return nl.sharp_flat(small=8)


def valid(fig: dict) -> go.Figure:
    return go.Figure(fig)  # raises on anything Plotly's schema rejects


# --- the tools -----------------------------------------------------------------------------------


def test_hessian_is_the_matrix_of_hessian_vector_products():
    tiny = nl.lesson_net(hidden=(3,), n=30)
    w = tiny.init([1, 2])
    H = nl.hessian(tiny, w)
    assert H.shape == (2, tiny.dim, tiny.dim) and np.array_equal(H, np.swapaxes(H, 1, 2))
    v = np.random.default_rng(0).standard_normal(tiny.dim)
    np.testing.assert_allclose(H[1] @ v, tiny.hvp(w[1], v), rtol=1e-10, atol=1e-13)
    sp = nl.spectrum(tiny, w[0], step=5)
    lam = np.linalg.eigvalsh(H[0])
    assert sp.step == 5 and sp.loss == tiny.f(w[0]) and np.allclose(sp.eigenvalues, lam)
    assert sp.negative == np.sum(lam < -nl.ZERO * np.abs(lam).max())
    assert sp.down_over_up == pytest.approx(max(0.0, -lam[0]) / lam[-1])


def test_rescaled_multiplies_one_feature_of_both_data_sets():
    net = nl.lesson_net()
    big = nl.rescaled(net, (100.0, 1.0))
    np.testing.assert_array_equal(big.data.x, net.data.x * [100, 1])
    np.testing.assert_array_equal(big.test.x, net.test.x * [100, 1])
    assert np.array_equal(big.start, net.start) and big.dim == net.dim
    np.testing.assert_array_equal(net.data.x, nl.lesson_net().data.x)  # the cached net is untouched


def test_signed_log_scale():
    v = np.array([-1000.0, -0.1, -1e-5, 0.0, 1e-5, 0.1, 1000.0])
    y = ln.signed_log(v, 1e-4)
    assert np.all(np.diff(y) > 0) and np.array_equal(y, -y[::-1]) and y[3] == 0
    assert y[-1] - y[-2] == pytest.approx(4.0, abs=1e-3)  # a factor of 10^4 is 4 units, far from 0
    assert y[4] == pytest.approx(1e-5 / 1e-4 / np.log(10), rel=0.1)  # near 0: linear


def test_read_outs_for_text():
    assert span([0.0258, 0.0797, 0.04]) == "0.026 to 0.08" and span([0.5, 0.5]) == "0.5"
    assert percent([0.918, 0.94]) == "91.8 to 94.0 %" and percent([1.0]) == "100.0 %"


# --- claim 1: local minima and saddle points -------------------------------------------------------


def test_no_seed_is_stuck_and_each_finds_its_own_solution(m):
    assert m.loss.shape == (m.steps + 1, len(m.seeds)) and np.all(np.isfinite(m.loss))
    assert not m.stalled and m.final.max() < 0.2 * m.start_loss.min()
    assert np.ptp(m.final) > 0.01 * m.final.min()  # not one number
    assert m.train_acc.min() > 0.95 and m.test_acc.min() > 0.9


def test_plain_gd_crawls_on_a_plateau_that_adam_crosses(m):
    """Every GD seed ends on one loss level with a small gradient, barely moving, above where every
    Adam run ends; Adam's seed 0 crosses that level early and goes on down."""
    net = nl.lesson_net()
    assert m.gd_loss.shape == m.loss.shape and np.array_equal(m.gd_loss[0], m.loss[0])  # the same starts
    assert m.gd_plateau
    end = m.gd_loss[-1]
    assert np.ptp(end) < 0.1 * end.min() and end.min() > m.final.max()
    assert np.all(m.gd_grad_end < 0.05 * m.gd_grad_start) and np.all(m.gd_last_drop < 0.1 * end)
    np.testing.assert_allclose(m.gd_grad_start, np.linalg.norm(net.grad(net.init(m.seeds)), axis=-1))
    t = m.adam_passes
    assert 0 < t < m.steps / 2 and m.loss[t, 0] < end.min() <= m.loss[t - 1, 0]
    assert m.final[0] < 0.5 * end.min()  # ... and goes on down


def test_the_start_is_saddle_like_and_the_ends_almost_flat(m):
    """At the start many directions curve down strongly; by step 30 the strongest downward
    curvature is a few percent of the upward one; at the ends a tenth of a percent or less."""
    first, middle = m.along[0], m.along[2]
    assert first.step == 0 and middle.step == 30 and m.along[-1].step == m.steps
    assert first.negative > 0.2 * first.eigenvalues.size and first.down_over_up > 0.3
    assert middle.down_over_up < 0.1 * first.down_over_up
    for e in m.ends:
        assert e.down_over_up < 0.01 and e.negative < first.negative and e.top > 0
    assert [s.step for s in m.along] == sorted(s.step for s in m.along)
    # the spectra are the Hessians of the runs' points (seed 0's end, at the page's settings)
    assert m.along[-1].loss == pytest.approx(float(m.final[0]), rel=1e-12)
    assert np.array_equal(m.ends[0].eigenvalues, m.along[-1].eigenvalues)


def test_lines_between_solutions(m):
    """Start to end: the loss falls all along the line (Goodfellow et al.). End to end: a barrier,
    yet both networks classify nearly every test point alike."""
    net = nl.lesson_net()
    at0, at1 = m.alpha == 0, m.alpha == 1
    assert at0.sum() == 1 and at1.sum() == 1
    assert m.from_start[at0][0] == pytest.approx(float(m.start_loss[0]), rel=1e-12)
    assert m.from_start[at1][0] == pytest.approx(float(m.final[0]), rel=1e-12)
    assert m.end_losses == pytest.approx((float(m.final[0]), float(m.final[1])), rel=1e-12)
    assert m.monotone_from_start
    assert m.separated and m.barrier > max(m.end_losses)
    assert m.agreement >= 0.95
    xs, ys, p = m.boundary
    assert p.shape == (2, ys.size, xs.size)
    np.testing.assert_array_equal(p[1], net.boundary(m.end_weights[1], xs.size)[2])


# --- claim 2: mini-batch noise ---------------------------------------------------------------------


def test_mini_batch_noise(z):
    full, mini, sgd = z.runs
    assert [r.updates for r in z.runs] == [z.epochs, z.epochs * z.n // 20, z.epochs * z.n]
    assert full.epochs(z.n)[-1] == mini.epochs(z.n)[-1] == sgd.epochs(z.n)[-1] == z.epochs
    assert full.rises == 0
    assert 0.2 < mini.rises < sgd.rises
    assert sgd.wobble(z.n) > 10 * full.wobble(z.n)
    assert z.best is not full and z.best.loss[-1] < full.loss[-1]  # per epoch, more updates win


def test_noise_read_outs():
    r = nl.NoiseRun("x", 2, np.array([3.0, 2.0, 2.5, 1.0, 1.5]))
    assert r.updates == 4 and r.rises == 0.5
    np.testing.assert_array_equal(r.epochs(4), [0, 0.5, 1, 1.5, 2])
    assert r.wobble(4) == 1.5  # the last epoch: 2 updates, loss 2.5 -> 1.0 -> 1.5


# --- claim 3: badly scaled inputs ------------------------------------------------------------------


def test_adam_copes_with_a_badly_scaled_feature_and_gd_does_not(s):
    gd_plain, gd_scaled = s.best("gd", "plain")[0], s.best("gd", "scaled")[0]
    adam_plain, adam_scaled = s.best("adam", "plain")[0], s.best("adam", "scaled")[0]
    assert gd_scaled > 2 * gd_plain  # scaling costs GD a lot
    assert s.adam_wins and gd_scaled > 3 * adam_scaled
    assert s.adam_hurt and adam_scaled > adam_plain  # ... and Adam a little: the page says why
    assert s.grad_ratio["scaled"] > 3 * s.grad_ratio["plain"]
    assert s.saturated["scaled"] > 0.5 and s.saturated["plain"] < 0.05
    for key, curve in s.curves.items():
        assert curve[-1] == s.best(*key)[0] and curve.size == s.steps + 1


def test_the_spike_in_gds_best_plain_curve_is_explained(s):
    """The "Each at its best learning rate" chart: GD's plain-data curve at its best η spikes. The page
    says where and how much (read off the curve drawn), that the Hessian's top eigenvalue is above
    2 / η where the rise begins and below it where the loss is back under its earlier lowest, and
    that this η still ends lowest (the runner-up from the final losses)."""
    curve = s.curves["gd", "plain"]
    lr = s.best("gd", "plain")[1]
    lowest = np.minimum.accumulate(curve)
    ratio = curve[1:] / lowest[:-1]
    at = int(np.argmax(ratio)) + 1
    began = max(t for t in range(at) if curve[t] == lowest[t])
    back = at + int(np.flatnonzero(curve[at:] < curve[began])[0])
    spike = nl.gd_spike(lr, s.steps)
    assert (spike.rise, spike.at, spike.began, spike.back) == (ratio.max(), at, began, back)
    assert ratio.max() > 5  # a spike anyone sees on the chart
    net = nl.lesson_net()
    tr = optimizers.run(optimizers.get("gd", lr=lr), net, start=net.start, steps=s.steps)
    np.testing.assert_array_equal(tr.loss, curve)  # the spike's run is the curve drawn
    top = [float(np.linalg.eigvalsh(nl.hessian(net, tr.path[t]))[-1]) for t in (began, back)]
    assert top[0] > 2 / lr > top[1]
    f = np.sort(s.final["gd", "plain"][np.isfinite(s.final["gd", "plain"])])
    at_text = " ".join(x.value for x in open_page(PAGE).markdown)
    assert (f"(η = {lr:g}): near step {at} its loss jumps {ratio.max():.2g}-fold. The rate is too large "
            f"for where the run has got to: at step {began}, where the rise begins, the Hessian's largest "
            f"eigenvalue is {top[0]:.3g}, above 2 / η = {2 / lr:g}") in at_text
    assert (f"by step {back} the loss is back below its earlier lowest, and there the largest eigenvalue "
            f"is {top[1]:.3g}, below 2 / η") in at_text
    assert f"it ends at {f[0]:.3g}, the next best" in at_text and f") at {f[1]:.3g}." in at_text


def test_best_leaves_out_diverged_runs(s):
    assert s.lrs.size == len(nl.SCALING_LRS) and s.final["gd", "plain"].shape == s.lrs.shape
    f = s.final["gd", "scaled"]
    i = int(np.nanargmin(f))
    assert s.best("gd", "scaled") == (f[i], s.lrs[i])


# --- claim 4: sharp and flat minima ----------------------------------------------------------------


def test_small_batches_end_flatter_but_not_better(k):
    large, small = k.batches
    assert (large, small) == (200, 8)
    assert k.flatter and k.mean("sharpness", small) < 0.5 * k.mean("sharpness", large)
    assert k.large_at_edge
    assert not k.small_generalizes_better  # the page says the gap does not show
    # both trained about as far: the comparison is between comparable solutions
    assert abs(k.mean("train_loss", small) / k.mean("train_loss", large) - 1) < 0.3


def test_sharpness_is_the_top_hessian_eigenvalue(k):
    net = nl.lesson_net()
    for b in k.batches:
        lam = np.linalg.eigvalsh(nl.hessian(net, k.end_weights[b][0]))
        assert k.sharpness[b][0] == pytest.approx(lam[-1], rel=0.02)
        assert lam[-1] > abs(lam[0])  # the largest-magnitude eigenvalue is the top one
    assert k.profile[large := k.batches[0]][20] == pytest.approx(float(k.train_loss[large][0]), rel=1e-12)
    assert k.alpha[20] == 0


# --- figures ---------------------------------------------------------------------------------------


def test_figures(m, k):
    f = valid(ln.spectrum_figure(m.along, title="t"))
    assert len(f.data) == len(m.along) and f.data[0].name.startswith("step 0 (loss")
    np.testing.assert_allclose(np.array(f.data[0].y, dtype=float),
                               ln.signed_log(m.along[0].eigenvalues, ln.FLOOR))
    np.testing.assert_array_equal(np.array(f.data[0].customdata, dtype=float), m.along[0].eigenvalues)
    ticks = dict(zip(f.layout.yaxis.ticktext, f.layout.yaxis.tickvals, strict=True))
    assert ticks["0"] == 0 and ticks["10"] == pytest.approx(np.log10(1 + 10 / ln.FLOOR))
    assert ticks["−0.1"] == -ticks["0.1"]  # a typographic minus
    lo, hi = min(s.eigenvalues.min() for s in m.along), max(s.eigenvalues.max() for s in m.along)
    assert min(f.layout.yaxis.tickvals) <= ln.signed_log(lo, ln.FLOOR) / 2  # the ticks cover the values
    assert max(f.layout.yaxis.tickvals) >= ln.signed_log(hi, ln.FLOOR) - 1
    groups = [{"label": "a", "color": "#000000", "values": k.sharpness[200]},
              {"label": "b", "color": "#111111", "values": k.sharpness[8]}]
    f = valid(ln.dots_figure(groups, ytitle="y", hlines=[{"y": 4, "label": "2 / η = 4"}]))
    assert [t.name for t in f.data][-1] == "2 / η = 4" and len(f.data[0].y) == k.seeds.size
    xs, ys, p = m.boundary
    net = nl.lesson_net()
    f = valid(ln.boundary_figure(net.data.x, net.data.y, xs, ys, [{"label": "seed 0", "color": "#000000",
                                                                  "p": p[0]}]))
    assert [t.type for t in f.data] == ["scatter", "scatter", "contour"]
    assert len(f.data[0].x) + len(f.data[1].x) == net.data.n


# --- the page --------------------------------------------------------------------------------------


def test_page_is_on_the_learn_path():
    assert LEARN_PAGES[-1][0] == PAGE and LEARN_PAGES[-1][1] == "10. Real networks"


def test_page_shows_the_measured_numbers(m, z, s, k):
    at = open_page(PAGE)
    assert at.title[0].value == "Real networks"
    assert len(at.get("plotly_chart")) == 9
    assert any("Learn · page 10 of 10" in c.value for c in at.caption)
    text = " ".join(x.value for x in at.markdown)
    full, mini, sgd = z.runs
    for phrase in (
        f"end at **{span(m.final)}**", "None is stuck", f"every seed ends at {span(m.gd_loss[-1], 3)}",
        f"crosses that level at step {m.adam_passes}", f"curves down in **{m.along[0].negative}**",
        f"climbs **{m.barrier:.3g} above the worse end**", f"classify **{m.agreement:.1%}**",
        "the loss falls all the way",
        f"rises after **{mini.rises:.0%}**", f"SGD's after **{sgd.rises:.0%}**",
        f"full batch {full.loss[-1]:.3f}", "per epoch, more updates beat exact ones",
        f"GD's best is **{s.best('gd', 'scaled')[0]:.3g}**", f"Adam's **{s.best('adam', 'scaled')[0]:.3g}**",
        f"{s.saturated['scaled']:.0%} of their outputs",
        "The small batches end **flatter**", f"mean sharpness {k.mean('sharpness', 8):.2g}",
        "But flatter is not better here", "generalization gap does not show",
    ):
        assert phrase in text, phrase
    seed_colors_are_one_per_seed(at)
    at.select_slider(key="nets.batch").set_value(5)
    at.select_slider(key="nets.small").set_value(32)
    ok(at)
    text = " ".join(x.value for x in at.markdown)
    other = nl.sharp_flat(small=32)
    assert "mini-batches of 5 make 40" in text and "mini-batches of 32" in text
    assert f"{other.mean('sharpness', 32):.2g}" in text


def seed_colors_are_one_per_seed(at) -> None:
    """Section 1 as the viewer sees it: seed 0 and seed 1 each keep one colour in the loss chart, the
    straight lines and the boundaries; the line between two seeds' ends has neither colour; no mode bar
    over the titles."""
    charts = {c.proto.id.rsplit("-", 1)[-1]: c.proto for c in at.get("plotly_chart")}

    def lines(key):
        proto = next(p for k, p in charts.items() if k.endswith(key))
        assert json.loads(proto.config)["displayModeBar"] is False
        return [t for t in json.loads(proto.spec)["data"] if t.get("name") and t.get("line")]

    def color_of(traces, name):
        (t,) = [t for t in traces if t["name"] == name]
        return t["line"]["color"]

    seeds, straight, bounds = lines("nets.seeds"), lines("nets.lines"), lines("nets.boundary")
    colors = [color_of(seeds, f"Adam, seed {s}") for s in (0, 1)]
    assert colors[0] != colors[1]
    assert colors == [color_of(bounds, f"seed {s}") for s in (0, 1)]
    assert color_of(straight, "seed 0: start (0) to end (1)") == colors[0]
    between = next(t for t in straight if t["name"].startswith("seed 0's end"))
    assert between["line"]["color"] not in colors and between["line"]["dash"] == "dash"
    gd = {t["line"]["color"] for t in seeds if t["name"].startswith("GD")}
    assert not gd & set(colors)


def test_page_says_what_is_seen_when_the_claims_fail(m, z, s, k, monkeypatch):
    """The same page on measurements where every claim fails: each paragraph takes its other
    branch and says what is seen instead (no claim is printed regardless of the numbers)."""
    loss = m.loss.copy()
    loss[-1, 3] = loss[0].min()  # one seed ends where it started
    bump = m.from_start.copy()
    bump[(m.alpha > 0) & (m.alpha < 1)] += np.sin(np.pi * m.alpha[(m.alpha > 0) & (m.alpha < 1)])
    failed_m = dataclasses.replace(m, loss=loss, between=np.full_like(m.between, 0.05), from_start=bump,
                                   agreement=0.5, gd_loss=m.gd_loss * np.linspace(1, 2, m.seeds.size))
    assert failed_m.stalled and not failed_m.separated and not failed_m.monotone_from_start
    assert not failed_m.gd_plateau and not failed_m.same_function
    full, mini, sgd = z.runs
    failed_z = dataclasses.replace(z, runs=(dataclasses.replace(full, loss=full.loss * 0.1), mini, sgd))
    assert failed_z.best is failed_z.runs[0]
    final = dict(s.final)
    final["gd", "scaled"] = np.full_like(s.lrs, 1e-3)
    final["adam", "scaled"] = np.full_like(s.lrs, 2e-3)
    failed_s = dataclasses.replace(s, final=final)
    assert not failed_s.adam_wins and not failed_s.adam_hurt
    large, small = k.batches
    failed_k = dataclasses.replace(k, sharpness={large: np.ones(4), small: np.full(4, 10.0)},
                                   test_acc={large: np.full(4, 0.9), small: np.ones(4)})
    assert not failed_k.flatter and not failed_k.large_at_edge and failed_k.small_generalizes_better
    failed = {"minima": failed_m, "noise": failed_z, "scaling": failed_s, "sharp_flat": failed_k}
    for name, value in failed.items():
        monkeypatch.setattr(nl, name, lambda *a, _v=value, **kw: _v)
    at = open_page(PAGE)
    text = " ".join(x.value for x in at.markdown)
    for phrase in ("Some run stalls", "no common plateau", "does not fall all the way", "no real barrier",
                   "they found different functions", "here the exact steps win", "Here Adam does not beat GD",
                   "do not agree that the small batches end flatter",
                   "the small batches do better on the test set"):
        assert phrase in text, phrase
    for phrase in ("None is stuck", "on one **plateau**", "two valleys", "more updates beat exact ones",
                   "It is not immune", "end **flatter**", "sits near 2 / η",
                   "generalization gap does not show"):
        assert phrase not in text, phrase


# --- the lessons' runs on the Networks page ----------------------------------------------------------


def test_networks_links_reproduce_the_lessons_runs(m, z, k):
    """Each 'Open in Networks' link parses without a problem, and the Networks page's runs for it
    are the lesson's seed-0 runs: the same loss at every step (training data, start, mini-batches)."""
    from urllib.parse import parse_qsl, urlsplit

    from descent_lab import networks as dn

    def runs(link: str) -> dn.Runs:
        setup, problems = dn.from_query(dict(parse_qsl(urlsplit(link).query)))
        assert problems == [] and dn.link(setup) == link
        return dn.train(setup)

    (_, link), = nl.networks_links(m)
    r = runs(link)
    np.testing.assert_allclose(r.loss[:, 0], m.loss[:, 0], rtol=0, atol=1e-12)  # Adam, seed 0
    np.testing.assert_allclose(r.loss[:, 1], m.gd_loss[:, 0], rtol=0, atol=1e-12)  # GD, seed 0
    links = nl.networks_links(z)
    assert [label for label, _ in links] == [run.label for run in z.runs]
    for (_, link), run in zip(links, z.runs, strict=True):
        r = runs(link)
        assert r.steps == run.updates
        np.testing.assert_allclose(r.loss[:, 0], run.loss, rtol=0, atol=1e-12)
    links = nl.networks_links(k)
    assert len(links) == 2
    for (_, link), b in zip(links, k.batches, strict=True):
        assert "panel=sharpness" in link
        r = runs(link)
        assert abs(r.loss[-1, 0] - k.train_loss[b][0]) < 1e-12
        np.testing.assert_array_equal(r.path[-1, 0], k.end_weights[b][0])
        assert r.net.test.n == nl.NET["n"] // 4  # the note's claim: a smaller test set
    assert f"({nl.NET['n'] // 4} points, here 1,000)" in nl.NETWORKS_NOTE
    with pytest.raises(TypeError):
        nl.networks_links(object())


def test_open_in_networks_lands_on_the_lessons_runs(z):
    """The button opens the Networks page on the link, also after the page showed another view."""
    at = open_page("app_pages/networks.py")
    assert at.session_state["net.steps"] != z.runs[1].updates  # another view, loaded
    at.switch_page(PAGE)
    ok(at)
    at.button(key="nets.open.noise.1").click()  # mini-batches of 20
    ok(at)
    assert at.session_state["net.batch_kind"] == "a mini-batch" and at.session_state["net.batch_size"] == 20
    assert at.session_state["net.steps"] == z.runs[1].updates and at.session_state["net.r0.opt"] == "gd"
    assert at.session_state["net.r0.lr"] == pytest.approx(z.lr)
    assert at.session_state["net.run_ids"] == [0]
    assert not at.warning and not at.error
