"""The Networks stage's data (viz.net_stage) and its forward pass in the browser (viz/net_stage.js,
run here in Node): the weights, curves and projection numbers it is sent are the core's, and the
output shading and unit maps it draws equal the network's own probabilities and hidden activations."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from descent_lab import networks as dn
from descent_lab.setup import run_spec
from viz.net_stage import NET_STAGE_JS, net_stage_data, weight_stride
from viz.stage import pack, unpack

ROOT = Path(__file__).resolve().parent.parent
JS = NET_STAGE_JS
SMALL = dn.NetSetup(data="xor", n=60, hidden=(5, 3), steps=30,
                    runs=(run_spec("gd", lr=0.5), run_spec("adam", lr=0.05)))


def stage(setup: dn.NetSetup):
    runs = dn.train(setup)
    land, _ = dn.landscape(setup, runs)
    data = net_stage_data(runs, land, dn.colors(setup), dn.projected_loss(runs, land), plane_title=land.title)
    return runs, land, data


def test_the_stage_is_sent_every_weight_and_curve_of_the_runs():
    runs, land, data = stage(SMALL)
    got = unpack(pack(data))
    S, R, D = runs.path.shape
    assert got["stride"] == 1 and got["kept"] == S
    np.testing.assert_array_equal(got["weights"].reshape(S, R, D), runs.path)  # float64: the same bits
    np.testing.assert_array_equal(got["loss"], runs.loss.astype(np.float32).ravel())
    np.testing.assert_array_equal(got["coords"], land.coords.astype(np.float32).ravel())
    assert [r["label"] for r in got["runs"]] == list(runs.labels)


def test_long_runs_send_every_kth_weight_within_the_budget():
    assert weight_stride(300, 3, 337) == 1
    k = weight_stride(2000, 6, 3000)
    assert k > 1 and -(-2001 // k) * 6 * 3000 <= 600_000 + 6 * 3000


@pytest.mark.parametrize("plane", ["pca", "through", "random"])
def test_projection_numbers_are_the_runs_loss_and_the_loss_at_the_projection(plane):
    setup = dn.fit(dn.NetSetup(**{**SMALL.__dict__, "plane": plane}), [])
    runs, land, data = stage(setup)
    proj = dn.projected_loss(runs, land)
    # J(w_t): the run's own loss, as the core computes it at its weights
    np.testing.assert_allclose(runs.loss, runs.net.f(runs.path), rtol=1e-12)
    # J(proj w_t): the loss at the point of the plane nearest to w_t (w_t minus a part orthogonal to it)
    p = land.plane
    ab = land.coords
    foot = p.origin + ab[..., :1] * p.d1 + ab[..., 1:] * p.d2
    residual = runs.path - foot
    assert np.abs(residual @ np.stack([p.d1, p.d2]).T).max() < 1e-9 * np.abs(runs.path).max()
    np.testing.assert_allclose(proj, runs.net.f(foot), rtol=1e-12)
    np.testing.assert_allclose(land.off_plane, np.linalg.norm(residual, axis=-1), rtol=1e-9, atol=1e-12)
    if plane == "through":  # the start and the two end points lie on this plane: there the numbers agree
        for t, r in ((0, 0), (-1, 0), (-1, 1)):
            assert proj[t, r] == pytest.approx(runs.loss[t, r], rel=1e-9)
    sent = unpack(pack(data))
    np.testing.assert_array_equal(sent["projected"], proj.astype(np.float32).ravel())
    np.testing.assert_array_equal(sent["off"], land.off_plane.astype(np.float32).ravel())


def browser_forward(data: dict, run: int, kept: int) -> dict:
    """net_stage.js's forward pass in Node on the packed payload: each layer's maps and P."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run the stage's JavaScript")
    script = f"""
      import {{ readFileSync }} from "node:fs";
      const src = readFileSync({json.dumps(str(JS))}).toString("base64");
      const mod = await import("data:text/javascript;base64," + src);
      const bytes = new Uint8Array(readFileSync(0));
      const d = mod.decode(mod.unpack(bytes));
      const f = mod.forward(d, {run}, {kept});
      const layers = f.layers.map(l => l.map(a => Array.from(a)));
      process.stdout.write(JSON.stringify({{layers, p: Array.from(f.p)}}));
    """
    out = subprocess.run([node, "--input-type=module", "-e", script], input=pack(data), capture_output=True,
                         check=True, timeout=60)
    return json.loads(out.stdout)


def test_the_shading_and_the_unit_maps_are_the_networks_own_values():
    runs, _, data = stage(SMALL)
    net, G = runs.net, data["density"]
    (x0, x1), (y0, y1) = net.bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, G), np.linspace(y0, y1, G))
    points = np.stack([gx.ravel(), gy.ravel()], -1)
    for run, step in ((0, 0), (1, 17), (0, SMALL.steps)):
        got = browser_forward(data, run, step)
        w = runs.path[step, run]
        np.testing.assert_allclose(got["p"], net.proba(w, points), rtol=1e-12, atol=1e-14)
