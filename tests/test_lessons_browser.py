"""A lesson in Chromium: opened from its link, the question sits above the map, the answer stays
folded until asked for, and a switch of optimizer gives the run a working rate (with its caption)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_browser import IDLE, open_app

from descent_lab.presets import PRESETS
from descent_lab.setup import STEPS_PER_SECOND

pytestmark = pytest.mark.browser


def test_lesson_link_question_above_the_map_answer_folded(page, app_url):
    p = PRESETS["ravine"]
    open_app(page, app_url + p.link())
    box = page.locator(".st-key-lesson_box")
    expect(box).to_contain_text(p.question)
    speed = page.locator(".stage-speed")  # the lesson's own pace
    expect(speed).to_have_value(p.speed)
    expect(speed).to_have_attribute("title", f"Playback speed (1x: {STEPS_PER_SECOND} steps a second)")
    assert box.bounding_box()["y"] < page.locator(".stage-map").bounding_box()["y"]
    answer = page.get_by_text(p.answer[:40])
    expect(answer).to_be_hidden()
    page.get_by_text("Answer", exact=True).click()
    expect(answer).to_be_visible()


def test_switching_adam_to_gd_in_the_browser(page, app_url):
    open_app(page, app_url)
    run3 = page.get_by_role("combobox", name="Run 3")
    run3.scroll_into_view_if_needed()
    run3.click()
    page.get_by_role("option", name="Gradient descent").click()
    expect(page.get_by_text("without leaving the map; Adam's 0.1 diverges at step 3")).to_be_visible()
    page.wait_for_selector(IDLE)
    expect(page.get_by_text("diverged at step")).to_have_count(0)
    assert "gd2.lr=0.002" in page.url


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)], ids=["1920", "1366"])
def test_a_lessons_question_keeps_play_above_the_fold(browser, app_url, size):
    """With a lesson open (its question above the stage, not presenter mode), Play and the step
    counter are still on the screen without scrolling."""
    w, h = size
    ctx = browser.new_context(viewport={"width": w, "height": h})
    try:
        page = ctx.new_page()
        open_app(page, app_url + PRESETS["ravine"].link())
        question = page.locator(".st-key-lesson_box").bounding_box()
        for sel in (".stage-play", ".stage-label"):
            b = page.locator(sel).bounding_box()
            assert question["y"] + question["height"] <= b["y"] and b["y"] + b["height"] <= h, (sel, b, h)
        assert page.locator(".stage-map").bounding_box()["height"] >= (700 if h >= 1080 else 440)
    finally:
        ctx.close()
