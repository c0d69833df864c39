"""The lessons in the Playground under AppTest: the picker, a lesson opened from its Learn page
(title, question, the page's run names and colours), the rate a switch gives a run and its caption,
and the stability warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import APPTEST_TIMEOUT, follow_playground_link, ok, open_page
from streamlit.testing.v1 import AppTest

from descent_lab import tuning
from descent_lab.presets import PRESETS
from descent_lab.setup import Setup, run_spec
from viz import run_colors
from viz.stage import unpack

ROOT = Path(__file__).resolve().parent.parent


def playground(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APPTEST_TIMEOUT)
    at.query_params.update(query or {})
    return ok(at)


def stage_runs(at: AppTest) -> list[dict]:
    (element,) = at.get("bidi_component")
    return unpack(element.proto.bytes)["runs"]


def box_text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def assert_lesson_shown(at: AppTest, key: str) -> None:
    """The Playground shows lesson ``key``: its title, question and run names, its runs in their
    colours, its answer in a fold-out, lesson= in the address."""
    p = PRESETS[key]
    text = box_text(at)
    assert p.title in text and p.question in text
    assert all(name in text for name in p.run_names())
    runs = stage_runs(at)
    assert [r["color"] for r in runs] == run_colors([r.name for r in p.setup().runs])
    assert [r["lrs"][r["index"]] for r in runs] == [r.hyper["lr"] for r in p.setup().runs]
    (answer,) = [e for e in at.expander if e.label == "Answer"]
    assert p.answer in " ".join(m.value for m in answer.markdown)
    assert at.query_params["lesson"] in (key, [key])
    assert "changed the lesson's settings" not in captions(at)


def test_lesson_picker_opens_every_lesson():
    at = playground()
    assert not [e for e in at.expander if e.label == "Answer"]  # no lesson: no answer
    for key in PRESETS:
        at.selectbox(key="lesson").set_value(key)
        ok(at)
        assert_lesson_shown(at, key)
    at.selectbox(key="lesson").set_value("")
    ok(at)
    assert not [e for e in at.expander if e.label == "Answer"] and "lesson" not in at.query_params


def test_lesson_from_a_link_and_a_change_noted():
    p = PRESETS["ravine"]
    at = playground(p.full_query())
    assert_lesson_shown(at, "ravine")
    at.select_slider(key="steps").set_value(300)
    ok(at)
    assert "changed the lesson's settings" in captions(at)
    at.button(key="lesson_reset").click()
    ok(at)
    assert_lesson_shown(at, "ravine")


@pytest.mark.parametrize(("page", "link", "chart", "key"), [
    ("app_pages/learn_1_gradient_descent.py", ("Open these three in the Playground", 0), "gd.three",
     "learning-rate"),
    ("app_pages/learn_4_momentum.py", ("Open in the Playground", 1), "mom.ravine", "ravine"),
    ("app_pages/learn_5_nesterov.py", ("Open this comparison in the Playground", 0), "nag.map", "nesterov"),
    ("app_pages/learn_7_rmsprop.py", ("Open this comparison in the Playground", 0), "rms.map",
     "adagrad-fades"),
    ("app_pages/learn_8_adam.py", ("Open this comparison in the Playground", 0), "adam.map", "adam-nadam"),
])
def test_learn_page_opens_its_lesson_with_its_names_and_colours(page, link, chart, key):
    """Each run's name and colour on the Learn page's chart are the ones the Playground shows."""
    at = open_page(page)
    (fig,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.proto.id.endswith(chart)]
    on_page = {t["name"]: t["line"]["color"] for t in fig["data"] if t.get("name") and t.get("line")}
    follow_playground_link(at, *link)
    assert_lesson_shown(at, key)
    for name, run in zip(PRESETS[key].run_names(), stage_runs(at), strict=True):
        (color,) = [c for n, c in on_page.items() if n.startswith(name)]
        assert color == run["color"], (name, color, run["color"])


def test_switching_gd_and_adam_gives_a_rate_that_works():
    """Adam's 0.1 carried over to GD diverges at step 3; the switch gives GD its best rate instead,
    and says so. Back to Adam: Adam's best rate (GD's would crawl)."""
    at = playground()
    at.selectbox(key="r2.opt").set_value("gd")
    ok(at)
    best = tuning.best_lr(Setup(), run_spec("gd", lr=0.1)).lr
    assert at.session_state["r2.lr"] == best
    said = (f"η set to {best:.3g} for GD, the rate on the slider that ends closest to the minimum after "
            f"{Setup().steps} steps without leaving the map; Adam's 0.1 diverges at step 3")
    assert said in captions(at)
    assert not any("diverged" in e.value for e in at.error)
    at.selectbox(key="r2.opt").set_value("adam")
    ok(at)
    adam_best = tuning.best_lr(Setup(), run_spec("adam")).lr
    assert at.session_state["r2.lr"] == adam_best
    assert f"η set to {adam_best:.3g} for Adam, the rate on the slider that ends closest" in captions(at)
    assert f"without leaving the map; GD's {best:.3g} ends farther from the minimum" in captions(at)


def test_a_bare_lesson_link_opens_the_lesson():
    """/?lesson=ravine (no runs, no surface) shows the lesson's own runs, not the default ones;
    what else the link says still counts."""
    at = playground({"lesson": "ravine"})
    assert_lesson_shown(at, "ravine")
    assert not any("this link" in w.value for w in at.warning)
    at = playground({"lesson": "ravine", "steps": "50", "present": "1"})
    assert [r.name for r in PRESETS["ravine"].setup().runs] == [
        at.session_state[f"r{i}.opt"] for i in at.session_state.run_ids]
    assert at.session_state.steps == 50 and at.session_state.present


@pytest.mark.parametrize("key", ["ravine", "local-minima"])
def test_a_bare_lesson_link_plays_at_the_speed_the_picker_gives(key):
    """/?lesson=ravine plays at the lesson's pace (0.5x), as the picker and its Learn link do, on the
    stage too; a speed the link gives wins."""
    bare = playground({"lesson": key})
    picked = playground()
    picked.selectbox(key="lesson").set_value(key)
    ok(picked)
    speeds = [at.session_state.speed for at in (bare, picked)]
    assert speeds == [PRESETS[key].speed] * 2 and PRESETS[key].speed != Setup.speed
    (element,) = bare.get("bidi_component")
    assert unpack(element.proto.bytes)["speed"] == PRESETS[key].speed
    assert playground({"lesson": key, "speed": "4x"}).session_state.speed == "4x"


def test_switching_a_run_recolours_no_other_run():
    """Default runs GD, Momentum, Adam: Run 1 to Adam keeps Run 3's (Adam's) colour and gives Run 1
    a free one; the cards and the stage agree."""
    at = playground()
    before = [r["color"] for r in stage_runs(at)]
    assert [at.session_state[f"r{i}.opt"] for i in range(3)] == ["gd", "momentum", "adam"]
    at.selectbox(key="r0.opt").set_value("adam")
    ok(at)
    after = [r["color"] for r in stage_runs(at)]
    assert after[1:] == before[1:] and after[0] not in before[1:]
    at.selectbox(key="r0.opt").set_value("gd")
    ok(at)
    assert [r["color"] for r in stage_runs(at)] == before


def test_a_rate_from_a_link_is_kept_on_a_surface_switch():
    at = playground({"optimizers": "gd,adam", "gd.lr": "0.005"})  # adam's rate not given: tuned
    at.selectbox(key="surface").set_value("booth")
    ok(at)
    assert at.session_state["r0.lr"] == 0.005
    assert "η 0.005 kept (you set it for GD)" in captions(at)
    booth = Setup(surface="booth")
    assert at.session_state["r1.lr"] == tuning.best_lr(booth, run_spec("adam")).lr


def test_stability_caption_and_warning():
    bowl = {"surface": "elongated_bowl", "condition": "50", "optimizers": "gd,adam"}
    at = playground({**bowl, "gd.lr": "0.02"})
    assert "largest stable η for GD here ≈ 0.04" in captions(at) and not at.warning
    for lr, words in (("0.037", "within 10% of the largest stable η ≈ 0.04"),
                      ("0.05", "above the largest stable η ≈ 0.04 at the start: there each step overshoots "
                               "by more than the last, and this run diverges")):
        at = playground({**bowl, "gd.lr": lr})
        (warning,) = at.warning
        assert warning.value.startswith("**Run 1 (GD)**") and words in warning.value
    assert "largest stable η for Adam" not in captions(at)  # adaptive: no curvature limit to show


def test_stability_warnings_in_the_learning_rate_lesson_say_what_the_runs_do():
    """Just under 2/L: a warning before the limit; just over: the run's swings grow (it has not
    left the map within 60 steps, so it is not reported diverged)."""
    at = playground(PRESETS["learning-rate"].full_query())
    near, over = (w.value for w in at.warning)
    assert near.startswith("**Run 2 (GD)**: η 0.38 is within 10% of the largest stable η ≈ 0.4")
    assert over.startswith("**Run 3 (GD)**: η 0.41 is above the largest stable η ≈ 0.4")
    assert over.endswith("this run's swings grow, and it ends higher than it started.")
    assert ("Run 1 (GD): largest stable η for GD here ≈ 0.4 (2/λmax; λmax = 5, the largest curvature "
            "(Hessian eigenvalue) at the start)") in captions(at)


def test_the_stability_captions_say_what_lambda_max_is_once():
    at = playground({"surface": "elongated_bowl", "optimizers": "gd,momentum,nesterov"})
    hints = [c.value for c in at.caption if "largest stable η" in c.value]
    assert len(hints) == 3 and all("λmax = 20" in h for h in hints)
    assert "the largest curvature (Hessian eigenvalue)" in hints[0]
    assert not any("curvature" in h for h in hints[1:])


def test_a_run_over_the_start_limit_that_gets_through_is_a_caption_not_a_warning():
    """The landing page's GD (lr 0.001 on Rosenbrock) is above the start's limit 0.000956 and gets
    through: the page says so in a caption; a lecturer's first view carries no warning."""
    at = playground({})
    assert not any("this link" in w.value for w in at.warning)
    assert "This run gets through" in captions(at)
