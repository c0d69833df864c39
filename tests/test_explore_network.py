"""Explore's learning-rate x beta map of a real network: the batch (descent_lab.explore.net_sweep),
its map (viz.explore.sweep_figure) and the links from its cells to the Networks page."""

from __future__ import annotations

from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import plotly.graph_objects as go
import pytest
from conftest import ok, open_page

import optimizers
from descent_lab import explore as dx
from descent_lab import explore_link as el
from descent_lab import networks as dn
from viz import explore as vx

#: a small network and a small grid
TINY = dn.NetSetup(data="circles", n=40, noise=0.1, seed=3, hidden=(4,), steps=25)
LRS = (0.05, 0.5, 5.0)
BETAS = (0.0, 0.9)


@pytest.fixture(scope="module")
def sweep() -> dx.NetSweep:
    return dx.net_sweep(TINY, "momentum", LRS, BETAS)


def from_link(link: str) -> dn.NetSetup:
    setup, problems = dn.from_query(dict(parse_qsl(urlsplit(link).query)))
    assert problems == []
    return setup


def test_every_cell_equals_its_single_run_and_its_networks_page_run(sweep):
    net = TINY.network()
    assert sweep.loss.shape == sweep.accuracy.shape == sweep.diverged_at.shape == (len(BETAS), len(LRS))
    for j, beta in enumerate(BETAS):
        for i, lr in enumerate(LRS):
            single = optimizers.run(optimizers.get("momentum", lr=lr, beta=beta), net, start=net.start,
                                    steps=TINY.steps, record=False)
            assert sweep.diverged_at[j, i] == single.diverged_at == -1  # (a cross-entropy net rarely does)
            assert sweep.loss[j, i] == single.loss[-1]  # row j * len(LRS) + i, bit for bit
            assert sweep.accuracy[j, i] == net.accuracy(single.path[-1])
            cell = sweep.cell(j, i)
            assert from_link(dn.link(cell)) == cell
            runs = dn.train(cell)  # what the Networks page shows for the cell's link
            assert abs(runs.loss[-1, 0] - sweep.loss[j, i]) <= 1e-12
            assert runs.specs[0].hyper["lr"] == lr and runs.specs[0].hyper["beta"] == beta
    j, i = sweep.best()
    assert sweep.loss[j, i] == np.nanmin(sweep.loss)


def test_the_default_grids_and_adams_beta():
    assert dx.NET_BETAS == (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)
    for name in ("momentum", "adam"):
        lrs = dx.net_lrs(name)
        assert lrs.size == dx.NET_CELLS and np.all(np.diff(lrs) > 0)
        assert lrs[-1] == optimizers.rule(name).net_lr_top
        assert set(lrs) <= set(optimizers.rule(name).lr.grid)  # the Networks page's slider values
    assert dx.net_beta("adam").name == "beta1" and dx.net_beta("gd") is None
    assert "gd" not in dx.net_sweep_names() and "adam" in dx.net_sweep_names()
    with pytest.raises(ValueError):
        dx.net_sweep(TINY, "gd")
    adam = dx.net_sweep(TINY, "adam", (0.01, 0.1), (0.5, 0.9))
    spec = adam.cell(1, 0).runs[0]
    assert spec.name == "adam" and spec.hyper["lr"] == 0.01 and spec.hyper["beta1"] == 0.9
    assert spec.hyper["beta2"] == optimizers.rule("adam").param("beta2").default
    assert dx.net_sweep_setup().steps == dx.NET_STEPS and dx.net_sweep_setup().batch == 0


def test_the_map_shows_the_final_losses_and_names_them(sweep):
    notes = [[f"training accuracy {a:.1%}" for a in row] for row in sweep.accuracy]
    div = sweep.diverged_at.copy()
    div[0, -1] = 7  # as a diverged cell would be shown
    fig = vx.sweep_figure(np.where(div < 0, sweep.loss, np.nan), div, sweep.lrs, sweep.betas,
                          x_label="Learning rate", y_label="Momentum beta", x_scale="log", y_scale="log1m",
                          best=sweep.best(),
                          value_label="final loss", notes=notes, click="open on the Networks page")
    go.Figure(fig)
    z = np.asarray(fig["data"][0]["z"], dtype=float)
    ok_ = div < 0
    np.testing.assert_allclose(z[ok_], np.log10(sweep.loss[ok_]), rtol=1e-6)
    assert np.isnan(z[~ok_]).all()
    assert fig["data"][0]["colorbar"]["title"]["text"] == "final loss"
    cells = fig["data"][-1]
    j, i = 1, 0
    text = cells["text"][j * len(LRS) + i]
    assert f"final loss = {sweep.loss[j, i]:.3g}" in text and f"{sweep.accuracy[j, i]:.1%}" in text
    assert "Learning rate = 0.05" in text and "Momentum beta = 0.9" in text
    assert "diverged at step 7" in cells["text"][len(LRS) - 1]
    assert "open on the Networks page" in cells["hovertemplate"]
    assert any(d.get("name") == "lowest final loss" for d in fig["data"])


def test_a_click_on_a_cell_queues_its_link_and_the_link_is_in_the_explore_view():
    from app_pages import explore as ex

    at = open_page("app_pages/explore.py")
    at.session_state["explore.tab"] = "Network sweep"
    ok(at)
    assert at.session_state["explore.net_ctx"]["name"] == "momentum"
    assert dict(at.query_params)["section"] in (["network"], "network")
    res = dx.net_sweep(dx.net_sweep_setup(), "momentum")
    assert any(f"{res.loss[res.best()]:.3g}" in c.value for c in at.caption)
    ctx = at.session_state["explore.net_ctx"]
    at.session_state["explore.net_chart"] = {"selection": {"points": [{"point_index": 3 * 8 + 5,
                                                                       "curve_number": ctx["curve"]}]}}
    with mock.patch.object(ex.st, "session_state", at.session_state):
        ex.open_net_cell()
    link = at.session_state[ex.NET_GOTO]
    assert link == dn.link(res.cell(3, 5))
    assert dn.train(from_link(link)).loss[-1, 0] == pytest.approx(res.loss[3, 5], abs=1e-12)
    at.session_state[ex.NET_GOTO] = None
    at.button(key="explore.net.open_best").click()  # the button goes to the Networks page
    ok(at)
    spec = res.cell(*res.best()).runs[0]
    assert at.session_state["net.r0.opt"] == "momentum" and at.session_state["net.run_ids"] == [0]
    assert at.session_state["net.r0.lr"] == spec.hyper["lr"]
    assert at.session_state["net.r0.beta"] == spec.hyper["beta"]
    assert at.session_state["net.steps"] == dx.NET_STEPS


def test_the_network_section_link_round_trips():
    view = el.ExploreView(section="network", net_opt="adam", net_data="circles")
    q = el.to_query(view)
    assert q["opt"] == "adam" and q["data"] == "circles"
    assert el.from_query(q) == (view, [])
    back, problems = el.from_query({**q, "opt": "gd", "data": "mnist"})
    assert (back.net_opt, back.net_data) == ("momentum", "moons") and len(problems) == 2
