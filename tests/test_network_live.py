"""What the live Networks page draws, computed in descent_lab.networks from a run's own weights:
the output probability and every hidden unit's activation over the input plane, the links'
weights, and the honest projection (the run's loss, the plane's loss under its marker, the
distance), each checked against the network's own computation or an independent formula.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from descent_lab import networks as dn
from descent_lab.setup import run_spec

SETUP = dn.NetSetup(data="moons", n=60, noise=0.1, seed=2, hidden=(5, 3), steps=40,
                    features=("x", "y", "sinx"),
                    runs=(run_spec("adam", lr=0.05), run_spec("gd", lr=0.5), run_spec("momentum", lr=0.1)))


@pytest.fixture(scope="module")
def runs() -> dn.Runs:
    return dn.train(SETUP)


def forward(net, w, pts):
    """The network by hand from its layer weights: each hidden layer's outputs (m, units), P (m,)."""
    h = np.stack([pts[:, 0], pts[:, 1], np.sin(pts[:, 0])], -1)
    hidden = []
    for k, (W, b) in enumerate(net.layer_weights(w)):
        z = h @ W.T + b
        if k == len(net.layers) - 1:
            return hidden, 1 / (1 + np.exp(-z[:, 0]))
        h = np.tanh(z)
        hidden.append(h)


def test_output_and_unit_maps_are_the_network_at_that_step(runs):
    net = runs.net
    xs, ys, P = dn.output_maps(runs, 1, 25, num=9)
    maps = dn.unit_maps(runs, 1, 25, num=9)
    assert P.shape == (9, 9) and [m.shape for m in maps] == [(5, 9, 9), (3, 9, 9)]
    gx, gy = np.meshgrid(xs, ys)
    pts = np.stack([gx.ravel(), gy.ravel()], -1)
    hidden, p = forward(net, runs.path[25, 1], pts)
    np.testing.assert_allclose(P.ravel(), p, rtol=1e-12)
    for m, h in zip(maps, hidden, strict=True):
        np.testing.assert_allclose(m.reshape(len(m), -1), h.T, rtol=1e-12, atol=1e-15)
    # the core's bits: the probability the boundary panels show, the forward pass's activations
    assert np.array_equal(P, net.boundary(runs.path[25, 1], 9)[2])
    assert all(np.array_equal(m.reshape(len(m), -1), a)
               for m, a in zip(maps, net.activations(runs.path[25, 1], pts), strict=True))
    assert (xs[0], xs[-1]) == net.bounds[0] and (ys[0], ys[-1]) == net.bounds[1]


def test_feature_maps_are_the_inputs_over_the_grid(runs):
    xs, ys, _ = dn.output_maps(runs, 0, 0, num=6)
    maps = dn.feature_maps(runs, num=6)
    assert maps.shape == (3, 6, 6)  # x, y, sin x
    gx, gy = np.meshgrid(xs, ys)
    assert np.array_equal(maps[0], gx) and np.array_equal(maps[1], gy) and np.array_equal(maps[2], np.sin(gx))


def test_maps_at_many_steps_are_the_maps_at_each(runs):
    steps = np.array([0, 10, 40])
    _, _, P = dn.output_maps(runs, 2, steps, num=7, box=((-4, 4), (-4, 4)))
    maps = dn.unit_maps(runs, 2, steps, num=7, box=((-4, 4), (-4, 4)))
    assert P.shape == (3, 7, 7) and maps[0].shape == (3, 5, 7, 7)
    for i, t in enumerate(steps):
        assert np.array_equal(P[i], dn.output_maps(runs, 2, int(t), num=7, box=((-4, 4), (-4, 4)))[2])
        assert np.array_equal(maps[1][i], dn.unit_maps(runs, 2, int(t), num=7, box=((-4, 4), (-4, 4)))[1])
    assert not np.array_equal(P[0], P[-1])  # the run learned


def test_link_weights_are_the_paths_weights(runs):
    layers = dn.link_weights(runs, 0, 40)
    assert [W.shape for W, _ in layers] == [(5, 3), (3, 5), (1, 3)]
    flat = np.concatenate([np.concatenate([W.ravel(), b]) for W, b in layers])
    assert np.array_equal(flat, runs.path[40, 0])


def test_drawable_networks():
    assert dn.drawable((16, 16, 16)) and dn.drawable((1,))
    assert not dn.drawable((16, 16, 16, 16)) and not dn.drawable((17,))


def test_projection_numbers_are_J_at_w_and_at_its_nearest_plane_point(runs):
    land, _ = dn.landscape(SETUP, runs, num=5)
    proj = dn.projection(runs, land)
    net, plane = runs.net, land.plane
    assert np.array_equal(proj.loss, runs.loss)
    np.testing.assert_allclose(proj.loss, net.f(runs.path), rtol=1e-12)
    # the nearest plane point by least squares, independently of Plane.project
    basis = np.stack([plane.d1, plane.d2], -1)
    rel = (runs.path - plane.origin).reshape(-1, net.dim).T
    ab = np.linalg.lstsq(basis, rel, rcond=None)[0].T
    nearest = plane.origin + ab @ basis.T
    np.testing.assert_allclose(proj.plane_loss.ravel(), net.f(nearest), rtol=1e-9)
    dist = np.linalg.norm(runs.path.reshape(-1, net.dim) - nearest, axis=-1)
    np.testing.assert_allclose(proj.distance.ravel(), dist, rtol=1e-6, atol=1e-9)
    assert proj.distance.max() > 1e-3  # a PCA plane of three runs does not hold them all


def test_points_in_the_plane_have_their_own_loss_and_no_distance(runs):
    through = replace(SETUP, plane="through", ends=(1, 2))
    land, _ = dn.landscape(through, runs, num=5)
    proj = dn.projection(runs, land)
    for t, r in ((0, 0), (0, 2), (40, 0), (40, 1)):  # the start, and runs 1 and 2's end points
        assert proj.distance[t, r] < 1e-9
        np.testing.assert_allclose(proj.plane_loss[t, r], proj.loss[t, r], rtol=1e-9)
    assert proj.distance[40, 2] > 1e-3


def test_projection_words_name_the_runs_whose_colour_is_not_their_loss(runs):
    land, _ = dn.landscape(SETUP, runs, num=5)
    proj = dn.projection(runs, land)
    gap = np.abs(np.log10(proj.loss[40]) - np.log10(proj.plane_loss[40]))
    band = float(np.median(gap))
    words = dn.projection_words(runs, proj, 40, band)
    assert len(words) == int(np.sum(gap > band)) >= 1
    worst = int(np.argmax(gap))
    assert any(w.startswith(runs.labels[worst]) and f"{proj.loss[40, worst]:.3g}" in w for w in words)
    assert dn.projection_words(runs, proj, 40, float(gap.max()) + 1) == []


def test_diverged_runs_have_no_projection_numbers(runs):
    """A run that diverged at step d (its path then stays put) has no numbers from d on."""
    gone = replace(runs, diverged_at=np.array([-1, 20, -1]))
    proj = dn.projection(gone, dn.landscape(SETUP, gone, num=5)[0])
    assert np.all(np.isnan(proj.plane_loss[20:, 1])) and np.all(np.isnan(proj.distance[20:, 1]))
    assert np.all(np.isfinite(proj.plane_loss[:20, 1])) and np.all(np.isfinite(proj.plane_loss[:, [0, 2]]))
    assert not any(w.startswith(runs.labels[1]) for w in dn.projection_words(gone, proj, 30, 0.0))
