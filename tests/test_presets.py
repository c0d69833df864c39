"""Every preset is a clean link and tells the story it claims."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest

import optimizers
from descent_lab import learn
from descent_lab.presets import PRESETS, from_link
from descent_lab.setup import SPEEDS, STEPS_PER_SECOND


def outcomes(key, tol=0.05):
    setup = PRESETS[key].setup()
    s = setup.make_surface()
    out = []
    for r in setup.runs:
        tr = optimizers.run(r.optimizer(), s, start=setup.start_point(), steps=setup.steps)
        out.append((tr, optimizers.outcome(tr, s, tol)))
    return out


@pytest.mark.parametrize("key", PRESETS)
def test_preset_link_parses_cleanly(key):
    p = PRESETS[key]
    query = dict(parse_qsl(urlsplit(p.link()).query))
    setup, problems = from_link(query)
    assert problems == [] and setup == p.setup()


def escape_step(tr, width=0.5) -> int:
    """First step at which the run is more than ``width`` from the saddle along x, or -1."""
    away = np.abs(tr.path[:, 0]) > width
    return int(np.argmax(away)) if away.any() else -1


def test_learning_rate_preset():
    (small, o1), (good, o2), (large, o3) = outcomes("learning-rate")
    assert o1.reached_at == -1 and o1.diverged_at == -1  # too small: still on its way ...
    assert np.linalg.norm(small.path[-1]) > 0.5  # ... and visibly far from the star
    assert o2.reached_at >= 0  # just right: it arrives
    y_good = good.path[:20, 1]  # zig-zags across the bowl, each zig smaller than the last
    assert np.all(np.sign(y_good[1:]) == -np.sign(y_good[:-1]))
    assert np.all(np.abs(y_good[1:]) < np.abs(y_good[:-1]))
    y_large = large.path[np.all(np.isfinite(large.path), axis=1), 1]  # each overshoot larger
    assert np.all(np.sign(y_large[1:]) == -np.sign(y_large[:-1]))
    assert np.all(np.abs(y_large[1:]) > np.abs(y_large[:-1]))
    assert o3.diverged_at >= 0 or np.abs(large.path[-1]).max() > 10 * np.abs(large.path[0]).max()


def test_local_minima_preset():
    (_, gd), (_, mom) = outcomes("local-minima")
    setup = PRESETS["local-minima"].setup()
    s = setup.make_surface()
    assert gd.nearest != 0 and gd.reached_at >= 0  # stuck in a shallow well
    assert mom.nearest == 0 and mom.reached_at >= 0  # the global minimum ...
    assert np.all(s.minima[0] > 0)  # ... the star at the top right, as page 1 says
    nearest_to_start, _ = optimizers.analysis.nearest_minimum(setup.start_point(), s)
    assert gd.nearest == nearest_to_start  # GD settles in the well nearest to its start
    assert len({r.hyper["lr"] for r in setup.runs}) == 1  # "at the same learning rate" (page 4)


def test_one_rate_preset():
    (_, gd), (_, rms), (_, adam) = outcomes("one-rate")
    assert gd.reached_at == -1 and gd.diverged_at == -1  # GD is still short of the minimum ...
    assert gd.distance > 0.1
    assert rms.distance < 0.03 and adam.distance < 0.03  # ... the per-weight rates are there


def test_ravine_preset_tells_the_true_story():
    (gd_tr, gd), (mom_tr, mom) = outcomes("ravine", tol=0.01)
    setup = PRESETS["ravine"].setup()
    L = setup.make_surface().params["condition"]
    gd_lr = setup.runs[0].hyper["lr"]
    assert gd_lr == pytest.approx(2 / (L + 1), rel=1e-3)  # GD at its best single rate
    # GD zig-zags from wall to wall: y flips sign at every one of the 150 steps, each zig ~4 % smaller
    y = gd_tr.path[:, 1]
    assert np.all(np.sign(y[1:]) == -np.sign(y[:-1]))
    np.testing.assert_allclose(np.abs(y[1:] / y[:-1]), 0.96, atol=0.002)
    assert learn.widest_swing(y, 20) > 0.4 * abs(y[0])  # still swinging wide from step 20 on
    # momentum: its swings across never get wider than its first, and die out within ~20 steps
    ym = mom_tr.path[:, 1]
    assert np.all(np.abs(ym[2:]) <= np.abs(ym[1]))
    assert learn.widest_swing(ym, 20) < 0.04 * abs(ym[0]) < 0.1 * learn.widest_swing(y, 20)
    # its loss is below GD's at every step, and it arrives about four times sooner
    assert np.all(mom_tr.loss[1:] < gd_tr.loss[1:])
    assert mom.reached_at >= 0 and gd.reached_at >= 3.5 * mom.reached_at


def test_nesterov_preset():
    (m_tr, _), (n_tr, _) = outcomes("nesterov")
    flips = [learn.crossings(t.path[:, 1]) for t in (m_tr, n_tr)]  # crossings of the valley floor
    assert 1 <= flips[1] < flips[0]


def test_saddle_preset():
    """Each run leaves the saddle within the preset's steps; momentum and Adam sooner than GD."""
    (gd_tr, _), (mom_tr, _), (adam_tr, _) = outcomes("saddle")
    gd, mom, adam = (escape_step(t) for t in (gd_tr, mom_tr, adam_tr))
    assert min(gd, mom, adam) > 0  # all leave the saddle within the run ...
    assert gd > 3 * max(mom, adam)  # ... GD lingers much longer


def test_adagrad_fades_preset():
    (ada, _), (rms, _) = outcomes("adagrad-fades")
    assert np.all(np.diff(ada.effective_lr, axis=0) <= 0)
    assert ada.effective_lr[-1].max() < rms.effective_lr[-1].min()


def test_adam_nadam_preset():
    (adam, a), (nadam, n) = outcomes("adam-nadam")
    assert [r.hyper["lr"] for r in PRESETS["adam-nadam"].setup().runs] == [0.03, 0.03]  # the same lr
    # Nadam stays ahead of Adam (lower loss) from early on to the end
    assert 0 < learn.ahead_from(nadam.loss, adam.loss) <= 20
    assert n.distance < a.distance and n.gap < a.gap


@pytest.mark.parametrize("key", PRESETS)
def test_lesson_plays_at_a_pace_to_talk_over(key):
    """Each lesson's link sets its speed (a field of the lesson) so that Play takes 5 to 20 s at the
    stage's pace (1x: STEPS_PER_SECOND), and the link's setup keeps it."""
    p = PRESETS[key]
    setup = p.setup()
    assert setup.speed == p.speed in SPEEDS
    seconds = setup.steps / (STEPS_PER_SECOND * float(p.speed.rstrip("x")))
    assert 5 <= seconds <= 20, (key, setup.steps, p.speed, seconds)


def test_default_pace_is_narratable():
    """At 1x the default run (500 steps) takes 25 s and a 150-step lesson 7.5 s (100 steps a second
    made the ravine lesson a 1.5 s blur); the stage is sent the same pace."""
    import landscapes
    from descent_lab.compute import RunView
    from descent_lab.families import lr_family, row
    from descent_lab.setup import Setup
    from viz import landscape_png
    from viz.stage import stage_data

    assert 10 <= STEPS_PER_SECOND <= 30
    setup = Setup(steps=20)
    fams = [lr_family(setup, spec, (1e-3,)) for spec in setup.runs[:1]]
    views = [RunView("1. run", "#0072B2", row(fams[0].trajectory, fams[0].index))]
    surface = landscapes.get("rosenbrock")
    assert stage_data(surface, views, fams, landscape_png(surface))["steps_per_s"] == STEPS_PER_SECOND
