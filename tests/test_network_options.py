"""The Networks page's data and model options in the core: input features, the L2 term (weight
decay), drawn points and their link text, the test fraction, hidden activations.

References: torch (tests/fixtures/network_options_reference.npz, written by
scripts/make_network_references.py: features computed by torch, the L2 term in the torch loss
and torch.optim's weight_decay), finite differences, and the definitions.
"""

from __future__ import annotations

import importlib.util
import json
import re
import string
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_network import replay

import landscapes
from descent_lab import networks as dn
from descent_lab.setup import run_spec
from landscapes import datasets
from landscapes.mlp import FEATURES

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "network_options_reference.npz"
with np.load(FIXTURE) as _data:
    REF = {k: _data[k] for k in _data.files}
POINT_NETS = json.loads(str(REF["point_nets"]))
CASES = json.loads(str(REF["cases"]))
RTOL = 1e-7


def net_of(spec: dict, **changes) -> landscapes.Network:
    spec = {**spec, **changes}
    return landscapes.network(**{**spec, "hidden": tuple(spec["hidden"]),
                                 "features": tuple(spec["features"])})


# --- against torch ---------------------------------------------------------------


@pytest.mark.parametrize("i", range(len(POINT_NETS)))
def test_features_and_l2_match_torch_autograd(i):
    nn = net_of(POINT_NETS[i])
    ref = {k[len(f"points{i}_"):]: v for k, v in REF.items() if k.startswith(f"points{i}_")}
    assert np.array_equal(ref["w"][0], nn.start)
    np.testing.assert_allclose(nn.f(ref["w"]), ref["loss"], rtol=RTOL)
    for ours, key in ((nn.grad(ref["w"]), "grad"), (nn.batch_grad(ref["w"], ref["idx"]), "batch_grad"),
                      (nn.hvp(ref["w"], ref["v"]), "hvp")):
        np.testing.assert_allclose(ours, ref[key], rtol=RTOL, atol=1e-12 * np.abs(ref[key]).max(),
                                   err_msg=key)


def test_the_fixture_covers_every_feature_and_l2():
    assert set(POINT_NETS[0]["features"]) == set(FEATURES) and POINT_NETS[0]["l2"] > 0
    assert {c["optimizer"] for c in CASES} >= {"adam", "gd", "adamw"}
    assert np.all(REF["sensitivity"] < 1e-8)


@pytest.mark.parametrize("k", range(len(CASES)), ids=[c["id"] for c in CASES])
def test_weight_decay_runs_match_torch_optim(k):
    """torch.optim with weight_decay=λ on the plain loss = our rule on the net with l2 = λ (the
    L2 term in J); AdamW's decoupled decay is the rule's own setting on the plain net."""
    case = CASES[k]
    nn = net_of(case["net"], l2=case.get("weight_decay", 0.0))
    path = replay(nn, case["optimizer"], case["hyper"], REF["loss"].shape[1] - 1)
    np.testing.assert_allclose(path[REF["keep"]], REF["path"][k], rtol=RTOL, atol=1e-12 * nn.scale)
    np.testing.assert_allclose(nn.loss(path), REF["loss"][k], rtol=RTOL)  # torch's loss: the data term


def test_options_fixture_is_what_the_script_makes_today():
    spec = importlib.util.spec_from_file_location("make_network_references",
                                                  ROOT / "scripts" / "make_network_references.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.OPTION_NETS == POINT_NETS and json.loads(json.dumps(gen.option_cases())) == CASES
    for key, value in gen.points(POINT_NETS[1]).items():
        np.testing.assert_allclose(value, REF[f"points1_{key}"], rtol=1e-12, atol=1e-15, err_msg=key)


# --- the options in NumPy ------------------------------------------------------


def test_features_are_the_first_layers_inputs():
    net = landscapes.network("moons", hidden=(4,), n=50, features=("sinx", "xy", "x"))
    assert net.features == ("x", "xy", "sinx")  # canonical order
    assert net.layers[0].inp == 3 and net.dim == 4 * 4 + 5
    x = net.data.x
    w = net.start
    W1, b1 = w[:12].reshape(4, 3), w[12:16]
    W2, b2 = w[16:20], w[20]
    inputs = np.stack([x[:, 0], x[:, 0] * x[:, 1], np.sin(x[:, 0])], -1)
    np.testing.assert_allclose(net.logits(w, x), np.tanh(inputs @ W1.T + b1) @ W2 + b2, rtol=1e-13)


def test_l2_is_half_lambda_times_the_squared_norm():
    plain = landscapes.network("circles", hidden=(5,), n=40, seed=2)
    decayed = landscapes.network("circles", hidden=(5,), n=40, seed=2, l2=0.03)
    W = plain.init([0, 1, 2])
    np.testing.assert_allclose(decayed.f(W), plain.f(W) + 0.015 * np.sum(W * W, -1), rtol=1e-14)
    np.testing.assert_allclose(decayed.grad(W), plain.grad(W) + 0.03 * W, rtol=1e-14)
    assert np.array_equal(decayed.loss(W), plain.loss(W))  # the data term alone
    v = np.random.default_rng(0).standard_normal(plain.dim)
    np.testing.assert_allclose(decayed.hvp(W[0], v), plain.hvp(W[0], v) + 0.03 * v, rtol=1e-12, atol=1e-15)
    eps = 1e-6
    e = np.eye(plain.dim)[3]
    fd = (decayed.f(W[1] + eps * e) - decayed.f(W[1] - eps * e)) / (2 * eps)
    assert abs(fd - decayed.grad(W[1])[3]) < 1e-8


def test_batch_rows_equal_single_runs_with_options():
    net = landscapes.network("xor", hidden=(6, 5), n=60, features=("x", "y", "xy", "siny"), l2=0.01)
    W = net.init([3, 4, 5])
    loss, grad = net.value_and_grad(W)
    acts = net.activations(W, net.test.x)
    for r in range(3):
        one_loss, one_grad = net.value_and_grad(W[r])
        assert loss[r] == one_loss and np.array_equal(grad[r], one_grad) and net.f(W[r]) == loss[r]
        single = net.activations(W[r], net.test.x)
        assert all(np.array_equal(a[r], b) for a, b in zip(acts, single, strict=True))


def test_activations_are_the_hidden_layers():
    net = landscapes.network("moons", hidden=(4, 3), n=30, seed=1)
    w = net.init(7)
    x = np.array([[0.0, 0.0], [1.0, -0.5], [-2.0, 1.5]])
    h1, h2 = net.activations(w, x)
    W1, b1 = w[:8].reshape(4, 2), w[8:12]
    W2, b2 = w[12:24].reshape(3, 4), w[24:27]
    np.testing.assert_allclose(h1, np.tanh(x @ W1.T + b1).T, rtol=1e-14)
    np.testing.assert_allclose(h2, np.tanh(h1.T @ W2.T + b2).T, rtol=1e-14)
    assert h1.shape == (4, 3) and net.activations(net.init([1, 2]), x)[1].shape == (2, 3, 3)


@pytest.mark.parametrize("kw", [dict(features=()), dict(features=("x", "x")), dict(features=("z",)),
                                dict(l2=-1.0), dict(l2=float("nan")), dict(test_fraction=1.0),
                                dict(points="!!!!"), dict(data="none", points=""),
                                dict(data="none", points="AAAAAAAAAAAA", test_fraction=0.0)])
def test_bad_options_are_refused(kw):
    with pytest.raises(ValueError):
        landscapes.network(**{"data": "moons", "hidden": (4,), "n": 20, **kw})


# --- drawn points -----------------------------------------------------------------


def some_points(m, seed=0):
    rng = np.random.default_rng(seed)
    return datasets.drawn(rng.uniform(-4, 4, (m, 2)), rng.integers(0, 2, m))


def test_drawn_points_round_trip_through_their_text():
    p = some_points(datasets.MAX_POINTS)
    text = datasets.encode_points(p)
    assert len(text) == 4 * datasets.MAX_POINTS and text.isascii()
    back = datasets.decode_points(text)
    assert np.array_equal(back.x, p.x) and np.array_equal(back.y, p.y)
    assert datasets.encode_points(back) == text
    assert datasets.decode_points("").n == 0


def test_drawn_points_snap_to_the_link_grid():
    p = datasets.drawn([[0.1234, -3.99999], [3.9999, 0.0]], [1, 0])
    step = 1 / datasets.QUANTUM
    assert np.all(np.abs(p.x - [[0.1234, -3.99999], [3.9999, 0.0]]) <= [[step / 2], [step]])
    assert p.x[1, 0] == 4 - 1 / datasets.QUANTUM  # the top edge is the last grid point below 4


@pytest.mark.parametrize("x, y, words", [
    (np.zeros((10**6, 2)), np.zeros(10**6), "at most 500"),
    ([[np.nan, 0.0]], [0], "finite"),
    ([[0.0, np.inf]], [1], "finite"),
    ([[5.0, 0.0]], [1], "lie in"),
    ([[0.0, 0.0]], [2], "0 or 1"),
    ([0.0, 0.0], [1], "(m, 2)"),
])
def test_hostile_point_lists_are_refused_in_words(x, y, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        datasets.drawn(x, y)


@pytest.mark.parametrize("text, words", [
    ("A" * 4 * 10**6, "too many points"),
    ("abc", "4 characters a point"),
    ("ab+/", "base64url"),
    ("héé=", "base64url"),
    ("<scr", "base64url"),
    ("AAAB", "padding bit"),
])
def test_hostile_point_texts_are_refused_in_words(text, words):
    with pytest.raises(ValueError, match=words):
        datasets.decode_points(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60) | st.text(alphabet=string.ascii_letters + string.digits + "-_=", max_size=60))
def test_decoding_any_text_gives_points_or_a_value_error(text):
    try:
        p = datasets.decode_points(text)
    except ValueError as e:
        assert str(e)
        return
    assert datasets.encode_points(p) == text  # what decodes is exactly what encoding writes
    assert np.all(np.isfinite(p.x)) and p.n <= datasets.MAX_POINTS


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(-4, 3.99), st.floats(-4, 3.99), st.integers(0, 1)), max_size=40))
def test_any_drawn_list_round_trips(pts):
    x = np.array([p[:2] for p in pts]).reshape(-1, 2)
    p = datasets.drawn(x, [q[2] for q in pts])
    back = datasets.decode_points(datasets.encode_points(p))
    assert np.array_equal(back.x, p.x) and np.array_equal(back.y, p.y)


def test_drawn_points_join_the_data_and_the_test_fraction_holds_some_out():
    mine = some_points(20, seed=1)
    text = datasets.encode_points(mine)
    plain = landscapes.network("moons", hidden=(4,), n=40, seed=3)
    net = landscapes.network("moons", hidden=(4,), n=40, seed=3, points=text, test_fraction=0.25)
    assert net.data.n == 40 + 15 and net.test.n == plain.test.n + 5
    assert np.array_equal(net.data.x[:40], plain.data.x) and np.array_equal(net.start, plain.start)
    held = {tuple(p) for p in net.test.x[plain.test.n:]}
    kept = {tuple(p) for p in net.data.x[40:]}
    assert not held & kept and held | kept == {tuple(p) for p in mine.x}
    assert landscapes.network("moons", hidden=(4,), n=40, seed=3, points=mine, test_fraction=0.25) is net


def test_a_blank_plane_trains_on_the_drawn_points_only():
    mine = datasets.drawn([[-1, -1], [-1.5, -1], [1, 1], [1, 1.5], [0, 2]], [0, 0, 1, 1, 1])
    net = landscapes.network("none", hidden=(3,), points=datasets.encode_points(mine), test_fraction=0.2)
    assert (net.data.n, net.test.n) == (4, 1) and "your points (5 drawn)" in net.title
    end = replay(net, "adam", dict(lr=0.1), 100)[-1]
    assert net.accuracy(end) == 1.0


def test_split_keeps_a_training_point_and_is_seeded():
    p = some_points(10)
    a, b = datasets.split(p, 0.3, seed=4)
    assert (a.n, b.n) == (7, 3)
    assert np.array_equal(b.x, datasets.split(p, 0.3, seed=4)[1].x)
    assert datasets.split(p, 0.99, seed=0)[0].n == 1


# --- the Networks page's setup and link ---------------------------------------------


OPTIONS = dn.NetSetup(data="circles", n=40, noise=0.1, seed=3, hidden=(4,), steps=20,
                      features=("x", "y", "xy"), l2=0.01, test=0.3,
                      points=datasets.encode_points(some_points(30, seed=2)),
                      runs=(run_spec("adam", lr=0.05), run_spec("gd", lr=0.5)))


def test_options_round_trip_through_the_link():
    q = dn.to_query(OPTIONS)
    assert q["features"] == "x,y,xy" and q["l2"] == "0.01" and q["test"] == "0.3" and len(q["points"]) == 120
    assert dn.from_query(q) == (OPTIONS, [])
    assert "features" not in dn.to_query(dn.NetSetup())  # defaults stay out of the link
    full = replace(OPTIONS, points=datasets.encode_points(some_points(datasets.MAX_POINTS)))
    assert dn.from_query(dict(parse_qsl(urlsplit(dn.link(full)).query))) == (full, [])


def test_the_test_fraction_sizes_the_test_set():
    net = replace(OPTIONS, points="").network()
    assert net.test.n == dn.test_points(40, 0.3) == 17
    assert dn.test_points(200, 0.2) == 50 and dn.NetSetup().network().test.n == 50
    assert OPTIONS.network().test.n == 17 + 9  # 30 drawn points, 0.3 of them held out


@pytest.mark.parametrize("value, words", [
    ("A" * 10**6, "longer than 2000"),
    ("NaN,NaN,", "base64url"),
    ("%%%%", "base64url"),
    ("AAA", "4 characters a point"),
    ("AAAB", "padding bit"),
])
def test_hostile_points_in_a_link_give_a_message_and_a_working_setup(value, words):
    setup, problems = dn.from_query({"data": "none", "points": value, "steps": "20"})
    assert setup.points == "" and setup.data == dn.NetSetup.data
    assert any(words in p for p in problems) and any("data=none" in p for p in problems)
    setup.network()


def test_too_few_drawn_points_on_a_blank_plane_fall_back_to_a_data_set():
    two = datasets.encode_points(datasets.drawn([[0, 0], [1, 1]], [0, 1]))
    setup, problems = dn.from_query({"data": "none", "points": two})
    assert setup.data == dn.NetSetup.data and setup.points == two and "train on" in problems[0]


@pytest.mark.parametrize("raw", ["x,z", "x,x", "", "sin(x)"])
def test_bad_features_in_a_link_are_reported(raw):
    setup, problems = dn.from_query({"features": raw})
    assert setup.features == ("x", "y") and problems and "features" in problems[0]


def test_runs_with_weight_decay_record_J_and_the_data_terms():
    runs = dn.train(OPTIONS)
    net = runs.net
    assert net.l2 == 0.01 and net.features == ("x", "y", "xy")
    np.testing.assert_allclose(runs.loss, net.f(runs.path), rtol=1e-12)
    assert np.array_equal(runs.train_loss, net.loss(runs.path))
    np.testing.assert_allclose(runs.loss - runs.train_loss, 0.005 * np.sum(runs.path**2, -1), rtol=1e-9)
    assert np.array_equal(runs.test_loss, net.loss(runs.path, net.test))
    plain = dn.train(replace(OPTIONS, l2=0.0))
    assert plain.train_loss is plain.loss


def drawn_text(xy, y) -> str:
    return datasets.encode_points(datasets.drawn(xy, y))


@pytest.mark.parametrize("points, test, words", [
    ("", 0.2, "no drawn points; a blank plane needs at least 4"),
    (drawn_text([[0, 0], [1, 1], [2, 2]], [0, 1, 1]), 0.2, "3 drawn points; a blank plane needs at least 4"),
    (drawn_text([[0, 0], [1, 1], [2, 2], [3, 3]], [1, 1, 1, 1]), 0.2, "4 drawn points of one class"),
    (drawn_text([[0, 0], [1, 1], [2, 2], [3, 3], [0, 3]], [0, 1, 0, 1, 0]), 0.1, "0 to test on"),
    (drawn_text([[0, 0], [1, 1], [2, 2], [3, 3]], [0, 1, 0, 1]), 0.2, ""),
])
def test_a_blank_plane_needs_four_points_of_both_classes_and_a_test_point(points, test, words):
    why = dn.blank_problem(points, test)
    assert (words in why) if words else why == ""
    setup, problems = dn.from_query({"data": "none", "points": points, "test": str(test)})
    assert setup.data == ("none" if not words else dn.NetSetup.data) and setup.points == points
    assert problems == ([f"data=none ({why}: used moons with them)"] if words else [])
    setup.network()


def test_the_stage_asks_for_as_many_points_on_a_blank_plane_as_the_page():
    js = (Path(__file__).resolve().parent.parent / "viz" / "net_stage.js").read_text()
    assert re.search(r"const BLANK_LEAST = (\d+);", js).group(1) == str(dn.BLANK_LEAST)
