"""The Networks stage's data (viz.net_stage) and its forward pass in the browser (viz/net_stage.js,
run here in Node): the weights, curves and projection numbers it is sent are the core's, and the
output shading and unit maps it draws equal the network's own probabilities and hidden activations."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from descent_lab import networks as dn
from descent_lab.setup import run_spec
from viz.net_stage import NET_STAGE_JS, WEIGHT_VALUES, net_stage_data, weight_stride
from viz.stage import module_text, pack, unpack

ROOT = Path(__file__).resolve().parent.parent
JS = NET_STAGE_JS
SMALL = dn.NetSetup(data="xor", n=60, hidden=(5, 3), steps=30,
                    runs=(run_spec("gd", lr=0.5), run_spec("adam", lr=0.05)))


def stage(setup: dn.NetSetup):
    runs = dn.train(setup)
    land, _ = dn.landscape(setup, runs)
    data = net_stage_data(runs, land, dn.colors(setup), dn.projection(runs, land), plane_title=land.title,
                          drawn=setup.drawn())
    return runs, land, data


def test_the_stage_is_sent_every_weight_and_curve_of_the_runs():
    runs, land, data = stage(SMALL)
    got = unpack(pack(data))
    S, R, D = runs.path.shape
    assert got["stride"] == 1 and got["kept"] == S
    np.testing.assert_array_equal(got["weights"].reshape(S, R, D), runs.path.astype(np.float32))
    np.testing.assert_array_equal(got["loss"], runs.loss.astype(np.float32).ravel())
    np.testing.assert_array_equal(got["coords"], land.coords.astype(np.float32).ravel())
    assert [r["label"] for r in got["runs"]] == list(runs.labels)


def test_long_runs_send_every_kth_weight_within_the_budget():
    assert weight_stride(300, 3, 337) == 1  # the default view: every step
    k = weight_stride(2000, 6, 3000)
    assert k > 1 and -(-2001 // k) * 6 * 3000 <= WEIGHT_VALUES + 6 * 3000


@pytest.mark.parametrize("plane", ["pca", "through", "random"])
def test_the_projection_numbers_sent_are_the_runs_loss_and_the_loss_at_the_projection(plane):
    setup = dn.fit(replace(SMALL, plane=plane), [])
    runs, land, data = stage(setup)
    sent = unpack(pack(data))
    # J(w_t): the run's own loss at its weights; J(proj w_t): the loss at the point of the plane nearest
    # to w_t (w_t minus a part orthogonal to the plane), as the stage's table and chart show them
    p = land.plane
    foot = p.point(land.coords[..., 0], land.coords[..., 1])
    residual = runs.path - foot
    assert np.abs(residual @ np.stack([p.d1, p.d2]).T).max() < 1e-9 * np.abs(runs.path).max()
    for name, want in (("loss", runs.net.f(runs.path)), ("projected", runs.net.f(foot)),
                       ("off", np.linalg.norm(residual, axis=-1))):
        np.testing.assert_allclose(sent[name], want.astype(np.float32).ravel(), rtol=2e-7, err_msg=name)
    if plane == "through":  # the start and the two end points lie on this plane: there the numbers agree
        J, Jp = sent["loss"].reshape(-1, 2), sent["projected"].reshape(-1, 2)
        for t, r in ((0, 0), (-1, 0), (-1, 1)):
            assert Jp[t, r] == pytest.approx(J[t, r], rel=1e-6)


def test_the_stage_words_on_the_projection_agree_with_the_core():
    """The stage says the colours under a marker are not the run's loss (net_stage.js's mismatched, run
    in Node at every step) exactly where descent_lab.networks.projection_words does, at one colour band."""
    setup = dn.fit(replace(SMALL, plane="through"), [])
    runs, land, data = stage(setup)
    proj = dn.projection(runs, land)
    said = in_browser(data, f"Array.from({{length: {runs.steps + 1}}}, (_, t) => mod.mismatched(d, t)"
                            ".map(([r]) => r))")
    for step, runs_said in enumerate(said):
        words = dn.projection_words(runs, proj, step, data["plane"]["resolution"])
        assert [runs.labels[r] for r in runs_said] == [w.split(":")[0] for w in words], step
    assert said[0] == [] and any(said)  # the start lies on this plane; elsewhere the paths leave it


@pytest.mark.parametrize("plane", ["pca", "through", "random"])
def test_the_stage_is_sent_the_planes_axis_units_with_the_distance(plane):
    """The distance from the plane is Euclidean in weight space; one unit of the plane's axes is |d1|
    (|d2|) of it: the payload carries both norms and says so in the words the stage shows."""
    runs, land, data = stage(dn.fit(replace(SMALL, plane=plane), []))
    n1, n2 = np.linalg.norm(land.plane.d1), np.linalg.norm(land.plane.d2)
    sent = unpack(pack(data))["plane"]
    assert sent["norms"] == pytest.approx([n1, n2], rel=1e-12)
    assert sent["units"].startswith("weight space; ")
    if plane == "pca":
        assert sent["norms"] == pytest.approx([1, 1]) and sent["units"].endswith("axis unit = 1")
    else:  # through: |d1| is the distance to an end point; random: a filter-normalized direction is as
        assert f"|d₁| = {n1:.3g}" in sent["units"]  # long as the weights (of every neuron together)
    if plane == "random":
        w = runs.path[-1, 0]
        weights = np.concatenate([w[layer.weight] for layer in runs.net.layers])
        assert n1 == pytest.approx(np.linalg.norm(weights)) and n1 > 1.5
    assert sent["units"] in dn.plane_note(land, runs)  # the note under the plane says the same


@pytest.mark.parametrize("h", [300, 150])
@pytest.mark.parametrize("lo, span", [(-0.12, 0.3), (-1.2, 0.3), (0.31, 0.6), (-1.37, 1.0), (-3, 2),
                                      (-2.93, 1.86), (-3.2, 3.0), (-4.1, 5.0), (-1, 5)])
def test_the_colour_bars_labels_are_j_in_round_values_spaced_for_their_text(lo, span, h):
    """Over 0.3 to 5 decades of J the bar has at least 3 labels (2 on a 150 px bar over under a decade),
    in its range, distinct, in order, each at its J, at least 14 px (a label's height) apart; whole
    decades are labelled (-2 is -2, not -1.9999999999999993)."""
    hi = lo + span
    got = in_browser(None, f"mod.barTicks({lo}, {hi}, 10, {h})")
    texts, ys = [t for t, _ in got], np.array([y for _, y in got])
    values = np.array([float(t) for t in texts])
    assert len(got) >= (2 if h < 200 and span < 1 else 3), got
    assert len(set(texts)) == len(texts)
    assert np.all(np.diff(values) > 0) and np.all(np.diff(ys) < 0)
    assert np.all((values >= 10 ** lo * (1 - 1e-9)) & (values <= 10 ** hi * (1 + 1e-9)))
    assert np.all((ys >= 10 - 1e-9) & (ys <= 10 + h + 1e-9))
    at = 10 ** (hi - (ys - 10) / h * span)  # the J each label stands at on the bar
    np.testing.assert_allclose(values, at, rtol=5e-3)
    assert np.diff(-ys).min() >= 14
    if span >= 2:
        decades = [10.0 ** k for k in range(int(np.ceil(lo)), int(np.floor(hi)) + 1)]
        shown = [v for v in values if np.isclose(np.log10(v), round(np.log10(v)))]
        assert len(shown) >= min(3, len(decades))


def in_browser(data: dict | None, expression: str):
    """``expression`` evaluated by Node with net_stage.js as ``mod`` and the stage's decoded payload as
    ``d`` (the packed bytes read as the browser reads them; null without data), as JSON."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run the stage's JavaScript")
    script = f"""
      import {{ readFileSync }} from "node:fs";
      const src = Buffer.from({json.dumps(module_text(JS))}).toString("base64");
      const mod = await import("data:text/javascript;base64," + src);
      const d = {"null" if data is None else "mod.decode(mod.unpack(new Uint8Array(readFileSync(0))))"};
      process.stdout.write(JSON.stringify({expression}));
    """
    sent = b"" if data is None else pack(data)
    out = subprocess.run([node, "--input-type=module", "-e", script], input=sent, capture_output=True,
                         check=True, timeout=60)
    return json.loads(out.stdout)


def browser_forward(data: dict, run: int, kept: int) -> dict:
    """net_stage.js's forward pass on the payload: each layer's maps and P."""
    return in_browser(data, "((f) => ({layers: f.layers.map(l => l.map(a => Array.from(a))), "
                            f"p: Array.from(f.p)}}))(mod.forward(d, {run}, {kept}))")


@pytest.mark.parametrize("setup", [SMALL, replace(SMALL, features=("x", "y", "x2", "xy", "sinx"), l2=0.01,
                                                   activation="relu", hidden=(4, 3, 2))])
def test_the_shading_and_the_unit_maps_are_the_networks_own_values(setup):
    """The browser's maps are the core's forward pass on the weights it is sent (float32 of the run's),
    to 1e-12; on the run's float64 weights they differ by float32's rounding, about 1e-6 in P: some 3e-5
    of one of the 30 shades the maps are drawn in."""
    runs, _, data = stage(setup)
    sent = replace(runs, path=runs.path.astype(np.float32).astype(np.float64))
    G, shade = data["density"], 1 / 30
    for run, step in ((0, 0), (1, 17), (0, setup.steps)):
        got = browser_forward(data, run, step)
        np.testing.assert_allclose(got["p"], dn.output_maps(sent, run, step, num=G)[2].ravel(), rtol=1e-12,
                                   atol=1e-14)
        assert np.abs(got["p"] - dn.output_maps(runs, run, step, num=G)[2].ravel()).max() < 1e-3 * shade
        for layer, want, exact in zip(got["layers"][1:-1], dn.unit_maps(sent, run, step, num=G),
                                      dn.unit_maps(runs, run, step, num=G), strict=True):
            np.testing.assert_allclose(np.array(layer), want.reshape(len(layer), -1), rtol=1e-12, atol=1e-14)
            assert np.abs(np.array(layer) - exact.reshape(len(layer), -1)).max() < 1e-3 * shade
