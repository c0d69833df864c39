"""The Explore page in Chromium: reachable from the navigation, heatmap drawn, a click on a
sweep cell opens that exact run in the Playground."""

from __future__ import annotations

import io
import time
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
SWEEP = ".st-key-explore-sweep_chart .js-plotly-plot"
GD = f"document.querySelector('{SWEEP}')"


def open_explore(page, app_url: str) -> float:
    """From the home page through the navigation to Explore; seconds from the click to the heatmap."""
    page.set_default_timeout(60_000)
    page.goto(app_url)
    page.wait_for_selector(IDLE)
    page.locator("[data-testid='stTopNavSection']", has_text="Descent Lab").click()  # a menu in the top bar
    link = page.get_by_role("menuitem", name="Explore")
    expect(link).to_be_visible()
    t = time.monotonic()
    link.click()
    page.wait_for_function(f"() => {{ const g = {GD}; return g && g._fullData && "
                           "g.querySelector('.heatmaplayer image, .hm image'); }")
    took = time.monotonic() - t
    page.wait_for_selector(IDLE)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    return took


def cell_pixel(page, i: int, j: int) -> dict:
    """Page pixel of sweep cell (column i, row j), and its data coordinates."""
    return page.evaluate(f"""([i, j]) => {{
      const g = {GD}, fl = g._fullLayout, b = g.getBoundingClientRect();
      const cells = g._fullData.find(d => d.name === 'cells');
      const nx = new Set(Array.from(cells.x)).size;
      const k = j * nx + i, x = cells.x[k], y = cells.y[k];
      return {{px: b.x + fl.xaxis._offset + fl.xaxis.l2p(x), py: b.y + fl.yaxis._offset + fl.yaxis.l2p(y),
               nx, x, y}};
    }}""", [i, j])


def click_to_playground(page, px: float, py: float, setting: str) -> dict:
    """Click at (px, py), wait for the Playground with ``setting`` in its link; the link's values."""
    page.mouse.move(px, py)
    page.mouse.click(px, py)
    page.wait_for_function("(s) => !location.pathname.includes('explore') && location.search.includes(s)",
                           arg=setting)
    page.wait_for_selector(IDLE)
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


def test_explore_heatmap_renders(page, app_url):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    took = open_explore(page, app_url)
    print(f"navigation click -> sweep heatmap drawn: {took:.2f} s")
    box = page.evaluate(f"""() => {{ const g = {GD}, fl = g._fullLayout, b = g.getBoundingClientRect();
      return {{x: b.x + fl.xaxis._offset, y: b.y + fl.yaxis._offset, width: fl.xaxis._length,
               height: fl.yaxis._length}}; }}""")
    assert box["width"] > 300 and box["height"] > 300, box
    page.locator(SWEEP).scroll_into_view_if_needed()
    box = page.evaluate(f"""() => {{ const g = {GD}, fl = g._fullLayout, b = g.getBoundingClientRect();
      return {{x: b.x + fl.xaxis._offset, y: b.y + fl.yaxis._offset, width: fl.xaxis._length,
               height: Math.min(fl.yaxis._length, window.innerHeight - b.y - fl.yaxis._offset)}}; }}""")
    img = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB")).reshape(-1, 3)
    coloured = float((img.min(axis=1) < 225).mean())
    distinct = len(np.unique(img @ np.array([1 << 16, 1 << 8, 1])))
    assert coloured > 0.6, f"only {coloured:.0%} of the heatmap is coloured"
    assert distinct > 30, f"only {distinct} colours in the heatmap"
    assert not errors, errors


def test_widget_change_redraws_the_sweep(page, app_url):
    open_explore(page, app_url)
    before = page.evaluate(f"() => {GD}.data[0].name")
    t = time.monotonic()
    page.locator(".st-key-explore-sw-opt").click()
    page.get_by_role("option", name="Momentum", exact=True).click()
    page.wait_for_function(f"(b) => {{ const g = {GD}; return g && g.data[0].name !== b; }}", arg=before)
    print(f"optimizer changed -> new sweep heatmap: {time.monotonic() - t:.2f} s")
    page.wait_for_selector(IDLE)
    assert "Momentum" in page.evaluate(f"() => {GD}.data[0].name")


def test_click_on_a_cell_opens_it_in_the_playground(page, app_url):
    from descent_lab.explore import sweep_param, sweep_values

    open_explore(page, app_url)
    page.locator(SWEEP).scroll_into_view_if_needed()
    i, j = 30, 25  # lr = xs[30], beta1 = ys[25] of Adam's default 40 x 40 sweep
    cell = cell_pixel(page, i, j)
    assert cell["nx"] == 40
    q = click_to_playground(page, cell["px"], cell["py"], "adam.lr")
    xs = sweep_values(sweep_param("adam", "lr"), 1e-4, 1.0, 40)
    ys = sweep_values(sweep_param("adam", "beta1"), 0.0, 0.999, 40)
    assert q["surface"] == "rosenbrock"
    assert q["optimizers"] == "adam"
    assert q["start"] == "-1.5,2"
    assert q["steps"] == "500"
    assert float(q["adam.lr"]) == xs[i]
    assert float(q["adam.beta1"]) == ys[j]
    assert len(q["adam.lr"]) <= 7 and len(q["adam.beta1"]) <= 8  # rounded: 0.307, not 0.30702906297578497
    assert float(q["adam.beta2"]) == 0.999
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


BASINS = ".st-key-explore-basins1 .js-plotly-plot"


def test_click_on_a_basin_start_races_the_optimizers_from_there(page, app_url):
    open_explore(page, app_url)
    page.get_by_role("tab", name="Basins of attraction").click()
    page.wait_for_function(f"() => {{ const g = document.querySelector('{BASINS}'); return g && g._fullData "
                           "&& g._fullData.filter(d => d.type === 'heatmap').length === 1; }")
    page.wait_for_selector(IDLE)
    assert "section=basins" in page.url  # the open section is in the link
    page.locator(BASINS).scroll_into_view_if_needed()
    top = page.evaluate(f"() => {{ const g = document.querySelector('{BASINS}');"
                        " return g.querySelector('.nsewdrag').getBoundingClientRect().top"
                        " - g.getBoundingClientRect().top; }")
    assert top < 60, top  # the map right under its title, no empty band above it
    # start (ii, jj) of the click grid in the second map (Momentum's)
    target = page.evaluate(f"""() => {{
      const g = document.querySelector('{BASINS}'), fl = g._fullLayout, b = g.getBoundingClientRect();
      const grid = g._fullData.filter(d => d.name === 'starts')[0];
      const k = 20 * 25 + 17, x = grid.x[k], y = grid.y[k];
      return {{px: b.x + fl.xaxis._offset + fl.xaxis.l2p(x), py: b.y + fl.yaxis._offset + fl.yaxis.l2p(y),
               x, y, text: grid.text[k]}};
    }}""")
    q = click_to_playground(page, target["px"], target["py"], "momentum.lr")
    assert q["surface"] == "himmelblau"  # the basins open on several minima (Rosenbrock has one)
    assert q["optimizers"] == "gd,momentum,adam"
    x, y = (float(v) for v in q["start"].split(","))
    cell = 10 / 99  # Himmelblau's domain, 100 starts a side
    assert abs(x - target["x"]) <= 0.1 * cell and abs(y - target["y"]) <= 0.1 * cell, (q["start"], target)
    assert all(len(v) <= 6 for v in q["start"].split(",")), q["start"]  # rounded, not 16 digits
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


def test_an_explore_link_opens_its_section_with_its_settings(page, app_url):
    page.set_default_timeout(60_000)
    page.goto(app_url.rstrip("/") + "/explore?section=sweep&opt=gd&x=lr&y=noise&cells=15&steps=100&bad=1")
    page.wait_for_function(f"() => {{ const g = {GD}; return g && g._fullData && "
                           "g._fullData.find(d => d.name === 'cells'); }")
    page.wait_for_selector(IDLE)
    nx = page.evaluate(f"() => new Set(Array.from({GD}._fullData.find(d => d.name === 'cells').x)).size")
    assert nx == 15
    expect(page.locator("[data-testid='stAlert']", has_text="bad")).to_have_count(1)
    tabs = page.locator("div[role='tab'] p, button[role='tab'] p")
    assert float(tabs.first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 18  # 1.15rem
    query = parse_qs(urlparse(page.url).query)
    assert query["opt"] == ["gd"] and query["cells"] == ["15"] and "bad" not in query


def test_on_a_phone_every_chosen_optimizer_chip_shows_in_its_box(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.set_default_timeout(120_000)
        page.goto(app_url.rstrip("/") + "/explore?section=basins")
        page.wait_for_selector(f"{BASINS}")
        page.wait_for_selector(IDLE)
        box, chips = page.evaluate("""() => {
          const m = document.querySelector("[data-testid='stMultiSelect'] [role='group']");
          const r = m.getBoundingClientRect();
          return [[r.right, r.bottom], [...m.querySelectorAll('[data-tag]')].map(c => {
            const b = c.getBoundingClientRect(); return [b.right, b.bottom]; })]; }""")
        assert len(chips) == 3  # Gradient descent, Momentum, Adam
        assert all(right <= box[0] and bottom <= box[1] for right, bottom in chips), (box, chips)  # wrapped
    finally:
        context.close()
