"""The Networks stage's η − / + in Chromium: a press shows the next value of the run card's slider at once,
the link, the card and the training follow, and the stage repaints in place with the new runs at the same
step and run; the buttons take Space and Enter, the stage keeps its other keys; a hostile trigger value
gives a message and changes nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect
from test_networks_browser import IDLE, NS, open_stage, stage, step

pytestmark = pytest.mark.browser

QUERY = {"data": "moons", "n": "100", "hidden": "8", "steps": "60", "optimizers": "gd,adam",
         "gd.lr": "0.5", "adam.lr": "0.05"}
DRAWN = "() => { const m = performance.getEntriesByName('net_stage:drawn'); return m[m.length - 1].detail; }"


def lr_link(page) -> dict[str, str]:
    q = parse_qs(urlparse(page.url).query)
    return {k: v[0] for k, v in q.items() if k.endswith(".lr")}


def card_lr(page, slot: int) -> str:
    """What run ``slot``'s card shows on its η slider."""
    return page.locator(f".st-key-net-r{slot}-lr [data-testid='stSliderThumbValue']").inner_text()


def answered(page, version: str, link: dict) -> str:
    """Wait for new data (its paint mark's version) and the link ``link``; the new version."""
    page.wait_for_function(f"v => ({DRAWN})() !== v", arg=version)
    page.wait_for_function("want => Object.entries(want).every(([k, v]) => "
                           "new URLSearchParams(location.search).get(k) === v)", arg=link)
    page.wait_for_selector(IDLE)
    return page.evaluate(DRAWN)


def test_plus_steps_the_shown_runs_eta_and_the_stage_repaints_in_place(page, app_url):
    errors: list[str] = []
    open_stage(page, app_url, QUERY, errors)
    root = page.locator(NS)
    root.focus()
    for _ in range(2):
        root.press("Shift+ArrowRight")
    assert step(page) == 20
    lrs = stage(page, "s => s.d.runs[0].lrs")
    assert lrs[lrs.index(0.5) + 1] == 1 and card_lr(page, 0) == "0.5"
    value = page.locator(f"{NS} .ns-lr b")
    expect(value).to_have_text("0.5")
    version = page.evaluate(DRAWN)
    marker = stage(page, "s => [s.markers[0].a, s.markers[0].b]")

    page.locator(f"{NS} .ns-lr-step >> nth=1").click()  # + on run 1, the run shown
    assert value.inner_text() == "1"  # at once, before the server answers
    version = answered(page, version, {"gd.lr": "1", "adam.lr": "0.05"})
    expect(value).to_have_text("1")
    assert card_lr(page, 0) == "1" and card_lr(page, 1) == "0.05"  # the card's slider follows
    assert stage(page, "s => [s.d.runs[0].lr, s.d.runs[0].label, s.run]") == [1, "1. GD (η=1)", 0]
    assert step(page) == 20  # the same step, the new runs
    assert stage(page, "s => [s.markers[0].a, s.markers[0].b]") != marker
    expect(page.locator(f"{NS} .ns-lr-msg")).to_have_text("")

    # the keys: Space on − presses it (no Play), Right still steps, Enter on + presses it
    minus, plus = page.locator(f"{NS} .ns-lr-step >> nth=0"), page.locator(f"{NS} .ns-lr-step >> nth=1")
    minus.focus()
    page.keyboard.press("Space")
    expect(value).to_have_text("0.5")
    version = answered(page, version, {"gd.lr": "0.5"})
    assert not stage(page, "s => s.playing") and step(page) == 20
    minus.focus()
    page.keyboard.press("ArrowRight")
    assert step(page) == 21
    plus.focus()
    page.keyboard.press("Enter")
    answered(page, version, {"gd.lr": "1"})
    assert card_lr(page, 0) == "1" and step(page) == 21
    assert not errors, errors


def test_the_control_follows_the_run_shown_and_a_hostile_value_changes_nothing(page, app_url):
    open_stage(page, app_url, QUERY)
    page.locator(f"{NS} select[aria-label^='Run shown']").select_option("1")  # run 2, Adam at 0.05
    value = page.locator(f"{NS} .ns-lr b")
    expect(value).to_have_text("0.05")
    # what a press shows before the server answers (its reports held back here): the next value, training…;
    # a step back to the runs' own η is what the stage shows already
    stage(page, "s => { s.realApi = s.api; s.api = {setTriggerValue: (n, v) => { s.sent = [n, v]; }}; }")
    minus, plus = page.locator(f"{NS} .ns-lr-step >> nth=0"), page.locator(f"{NS} .ns-lr-step >> nth=1")
    label = page.locator(f"{NS} .ns-lr > span")
    plus.click()
    expect(value).to_have_text("0.1")
    expect(label).to_have_text("Learning rate η: training…")
    assert stage(page, "s => s.sent") == ["lr", {"run": 1, "value": 0.1}]
    minus.click()
    expect(value).to_have_text("0.05")
    expect(label).to_have_text("Learning rate η")
    stage(page, "s => { s.api = s.realApi; }")
    version = page.evaluate(DRAWN)
    minus.click()
    version = answered(page, version, {"gd.lr": "0.5", "adam.lr": "0.02"})
    assert card_lr(page, 1) == "0.02" and stage(page, "s => s.run") == 1
    expect(value).to_have_text("0.02")
    hostile = (("{run: 0, value: 0.3}", "is not one of run 1's"), ("{run: 9, value: 0.5}", "no run of the 2"),
               ("{run: 0, value: 'x'}", "must be a number"), ("'<b>1</b>'", "no run and learning rate"))
    for bad, words in hostile:
        stage(page, f"s => s.api.setTriggerValue('lr', {bad})")
        expect(page.locator(f"{NS} .ns-lr-msg")).to_contain_text("That learning rate was not used: ")
        expect(page.locator(f"{NS} .ns-lr-msg")).to_contain_text(words)
        page.wait_for_selector(IDLE)
        assert lr_link(page) == {"gd.lr": "0.5", "adam.lr": "0.02"} and card_lr(page, 0) == "0.5"
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    version = page.evaluate(DRAWN)
    page.locator(f"{NS} .ns-lr-step >> nth=1").click()  # the page works on: the next step clears the message
    answered(page, version, {"adam.lr": "0.05"})
    expect(page.locator(f"{NS} .ns-lr-msg")).to_have_text("")


def test_on_a_phone_the_control_fits_beside_the_headline_and_a_tap_steps(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        open_stage(page, app_url, QUERY)
        parts = page.locator(NS).evaluate("""root => [...root.querySelectorAll(
            '.ns-head > .ns-stat, .ns-lr-row > *')].map(e => { const b = e.getBoundingClientRect();
              return {text: e.textContent, x: b.x, y: b.y, r: b.right, b: b.bottom, h: b.height}; })""")
        for e in parts:
            assert e["x"] >= -1 and e["r"] <= 391, e  # nothing clipped at the sides
        *stats, minus, value, plus = parts
        assert min(minus["h"], plus["h"]) >= 33  # buttons a thumb can hit (the stage's others: 32 px)
        assert minus["r"] < value["x"] and value["r"] < plus["x"]
        head = [e for e in stats if "Learning rate" not in e["text"]]
        control = next(e for e in stats if "Learning rate" in e["text"])
        for e in head:  # the η beside the other headline items, on none of them
            overlap = min(e["r"], control["r"]) - max(e["x"], control["x"]), min(e["b"], control["b"]) - max(
                e["y"], control["y"])
            assert min(overlap) <= 0.5, (e, control)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        version = page.evaluate(DRAWN)
        page.locator(f"{NS} .ns-lr-step >> nth=1").tap()
        answered(page, version, {"gd.lr": "1"})
        expect(page.locator(f"{NS} .ns-lr b")).to_have_text("1")
    finally:
        context.close()
