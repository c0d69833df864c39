"""The Networks page's stage in Chromium, read in pixels: the first view paints the plane and the output
shading at step 0; Play moves the markers, the shading and the unit maps; the keys step; hostile point
lists give a message and a working page; a phone gets one column without overlap."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlencode, urlparse

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from landscapes import datasets

pytestmark = pytest.mark.browser

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
NS = ".ns"

def stage(page, js: str):
    """``js``, a function of the stage's state (net_stage.js's, on its root element), evaluated."""
    return page.locator(NS).evaluate(f"root => ({js})(root.netStage)")


def wait_stage(page, js: str) -> None:
    page.wait_for_function(f"() => {{ const f = {js}; return f(window.__ns.netStage); }}")
QUERY = {"data": "moons", "n": "100", "hidden": "8", "steps": "60", "optimizers": "gd,adam",
         "gd.lr": "1", "adam.lr": "0.05"}


def open_stage(page, app_url, query=QUERY, errors=None) -> None:
    if errors is not None:
        page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(120_000)
    page.goto(f"{app_url}/networks?{urlencode(query)}")
    page.wait_for_selector(f"{NS}[data-drawn]")
    page.wait_for_selector(IDLE)
    page.locator(NS).evaluate("root => { window.__ns = root; }")  # (the stage lives in a shadow root)
    # the plane's picture decoded and drawn (it paints once its image has loaded)
    wait_stage(page, "s => s.planeImg && s.planeImg.complete")
    page.wait_for_timeout(200)


def pixels(page, selector: str) -> np.ndarray:
    loc = page.locator(selector)
    loc.scroll_into_view_if_needed()
    return np.asarray(Image.open(io.BytesIO(loc.screenshot())).convert("RGB")).astype(int)


def step(page) -> int:
    return int(page.locator(NS).get_attribute("data-step"))


def markers(page) -> list[tuple[float, float]]:
    return [tuple(m) for m in stage(page, "s => s.markers.map(m => [m.x, m.y])")]


def test_first_view_paints_the_plane_and_the_shading_at_step_0(page, app_url):
    errors: list[str] = []
    open_stage(page, app_url, errors=errors)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    assert step(page) == 0
    plane = pixels(page, f"{NS} .ns-plane canvas.ns-canvas >> nth=0")
    inner = plane[10:-40, 60:-80].reshape(-1, 3)
    assert (inner.min(axis=1) < 230).mean() > 0.8  # the landscape's colours fill the plane
    assert len(np.unique(inner @ np.array([1 << 16, 1 << 8, 1]))) > 50
    out = pixels(page, f"{NS} .ns-out canvas.ns-canvas")
    area = out[10:-30, 40:-10].reshape(-1, 3)
    assert (area.sum(axis=1) < 3 * 250).mean() > 0.95  # shaded all over (no white left)
    orange, blue = np.array([0xF5, 0x93, 0x22]), np.array([0x08, 0x77, 0xBD])
    assert (np.abs(area - orange).sum(1) < 40).sum() > 100 and (np.abs(area - blue).sum(1) < 40).sum() > 100
    starts = markers(page)
    assert max(abs(a[0] - b[0]) + abs(a[1] - b[1]) for a in starts for b in starts) < 1e-9  # one start
    # the curves at step 0 are not empty boxes: a dot where the runs start (all at one point: the shown
    # run's dot on top)
    shown = hex_rgb(stage(page, "s => s.d.runs[s.run].color"))
    for name in ("ns-curve >> nth=0", "ns-curve >> nth=1"):
        curve = pixels(page, f"{NS} canvas.{name}").reshape(-1, 3)
        assert (np.abs(curve - shown).sum(1) < 30).sum() >= 12, name
    assert not errors, errors


def hex_rgb(c: str) -> np.ndarray:
    return np.array([int(c[k:k + 2], 16) for k in (1, 3, 5)])


def test_the_plane_has_a_colour_bar_in_j_and_the_distance_chart_is_readable(page, app_url):
    open_stage(page, app_url)
    plane = pixels(page, f"{NS} .ns-plane canvas.ns-canvas >> nth=0")
    bar = stage(page, "s => ({bar: s.planeBar, p: s.d.plane})")
    (left, t, w, h), p = bar["bar"]["box"], bar["p"]
    x = int(left + w / 2)
    assert np.abs(plane[int(t + h) - 3, x] - hex_rgb(p["bands"][0])).sum() < 12  # the lowest J at the bottom
    assert np.abs(plane[int(t) + 3, x] - hex_rgb(p["bands"][-1])).sum() < 12
    labels = [float(v) for v, _ in bar["bar"]["ticks"]]
    assert len(labels) >= 2 and labels == sorted(labels)
    assert all(10 ** p["lo"] * 0.99 <= v <= 10 ** p["hi"] * 1.01 for v in labels)  # J itself, not log10 J
    assert (plane[int(t):int(t + h), :8].min(axis=2) < 160).any()  # the b axis's title, at the left edge
    # a gap between each tick mark (3 px from the bar's edge) and its number: no "-0.9"
    edge = int(left + w)
    for _, ty in bar["bar"]["ticks"]:
        assert (plane[int(ty) - 1:int(ty) + 2, edge:edge + 3].min(axis=(0, 2)) < 215).all()  # the mark
        assert (plane[int(ty) - 1:int(ty) + 2, edge + 3:edge + 6].min(axis=2) > 225).all()  # white, then text
    # the distance from the plane in its units: weight space, against the plane's axis unit
    units = p["units"]
    assert units.startswith("weight space")
    head = page.locator(f"{NS} .ns-readout th >> nth=3").inner_text()
    assert "distance from the plane" in head and units in head.replace("\n", " ")
    assert units in " ".join(stage(page, "s => [s.d.plane.units]"))
    bottom = stage(page, "s => s.projAxes[1][3]")
    assert bottom >= 60  # the distance from the plane: a chart, not a strip


def test_play_moves_the_markers_the_shading_and_the_unit_maps_and_the_keys_step(page, app_url):
    errors: list[str] = []
    open_stage(page, app_url, errors=errors)
    before = markers(page)
    out0 = pixels(page, f"{NS} .ns-out canvas.ns-canvas")
    net0 = pixels(page, f"{NS} .ns-net canvas")
    page.locator(f"{NS} .ns-play").click()
    wait_stage(page, "s => !s.playing && Number(s.root.dataset.step) === 60")  # played to the end
    assert step(page) == 60
    after = markers(page)
    assert max(np.hypot(a[0] - b[0], a[1] - b[1]) for a, b in zip(before, after, strict=True)) > 10
    out1 = pixels(page, f"{NS} .ns-out canvas.ns-canvas")
    assert np.abs(out1 - out0).sum(-1).mean() > 20  # the shading changed: the network learned
    net1 = pixels(page, f"{NS} .ns-net canvas")
    maps = stage(page, "s => s.unitMaps.filter(m => m.layer === 1)")
    assert len(maps) == 8
    changed = [np.abs(net1[int(m["y"]):int(m["y"] + m["size"]), int(m["x"]):int(m["x"] + m["size"])]
                      - net0[int(m["y"]):int(m["y"] + m["size"]), int(m["x"]):int(m["x"] + m["size"])]).mean()
               for m in maps]
    assert sum(c > 2 for c in changed) >= 4, changed  # the hidden units' maps moved with the weights

    page.locator(NS).focus()
    page.keyboard.press("Home")
    assert step(page) == 0
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert step(page) == 3
    page.keyboard.press("ArrowLeft")
    assert step(page) == 2
    page.keyboard.press("End")
    assert step(page) == 60
    page.keyboard.press("Space")
    wait_stage(page, "s => Number(s.root.dataset.step) < 60")  # from 0 again
    page.keyboard.press("Space")
    assert not errors, errors


@pytest.mark.parametrize("hostile", [
    "'a string'",
    "{points: Array.from({length: 1000000}, () => [0, 0, 1]), over: true}",
    "{points: [[NaN, 0, 1]], over: true}",
    "{points: [[0, 0, 'blue']], over: true}",
    "{points: [[1e300, 0, 1]], over: false}",
])
def test_hostile_point_lists_give_a_message_and_a_working_page(page, app_url, hostile):
    errors: list[str] = []
    open_stage(page, app_url, errors=errors)
    stage(page, f"s => s.api.setTriggerValue('points', {hostile})")
    msg = page.locator(f"{NS} .ns-msg")
    expect(msg).to_contain_text("Your points were not used", timeout=60_000)
    page.wait_for_selector(IDLE)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    page.locator(NS).focus()
    page.keyboard.press("End")
    assert step(page) == 60
    assert not errors, errors


def test_the_3d_view_is_the_planes_surface_with_the_paths_as_far_as_the_step(page, app_url):
    errors: list[str] = []
    open_stage(page, app_url, {**QUERY, "show3d": "1"}, errors=errors)
    # the surface, and each of the 2 runs' path and marker
    wait_stage(page, "s => s.view3d.data && s.view3d.data.length === 5")
    assert stage(page, "s => s.view3d.data.slice(1).map(t => t.x.length)") == [1, 1, 1, 1]  # step 0
    page.locator(NS).focus()
    page.keyboard.press("End")
    wait_stage(page, "s => s.view3d.data[1].x.length === 61")
    z = stage(page, "s => [s.view3d.data[1].z[60], Math.log10(s.d.Jp(60, 0))]")
    assert z[0] == pytest.approx(z[1])  # the path lies on the surface: the plane's loss under the marker
    assert not errors, errors


def test_drawing_points_changes_the_data_the_runs_and_the_link(page, app_url):
    errors: list[str] = []
    open_stage(page, app_url, errors=errors)
    before = stage(page, "s => ({n: s.d.train.y.length + s.d.test.y.length, J: s.d.J(1, 0), v: s.version})")
    page.locator(f"{NS} .ns-tools button", has_text="+ blue").click()
    canvas = page.locator(f"{NS} .ns-out canvas.ns-canvas")
    canvas.scroll_into_view_if_needed()
    axes = stage(page, "s => ({L: s.outAxes.L, T: s.outAxes.T, w: s.outAxes.w, h: s.outAxes.h})")
    clicks = [(0.2, 0.2), (0.3, 0.8), (0.5, 0.5), (0.7, 0.25), (0.85, 0.9)]
    for fx, fy in clicks:
        canvas.click(position={"x": axes["L"] + fx * axes["w"], "y": axes["T"] + fy * axes["h"]})
    assert stage(page, "s => s.drawn.length") == 5  # drawn at once, before the server answers
    wait_stage(page, f"s => s.version !== {before['v']!r} && s.drawn.length === 5")
    page.wait_for_selector(IDLE)
    after = stage(page, "s => ({n: s.d.train.y.length + s.d.test.y.length, J: s.d.J(1, 0), "
                        "drawn: s.d.drawn, box: s.d.bounds})")
    assert after["n"] == before["n"] + 5  # the data holds the points
    assert after["J"] != before["J"]  # the runs trained again on them
    query = parse_qs(urlparse(page.url).query)
    points = datasets.decode_points(query["points"][0])  # the link holds them
    assert points.n == 5 and set(points.y) == {1.0}
    np.testing.assert_allclose(points.x, np.array(after["drawn"])[:, :2])
    assert not errors, errors


def test_a_link_with_500_drawn_points_round_trips(page, app_url):
    rng = np.random.default_rng(7)
    x = rng.uniform(-3, 3, (500, 2))
    text = datasets.encode_points(datasets.drawn(x, (x[:, 0] * x[:, 1] > 0).astype(float)))
    open_stage(page, app_url, {**QUERY, "data": "none", "points": text})
    assert not page.locator("[data-testid='stAlert']").count()  # a clean link: no message
    got = stage(page, "s => ({n: s.d.train.y.length + s.d.test.y.length, drawn: s.d.drawn.length, "
                      "over: s.d.over})")
    assert got == {"n": 500, "drawn": 500, "over": False}
    assert parse_qs(urlparse(page.url).query)["points"] == [text]


def boxes(page) -> list[dict]:
    return page.locator(NS).evaluate("""root => [...root.querySelectorAll(
        '.ns-grid > .ns-box, .ns-head, .ns-bar')]
      .map(e => { const b = e.getBoundingClientRect();
                  return {cls: e.className, x: b.x, y: b.y, r: b.right, b: b.bottom}; })""")


def test_a_phone_gets_one_column_without_overlap(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        open_stage(page, app_url)
        assert page.locator(f"{NS}.narrow").count() == 1  # the component chose one column itself
        found = boxes(page)
        assert len(found) == 6
        for e in found:
            assert e["x"] >= -1 and e["r"] <= 391, e  # nothing clipped at the sides
        for i, a in enumerate(found):
            for b in found[i + 1:]:
                overlap = min(a["r"], b["r"]) - max(a["x"], b["x"]), min(a["b"], b["b"]) - max(a["y"], b["y"])
                assert min(overlap) <= 0.5, (a, b)
        rights = page.locator(NS).evaluate(
            "root => [...root.querySelectorAll('canvas')].map(c => c.getBoundingClientRect().right)")
        assert max(rights) <= 391
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # no sideways scroll
        assert page.locator(NS).evaluate("root => root.netStage.fs") == 13  # the phone's text size, as before
        assert_titles_fit(page)
    finally:
        context.close()


def assert_titles_fit(page) -> None:
    """Every chart title the stage draws ends within its canvas (wrapped, not cut): three charts."""
    titles = page.locator(NS).evaluate(
        "root => [...root.querySelectorAll('canvas')].filter(c => c.titleRight)"
        ".map(c => [c.titleRight, c.getBoundingClientRect().width])")
    assert len(titles) == 3 and all(right <= width for right, width in titles), titles


def test_space_right_after_the_page_loads_plays(page, app_url):
    """The stage takes the keys on its first mount (the Playground's stage does too): Space plays."""
    open_stage(page, app_url)
    assert page.evaluate("document.activeElement && document.activeElement !== document.body")
    page.keyboard.press("Space")
    wait_stage(page, "s => Number(s.root.dataset.step) > 0")
    page.keyboard.press("Space")


def test_a_click_that_changes_nothing_neither_trains_nor_sends(page, app_url):
    open_stage(page, app_url)
    stage(page, "s => { s.sent = []; const f = s.api.setTriggerValue; "
                "s.api.setTriggerValue = (...a) => { s.sent.push(a); f(...a); }; }")
    msg = page.locator(f"{NS} .ns-msg")
    page.locator(f"{NS} .ns-tools button", has_text="Clear my points").click()  # there are none
    assert "training" not in msg.inner_text()
    page.locator(f"{NS} .ns-tools button", has_text="+ blue").click()
    canvas = page.locator(f"{NS} .ns-out canvas.ns-canvas")
    canvas.scroll_into_view_if_needed()
    axes = stage(page, "s => ({L: s.outAxes.L, T: s.outAxes.T, w: s.outAxes.w, h: s.outAxes.h})")
    at = {"x": axes["L"] + 0.3 * axes["w"], "y": axes["T"] + 0.4 * axes["h"]}
    canvas.click(position=at)
    assert "training on them" in msg.inner_text()  # a point added: it would train
    page.locator(f"{NS} .ns-tools button", has_text="Erase").click()
    canvas.click(position=at)  # and erased again before it was sent
    assert stage(page, "s => s.drawn.length") == 0 and "training" not in msg.inner_text()
    canvas.click(position={"x": at["x"] + 80, "y": at["y"]})  # erasing where no point is
    assert "training" not in msg.inner_text()
    page.wait_for_timeout(1500)  # beyond SEND_AFTER_MS
    assert stage(page, "s => s.sent") == []


def test_the_inputs_names_fit_and_a_too_large_network_hides_its_canvas(page, app_url):
    open_stage(page, app_url, {**QUERY, "features": "x,y,x2,y2,xy,sinx,siny", "hidden": "16,16,16"})
    names = stage(page, "s => s.inputLabels")
    assert [n["text"] for n in names] == ["x₁", "x₂", "x₁²", "x₂²", "x₁x₂", "sin x₁", "sin x₂"]
    assert all(n["left"] >= 0 for n in names), names  # "sin x₁", not "n x₁"
    net = pixels(page, f"{NS} .ns-net canvas")
    assert (net[:, :3].min(axis=2) > 225).all()  # nothing cut at the left edge
    open_stage(page, app_url, {**QUERY, "hidden": "24"})
    expect(page.locator(f"{NS} .ns-net .ns-title")).to_contain_text("units a layer")
    assert page.locator(f"{NS} .ns-net canvas").evaluate("c => c.getBoundingClientRect().height") == 0


def test_your_points_and_test_points_look_different_and_a_legend_says_which(page, app_url):
    """TensorFlow Playground's marks: training points white-edged, test points dark-edged; your own
    points are diamonds; the legend under the output names the marks shown."""
    text = datasets.encode_points(datasets.drawn(np.array([[0.0, 0.0], [1.0, -1.0]]), np.array([1.0, 0.0])))
    open_stage(page, app_url, {**QUERY, "points": text})
    legend = page.locator(f"{NS} .ns-legend")
    expect(legend).to_contain_text("your own points")
    expect(legend).not_to_contain_text("test points")
    page.locator(f"{NS} .ns-tools label", has_text="test points").click()
    expect(legend).to_contain_text("test points (dark edge)")
    out = pixels(page, f"{NS} .ns-out canvas.ns-canvas")
    marks = stage(page, "s => ({drawn: s.drawn.map(([x, y]) => [s.outAxes.X(x), s.outAxes.Y(y)]), "
                        "test: Array.from({length: s.d.test.y.length}, (_, k) => "
                        "[s.outAxes.X(s.d.test.x[2 * k]), s.outAxes.Y(s.d.test.x[2 * k + 1])])})")
    dark = (out.max(axis=2) < 90)
    for x, y in marks["drawn"]:  # a diamond: its dark edge reaches its four tips, 7 px out
        x, y = round(x), round(y)
        tips = [dark[y - 9:y - 6, x - 1:x + 2].any(), dark[y + 7:y + 10, x - 1:x + 2].any(),
                dark[y - 1:y + 2, x - 9:x - 6].any(), dark[y - 1:y + 2, x + 7:x + 10].any()]
        assert all(tips), (x, y, tips)
    ringed = sum(dark[round(y) - 6:round(y) + 7, round(x) - 6:round(x) + 7].any() for x, y in marks["test"])
    assert ringed >= 0.9 * len(marks["test"])  # test points: dark-edged
    page.locator(f"{NS} .ns-tools label", has_text="test points").click()
    page.locator(f"{NS} .ns-tools button", has_text="Clear my points").click()
    expect(legend).to_be_hidden()


EIGHT = "QBaaSBZSQ1V-UBaaQBU2wAtouAuwvMyE"  # 8 drawn points of both classes


def data_version(page) -> str:
    """The version of the data the stage drew last (``.ns[data-drawn]`` is "version:step:run")."""
    return page.locator(NS).get_attribute("data-drawn").split(":")[0]


def test_a_blank_plane_says_none_and_the_sidebar_and_the_stages_box_agree(page, app_url):
    errors: list[str] = []
    open_stage(page, app_url, {**QUERY, "data": "none", "points": EIGHT}, errors=errors)
    box = page.get_by_role("combobox", name="Data set")
    expect(box).to_have_value("None: your points only")
    assert stage(page, "s => [s.d.over, s.overBox.checked, s.drawn.length]") == [False, False, 8]
    before = data_version(page)
    box.click()
    page.get_by_role("option", name="Circles", exact=True).click()
    page.wait_for_function(f"() => window.__ns.dataset.drawn.split(':')[0] !== {before!r}")
    page.wait_for_selector(IDLE)
    assert data_version(page) != before  # the stage repainted on the data set
    query = parse_qs(urlparse(page.url).query)
    assert query["data"] == ["circles"] and query["points"] == [EIGHT]
    got = stage(page, "s => [s.d.over, s.overBox.checked, s.drawn.length, "
                      "s.d.train.y.length + s.d.test.y.length]")
    assert got == [True, True, 8, 100 + 25 + 8]  # circles with your points over them
    expect(box).to_have_value("Circles")

    page.locator(f"{NS} .ns-check input").first.uncheck()  # the stage's "over the data set" box
    page.wait_for_function("() => new URLSearchParams(location.search).get('data') === 'none'")
    page.wait_for_selector(IDLE)
    expect(box).to_have_value("None: your points only")
    assert parse_qs(urlparse(page.url).query)["points"] == [EIGHT]
    wait_stage(page, "s => !s.d.over && s.d.train.y.length + s.d.test.y.length === 8")
    assert not errors, errors
