"""End to end in Chromium: the Playground page as a user sees it (pixels included).

Each test gets a fresh browser context, hence a fresh Streamlit session with the default setup:
Rosenbrock, runs GD / Momentum / Adam, 500 steps, 3-D view off, the stage at step 0.
The Playground's map, loss chart and playback are one component, the stage (viz/stage.js):
its map is the Plotly graph in .stage-map, its loss chart .stage-loss.
"""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from conftest import VIEWPORT, streamlit_server
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MAP = "document.querySelector('.stage-map')"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
#: before any page script: count the messages the page sends to the server (a script rerun is one)
COUNT_SENDS = """(() => {
  window.__sent = 0;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (...a) { window.__sent += 1; return send.apply(this, a); };
})()"""
#: what the map shows of run n (the stage's read-out of its overlay): name, colour, start (x0, y0),
#: points drawn so far n, current point, end of the whole path when shown, step it diverged at
RUN = "(n) => { const s = document.querySelector('.stage'); return s.stageRuns && s.stageRuns()[n - 1]; }"



def open_app(page, url: str) -> None:
    """Load the page and wait until the stage is drawn with its landscape image and the script is idle."""
    page.set_default_timeout(30_000)
    page.add_init_script(COUNT_SENDS)
    page.goto(url)
    page.wait_for_function(  # drawn: the landscape and the runs, then Plotly's axes
        "() => { const s = document.querySelector('.stage');"
        " return s && s.dataset.drawn && s.dataset.axes && s.querySelector('.stage-land img'); }",
        timeout=60_000)
    page.wait_for_selector(IDLE)


def run(page, n: int) -> dict:
    return page.evaluate(RUN, n)


def drawn(page) -> str:
    """What the stage last painted: data version, step, learning-rate indices."""
    return page.evaluate("() => document.querySelector('.stage').dataset.drawn")


def wait_painted(page, before: str) -> str:
    page.wait_for_function("(b) => document.querySelector('.stage').dataset.drawn !== b", arg=before)
    return drawn(page)


def wait_new_data(page, before: str) -> None:
    """Wait for the server's next data (a new version) to be painted and the script to be idle."""
    version = before.split(":")[0]
    page.wait_for_function("(v) => document.querySelector('.stage').dataset.drawn.split(':')[0] !== v",
                           arg=version)
    page.wait_for_selector(IDLE)


def no_exception(page) -> None:
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


def plot_area(page) -> dict:
    """The map's axes in page pixels, with their data ranges."""
    box = page.evaluate(f"""() => {{
      const g = {MAP}, b = g.getBoundingClientRect(), fl = g._fullLayout;
      return {{x: b.x + fl.xaxis._offset, y: b.y + fl.yaxis._offset, width: fl.xaxis._length,
               height: fl.yaxis._length, xr: fl.xaxis.range, yr: fl.yaxis.range}};
    }}""")
    vp = page.viewport_size
    assert box["width"] > 150 and box["height"] > 150, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= vp["width"] + 1, box
    assert box["y"] >= 0 and box["y"] + box["height"] <= vp["height"] + 1, box
    return box


def to_px(box: dict, x: float, y: float) -> tuple[float, float]:
    """Data coordinates to pixels of a plot_area screenshot."""
    (x0, x1), (y0, y1) = box["xr"], box["yr"]
    return (x - x0) / (x1 - x0) * box["width"], (y1 - y) / (y1 - y0) * box["height"]


def shot(page, box: dict | None = None) -> np.ndarray:
    box = box or plot_area(page)
    png = page.screenshot(clip={k: box[k] for k in ("x", "y", "width", "height")})
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def assert_landscape(img: np.ndarray, when: str) -> None:
    """Mostly coloured (not white / near-white) pixels, many distinct colours, no colour dominating."""
    px = img.reshape(-1, 3)
    coloured = float((px.min(axis=1) < 225).mean())
    codes = px @ np.array([1 << 16, 1 << 8, 1])
    _, counts = np.unique(codes, return_counts=True)
    assert coloured > 0.7, f"{when}: only {coloured:.0%} of the plot area is coloured: landscape missing?"
    assert len(counts) > 200, f"{when}: only {len(counts)} distinct colours in the plot area"
    assert counts.max() / len(px) < 0.5, f"{when}: one colour covers {counts.max() / len(px):.0%}"


def colour_pixels(img: np.ndarray, hex_colour: str, at: tuple[float, float], radius: float) -> int:
    """Pixels within ``radius`` of ``at`` (x, y in the image) close to ``hex_colour``."""
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
    near = np.hypot(xx - at[0], yy - at[1]) <= radius
    return int((near & (np.abs(img - rgb).sum(-1) < 60)).sum())


def test_page_loads(page, app_url):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(urlparse(r.url).hostname or ""))
    open_app(page, app_url)
    expect(page).to_have_title("Descent Lab")
    expect(page.locator("h1", has_text="Descent Lab")).to_be_visible()
    expect(page.locator(".stage-map .js-plotly-plot, .stage-map.js-plotly-plot")).to_have_count(1)
    names = page.locator(".stage-run .name").all_inner_texts()
    assert names == ["1. GD (η=0.001)", "2. Momentum (η=0.001, β=0.9)", "3. Adam (η=0.1)"], names
    src = page.evaluate("() => Array.from(document.scripts).map(s => s.src).find(s => s.includes('plotly'))")
    assert urlparse(src).path == "/app/static/plotly.min.js", src  # served by the app, not a CDN
    assert "cdn" not in " ".join(hosts) and "plot.ly" not in " ".join(hosts), hosts
    land = page.evaluate("() => document.querySelector('.stage-land img').src")
    assert land.startswith("data:image/png;base64,")
    expect(page.locator(".stage-3d canvas")).to_have_count(0)  # the 3-D view is off by default
    no_exception(page)
    assert not errors, errors


def test_loss_chart_axes_follow_the_steps(page, app_url):
    """The loss chart's axes are drawn on its canvas (no Plotly relayout when its range changes): tick
    labels at its left and bottom over a white plot area, and other labels for another number of steps."""
    def loss_shot() -> np.ndarray:
        return shot(page, page.locator(".stage-lossbox canvas").bounding_box())

    open_app(page, app_url)
    assert page.evaluate("() => document.querySelector('.stage-loss')._fullLayout === undefined")
    img = loss_shot()
    dark = np.abs(img - 0x44).sum(-1) < 90  # the labels' grey
    left, bottom = dark[: -40, :40], dark[-36:, 50:]
    assert left.sum() > 60, f"no tick labels at the left of the loss chart ({left.sum()} px)"
    assert bottom.sum() > 60, f"no tick labels under the loss chart ({bottom.sum()} px)"
    assert (img[10:-45, 60:-20].min(-1) > 235).mean() > 0.6, "the plot area is not white"
    page.goto(app_url + "/?steps=100")
    page.wait_for_function("() => document.querySelector('.stage')?.dataset.drawn?.length > 0")
    page.wait_for_selector(IDLE)
    other = loss_shot()
    assert other.shape == img.shape
    changed = (np.abs(other[-36:, 50:] - img[-36:, 50:]).sum(-1) > 60).sum()
    assert changed > 40, f"the step axis looks the same for 100 steps as for 500 ({changed} px changed)"


def test_trail_only_at_step_0(page, app_url):
    """Before Play, no run's path is drawn near its end; the whole paths appear when asked for."""
    open_app(page, app_url + "/?arrows=0")
    box = plot_area(page)
    start = shot(page, box)
    runs = [run(page, n) for n in (1, 2, 3)]
    assert all(r["n"] == 1 for r in runs), "at step 0 each trail is its start point"
    before = drawn(page)
    page.get_by_role("button", name="Show whole paths").click()
    wait_painted(page, before)
    whole = shot(page, box)
    yy, xx = np.mgrid[: whole.shape[0], : whole.shape[1]]
    for n in (1, 2, 3):
        r = run(page, n)
        end = to_px(box, *r["whole"])
        start_px = to_px(box, r["x0"], r["y0"])
        assert np.hypot(end[0] - start_px[0], end[1] - start_px[1]) > 30, "the run moved far enough to tell"
        near = np.hypot(xx - end[0], yy - end[1]) <= 10
        changed = int((near & (np.abs(whole - start).sum(-1) > 60)).sum())
        # the pixels near the end change when the whole paths are shown: they were not drawn at step 0
        assert changed > 20, f"run {n}'s end looks the same before Play and with the whole paths ({changed})"
        assert colour_pixels(start, r["color"], end, 10) <= 2, f"run {n}'s colour is at its end before Play"


def test_landscape_visible_through_play_scrub_and_presenter_mode(page, app_url):
    open_app(page, app_url)
    box = plot_area(page)
    assert_landscape(shot(page, box), "at step 0")
    before = drawn(page)
    page.get_by_role("button", name="Play / pause (Space)").click()
    page.wait_for_function("() => Number(document.querySelector('.stage').dataset.step) >= 20")
    middle = shot(page, box)
    assert_landscape(middle, "while playing")
    a = int(page.evaluate("() => document.querySelector('.stage').dataset.step"))
    later = "(a) => Number(document.querySelector('.stage').dataset.step) > Math.min(a + 10, 499)"
    page.wait_for_function(later, arg=a)
    assert run(page, 3)["now"] != [run(page, 3)["x0"], run(page, 3)["y0"]], "Adam's marker left the start"
    page.get_by_role("button", name="Play / pause (Space)").click()  # pause
    assert drawn(page) != before
    # scrub: the step slider to its middle
    slider = page.locator(".stage-step")
    sb = slider.bounding_box()
    page.mouse.click(sb["x"] + sb["width"] * 0.5, sb["y"] + sb["height"] / 2)
    page.wait_for_function("() => Math.abs(Number(document.querySelector('.stage').dataset.step) - 250) < 15")
    scrubbed = shot(page, box)
    assert_landscape(scrubbed, "after scrubbing")
    assert (np.abs(middle - scrubbed).sum(-1) > 30).sum() > 20, "the map looks the same at two steps"
    page.get_by_role("button", name="Presenter mode: big map, no sidebar (Esc leaves)").click()
    page.wait_for_function("() => document.querySelector('.stage.present')")
    page.wait_for_selector(IDLE)
    page.wait_for_timeout(300)
    assert_landscape(shot(page), "in presenter mode")
    no_exception(page)


def test_keyboard_steps_move_the_marker(page, app_url):
    open_app(page, app_url + "/?arrows=0")
    box = plot_area(page)
    at0 = shot(page, box)
    sent = page.evaluate("() => window.__sent")
    page.locator(".stage").focus()
    for _ in range(3):
        page.keyboard.press("Shift+ArrowRight")  # 10 steps each
    page.wait_for_function("() => document.querySelector('.stage').dataset.step === '30'")
    page.wait_for_timeout(100)
    mom = run(page, 2)
    here, there = to_px(box, *mom["now"]), to_px(box, mom["x0"], mom["y0"])
    assert np.hypot(here[0] - there[0], here[1] - there[1]) > 30, "Momentum moved in 30 steps"
    at30 = shot(page, box)
    assert colour_pixels(at30, mom["color"], here, 6) > 15, "Momentum's marker is not drawn where it is"
    assert colour_pixels(at0, mom["color"], here, 6) < 5, "something of Momentum's was there at step 0"
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => document.querySelector('.stage').dataset.step === '29'")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.stage').dataset.step === '30'")
    page.keyboard.press("End")
    page.wait_for_function("() => document.querySelector('.stage').dataset.step === '500'")
    page.keyboard.press("Home")
    page.wait_for_function("() => document.querySelector('.stage').dataset.step === '0'")
    assert page.evaluate("() => window.__sent") == sent, "stepping asked the server"
    no_exception(page)


def test_lr_drag_switches_the_path_in_the_browser_and_reruns_once_it_ends(page, app_url):
    open_app(page, app_url)
    box = plot_area(page)
    page.wait_for_timeout(500)
    sent = page.evaluate("() => window.__sent")
    at0 = shot(page, box)
    first, second = run(page, 1), run(page, 2)
    assert "η=0.001" in first["name"]
    thumb = page.locator(".stage .lr-input").first
    tb = thumb.bounding_box()
    value = int(thumb.input_value())
    steps = int(thumb.get_attribute("max"))
    x = tb["x"] + 8 + (tb["width"] - 16) * value / steps
    y = tb["y"] + tb["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, 9):  # drag to a larger lr, in small moves
        page.mouse.move(x + k * (tb["width"] - 16) / steps * 0.5, y)
        page.wait_for_timeout(30)
    page.wait_for_function(f"(n) => ({RUN})(1).name !== n", arg=first["name"])
    dragged = run(page, 1)
    assert dragged["name"] != first["name"] and "η=0.001)" not in dragged["name"], dragged["name"]
    assert dragged["whole"] is not None, "the dragged run shows where its new lr leads"
    during = shot(page, box)
    assert (np.abs(during - at0).sum(-1) > 40).sum() > 50, "the map did not change while dragging"
    assert page.evaluate("() => window.__sent") == sent, "the drag asked the server before it ended"
    expect(page.locator("[data-testid='stApp']")).to_have_attribute("data-test-script-state", "notRunning")
    page.mouse.up()
    page.wait_for_function("(s) => window.__sent > s", arg=sent)
    page.wait_for_function("(lr) => location.search.includes('gd.lr=' + lr)",
                           arg=dragged["name"].split("η=")[1].split(")")[0].split(",")[0])
    page.wait_for_selector(IDLE)
    assert run(page, 2)["key"] == second["key"], "run 2 did not change"
    assert run(page, 1)["name"] == dragged["name"]
    no_exception(page)


def test_space_plays_right_after_load_and_a_click_only_focuses(page, app_url):
    """The stage has the keys as soon as the page is loaded (Space plays); a plain click on the map
    gives them back after a click elsewhere, without moving the start or asking the server."""
    open_app(page, app_url + "/?arrows=0")
    assert page.evaluate("() => document.activeElement.classList.contains('stage')")
    page.keyboard.press("Space")
    page.wait_for_function("() => Number(document.querySelector('.stage').dataset.step) >= 3")
    page.keyboard.press("Space")  # pause
    expect(page.locator(".stage-play")).to_contain_text("Play")
    page.locator("h1").first.click()  # the keys go elsewhere
    assert not page.evaluate("() => document.activeElement.classList.contains('stage')")
    sent = page.evaluate("() => window.__sent")
    box = plot_area(page)
    px, py = to_px(box, 1.23, -0.37)  # lower right: far from the paths, the star and the start ring
    page.mouse.click(box["x"] + px, box["y"] + py)
    assert page.evaluate("() => document.activeElement.classList.contains('stage')")
    page.keyboard.press("Home")
    page.wait_for_function("() => document.querySelector('.stage').dataset.step === '0'")
    page.keyboard.press("Space")
    page.wait_for_function("() => Number(document.querySelector('.stage').dataset.step) >= 3")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__sent") == sent, "a plain click asked the server"
    assert run(page, 1)["x0"] == -1.5 and run(page, 1)["y0"] == 2.0, "a plain click moved the start"
    expect(page.locator(".stage-side > .stage-note")).to_contain_text("Shift+click the map")
    no_exception(page)


def test_shift_click_on_map_sets_start(page, app_url):
    open_app(page, app_url)
    sx = page.locator(".st-key-start-rosenbrock-x input")
    sy = page.locator(".st-key-start-rosenbrock-y input")
    expect(sx).to_have_value("-1.500")
    expect(sy).to_have_value("2.000")
    box = plot_area(page)
    X, Y = 1.23, -0.37  # lower right: far from the paths, the star and the start ring
    px, py = to_px(box, X, Y)
    before = drawn(page)
    page.keyboard.down("Shift")
    page.mouse.click(box["x"] + px, box["y"] + py)
    page.keyboard.up("Shift")
    wait_new_data(page, before)
    expect(sx).not_to_have_value("-1.500")
    vx, vy = float(sx.input_value()), float(sy.input_value())
    pixel = (box["xr"][1] - box["xr"][0]) / box["width"]
    assert abs(vx - X) <= 2 * pixel + 1e-3 and abs(vy - Y) <= 2 * pixel + 1e-3, (vx, vy)
    for n in (1, 2, 3):
        r = run(page, n)
        assert abs(r["x0"] - vx) < 1e-3 and abs(r["y0"] - vy) < 1e-3, (n, r["x0"], r["y0"], vx, vy)
    q = parse_qs(urlparse(page.url).query)
    assert q["start"] == [f"{vx:g},{vy:g}"], q["start"]
    no_exception(page)


def test_drag_the_start_ring(page, app_url):
    """Dragging the start ring moves the start of every run to where it is dropped."""
    open_app(page, app_url)
    box = plot_area(page)
    r = run(page, 1)
    x, y = to_px(box, r["x0"], r["y0"])
    X, Y = 0.5, 2.5
    tx, ty = to_px(box, X, Y)
    before = drawn(page)
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(box["x"] + x + (tx - x) * k / 10, box["y"] + y + (ty - y) * k / 10)
    page.mouse.up()
    wait_new_data(page, before)
    pixel = (box["xr"][1] - box["xr"][0]) / box["width"]
    for n in (1, 2, 3):
        r = run(page, n)
        assert abs(r["x0"] - X) <= 2 * pixel + 1e-3 and abs(r["y0"] - Y) <= 2 * pixel + 1e-3, (n, r)
    no_exception(page)


def test_diverging_run_shows_message(page, app_url):
    open_app(page, app_url)
    expect(page.locator("[data-testid='stAlert']")).to_have_count(0)
    thumb = page.locator(".stage .lr-input").first
    thumb.focus()
    thumb.press("End")
    expect(thumb).to_have_attribute("aria-valuetext", "10")
    alert = page.locator("[data-testid='stAlert']", has_text="diverged at step")
    expect(alert).to_have_count(1)
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("1. GD (η=10)")
    page.locator(".stage").focus()
    page.keyboard.press("End")
    page.wait_for_function("() => document.querySelector('.stage').dataset.step === '500'")
    assert run(page, 1)["diverged"] > 0, "the map marks where run 1 diverged"
    no_exception(page)
    assert_landscape(shot(page), "after divergence")


def view3d_pixels(page, colour: str) -> int:
    """Pixels of the 3-D view near ``colour`` (a run's path or marker)."""
    png = page.locator(".stage-3d").screenshot()
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return colour_pixels(img, colour, (img.shape[1] / 2, img.shape[0] / 2), max(img.shape))


def test_3d_view_follows_the_step(page, app_url):
    """The 3-D view takes the map's place at the map's size (Map + 3-D puts them side by side), and
    the runs' paths are drawn over the surface: at the last step each run's colour covers many pixels."""
    open_app(page, app_url)
    mapbox = page.locator(".stage-map").bounding_box()
    before = drawn(page)
    page.get_by_role("button", name="3-D view").click()
    wait_new_data(page, before)
    expect(page.locator(".stage-3d canvas").first).to_be_visible()
    assert parse_qs(urlparse(page.url).query)["show3d"] == ["1"]
    view = page.locator(".stage-3d").bounding_box()
    assert view == page.locator(".stage-map").bounding_box(), (view, mapbox)  # in the map's place
    assert view["width"] >= mapbox["width"] - 1 and view["height"] >= mapbox["height"] - 1, (view, mapbox)
    expect(page.locator(".stage-mapbox")).to_be_hidden()
    page.locator(".stage").focus()
    at0 = view3d_pixels(page, run(page, 2)["color"])
    page.keyboard.press("End")
    page.wait_for_function("() => document.querySelector('.stage').dataset.step === '500'")
    page.wait_for_timeout(500)
    # momentum's orange path along the valley floor (with the surface under the paths and the camera
    # above the valley; before, 0 px: hidden); Adam's green is the surface's own, GD hardly moves
    mom = view3d_pixels(page, run(page, 2)["color"])
    assert mom >= 100 + at0, f"momentum's path is hidden in 3-D: {at0} px at step 0, {mom} at step 500"
    marker = page.evaluate("""() => { const g = document.querySelector('.stage-3d');
      const m = g.data.filter(d => d.type === 'scatter3d' && d.mode === 'markers');
      return m.map(d => [d.x[0], d.y[0]]); }""")
    for n, (mx, my) in zip((1, 2, 3), marker, strict=True):
        assert np.allclose([mx, my], run(page, n)["now"], atol=1e-6), n
    img = np.asarray(Image.open(io.BytesIO(page.locator(".stage-3d").screenshot())).convert("RGB"))
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 200, "the 3-D view is blank"
    # x and y ticks inside the domain: at its ends they sat on the box's corners, on the other axis's end
    # tick ("-2" on "-1") or the z axis's labels ("3" under "0")
    scene = page.evaluate("() => document.querySelector('.stage-3d').layout.scene")
    for axis, (lo, hi) in (("xaxis", (-2, 2)), ("yaxis", (-1, 3))):
        ticks = scene[axis]["tickvals"]
        assert len(ticks) >= 3 and lo < min(ticks) and max(ticks) < hi, (axis, ticks)
    page.get_by_role("button", name="Map and 3-D side by side").click()
    expect(page.locator(".stage-mapbox")).to_be_visible()
    m, v = page.locator(".stage-map").bounding_box(), page.locator(".stage-3d").bounding_box()
    assert m["y"] + m["height"] <= v["y"] + 1 or m["x"] + m["width"] <= v["x"] + 1, (m, v)  # apart
    no_exception(page)


def test_3d_view_fills_presenter_mode(browser, app_url):
    """Presenter mode at 1920x1080 with the 3-D view: the view fills the column down to the playback
    bar (it was 453 px high beside a halved map, over an empty lower half)."""
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        page = ctx.new_page()
        open_app(page, app_url + "/?present=1&show3d=1")
        view = page.locator(".stage-3d").bounding_box()
        bar = page.locator(".stage-main > .stage-bar").bounding_box()
        assert view["height"] >= 850 and view["width"] >= 1000, view
        assert view["y"] + view["height"] <= bar["y"] + 1 and bar["y"] + bar["height"] <= 1080, (view, bar)
        no_exception(page)
    finally:
        ctx.close()


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768), (390, 844)], ids=["1920", "1366", "phone"])
def test_stage_uses_the_screen(browser, app_url, size):
    """The map is large where there is room, the playback controls above the fold, the map first on
    a phone; presenter mode hides the sidebar, enlarges the map and its fonts, and Esc leaves it."""
    w, h = size
    ctx = browser.new_context(viewport={"width": w, "height": h})
    try:
        page = ctx.new_page()
        open_app(page, app_url)
        box = plot_area(page)
        play = page.get_by_role("button", name="Play / pause (Space)").bounding_box()
        step = page.locator(".stage-step").bounding_box()
        assert play["y"] + play["height"] <= h and step["y"] + step["height"] <= h, (play, step)
        cards = page.locator(".st-key-controls").bounding_box()
        assert cards["y"] >= box["y"] + box["height"], "the run controls come after the map"
        # Rosenbrock's y range is [-1, 3]: both ends labelled (Plotly hides a label crossing the div's
        # edge), and the colour bar's title inside the map's div
        edges = page.evaluate(f"""() => {{ const g = {MAP};
          const shown = (e) => getComputedStyle(e).display !== 'none' && e.getBoundingClientRect().height > 0;
          return {{ys: [...g.querySelectorAll('.ytick text')].filter(shown).map(t => t.textContent),
                   title: g.querySelector('.cbtitle text').getBoundingClientRect().right,
                   right: g.getBoundingClientRect().right}}; }}""")
        assert edges["ys"][0] == "−1" and edges["ys"][-1] == "3", edges
        assert edges["title"] <= edges["right"], edges
        if w >= 1920:
            assert box["height"] >= 0.6 * h, box
        if w < 1000:
            return
        page.get_by_role("button", name="Presenter mode: big map, no sidebar (Esc leaves)").click()
        page.wait_for_function("() => document.querySelector('.stage.present')")
        page.wait_for_selector(IDLE)
        page.wait_for_function("() => location.search.includes('present=1')")
        expect(page.locator("[data-testid='stSidebar']")).to_be_hidden()
        page.wait_for_timeout(300)
        big = plot_area(page)
        gain = big["width"] * big["height"] / (box["width"] * box["height"])
        assert gain > (1.05 if h >= 1080 else 1.3), (box, big)  # at 1920x1080 the map is already 85 % high
        css = "parseFloat(getComputedStyle(document.querySelector('.stage')).fontSize)"
        fonts = page.evaluate(f"() => [{css}, {MAP}._fullLayout.font.size]")
        assert min(fonts) >= 18, fonts
        assert_landscape(shot(page, big), "in presenter mode")
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.querySelector('.stage.present')")
        page.wait_for_selector(IDLE)
        expect(page.locator("[data-testid='stSidebar']")).to_be_visible()
        assert "present" not in parse_qs(urlparse(page.url).query)
    finally:
        ctx.close()


def test_presenter_mode_from_a_link(page, app_url):
    open_app(page, app_url + "/?present=1")
    expect(page.locator(".stage.present")).to_have_count(1)
    expect(page.locator("[data-testid='stSidebar']")).to_be_hidden()
    expect(page.locator(".st-key-controls")).to_be_hidden()


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)], ids=["1920", "1366"])
def test_presenter_mode_with_a_lesson_keeps_play_on_the_screen(browser, app_url, size):
    """Presenter mode with a lesson open: the lesson is one line (title and question) above the stage,
    Play and the step counter stay above the fold; the captions under the stage and the stage's
    how-to line are hidden."""
    w, h = size
    ctx = browser.new_context(viewport={"width": w, "height": h})
    try:
        page = ctx.new_page()
        open_app(page, app_url + "/?lesson=ravine&present=1")
        line = page.locator(".st-key-lesson_line")
        expect(line).to_contain_text("Momentum in a ravine")
        expect(line).to_contain_text("Which run reaches the minimum first")
        box = line.bounding_box()
        play = page.get_by_role("button", name="Play / pause (Space)").bounding_box()
        step = page.locator(".stage-step").bounding_box()
        assert play["y"] + play["height"] <= h and step["y"] + step["height"] <= h, (play, step)
        assert box["height"] <= 30 and box["y"] + box["height"] <= plot_area(page)["y"], box
        size = page.evaluate("() => parseFloat(getComputedStyle("
                             "document.querySelector('.st-key-lesson_line p')).fontSize)")
        assert size >= (18 if w >= 1600 else 14), size  # read from the back of a hall on its screen
        for hidden in (".stage-side > .stage-note", ".st-key-run_notes [data-testid='stCaptionContainer']"):
            assert page.locator(hidden).count() >= 1, hidden  # there, but not shown
            for k in range(page.locator(hidden).count()):
                expect(page.locator(hidden).nth(k)).to_be_hidden()
        expect(page.get_by_text("You changed the lesson's settings")).to_have_count(0)
    finally:
        ctx.close()


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
            expect(graphs.first).to_be_visible(timeout=30_000)  # a loaded machine draws slowly
            img = np.asarray(Image.open(io.BytesIO(graphs.first.screenshot())).convert("RGB"))
            assert len(np.unique(img.reshape(-1, 3), axis=0)) > 50, f"{path}: a blank chart"
        else:
            expect(page.locator("[data-testid='stCode']").first).to_be_visible()
        assert page.get_by_text(words, exact=False).count() > 0, (path, words)
