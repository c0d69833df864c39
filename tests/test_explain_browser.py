"""Explain mode in Chromium: the numbers a student reads in the panel, the arrows' legend, the minima.

The Playground's default setup (Rosenbrock; GD, Momentum, Adam with lr 0.1; 500 steps), opened with
explain=1 in the link; tests/test_explain.py checks the data, these tests what the page shows of it.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import mount_stage
from playwright.sync_api import expect
from test_browser import IDLE, no_exception, open_app, plot_area, shot, to_px

import landscapes
import optimizers

pytestmark = pytest.mark.browser

PANEL = ".stage-explain"
#: keys go to the stage; with the panel the stage is taller than a 1366x768 window, and a plain focus()
#: would scroll the map's top under Streamlit's header
FOCUS = "() => document.querySelector('.stage').focus({preventScroll: true})"
#: the panel's value rows: the symbol's text and the text of each number cell
ROWS = f"""() => Array.from(document.querySelectorAll('{PANEL} tbody tr:not(.xp-line)'), (tr) =>
  [tr.querySelector('th').textContent, Array.from(tr.querySelectorAll('td'), (td) => td.textContent)])"""


def adam_core():
    """Adam's run as the core makes it, and each panel row's values, (steps, 2), in the panel's order."""
    tr = optimizers.run(optimizers.get("adam", lr=0.1), landscapes.get("rosenbrock"), steps=500)
    n = np.arange(1, 501, dtype=float)[:, None]
    m, v = tr.state["m"], tr.state["v"]
    vhat = v / (1 - 0.999**n)
    rows = [tr.grad, m, v, m / (1 - 0.9**n), vhat, 0.1 / (np.sqrt(vhat) + 1e-8),
            tr.path[1:] - tr.path[:-1], tr.path[1:]]
    return tr, rows


def shown(text: str) -> float:
    return float(text.replace("−", "-"))


def four_digits(texts, want) -> bool:
    """The numbers shown are ``want`` to 4 significant digits (a tie may be rounded either way)."""
    for text, w in zip(texts, want, strict=True):
        half = 0.5 * 10.0 ** (np.floor(np.log10(abs(w))) - 3) if w else 0.0
        if not abs(shown(text) - w) <= half * (1 + 1e-9):
            return False
    return True


def wait_step(page, t: int) -> None:
    page.wait_for_function(f"() => document.querySelector('{PANEL}').dataset.step === '{t}'")


def test_step_through_adams_first_five_updates(page, app_url):
    """A student picks Adam, steps with +1 and reads every number: gradient, m, v, m-hat, v-hat, the
    effective rate, the step and the new point, both coordinates, as the core computed them."""
    open_app(page, app_url + "/?explain=1")
    expect(page.locator(PANEL)).to_be_visible()
    page.select_option(f"{PANEL} select", label="3. Adam (η=0.1)")
    expect(page.locator(f"{PANEL} .xp-line")).to_have_count(4)  # Adam's four formula lines
    tr, rows = adam_core()
    sent = page.evaluate("() => window.__sent")
    forward = page.get_by_role("button", name="Step forward (Right)")
    for t in range(5):
        if t:
            forward.click()
        wait_step(page, t)
        where = f"Update {t + 1}: from step {t} to step {t + 1}"
        expect(page.locator(f"{PANEL} .xp-where")).to_have_text(where)
        got = page.evaluate(ROWS)
        assert len(got) == len(rows)
        assert [s for s, _ in got][:3] == ["gt=∇J(wt)", "mt", "vt"], got
        for (symbol, cells), want in zip(got, rows, strict=True):
            assert four_digits(cells, want[t]), (t, symbol, cells, want[t])
    # back one step with the keyboard: the panel follows, and nothing of this asked the server
    page.evaluate(FOCUS)
    page.keyboard.press("ArrowLeft")
    wait_step(page, 3)
    assert four_digits(page.evaluate(ROWS)[0][1], tr.grad[3])
    assert page.evaluate("() => window.__sent") == sent, "stepping asked the server"
    # PyTorch's form: the same numbers, with the constructor that takes these steps
    page.get_by_role("button", name="PyTorch", exact=True).click()
    expect(page.locator(f"{PANEL} .xp-code")).to_contain_text("torch.optim.Adam(")
    assert four_digits(page.evaluate(ROWS)[3][1], rows[3][3])
    no_exception(page)


def test_arrows_legend_and_hover(page, app_url):
    """Explain mode draws a legend naming the gradient, first-moment and step arrows in the map's
    corner, and gone when the mode is turned off; the hover read-out gives a point's g and step."""
    open_app(page, app_url + "/?explain=1&arrows=0")
    page.select_option(f"{PANEL} select", label="3. Adam (η=0.1)")
    page.evaluate(FOCUS)
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    wait_step(page, 5)
    assert page.locator(PANEL).get_attribute("data-legend") == "−g: downhill|−m: first moment|Δw: step"
    expect(page.locator(f"{PANEL} .xp-legend")).to_be_hidden()  # named on the map, not twice
    box = plot_area(page)
    corner = shot(page, box)[6:60, -140:-6]  # the legend's place: the map's top right corner
    white = (corner.min(-1) > 225).mean()
    assert white > 0.6, f"legend not drawn: {white:.0%} of the corner is white"
    dark = (corner.max(-1) < 120).sum()
    assert dark > 60, f"no legend text or arrow samples in the corner ({dark} dark pixels)"
    # hover on Adam's path point 2: its gradient and step there
    tr, rows = adam_core()
    pos = to_px(box, *tr.path[2])
    page.mouse.move(box["x"] + pos[0], box["y"] + pos[1])
    tip = page.locator(".stage-tip")
    expect(tip).to_be_visible()
    text = tip.inner_text()
    adam = text[text.index("3. Adam"):]
    assert "step 2," in adam, adam
    for name, want in (("g", tr.grad[2]), ("Δw", rows[6][2])):
        pair = re.search(name + r" = \(([^,]+), ([^)]+)\)", adam)
        assert pair, (name, adam)
        assert four_digits(pair.groups(), want), (name, adam)
    page.mouse.move(0, 0)
    page.get_by_role("button", name="Explain mode: the update rule with this step's numbers").click()
    page.wait_for_function("() => !location.search.includes('explain=1')")
    page.wait_for_selector(IDLE)
    expect(page.locator(PANEL)).to_be_hidden()
    corner = shot(page, plot_area(page))[6:60, -140:-6]
    assert (corner.min(-1) > 225).mean() < 0.2, "the legend stayed after explain mode was turned off"
    no_exception(page)


def test_global_minimum_differs_from_local_ones_on_rastrigin(page, app_url):
    """Rastrigin's global minimum is a star; its 120 local minima are small dots (pixels)."""
    s = landscapes.get("rastrigin")
    open_app(page, app_url + "/?surface=rastrigin&arrows=0")
    box = plot_area(page)
    img = shot(page, box)
    # a local minimum well inside the map, far from the runs' start
    far = np.argmax(np.hypot(*(s.minima - s.start).T) * (np.abs(s.minima).max(1) < 4))

    def marks(xy, radius):
        X, Y = to_px(box, *xy)
        yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
        near = np.hypot(xx - X, yy - Y) <= radius
        return int((near & (img.min(-1) >= 245)).sum()), int((near & (img.max(-1) <= 70)).sum())

    white_g, dark_g = marks(s.minima[0], 14)
    white_l, dark_l = marks(s.minima[far], 14)
    assert dark_l > 3, "the local minimum is not marked"
    assert white_g > 3 * max(white_l, 10), (white_g, white_l)  # a big white star against a small dot
    assert dark_g > dark_l, (dark_g, dark_l)
    no_exception(page)


def test_stable_lr_marks_on_the_sliders(browser):
    """A run's stable_lr (sent by the server for GD and momentum) is a tick on its lr slider titled
    with the value, and the lr text warns when the chosen lr is above it; an absent, null, non-number
    or out-of-range stable_lr draws nothing. The stage module runs alone here, on viz.stage's data."""
    import viz
    from descent_lab.compute import RunView
    from descent_lab.families import lr_family, row
    from descent_lab.setup import Setup, run_spec
    from viz.stage import pack, stage_data

    setup = Setup(runs=tuple(run_spec(n, lr=0.01) for n in ("gd", "gd", "momentum", "gd", "gd")), steps=20)
    lrs = (1e-4, 1e-3, 1e-2, 1e-1)
    fams = [lr_family(setup, spec, lrs) for spec in setup.runs]
    views = [RunView(f"{i + 1}. run", "#0072B2", row(f.trajectory, f.index)) for i, f in enumerate(fams)]
    data = stage_data(setup.make_surface(), views, fams, viz.landscape_png(setup.make_surface()))
    stable = [0.001, 0.05, None, "0.001", 5.0]  # below the chosen 0.01, above it, null, text, out of range
    for run, v in zip(data["runs"], stable, strict=True):
        run["stable_lr"] = v
    data["runs"].append({**data["runs"][0]})
    del data["runs"][-1]["stable_lr"]  # and a run without the field
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        mount_stage(page, pack(data))  # the bytes the stage receives
        rows = page.locator(".stage-run")
        expect(rows).to_have_count(6)
        tick = rows.nth(0).locator(".lr-stable")
        expect(tick).to_have_count(1)
        assert tick.get_attribute("title") == "largest stable η ≈ 0.001"
        # 0.001 is the 2nd of the slider's 4 stops: a third of the way along the thumb's travel
        track, mark = rows.nth(0).locator("input").bounding_box(), tick.bounding_box()
        want = track["x"] + 8 + (track["width"] - 16) / 3
        assert abs(mark["x"] + mark["width"] / 2 - want) < 1.5, (track, mark)
        expect(rows.nth(0).locator(".lr-warn")).to_have_text("η 0.01")
        expect(rows.nth(1).locator(".lr-stable")).to_have_count(1)
        expect(rows.nth(1).locator(".lr-warn")).to_have_count(0)
        for n in (2, 3, 4, 5):
            expect(rows.nth(n).locator(".lr-stable")).to_have_count(0)
            expect(rows.nth(n).locator(".lr-warn")).to_have_count(0)
        # dragging run 2's slider above its stable lr turns the warning on
        page.locator(".stage-run").nth(1).locator("input").fill("4")
        expect(rows.nth(1).locator(".lr-warn")).to_have_text("η 0.1")
        assert errors == []
    finally:
        ctx.close()


def apart(a: dict, b: dict) -> bool:
    """Two bounding boxes do not overlap (1 px of slack)."""
    return (a["x"] + a["width"] <= b["x"] + 1 or b["x"] + b["width"] <= a["x"] + 1
            or a["y"] + a["height"] <= b["y"] + 1 or b["y"] + b["height"] <= a["y"] + 1)


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768), (390, 844)], ids=["1920", "1366", "phone"])
def test_presenter_mode_explains_adam_in_the_halls_text(browser, app_url, size):
    """Presenter mode with explain mode on Adam: the panel's numbers as large as the stage's text (20 px
    on a hall's screen), the whole table inside its panel, the map as large as the screen allows and a
    loss chart at least 300 px tall on the screen beside it;
    on a phone (touch) the map, the playback bar, the buttons and the panel one under the other."""
    w, h = size
    phone = w < 500
    ctx = browser.new_context(viewport={"width": w, "height": h}, is_mobile=phone, has_touch=phone)
    try:
        page = ctx.new_page()
        open_app(page, app_url + "/?present=1&explain=1")
        page.select_option(f"{PANEL} select", label="3. Adam (η=0.1)")
        page.wait_for_timeout(300)
        sizes = page.evaluate(f"""() => ['.stage', '{PANEL} td', '{PANEL} tbody th'].map(
          (s) => parseFloat(getComputedStyle(document.querySelector(s)).fontSize))""")
        # a hall's 1920 screen: the panel at the stage's 20 px; a 1366 one (each pixel larger on the
        # wall): 18 px, for a larger map; a phone: the stage's text
        assert sizes[1] == sizes[2] >= (16 if phone else 18), sizes
        assert sizes[1] == (sizes[0] if w != 1366 else sizes[0] - 2), sizes
        table, panel = page.locator(f"{PANEL} table").bounding_box(), page.locator(PANEL).bounding_box()
        assert table["x"] + table["width"] <= panel["x"] + panel["width"] + 1, (table, panel)
        boxes = {name: page.locator(sel).bounding_box() for name, sel in (
            ("map", ".stage-map"), ("loss", ".stage-loss"), ("panel", PANEL), ("runs", ".stage-runs"),
            ("play", ".stage-play"), ("step", ".stage-label"), ("tools", ".stage-tools"))}
        names = list(boxes)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                assert apart(boxes[a], boxes[b]), (a, boxes[a], b, boxes[b])
        if phone:
            assert boxes["map"]["height"] >= 250 and boxes["map"]["width"] >= 340, boxes["map"]
            assert plot_area(page)["width"] >= 230
        else:
            loss = boxes["loss"]
            assert loss["y"] + loss["height"] <= h and loss["height"] >= 300, loss  # on the screen
            assert boxes["play"]["y"] + boxes["play"]["height"] <= h, boxes["play"]
            # the map as large as the screen allows: at 1920 its height (as without the panel), at 1366
            # its width less the panel's and the runs' columns (466 px before the column widths followed it)
            assert plot_area(page)["height"] >= (0.84 * h if w >= 1920 else 520), plot_area(page)
        no_exception(page)
    finally:
        ctx.close()


def test_a_run_sensitive_to_rounding_says_so_in_explain_mode(page, app_url):
    """Nadam on Beale (issue 25): the explained run's panel says from which step rounding moves it,
    the step the results table and the Code panel give (tests/test_rounding.py); the default runs'
    panels say nothing of it."""
    from test_rounding import NOTE, beale

    _, view = beale()
    open_app(page, app_url + "/?surface=beale&optimizers=nadam&nadam.lr=0.01&steps=150&start=-1.2,1.5"
             "&explain=1")
    note = page.locator(f"{PANEL} .xp-rounding")
    expect(note).to_be_visible()
    assert note.text_content() == NOTE.format(k=view.trajectory.sensitive_from)
    open_app(page, app_url + "/?explain=1")
    expect(page.locator(PANEL)).to_be_visible()
    expect(page.locator(f"{PANEL} .xp-rounding")).to_have_count(0)
    no_exception(page)
