"""Browser benchmark of the Playground: load time, change-to-painted latency, payload.

Starts the app itself (the same server helper the browser tests use, in tests/conftest.py),
drives Debian's Chromium at 1366x768 and prints a table against the targets:

    .venv/bin/python scripts/bench_browser.py [--n 20]

(a) first load: navigation to the stage drawn (the landscape picture and the runs, with the
    playback), and to Plotly's axes and colour bar drawn over it (plotly.js loaded), in a fresh
    browser context right after the server is up (cold Streamlit caches), then a second fresh
    context (the browser's cache is per context, so plotly.js is fetched again);
(b) lr drag: key press on run 1's learning-rate slider (on the stage) to the stage painted with
    the new path (timed in the page with performance.now(); the path switches in the browser);
(c) a server change: key press on the sidebar's Steps slider to the stage painted with the
    recomputed runs (a script rerun: three lr families computed and sent);
(d) the same round trip on a trivial Streamlit page (one slider, one st.write), for reference,
    taken in turns with (c) (a Steps change, then a trivial one, ...: on a shared machine both see
    the same load), and the trivial page's first load;
(e) the 3-D view: click on the stage's 3-D button to the 3-D view drawn (a rerun that adds the
    surface grid, then a WebGL plot; software WebGL here), and back off;
(f) the stage's data for the default setup, the websocket bytes and plotly.js's transfer size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import VIEWPORT, launch_chromium, streamlit_server  # noqa: E402

STAGE = "document.querySelector('.stage')"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"

#: before any page script: log every websocket message (time, bytes) and when the stage is first
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
    const s = {STAGE};
    if (s && s.dataset.drawn && !window.__mapDrawn) window.__mapDrawn = performance.now();  // landscape, runs
    if (s && s.dataset.axes) window.__axesDrawn = performance.now();  // and Plotly's axes
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
#: what the stage has painted: data version, step and learning-rate indices (set once Plotly drew them)
STAGE_PROBE = f"""() => {{ const s = {STAGE}; return s ? s.dataset.drawn || null : null; }}"""
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
    """A fresh context's load: seconds from navigation start to the stage drawn (and to the biggest
    websocket message, which carries the stage's data), websocket bytes received, plotly.js bytes
    over the wire (compressed) and its download time."""
    context, page = new_page(browser)
    page.goto(url)
    page.wait_for_function("() => window.__axesDrawn")
    page.wait_for_selector(IDLE)
    page.wait_for_timeout(300)
    drawn, axes, ws, js = page.evaluate("""() => [window.__mapDrawn, window.__axesDrawn, window.__ws,
      performance.getEntriesByType('resource').filter(e => e.name.includes('plotly.min.js'))
        .map(e => [e.transferSize, e.encodedBodySize, e.decodedBodySize, e.responseEnd - e.startTime])]""")
    context.close()
    t_big = max(ws, key=lambda m: m[1])[0] if ws else float("nan")
    js = js[0] if js else [0, 0, 0, float("nan")]
    return {"drawn": drawn / 1000, "axes": axes / 1000, "map_msg": t_big / 1000,
            "bytes": sum(m[1] for m in ws),
            "js_wire": js[1], "js_bytes": js[2], "js_ms": js[3]}


def press(page, slider: str, probe: str, i: int) -> dict:
    """Press i on ``slider`` (a CSS selector of the slider's focusable thumb): ArrowLeft for even i,
    ArrowRight for odd (run 1 of the Playground stays at lr 0.001 / 0.0005, away from divergence;
    Steps at 500 / 499). ms from the keydown to: the probe's change on screen, the first server
    message, the biggest server message; the bytes, and whether the stage's element was replaced
    (a remount) rather than updated."""
    thumb = page.locator(slider).first
    page.bring_to_front()  # taken in turns with another page: this one in front, its frames not throttled
    page.wait_for_selector(IDLE)
    page.wait_for_timeout(150)
    thumb.focus()
    page.evaluate(ARM, probe)
    page.evaluate(f"() => {{ window.__ws = []; const g = {STAGE}; if (g) g.__benchMark = true; }}")
    thumb.press("ArrowLeft" if i % 2 == 0 else "ArrowRight")
    page.wait_for_function("() => window.__t1 !== null")
    page.wait_for_selector(IDLE)
    page.wait_for_timeout(100)
    t0, t1, ws, same = page.evaluate(
        f"() => [window.__t0, window.__t1, window.__ws, !!({STAGE} || {{}}).__benchMark]")
    ws = [m for m in ws if m[0] <= t1]  # the messages that led to the change
    big = max(ws, key=lambda m: m[1]) if ws else (float("nan"), 0)
    return {"chart": t1 - t0, "first_msg": (ws[0][0] - t0) if ws else float("nan"),
            "big_msg": big[0] - t0, "bytes": sum(m[1] for m in ws), "remounted": not same}


def round_trips(page, slider: str, probe: str, n: int) -> list[dict]:
    """``n`` presses on ``slider`` (see press)."""
    return [press(page, slider, probe, i) for i in range(n)]


def interleaved(a: tuple, b: tuple, n: int) -> tuple[list[dict], list[dict]]:
    """``n`` presses on each of two (page, slider, probe), taken in turns: a change and its reference
    see the same machine (on a shared machine the load moves within seconds)."""
    out_a, out_b = [], []
    for i in range(n):
        out_a.append(press(*a, i))
        out_b.append(press(*b, i))
    return out_a, out_b


def trivial_load(browser, url: str) -> float:
    """A fresh context's load of the trivial page: seconds from navigation start to its text shown."""
    context, page = new_page(browser)
    page.goto(url)
    page.wait_for_function(TRIVIAL_PROBE)
    t = page.evaluate("() => performance.now()") / 1000
    context.close()
    return t


def open_playground(browser, url: str):
    context, page = new_page(browser)
    page.goto(url)
    page.wait_for_function("() => window.__axesDrawn")
    return context, page


def toggle_3d(page, n: int) -> list[float]:
    """ms from a click on the 3-D button to the 3-D view drawn, ``n`` times (turned off in between)."""
    button = page.get_by_role("button", name="3-D view")
    out = []
    for _ in range(n):
        page.wait_for_selector(IDLE)
        t0 = page.evaluate("() => performance.now()")
        page.evaluate("""() => { window.__t3d = null; const tick = () => {
          const g = document.querySelector('.stage-3d');
          if (g && g._fullLayout && g._fullLayout.scene && g.querySelector('canvas')
              && document.querySelector('.stage.with3d')) window.__t3d = performance.now();
          else requestAnimationFrame(tick); }; requestAnimationFrame(tick); }""")
        button.click()
        page.wait_for_function("() => window.__t3d !== null")
        out.append(page.evaluate("() => window.__t3d") - t0)
        page.wait_for_selector(IDLE)
        button.click()  # off again
        page.wait_for_function("() => !document.querySelector('.stage.with3d')")
    return out


def stage_payload_bytes() -> int:
    """Bytes of the stage's payload for the default setup, built as the page builds it (lr families
    included)."""
    import viz
    from descent_lab.setup import Setup
    from viz.stage import stage_payload, stage_runs

    setup = Setup()
    surface = setup.make_surface()
    families, views = stage_runs(setup)
    return len(stage_payload(setup, surface, families, views, viz.landscape_png(surface)))


def stats(ms: list[float]) -> tuple[float, float]:
    return statistics.median(ms), float(np.percentile(ms, 95))


def col(rows: list[dict], k: str) -> list[float]:
    return [r[k] for r in rows]


LR_SLIDER = ".stage .lr-input"  # run 1's learning rate, on the stage
STEPS_SLIDER = ".st-key-steps input[type=range]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="changes per measurement (default 20)")
    args = ap.parse_args()

    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = launch_chromium(pw)
        Path(tmp, "trivial.py").write_text(TRIVIAL_APP)
        with streamlit_server() as url, streamlit_server("trivial.py", cwd=tmp) as trivial_url:
            first = load_time(browser, url)
            second = load_time(browser, url)
            print(f"loads: {first}, {second}", flush=True)
            trivial_first = trivial_load(browser, trivial_url)
            context, page = open_playground(browser, url)
            lr = round_trips(page, LR_SLIDER, STAGE_PROBE, args.n)
            print(f"lr key -> painted (ms): {[round(v) for v in col(lr, 'chart')]}", flush=True)
            ref_context, ref_page = new_page(browser)
            ref_page.goto(trivial_url)
            ref_page.wait_for_function(TRIVIAL_PROBE)
            steps, ref = interleaved((page, STEPS_SLIDER, STAGE_PROBE),
                                     (ref_page, ".st-key-s input[type=range]", TRIVIAL_PROBE), args.n)
            ref_context.close()
            print(f"steps key -> painted (ms): {[round(v) for v in col(steps, 'chart')]}", flush=True)
            print(f"trivial slider -> text (ms), in turns with them: {[round(v) for v in col(ref, 'chart')]}",
                  flush=True)
            three = toggle_3d(page, 3)
            print(f"3-D toggle -> drawn (ms): {[round(v) for v in three]}", flush=True)
            context.close()
        browser.close()

    payload = stage_payload_bytes()
    lmed, lp95 = stats(col(lr, "chart"))
    smed, sp95 = stats(col(steps, "chart"))
    rmed, rp95 = stats(col(ref, "chart"))
    before_msg = sum(1 for r in lr if r["first_msg"] == r["first_msg"] and r["first_msg"] < r["chart"])
    rows = [
        ("first load (fresh context, cold session)", f"{first['drawn']:.2f} s", "< 2.5 s",
         first["drawn"] < 2.5),
        ("  of which: navigation -> stage data message", f"{first['map_msg']:.2f} s", "", None),
        ("  then Plotly's axes and colour bar drawn", f"{first['axes']:.2f} s", "", None),
        ("  plotly.js download (ms; MB on the wire / unpacked)", f"{first['js_ms']:.0f} ms",
         f"{first['js_wire'] / 1e6:.2f} / {first['js_bytes'] / 1e6:.2f}", None),
        ("second load (fresh context)", f"{second['drawn']:.2f} s", "< 2.5 s", second["drawn"] < 2.5),
        ("  trivial page's first load (fresh context), for reference", f"{trivial_first:.2f} s", "", None),
        (f"lr key -> painted median (n={len(lr)})", f"{lmed:.0f} ms", "<= 50 ms", lmed <= 50),
        ("lr key -> painted p95", f"{lp95:.0f} ms", "", None),
        ("  painted before any server message", f"{len(lr) - before_msg}/{len(lr)}", "all", before_msg == 0),
        (f"Steps key -> painted median (n={len(steps)})", f"{smed:.0f} ms", "<= 2x trivial",
         smed <= 2 * rmed),
        ("Steps key -> painted p95", f"{sp95:.0f} ms", "", None),
        ("  key -> largest server message (median)", f"{statistics.median(col(steps, 'big_msg')):.0f} ms",
         "", None),
        ("  stage remounted (new element)", f"{sum(col(steps, 'remounted'))}/{len(steps)}", "0", None),
        ("3-D view toggled on -> drawn (median of 3)", f"{statistics.median(three):.0f} ms", "< 1 s",
         statistics.median(three) < 1000),
        ("trivial page slider -> text median", f"{rmed:.0f} ms", "(reference)", None),
        ("trivial page slider -> text p95", f"{rp95:.0f} ms", "(reference)", None),
        ("Steps change / trivial (median)", f"{smed / rmed:.1f}x", "<= 2x", smed <= 2 * rmed),
        ("stage data (default setup, lr families included)", f"{payload / 1e6:.3f} MB", "< 1.5 MB",
         payload < 1.5e6),
        ("websocket bytes, first load", f"{first['bytes'] / 1e6:.3f} MB", "< 1.5 MB", first["bytes"] < 1.5e6),
        ("websocket bytes per Steps change (median)",
         f"{statistics.median(col(steps, 'bytes')) / 1e6:.3f} MB", "", None),
    ]
    w = max(len(r[0]) for r in rows)
    print()
    print(f"{'metric':<{w}}  {'measured':>10}  {'target':<14} ok")
    print("-" * (w + 32))
    for name, value, target, ok in rows:
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name:<{w}}  {value:>10}  {target:<14} {mark}")


if __name__ == "__main__":
    main()
