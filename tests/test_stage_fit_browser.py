"""The Playground's stage fitted to the screen, in Chromium: presenter mode's lesson line on a phone and
its strip on a hall's screen, the titles of the colour bar and the 3-D view clear of their tick labels on
a phone, and a loss chart whose range gives away no ending before Play. (Presenter mode with explain
mode at 1920 and 1366: tests/test_explain_browser.py.)"""

from __future__ import annotations

import pytest
from test_browser import open_app
from test_explain_browser import apart

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
BOX = ("(e) => { const b = e.getBoundingClientRect();"
       " return {x: b.x, y: b.y, width: b.width, height: b.height}; }")


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(**PHONE)
    yield ctx.new_page()
    ctx.close()


def test_a_phone_in_presenter_mode_shows_the_whole_question(phone, app_url):
    """The lesson's question wraps (no ellipsis) and ends above the stage."""
    open_app(phone, app_url + "/?lesson=ravine&present=1")
    line = phone.locator(".st-key-lesson_line p")
    whole = line.evaluate("(p) => p.scrollWidth <= p.clientWidth"
                          " && getComputedStyle(p).textOverflow !== 'ellipsis'")
    box, stage = line.evaluate(BOX), phone.locator(".stage").evaluate(BOX)
    assert whole and box["height"] >= 30, box  # two lines of 14 px
    assert box["y"] >= 0 and box["y"] + box["height"] <= stage["y"] + 1, (box, stage)


def test_presenter_mode_without_a_lesson_starts_at_the_top(browser, app_url):
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        page = ctx.new_page()
        open_app(page, app_url + "/?present=1")
        assert page.locator(".stage").evaluate(BOX)["y"] <= 26  # no strip kept for a lesson line
        open_app(page, app_url + "/?present=1&lesson=ravine")
        line, stage = (page.locator(s).evaluate(BOX) for s in (".st-key-lesson_line", ".stage"))
        assert apart(line, stage), (line, stage)
    finally:
        ctx.close()


@pytest.mark.parametrize("link", ["/?lesson=ravine", "/"], ids=["J", "log10"])
def test_the_colour_bar_title_clears_its_tick_labels_on_a_phone(phone, app_url, link):
    open_app(phone, app_url + link)
    title = phone.locator(".stage-map .cbtitle text").evaluate(BOX)
    ticks = phone.locator(".stage-map .colorbar .tick text, .stage-map .cbaxis text").evaluate_all(
        f"(es) => es.map({BOX})")
    assert ticks and all(apart(title, t) for t in ticks), (title, ticks)
    assert title["x"] + title["width"] <= 390, title


def test_the_3d_z_title_sits_over_the_axis_end_on_a_phone(phone, app_url):
    """WebGL draws the tick labels (no boxes to compare): the z title is an annotation at the z axis's
    top, not an axis title beside the tick labels, and inside the view."""
    open_app(phone, app_url + "/?lesson=ravine&show3d=1")
    phone.wait_for_function("() => document.querySelector('.stage-3d')._fullLayout?.scene?._scene")
    scene = phone.evaluate("() => { const s = document.querySelector('.stage-3d')._fullLayout.scene;"
                           " return {title: s.zaxis.title.text, z: s.zaxis.range[1],"
                           " ann: s.annotations.map((a) => [a.text, a.z])}; }")
    assert scene["title"] == "" and scene["ann"] == [["J(x, y)", scene["z"]]], scene
    view, ann = (phone.locator(s).first.evaluate(BOX) for s in (".stage-3d", ".stage-3d .annotation-text"))
    assert view["x"] <= ann["x"] and ann["x"] + ann["width"] <= view["x"] + view["width"], (view, ann)
    assert view["y"] <= ann["y"], (view, ann)


def test_the_loss_chart_gives_away_no_ending_before_play(page, app_url):
    """At step 0 the range is the start's decade and one below; at the end (End key) it reaches the
    runs' lowest loss, as with whole paths shown from step 0."""
    open_app(page, app_url)
    low = lambda: float(page.locator(".stage-loss").get_attribute("data-range").split(",")[0])  # noqa: E731
    start = low()
    page.evaluate("() => document.querySelector('.stage').focus({preventScroll: true})")
    page.keyboard.press("End")
    page.wait_for_function("() => document.querySelector('.stage').dataset.step === '500'")
    end = low()
    page.keyboard.press("Home")
    page.wait_for_function("() => document.querySelector('.stage').dataset.step === '0'")
    page.get_by_role("button", name="Show whole paths").click()
    page.wait_for_function("() => document.querySelector('.stage').dataset.drawn.endsWith('whole')")
    assert start >= end + 2 and low() == end, (start, end, low())
