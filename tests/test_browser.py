"""End to end in Chromium: the Playground page as a user sees it (pixels included).

Each test gets a fresh browser context, hence a fresh Streamlit session with the default setup:
Rosenbrock, runs GD / Momentum / Adam, 500 steps, 3-D view off (descent_lab.setup.Setup).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import VIEWPORT, streamlit_server
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


GD = "document.querySelector('.st-key-map .js-plotly-plot')"
#: in-page helpers, installed once per page: the graph div, run 1's path trace, decoded arrays
HELPERS = f"""() => {{
  window.__gd = () => {GD};
  window.__run = (n) => {{
    const g = {GD};
    if (!g || !g.data || !g._fullData) return null;  // between two renders of the chart
    const i = g.data.findIndex(d => (d.name || '').startsWith(n + '. '));
    if (i < 0) return null;
    const f = g._fullData[i];
    return {{index: i, name: g.data[i].name, key: JSON.stringify(g.data[i].x) + JSON.stringify(g.data[i].y),
             x0: f.x[0], y0: f.y[0], x1: f.x[f.x.length - 1], y1: f.y[f.y.length - 1], n: f.x.length}};
  }};
}}"""
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def open_app(page, url: str) -> None:
    """Load the page and wait until the map is drawn with its landscape image and the script is idle."""
    page.set_default_timeout(30_000)
    page.goto(url)
    page.wait_for_function(
        f"() => {{ const g = {GD}; return g && g._fullLayout && g.layout.images && g.layout.images.length"
        " && g.querySelector('.imagelayer image'); }", timeout=60_000)
    page.wait_for_selector(IDLE)
    page.evaluate(HELPERS)


def wait_rerun(page, before_key: str, run: int = 1) -> dict:
    """Wait until run ``run``'s path in the map differs from ``before_key`` and the script is idle."""
    page.wait_for_function("([n, k]) => { const r = window.__run(n); return r && r.key !== k; }",
                           arg=[run, before_key])
    page.wait_for_selector(IDLE)
    page.evaluate(HELPERS)  # harmless if still there
    return page.evaluate(f"() => window.__run({run})")


def no_exception(page) -> None:
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


def plot_area(page) -> dict:
    """The 2-D axes' rectangle in page pixels."""
    box = page.evaluate(f"""() => {{
      const g = {GD}, b = g.getBoundingClientRect(), fl = g._fullLayout;
      return {{x: b.x + fl.xaxis._offset, y: b.y + fl.yaxis._offset, width: fl.xaxis._length,
               height: fl.yaxis._length, xr: fl.xaxis.range, yr: fl.yaxis.range}};
    }}""")
    vp = page.viewport_size
    assert box["width"] > 150 and box["height"] > 150, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= vp["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= vp["height"], box
    return box


def shot(page) -> np.ndarray:
    box = plot_area(page)
    png = page.screenshot(clip={k: box[k] for k in ("x", "y", "width", "height")})
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def assert_landscape(img: np.ndarray, when: str) -> None:
    """Mostly coloured (not white / near-white) pixels, many distinct colours, no colour dominating."""
    px = img.reshape(-1, 3).astype(int)
    coloured = float((px.min(axis=1) < 225).mean())
    codes = px @ np.array([1 << 16, 1 << 8, 1])
    _, counts = np.unique(codes, return_counts=True)
    assert coloured > 0.7, f"{when}: only {coloured:.0%} of the plot area is coloured: landscape missing?"
    assert len(counts) > 200, f"{when}: only {len(counts)} distinct colours in the plot area"
    assert counts.max() / len(px) < 0.5, f"{when}: one colour covers {counts.max() / len(px):.0%}"


def test_page_loads(page, app_url):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_app(page, app_url)
    expect(page).to_have_title("Descent Lab")
    expect(page.locator("h1", has_text="Descent Lab")).to_be_visible()
    graph = page.locator(".st-key-map .js-plotly-plot")
    expect(graph).to_have_count(1)
    expect(graph).to_be_visible()
    info = page.evaluate(f"""() => {{ const g = {GD};
      return {{img: g.layout.images[0].source.slice(0, 22), frames: g._transitionData._frames.length,
               names: g.data.map(d => d.name || ''), scene: !!g._fullLayout.scene}}; }}""")
    assert info["img"] == "data:image/png;base64,"
    assert info["frames"] > 10
    assert "map" in info["names"] and "known minima" in info["names"]
    runs = [n.split(" (")[0] for n in info["names"] if n[:3] in ("1. ", "2. ", "3. ")]
    assert runs == ["1. GD", "2. Momentum", "3. Adam"], info["names"]
    assert not info["scene"], "the 3-D view is off by default (software WebGL is slow)"
    no_exception(page)
    assert not errors, errors


@pytest.mark.parametrize("link", ["", "?show3d=1"], ids=["map", "map+3d"])
def test_landscape_visible_while_playing(page, app_url, link):
    open_app(page, app_url + "/" + link)
    if link:
        assert page.evaluate(f"() => !!{GD}._fullLayout.scene"), "the link turns the 3-D view on"
    before = shot(page)
    assert_landscape(before, "before Play")
    # run 1's current point: the first animated trace drawn as markers
    point = page.evaluate(f"""() => {{ const g = {GD}; const fr = g._transitionData._frames;
      window.__frames = 0; window.__done = false;
      g.on('plotly_animatingframe', () => {{ window.__frames += 1; }});
      g.on('plotly_animated', () => {{ window.__done = true; }});
      const idx = fr[0].traces.find(i => g.data[i].type === 'scatter' && g.data[i].mode === 'markers');
      window.__point = () => {{ const d = {GD}.data[idx]; return [Number(d.x[0]), Number(d.y[0])]; }};
      const last = fr[fr.length - 1];
      const u = last.data[last.traces.indexOf(idx)];
      return {{idx, last: [Number(u.x[0]), Number(u.y[0])]}}; }}""")
    t_click = page.evaluate("() => performance.now()")
    page.locator(".st-key-map g.updatemenu-button", has_text="Play").click()
    page.wait_for_function("(t0) => window.__frames >= 3 && performance.now() - t0 >= 1000", arg=t_click)
    p1 = page.evaluate("() => window.__point()")
    n1 = page.evaluate("() => window.__frames")
    middle = shot(page)
    assert not page.evaluate("() => window.__done"), "the animation ended before the mid-animation check"
    assert_landscape(middle, "mid-animation")
    page.wait_for_function("(n) => window.__frames >= n + 2 || window.__done", arg=n1)
    p2 = page.evaluate("() => window.__point()")
    assert p2 != p1, f"the current point did not move during play ({p1})"
    page.wait_for_function("() => window.__done", timeout=60_000)
    after = shot(page)
    assert_landscape(after, "after the animation")
    end = page.evaluate("() => window.__point()")
    assert np.allclose(end, point["last"], atol=1e-6), (end, point["last"])
    assert p1 != end
    assert middle.shape == after.shape and (np.abs(middle.astype(int) - after).sum(-1) > 30).sum() > 20, (
        "the plot looks the same mid-animation and at the end")
    no_exception(page)


def test_lr_slider_changes_the_chart(page, app_url):
    open_app(page, app_url)
    run1, run2 = page.evaluate("() => [window.__run(1), window.__run(2)]")
    assert "lr=0.001" in run1["name"]
    thumb = page.locator(".st-key-r0-lr").get_by_role("slider")
    expect(thumb).to_have_attribute("aria-valuetext", "0.001")
    thumb.focus()
    thumb.press("ArrowLeft")
    thumb.press("ArrowLeft")
    expect(thumb).to_have_attribute("aria-valuetext", "0.0002")
    page.wait_for_function("() => (window.__run(1) || {name: ''}).name.includes('lr=0.0002')")
    new = wait_rerun(page, run1["key"])
    assert new["key"] != run1["key"]
    assert (new["x0"], new["y0"]) == (run1["x0"], run1["y0"]), "same start point"
    moved = math.hypot(new["x1"] - run1["x1"], new["y1"] - run1["y1"])
    assert moved > 1e-3, f"run 1's end point moved only {moved:g}"
    assert page.evaluate("() => window.__run(2).key") == run2["key"], "run 2 should not change"
    no_exception(page)


def test_click_on_map_sets_start(page, app_url):
    open_app(page, app_url)
    run1 = page.evaluate("() => window.__run(1)")
    sx = page.locator(".st-key-start-rosenbrock-x input")
    sy = page.locator(".st-key-start-rosenbrock-y input")
    expect(sx).to_have_value("-1.500")
    expect(sy).to_have_value("2.000")
    box = plot_area(page)
    (x0, x1), (y0, y1) = box["xr"], box["yr"]
    X, Y = 1.23, -0.37  # lower right: far from the paths, the star and the start markers
    px = box["x"] + (X - x0) / (x1 - x0) * box["width"]
    py = box["y"] + (y1 - Y) / (y1 - y0) * box["height"]
    page.mouse.move(px, py)
    page.wait_for_function("() => { const h = window.__gd()._hoverdata;"
                           " return h && h.length && h[0].fullData.name === 'map'; }")
    page.mouse.down()
    page.mouse.up()
    new = wait_rerun(page, run1["key"])
    expect(sx).not_to_have_value("-1.500")
    vx, vy = float(sx.input_value()), float(sy.input_value())
    # the click targets are a 25 x 25 grid: the nearest is at most half a spacing away per axis
    assert abs(vx - X) <= (x1 - x0) / 48 + 1e-3 and abs(vy - Y) <= (y1 - y0) / 48 + 1e-3, (vx, vy)
    for n in (1, 2, 3):
        r = page.evaluate(f"() => window.__run({n})")
        assert abs(r["x0"] - vx) < 1e-3 and abs(r["y0"] - vy) < 1e-3, (n, r["x0"], r["y0"], vx, vy)
    assert new["key"] != run1["key"]
    no_exception(page)


def test_diverging_run_shows_message(page, app_url):
    open_app(page, app_url)
    run1 = page.evaluate("() => window.__run(1)")
    expect(page.locator("[data-testid='stAlert']")).to_have_count(0)
    thumb = page.locator(".st-key-r0-lr").get_by_role("slider")
    thumb.focus()
    thumb.press("End")
    expect(thumb).to_have_attribute("aria-valuetext", "10")
    page.wait_for_function("() => (window.__run(1) || {name: ''}).name.includes('lr=10')")
    wait_rerun(page, run1["key"])
    alert = page.locator("[data-testid='stAlert']", has_text="diverged at step")
    expect(alert).to_have_count(1)
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("1. GD (lr=10)")
    no_exception(page)
    assert_landscape(shot(page), "after divergence")


def test_deep_links_get_the_app_navigation(browser):
    """The first request to a fresh server is a deep link: it must still run app.py's navigation
    (with a folder named pages/, Streamlit would serve its legacy multipage app instead)."""
    with streamlit_server() as url:
        ctx = browser.new_context(viewport=VIEWPORT)
        try:
            page = ctx.new_page()
            for path, heading in (("/learn_3_ewma", "moving average"), ("/explore", "Explore")):
                page.goto(url + path)
                page.wait_for_selector(IDLE, timeout=60_000)
                sections = page.locator("[data-testid='stTopNavSection']")
                expect(sections).to_have_count(2)  # the app's own navigation, in the top bar
                assert sections.all_inner_texts() == ["Descent Lab", "Learn"], sections.all_inner_texts()
                expect(page.locator("[data-testid='stSidebarNav']")).to_have_count(0)  # no legacy list
                sections.nth(1).click()
                links = page.get_by_role("menuitem", name="3. Moving averages")
                expect(links.last).to_be_visible()
                assert "3. Moving averages" in links.last.inner_text()
                page.keyboard.press("Escape")
                expect(page.get_by_text(heading, exact=False).first).to_be_visible()
                no_exception(page)
        finally:
            ctx.close()


def test_every_page_renders(page, app_url):
    """Each Learn page and Explore, opened by its link: its title, no exception, and its charts
    drawn (pixels in a Plotly graph, not just the DOM)."""
    from app_pages.learn_path import LEARN_PAGES

    targets = [("/explore", "Explore")] + [("/" + Path(f).stem, title.split(". ", 1)[1].split(",")[0])
                                           for f, title, _ in LEARN_PAGES]
    for path, words in targets:
        page.goto(app_url + path)
        page.wait_for_selector(IDLE, timeout=60_000)
        expect(page.locator("h1").first).to_be_visible()
        no_exception(page)
        graphs = page.locator(".js-plotly-plot")
        if path != "/learn_9_reference":  # the reference card is formulas and code only
            expect(graphs.first).to_be_visible()
            img = np.asarray(Image.open(io.BytesIO(graphs.first.screenshot())).convert("RGB"))
            assert len(np.unique(img.reshape(-1, 3), axis=0)) > 50, f"{path}: a blank chart"
        else:
            expect(page.locator("[data-testid='stCode']").first).to_be_visible()
        assert page.get_by_text(words, exact=False).count() > 0, (path, words)
