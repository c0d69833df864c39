"""The Networks page in Chromium: it loads from a link, the landscape is drawn (pixels), and the
step slider moves the runs' markers over it."""

from __future__ import annotations

import io
import time
from urllib.parse import urlencode

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from descent_lab import networks as dn

pytestmark = pytest.mark.browser

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
FIG = ".st-key-net-figure .js-plotly-plot"
GD = f"document.querySelector('{FIG}')"
QUERY = {"data": "moons", "n": "100", "hidden": "8", "steps": "60", "optimizers": "gd,adam",
         "gd.lr": "1", "adam.lr": "0.05"}
#: the current point of each run on the plane: (page x, page y) of its marker, and its data (a, b)
POINTS = f"""() => {{
  const g = {GD}, fl = g._fullLayout, b = g.getBoundingClientRect();
  return g._fullData.filter(d => (d.hovertemplate || '').includes('step %{{text}}')).map(d => ({{
    a: d.x[0], b: d.y[0], text: d.text[0],
    px: b.x + fl.xaxis._offset + fl.xaxis.l2p(d.x[0]), py: b.y + fl.yaxis._offset + fl.yaxis.l2p(d.y[0])}}));
}}"""


def landscape_box(page) -> dict:
    return page.evaluate(f"""() => {{ const g = {GD}, fl = g._fullLayout, b = g.getBoundingClientRect();
      return {{x: b.x + fl.xaxis._offset, y: b.y + fl.yaxis._offset, width: fl.xaxis._length,
               height: fl.yaxis._length}}; }}""")


def top(page) -> None:
    """Scroll the figure's top to the window's top (the landscape then fits in 1366 x 768)."""
    page.evaluate(f"() => {GD}.scrollIntoView({{block: 'start'}})")
    page.wait_for_timeout(200)


def shot(page, box: dict) -> np.ndarray:
    png = page.screenshot(clip=box)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def near(img: np.ndarray, hex_colour: str, at: tuple[float, float], radius: float = 9) -> int:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
    inside = np.hypot(xx - at[0], yy - at[1]) <= radius
    return int((inside & (np.abs(img - rgb).sum(-1) < 60)).sum())


def test_networks_page_draws_the_landscape_and_the_slider_moves_the_runs(page, app_url):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(90_000)
    t = time.monotonic()
    page.goto(f"{app_url}/networks?{urlencode(QUERY)}")
    drawn = f"() => {{ const g = {GD}; return g && g._fullLayout && g.querySelector('image'); }}"
    page.wait_for_function(drawn, timeout=120_000)
    print(f"link -> landscape drawn: {time.monotonic() - t:.2f} s")
    page.wait_for_selector(IDLE)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    assert not page.locator("[data-testid='stAlert']").count()  # a clean link: no message

    top(page)
    box = landscape_box(page)
    assert box["width"] > 200 and box["height"] > 200, box
    img = shot(page, box)
    px = img.reshape(-1, 3)
    coloured = float((px.min(axis=1) < 225).mean())
    assert coloured > 0.7, f"only {coloured:.0%} of the landscape is coloured"
    assert len(np.unique(px @ np.array([1 << 16, 1 << 8, 1]))) > 100

    colors = dn.colors(dn.from_query(QUERY)[0])
    first = page.evaluate(POINTS)
    assert [p["text"] for p in first] == ["0", "0"]  # the figure opens on step 0
    assert first[0]["a"] == pytest.approx(first[1]["a"])  # every run starts at the same weights
    start = (first[0]["px"] - box["x"], first[0]["py"] - box["y"])
    assert near(img, colors[1], start) > 40  # the last run's marker is on the start
    trails = page.evaluate(f"""() => {GD}._fullData.filter(d => d.mode === 'lines' && d.showlegend)
      .map(d => d.x.filter(v => v !== null).length)""")
    assert trails == [1, 1]  # no path drawn beyond the start before Play

    page.locator(f"{FIG} .slider-rail-rect").scroll_into_view_if_needed()
    rail = page.evaluate(f"""() => {{
      const r = {GD}.querySelector('.slider-rail-rect').getBoundingClientRect();
      return {{x: r.x, y: r.y + r.height / 2, width: r.width}}; }}""")
    page.mouse.click(rail["x"] + rail["width"] - 2, rail["y"])  # the slider's last stop: step 60
    page.wait_for_function(f"() => ({POINTS})()[0].text === '60'")
    top(page)
    page.wait_for_timeout(300)
    box = landscape_box(page)
    last = page.evaluate(POINTS)
    assert all(p["text"] == "60" for p in last)
    assert page.evaluate(f"""() => {GD}._fullData.filter(d => d.mode === 'lines' && d.showlegend)
      .map(d => d.x.length)""") == [61, 61]  # the whole paths, now that the runs got there
    starts = page.evaluate(f"""(pts) => {{ const g = {GD}, fl = g._fullLayout;
      return pts.map(p => [fl.xaxis.l2p(p.a), fl.yaxis.l2p(p.b)]); }}""", first)  # in the axes' pixels
    moved = [np.hypot(f["px"] - box["x"] - s[0], f["py"] - box["y"] - s[1])
             for f, s in zip(last, starts, strict=True)]
    assert min(moved) > 20, moved
    img = shot(page, box)
    ends = [(p["px"] - box["x"], p["py"] - box["y"]) for p in last]
    assert all(near(img, c, e) > 40 for c, e in zip(colors, ends, strict=True))  # the markers, drawn
    assert not errors, errors
