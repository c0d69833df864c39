"""The stage in a notebook (descent_lab.notebook.Stage, an anywidget on viz/stage.js): its setup
through the link reader, what the kernel answers of the stage's reports, and the whole thing in a
real JupyterLab driven by Chromium."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import numpy as np
import pytest

pytest.importorskip("anywidget", reason="the notebook extra: pip install 'descent-lab[notebook]'")

from descent_lab.notebook import Stage, link_entries
from descent_lab.presets import from_link
from descent_lab.setup import LessonText, Setup, to_query
from viz.stage import STAGE_JS, module_text, unpack


def test_keywords_are_link_entries():
    assert link_entries({"surface": "beale", "optimizers": ["gd", "adam"], "adam_lr": 0.05, "adam2_t_max": 9,
                         "start": (0.5, -1), "show3d": True, "lesson_title": "T"}) == {
        "surface": "beale", "optimizers": "gd,adam", "adam.lr": "0.05", "adam2.t_max": "9", "start": "0.5,-1",
        "show3d": "1", "lesson.title": "T"}


def test_the_stage_is_the_apps_module_and_payload():
    stage = Stage(surface="rosenbrock", optimizers=["gd", "adam"], steps=60)
    assert Stage._esm == module_text(STAGE_JS)  # the files themselves: one stage.js, payload.js, playback.js
    data = unpack(stage.payload)
    assert [r["label"] for r in data["runs"]] == ["1. GD (η=0.001)", "2. Adam (η=0.01)"]
    np.testing.assert_array_equal(data["runs"][1]["path"], stage.runs[1].path.T.ravel().astype("<f4"))
    assert stage.runs[0].path.shape == (61, 2)


def test_the_link_round_trips_with_the_app():
    link = ("?surface=himmelblau&steps=80&optimizers=momentum,adam&momentum.lr=0.01&adam.lr=0.05"
            "&lesson.title=Mine&show3d=1")
    stage = Stage(link="http://localhost:8501/" + link)
    assert stage.setup == from_link(dict(parse_qsl(link[1:])))[0]
    assert stage.setup.own_lesson == LessonText("Mine") and stage.setup.show3d
    assert Stage(link=stage.link).setup == stage.setup
    assert stage.link == "?" + urlencode(to_query(stage.setup))


def test_set_changes_the_setup_and_warns_what_it_cannot_use():
    stage = Stage(optimizers=["gd", "adam"], steps=50)
    stage.set(adam_lr=0.02, steps=70)
    assert stage.setup.runs[1].hyper["lr"] == 0.02 and stage.runs[1].path.shape == (71, 2)
    stage.set(optimizers=["nesterov"])
    assert [r.name for r in stage.setup.runs] == ["nesterov"]
    with pytest.warns(UserWarning, match="steps='lots' \\(not a number\\)"):
        stage.set(steps="lots")
    assert stage.setup.steps == Setup.steps  # as in a link: what cannot be used is left at its default


def test_the_kernel_answers_the_stages_reports():
    """lr drag end, start click, 3-D and explain recompute the runs; anything else changes nothing."""
    stage = Stage(optimizers=["gd", "adam"], steps=40)
    report = lambda name, value: stage._on_msg(stage, {"report": name, "value": value}, [])  # noqa: E731
    lrs = unpack(stage.payload)["runs"][1]["lrs"]
    report("lr", {"run": 1, "lr": lrs[2]})
    assert stage.setup.runs[1].hyper["lr"] == lrs[2] and unpack(stage.payload)["runs"][1]["index"] == 2
    report("start", {"x": 0.5, "y": 1.25})
    assert stage.setup.start == (0.5, 1.25) and tuple(stage.runs[0].path[0]) == (0.5, 1.25)
    report("show3d", True)
    report("explain", True)
    data = unpack(stage.payload)
    assert data["show3d"] and data["explain"] and "grid3d" in data and "explain" in data["runs"][0]
    before = stage.payload
    for name, value in (("lr", {"run": 7, "lr": 0.1}), ("lr", {"run": 0, "lr": float("nan")}),
                        ("start", {"x": "0", "y": 1}), ("show3d", "yes"), ("eval", "1+1"), (None, None)):
        report(name, value)
    assert stage.payload == before


def test_plotly_js_comes_from_the_kernel_when_asked(monkeypatch):
    stage = Stage(optimizers=["gd"], steps=10)
    sent = []
    monkeypatch.setattr(stage, "send", lambda content, buffers=None: sent.append((content, buffers)))
    stage._on_msg(stage, {"want": "plotly"}, [])
    ((content, (js,)),) = sent
    assert content == {"plotly": True} and js.startswith(b"/**") and b"Plotly" in js[:2000]


@pytest.mark.browser
def test_the_stage_in_jupyterlab(browser, tmp_path):
    """A notebook cell builds a Stage; the map is painted; an lr drag and a start click change the
    runs in the kernel (read back by the next cells); the link round-trips."""
    from conftest import jupyter_lab, notebook_file, run_cell

    notebook_file(tmp_path / "t.ipynb", [
        "from descent_lab.notebook import Stage\n"
        "stage = Stage(surface='rosenbrock', optimizers=['gd', 'adam'], steps=200)\nstage",
        "print('LR', stage.setup.runs[1].hyper['lr'], 'START', stage.setup.start)",
        "print('SAME', Stage(link=stage.link).setup == stage.setup)",
    ])
    with jupyter_lab(tmp_path) as url:
        ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
        outside = []
        ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith((url, "data:", "blob:"))
                  else (outside.append(r.request.url), r.abort()))
        try:
            page = ctx.new_page()
            page.goto(f"{url}/lab/tree/t.ipynb")
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
            run_cell(page, 0)
            page.wait_for_selector(".jp-OutputArea .stage[data-drawn]", timeout=60_000)
            assert page.evaluate("() => document.querySelector('.stage-land img').naturalWidth") > 100
            page.wait_for_function("() => window.Plotly && document.querySelector('.stage').dataset.axes",
                                   timeout=60_000)
            # an lr drag that ends: the kernel recomputes and the stage shows its new payload
            drawn = page.evaluate("() => document.querySelector('.stage').dataset.drawn")
            slider = page.locator(".stage-run").nth(1).locator("input")
            j = int(slider.input_value()) - 2
            slider.fill(str(j))
            page.wait_for_function("(v) => document.querySelector('.stage').dataset.drawn.split(':')[0]"
                                   " !== v", arg=drawn.split(":")[0], timeout=30_000)
            # a start click (Shift+click on the map): the kernel's runs start there
            box = page.locator(".stage-map").bounding_box()
            drawn = page.evaluate("() => document.querySelector('.stage').dataset.drawn")
            page.keyboard.down("Shift")
            page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
            page.keyboard.up("Shift")
            page.wait_for_function("(v) => document.querySelector('.stage').dataset.drawn.split(':')[0]"
                                   " !== v", arg=drawn.split(":")[0], timeout=30_000)
            run_cell(page, 1)
            out = page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-OutputArea-output").inner_text()
            fresh = Stage(surface="rosenbrock", optimizers=["gd", "adam"], steps=200)
            expect_lr = unpack(fresh.payload)["runs"][1]["lrs"][j]
            assert f"LR {expect_lr} " in out, out
            start = out.split("START ")[1].strip()
            assert start != "None" and start.startswith("("), out
            run_cell(page, 2)
            assert "SAME True" in page.locator(".jp-Notebook .jp-Cell").nth(2).inner_text()
            assert outside == []
        finally:
            ctx.close()
