"""The NumPy networks (landscapes.network), their data sets and planes.

References: finite differences of our own loss, PyTorch autograd and torch.optim on the
same model, weights and data (tests/fixtures/network_reference.npz, written by
scripts/make_network_references.py), and definitions (filter normalization, planes).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import landscapes
import optimizers
from landscapes import datasets, planes

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "network_reference.npz"
with np.load(FIXTURE) as _data:
    REF = {k: _data[k] for k in _data.files}
POINT_NETS = json.loads(str(REF["point_nets"]))
CASES = json.loads(str(REF["cases"]))
RTOL = 1e-7


def net_of(spec: dict) -> landscapes.Network:
    return landscapes.network(**{**spec, "hidden": tuple(spec["hidden"])})


@pytest.fixture(scope="module")
def net():
    return landscapes.network("moons", hidden=(16, 16), activation="tanh", n=400, noise=0.2, seed=0)


@pytest.fixture(scope="module", params=["tanh", "relu"])
def small(request):
    return landscapes.network("circles", hidden=(5, 4), activation=request.param, n=60, noise=0.1, seed=4)


# --- data sets ----------------------------------------------------------------


@pytest.mark.parametrize("name", list(datasets.KINDS))
def test_data_sets_are_seeded_balanced_and_shuffled(name):
    a = datasets.make(name, n=101, noise=0.1, seed=5)
    assert a.x.shape == (101, 2) and a.y.shape == (101,) and a.n == 101
    assert np.array_equal(a.x, datasets.make(name, n=101, noise=0.1, seed=5).x)
    assert not np.array_equal(a.x, datasets.make(name, n=101, noise=0.1, seed=6).x)
    assert sorted(np.unique(a.y)) == [0.0, 1.0] and a.y.sum() == 51
    assert not np.all(np.diff(a.y) >= 0)  # shuffled, not sorted by class
    assert np.abs(a.x).max() < 3.5


def test_clean_shapes_match_their_definitions():
    m = datasets.make("moons", 200, noise=0.0)
    p = m.x + np.array([0.5, 0.25])  # undo the centring
    outer, inner = p[m.y == 0], p[m.y == 1]
    assert np.allclose(np.linalg.norm(outer, axis=1), 1) and np.all(outer[:, 1] >= 0)
    assert np.allclose(np.linalg.norm(inner - [1, 0.5], axis=1), 1) and np.all(inner[:, 1] <= 0.5)
    c = datasets.make("circles", 200, noise=0.0)
    assert np.allclose(np.linalg.norm(c.x, axis=1), np.where(c.y == 0, 1.5, 0.75))
    xo = datasets.make("xor", 200, noise=0.0)
    assert np.array_equal(xo.y == 1, xo.x[:, 0] * xo.x[:, 1] > 0)
    b = datasets.make("blobs", 200, noise=0.0)
    assert np.array_equal(b.y == 1, b.x.sum(1) > 0)  # the line x + y = 0 separates them
    s = datasets.make("spirals", 200, noise=0.0)
    assert np.linalg.norm(s.x, axis=1).max() <= 2 + 1e-12
    noisy = datasets.make("circles", 2000, noise=0.3)
    spread = np.linalg.norm(noisy.x, axis=1) - np.where(noisy.y == 0, 1.5, 0.75)
    assert 0.2 < spread.std() < 0.4


def test_train_and_test_sets_are_independent_draws():
    train, test = datasets.train_test("moons", n=400, noise=0.2, seed=0)
    assert train.n == 400 and test.n == 100
    assert not np.isin(test.x[:, 0], train.x[:, 0]).any()
    assert datasets.train_test("moons", 40, seed=0, n_test=7)[1].n == 7


@pytest.mark.parametrize("kw", [dict(name="mnist"), dict(name="moons", n=1), dict(name="moons", noise=-1.0),
                                dict(name="moons", noise=float("nan"))])
def test_bad_data_set_settings_are_refused(kw):
    with pytest.raises(ValueError):
        datasets.make(**kw)


# --- the network ----------------------------------------------------------------


def test_the_problem_protocol(net):
    assert net.dim == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1 == 337
    assert net.start.shape == (337,) and net.data.n == 400 and net.test.n == 100
    assert net.scale == max(1.0, np.abs(net.start).max())
    assert net.title == "2-16-16-1 tanh MLP on two moons (400 points)" and net.name == "network"
    assert net.f(net.start).shape == () and net.grad(net.start).shape == (337,)
    w = np.stack([net.start] * 6).reshape(2, 3, 337)
    assert net.f(w).shape == (2, 3) and net.grad(w).shape == (2, 3, 337)
    assert landscapes.network() is landscapes.network("moons", (16, 16), "tanh", 400, 0.2, 0)


def test_init_is_torchs_default_in_distribution(net):
    """Each layer uniform on +-1/sqrt(fan_in), weights and biases; seeded, one row per seed."""
    w = net.init(range(40))
    for layer in net.layers:
        bound = 1 / np.sqrt(layer.inp)
        for part in (layer.weight, layer.bias):
            vals = w[:, part]
            assert np.abs(vals).max() <= bound and np.abs(vals).max() > 0.95 * bound
            assert abs(vals.mean()) < 0.1 * bound
    assert np.array_equal(w[0], net.start) and np.array_equal(w[3], net.init(3))
    assert not np.array_equal(w[0], w[1])


def test_the_weight_layout_is_torchs_parameter_order(net):
    """Linear 1's weight (16, 2) row by row, its bias, then layer 2, ...: changing one weight
    changes only the units it feeds."""
    l1 = net.layers[0]
    assert (l1.weight, l1.bias) == (slice(0, 32), slice(32, 48))
    x = np.array([[0.3, -0.7]])
    w = net.start.copy()
    w[net.layers[-1].bias] += 1.0  # the output bias shifts every logit by 1
    assert np.allclose(net.logits(w, x) - net.logits(net.start, x), 1.0)


def fd_grad(f, w, h):
    """Fourth-order central differences of f along each coordinate."""
    out = np.empty_like(w)
    for i in range(len(w)):
        e = np.zeros_like(w)
        e[i] = h
        out[i] = (f(w - 2 * e) - 8 * f(w - e) + 8 * f(w + e) - f(w + 2 * e)) / (12 * h)
    return out


def test_gradient_matches_finite_differences(small):
    rng = np.random.default_rng(0)
    for w in (small.start, small.start + rng.standard_normal(small.dim)):
        g = small.grad(w)
        np.testing.assert_allclose(g, fd_grad(small.f, w, 1e-4), rtol=1e-6, atol=1e-9)


def test_gradient_of_the_big_net_matches_finite_differences_along_directions(net):
    rng = np.random.default_rng(1)
    for _ in range(3):
        u = rng.standard_normal(net.dim)
        h = 1e-4
        fd = (net.f(net.start - 2 * h * u) - 8 * net.f(net.start - h * u) + 8 * net.f(net.start + h * u)
              - net.f(net.start + 2 * h * u)) / (12 * h)
        assert abs(net.grad(net.start) @ u - fd) < 1e-8 * max(1.0, abs(fd))


def test_loss_is_stable_for_huge_logits(small):
    w = small.start * 1e4
    assert np.isfinite(small.f(w)) and np.all(np.isfinite(small.grad(w)))
    assert small.f(w) > 10  # confidently wrong on some samples: large, not inf


def test_batch_rows_equal_single_evaluations_bit_for_bit(net):
    """f, grad, logits, accuracy and hvp on 45 rows (several blocks) equal the single calls."""
    W = net.init(range(45))
    assert len(net._blocks(45, net.data.n)) > 1
    F, G, A = net.f(W), net.grad(W), net.accuracy(W)
    V = np.random.default_rng(2).standard_normal(W.shape)
    H = net.hvp(W, V)
    for r in (0, 19, 20, 44):
        assert np.array_equal(F[r], net.f(W[r]))
        assert np.array_equal(G[r], net.grad(W[r]))
        assert np.array_equal(A[r], net.accuracy(W[r]))
        assert np.array_equal(H[r], net.hvp(W[r], V[r]))


@pytest.mark.parametrize("hidden, n", [((5,), 61), ((3, 7), 64), ((16, 16), 400), ((), 30), ((8, 8, 8), 100)])
def test_gradient_rows_equal_single_runs_for_any_shape(hidden, n):
    """The gradient's blocks of rows and work arrays (landscapes.mlp._gradient): every row of a
    batch spanning several blocks equals its single evaluation, whatever the widths and samples."""
    net = landscapes.network("circles", hidden=hidden, n=n, seed=1)
    per_row = n * (sum(2 * h + 1 for h in hidden) + max(hidden, default=0) + 1)
    R = 3 * max(1, landscapes.mlp.GRAD_BLOCK // per_row) + 2  # three blocks and a part
    W = net.init(range(R))
    loss, grad = net.value_and_grad(W)
    for r in (0, 1, R // 2, R - 1):
        one_loss, one_grad = net.value_and_grad(W[r])
        assert loss[r] == one_loss and np.array_equal(grad[r], one_grad)


def test_batch_gradients(net):
    W = net.init(range(30))
    rng = np.random.default_rng(3)
    shared = rng.choice(400, 32, replace=False)
    rows = rng.integers(0, 400, (30, 8))
    Gs, Gr = net.batch_grad(W, shared), net.batch_grad(W, rows)
    for r in (0, 21, 29):
        assert np.array_equal(Gs[r], net.batch_grad(W[r], shared))
        assert np.array_equal(Gr[r], net.batch_grad(W[r], rows[r]))
    # all samples in order: the full gradient, bit for bit
    assert np.array_equal(net.batch_grad(net.start, np.arange(400)), net.grad(net.start))
    # the mean loss's gradient is the mean of the per-sample gradients
    one = np.mean([net.batch_grad(net.start, [i]) for i in shared], 0)
    np.testing.assert_allclose(net.batch_grad(net.start, shared), one, rtol=1e-12, atol=1e-15)
    assert net.batch_grad(net.start, rows).shape == (30, 337)
    for bad in ([400], [-1], [[0.5]], np.zeros((0,), int)):
        with pytest.raises(ValueError):
            net.batch_grad(net.start, bad)


def test_predictions_accuracy_and_the_decision_boundary(net):
    xs, ys, P = net.boundary(net.init([0, 1]), num=31)
    (x0, _), (_, y1) = net.bounds
    assert P.shape == (2, 31, 31) and xs[0] == x0 and ys[-1] == y1
    assert x0 < net.data.x[:, 0].min() and y1 > net.data.x[:, 1].max()
    assert np.all((P > 0) & (P < 1))
    assert P[1, 4, 7] == net.proba(net.init(1), [[xs[7], ys[4]]])[0]
    p = net.proba(net.start, net.data.x)
    assert net.accuracy(net.start) == np.mean((p >= 0.5) == (net.data.y == 1))
    z, y = net.logits(net.start, net.test.x), net.test.y
    assert np.isclose(net.loss(net.start, net.test), np.mean(np.logaddexp(0, z) - y * z), rtol=1e-14)
    assert net.loss(net.start, net.test) != net.f(net.start)


@pytest.mark.parametrize("bad", [np.zeros(336), np.zeros((3, 5)), 1.0])
def test_wrong_weight_shapes_are_refused(net, bad):
    with pytest.raises(ValueError, match="337"):
        net.f(bad)


@pytest.mark.parametrize("kw", [dict(hidden=(0,)), dict(hidden=(8,) * 5), dict(activation="sigmoid"),
                                dict(data="mnist"), dict(n=1), dict(n=10.5), dict(seed=-1),
                                dict(hidden=(200, 200))])
def test_bad_network_settings_are_refused(kw):
    with pytest.raises(ValueError):
        landscapes.network(**kw)


def test_logistic_regression_is_a_network_without_hidden_layers():
    lr = landscapes.network("blobs", hidden=(), n=100, seed=0)
    assert lr.dim == 3
    w = np.array([0.4, -0.3, 0.2])
    z = lr.data.x @ w[:2] + w[2]
    assert np.allclose(lr.f(w), np.mean(np.logaddexp(0, z) - lr.data.y * z), rtol=1e-14)


# --- Hessian ------------------------------------------------------------------


def test_hvp_matches_the_full_hessian_from_finite_differences():
    """A tiny net (2-3-2-1, 21 weights): the Hessian by central differences of the gradient."""
    for act in ("tanh", "relu"):
        tiny = landscapes.network("xor", hidden=(3, 2), activation=act, n=30, seed=1)
        w = tiny.start + 0.3 * np.random.default_rng(0).standard_normal(tiny.dim)
        h = 1e-5
        eye = np.eye(tiny.dim)
        H = np.stack([(tiny.grad(w + h * e) - tiny.grad(w - h * e)) / (2 * h) for e in eye])
        assert np.abs(H - H.T).max() < 1e-8
        exact = tiny.hvp(np.broadcast_to(w, (tiny.dim, tiny.dim)), eye)  # row i = H e_i
        np.testing.assert_allclose(exact, H, rtol=1e-6, atol=1e-8)
        lam = np.linalg.eigvalsh((H + H.T) / 2)
        top = lam[np.abs(lam).argmax()]
        assert abs(tiny.sharpness(w, iters=500) - top) < 1e-6 * abs(top)


def test_sharpness_is_batched(net):
    W = net.init([0, 1, 2])
    s = net.sharpness(W, iters=30)
    assert s.shape == (3,) and np.all(s > 0)
    assert np.array_equal(s[1], net.sharpness(W[1], iters=30))


# --- PyTorch parity -------------------------------------------------------------


@pytest.mark.parametrize("i", range(len(POINT_NETS)))
def test_loss_gradient_and_hvp_match_torch_autograd(i):
    nn = net_of(POINT_NETS[i])
    ref = {k[len(f"points{i}_"):]: v for k, v in REF.items() if k.startswith(f"points{i}_")}
    assert np.array_equal(ref["w"][0], nn.start)  # same init and layout as when recorded
    np.testing.assert_allclose(nn.f(ref["w"]), ref["loss"], rtol=RTOL)
    scale = np.abs(ref["grad"]).max()
    np.testing.assert_allclose(nn.grad(ref["w"]), ref["grad"], rtol=RTOL, atol=1e-12 * scale)
    np.testing.assert_allclose(nn.batch_grad(ref["w"], ref["idx"]), ref["batch_grad"], rtol=RTOL,
                               atol=1e-12 * np.abs(ref["batch_grad"]).max())
    np.testing.assert_allclose(nn.hvp(ref["w"], ref["v"]), ref["hvp"], rtol=RTOL,
                               atol=1e-12 * np.abs(ref["hvp"]).max())


def replay(net, name, hyper, steps, idx=None, start=None):
    """Our rule's steps on the network: w (D,) or (R, D); hyperparameters scalars or (R, 1).
    A plain loop over the rule's step, fed the fixture's own mini-batch indices (optimizers.run
    draws its own); test_run_on_the_network_is_this_loop ties it to optimizers.run."""
    opt = optimizers.get(name, **hyper)
    rule = opt.rule
    h = SimpleNamespace(**opt.hyper)
    if rule.derive:
        h.__dict__.update(rule.derive(SimpleNamespace(**{k: np.asarray(v) for k, v in opt.hyper.items()})))
    w = (net.start if start is None else start).copy()
    state = rule.start_state(w.shape)
    path = [w]
    for t in range(steps):
        g = net.grad(w) if idx is None else net.batch_grad(w, idx[t])
        u, state = rule.step(g, state, h, h.lr, np, w)
        w = w + u
        path.append(w)
    return np.array(path)


@pytest.mark.parametrize("name", ["gd", "momentum", "adam", "adamw", "nadam"])
def test_run_on_the_network_is_this_loop_and_batches_are_rows(name):
    """optimizers.run takes the network as a problem: full-batch runs are the replay loop above
    (the loop torch.optim matches), and a batch of R runs gives each single run bit for bit."""
    net = landscapes.network(data="moons", hidden=(8,), n=100, seed=1)
    tr = optimizers.run(optimizers.get(name, lr=0.05), net, steps=40)
    np.testing.assert_allclose(tr.path, replay(net, name, {"lr": 0.05}, 40), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tr.loss, net.f(tr.path), rtol=1e-12)
    lrs = np.array([0.01, 0.05, 0.2])
    batch = optimizers.run(optimizers.get(name, lr=lrs), net, steps=40, batch_size=16, seed=np.arange(3))
    for r, lr in enumerate(lrs):
        one = optimizers.run(optimizers.get(name, lr=lr), net, steps=40, batch_size=16, seed=r)
        assert np.array_equal(batch.path[:, r], one.path) and np.array_equal(batch.loss[:, r], one.loss)


@pytest.mark.parametrize("k", range(len(CASES)), ids=[c["id"] for c in CASES])
def test_optimizers_take_torch_optims_steps_on_the_network(k):
    """100 steps of our rule on the network = torch.optim on the torch model, to 1e-7."""
    case = CASES[k]
    nn = net_of(case["net"])
    idx = REF["idx"][k].astype(int) if case["minibatch"] else None
    steps = REF["loss"].shape[1] - 1
    path = replay(nn, case["optimizer"], case["hyper"], steps, idx)
    keep = REF["keep"]
    atol = 1e-12 * nn.scale
    np.testing.assert_allclose(path[keep], REF["path"][k], rtol=RTOL, atol=atol)
    np.testing.assert_allclose(nn.f(path), REF["loss"][k], rtol=RTOL)
    assert REF["loss"][k][-1] < 0.9 * REF["loss"][k][0]  # the runs learn something


def test_fixture_covers_the_optimizers_and_is_well_conditioned():
    assert {c["optimizer"] for c in CASES} >= {"gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam",
                                                "nadam"}
    assert any(c["minibatch"] for c in CASES) and any(c["net"]["activation"] == "relu" for c in CASES)
    assert np.all(REF["sensitivity"] < 1e-8)
    assert FIXTURE.stat().st_size < 100_000


def test_fixture_is_what_the_script_makes_today():
    """Re-run torch on the small point set (a stale fixture or a changed generator fails)."""
    spec = importlib.util.spec_from_file_location("make_network_references",
                                                  ROOT / "scripts" / "make_network_references.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.POINT_NETS == POINT_NETS and json.loads(json.dumps(gen.run_cases())) == CASES
    fresh = gen.points(POINT_NETS[1])
    for key, value in fresh.items():
        np.testing.assert_allclose(value, REF[f"points1_{key}"], rtol=1e-12, atol=1e-15, err_msg=key)


def test_batched_runs_equal_single_runs(small):
    lrs = np.array([[0.01], [0.03], [0.1]])
    starts = small.init([0, 1, 2])
    batch = replay(small, "adam", dict(lr=lrs), 15, start=starts)
    for r in range(3):
        single = replay(small, "adam", dict(lr=float(lrs[r, 0])), 15, start=starts[r])
        assert np.array_equal(batch[:, r], single)


def test_adam_learns_a_separable_data_set():
    blobs = landscapes.network("blobs", hidden=(8,), n=200, noise=0.2, seed=0)
    end = replay(blobs, "adam", dict(lr=0.05), 150)[-1]
    assert blobs.accuracy(end) >= 0.97 and blobs.accuracy(end, blobs.test) >= 0.95
    assert blobs.f(end) < 0.2 * blobs.f(blobs.start)


# --- planes ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(small):
    """Three Adam runs from three seeds: (41, 3, D)."""
    return replay(small, "adam", dict(lr=0.05), 40, start=small.init([0, 1, 2]))


def _all_planes(small, runs):
    end = runs[-1, 0]
    return [planes.pca(runs), planes.pca(runs, origin=end), planes.random(small, end, seed=3),
            planes.random(small, end, biases="copy"), planes.through(runs[0, 0], end, runs[-1, 1])]


def test_projection_of_a_point_in_the_plane_is_exact(small, runs):
    rng = np.random.default_rng(4)
    for p in _all_planes(small, runs):
        ab = rng.uniform(-2, 2, (10, 2))
        pts = p.point(ab[:, 0], ab[:, 1])
        np.testing.assert_allclose(p.project(pts), ab, rtol=0, atol=1e-12)
        assert p.distance(pts).max() < 1e-12 * np.abs(pts).max()
    t = planes.through(runs[0, 0], runs[-1, 0], runs[-1, 1])
    np.testing.assert_allclose(t.project(np.stack([runs[0, 0], runs[-1, 0], runs[-1, 1]])),
                               [[0, 0], [1, 0], [0, 1]], atol=1e-12)


def test_pca_plane(runs):
    p = planes.pca(runs)
    assert np.isclose(p.d1 @ p.d1, 1) and np.isclose(p.d2 @ p.d2, 1) and abs(p.d1 @ p.d2) < 1e-12
    assert p.explained[0] >= p.explained[1] > 0 and sum(p.explained) <= 1 + 1e-12
    np.testing.assert_allclose(p.origin, runs.reshape(-1, runs.shape[-1]).mean(0))
    # points that lie in a plane: all their variance is explained and they project exactly
    rng = np.random.default_rng(5)
    base, u, v = rng.standard_normal((3, 50))
    ab = rng.standard_normal((200, 2)) * [3, 1]
    pts = base + ab[:, :1] * u + ab[:, 1:] * v
    q = planes.pca(pts)
    assert np.isclose(sum(q.explained), 1) and q.explained[0] > q.explained[1]
    assert q.distance(pts).max() < 1e-12
    with pytest.raises(ValueError, match="two dimensions"):
        planes.pca(base + ab[:, :1] * u)


def test_filter_normalization_matches_its_definition(small, runs):
    """Each neuron's incoming weights in the direction have the norm of that neuron's weights
    at w and point along the Gaussian draw; biases are zero (or w's own)."""
    w = runs[-1, 0]
    p = planes.random(small, w, seed=3)
    rng = np.random.default_rng(3)
    for d in (p.d1, p.d2):
        for layer in small.layers:
            rows = d[layer.weight].reshape(layer.out, layer.inp)
            target = w[layer.weight].reshape(layer.out, layer.inp)
            norms = np.linalg.norm(rows, axis=1)
            np.testing.assert_allclose(norms, np.linalg.norm(target, axis=1), rtol=1e-13)
            draw = rng.standard_normal((layer.out, layer.inp))
            cos = np.sum(rows * draw, 1) / np.linalg.norm(rows, axis=1) / np.linalg.norm(draw, axis=1)
            np.testing.assert_allclose(cos, 1, rtol=1e-13)
            assert np.all(d[layer.bias] == 0)
    c = planes.random(small, w, biases="copy")
    for layer in small.layers:
        assert np.array_equal(c.d1[layer.bias], w[layer.bias])
    with pytest.raises(ValueError):
        planes.random(small, w, biases="keep")


def test_through_refuses_three_points_on_a_line(runs):
    a, b = runs[0, 0], runs[-1, 0]
    with pytest.raises(ValueError, match="line"):
        planes.through(a, b, 2 * b - a)


def test_slice_grid_is_one_batched_evaluation_of_the_loss(net):
    p = planes.random(net, net.start, seed=0)
    a, b, Z = planes.grid(net, p, (-1, 1), (-0.5, 0.5), num=41)
    assert Z.shape == (41, 41) and a[0] == -1 and b[-1] == 0.5
    for i, j in ((0, 0), (20, 20), (3, 37)):
        assert Z[i, j] == net.f(p.point(a[j], b[i]))
    assert Z[20, 20] == net.f(net.start)  # the centre of a symmetric grid is the origin


def test_extent_covers_the_projected_paths(runs):
    p = planes.pca(runs)
    ab = p.project(runs)
    (a0, a1), (b0, b1) = planes.extent(ab, margin=0.1)
    assert a0 < ab[..., 0].min() and a1 > ab[..., 0].max() and b0 < ab[..., 1].min() and b1 > ab[..., 1].max()
    assert np.isclose((a1 - a0), 1.2 * np.ptp(ab[..., 0]))


def test_interpolation_between_start_and_end(small, runs):
    start, end = runs[0, 0], runs[-1, 0]
    alpha, f = planes.interpolate(small, start, end, num=81)
    assert alpha[20] == 0 and alpha[60] == 1
    assert f[20] == small.f(start) and np.isclose(f[60], small.f(end), rtol=1e-12)
    assert f[60] < f[20]


def test_value_and_grad_is_f_and_grad_in_one_pass(net):
    W = net.init(range(7))
    f, g = net.value_and_grad(W)
    assert np.array_equal(f, net.f(W)) and np.array_equal(g, net.grad(W))
    f1, g1 = net.value_and_grad(W[3])
    assert f1.shape == () and np.array_equal(f1, f[3]) and np.array_equal(g1, g[3])
