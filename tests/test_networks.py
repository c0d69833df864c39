"""The Networks page's setup (links) and computations (descent_lab.networks), and its figures.

Small networks and few steps: every test here takes well under a second.
"""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import landscapes
import optimizers
from descent_lab import networks as dn
from descent_lab.compute import gif_steps
from descent_lab.setup import RunSpec, run_spec
from viz import networks as vn

TINY = dn.NetSetup(data="circles", n=40, noise=0.1, seed=3, hidden=(4,), steps=30,
                   runs=(run_spec("gd", lr=0.5), run_spec("adam", lr=0.05), run_spec("gd", lr=0.2)))


@pytest.fixture(scope="module")
def tiny() -> dn.Runs:
    return dn.train(TINY)


# --- links -----------------------------------------------------------------------------------------


def test_defaults_from_an_empty_link():
    setup, problems = dn.from_query({})
    assert setup == dn.NetSetup() and problems == []
    assert [r.name for r in setup.runs] == ["gd", "momentum", "adam"]


def test_round_trip_is_exact():
    setup = dn.NetSetup(
        data="spirals", n=400, noise=0.15, seed=7, hidden=(24, 8, 3), activation="relu", batch=16, steps=150,
        runs=(run_spec("adam", lr=0.003), run_spec("adam", lr=0.02, beta1=0.8),
              RunSpec("gd", {"lr": 0.2}, {"kind": "step", "step_size": 50, "gamma": 0.5, "warmup": 10,
                                         "warmup_start": 0.2})),
        plane="through", ends=(3, 1), show3d=True, panel="sharpness")
    q = dn.to_query(setup)
    assert q["hidden"] == "24,8,3" and q["act"] == "relu" and q["ends"] == "3,1"
    assert q["adam2.beta1"] == "0.8" and q["gd.schedule"] == "step"  # the Playground's run scheme
    assert dn.from_query(q) == (setup, [])
    random = replace(setup, plane="random", around=2, ends=(1, 2))
    assert dn.from_query(dn.to_query(random)) == (random, [])


def test_link_opens_the_page_on_the_setup():
    from urllib.parse import parse_qsl, urlsplit

    url = urlsplit(dn.link(TINY))
    assert url.path == "/networks"
    assert dn.from_query(dict(parse_qsl(url.query))) == (TINY, [])


@pytest.mark.parametrize(("query", "fragment", "check"), [
    ({"data": "mnist"}, "data='mnist'", lambda s: s.data == "moons"),
    ({"hidden": "16,x"}, "hidden='16,x'", lambda s: s.hidden == (16, 16)),
    ({"hidden": "8,8,8,8"}, "1 to 3 layer widths", lambda s: s.hidden == (16, 16)),
    ({"hidden": "64,64,64"}, "8,577 weights", lambda s: s.hidden == (16, 16)),
    ({"hidden": "0"}, "hidden='0'", lambda s: s.hidden == (16, 16)),
    ({"hidden": "32,32,32", "steps": "2000", "optimizers": "gd,adam,gd,adam,gd,adam"},
     "at most 12 million weights along the paths; used 800", lambda s: s.steps == 800),
    ({"act": "sigmoid"}, "act='sigmoid'", lambda s: s.activation == "tanh"),
    ({"batch": "500"}, "batch=500", lambda s: s.batch == 0),
    ({"n": "1e9"}, "n=1e9 (outside", lambda s: s.n == dn.N.hi),
    ({"steps": "nan"}, "steps=nan", lambda s: s.steps == dn.STEPS.default),
    ({"optimizers": "adam", "plane": "through"}, "needs two runs", lambda s: s.plane == "pca"),
    ({"plane": "random", "around": "9"}, "around='9'", lambda s: s.around == 1),
    ({"plane": "through", "ends": "2,2"}, "ends=2,2", lambda s: s.ends == (1, 2)),
    ({"panel": "<script>"}, "panel='<script>'", lambda s: s.panel == ""),
    ({"optimizers": "evil()"}, "'evil()'", lambda s: s.runs == dn.DEFAULT_RUNS),
    ({"surface": "rosenbrock"}, "unknown parameters: surface", lambda s: s == dn.NetSetup()),
])
def test_bad_values_are_reported_and_replaced(query, fragment, check):
    setup, problems = dn.from_query(query)
    assert any(fragment in p for p in problems), problems
    assert check(setup)


keys = st.sampled_from(["data", "n", "noise", "seed", "hidden", "act", "batch", "steps", "optimizers",
                        "gd.lr", "adam.lr", "adam.schedule", "plane", "around", "ends", "show3d", "panel"])
values = st.one_of(st.text(max_size=30), st.floats(allow_nan=True).map(str),
                   st.sampled_from(["adam,gd", "16,16", "64,64,64", "through", "random", "2,1", "1e308",
                                    ","]))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.one_of(keys, st.text(max_size=15)), values, max_size=15))
def test_any_link_gives_a_usable_setup(query):
    setup, problems = dn.from_query(query)
    assert isinstance(problems, list)
    assert dn.weights(setup.hidden) <= dn.MAX_WEIGHTS and 0 <= setup.batch < setup.n
    assert setup.steps * len(setup.runs) * dn.weights(setup.hidden) <= dn.MAX_VALUES
    assert 1 <= setup.around <= len(setup.runs) and max(setup.ends) <= len(setup.runs)
    assert setup.plane != "through" or len(setup.runs) >= 2
    landscapes.network(setup.data, setup.hidden, setup.activation, setup.n, setup.noise, setup.seed)
    for r in setup.runs:
        r.optimizer()  # every setting passes the core's own checks
    assert dn.from_query(dn.to_query(setup)) == (setup, [])


def test_cache_keys_follow_what_each_computation_reads():
    assert dn.from_key(dn.key(TINY)) == TINY
    other_plane = replace(TINY, plane="random", show3d=True, panel="export")
    assert dn.training_key(other_plane) == dn.training_key(TINY) and dn.key(other_plane) != dn.key(TINY)
    assert dn.training_key(replace(TINY, steps=31)) != dn.training_key(TINY)


# --- computations ----------------------------------------------------------------------------------


def test_each_run_equals_its_own_single_run(tiny):
    net = TINY.network()
    for i, spec in enumerate(TINY.runs):
        single = optimizers.run(spec.optimizer(), net, steps=TINY.steps)
        assert np.array_equal(tiny.path[:, i], single.path)  # bit for bit, batched or not
        assert np.array_equal(tiny.loss[:, i], single.loss)
    assert np.array_equal(tiny.test_loss[-1], net.loss(tiny.path[-1], net.test))
    assert np.array_equal(tiny.accuracy[-1], net.accuracy(tiny.path[-1]))
    assert np.array_equal(tiny.test_accuracy[-1], net.accuracy(tiny.path[-1], net.test))
    assert tiny.labels[2] == "3. GD (η=0.2)"


def test_mini_batches_and_schedules_reach_the_runs():
    setup = replace(TINY, batch=8, runs=(RunSpec("gd", {"lr": 0.3}, {"kind": "exponential", "gamma": 0.9}),
                                         run_spec("gd", lr=0.3)))
    runs = dn.train(setup)
    net = setup.network()
    for i, spec in enumerate(setup.runs):
        single = optimizers.run(spec.optimizer(), net, steps=setup.steps, seed=setup.seed, batch_size=8)
        assert np.array_equal(runs.path[:, i], single.path)
    assert runs.lr[5, 0] == pytest.approx(0.3 * 0.9**5) and runs.lr[5, 1] == 0.3


def test_diverged_runs_are_reported(tiny):
    """Cross-entropy's gradients are bounded, so these small networks hardly ever diverge (none did at
    lr 10 for GD, momentum and Adam, tanh and ReLU, up to 32-32-32); the page still says so if one does."""
    assert dn.diverged(tiny) == []
    gone = replace(tiny, diverged_at=np.array([-1, 12, -1]))
    assert dn.diverged(gone) == [f"{tiny.labels[1]} diverged at step 12: its weights grew without bound. "
                                 "Try a smaller learning rate."]


def test_pca_plane_projects_the_paths(tiny):
    land, problems = dn.landscape(TINY, tiny, num=9)
    assert problems == [] and land.plane.kind == "pca" and "% of their variance" in land.title
    assert np.allclose(land.coords, land.plane.project(tiny.path))
    e1, e2 = land.plane.explained
    assert 0 < e2 <= e1 and e1 + e2 <= 1
    # every path point lies inside the drawn square
    assert land.a[0] <= land.coords[..., 0].min() and land.coords[..., 0].max() <= land.a[-1]
    assert land.b[0] <= land.coords[..., 1].min() and land.coords[..., 1].max() <= land.b[-1]
    # the slice is the loss at the plane's points
    i, j = 3, 6
    assert land.loss[i, j] == pytest.approx(tiny.net.f(land.plane.point(land.a[j], land.b[i])), rel=1e-12)


def test_plane_through_the_start_and_two_end_points(tiny):
    land, problems = dn.landscape(replace(TINY, plane="through", ends=(3, 1)), tiny, num=9)
    assert problems == []
    assert np.allclose(land.coords[0], 0, atol=1e-9)  # every run starts at the start: (0, 0)
    assert np.allclose(land.coords[-1, 2], [1, 0]) and np.allclose(land.coords[-1, 0], [0, 1])
    assert np.allclose(land.off_plane[-1, [0, 2]], 0, atol=1e-9) and [m[0] for m in land.marks] == [
        "start", "end 3", "end 1"]


def test_random_plane_is_filter_normalized_at_the_end_point(tiny):
    land, _ = dn.landscape(replace(TINY, plane="random", around=2), tiny, num=9)
    p, net = land.plane, tiny.net
    assert np.array_equal(p.origin, tiny.path[-1, 1])
    for layer in net.layers:
        rows = p.d1[layer.weight].reshape(layer.out, layer.inp)
        target = p.origin[layer.weight].reshape(layer.out, layer.inp)
        assert np.allclose(np.linalg.norm(rows, axis=1), np.linalg.norm(target, axis=1))
    assert (land.a[0], land.a[-1]) == (-1, 1)


def test_a_plane_that_cannot_be_made_falls_back_with_a_message():
    same = dn.train(replace(TINY, runs=(run_spec("gd", lr=0.5), run_spec("gd", lr=0.5))))
    land, problems = dn.landscape(replace(TINY, plane="through", ends=(1, 2)), same, num=5)
    assert land.plane.kind == "pca" and "No plane through" in problems[0]
    still = dn.train(replace(TINY, runs=(run_spec("gd", lr=1e-6),), steps=10))
    land, problems = dn.landscape(replace(TINY, runs=still.specs), still, num=5)
    assert land.plane.kind == "pca" and problems == []  # paths of 1e-6 steps still have a PCA plane


def test_interpolation_is_the_network_at_those_weights(tiny):
    alpha, train, test = dn.interpolation(tiny, num=9)
    k0, k1 = int(np.flatnonzero(alpha == 0)[0]), int(np.flatnonzero(alpha == 1)[0])
    assert np.allclose(train[:, k0], tiny.loss[0]) and np.allclose(train[:, k1], tiny.loss[-1])
    assert np.allclose(test[:, k1], tiny.test_loss[-1])


def test_sharpness_is_the_top_hessian_eigenvalue(tiny):
    """Power iteration as the page runs it, against the eigenvalues of the whole Hessian (built
    column by column from finite differences of the backprop gradient)."""
    steps, lam, edge = dn.sharpness(tiny, points=3)
    net = tiny.net
    for k, t in enumerate(steps):
        for r in range(3):
            w, h = tiny.path[t, r], 1e-5
            H = np.stack([(net.grad(w + h * e) - net.grad(w - h * e)) / (2 * h) for e in np.eye(net.dim)])
            ev = np.linalg.eigvalsh((H + H.T) / 2)
            top = ev[np.argmax(np.abs(ev))]
            assert lam[k, r] == pytest.approx(top, rel=1e-3), (t, r, ev[-3:])
    assert np.allclose(edge[:, [0, 2]], [2 / 0.5, 2 / 0.2]) and np.isnan(edge[:, 1]).all()
    rows = dn.sharpness_rows(tiny, steps, lam, edge)
    assert rows[0]["2 / lr (GD)"] == 4.0 and rows[1]["2 / lr (GD)"] is None
    assert rows[2]["at the end"] == pytest.approx(lam[-1, 2])


# --- figures ---------------------------------------------------------------------------------------


def test_interpolation_and_sharpness_figures_are_valid(tiny):
    go.Figure(vn.interpolation_figure(*dn.interpolation(tiny, num=9), tiny.labels, dn.colors(TINY)))
    steps, lam, edge = dn.sharpness(tiny, points=3, iters=5)
    fig = vn.sharpness_figure(steps, lam, edge, tiny.labels, dn.colors(TINY))
    go.Figure(fig)
    assert [d["name"] for d in fig["data"]].count("2 / lr of run 1") == 1
    assert "2 / lr of run 2" not in [d["name"] for d in fig["data"]]  # Adam: no GD edge


def test_the_landscape_gif_animates_the_paths(tiny):
    from viz import animation

    land, _ = dn.landscape(TINY, tiny, num=9)
    gif = animation.network_gif_bytes(land, tiny.labels, dn.colors(TINY), tiny.diverged_at, frames=6,
                                      width_px=320)
    im = Image.open(io.BytesIO(gif))
    assert im.format == "GIF" and im.n_frames == len(gif_steps(TINY.steps, 6)) and im.size[0] == 320
    first = np.asarray(im.convert("RGB"), dtype=int)
    im.seek(im.n_frames - 1)
    last = np.asarray(im.convert("RGB"), dtype=int)
    assert (np.abs(first - last).sum(-1) > 60).mean() > 0.002  # the paths moved


def test_sharpness_axis_labels_are_whole_numbers_not_bare_digits():
    """A log axis over less than a decade: every tick is labelled with its value (20, 50), never a
    bare mantissa digit ("2", "5" standing for 20, 50)."""
    steps = np.arange(5)
    lam = np.array([[12.0, 30.0], [18.0, 40.0], [25.0, 45.0], [30.0, 50.0], [35.0, 55.0]])
    edge = np.array([[40.0, np.inf]] * 5)
    y = vn.sharpness_figure(steps, lam, edge, ["GD", "Adam"], ["#000000", "#111111"])["layout"]["yaxis"]
    assert y["type"] == "log" and len(y["tickvals"]) >= 2
    assert [float(t) for t in y["ticktext"]] == pytest.approx(y["tickvals"])
    assert min(y["tickvals"]) <= 20 and max(y["tickvals"]) >= 50
