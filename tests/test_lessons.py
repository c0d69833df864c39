"""Lessons keep their story: every lesson's answer is true of its runs (each claim checked as a
viewer would see it), a switch of optimizer or surface gives a run a rate that works there, and
the stability hint is exact on quadratics."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest

import landscapes
import optimizers
from descent_lab import learn, tuning
from descent_lab.compute import runs
from descent_lab.presets import PRESETS, from_link
from descent_lab.setup import Setup, custom_surface, from_query, run_spec, to_query
from optimizers.rounding import nudged
from viz import run_colors


def lesson(key, tol=0.01, nudge=False):
    """The lesson's surface and, per run, its trajectory and outcome (as the Playground runs it);
    ``nudge``: from the start moved by one unit in the last place (optimizers.rounding.nudged)."""
    setup = PRESETS[key].setup()
    if nudge:
        setup = replace(setup, start=tuple(nudged(np.array(setup.start_point()))))
    s = setup.make_surface()
    out = []
    for v in runs(setup):
        out.append((v.trajectory, optimizers.outcome(v.trajectory, s, tol)))
    return s, out


#: The lessons with a run that is sensitive to rounding: their answers are checked from the nudged
#: start too (where the run may go on another machine), and must still hold there.
SENSITIVE = {"adagrad-fades", "adam-nadam"}


def test_only_the_lessons_checked_from_a_nudged_start_are_sensitive_to_rounding():
    sensitive = {key for key, p in PRESETS.items() for v in runs(p.setup()) if v.trajectory.sensitive_from}
    assert sensitive == SENSITIVE


def distance(tr, s, k):
    """Distance from the minimum nearest to step k's point."""
    return float(optimizers.analysis.nearest_minimum(tr.path[k], s)[1])


# --- every lesson: a question, an answer, its names and colours -----------------------------------

@pytest.mark.parametrize("key", PRESETS)
def test_every_lesson_asks_and_answers(key):
    p = PRESETS[key]
    setup = p.setup()
    assert p.question.endswith("?") and len(p.answer) > 40 and p.title
    assert setup.lesson == key and p.matches(setup)
    assert to_query(setup)["lesson"] == key and from_link(to_query(setup)) == (setup, [])
    assert len(p.run_names()) == len(setup.runs)
    # each run's card calls it what the lesson does (its optimizer's name first) and shows its η and β
    for spec, name in zip(setup.runs, p.run_names(), strict=True):
        rule, card = optimizers.rule(spec.name), spec.optimizer().describe(short=True)
        if rule.label.split()[0] == name.split()[0]:  # the lesson names the run by its optimizer
            assert card.startswith(name) or (name == rule.label and card.startswith(rule.short)), (card, name)
        assert f"η={spec.optimizer().hyper['lr']:g}" in card
        assert ("beta" not in rule.defaults()) or f"β={spec.optimizer().hyper['beta']:g}" in card, card
    # one colour per optimizer: the Playground's runs have the colours the Learn pages take from run_colors
    colors = [v.color for v in runs(setup)]
    assert colors == run_colors([r.name for r in setup.runs])
    for spec, c in zip(setup.runs, colors, strict=True):
        if [r.name for r in setup.runs].count(spec.name) == 1:
            assert c == optimizers.rule(spec.name).color


def test_lesson_links_stay_backwards_compatible():
    """A link without lesson= opens no lesson; an unknown lesson is reported, not fatal."""
    query = dict(PRESETS["ravine"].query)
    setup, problems = from_query(query)
    assert problems == [] and setup.lesson == "" and PRESETS["ravine"].matches(setup)
    setup, problems = from_link({**query, "lesson": "no-such"})
    assert setup.lesson == "" and len(problems) == 1 and "lesson" in problems[0]


def test_a_changed_setup_no_longer_matches_its_lesson():
    setup = PRESETS["ravine"].setup()
    assert PRESETS["ravine"].matches(replace(setup, show3d=True, lesson=""))  # view settings aside
    assert not PRESETS["ravine"].matches(replace(setup, steps=151))
    assert not PRESETS["ravine"].matches(replace(setup, runs=setup.runs[:1]))


# --- each answer, claim by claim --------------------------------------------------------------

def test_answer_learning_rate():
    s, [(small, o1), (right, o2), (large, _)] = lesson("learning-rate")
    L = s.params["condition"]
    assert PRESETS["learning-rate"].run_names() == ("Too small", "Just under 2/L", "Too large")
    assert [t.optimizer.hyper["lr"] for t in (small, right, large)] == [0.02, 0.38, 0.41]
    assert 0.38 < 2 / L == 0.4 < 0.41
    assert o2.reached_at >= 0 and o1.reached_at == -1 and distance(small, s, -1) > 0.5
    y = right.path[:, 1]  # each zig smaller than the last
    assert np.all(np.sign(y[1:]) == -np.sign(y[:-1])) and np.all(np.abs(y[1:]) < np.abs(y[:-1]))
    y = large.path[:, 1]  # each overshoot larger, and it ends far out
    assert np.all(np.abs(y[1:]) > np.abs(y[:-1])) and abs(y[-1]) > 10 * abs(y[0])


def test_answer_one_rate():
    s, [(gd, g), (_, r), (_, a)] = lesson("one-rate")
    assert gd.optimizer.hyper["lr"] == 0.038 < 2 / s.params["condition"]
    assert r.distance < 0.03 and a.distance < 0.03 and g.distance > 0.1


def test_answer_local_minima():
    s, [(gd, g), (mom, m)] = lesson("local-minima")
    start = PRESETS["local-minima"].setup().start_point()
    assert g.nearest == optimizers.analysis.nearest_minimum(start, s)[0] != 0 and g.reached_at >= 0
    assert m.nearest == 0 and m.reached_at >= 0 and np.all(s.minima[0] > 0)  # the deepest, top right
    assert int(np.argmin(s.minima_values)) == 0
    assert gd.optimizer.hyper["lr"] == mom.optimizer.hyper["lr"]


def test_answer_saddle():
    _, [(gd, _), (mom, _), (adam, _)] = lesson("saddle")

    def escape(tr):
        return int(np.argmax(np.abs(tr.path[:, 0]) > 0.5))

    assert (escape(adam), escape(mom), escape(gd)) == (11, 37, 131)
    assert escape(gd) > 3 * escape(mom)


def test_answer_ravine():
    _, [(gd, g), (mom, m)] = lesson("ravine")
    assert (int(m.reached_at), int(g.reached_at)) == (34, 144) and 3.5 < g.reached_at / m.reached_at < 4.5
    y = gd.path[:, 1]
    assert np.all(np.sign(y[1:]) == -np.sign(y[:-1]))  # wall to wall at every step
    ym = mom.path[:, 1]
    assert np.all(np.abs(ym[2:]) <= np.abs(ym[1])) and learn.widest_swing(ym, 20) < 0.04 * abs(ym[0])
    assert np.all(mom.loss[1:] < gd.loss[1:])


def test_answer_nesterov():
    _, [(mom, m), (nag, n)] = lesson("nesterov")
    assert learn.crossings(mom.path[:, 1], 0.02) == 19 and learn.crossings(nag.path[:, 1], 0.02) == 2
    deepest = [round(float(np.min(t.path[:, 1])), 2) for t in (mom, nag)]
    assert deepest == [-1.26, -0.30]
    assert (n.reached_at, m.reached_at) == (92, 111)


@pytest.mark.parametrize("nudge", [False, True])
def test_answer_adagrad_fades(nudge):
    _, [(ada, a), (rms, r)] = lesson("adagrad-fades", nudge=nudge)
    assert np.all(np.diff(ada.effective_lr, axis=0) <= 0)
    assert np.all(ada.effective_lr[-1] < rms.effective_lr[-1])  # in both directions
    # "about 0.55": 0.547 from the link's start, 0.541 from the nudged one (RMSProp is sensitive)
    assert abs(float(r.distance) - 0.55) < 0.01 and round(float(a.distance), 1) == 1.7


@pytest.mark.parametrize("nudge", [False, True])
def test_answer_adam_nadam(nudge):
    _, [(adam, a), (nadam, n)] = lesson("adam-nadam", nudge=nudge)
    assert learn.ahead_from(nadam.loss, adam.loss) == 11
    assert np.all(nadam.loss[11:] < adam.loss[11:])
    assert (round(float(n.distance), 2), round(float(a.distance), 2)) == (0.46, 0.88)


def test_answer_first_look():
    s, [(gd, g), (mom, m), (adam, a)] = lesson("first-look")
    for k in (100, 200, 300, 500):
        assert distance(mom, s, k) < min(distance(adam, s, k), distance(gd, s, k))
    assert (round(float(m.distance), 2), round(float(a.distance), 1), round(float(g.distance), 1)) == (
        0.15, 0.2, 2.1)
    assert gd.optimizer.hyper["lr"] == mom.optimizer.hyper["lr"]


def test_answer_beale_plateau():
    s, [(_, g), (_, m), (_, a)] = lesson("beale-plateau")
    assert (int(m.reached_at), int(a.reached_at), int(g.reached_at)) == (118, 248, -1)
    setup = PRESETS["beale-plateau"].setup()
    # "at every rate of its slider": the whole slider in one batched run
    fam = tuning.slider_family(setup, setup.runs[0])
    end = optimizers.outcome(fam.trajectory, s, 0.01)
    lrs = np.array(fam.lrs)
    assert np.all((end.distance >= 4) | (end.diverged_at >= 0))
    assert np.all((end.diverged_at >= 0) == (lrs >= 0.05)) and np.all(end.diverged_at[lrs >= 0.05] <= 4)


# --- the learning rate after a switch -----------------------------------------------------------

@pytest.mark.parametrize(("surface", "name"), [("rosenbrock", "gd"), ("elongated_bowl", "momentum"),
                                               ("beale", "adam"), ("wells", "nesterov")])
def test_best_lr_ends_closest_among_the_slider(surface, name):
    """No rate of the slider's grid whose path stays on the map ends closer to f* than the chosen one
    (each a single run)."""
    setup = Setup(surface=surface, steps=200)
    s = setup.make_surface()
    best = tuning.best_lr(setup, run_spec(name, lr=optimizers.rule(name).lr.default))
    assert best.lr in optimizers.rule(name).lr.grid

    (x0, x1), (y0, y1) = s.domain

    def final_gap(lr):
        tr = optimizers.run(optimizers.get(name, lr=lr), s, start=setup.start_point(), steps=200)
        x, y = tr.path[:, 0], tr.path[:, 1]
        left = not np.all((x0 <= x) & (x <= x1) & (y0 <= y) & (y <= y1))
        return np.inf if tr.diverged_at >= 0 or left else float(tr.loss[-1] - s.global_min)

    gaps = {lr: final_gap(lr) for lr in optimizers.rule(name).lr.grid}
    floor = tuning.GAP_FLOOR * (s.f(np.array(setup.start_point())) - s.global_min)
    assert max(gaps[best.lr], floor) <= min(max(g, floor) for g in gaps.values())
    assert np.isfinite(gaps[best.lr])


def test_switching_adam_to_gd_gets_a_rate_that_works():
    """The issue's case: Adam's 0.1 carried over to GD diverges at step 3 on Rosenbrock."""
    setup = Setup()
    carried = optimizers.run(optimizers.get("gd", lr=0.1), setup.make_surface(), steps=setup.steps)
    assert carried.diverged_at == 3
    choice = tuning.choose_lr(setup, run_spec("gd", lr=0.1), previous_from="Adam's")
    tr = optimizers.run(optimizers.get("gd", lr=choice.lr), setup.make_surface(), steps=setup.steps)
    assert tr.diverged_at == -1 and not choice.kept and choice.lr == choice.best
    assert choice.caption() == (f"η set to {choice.lr:.3g} for GD, the rate on the slider that ends closest "
                                f"to the minimum after {setup.steps} steps without leaving the map; "
                                "Adam's 0.1 diverges at step 3")
    # and back: GD's small rate would crawl for Adam; Adam gets its own best
    back = tuning.choose_lr(setup, run_spec("adam", lr=choice.lr), previous_from="GD's")
    assert back.lr == tuning.best_lr(setup, run_spec("adam")).lr != choice.lr
    assert "ends farther from the minimum" in back.caption()


def test_a_rate_the_user_set_is_kept():
    setup = Setup()
    choice = tuning.choose_lr(setup, run_spec("gd", lr=0.1), previous_from="Adam's", own=0.5)
    assert choice.kept and choice.lr == 0.5 and choice.lr_diverged_at >= 0
    assert choice.caption().startswith("η 0.5 kept (you set it for GD); it diverges at step ")
    assert (f"for GD, the rate on the slider that ends closest to the minimum after {setup.steps} steps "
            f"without leaving the map is {choice.best:.3g}") in choice.caption()


def test_the_best_rate_stays_on_the_map():
    """Rosenbrock, Adam: lr 2 ends closest to the minimum but its path jumps off the map on the way;
    the choice is a rate whose whole path stays on the map."""
    setup = Setup()
    s = setup.make_surface()
    (x0, x1), (y0, y1) = s.domain

    def run(lr):
        return optimizers.run(optimizers.get("adam", lr=lr), s, start=setup.start_point(), steps=setup.steps)

    def stays(tr):
        x, y = tr.path[:, 0], tr.path[:, 1]
        return bool(np.all((x0 <= x) & (x <= x1) & (y0 <= y) & (y <= y1)))

    wild, chosen = run(2.0), run(tuning.best_lr(setup, run_spec("adam")).lr)
    assert not stays(wild) and wild.loss[-1] < chosen.loss[-1]
    assert stays(chosen) and chosen.diverged_at < 0
    # so steep that GD's smallest rate overshoots by 5% a step (its path grows off the map in 10 steps),
    # the rest diverge: the closest of all is taken and the caption says so
    steep = Setup(surface="custom", surface_params={"expression": "1.05e6*(x^2 + y^2)",
                                                    "domain": ((-1.0, 1.0), (-1.0, 1.0))},
                  start=(0.5, 0.5), steps=10)
    best = tuning.best_lr(steep, run_spec("gd"))
    assert not best.on_map and best.lr == optimizers.rule("gd").lr.grid[0]
    choice = tuning.choose_lr(steep, run_spec("gd", lr=0.1), previous_from="Adam's")
    assert "(every rate leaves the map)" in choice.caption()


def test_given_lrs_reads_the_link():
    setup, _ = from_query({"optimizers": "gd,gd,adam", "gd2.lr": "0.01"})
    assert tuning.given_lrs({"gd2.lr": "0.01"}, setup.runs) == (False, True, False)


# --- the stability hint --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov"])
@pytest.mark.parametrize("surface", ["elongated_bowl", "booth"])
def test_stable_lr_is_exact_on_quadratics(name, surface):
    """Just below the hint the run converges, just above it diverges (a batch of both, in the core)."""
    setup = Setup(surface=surface, steps=3000)
    spec = run_spec(name, lr=0.01)
    hint = tuning.stability(setup, spec)
    s = setup.make_surface()
    lrs = hint.limit * np.array([0.995, 1.005])
    tr = optimizers.run(optimizers.get(name, lr=lrs), s, start=setup.start_point(), steps=3000)
    assert tr.diverged_at[0] == -1 and tr.loss[-1, 0] - s.global_min < 1e-3 * (tr.loss[0, 0] - s.global_min)
    assert tr.diverged_at[1] >= 0


def test_stability_levels_and_none():
    setup = Setup(surface="elongated_bowl", surface_params={"condition": 50.0})
    assert tuning.stability(setup, run_spec("gd", lr=0.01)).limit == pytest.approx(2 / 50)
    levels = [tuning.stability(setup, run_spec("gd", lr=lr)).level for lr in (0.02, 0.0365, 0.039, 0.041)]
    assert levels == ["ok", "near", "near", "over"]
    over = tuning.stability(setup, run_spec("gd", lr=0.05))
    s = setup.make_surface()
    tr = optimizers.run(optimizers.get("gd", lr=0.05), s, start=setup.start_point(), steps=100)
    d = int(tr.diverged_at)
    assert d > 0 and over.warning(tr, s) == (
        "η 0.05 is above the largest stable η ≈ 0.04 at the start: there each step overshoots by more "
        f"than the last, and this run diverges (step {d}).")
    short = optimizers.run(optimizers.get("gd", lr=0.05), s, start=setup.start_point(), steps=20)
    assert short.diverged_at == -1 and short.loss[-1] > short.loss[0]  # not yet gone, but growing
    assert over.warning(short, s).endswith("this run's swings grow, and it ends higher than it started.")
    assert tuning.stability(setup, run_spec("gd", lr=0.01)).warning() is None
    assert "λmax = 50" in over.caption()
    assert tuning.stability(setup, run_spec("adam", lr=0.01)) is None  # no curvature limit
    assert optimizers.analysis.stable_lr(landscapes.get("beale"), (0, 0), "gd", {}) is None  # no Hessian
    hill = custom_surface("-(x^2 + y^2)", ((-3.0, 3.0), (-3.0, 3.0)))
    assert optimizers.analysis.stable_lr(hill, (1.0, 1.0), "gd", {}) is None  # no upward curvature


def test_stage_data_carries_each_runs_stable_lr():
    """The stage's lr slider marks the largest stable lr: a number for GD and momentum, None for Adam."""
    from descent_lab.families import lr_family
    from viz.stage import pack, stage_data, unpack
    setup = Setup(surface="elongated_bowl", surface_params={"condition": 50.0},
                  runs=(run_spec("gd", lr=0.01), run_spec("momentum", lr=0.01, beta=0.9), run_spec("adam")))
    s = setup.make_surface()
    fams = [lr_family(setup, spec, (0.001, 0.01, 0.1)) for spec in setup.runs]
    data = stage_data(s, runs(setup), fams, ("", 0.0, 1.0))
    limits = [r["stable_lr"] for r in data["runs"]]
    assert limits[0] == pytest.approx(2 / 50) and limits[1] == pytest.approx(2 * 1.9 / 50)
    assert limits[2] is None
    assert unpack(pack(data))["runs"][0]["stable_lr"] == limits[0]  # as the browser reads it
    assert stage_data(landscapes.get("beale"), runs(Setup(surface="beale", runs=setup.runs[:1])),
                      [lr_family(Setup(surface="beale"), setup.runs[0], (0.01,))],
                      ("", 0.0, 1.0))["runs"][0]["stable_lr"] is None  # no Hessian: no mark


def test_a_lesson_matches_its_runs_as_the_widgets_write_them():
    from dataclasses import replace

    from descent_lab.setup import RunSpec
    setup = PRESETS["adagrad-fades"].setup()  # no start in its link: the surface's
    widgets = tuple(RunSpec(r.name, r.hyper, {**r.schedule, "warmup": 0}) for r in setup.runs)
    assert PRESETS["adagrad-fades"].matches(replace(setup, runs=widgets, start=setup.start_point()))


def test_the_limit_formula_is_written_in_the_caption():
    setup = Setup(surface="elongated_bowl", surface_params={"condition": 50.0})
    hint = tuning.stability(setup, run_spec("momentum"))
    assert "(2(1+β)/λmax; λmax = 50, the largest curvature (Hessian eigenvalue) at the start)" in (
        hint.caption())
    assert "(2(1+β)/λmax; λmax = 50 at the start)" in hint.caption(define=False)


def test_above_the_limit_on_rosenbrock_a_run_can_get_through():
    """Rosenbrock curves steeply at the start and less in its valley: GD's best rate is above the
    start's limit, and the warning says the run gets through (it does)."""
    setup = Setup()
    best = tuning.best_lr(setup, run_spec("gd")).lr
    hint = tuning.stability(setup, run_spec("gd", lr=best))
    tr = optimizers.run(optimizers.get("gd", lr=best), setup.make_surface(), steps=setup.steps)
    assert hint.level == "over" and tr.diverged_at == -1 and not hint.alarming(tr)
    assert hint.warning(tr, setup.make_surface()).endswith(
        "This run gets through: where it goes the surface curves less, and there its lr is stable.")
    assert "λmax = 2090, the largest curvature (Hessian eigenvalue) at the start" in hint.caption()
    lam0 = np.linalg.eigvalsh(setup.make_surface().hess(np.array(setup.start_point())))[-1]
    lam_end = np.linalg.eigvalsh(setup.make_surface().hess(tr.path[-1]))[-1]
    assert lam_end < lam0 and best < 2 / lam_end  # flatter where it goes: stable there


def test_no_minimum_no_best_rate_and_bad_formulas_do_not_break_the_choice():
    """On a plane (f falls for ever) the lowest end is just the farthest: the rate stays and the
    caption says why. A formula that is NaN at the start is survived."""
    domain = ((-3.0, 3.0), (-3.0, 3.0))
    plane = Setup(surface="custom", surface_params={"expression": "x + y", "domain": domain})
    choice = tuning.choose_lr(plane, run_spec("gd", lr=0.1), previous_from="Adam's")
    assert choice.lr == 0.1
    assert choice.caption() == "η 0.1 unchanged: J has no minimum on this map, so no rate is best"
    log = Setup(surface="custom", surface_params={"expression": "log(x) + y^2", "domain": domain},
                start=(0.0, 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no All-NaN warnings either
        choice = tuning.choose_lr(log, run_spec("gd", lr=0.1), previous_from="Adam's")
    assert choice.lr in optimizers.rule("gd").lr.options(0.1)
    assert optimizers.analysis.stable_lr(log.make_surface(), (0.0, 1.0), "gd", {}) is None
