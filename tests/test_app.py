"""Every page under Streamlit's AppTest: defaults, every surface, every optimizer, extremes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import ok
from streamlit.testing.v1 import AppTest

import landscapes
import optimizers
from descent_lab.presets import PRESETS, lesson_question
from viz.stage import unpack

TIMEOUT = 60
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def charts(at: AppTest):
    return at.get("plotly_chart")


def stage(at: AppTest) -> dict:
    """The data the Playground's stage (map, loss chart, playback) was sent on the last run."""
    (element,) = at.get("bidi_component")
    assert element.key == "stage"
    return unpack(element.proto.bytes)


def path(run: dict, steps: int) -> np.ndarray:
    """A stage run's exact path, (steps + 1, 2), from its float32 array."""
    return run["path"].reshape(2, steps + 1).T


def test_defaults(app):
    assert app.selectbox(key="surface").value == "rosenbrock"
    assert [app.selectbox(key=f"r{i}.opt").value for i in range(3)] == ["gd", "momentum", "adam"]
    data = stage(app)
    assert [r["labels"][r["index"]] for r in data["runs"]] == [
        "1. GD (η=0.001)", "2. Momentum (η=0.001, β=0.9)", "3. Adam (η=0.1)"]
    assert not data["show3d"] and not data["present"] and data["plotly_version"]
    assert len(charts(app)) == 0  # no panel open: the map and the loss chart are on the stage
    assert not app.error
    app.get("button_group")[0].set_value("Code")
    ok(app)
    assert len(app.get("code")) == 3
    assert "torch.optim.Adam(" in app.get("code")[2].value
    for panel in ("Step sizes", "Results", "Export"):
        app.get("button_group")[0].set_value(panel)
        ok(app)
    assert stage(app)["version"] == data["version"], "a panel switch sends the stage the same data"


def test_stage_follows_the_run_settings(app):
    """The learning rate (set by the stage's slider when a drag ends), the start and the view
    flags reach the stage; its family holds the run at every lr of the slider, its own lr included."""
    app.session_state["r0.lr"] = 0.0005
    app.number_input(key="start.rosenbrock.x").set_value(0.5)
    app.toggle(key="show3d").set_value(True)
    ok(app)
    data = stage(app)
    run = data["runs"][0]
    assert run["labels"][run["index"]] == "1. GD (η=0.0005)" and run["lrs"][run["index"]] == 0.0005
    assert len(run["lrs"]) >= 20 and run["lrs"] == sorted(run["lrs"])
    p = path(run, data["steps"])
    assert p[0].tolist() == pytest.approx([0.5, 2.0])
    assert data["show3d"] and "z" in run and data["grid3d"]["n"] > 10
    assert "gd.lr=0.0005" in "&".join(f"{k}={v}" for k, v in app.query_params.items())


def test_presenter_mode_from_a_link():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params.update({"present": "1", "optimizers": "adam"})
    ok(at)
    assert stage(at)["present"]
    assert any("stSidebar" in m.value and "display:none" in m.value for m in at.markdown)
    assert at.query_params["present"] in ("1", ["1"])


@pytest.mark.parametrize("name", landscapes.names())
def test_every_surface(app, name):
    app.selectbox(key="surface").set_value(name)
    ok(app)
    s = landscapes.get(name)
    assert app.number_input(key=f"start.{name}.x").value == pytest.approx(s.start[0])
    assert any(s.lesson in c.value for c in app.caption)


@pytest.mark.parametrize("name", optimizers.names())
def test_every_optimizer(app, name):
    app.selectbox(key="r0.opt").set_value(name)
    app.get("button_group")[0].set_value("Code")
    ok(app)
    code = app.get("code")[0].value  # the run's whole script
    assert "\nopt = torch.optim." in code and "loss.backward()" in code and "print(*" in code
    assert len(stage(app)["runs"]) == 3


def test_huge_learning_rate_reports_divergence(app):
    app.session_state["r0.lr"] = 10.0  # what the stage's lr slider sets when a drag ends
    ok(app)
    (error,) = [e for e in app.error if "diverged at step" in e.value]
    assert error.icon == ":material/error:"  # Streamlit's icon font, not an emoji (no emoji font offline)


def test_extreme_settings(app):
    app.select_slider(key="steps").set_value(2000)
    app.select_slider(key="noise").set_value(10.0)
    ok(app)
    app.select_slider(key="steps").set_value(10)
    ok(app)
    app.toggle(key="arrows").set_value(False)
    app.toggle(key="show3d").set_value(False)
    ok(app)
    app.toggle(key="multiples").set_value(True)
    ok(app)
    assert app.toggle(key="show3d").disabled
    app.number_input(key="start.rosenbrock.x").set_value(2.0)
    app.number_input(key="start.rosenbrock.y").set_value(-1.0)
    ok(app)


def link(at: AppTest) -> dict:
    return {k: v[-1] if isinstance(v, list) else v for k, v in at.query_params.items()}


def test_bowl_condition_and_schedules(app):
    """The condition and each schedule kind reach the run: the link says them, run 3's path changes."""
    app.selectbox(key="surface").set_value("elongated_bowl")
    ok(app)
    app.select_slider(key="surface.elongated_bowl.condition").set_value(1000.0)
    ok(app)
    assert link(app)["condition"] == "1000"
    steps = stage(app)["steps"]
    paths = {}
    for kind in optimizers.SCHEDULES:
        app.selectbox(key="r2.sched").set_value(kind)
        ok(app)
        assert link(app).get("adam.schedule", "constant") == kind
        paths[kind] = path(stage(app)["runs"][2], steps)
    for kind, p in paths.items():
        assert kind == "constant" or not np.array_equal(p, paths["constant"]), kind
    app.number_input(key="r2.sched.warmup").set_value(50)
    ok(app)
    assert link(app)["adam.warmup"] == "50"
    assert not np.array_equal(path(stage(app)["runs"][2], steps), paths[kind])


def test_regression_batches(app):
    """Each kind of gradient reaches the runs: the link's batch and the paths change."""
    app.selectbox(key="surface").set_value("regression")
    ok(app)
    steps, paths = stage(app)["steps"], {}
    for kind, batch in (("one sample (SGD)", "1"), ("a mini-batch", "16"), ("all samples", None)):
        app.radio(key="batch_kind").set_value(kind)
        ok(app)
        assert link(app).get("batch") == batch
        paths[kind] = path(stage(app)["runs"][0], steps)
    assert len({p.tobytes() for p in paths.values()}) == 3


def test_add_and_remove_runs(app):
    for _ in range(3):
        app.button(key="add_run").click()
        ok(app)
    assert len(app.session_state["run_ids"]) == 6
    assert app.button(key="add_run").disabled
    app.button(key="r0.remove").click()
    ok(app)
    assert app.session_state["run_ids"][0] == 1
    labels = [r["labels"][r["index"]] for r in stage(app)["runs"]]
    assert [s[:4] for s in labels] == ["1. M", "2. A", "3. N", "4. N", "5. N"], labels


def test_export_panel(app):
    app.get("button_group")[0].set_value("Export")
    ok(app)
    link = app.get("code")[0].value
    assert link.startswith("?surface=rosenbrock&") and "adam.lr=0.1" in link
    make = next(b for b in app.button if b.label == "Make an animated GIF")
    make.click()
    ok(app)
    made = app.session_state["gif"]
    assert made[0] == link and made[1] == (60, 10, 1280, 720, True, "") and made[2][:6] == b"GIF89a"
    assert not [b for b in app.button if b.label == "Make an animated GIF"]  # made: only its download
    labels = [b.label for b in app.get("download_button")]
    assert labels[0].startswith("Download GIF (") and labels[1:] == [
        "PNG of the last frame", "Trajectories CSV", "Trajectories JSON",
        "Lesson page (.html, works offline)"]
    assert not [t for t in app.toggle if t.key == "gif.question"]  # no lesson open: no question to show
    app.select_slider(key="gif.fps").set_value(4)
    app.toggle(key="gif.loss").set_value(False)
    ok(app)
    # the options changed: the GIF made before is not offered, a new one is to be made
    assert not [b for b in app.get("download_button") if b.label.startswith("Download GIF")]
    next(b for b in app.button if b.label == "Make an animated GIF").click()
    ok(app)
    assert app.session_state["gif"][1] == (60, 4, 1280, 720, False, "")


def test_export_panel_offers_the_lessons_question(app):
    app.selectbox(key="lesson").set_value("saddle")
    ok(app)
    app.get("button_group")[0].set_value("Export")
    ok(app)
    assert app.toggle(key="gif.question").value
    next(b for b in app.button if b.label == "Make an animated GIF").click()
    ok(app)
    assert app.session_state["gif"][1][-1] == lesson_question(PRESETS["saddle"].setup()) != ""


def test_custom_formula(app):
    app.selectbox(key="surface").set_value("custom")
    ok(app)
    assert "sin(x)*cos(y)" in app.text_input(key="surface.custom.f").value
    app.text_input(key="surface.custom.f").set_value("(1-x)^2 + 100*(y-x^2)^2")
    app.number_input(key="surface.custom.y0").set_value(-1.0)
    ok(app)
    assert not app.error
    assert app.session_state["start.custom.x"] >= -3
    # a formula that cannot be used: a clear message, the last good surface stays
    for bad in ("__import__('os').system('ls')", "x +", "z^2", "9^9^9^9"):
        app.text_input(key="surface.custom.f").set_value(bad)
        ok(app)
        assert any("can't be used" in e.value for e in app.error), bad
        assert any("Still showing `J(x, y) = (1-x)^2 + 100*(y-x^2)^2`" in c.value for c in app.caption)
        assert len(stage(app)["runs"]) == 3
    # a domain with min > max is refused the same way
    app.text_input(key="surface.custom.f").set_value("x^2 + y^2")
    app.number_input(key="surface.custom.x0").set_value(5.0)
    ok(app)
    assert any("can't be used" in e.value for e in app.error)


def test_custom_formula_from_a_link():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params.update({"surface": "custom", "f": "x^2 + 3*y^2", "domain": "-2,2,-1,1",
                            "optimizers": "adam", "adam.lr": "0.05"})
    ok(at)
    assert at.selectbox(key="surface").value == "custom"
    assert at.text_input(key="surface.custom.f").value == "x^2 + 3*y^2"
    assert at.number_input(key="surface.custom.y1").value == 1.0
    assert at.query_params["f"] == ["x^2 + 3*y^2"] or at.query_params["f"] == "x^2 + 3*y^2"


def test_keras_form_of_a_run(app):
    """The run's popover offers Keras's form for RMSProp (eps inside the root): the stage shows that
    run, labelled, and the link carries it."""
    app.selectbox(key="r2.opt").set_value("rmsprop")
    ok(app)
    app.session_state["r2.lr"] = 0.1  # as the stage's slider sets it; the two forms part here (not at 0.05)
    app.radio(key="r2.form").set_value("keras")
    ok(app)
    data = stage(app)
    run = data["runs"][2]
    lr = run["lrs"][run["index"]]
    assert run["labels"][run["index"]] == f"3. RMSProp Keras (η={lr:g}, β=0.99)"
    assert app.query_params["rmsprop.form"] in ("keras", ["keras"])
    surface = landscapes.get("rosenbrock")
    keras = optimizers.run(optimizers.get("rmsprop", form="keras", lr=lr), surface)
    np.testing.assert_allclose(path(run, data["steps"]), keras.path, rtol=1e-6, atol=1e-6)  # float32 sent
    assert np.abs(keras.path - optimizers.run(optimizers.get("rmsprop", lr=lr), surface).path).max() > 1e-3


def test_code_panel_keras(app):
    """The Keras scripts: SGD and momentum have one, Adam in PyTorch's form says how Keras differs."""
    app.get("button_group")[0].set_value("Code")
    ok(app)
    app.radio(key="code.framework").set_value("Keras")
    ok(app)
    codes = [c.value for c in app.get("code")]
    assert len(codes) == 2 and all("keras.optimizers.SGD(" in c and "loss.backward()" in c for c in codes)
    assert any("Adam takes other steps than PyTorch's form" in i.value and "Keras form" in i.value
               for i in app.info)
