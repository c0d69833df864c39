"""The lesson page (descent_lab/page.py): the stage as one self-contained .html file, written by
``descent-lab export --html`` and the Playground's Export panel, opened in Chromium from file://
with every request other than file:, data: and blob: aborted."""

from __future__ import annotations

import html
import io
import re
from urllib.parse import parse_qsl

import numpy as np
import pytest

from descent_lab import cli
from descent_lab.families import row
from descent_lab.page import app_link, page_html
from descent_lab.setup import LessonText, Setup, from_query
from viz.explain import explain_data
from viz.stage import stage_runs

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1"> & "quotes"'
MAX_BYTES = 7_000_000


def test_the_page_holds_three_scripts_and_the_lesson_as_text():
    own = LessonText(HOSTILE, "Which <b>run</b> wins?", "</details><script>window.__pwned=1</script>")
    text = page_html(Setup(own_lesson=own, steps=50))
    assert len(re.findall(r"<script\b", text)) == 3  # the payload, the module, plotly.js: no other
    assert html.escape(HOSTILE) in text and "<img" not in text and "onerror=\"" not in text
    assert "&lt;/details&gt;&lt;script&gt;" in text
    assert f"<title>{html.escape(HOSTILE)}</title>" in text
    assert "https://" not in text.split("<script", 1)[0].replace(cli.DEFAULT_APP_URL, "")


def test_the_app_link_reopens_the_setup():
    setup = Setup(surface="himmelblau", steps=80, own_lesson=LessonText("T", "Q", "A"))
    link = app_link(setup, "https://lab.example.org/?x=1")
    assert link.startswith("https://lab.example.org/?surface=himmelblau")
    again, problems = from_query(dict(parse_qsl(link.split("?", 1)[1])))
    assert problems == [] and again == setup
    with pytest.raises(ValueError, match="http"):
        app_link(setup, "javascript:alert(1)")


def test_cli_refuses_an_app_url_that_is_not_http(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["export", "--html", "x.html", "--app-url", "javascript:alert(1)"])
    assert e.value.code == 2 and "is not an http:// or https:// address" in capsys.readouterr().err


def wait_step(page, t: int) -> None:
    page.wait_for_function("(t) => document.querySelector('.stage').dataset.step === String(t)", arg=t)


@pytest.mark.browser
def test_the_exported_page_works_offline(browser, tmp_path):
    """From file:// with the network cut: the map is painted, Play moves the markers, the keys step,
    a learning-rate slider switches the path, explain shows that lr's numbers, 3-D and presenter mode
    work, the lesson is there as text (nothing of it runs), and no request was left to make."""
    from PIL import Image

    out = tmp_path / "lesson.html"
    args = ["export", "--html", str(out), "--surface", "rosenbrock", "--optimizers", "gd,adam",
            "--steps", "200", "--set", f"lesson.title={HOSTILE}",
            "--set", "lesson.question=Which run arrives?", "--set", "lesson.answer=Adam <i>does</i>."]
    assert cli.main(args) == 0
    assert out.stat().st_size <= MAX_BYTES
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    blocked, errors = [], []
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.split(":")[0] in ("file", "data", "blob")
              else (blocked.append(r.request.url), r.abort()))
    try:
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(out.as_uri())
        page.wait_for_selector(".stage[data-drawn]")
        # the lesson, as text; nothing of it ran
        assert page.inner_text("h1") == HOSTILE
        assert page.inner_text(".question") == "Which run arrives?"
        page.click("summary")
        assert page.inner_text("details p") == "Adam <i>does</i>."
        assert page.evaluate("() => window.__pwned") is None
        link = page.locator(".page-foot a").get_attribute("href")
        assert link.startswith(cli.DEFAULT_APP_URL + "?surface=")
        # the map: the landscape picture under the runs, in many colours
        box = page.locator(".stage-mapbox").bounding_box()
        img = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB"))
        assert len(np.unique(img.reshape(-1, 3), axis=0)) > 200
        assert page.evaluate("() => document.querySelector('.stage-land img').naturalWidth") > 100
        # the keys step; Home / End jump
        page.locator(".stage").focus()
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        wait_step(page, 3)
        page.keyboard.press("End")
        wait_step(page, 200)
        page.keyboard.press("Home")
        wait_step(page, 0)
        # Play moves the markers
        start = page.evaluate("() => document.querySelector('.stage').stageRuns()[0].now")
        page.get_by_role("button", name="Play / pause (Space)").click()
        page.wait_for_function("() => Number(document.querySelector('.stage').dataset.step) >= 20")
        page.get_by_role("button", name="Play / pause (Space)").click()
        assert page.evaluate("() => document.querySelector('.stage').stageRuns()[0].now") != start
        # a learning-rate slider switches run 2's path (all of it precomputed: no request)
        before = page.evaluate("() => document.querySelector('.stage').stageRuns()[1].key")
        slider = page.locator(".stage-run").nth(1).locator("input")
        j = int(slider.input_value()) - 3
        slider.fill(str(j))
        page.wait_for_function("(b) => document.querySelector('.stage').stageRuns()[1].key !== b", arg=before)
        # explain shows that lr's own numbers at the step
        page.get_by_role("button", name="Explain mode: the update rule with this step's numbers").click()
        page.select_option(".xp-run", "1")
        page.locator(".stage").focus()
        page.keyboard.press("Home")
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        wait_step(page, 5)
        where = page.inner_text(".xp-where")
        assert where.startswith("Update 6"), where
        setup = Setup(surface="rosenbrock", steps=200, runs=from_query({"optimizers": "gd,adam"})[0].runs)
        fam = stage_runs(setup)[0][1]
        tr = row(fam.trajectory, j)
        xp = explain_data(tr)
        values = xp["values"].reshape(xp["columns"], 2, 200)
        first = xp["forms"]["course"]["rows"][0]  # the gradient, g_t
        cells = page.locator(".xp-table tbody tr:not(.xp-line)").first.locator("td").all_inner_texts()
        np.testing.assert_allclose([float(c) for c in cells], values[first["column"], :, 5], rtol=1e-3)
        # 3-D, once plotly.js is unpacked; presenter mode is the browser's full screen
        page.wait_for_function("() => window.Plotly && document.querySelector('.stage').dataset.axes")
        page.get_by_role("button", name="3-D view").click()
        page.wait_for_selector(".stage.with3d .stage-3d canvas")
        page.get_by_role("button", name="Presenter mode: big map, no sidebar (Esc leaves)").click()
        page.wait_for_function("() => document.fullscreenElement === document.querySelector('.stage')")
        page.wait_for_selector(".stage.present")
        # inside an iframe (as a course site embeds it)
        course = "<h1>Week 3</h1><iframe src='lesson.html' width='1300' height='900'></iframe>"
        (tmp_path / "course.html").write_text(course)
        framed = ctx.new_page()
        framed.on("pageerror", lambda e: errors.append(str(e)))
        framed.goto((tmp_path / "course.html").as_uri())
        framed.frame_locator("iframe").locator(".stage[data-drawn]").wait_for()
        assert errors == [] and blocked == []
    finally:
        ctx.close()
