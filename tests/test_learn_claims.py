"""Every number a Learn page prints, read off the page as it renders (AppTest) and recomputed here
from the runs: the optimizers' own trajectories, measured with plain NumPy written in this file (not
with descent_lab.learn, which the pages call), formatted the way the page formats it.

The second half checks that each Learn page and the lesson it opens (descent_lab.presets) agree on
every claim they share: the same runs, and the same numbers where both state one."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import ok, open_page

import landscapes
import optimizers
from descent_lab.presets import PRESETS

START = (-2.8, 1.5)


def run(name, surface, steps, start=START, **hyper):
    return optimizers.run(optimizers.get(name, **hyper), surface, start=start, steps=steps)


def page_text(at) -> str:
    """Everything the page shows as text: markdown, captions, metrics (label, value, delta)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [f"{m.label}: {m.value} ({m.delta})" for m in at.metric]
    return "\n".join(parts)


def metric(at, label: str):
    (m,) = [m for m in at.metric if m.label == label]
    return m


def reached(path, target=(0.0, 0.0), tol=0.01) -> int:
    """The first step from which the run stays within tol of target (-1: not by the end)."""
    d = np.linalg.norm(np.asarray(path) - np.asarray(target), axis=1)
    outside = np.flatnonzero(~(d <= tol))
    if not outside.size:
        return 0
    return -1 if outside[-1] == len(d) - 1 else int(outside[-1] + 1)


def floor_crossings(x, tol) -> int:
    """Crossings of 0 by more than tol either side, by walking the values (hysteresis)."""
    count, side = 0, 0
    for v in x:
        if not np.isfinite(v):
            break
        s = 1 if v > tol else -1 if v < -tol else 0
        if s and side and s != side:
            count += 1
        side = s or side
    return count


def past(path) -> float:
    """How far a run gets beyond the minimum (0, 0), along the line from its start through it."""
    d = -np.asarray(path[0]) / np.linalg.norm(path[0])
    return max(0.0, float(np.max(np.asarray(path) @ d)))


def steps_text(step: int) -> str:
    return str(step) if step >= 0 else "not within the run"


# --- page 1 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("lr", [0.1, 0.45, 0.5])
def test_page1_numbers(lr):
    at = open_page("app_pages/learn_1_gradient_descent.py")
    at.select_slider(key="gd.lr").set_value(lr)
    ok(at)
    text = page_text(at)
    bowl = landscapes.get("elongated_bowl", condition=5)
    L = 5.0
    assert f"η < 2 / L = {2 / L:g}" in text
    assert metric(at, "η × L").value == f"{lr * L:.3g}"
    assert metric(at, "Factor per step along y, 1 − ηL").value == f"{1 - lr * L:.3g}"
    tr = run("gd", bowl, 60, lr=lr)
    out = metric(at, "Outcome")
    start, end = (float(np.linalg.norm(tr.path[i])) for i in (0, -1))
    if tr.diverged_at >= 0:
        assert out.value == "diverged" and out.delta == f"at step {int(tr.diverged_at)}"
    elif end > start:
        assert out.value == "diverging"
        assert out.delta == f"{end:.2g} from the minimum after 60 steps (it started {start:.2g} away)"
    else:
        assert out.value == "converged"
        assert out.delta == f"within 0.01 of the minimum from step {reached(tr.path)}"
    # the three panels: too small is far away after 60 steps, just under 2/L arrives, too large flies off
    small, right, large = (run("gd", bowl, 60, lr=r) for r in (0.02, 0.38, 0.41))
    assert np.linalg.norm(small.path[-1]) > 0.5 and reached(right.path) >= 0
    assert np.linalg.norm(large.path[-1]) > 5 * np.linalg.norm(large.path[0])
    for r in (0.02, 0.38, 0.41):
        assert f"η = {r:g}" in text


# --- page 2 ---------------------------------------------------------------------------------------


def test_page2_cost_table():
    at = open_page("app_pages/learn_2_batches.py")
    table = at.dataframe[0].value
    reg = landscapes.get("regression")
    n, steps = reg.data.n, 200
    for row, b in zip(table.to_dict("records"), (None, 1, 10), strict=True):
        tr = optimizers.run(optimizers.get("gd", lr=0.05), reg, start=tuple(reg.start), steps=steps,
                            batch_size=b, seed=0)
        per = n if b is None else b
        length = float(np.sum(np.linalg.norm(np.diff(tr.path, axis=0), axis=1)))
        assert (row["samples per update"], row["updates"], row["samples seen"]) == (per, steps, per * steps)
        assert row["epochs"] == pytest.approx(per * steps / n, rel=1e-12)
        assert row["path length"] == pytest.approx(length, rel=1e-9)
        assert row["final loss"] == pytest.approx(float(tr.loss[-1]), rel=1e-9)
    assert f"reads all {n} samples" in page_text(at)


@pytest.mark.parametrize(("size", "seed"), [(10, 0), (2, 7), (50, 3)])
def test_page2_each_path_has_its_own_map_and_the_mini_batch_shakes_less(size, seed):
    """Batch and mini-batch paths nearly coincide: each run gets a map of its own (same domain), with
    its path alone on it, so none hides another; the text's path lengths are the drawn paths' lengths,
    and the mini-batch's is shorter than SGD's ("it shakes less")."""
    at = open_page("app_pages/learn_2_batches.py")
    at.select_slider(key="b.size").set_value(size)
    at.number_input(key="b.seed").set_value(seed)
    ok(at.run())
    reg = landscapes.get("regression")
    maps = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if "w (slope)" in c.proto.spec]
    labels = ["Batch (all 100)", "SGD (1 sample)", f"Mini-batch (B = {size})"]
    assert [m["layout"]["title"]["text"] for m in maps] == labels
    lengths = []
    for m, b in zip(maps, (None, 1, size), strict=True):
        assert m["layout"]["xaxis"]["range"] == [-1.0, 5.0] and m["layout"]["yaxis"]["range"] == [-5.0, 3.0]
        (path,) = [t for t in m["data"] if t.get("mode") == "lines"]
        tr = optimizers.run(optimizers.get("gd", lr=0.05), reg, start=tuple(reg.start), steps=200,
                            batch_size=b, seed=seed)
        np.testing.assert_allclose(np.c_[path["x"], path["y"]], tr.path, rtol=1e-12)
        lengths.append(float(np.sum(np.linalg.norm(np.diff(tr.path, axis=0), axis=1))))
    batch, sgd, mini = lengths
    assert batch < mini < sgd
    assert (f"so it shakes less: up to update 200 SGD's path is {sgd:.3g} long, the mini-batch's {mini:.3g}, "
            f"batch GD's {batch:.3g}.") in page_text(at)


# --- page 3 ---------------------------------------------------------------------------------------


def test_page3_numbers():
    at = open_page("app_pages/learn_3_ewma.py")
    from optimizers import ewma

    theta = ewma.demo_series(120, 0)
    beta, t = 0.9, 30
    assert metric(at, "Effective window 1 / (1 − β)").value == f"{1 / (1 - beta):.3g} values"
    assert metric(at, "First value θ₁").value == f"{theta[0]:.1f}"
    assert metric(at, "First average V₁ = (1 − β) θ₁").value == f"{(1 - beta) * theta[0]:.1f}"
    assert metric(at, f"Sum of the weights on day {t}, 1 − βᵗ").value == f"{1 - beta ** t:.4f}"
    share = sum((1 - beta) * beta**k for k in range(10))
    assert f"they carry {share:.0%} of the weight" in page_text(at)
    assert f"The missing βᵗ = {beta ** t:.2g}" in page_text(at)


# --- page 4 ---------------------------------------------------------------------------------------


def test_page4_numbers():
    at = open_page("app_pages/learn_4_momentum.py")
    text = page_text(at)
    bowl = landscapes.get("elongated_bowl", condition=50)
    gd, mom = run("gd", bowl, 150, lr=0.0392), run("momentum", bowl, 150, lr=0.035, beta=0.7)
    swing = [float(np.max(np.abs(t.path[20:, 1]))) for t in (gd, mom)]
    dist = [float(np.linalg.norm(t.path[-1])) for t in (gd, mom)]
    assert f"| {swing[0]:.2g} | {swing[1]:.2g} |" in text
    assert f"| {reached(gd.path)} | {reached(mom.path)} |" in text
    assert f"| {dist[0]:.2g} | {dist[1]:.2g} |" in text
    # momentum's steps along the floor against gradient descent's step from the same point, same eta
    ratio = np.diff(mom.path[:, 0]) / (-0.035 * mom.grad[:, 0])
    longer = ratio > 1 / 0.3
    first = int(np.argmax(longer))
    last = first + int(np.argmax(~longer[first:])) - 1
    claim = (f"from step {first + 1} to step {last + 1} each step along the floor is more than "
             "1 / (1 − β) ≈ 3.3")
    assert claim in text
    # the fastest heavy ball
    lr, beta = (2 / (np.sqrt(50) + 1)) ** 2, ((np.sqrt(50) - 1) / (np.sqrt(50) + 1)) ** 2
    fastest = run("momentum", bowl, 150, lr=lr, beta=beta)
    assert f"η = (2 / (√L + √μ))² ≈ {lr:.3g} and β = ((√L − √μ) / (√L + √μ))² ≈ {beta:.2f}" in text
    assert f"stable up to 2 (1 + β) / L ≈ {2 * (1 + beta) / 50:.3g}" in text
    assert f"reach |y| = {np.max(np.abs(fastest.path[:, 1])):.2g}" in text
    assert f"within 0.01 of the minimum from step {reached(fastest.path)}: the gentler" in text
    # beta's section at the default beta, and the two forms
    x = mom.path[:, 0]
    assert metric(at, "Overshoot past the minimum").value == f"{past(mom.path):.2f}"
    assert metric(at, "Times it crossed the minimum").value == str(floor_crossings(x, 0.02))
    assert metric(at, "Within 0.01 of the minimum").value == f"from step {reached(mom.path)}"
    ewma = run("momentum_ewma", bowl, 150, lr=0.035 / (1 - 0.7), beta=0.7)
    gap = float(np.max(np.abs(ewma.path - mom.path)))
    assert metric(at, "Largest distance between the two paths").value == f"{gap:.1e}"
    # the wells: each run's final loss and where it ends
    s = PRESETS["local-minima"].setup()
    wells = s.make_surface()
    g2, m2 = (run(r.name, wells, s.steps, start=s.start_point(), **r.hyper) for r in s.runs)
    assert f"J = {float(g2.loss[-1]):.2f}" in text and f"J = {float(m2.loss[-1]):.2f}" in text
    assert f"bottom is J = {wells.global_min:.2f}" in text


@pytest.mark.parametrize("beta", [0.0, 0.9, 0.99])
def test_page4_beta_slider(beta):
    at = open_page("app_pages/learn_4_momentum.py")
    at.select_slider(key="mom.beta").set_value(beta)
    ok(at)
    bowl = landscapes.get("elongated_bowl", condition=50)
    mom = run("momentum", bowl, 150, lr=0.035, beta=beta)
    x = mom.path[:, 0]
    assert metric(at, "Overshoot past the minimum").value == f"{past(mom.path):.2f}"
    assert metric(at, "Times it crossed the minimum").value == str(floor_crossings(x, 0.02))
    r = reached(mom.path)
    assert metric(at, "Within 0.01 of the minimum").value == (f"from step {r}" if r >= 0 else
                                                               "not after 150 steps")
    # the words under the chart: beta = 0 never passes and is not there; 0.99 is still more than 1 away
    if beta == 0.0:
        assert past(mom.path) == 0 and r < 0
    if beta == 0.99:
        assert np.linalg.norm(mom.path[-1]) > 1


# --- page 5 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("beta", [0.9, 0.5, 0.98])
def test_page5_numbers(beta):
    at = open_page("app_pages/learn_5_nesterov.py")
    if beta != 0.9:
        at.select_slider(key="nag.beta").set_value(beta)
        ok(at)
    text = page_text(at)
    bowl = landscapes.get("elongated_bowl", condition=50)
    mom = run("momentum", bowl, 150, lr=0.01, beta=beta)
    nag = run("nesterov_lookahead", bowl, 150, lr=0.01, beta=beta)
    assert "η = 0.01" in text
    assert metric(at, "Momentum").value == str(floor_crossings(mom.path[:, 1], 0.02))
    assert metric(at, "Nesterov").value == str(floor_crossings(nag.path[:, 1], 0.02))
    deep = [f"{float(np.min(t.path[:, 1])):.2f}".replace("-", "−") for t in (mom, nag)]
    assert f"momentum swings down to y = {deep[0]}, Nesterov only to y = {deep[1]}" in text
    assert f"momentum {steps_text(reached(mom.path))}, Nesterov {steps_text(reached(nag.path))}" in text
    # the telling step: the look-ahead point past the floor, w_t not yet
    y, look = nag.path[:-1, 1], nag.grad_point[:, 1]
    brake = int(np.flatnonzero((np.sign(look) != np.sign(y)) & (np.abs(look) > 0.02))[0])
    assert f"Step {brake} is the telling one" in text
    t = at.slider(key="nag.step").value
    if beta == 0.9:
        assert t == brake  # the slider opens on it
    w, la = nag.path[t], nag.grad_point[t]
    assert f"= ({w[0]:.3f}, {w[1]:.3f}); the look-ahead point is ({la[0]:.3f}, {la[1]:.3f})" in text
    torch_form = run("nesterov", bowl, 150, lr=0.01, beta=beta)
    assert f"= {float(np.max(np.abs(torch_form.path[:-1] - nag.grad_point))):.1e}." in text


# --- pages 6 and 7 -----------------------------------------------------------------------------------


def adagrad_rates(tr, lr, eps):
    return lr / (np.sqrt(np.cumsum(tr.grad**2, axis=0)) + eps)


def test_page6_numbers():
    at = open_page("app_pages/learn_6_adagrad.py")
    text = page_text(at)
    bowl = landscapes.get("elongated_bowl", condition=100)
    gd, ada = run("gd", bowl, 100, lr=0.01), run("adagrad", bowl, 100, lr=0.5)
    assert metric(at, "GD: distance left").value == f"{np.linalg.norm(gd.path[-1]):.2g}"
    assert metric(at, "AdaGrad: distance left").value == f"{np.linalg.norm(ada.path[-1]):.2g}"
    eff = adagrad_rates(ada, 0.5, 1e-10)[-1]
    assert f"rate for x is **{eff[0] / eff[1]:.0f} times**" in text
    s = PRESETS["adagrad-fades"].setup()
    rosen = s.make_surface()
    tr = run("adagrad", rosen, 800, start=s.start_point(), lr=0.5)
    rates = adagrad_rates(tr, 0.5, 1e-10)
    first, last = rates[0], rates[-1]
    assert (f"from {first[0]:.2g} and {first[1]:.2g} to **{last[0]:.2g}** and **{last[1]:.2g}**, and the "
            f"run is still {np.linalg.norm(tr.path[-1] - (1, 1)):.2f} away") in text
    assert f"its loss is still {float(tr.loss[-1]) - rosen.global_min:.2g} above" in text


def test_page6_every_rate_in_the_legend_is_visible():
    """GD's x and y rates are the same number at every step: a dashed y line would lie exactly on the
    solid x line. No line may be hidden under an identical earlier one; GD's y shows as dots over x."""
    at = open_page("app_pages/learn_6_adagrad.py")
    fig = next(c for c in at.get("plotly_chart") if "The rate each weight gets" in c.proto.spec)
    data = json.loads(fig.proto.spec)["data"]
    drawn = [(t["line"]["color"], dict(zip(t["x"], t["y"], strict=True))) for t in data]
    for i, t in enumerate(data):
        if t["mode"] == "lines":
            assert all(not (c == drawn[i][0] and pts == drawn[i][1]) for c, pts in drawn[:i]), t["name"]
    (gd_y,) = [t for t in data if t["name"].startswith("Gradient descent: y")]
    gd_x = next(t for t in data if t["name"] == "Gradient descent: x")
    assert gd_y["mode"] == "markers" and "the same rate" in gd_y["name"]
    assert data.index(gd_y) > data.index(gd_x)
    assert all(drawn[data.index(gd_x)][1][x] == y for x, y in zip(gd_y["x"], gd_y["y"], strict=True))
    assert 5 <= len(gd_y["x"]) <= 20


def test_page7_numbers():
    at = open_page("app_pages/learn_7_rmsprop.py")
    s = PRESETS["adagrad-fades"].setup()
    rosen = s.make_surface()
    ada = run("adagrad", rosen, 800, start=s.start_point(), lr=0.5)
    rms = run("rmsprop", rosen, 800, start=s.start_point(), lr=0.01)
    ada_rates = adagrad_rates(ada, 0.5, 1e-10)
    v, mean_sq = np.zeros(2), []
    for g in rms.grad:
        v = 0.99 * v + 0.01 * g * g
        mean_sq.append(v)
    rms_rates = 0.01 / (np.sqrt(np.array(mean_sq)) + 1e-8)
    rose = [int(np.sum(np.any(np.diff(r, axis=0) > 0, axis=1))) for r in (ada_rates, rms_rates)]
    assert metric(at, "Steps (of 800) where AdaGrad's rate rose").value == str(rose[0])
    assert metric(at, "Steps (of 800) where RMSProp's rate rose").value == str(rose[1])
    ratio = float(np.min(rms_rates[-1] / ada_rates[-1]))
    assert metric(at, "RMSProp's last rate ÷ AdaGrad's").value == f"{ratio:.2g}×"


def bursts_of(gap, factor=2.0):
    """(first step, peak ratio) of each run of steps where gap exceeds factor × its lowest before."""
    out, lowest = [], gap[0]
    for t in range(1, len(gap)):
        r = gap[t] / lowest
        if r > factor:
            if out and out[-1][2] == t - 1:
                out[-1] = (out[-1][0], max(out[-1][1], r), t)
            else:
                out.append((t, r, t))
        lowest = min(lowest, gap[t])
    return [(t, r) for t, r, _ in out]


@pytest.mark.parametrize("beta", [0.9, 0.99, 0.995, 0.9999])
def test_page7_explains_the_spikes_in_rmsprops_loss(beta):
    """Learn 7's loss chart: RMSProp's spikes at the default β = 0.99 (and its jump at the start at
    β near 1) are named in the text, at the steps where J − J* climbs above twice its lowest so far;
    during each later spike the run zig-zags across the valley floor (y = x²), further each time, and
    a rate falls at once."""
    at = open_page("app_pages/learn_7_rmsprop.py")
    at.select_slider(key="rms.beta").set_value(beta)
    ok(at.run())
    text = page_text(at)
    s = PRESETS["adagrad-fades"].setup()
    rosen = s.make_surface()
    rms = run("rmsprop", rosen, 800, start=s.start_point(), lr=0.01, beta=beta)
    bursts = bursts_of(rms.loss - rosen.global_min)
    start, later = [b for b in bursts if b[0] <= 5], [b for b in bursts if b[0] > 5]
    if not bursts:
        assert f"At β = {beta:g} RMSProp's loss has no spikes" in text
        assert "spikes in RMSProp" not in text and "jump at the start" not in text
    if start:
        first = np.max(np.abs(rms.path[1] - rms.path[0]))
        assert first == pytest.approx(0.01 / np.sqrt(1 - beta), rel=1e-3)  # "about η / √(1 − β)"
        assert (f"**The jump at the start** (J − J* up {max(r for _, r in start):.2g}-fold)" in text
                and f"here {first:.2g}, not η = 0.01" in text)
    if later:
        steps = [t for t, _ in later]
        listed = f"at step {steps[0]}" if len(steps) == 1 else \
            "at steps " + ", ".join(map(str, steps[:-1])) + f" and {steps[-1]}"
        assert (f"in RMSProp's loss** ({listed}: J − J* jumps to up to {max(r for _, r in later):.2g} times "
                "the lowest it had reached)") in text
        off = rms.path[:, 1] - rms.path[:, 0] ** 2  # above (+) or below (−) the valley floor
        for t in steps:
            window = off[t - 3:t + 1]
            assert np.all(np.sign(window[1:]) == -np.sign(window[:-1])), (t, window)  # wall to wall
            assert abs(off[t]) > abs(off[t - 3])  # further each time
        ratios = [(rms.effective_lr[t + k - 1] / rms.effective_lr[t + k - 2], t + k)
                  for t in steps for k in range(6) if t + k <= 800]
        fall, at_step, weight = min((float(r.min()), step, int(np.argmin(r))) for r, step in ratios)
        assert fall < 0.9
        assert f"at step {at_step} the rate for {'xy'[weight]} drops to {fall:.2g} of the step before" in text
    if beta == 0.99:  # the page's default, the lesson's run: its spikes are explained
        assert len(later) >= 3 and not start


# --- page 8 ---------------------------------------------------------------------------------------


def test_page8_numbers():
    at = open_page("app_pages/learn_8_adam.py")
    text = page_text(at)
    s = PRESETS["adam-nadam"].setup()
    rosen, start = s.make_surface(), s.start_point()
    slow = run("adam", rosen, 600, start=start, lr=0.001)
    assert f"would move Adam only {np.linalg.norm(slow.path[-1] - slow.path[0]):.2g} in 600 steps" in text
    adam = run("adam", rosen, 600, start=start, lr=0.03)
    step1 = np.abs(adam.path[1] - adam.path[0])  # the real first step, as the run took it
    g = np.abs(adam.grad[0])
    raw = 0.03 * 0.1 * g / (np.sqrt(0.001 * g * g) + 1e-8)
    assert f"The first real step is **{step1[0]:.3g}** in x and **{step1[1]:.3g}** in y" in text
    assert f"Without correction it would be {raw[0]:.3g}" in text
    nadam = run("nadam", rosen, 600, start=start, lr=0.03)
    below = nadam.loss < adam.loss
    lead = int(np.flatnonzero(~below)[-1] + 1)
    far = [np.linalg.norm(t.path[-1] - (1, 1)) for t in (adam, nadam)]
    gaps = [float(t.loss[-1]) - rosen.global_min for t in (adam, nadam)]
    assert (f"From step {lead} on, Nadam's loss stays below Adam's; after 600 steps Adam is {far[0]:.2g} "
            f"from the minimum (J − J* = {gaps[0]:.2g}), Nadam {far[1]:.2g} (J − J* = {gaps[1]:.2g})") in text
    hot_adam, hot = (run(n, rosen, 600, start=start, lr=0.1) for n in ("adam", "nadam"))
    lowest = np.minimum.accumulate(hot.loss)
    rises = hot.loss[1:] / lowest[:-1]
    at_step = int(np.argmax(rises)) + 1
    assert f"near step {at_step} Nadam's loss jumps {rises.max():.0f}-fold" in text
    assert f"(J − J* = {float(hot.loss[-1]):.2g} against {float(hot_adam.loss[-1]):.2g})" in text
    mu = [0.9 * (1 - 0.5 * 0.96 ** (t * 0.004)) for t in (1, 600)]
    assert f"μₜ starts at {mu[0]:.2f} and is still {mu[1]:.2f} at step 600" in text
    table = at.dataframe[0].value.to_dict("records")
    for row, size in zip(table, (1e-6, 1e-3, 1.0, 1e3), strict=True):
        assert row["GD step η|g|"] == f"{0.03 * size:.3g}"
        assert row["Adam step"] == f"{0.03 * size / (size + 1e-8):.3g}"


# --- a page and its lesson ---------------------------------------------------------------------------

#: each Learn page's lessons: the preset it opens (by its Playground link: label, which of them) and the
#: runs they share
PAGE_LESSONS = {
    "learn_1_gradient_descent": (("Open these three in the Playground", 0), "learning-rate"),
    "learn_4_momentum": (("Open in the Playground", 1), "ravine"),
    "learn_5_nesterov": (("Open this comparison in the Playground", 0), "nesterov"),
    "learn_7_rmsprop": (("Open this comparison in the Playground", 0), "adagrad-fades"),
    "learn_8_adam": (("Open this comparison in the Playground", 0), "adam-nadam"),
}


def numbers(text: str) -> list[str]:
    return re.findall(r"−?\d+(?:\.\d+)?", text)


def test_page5_and_its_lesson_tell_the_same_story():
    """Learn 5 at its defaults and the Nesterov lesson: the same runs, the same crossings, the same
    deepest swing and the same arrival steps, word for word where both state them."""
    at = open_page("app_pages/learn_5_nesterov.py")
    text = page_text(at)
    lesson = PRESETS["nesterov"]
    m, n = metric(at, "Momentum").value, metric(at, "Nesterov").value
    assert f"momentum crosses it {m} times" in lesson.answer
    assert f"Nesterov crosses it {n} times" in lesson.answer
    deep = re.search(r"momentum swings down to y = (\S+), Nesterov only to y = (\S+?),", text).groups()
    assert f"swings down to y = {deep[0]}" in lesson.answer and f"only to y = {deep[1]}" in lesson.answer
    arrive = re.search(r"momentum (\d+), Nesterov (\d+)\.", text).groups()
    assert f"Nesterov is within 0.01 of the minimum from step {arrive[1]}, momentum from step {arrive[0]}" \
        in lesson.answer
    assert f"by more than {0.02:g}" in lesson.answer and "more than 0.02 on" in text


def test_page4_and_its_lesson_agree():
    at = open_page("app_pages/learn_4_momentum.py")
    text = page_text(at)
    row = re.search(r"within 0\.01 of the minimum from step \| (\d+) \| (\d+) \|", text).groups()
    answer = PRESETS["ravine"].answer
    assert f"from step {row[1]}, gradient descent only from step {row[0]}" in answer
    assert "within about 20 steps" in answer and f"from step {20} on" in text


def test_page8_and_its_lesson_agree():
    at = open_page("app_pages/learn_8_adam.py")
    text = page_text(at)
    lead, adam_far, nadam_far = re.search(
        r"From step (\d+) on, Nadam's loss stays below Adam's; after \d+ steps Adam is (\S+) from the "
        r"minimum \(J − J\* = \S+\), Nadam (\S+) ", text).groups()
    answer = PRESETS["adam-nadam"].answer
    assert f"below Adam's from step {lead} to the end" in answer
    assert f"about {nadam_far} away, Adam about {adam_far}" in answer


def test_pages_6_7_and_their_lesson_agree():
    at = open_page("app_pages/learn_6_adagrad.py")
    far = re.search(r"the run is still (\S+) away from the minimum", page_text(at)).group(1)
    assert f"AdaGrad about {float(far):.1f}" in PRESETS["adagrad-fades"].answer
    at7 = open_page("app_pages/learn_7_rmsprop.py")
    assert metric(at7, "Steps (of 800) where AdaGrad's rate rose").value == "0"  # "only ever falls"
    assert "only ever falls" in PRESETS["adagrad-fades"].answer


def test_page1_and_its_lesson_agree():
    at = open_page("app_pages/learn_1_gradient_descent.py")
    text = page_text(at)
    answer = PRESETS["learning-rate"].answer
    for lr in ("0.02", "0.38", "0.41"):
        assert f"η = {lr}" in text and lr in answer
    assert "2/L = 0.4" in answer and "2 / L = 0.4" in text
    # η = 0.38 zig-zags in but is not the best rate: page and lesson both say η = 1/3 arrives sooner
    bowl = landscapes.get("elongated_bowl", condition=5)
    under, third = (reached(run("gd", bowl, 60, lr=r).path) for r in (0.38, 1 / 3))
    assert 0 <= third < under
    assert (f"**Just under 2/L** (η = 0.38): it zig-zags across the bowl, but each zig is smaller than the "
            f"last, and it arrives (within 0.01 of the minimum from step {under}). Arriving is not the "
            f"same as fast: η = 1/3 arrives sooner (within 0.01 of the minimum from step {third}; see "
            "below).") in text
    assert "η = 1/3 would arrive sooner" in answer and "Try η = 1/3 (fastest here" in text
    assert "just right" not in (text + answer).lower()


@pytest.mark.parametrize("page", list(PAGE_LESSONS))
def test_each_page_opens_the_lesson_it_talks_about(page):
    """The runs a page describes are the lesson's runs: same optimizers and hyperparameters, in order
    (the page's link opens exactly that lesson)."""
    from conftest import assert_on_playground, follow_playground_link

    link, key = PAGE_LESSONS[page]
    at = open_page(f"app_pages/{page}.py")
    follow_playground_link(at, *link)
    assert_on_playground(at, PRESETS[key].setup())


def test_page1_problems_and_their_lessons_agree():
    """Learn 1's three problems and the lessons their buttons open: the same step counts, the same
    winners (the lessons' answers are checked on the runs in tests/test_lessons.py)."""
    at = open_page("app_pages/learn_1_gradient_descent.py")
    text = page_text(at)
    one_rate = PRESETS["one-rate"]
    steps = one_rate.setup().steps
    assert f"After the same {steps} steps GD is still short of the minimum; RMSProp and Adam" in text
    assert f"After {steps} steps" in one_rate.question and one_rate.answer.startswith("RMSProp and Adam")
    assert "momentum rolls on into the deepest (the star at the top right)" in text
    assert "ends in the deepest well (the star at the top right)" in PRESETS["local-minima"].answer
    # the lesson's answer names Adam, then momentum, then gradient descent, each with its step
    steps_out = map(int, re.findall(r"step (\d+)", PRESETS["saddle"].answer))
    escape = dict(zip(("adam", "momentum", "gd"), steps_out, strict=True))
    assert "GD lingers there much longer than momentum or Adam" in text
    assert escape["gd"] > 3 * max(escape["adam"], escape["momentum"])


def test_page4_wells_and_their_lesson_agree():
    at = open_page("app_pages/learn_4_momentum.py")
    text = page_text(at)
    s = PRESETS["local-minima"].setup()
    assert f"watch them for {s.steps} steps" in text
    assert len({r.hyper["lr"] for r in s.runs}) == 1 and "at the same learning rate" in text
    deepest = [m for m in at.metric if "deepest" in (m.delta or "")]
    assert [m.label.split(" (")[0] for m in deepest] == ["Momentum"]  # as the lesson says
    assert "Momentum arrives there with speed, rolls over the rim and ends in the deepest well" in \
        PRESETS["local-minima"].answer



# --- page 9: the reference card -------------------------------------------------------------------


@pytest.fixture(scope="module")
def page9():
    return open_page("app_pages/learn_9_reference.py")


def torch_path(code: str, surface, start, steps: int) -> np.ndarray:
    """The card's PyTorch code (our own text, shown on the page) run for ``steps`` steps in float64, fed
    the surface's gradient: the points it visits (steps + 1, 2)."""
    import torch

    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    scope = {"params": [w]}
    exec(code, scope)  # the page's generated code, in a test only (no user text)
    opt, path = scope["opt"], [w.detach().numpy().copy()]
    for _ in range(steps):
        w.grad = torch.tensor(surface.grad(w.detach().numpy()), dtype=torch.float64)
        opt.step()
        path.append(w.detach().numpy().copy())
    return np.array(path)


def test_page9_table_defaults_and_code_take_the_same_steps(page9):
    """Each card's defaults (table and text) are the optimizer's own, and its PyTorch code, run, takes our
    steps at those defaults for 300 steps to the 1e-7 the page states (the look-ahead form: its look-ahead
    points, as its conventions say)."""
    table = page9.dataframe[0].value.to_dict("records")
    torch_codes = [c.value for c in page9.code if c.value.startswith("import torch")]
    text = page_text(page9)
    surface, start = landscapes.get("rosenbrock"), (-1.5, 2.0)
    assert len(table) == len(torch_codes) == len(optimizers.names())
    for row, code, name in zip(table, torch_codes, optimizers.names(), strict=True):
        rule, opt = optimizers.rule(name), optimizers.get(name)
        # in the course's symbols (the code below keeps PyTorch's names)
        defaults = ", ".join(f"{p.symbol or p.name} = {opt.hyper[p.name]:g}" for p in rule.params)
        assert row == {"optimizer": rule.label, "defaults": defaults,
                       "PyTorch": f"torch.optim.{rule.torch_class}"}
        assert f"torch.optim.{rule.torch_class}(" in code
        for p in rule.params:
            assert f"{p.label} = {opt.hyper[p.name]:g}" in text
        ours = optimizers.run(opt, surface, start=start, steps=300)
        theirs = torch_path(code, surface, start, 300)
        mine = ours.grad_point if name == "nesterov_lookahead" else ours.path
        np.testing.assert_allclose(mine, theirs[:len(mine)], rtol=1e-7, atol=1e-12, err_msg=name)
    assert "require 300 steps to agree to 1e-7" in page9.info[0].value


def test_page9_the_reference_runs_it_cites(page9):
    """The torch fixture the card cites: several surfaces, with and without schedules, every optimizer,
    300 steps checked to 1e-7; the Keras one: Keras 3.15, and SGD, momentum, Nesterov and Nadam with
    momentum_decay = 1 in their PyTorch form on Keras's steps to 1e-14."""
    import test_reference as ref

    text = page9.info[0].value
    assert ref.STEPS == 300 and ref.RTOL == 1e-7 and "require 300 steps to agree to 1e-7" in text
    assert len({c["surface"] for c in ref.CASES}) >= 3
    assert {c["schedule"]["kind"] == "constant" for c in ref.CASES} == {True, False}
    course_forms = {"momentum_ewma", "nesterov_lookahead"}  # checked through their relations to torch's
    assert {c["optimizer"] for c in ref.CASES} >= set(optimizers.names()) - course_forms
    with np.load(ref.ROOT / "tests" / "fixtures" / "keras_reference.npz") as data:
        version, cases, paths = str(data["keras_version"]), json.loads(str(data["cases"])), data["path"]
    assert version.startswith("3.15") and "Keras 3.15" in text
    same = [(c, p) for c, p in zip(cases, paths, strict=True) if c["form"] == "pytorch"
            and c["optimizer"] in ("gd", "momentum", "nesterov", "nadam")]
    assert {c["optimizer"] for c, _ in same} == {"gd", "momentum", "nesterov", "nadam"}
    assert all(c["hyper"]["momentum_decay"] == 1 for c, _ in same if c["optimizer"] == "nadam")
    for c, keras_path in same:
        opt = optimizers.get(c["optimizer"], schedule=optimizers.Schedule(**c["schedule"]), **c["hyper"])
        tr = optimizers.run(opt, landscapes.get(c["surface"]), start=c["start"], steps=len(keras_path) - 1)
        assert np.abs(tr.path - keras_path).max() < 1e-14, c["id"]
    assert "take the same steps to 1e-14" in text


def test_page9_numbers_in_the_rules_notes():
    """The numbers in the cards' notes: Keras's ε as a multiple of PyTorch's, torch.optim's own defaults,
    Nadam's schedules, RAdam's first momentum-only steps."""
    import inspect

    import torch

    def torch_default(cls, name):
        return inspect.signature(getattr(torch.optim, cls)).parameters[name].default

    adam = optimizers.rule("adam")
    eps_at = [1 / np.sqrt(1 - 0.999 ** t) for t in (1, 1000)]
    assert f"({eps_at[0]:.1f} ε at step 1, {eps_at[1]:.3g} ε at step 1000 for β₂ = 0.999)" in adam.note
    assert torch_default("Adam", "lr") == 0.001 and "PyTorch's and Keras's default" in adam.conventions
    assert (torch_default("AdamW", "lr"), torch_default("AdamW", "weight_decay")) == (0.001, 0.01)
    assert "PyTorch's defaults: η = 0.001, λ = 0.01" in optimizers.rule("adamw").conventions
    assert torch_default("RMSprop", "alpha") == 0.99
    assert "PyTorch alpha = 0.99" in optimizers.rule("rmsprop").conventions
    nadam = optimizers.rule("nadam")
    assert torch_default("NAdam", "lr") == 0.002 and "its default η for NAdam is 0.002" in nadam.conventions
    assert torch_default("NAdam", "momentum_decay") == 0.004 and "ψ = 0.004 by default" in nadam.note
    t = np.arange(1, 100_000)
    near = [int(t[np.argmax(0.9 * (1 - 0.5 * 0.96 ** (t * psi)) > 0.99 * 0.9)]) for psi in (1.0, 0.004)]
    assert 90 <= near[0] <= 110 and near[1] > 1000  # "within about 100 steps instead of thousands"
    assert "within about 100 steps instead of thousands" in nadam.note
    radam = optimizers.rule("radam")
    rho_inf = 2 / (1 - 0.999) - 1
    rho = rho_inf - 2 * t[:50] * 0.999 ** t[:50] / (1 - 0.999 ** t[:50])
    first = int(np.sum(rho <= 5))
    assert np.all(rho[:first] <= 5) and f"the first {first} steps for β₂ = 0.999" in radam.note
    assert torch_default("RAdam", "lr") == 0.001 and "PyTorch's default η is 0.001" in radam.conventions
    tr = optimizers.run(optimizers.get("radam"), landscapes.get("booth"), start=(-1.0, 4.0), steps=first + 1)
    m = np.zeros(2)
    for k in range(first):  # those steps are η m̂ (momentum SGD)
        m = 0.9 * m + 0.1 * tr.grad[k]
        np.testing.assert_allclose(tr.path[k] - tr.path[k + 1], 0.01 * m / (1 - 0.9 ** (k + 1)), rtol=1e-12)


# --- page 10: real networks ---------------------------------------------------------------------------
# Its runs redone here from what the page says it ran (a 2-16-16-1 tanh MLP on 200 points of two moons,
# seed 0, 1000 test points), measured with NumPy: Hessians from the network's exact Hessian-vector
# products, accuracies and cross-entropies from its logits, lines and directions built here.


@pytest.fixture(scope="module")
def page10():
    return open_page("app_pages/learn_10_networks.py")


@pytest.fixture(scope="module")
def net10():
    return landscapes.network(data="moons", hidden=(16, 16), activation="tanh", n=200, noise=0.2, seed=0,
                              n_test=1000)


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def full_hessian(net, w) -> np.ndarray:
    h = net.hvp(np.repeat(np.asarray(w)[None], net.dim, axis=0), np.eye(net.dim))
    return (h + h.T) / 2


def curving_down(eig) -> tuple[int, float]:
    """Directions of downward curvature (below -1e-6 of the largest |eigenvalue|, the page's zero) and
    the strongest of them against the strongest upward one."""
    return int(np.sum(eig < -1e-6 * np.abs(eig).max())), max(0.0, -eig[0]) / eig[-1]


def cross_entropy(net, w, samples) -> float:
    z = net.logits(w, samples.x)
    return float(np.mean(np.logaddexp(0, z) - samples.y * z))


def accuracy(net, w, samples) -> float:
    return float(np.mean((net.logits(w, samples.x) >= 0) == (samples.y == 1)))


def test_page10_network_and_seeds(page10, net10):
    from viz.learn_networks import percent, span

    text = markdown(page10)
    assert f"1 output: **{net10.dim} weights**" in text and net10.dim == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    assert f"({net10.data.n} training points, {net10.test.n} test points" in text
    seeds = np.arange(8)
    adam = run("adam", net10, 400, start=net10.init(seeds), lr=0.02)
    gd = run("gd", net10, 400, start=net10.init(seeds), lr=0.5)
    assert "Here are 8 runs of Adam (η = 0.02, 400 steps)" in text
    assert "and 8 of plain gradient descent" in text
    ends = adam.path[-1]
    train = [accuracy(net10, w, net10.data) for w in ends]
    test = [accuracy(net10, w, net10.test) for w in ends]
    assert (f"start at losses of {span(adam.loss[0])} and end at **{span(adam.loss[-1])}**, with training "
            f"accuracy {percent(train)} and test accuracy {percent(test)}") in text
    assert adam.loss[-1].max() < 0.5 * adam.loss[0].min()  # "None is stuck"
    assert f"every run ends below {adam.loss[-1].max() / adam.loss[0].min():.0%} of the lowest" in text
    g0, g1 = (np.linalg.norm(net10.grad(gd.path[t]), axis=-1) for t in (0, -1))
    drop = gd.loss[300] - gd.loss[-1]
    passes = int(np.flatnonzero(adam.loss[:, 0] < gd.loss[-1].min())[0])
    assert (f"every seed ends at {span(gd.loss[-1], 3)}, on one **plateau**. Its gradient there is "
            f"{span(g1 / g0)} times its size at the start, and over its last 100 steps the loss fell by "
            f"only {span(drop, 1)}") in text
    assert f"crosses that level at step {passes} and goes on down" in text


def test_page10_hessians_and_lines(page10, net10):
    from viz.learn_networks import span

    text = markdown(page10)
    seeds = np.arange(8)
    adam = run("adam", net10, 400, start=net10.init(seeds), lr=0.02)
    start = curving_down(np.linalg.eigvalsh(full_hessian(net10, adam.path[0, 0])))
    at30 = curving_down(np.linalg.eigvalsh(full_hessian(net10, adam.path[30, 0])))
    ends = [curving_down(np.linalg.eigvalsh(full_hessian(net10, adam.path[-1, r]))) for r in range(3)]
    assert (f"At the start the loss curves down in **{start[0]}** of {net10.dim} directions, the strongest "
            f"of them {start[1]:.0%} as strongly") in text
    assert f"By step 30 that is down to {at30[1]:.1%}" in text
    assert (f"At the ends of seeds 0 to 2, {span([e[0] for e in ends])} directions still curve down, but "
            f"only {span([100 * e[1] for e in ends], 1)} % as strongly") in text
    a, b = adam.path[-1, 0], adam.path[-1, 1]
    alpha = np.linspace(0, 1, 41)  # the segment, at the page's spacing (1/40)
    between = net10.f(a + alpha[:, None] * (b - a))
    from_start = net10.f(adam.path[0, 0] + alpha[:, None] * (a - adam.path[0, 0]))
    assert np.all(np.diff(from_start) <= 0) and "the loss falls all the way" in text
    barrier = between.max() - max(between[0], between[-1])
    assert barrier > 0.1 * max(between[0], between[-1]) and "two valleys" in text
    assert (f"(losses {between[0]:.3g} and {between[-1]:.3g}) it climbs **{barrier:.3g} above the worse "
            "end**") in text
    alike = np.mean((net10.logits(a, net10.test.x) >= 0) == (net10.logits(b, net10.test.x) >= 0))
    assert f"classify **{alike:.1%}** of the test points alike" in text


def test_page10_mini_batch_noise(page10, net10):
    """Three runs of GD (η = 0.5) for 10 epochs; their loss on all 200 points after every update, from
    their paths."""
    text = markdown(page10)
    n = net10.data.n
    assert ("η = 0.5), fed three kinds of gradient, for the same **10 epochs** (passes over the 200 "
            "training points): the full batch makes one update per epoch, mini-batches of 20 make 10, SGD "
            "makes 200") in text
    table = page10.dataframe[0].value.to_dict("records")
    runs = {}
    for row, b in zip(table, (n, 20, 1), strict=True):
        tr = optimizers.run(optimizers.get("gd", lr=0.5), net10, steps=10 * n // b,
                            batch_size=b if b < n else None, seed=0)
        loss = np.array([cross_entropy(net10, w, net10.data) for w in tr.path])
        rises = float(np.mean(np.diff(loss) > 0))
        assert row["updates"] == 10 * n // b and row["final loss"] == pytest.approx(loss[-1], rel=1e-9)
        assert row["loss rose after"] == f"{rises:.0%} of updates"
        runs[b] = loss, rises
    (full, full_r), (_, mini_r), (sgd, sgd_r) = runs.values()
    assert f"falls at every update ({full_r:.0%} rises)" in text and full_r == 0
    assert f"rises after **{mini_r:.0%}** of its updates and SGD's after **{sgd_r:.0%}**" in text
    assert f"SGD's loss swings by {np.ptp(sgd[-n - 1:]):.2g} within its last epoch" in text
    best = min(runs, key=lambda b: runs[b][0][-1])
    label = {n: "full batch", 20: "mini-batch (B = 20)", 1: "SGD (B = 1)"}[best]
    assert f"**{label}** run's ({runs[best][0][-1]:.3f}; full batch {full[-1]:.3f})" in text
    assert ("more updates beat exact ones" in text) == (best != n)


def test_page10_badly_scaled_inputs(page10, net10):
    """GD and Adam at 8 learning rates for 200 steps from the network's start, on the data and on the data
    with feature 1 x100; the first layer's gradients and tanh outputs at the start."""
    from dataclasses import replace

    from landscapes.datasets import Samples

    text = markdown(page10)
    lrs = np.array([1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0])
    scale = np.array([100.0, 1.0])
    nets = {"plain": net10, "scaled": replace(net10, data=Samples(net10.data.x * scale, net10.data.y),
                                              test=Samples(net10.test.x * scale, net10.test.y))}
    first = net10.layers[0]
    w1, b1 = net10.start[first.weight].reshape(first.out, first.inp), net10.start[first.bias]
    best, ratio, flat = {}, {}, {}
    for data, net in nets.items():
        g = np.abs(net.grad(net.start)[first.weight].reshape(first.out, first.inp)).mean(0)
        ratio[data] = g[0] / g[1]
        flat[data] = np.mean(np.abs(np.tanh(net.data.x @ w1.T + b1)) > 0.99)
        for name in ("gd", "adam"):
            tr = optimizers.run(optimizers.get(name, lr=lrs), net, start=np.tile(net.start, (lrs.size, 1)),
                                steps=200)
            end = np.where(tr.diverged_at < 0, tr.loss[-1], np.nan)
            i = int(np.nanargmin(end))
            best[name, data] = end[i], lrs[i]
    assert (f"at the start they average {ratio['scaled']:.2g} times those on the other feature (on the plain "
            f"data {ratio['plain']:.2g} times)") in text
    assert "multiply the first input feature by **100**" in text
    assert f"Both ran 200 steps at each of {lrs.size} learning rates" in text
    (gp, _), (ap, _) = best["gd", "plain"], best["adam", "plain"]
    (gs, gs_lr), (as_, as_lr) = best["gd", "scaled"], best["adam", "scaled"]
    assert (f"the best GD run reaches {gp:.3g} and the best Adam run {ap:.3g}. Scaled, GD's best is "
            f"**{gs:.3g}** (at η = {gs_lr:g}) and Adam's **{as_:.3g}** (at η = {as_lr:g})") in text
    assert as_ < gs and f"ends {gs / as_:.2g} times lower than GD can" in text
    assert as_ > ap and "its best loss is higher than on the plain data" in text
    assert (f"at the start {flat['scaled']:.0%} of their outputs are beyond ±0.99, where the slope is almost "
            f"zero (plain data: {flat['plain']:.0%})") in text
    legends = {t["name"] for c in page10.get("plotly_chart") if c.proto.id.endswith("nets.curves")
               for t in json.loads(c.proto.spec)["data"] if t.get("name")}
    for (o, d), (_, lr) in best.items():
        assert f"{'GD' if o == 'gd' else 'Adam'}, {d} (η = {lr:g})" in legends


def test_page10_sharp_and_flat(page10, net10):
    """GD (η = 0.5) for 1000 updates from 4 seeds, full batch and batches of 8: the top Hessian eigenvalue
    at each end (the full Hessian's, not a power iteration), the mean loss increase at 0.5 along 4
    filter-normalized directions (drawn here as the page says: each neuron's incoming weights scaled to
    that neuron's norm in w, biases 0), test loss and accuracy from the logits."""
    from viz.learn_networks import percent, span

    text = markdown(page10)
    assert ("gradient descent with η = 0.5, 1000 updates, from 4 initializations, once with the full batch "
            "(200 samples per update) and once with mini-batches of 8") in text
    seeds = np.arange(4)
    got = {}
    for b in (200, 8):
        tr = optimizers.run(optimizers.get("gd", lr=0.5), net10, start=net10.init(seeds), steps=1000,
                            batch_size=b if b < 200 else None, seed=seeds)
        ends = tr.path[-1]
        rng = np.random.default_rng(0)
        rise = []
        for w in ends:
            dirs = []
            for _ in range(4):
                d = np.zeros(net10.dim)
                for layer in net10.layers:
                    rows = rng.standard_normal((layer.out, layer.inp))
                    own = np.linalg.norm(w[layer.weight].reshape(layer.out, layer.inp), axis=1)
                    d[layer.weight] = (rows * (own / np.linalg.norm(rows, axis=1))[:, None]).ravel()
                dirs.append(d)
            rise.append(np.mean(net10.f(w + 0.5 * np.array(dirs)) - net10.f(w)))
        got[b] = {"train": net10.f(ends), "rise": np.array(rise),
                  "sharp": np.array([np.linalg.eigvalsh(full_hessian(net10, w))[-1] for w in ends]),
                  "test": [cross_entropy(net10, w, net10.test) for w in ends],
                  "acc": np.array([accuracy(net10, w, net10.test) for w in ends])}
    table = page10.dataframe[1].value.to_dict("records")
    for row, b in zip(table, (200, 8), strict=True):
        g = got[b]
        assert row == {"batch": "full (200)" if b == 200 else "8", "training loss": span(g["train"], 3),
                       "sharpness": span(g["sharp"]), "loss increase at 0.5": span(g["rise"]),
                       "test loss": span(g["test"], 3), "test accuracy": percent(g["acc"])}, b
    mean = {b: {k: float(np.mean(v)) for k, v in g.items()} for b, g in got.items()}
    large, small = mean[200], mean[8]
    assert small["sharp"] < large["sharp"] and small["rise"] < large["rise"]
    assert (f"mean sharpness {small['sharp']:.2g} against {large['sharp']:.2g}, and a loss increase of "
            f"{small['rise']:.2g} against {large['rise']:.2g}") in text
    assert abs(large["sharp"] / (2 / 0.5) - 1) < 0.3 and "sits near 2 / η = 4" in text
    spread = max(np.ptp(g["acc"]) for g in got.values())
    assert small["acc"] - large["acc"] <= 0.5 * spread and "But flatter is not better here" in text
    assert (f"test accuracy {small['acc']:.1%} against {large['acc']:.1%}, while seeds of one batch size "
            f"differ by up to {spread:.1%}") in text


def test_page10_networks_note(page10, net10):
    """What the captions say of the Networks page's runs: its network trains on the same points from the
    same start, with a test set of 50 points."""
    from descent_lab.network_lessons import networks_setup

    theirs = networks_setup((), 10).network()
    np.testing.assert_array_equal(theirs.data.x, net10.data.x)
    np.testing.assert_array_equal(theirs.start, net10.start)
    captions = [c.value for c in page10.caption if "The Networks page trains" in c.value]
    assert len(captions) == 3
    for c in captions:
        assert f"same {theirs.data.n} training points" in c
        assert f"smaller test set ({theirs.test.n} points, here {net10.test.n:,})" in c
