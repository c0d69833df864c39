"""The Explore page: its batches equal single runs, its figures are valid Plotly, the page never crashes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from conftest import ok
from streamlit.testing.v1 import AppTest

import landscapes
import optimizers
import viz
from app_pages import explore as ex
from descent_lab import explore as dx
from descent_lab import explore_link as el
from viz import explore as vx

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "app_pages" / "explore.py")


# --- the batches against single runs ---------------------------------------------------------------


@pytest.mark.parametrize(("surface", "name", "xname", "yname"), [
    ("rosenbrock", "adam", "lr", "beta1"),
    ("himmelblau", "momentum", "lr", "beta"),
    ("wells", "gd", "lr", "noise"),
    ("elongated_bowl", "rmsprop", "eps", "beta"),
    ("regression", "nadam", "beta2", "momentum_decay"),
])
def test_sweep_cell_equals_the_single_run(surface, name, xname, yname):
    s = landscapes.get(surface)
    xp, yp = dx.sweep_param(name, xname), dx.sweep_param(name, yname)
    xs = xp.sweep(*dx.sweep_range(xp), 9)
    ys = yp.sweep(*dx.sweep_range(yp), 7)
    start = (float(s.start[0]), float(s.start[1]))
    res = dx.sweep(s, start, name, xname, xs, yname, ys, 120, 0.05)
    assert res.gap.shape == res.diverged_at.shape == res.reached_at.shape == (7, 9)
    rng = np.random.default_rng(0)
    for j, i in [(0, 0), (6, 8), *zip(rng.integers(0, 7, 4), rng.integers(0, 9, 4), strict=True)]:
        hyper, noise = dx.cell_hyper(name, xname, xs[i], yname, ys[j])
        tr = optimizers.run(optimizers.get(name, **hyper), s, start=start, steps=120, noise=noise, seed=0)
        assert np.array_equal(res.final[j, i], tr.path[-1], equal_nan=True)
        assert np.array_equal(res.loss[j, i], tr.loss[-1], equal_nan=True)
        assert res.diverged_at[j, i] == tr.diverged_at
        assert res.reached_at[j, i] == optimizers.outcome(tr, s, 0.05).reached_at


def test_sweep_values_cover_the_range_inside_bounds():
    lr = dx.sweep_param("adam", "lr")
    v = lr.sweep(1e-4, 1.0, 5)
    assert v[0] == 1e-4 and v[-1] == 1.0
    assert np.allclose(np.diff(np.log10(v)), 1.0)
    beta = dx.sweep_param("adam", "beta1")
    b = beta.sweep(0.0, 0.9999, 5)
    assert b[0] == 0.0 and b[-1] == 0.9999 and np.all(b <= beta.hi)
    assert np.allclose(-np.log10(1 - b), [0, 1, 2, 3, 4])


def test_sweep_with_extreme_settings_is_data_not_an_error():
    s = landscapes.get("goldstein_price")
    lr = dx.sweep_param("gd", "lr")
    xs = lr.sweep(1e-6, 10.0, 6)
    ys = optimizers.NOISE.sweep(0.001, 10.0, 4)
    res = dx.sweep(s, (-1.5, 1.5), "gd", "lr", xs, "noise", ys, 200, 0.01)
    assert (res.diverged_at[:, -1] >= 0).all()  # lr 10 blows up
    fig = vx.sweep_figure(res.gap, res.diverged_at, xs, ys, x_label="lr", y_label="σ", y_scale="log")
    go.Figure(fig)


@pytest.mark.parametrize("surface", ["rosenbrock", "wells", "booth", "regression"])
def test_best_lr_is_the_argmin_of_the_sweep(surface):
    s = landscapes.get(surface)
    start = tuple(map(float, s.start))
    for name in ("gd", "momentum", "adam", "rmsprop"):
        r = dx.lr_sweep(s, start, name, 200)
        singles = [optimizers.run(optimizers.get(name, lr=lr), s, start=start, steps=200) for lr in r.lrs]
        gaps = np.array([t.loss[-1] - s.global_min for t in singles])
        ok = np.array([t.diverged_at < 0 for t in singles]) & np.isfinite(gaps)
        assert np.array_equal(r.gap, gaps, equal_nan=True)
        assert r.best is not None and ok[r.best]
        assert r.gap[r.best] == gaps[ok].min()
        assert r.best == int(np.argmin(np.where(ok, gaps, np.inf)))
        assert np.array_equal(r.loss[:, r.best], singles[r.best].loss)  # the race shows that very run


def test_best_lr_when_everything_diverges():
    assert dx.best_index(np.array([np.nan, np.nan]), np.array([3, 1])) is None
    assert dx.best_index(np.array([np.nan, 2.0, 1.0]), np.array([3, -1, -1])) == 2


@pytest.mark.parametrize(("surface", "name", "lr"), [
    ("wells", "gd", 0.01), ("wells", "momentum", 0.01), ("himmelblau", "adam", 0.05),
    ("six_hump_camel", "momentum", 0.01), ("rastrigin", "gd", 0.001), ("rosenbrock", "gd", 0.01),
])
def test_basin_labels_agree_with_single_runs(surface, name, lr):
    s = landscapes.get(surface)
    tol = 0.1
    xs, ys, labels = dx.basin_labels(s, name, {"lr": lr}, 30, 200, tol)
    assert labels.shape == (30, 30)
    rng = np.random.default_rng(1)
    for j, i in zip(rng.integers(0, 30, 8), rng.integers(0, 30, 8), strict=True):
        tr = optimizers.run(optimizers.get(name, lr=lr), s, start=(xs[i], ys[j]), steps=200)
        o = optimizers.outcome(tr, s, tol)
        want = -1 if tr.diverged_at >= 0 else (int(o.nearest) if o.reached_at >= 0 else -2)
        assert labels[j, i] == want, (j, i)


def test_noise_cloud_rows_are_seeded_single_runs():
    s = landscapes.get("himmelblau")
    c = dx.noise_cloud(s, (0.0, 0.0), "momentum", {"lr": 0.005}, 80, 6, 2.0, None)
    assert c.path.shape == (81, 6, 2) and c.loss.shape == (81, 6)
    for r in (0, 5):
        tr = optimizers.run(optimizers.get("momentum", lr=0.005), s, start=(0.0, 0.0), steps=80, noise=2.0,
                            seed=r)
        assert np.array_equal(c.path[:, r], tr.path)
    ref = optimizers.run(optimizers.get("momentum", lr=0.005), s, start=(0.0, 0.0), steps=80)
    assert np.array_equal(c.clean_path, ref.path)
    d = landscapes.get("regression")
    c = dx.noise_cloud(d, tuple(d.start), "gd", {"lr": 0.01}, 50, 4, 0.0, 8)
    tr = optimizers.run(optimizers.get("gd", lr=0.01), d, steps=50, seed=3, batch_size=8)
    assert np.array_equal(c.path[:, 3], tr.path)


# --- figures -------------------------------------------------------------------------------------


def _sweep_fig(metric="gap"):
    s = landscapes.get("rosenbrock")
    xs = dx.sweep_param("momentum", "lr").sweep(1e-4, 1.0, 12)
    ys = dx.sweep_param("momentum", "beta").sweep(0.0, 0.999, 10)
    res = dx.sweep(s, (-1.5, 2.0), "momentum", "lr", xs, "beta", ys, 100, 0.01)
    values = res.gap if metric == "gap" else res.reached_at.astype(float)
    fig = vx.sweep_figure(values, res.diverged_at, xs, ys, x_label="lr", y_label="beta", y_scale="log1m",
                          metric=metric, title="t")
    return res, fig


@pytest.mark.parametrize("metric", ["gap", "steps"])
def test_sweep_figure_is_valid_and_marks_diverged_cells(metric):
    res, fig = _sweep_fig(metric)
    go.Figure(fig)
    div = res.diverged_at >= 0
    assert div.any() and not div.all()
    names = [t.get("name") for t in fig["data"]]
    crosses = fig["data"][names.index("diverged")]
    assert crosses["showlegend"] and len(crosses["x"]) == div.sum()
    grey = fig["data"][names.index("diverged cells")]
    assert np.array_equal(np.isfinite(grey["z"]), div)
    assert np.isnan(fig["data"][0]["z"][div]).all()  # the value colours skip diverged cells
    cells = fig["data"][-1]
    assert cells["name"] == "cells" and len(cells["x"]) == div.size
    k = int(np.flatnonzero(div.ravel())[0])
    assert "diverged at step" in cells["text"][k]
    assert "lr = " in cells["text"][0] and "beta = " in cells["text"][0]
    if metric == "steps":
        assert any("not within" in (n or "") for n in names)


def test_sweep_figure_when_every_cell_diverges():
    xs, ys = np.array([1.0, 2.0]), np.array([0.1, 0.2])
    fig = vx.sweep_figure(np.full((2, 2), np.nan), np.full((2, 2), 3), xs, ys, x_label="a", y_label="b")
    go.Figure(fig)
    cells = fig["data"][-1]
    assert cells["name"] == "cells" and all(t.endswith("diverged at step 3") for t in cells["text"])
    fig = vx.sweep_figure(np.zeros((2, 2)), np.full((2, 2), -1), xs, ys, x_label="a", y_label="b",
                          x_scale="linear")
    go.Figure(fig)
    assert all(t.endswith("final J − J* = 0") for t in fig["data"][-1]["text"])
    np.testing.assert_allclose(np.asarray(fig["data"][-1]["x"], dtype=float), [1, 2, 1, 2])  # linear x


def test_fair_comparison_figures_are_valid():
    s = landscapes.get("rosenbrock")
    results = [dx.lr_sweep(s, (-1.5, 2.0), n, 100) for n in ("gd", "adam")]
    curves = [(r.name, viz.PALETTE[i], r.gap, r.diverged_at, r.best) for i, r in enumerate(results)]
    fig = vx.sensitivity_figure(dx.FAIR_LRS, curves)
    go.Figure(fig)
    assert any(t.get("name") == "diverged (×)" for t in fig["data"])
    go.Figure(vx.race_figure(s.global_min, [(r.name, "#000000", r.loss[:, r.best]) for r in results]))


@pytest.mark.parametrize("surface", ["wells", "rastrigin", "goldstein_price", "six_hump_camel"])
def test_basin_figure_is_valid_with_shared_colours(surface):
    s = landscapes.get(surface)
    maps = []
    for name in ("gd", "adam"):
        xs, ys, labels = dx.basin_labels(s, name, {"lr": 0.01}, 20, 60, 0.1)
        maps.append((name, labels))
    fig = vx.basin_figure(s, xs, ys, maps, tol=0.1)
    go.Figure(fig)
    heat = [t for t in fig["data"] if t["type"] == "heatmap"]
    assert len(heat) == 2 and heat[0]["colorscale"] == heat[1]["colorscale"]
    cls, names, colors = vx.basin_classes(s)
    assert len(cls) == len(s.minima) and len(names) == len(colors) <= 8
    assert names[-2:] == ["not converged", "diverged"]


@pytest.mark.parametrize(("surface", "name"), [("rosenbrock", "gd"), ("wells", "momentum"),
                                              ("goldstein_price", "adam"), ("himmelblau", "gd")])
def test_basin_lr_converges_from_the_most_starts(surface, name):
    s = landscapes.get(surface)
    lrs = dx.BASIN_LRS
    lr = dx.basin_lr(s, name, 150, 0.1, n=6)
    converged = np.array([(dx.basin_labels(s, name, {"lr": v}, 6, 150, 0.1)[2] >= 0).sum() for v in lrs])
    best = np.flatnonzero(converged == converged.max())
    assert lr == lrs[best[len(best) // 2]]
    assert lr in dx.BASIN_LRS and converged.max() > 0


def test_basin_figure_while_computing_and_its_click_grid():
    s = landscapes.get("wells")
    xs, ys, labels = dx.basin_labels(s, "gd", {"lr": 0.05}, 100, 40, 0.1)
    fig = vx.basin_figure(s, xs, ys, [("GD", labels), ("Adam", None)], tol=0.1)
    go.Figure(fig)
    assert len([t for t in fig["data"] if t["type"] == "heatmap"]) == 1  # Adam's map is still pending
    assert any(a["text"] == "computing …" for a in fig["layout"]["annotations"])
    clicks = [t for t in fig["data"] if t.get("name") == vx.BASIN_CLICKS]
    k = vx.click_stride(100)
    assert len(clicks) == 1 and k == 4 and len(clicks[0]["text"]) == 25 * 25
    # point index jj * 25 + ii is the start (xs[ii k], ys[jj k]), and its text is that start's label
    _, names, _ = vx.basin_classes(s)
    for jj, ii in [(0, 0), (7, 21), (24, 24)]:
        p = jj * 25 + ii
        assert np.isclose(viz_value(clicks[0]["x"], p), xs[ii * k], atol=1e-6)
        assert np.isclose(viz_value(clicks[0]["y"], p), ys[jj * k], atol=1e-6)
        want = labels[jj * k, ii * k]
        assert clicks[0]["text"][p] == ("diverged" if want == -1 else "not converged" if want == -2
                                        else names[want].split(" (")[0])
    pending = vx.basin_figure(s, xs, ys, [("GD", None)], tol=0.1)
    assert not [t for t in pending["data"] if t["type"] == "heatmap"]
    legend = [t["name"] for t in pending["data"] if isinstance(t["x"], list) and t["x"] == [None]]
    assert len(legend) == len(s.minima) + 2 and not any("%" in n for n in legend)


def viz_value(arr, i: int) -> float:
    return float(np.asarray(arr).ravel()[i])


def test_noise_figures_are_valid_with_diverged_runs():
    s = landscapes.get("rosenbrock")
    c = dx.noise_cloud(s, (-1.5, 2.0), "gd", {"lr": 0.0021}, 100, 20, 3.0, None)
    assert 0 < np.isnan(c.loss[-1]).sum() < 20  # some runs diverge: still a figure
    go.Figure(vx.cloud_figure(s, viz.landscape_png(s), c.path, c.clean_path, label="x"))
    fig = vx.band_figure(s.global_min, c.loss, c.clean_loss)
    go.Figure(fig)
    assert "diverged" in fig["layout"]["title"]["text"]
    go.Figure(vx.band_figure(s.global_min, np.full((5, 3), np.nan), None))


# --- the page under AppTest ----------------------------------------------------------------------


@pytest.fixture
def page():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def show(at: AppTest, section: str) -> AppTest:
    at.session_state["explore.tab"] = section
    return ok(at)


def test_page_defaults(page):
    assert [t.label for t in page.tabs] == ex.SECTIONS
    # the sweep map, and its phone layout (shown instead on a narrow screen): the same cells
    wide, phone = (json.loads(c.proto.spec) for c in page.get("plotly_chart"))
    assert [c.key for c in page.get("plotly_chart")] == ["explore.sweep_chart", "explore.sweep_chart_phone"]
    assert [d["z"] for d in wide["data"] if d["type"] == "heatmap"] == [
        d["z"] for d in phone["data"] if d["type"] == "heatmap"]
    bar = next(d for d in phone["data"] if "colorbar" in d)["colorbar"]
    assert bar["orientation"] == "h"  # under the map, not beside it
    assert page.selectbox(key="explore.sw.opt").value == "adam"
    assert page.session_state["explore.sweep_ctx"]["name"] == "adam"


@pytest.mark.parametrize("section", ex.SECTIONS)
@pytest.mark.parametrize("surface", ["rosenbrock", "wells", "regression"])
def test_every_section_on_surfaces(page, section, surface):
    page.selectbox(key="explore.surface").set_value(surface)
    page.select_slider(key="explore.steps").set_value(150)
    ok(page)
    show(page, section)
    assert page.get("plotly_chart"), section


def test_sweep_controls_and_extremes(page):
    page.selectbox(key="explore.sw.opt").set_value("gd")
    ok(page)
    assert page.selectbox(key="explore.sw.gd.y").value == "noise"
    page.radio(key="explore.sw.metric").set_value("steps")
    page.slider(key="explore.sw.n").set_value(10)
    ok(page)
    page.select_slider(key="explore.sw.gd.lr.range").set_value((1.0, 10.0))
    page.select_slider(key="explore.steps").set_value(2000)
    ok(page)
    page.select_slider(key="explore.sw.gd.lr.range").set_value((10.0, 10.0))  # a neighbour is added
    page.select_slider(key="explore.steps").set_value(10)
    ok(page)
    page.selectbox(key="explore.sw.opt").set_value("nadam")
    ok(page)
    page.selectbox(key="explore.sw.nadam.x").set_value("eps")
    ok(page)


@pytest.mark.parametrize("chart", ["sweep_chart", "sweep_chart_phone"])
def test_click_on_a_cell_queues_the_playground_setup(page, chart):
    ex_ctx = page.session_state["explore.sweep_ctx"]
    point = {"point_index": 41, "curve_number": ex_ctx["curve"]}
    page.session_state[f"explore.{chart}"] = {"selection": {"points": [point]}}
    # the callback itself, as Streamlit would call it
    from unittest import mock

    with mock.patch.object(ex.st, "session_state", page.session_state):
        ex.open_cell(chart)
    setup = page.session_state[ex.GOTO]
    assert setup.runs[0].name == "adam"
    assert setup.runs[0].hyper["lr"] == ex_ctx["xs"][1] and setup.runs[0].hyper["beta1"] == ex_ctx["ys"][1]
    assert setup.start == (-1.5, 2.0) and setup.steps == 500
    assert setup.runs[0].hyper["lr"] == 1.27e-4 and setup.runs[0].hyper["beta1"] == 0.16  # rounded values


def test_click_on_a_basin_start_queues_the_playground_setup(page):
    show(page, ex.SECTIONS[2])
    page.selectbox(key="explore.surface").set_value("wells")
    page.select_slider(key="explore.basin.n").set_value(50)
    ok(page)
    ctx = page.session_state["explore.basin_ctx"]
    assert len(ctx["clicks"]) == 3 and ctx["stride"] == 2  # a 25 x 25 click grid on 50 x 50 starts
    lrs = {name: page.session_state[f"explore.basin.wells.{name}.lr"] for name in ex.BASIN_DEFAULT}
    assert [name for name, _ in ctx["runs"]] == ex.BASIN_DEFAULT
    point = {"point_index": 7 * 25 + 11, "curve_number": ctx["clicks"][1]}
    page.session_state["explore.basins1"] = {"selection": {"points": [point]}}
    from unittest import mock

    with mock.patch.object(ex.st, "session_state", page.session_state):
        ex.open_start(1)
    setup = page.session_state[ex.GOTO]
    assert setup.surface == "wells" and setup.start == dx.rounded_start(ctx["xs"], ctx["ys"], 22, 14)
    cell = ctx["xs"][1] - ctx["xs"][0]
    assert setup.start == pytest.approx((ctx["xs"][22], ctx["ys"][14]), abs=0.1 * cell)
    assert all(len(str(v)) <= 6 for v in setup.start), setup.start  # short numbers in the link
    assert [r.name for r in setup.runs] == ex.BASIN_DEFAULT
    assert [r.hyper["lr"] for r in setup.runs] == [lrs[name] for name in ex.BASIN_DEFAULT]
    # a click on anything but a click grid (a minimum's star) opens nothing
    page.session_state[ex.GOTO] = None
    page.session_state["explore.basins0"] = {"selection": {"points": [{"point_index": 0,
                                                                      "curve_number": ctx["clicks"][0] + 1}]}}
    with mock.patch.object(ex.st, "session_state", page.session_state):
        ex.open_start(0)
    assert page.session_state[ex.GOTO] is None


def test_basin_maps_have_their_own_figures_legends_and_named_rates(page):
    show(page, ex.SECTIONS[2])
    page.selectbox(key="explore.surface").set_value("wells")
    page.select_slider(key="explore.basin.n").set_value(25)
    ok(page)
    charts = page.get("plotly_chart")
    assert len(charts) == 3
    import json

    for chart, name in zip(charts, ex.BASIN_DEFAULT, strict=True):
        fig = json.loads(chart.proto.spec)
        heat = [t for t in fig["data"] if t["type"] == "heatmap"]
        assert len(heat) == 1 and ex.label(name) in heat[0]["name"]
        assert fig["layout"]["legend"]["title"]["text"] == "where the runs end (% of starts)"
        shares = [t["name"] for t in fig["data"] if t["x"] == [None] and "%: " in t["name"]]
        total = sum(int(n.split("%")[0]) for n in shares)
        assert 97 <= total <= 103, shares  # this map's own shares (rounded)
    labels = [s.label for s in page.select_slider if s.key and s.key.endswith(".lr")]
    assert labels == [f"{ex.label(n)}: η (learning rate)" for n in ex.BASIN_DEFAULT]


def test_fair_and_basin_extremes(page):
    show(page, ex.SECTIONS[1])
    page.multiselect(key="explore.fair.opts").set_value([])
    ok(page)
    page.multiselect(key="explore.fair.opts").set_value(["adagrad", "nesterov_lookahead"])
    ok(page)
    page.selectbox(key="explore.surface").set_value("goldstein_price")
    ok(page)
    show(page, ex.SECTIONS[2])
    page.multiselect(key="explore.basin.opts").set_value(["gd"])
    page.select_slider(key="explore.basin.goldstein_price.gd.lr").set_value(10.0)
    page.select_slider(key="explore.basin.n").set_value(25)
    ok(page)
    page.selectbox(key="explore.surface").set_value("rastrigin")
    ok(page)
    show(page, ex.SECTIONS[3])
    page.select_slider(key="explore.noise.sigma").set_value(10.0)
    page.slider(key="explore.noise.runs").set_value(200)
    ok(page)


# --- links, rounded cells, the best cell, legends -------------------------------------------------


def test_sweep_values_are_rounded_to_what_the_map_resolves():
    lr = dx.sweep_param("adam", "lr")
    exact = lr.sweep(1e-4, 1.0, 40)
    shown = dx.sweep_values(lr, 1e-4, 1.0, 40)
    assert 0.307 in shown and 0.30702906297578497 not in shown
    spacing = np.minimum(np.r_[np.inf, np.diff(exact)], np.r_[np.diff(exact), np.inf])
    assert np.all(np.abs(shown - exact) <= spacing / 20)  # far below a cell
    assert np.all(np.diff(shown) > 0) and shown[0] == 1e-4 and shown[-1] == 1.0
    assert max(len(f"{v:g}".replace("0.", "").lstrip("0")) for v in shown) <= 4
    beta = dx.sweep_param("adam", "beta1")
    b = dx.sweep_values(beta, 0.0, 0.999, 40)
    assert np.all(np.diff(b) > 0) and b[-1] == 0.999 and np.all(b <= beta.hi)
    ticks = vx.sweep_figure(np.ones((40, 3)), np.full((40, 3), -1), [0.01, 0.1, 1.0], b, x_label="lr",
                            y_label="β", y_scale="log1m")["layout"]["yaxis"]
    assert ticks["ticktext"] == ["0", "0.9", "0.99", "0.999"]  # up to the top value, 0.999, itself
    assert "0, 0.9, 0.99, 0.999 equally far apart" in ticks["title"]["text"]


def test_best_cell_is_outlined_and_diverged_only_in_the_legend_when_some_run_diverged():
    res, fig = _sweep_fig("gap")
    names = [t.get("name") for t in fig["data"]]
    assert "lowest final J − J*" not in names  # no best passed
    xs, ys = res.xs, res.ys
    fig = vx.sweep_figure(res.gap, res.diverged_at, xs, ys, x_label="lr", y_label="beta", y_scale="log1m",
                          best=res.best())
    mark = next(t for t in fig["data"] if t.get("name") == "lowest final J − J*")
    j, i = res.best()
    assert np.isclose(mark["x"][0], np.log10(xs[i])) and np.isclose(mark["y"][0], -np.log10(1 - ys[j]))
    y = fig["layout"]["yaxis"]  # the title names the ticks the axis shows, no more
    shown = ", ".join(y["ticktext"])
    assert y["title"]["text"].endswith(f"(log scale of 1 − value: {shown} equally far apart)")
    calm = vx.sweep_figure(np.ones((3, 3)), np.full((3, 3), -1), xs[:3], ys[:3], x_label="lr", y_label="b")
    assert not any(t.get("name") == "diverged" for t in calm["data"])
    s = landscapes.get("booth")
    _, _, labels = dx.basin_labels(s, "gd", {"lr": 0.01}, 10, 100, 0.1)
    assert (labels != -1).all()
    fig = vx.basin_figure(s, *dx.grid_starts(s, 10)[:2], [("GD", labels)], tol=0.1)
    legend = [t["name"] for t in fig["data"] if isinstance(t["x"], list) and t["x"] == [None]]
    assert not any(n.startswith("diverged") for n in legend)


def test_fastest_cell():
    res = dx.Sweep(np.arange(2.0), np.arange(2.0), np.zeros((2, 2, 2)), np.zeros((2, 2)),
                   np.array([[0.5, 0.1], [0.2, 0.3]]), np.array([[5, 7], [5, -1]]), np.full((2, 2), -1))
    assert res.fastest() == (1, 0)  # step 5 twice: the lower J − J*
    assert res.best() == (0, 1)


def test_fair_table_counts_what_it_says():
    s = landscapes.get("rosenbrock")
    r = dx.lr_sweep(s, (-1.5, 2.0), "adam", 300)
    singles = [optimizers.run(optimizers.get("adam", lr=lr), s, start=(-1.5, 2.0), steps=300) for lr in r.lrs]
    assert r.not_diverged() == sum(t.diverged_at < 0 for t in singles)
    near = sum(t.diverged_at < 0 and np.min(np.linalg.norm(s.minima - t.path[-1], axis=1)) <= dx.FAIR_TOL
               for t in singles)
    assert r.near_a_minimum() == near < r.not_diverged()  # not diverging is not the same as converging


def test_page_reads_a_link_and_writes_its_settings():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params.update({"section": "basins", "surface": "wells", "optimizers": "gd,adam", "starts": "25",
                            "tol": "0.05", "gd.lr": "0.02", "steps": "150", "evil": "x"})
    ok(at)
    assert at.session_state["explore.tab"] == ex.SECTIONS[2]
    assert at.multiselect(key="explore.basin.opts").value == ["gd", "adam"]
    assert at.select_slider(key="explore.basin.wells.gd.lr").value == 0.02
    assert any("evil" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) == 2
    q = {k: v for k, v in at.query_params.items()}
    q = {k: v[-1] if isinstance(v, list) else v for k, v in q.items()}
    assert q["section"] == "basins" and q["optimizers"] == "gd,adam" and q["gd.lr"] == "0.02"
    assert q["starts"] == "25" and q["steps"] == "150" and "evil" not in q and "adam.lr" in q
    show(at, ex.SECTIONS[0])
    at.selectbox(key="explore.sw.opt").set_value("gd")
    ok(at)
    q = {k: v[-1] if isinstance(v, list) else v for k, v in at.query_params.items()}
    assert q["section"] == "sweep" and q["opt"] == "gd" and "optimizers" not in q


@pytest.mark.parametrize("query", [
    {"section": "sweep", "opt": "nadam", "x": "eps", "y": "eps", "xrange": "nan,1e400", "cells": "-5",
     "steps": "50", "metric": "<script>", "tol": "1e999"},
    {"section": "fair", "optimizers": "x" * 299, "steps": "20", "surface": "regression", "n": "1e12"},
    {"section": "basins", "optimizers": ",,,adam,adam,gd", "starts": "abc", "gd.lr": "-1", "steps": "30",
     "surface": "rastrigin"},
    {"section": "noise", "surface": "regression", "opt": "adam", "lr": "inf", "sigma": "0", "batch": "3",
     "runs": "9999", "steps": "40", "start": "1e308,-1e308"},
])
def test_hostile_links_show_a_warning_not_an_error(query):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params.update(query)
    ok(at)
    assert at.warning and "could not be used" in at.warning[0].value
    if query["section"] == "fair":  # no known optimizer in the link: the section asks for one
        assert not at.get("plotly_chart") and any("optimizer" in i.value for i in at.info)
    else:  # the section still shows its chart, from what could be used
        assert at.get("plotly_chart")
    q = {k: v[-1] if isinstance(v, list) else v for k, v in at.query_params.items()}
    assert el.from_query(q)[1] == []  # the link the page writes back is clean


def test_rounded_start_is_short_and_within_a_tenth_of_a_cell():
    for name, n in (("himmelblau", 100), ("rosenbrock", 25), ("wells", 150), ("goldstein_price", 75)):
        xs, ys, _ = dx.grid_starts(landscapes.get(name), n)
        cell = min(xs[1] - xs[0], ys[1] - ys[0])
        for i, j in ((0, 0), (n // 3, n - 1), (n - 2, n // 7)):
            x, y = dx.rounded_start(xs, ys, i, j)
            assert abs(x - xs[i]) <= 0.1 * cell and abs(y - ys[j]) <= 0.1 * cell
            assert len(repr(x)) <= 6 and len(repr(y)) <= 6, (name, x, y)


def test_opening_the_basins_on_one_minimum_switches_to_several(page):
    """Rosenbrock (the page's default) has one minimum: the basins tab moves to BASIN_SURFACE and says so;
    a surface chosen on the basins tab stays."""
    from unittest import mock

    assert page.selectbox(key="explore.surface").value == "rosenbrock"
    page.session_state["explore.tab"] = ex.SECTIONS[2]
    with mock.patch.object(ex.st, "session_state", page.session_state):
        ex.tab_changed()
    ok(page)
    assert page.selectbox(key="explore.surface").value == el.BASIN_SURFACE
    assert page.session_state["explore.basin_ctx"]["surface"] == el.BASIN_SURFACE
    assert any("Rosenbrock" in i.value and "one minimum" in i.value for i in page.info)
    page.selectbox(key="explore.surface").set_value("rosenbrock")
    ok(page)
    assert page.session_state["explore.basin_ctx"]["surface"] == "rosenbrock"
    assert not any("one minimum" in i.value for i in page.info)


def test_sidebar_says_what_start_and_steps_apply_to(page):
    note = next(c.value for c in page.sidebar.caption if "start" in c.value.lower())
    assert "network sweep" in note and "none of them" in note
    assert "every section" not in note


@pytest.mark.parametrize("lo, hi", [(0.036, 0.63), (0.106, 0.6), (0.31, 0.36), (1e-9, 10.0), (2.0, 2.0)])
def test_colour_bar_has_several_ticks_that_read_as_their_values(lo, hi):
    """The network sweep's losses span less than a decade: its colour bar still has more than one tick,
    and each label is the loss at that tick."""
    values = np.geomspace(lo, hi, 12).reshape(3, 4)
    fig = vx.sweep_figure(values, np.full((3, 4), -1), np.arange(1.0, 5.0), np.arange(1.0, 4.0),
                          x_label="a", y_label="b", x_scale="linear", y_scale="linear", steps=10)
    bar = fig["data"][0]["colorbar"]
    assert len(bar["tickvals"]) >= 2
    for v, text in zip(bar["tickvals"], bar["ticktext"], strict=True):
        assert fig["data"][0]["zmin"] - 1e-9 <= v <= fig["data"][0]["zmax"] + 1e-9
        assert float(text) == pytest.approx(10.0**v, rel=5e-3)


def test_a_click_picks_its_cell_or_nothing():
    """Plotly's selection point -> the sweep cell (row-major on the cells trace), or None off it."""
    assert dx.clicked_cell({"point_index": 7, "curve_number": 4}, 4, nx=3, ny=3) == (2, 1)
    assert dx.clicked_cell({"pointIndex": 0}, 4, nx=3, ny=3) == (0, 0)  # older event form, no curve
    assert dx.clicked_cell({"point_index": 7, "curve_number": 2}, 4, nx=3, ny=3) is None  # another trace
    assert dx.clicked_cell({"point_index": 9, "curve_number": 4}, 4, nx=3, ny=3) is None  # past the cells
    assert dx.clicked_cell({"curve_number": 4}, 4, nx=3, ny=3) is None
    xs, ys = np.linspace(-2, 2, 9), np.linspace(-1, 3, 9)
    # every 2nd start both ways: 5 columns; point 6 is row 1, column 1 -> start (xs[2], ys[2])
    want = dx.rounded_start(xs, ys, 2, 2)
    assert dx.clicked_start({"point_index": 6, "curve_number": 1}, 1, xs, ys, 2) == want
    assert dx.clicked_start({"point_index": 6, "curve_number": 0}, 1, xs, ys, 2) is None
    assert dx.clicked_start({"point_index": 25, "curve_number": 1}, 1, xs, ys, 2) is None  # below the grid


def test_himmelblau_minima_read_j_0_in_the_basin_legend_not_rounding_noise():
    s = landscapes.get("himmelblau")
    assert s.minima_values.max() > 0  # (f at the published points: 0 up to 7.9e-31)
    labels = np.zeros((4, 4), dtype=int)
    labels[:, 1], labels[:, 2], labels[:, 3] = 1, 2, 3
    fig = vx.basin_figure(s, *dx.grid_starts(s, 4)[:2], [("GD", labels)], tol=0.1)
    legend = [t["name"] for t in fig["data"] if isinstance(t["x"], list) and t["x"] == [None]
              and "minimum " in t["name"]]
    assert len(legend) == 4 and all(n.endswith(", J = 0") for n in legend), legend
    assert list(vx.published_values([-1.0316284, 3.0, 1e-6, 1e-13])) == [-1.0316284, 3.0, 1e-6, 0]
