"""Browser benchmark of the Playground: load time, slider-to-chart latency, figure payload.

Starts the app itself (the same server helper the browser tests use, in tests/conftest.py),
drives Debian's Chromium at 1366x768 and prints a table against the targets:

    .venv/bin/python scripts/bench_browser.py [--n 20]

(a) first load: navigation to the map's graph drawn with its landscape image, in a fresh browser
    context right after the server is up (cold Streamlit caches), then a second fresh context;
(b) slider-to-chart: key press on run 1's learning-rate slider to the first animation frame in
    which the map's gd.data holds the new run (timed in the page with performance.now());
(c) the same round trip on a trivial Streamlit page (one slider, one st.write), for reference;
(d) the map's JSON for the default setup, as Streamlit serialises it, and the websocket bytes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import plotly.io
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import VIEWPORT, launch_chromium, streamlit_server  # noqa: E402

GD = "document.querySelector('.st-key-map .js-plotly-plot')"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"

#: before any page script: log every websocket message (time, bytes) and when the map is first
#: drawn with its landscape image
INIT = f"""(() => {{
  window.__ws = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {{
    constructor(...args) {{
      super(...args);
      this.addEventListener('message', (e) => {{
        const d = e.data;
        window.__ws.push([performance.now(), d.byteLength ?? d.size ?? d.length ?? 0]);
      }});
    }}
  }};
  const tick = () => {{
    const g = {GD};
    if (g && g._fullLayout && g.querySelector('.imagelayer image')) window.__mapDrawn = performance.now();
    else requestAnimationFrame(tick);
  }};
  requestAnimationFrame(tick);
}})()"""

#: arm one measurement: t0 at the next keydown, t1 at the first frame where probe() differs from now
ARM = """(probe) => {
  const f = new Function('return (' + probe + ')();');
  const before = f();
  window.__t0 = null; window.__t1 = null;
  document.addEventListener('keydown', () => { window.__t0 = performance.now(); },
                            {capture: true, once: true});
  const tick = () => {
    let now = null;
    try { now = f(); } catch (e) { now = null; }
    if (window.__t0 !== null && now !== null && now !== before) window.__t1 = performance.now();
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""
MAP_PROBE = f"""() => {{ const g = {GD};
  const d = g && g.data && g.data.find(t => (t.name || '').startsWith('1. '));
  return d ? d.name + JSON.stringify(d.x) : null; }}"""
TRIVIAL_PROBE = """() => {
  const p = Array.from(document.querySelectorAll('[data-testid=stMarkdownContainer] p'))
    .find(e => e.textContent.startsWith('value '));
  return p ? p.textContent : null; }"""

TRIVIAL_APP = textwrap.dedent("""\
    import streamlit as st

    v = st.slider("A number", 0, 100, 50, key="s")
    st.write(f"value {v}")
""")


def new_page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.add_init_script(INIT)
    return context, page


def load_time(browser, url: str) -> dict:
    """A fresh context's load: seconds from navigation start to the map drawn (and to the biggest
    websocket message, which carries the map), websocket bytes received."""
    context, page = new_page(browser)
    page.goto(url)
    page.wait_for_function("() => window.__mapDrawn")
    page.wait_for_selector(IDLE)
    page.wait_for_timeout(300)
    drawn, ws = page.evaluate("() => [window.__mapDrawn, window.__ws]")
    context.close()
    t_big = max(ws, key=lambda m: m[1])[0] if ws else float("nan")
    return {"drawn": drawn / 1000, "map_msg": t_big / 1000, "bytes": sum(m[1] for m in ws)}


def round_trips(page, slider: str, probe: str, n: int) -> list[dict]:
    """``n`` presses on ``slider``'s thumb, alternating ArrowLeft / ArrowRight (so run 1 of the
    Playground stays at lr 0.001 / 0.0005, away from divergence). Per press, ms from the keydown to:
    the probe's change on screen, the first server message, the biggest server message; the bytes,
    and whether the map's graph div was replaced (a remount: a full Plotly.newPlot) rather than updated."""
    thumb = page.locator(slider).get_by_role("slider")
    out = []
    for i in range(n):
        page.wait_for_selector(IDLE)
        page.wait_for_timeout(150)
        thumb.focus()
        page.evaluate(ARM, probe)
        page.evaluate(f"() => {{ window.__ws = []; const g = {GD}; if (g) g.__benchMark = true; }}")
        thumb.press("ArrowLeft" if i % 2 == 0 else "ArrowRight")
        page.wait_for_function("() => window.__t1 !== null")
        page.wait_for_selector(IDLE)
        page.wait_for_timeout(100)
        t0, t1, ws, same = page.evaluate(
            f"() => [window.__t0, window.__t1, window.__ws, !!({GD} || {{}}).__benchMark]")
        ws = [m for m in ws if m[0] <= t1]  # the messages that led to the change
        big = max(ws, key=lambda m: m[1]) if ws else (float("nan"), 0)
        out.append({"chart": t1 - t0, "first_msg": (ws[0][0] - t0) if ws else float("nan"),
                    "big_msg": big[0] - t0, "bytes": sum(m[1] for m in ws),
                    "remounted": not same})
    return out


def open_playground(browser, url: str):
    context, page = new_page(browser)
    page.goto(url)
    page.wait_for_function("() => window.__mapDrawn")
    return context, page


def map_payload() -> int:
    """Bytes of the map's JSON for the default setup, built with the page's viz calls."""
    import optimizers
    import viz
    from descent_lab.setup import Setup

    setup = Setup()
    surface = setup.make_surface()
    views = []
    for slot, r in enumerate(setup.runs):
        tr = optimizers.run(r.optimizer(), surface, start=setup.start_point(), steps=setup.steps,
                            noise=setup.noise, seed=setup.seed, batch_size=setup.batch or None)
        color = viz.PALETTE[slot % len(viz.PALETTE)]
        views.append(viz.RunView(f"{slot + 1}. {tr.optimizer.describe(short=True)}", color, tr))
    fig = viz.trajectory_figure(surface, views, viz.landscape_png(surface), multiples=setup.multiples,
                                show_3d=setup.show3d, arrows=setup.arrows)
    return len(plotly.io.to_json(viz.fast_figure(fig).to_dict(), validate=False))


def stats(ms: list[float]) -> tuple[float, float]:
    return statistics.median(ms), float(np.percentile(ms, 95))


def col(rows: list[dict], k: str) -> list[float]:
    return [r[k] for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="slider changes per page (default 20)")
    args = ap.parse_args()

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        with streamlit_server() as url:
            first = load_time(browser, url)
            second = load_time(browser, url)
            print(f"loads: {first}, {second}", flush=True)
            context, page = open_playground(browser, url)
            app = round_trips(page, ".st-key-r0-lr", MAP_PROBE, args.n)
            context.close()
            print(f"playground slider -> chart (ms): {[round(v) for v in col(app, 'chart')]}", flush=True)
            context, page = open_playground(browser, url + "/?show3d=0")
            flat = round_trips(page, ".st-key-r0-lr", MAP_PROBE, args.n)
            context.close()
            print(f"same, 3-D view off (ms): {[round(v) for v in col(flat, 'chart')]}", flush=True)

        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "trivial.py").write_text(TRIVIAL_APP)
            with streamlit_server("trivial.py", cwd=tmp) as url:
                context, page = new_page(browser)
                page.goto(url)
                page.wait_for_function(TRIVIAL_PROBE)
                ref = round_trips(page, ".st-key-s", TRIVIAL_PROBE, args.n)
                context.close()
        print(f"trivial slider -> text (ms): {[round(v) for v in col(ref, 'chart')]}", flush=True)
        browser.close()

    payload = map_payload()
    med, p95 = stats(col(app, "chart"))
    fmed, fp95 = stats(col(flat, "chart"))
    rmed, rp95 = stats(col(ref, "chart"))
    server = statistics.median(col(app, "big_msg"))
    rows = [
        ("first load (fresh context, cold session)", f"{first['drawn']:.2f} s", "< 3 s", first["drawn"] < 3),
        ("  of which: navigation -> map message", f"{first['map_msg']:.2f} s", "", None),
        ("second load (fresh context)", f"{second['drawn']:.2f} s", "< 3 s", second["drawn"] < 3),
        ("  of which: navigation -> map message", f"{second['map_msg']:.2f} s", "", None),
        (f"slider -> chart median (n={len(app)})", f"{med:.0f} ms", "< 250 ms", med < 250),
        ("slider -> chart p95", f"{p95:.0f} ms", "", None),
        ("  key -> first server message (median)", f"{statistics.median(col(app, 'first_msg')):.0f} ms", "",
         None),
        ("  key -> largest server message (median)", f"{server:.0f} ms", "", None),
        ("  that message -> chart drawn (median)", f"{med - server:.0f} ms", "", None),
        ("  chart remounted (new graph div)", f"{sum(col(app, 'remounted'))}/{len(app)}", "", None),
        ("slider -> chart, 3-D view off: median", f"{fmed:.0f} ms", "(diagnostic)", None),
        ("slider -> chart, 3-D view off: p95", f"{fp95:.0f} ms", "(diagnostic)", None),
        ("trivial page slider -> text median", f"{rmed:.0f} ms", "(reference)", None),
        ("trivial page slider -> text p95", f"{rp95:.0f} ms", "(reference)", None),
        ("playground / trivial (median)", f"{med / rmed:.1f}x", "", None),
        ("map figure JSON (default setup)", f"{payload / 1e6:.3f} MB", "< 1 MB", payload < 1e6),
        ("websocket bytes, first load", f"{first['bytes'] / 1e6:.3f} MB", "", None),
        ("websocket bytes per slider change (median)", f"{statistics.median(col(app, 'bytes')) / 1e6:.3f} MB",
         "", None),
    ]
    w = max(len(r[0]) for r in rows)
    print()
    print(f"{'metric':<{w}}  {'measured':>10}  {'target':<12} ok")
    print("-" * (w + 30))
    for name, value, target, ok in rows:
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name:<{w}}  {value:>10}  {target:<12} {mark}")


if __name__ == "__main__":
    main()
