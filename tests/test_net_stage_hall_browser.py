"""The Networks stage read from the back of a hall, in Chromium: at 1920x1080 every text it draws (on its
canvases, measured as each fillText's font, and in its DOM, computed) is at least 16 px and the unit
maps of a 2 x 16 network are clearly visible while a 3 x 16 one still fits; Present puts the stage on
the whole screen (the browser's full screen, or an overlay where that is refused) with the plane, the
output and the network side by side on the screen and the text at least 18 px, the keys still step,
and Escape leaves. (A phone's one column: tests/test_networks_browser.py.)"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from test_networks_browser import IDLE, NS, QUERY, assert_titles_fit, step

pytestmark = pytest.mark.browser

# every fillText's font size (px) and text, per canvas class, recorded from the first paint on
RECORD_FONTS = """
window.__fonts = [];
const fillText = CanvasRenderingContext2D.prototype.fillText;
CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
  const m = /(\\d+(?:\\.\\d+)?)px/.exec(this.font);
  if (String(text).trim()) window.__fonts.push([m ? parseFloat(m[1]) : 0, String(text)]);
  return fillText.call(this, text, ...rest);
};
"""
# every visible text node in the stage with its computed font size, and the menus'
DOM_TEXT = """root => { const out = [];
  const walk = (n) => { for (const c of n.childNodes) {
    if (c.nodeType === 3 && c.textContent.trim()) {
      const e = c.parentElement;
      const px = parseFloat(getComputedStyle(e).fontSize);
      if (e.getClientRects().length) out.push([px, c.textContent.trim()]);
    } else if (c.nodeType === 1) walk(c);
  } };
  walk(root);
  for (const s of root.querySelectorAll('select')) out.push([parseFloat(getComputedStyle(s).fontSize), 's']);
  return out; }"""


def open_big(browser, app_url, width, height, query=QUERY, refuse_fullscreen=False):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.add_init_script(RECORD_FONTS)
    if refuse_fullscreen:  # as in an iframe without allow="fullscreen"
        page.add_init_script("Element.prototype.requestFullscreen = function () {"
                             " return Promise.reject(new TypeError('Permissions check failed')); };")
    page.set_default_timeout(120_000)
    page.goto(f"{app_url}/networks?{urlencode(query)}")
    page.wait_for_selector(f"{NS}[data-drawn]")
    page.wait_for_selector(IDLE)
    page.wait_for_timeout(300)
    return context, page


def text_sizes(page) -> tuple[list, list]:
    """What one repaint of the stage writes on its canvases, and its DOM's text: [(px, text), ...]."""
    page.evaluate("() => { window.__fonts = []; }")
    page.locator(NS).evaluate("root => { const s = root.netStage; s.t = 20; s.playback.draw(s); }")
    canvas = page.evaluate("() => window.__fonts")
    return canvas, page.locator(NS).evaluate(DOM_TEXT)


def test_at_1920_every_text_on_the_stage_is_at_least_16_px(browser, app_url):
    context, page = open_big(browser, app_url, 1920, 1080)
    try:
        canvas, dom = text_sizes(page)
        # the axes' ticks, the titles, the colour bar, the layer names: all written, all large
        written = {text for _, text in canvas}
        assert {"inputs", "output", "J (loss, log scale)", "a (first direction)"} <= written, written
        assert len(canvas) > 40 and min(canvas)[0] >= 16, min(canvas)
        assert len(dom) > 20 and min(dom)[0] >= 16, min(dom)
        # the headline's numbers larger still
        stat = page.locator(f"{NS} .ns-stat b >> nth=0")
        big = stat.evaluate("b => parseFloat(getComputedStyle(b).fontSize)")
        assert big >= 28
        # nothing overflows the page sideways; the charts' titles fit their canvases
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 1920
        assert_titles_fit(page)
    finally:
        context.close()


def test_at_1920_the_3d_view_writes_at_the_stages_text_size(browser, app_url):
    context, page = open_big(browser, app_url, 1920, 1080, {**QUERY, "show3d": "1"})
    try:
        page.locator(NS).evaluate("root => { window.__ns = root; }")
        page.wait_for_function("() => window.__ns.netStage.view3d._fullLayout")
        size = page.locator(NS).evaluate("root => root.netStage.view3d._fullLayout.font.size")
        assert size >= 16, size  # (Plotly's own: 12)
    finally:
        context.close()


@pytest.mark.parametrize("hidden", ["16,16", "16,16,16"])
def test_at_1920_the_unit_maps_grow_with_the_space_and_a_3x16_network_fits(browser, app_url, hidden):
    context, page = open_big(browser, app_url, 1920, 1080, {**QUERY, "hidden": hidden})
    try:
        maps = page.locator(NS).evaluate("root => root.netStage.unitMaps")
        assert len(maps) == 2 + 16 * hidden.count("16") + 1
        size = maps[0]["size"]
        assert size >= (40 if hidden == "16,16" else 36), size  # (before: 23 px squares)
        net = page.locator(f"{NS} .ns-net canvas").evaluate(
            "c => ({w: c.getBoundingClientRect().width, h: c.getBoundingClientRect().height})")
        assert all(m["x"] >= 0 and m["x"] + m["size"] <= net["w"] for m in maps)
        assert all(m["y"] >= 0 and m["y"] + m["size"] <= net["h"] for m in maps)
        assert net["h"] <= 1080  # the whole network on one screen
    finally:
        context.close()


def inside(box, width, height) -> bool:
    return box["x"] >= -0.5 and box["y"] >= -0.5 and box["r"] <= width + 0.5 and box["b"] <= height + 0.5


def present_boxes(page) -> dict:
    return page.locator(NS).evaluate("""root => Object.fromEntries(['.ns-plane canvas', '.ns-out canvas',
        '.ns-net canvas', '.ns-curves'].map(s => { const b = root.querySelector(s).getBoundingClientRect();
        return [s, {x: b.x, y: b.y, r: b.right, b: b.bottom}]; }))""")


@pytest.mark.parametrize(("width", "height", "refuse"),
                         [(1920, 1080, False), (1366, 768, False), (1366, 768, True)])
def test_present_fills_the_screen_with_the_plane_output_and_network_and_escape_leaves(
        browser, app_url, width, height, refuse):
    context, page = open_big(browser, app_url, width, height, refuse_fullscreen=refuse)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.get_by_role("button", name="Present: the stage on the whole screen").click()
        page.wait_for_selector(f"{NS}.present")
        page.wait_for_timeout(400)  # (the full screen's resize repaints)
        full = page.evaluate("() => !!document.fullscreenElement")
        overlay = page.locator(NS).evaluate("root => root.classList.contains('overlay')")
        assert (full, overlay) == ((False, True) if refuse else (True, False))
        root = page.locator(NS).evaluate("root => { const b = root.getBoundingClientRect(); "
                                         "return [b.x, b.y, b.width, b.height]; }")
        assert root == [0, 0, width, height]  # the whole screen
        found = present_boxes(page)
        plane, out, net = found[".ns-plane canvas"], found[".ns-out canvas"], found[".ns-net canvas"]
        for name, box in [("plane", plane), ("output", out), ("network", net)]:
            assert inside(box, width, height), (name, box)
        assert plane["r"] <= out["x"] and out["r"] <= net["x"]  # side by side, in that order
        assert found[".ns-curves"]["y"] >= max(plane["b"], out["b"], net["b"])  # the curves below
        canvas, dom = text_sizes(page)
        assert min(canvas)[0] >= 18 and min(dom)[0] >= 18, (min(canvas), min(dom))
        page.keyboard.press("End")  # the keys still work there
        assert step(page) == 60
        page.keyboard.press("ArrowLeft")
        assert step(page) == 59
        page.keyboard.press("Escape")
        page.wait_for_selector(f"{NS}:not(.present)")
        assert not page.evaluate("() => !!document.fullscreenElement")
        assert page.locator(NS).evaluate("root => getComputedStyle(root).position") != "fixed"
        assert not errors, errors
    finally:
        context.close()


def test_present_at_1366_draws_a_3x16_network_on_the_screen_with_its_names_apart(browser, app_url):
    query = {**QUERY, "hidden": "16,16,16", "features": "x,y,x2,y2,xy,sinx,siny"}
    context, page = open_big(browser, app_url, 1366, 768, query)
    try:
        page.get_by_role("button", name="Present: the stage on the whole screen").click()
        page.wait_for_selector(f"{NS}.present")
        page.wait_for_timeout(400)
        net = present_boxes(page)[".ns-net canvas"]
        assert inside(net, 1366, 768), net
        names = page.locator(NS).evaluate("root => root.netStage.netNames")
        assert [n["text"] for n in names][:3] == ["inputs", "layer 1", "(16)"]  # two lines in a narrow column
        for i, a in enumerate(names):
            assert a["left"] >= 0 and a["right"] <= net["r"] - net["x"], a
            for b in names[i + 1:]:
                sideways = a["right"] + 4 <= b["left"] or b["right"] + 4 <= a["left"]
                apart = sideways or a["bottom"] <= b["top"] or b["bottom"] <= a["top"]
                assert apart, (a, b)
        maps = page.locator(NS).evaluate("root => root.netStage.unitMaps")
        assert min(m["size"] for m in maps) >= 20
    finally:
        context.close()
