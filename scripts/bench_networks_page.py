"""Benchmark of the Networks page's first view, against a trivial Streamlit page in the same run.

    .venv/bin/python scripts/bench_networks_page.py [--n 5]

(a) the computation behind the default view, in this process: training the three runs (one
    batched optimizers.run per optimizer), the PCA plane with its 41 x 41 slice, the decision
    boundaries at the animation's steps and the figure (each the best of n, cold caches);
(b) in Chromium at 1366x768: navigation to the landscape drawn (the picture in the Plotly figure)
    and the script idle, in fresh browser contexts (new sessions, each computing its view: each asks
    for another seed, so no cache answers), the first one right after the server is up (it also
    imports the page's modules);
    the default link again in new sessions (its computation then comes from the page's caches);
(c) the same navigation to a trivial Streamlit page (one slider, one st.write) served the same way,
    and to a page with one small st.plotly_chart (what Streamlit's chart element costs by itself).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import VIEWPORT, launch_chromium, streamlit_server  # noqa: E402

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
FIG = ".st-key-net-figure .js-plotly-plot image"
TRIVIAL = "import streamlit as st\nv = st.slider('x', 0, 100, 50)\nst.write(v * 2)\n"
#: the least a page with a Plotly chart costs: Streamlit's chart element and its plotly.js, ten points
ONE_CHART = ("import streamlit as st\nimport plotly.graph_objects as go\n"
             "st.plotly_chart(go.Figure(go.Scatter(x=list(range(10)), y=list(range(10)))), key='c')\n")
CHART = ".st-key-c .js-plotly-plot .main-svg"


def best(f, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def compute(n: int) -> dict[str, float]:
    from descent_lab import networks as dn
    from viz import fast_figure
    from viz import networks as vn

    setup = dn.NetSetup()
    runs = dn.train(setup)
    land, _ = dn.landscape(setup, runs)
    ticks = dn.frame_ticks(runs.steps)
    boundary = dn.boundaries(runs, ticks)
    return {
        "train 3 runs x 300 steps (337 weights, 200 points)": best(lambda: dn.train(setup), n),
        "PCA plane + 41 x 41 slice + projection": best(lambda: dn.landscape(setup, runs), n),
        f"decision boundaries at {len(ticks)} steps": best(lambda: dn.boundaries(runs, ticks), n),
        "figure dict + binary encoding": best(lambda: fast_figure(vn.network_figure(
            runs, land, dn.colors(setup), ticks, boundary)).to_dict(), n),
    }


def first_views(browser, url: str, selector: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        ctx = browser.new_context(viewport=VIEWPORT)
        page = ctx.new_page()
        page.set_default_timeout(180_000)
        t = time.monotonic()
        page.goto(url)
        page.wait_for_selector(selector)
        page.wait_for_selector(IDLE)
        times.append(time.monotonic() - t)
        page.evaluate("() => 0")
        ctx.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5)
    args = ap.parse_args()
    print("(a) the default view's computation, best of", args.n)
    for k, v in compute(args.n).items():
        print(f"    {k:<55} {v * 1e3:7.0f} ms")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        trivial = Path(tmp) / "trivial.py"
        trivial.write_text(TRIVIAL)
        browser = launch_chromium(pw)
        with streamlit_server(flags=["--server.runOnSave", "false"]) as url:
            cold = first_views(browser, f"{url}/networks", FIG, 1)[0]
            cached = first_views(browser, f"{url}/networks", FIG, args.n)  # the default view, cached
            # every later session computes the view again: vary the seed so no cache answers
            warm = [first_views(browser, f"{url}/networks?seed={s}", FIG, 1)[0] for s in range(1, args.n + 1)]
        with streamlit_server(app=trivial, cwd=tmp) as url:
            ref_cold = first_views(browser, url, IDLE, 1)[0]
            ref = first_views(browser, url, IDLE, args.n)
        chart = Path(tmp) / "chart.py"
        chart.write_text(ONE_CHART)
        with streamlit_server(app=chart, cwd=tmp) as url:
            first_views(browser, url, CHART, 1)
            one_chart = first_views(browser, url, CHART, args.n)
        browser.close()
    net, base = statistics.median(warm), statistics.median(ref)
    print("(b, c) navigation -> drawn and idle, Chromium 1366x768, fresh contexts")
    print(f"    Networks, first session after server start   {cold:6.2f} s")
    print(f"    Networks default link, new sessions (cached)  {statistics.median(cached):6.2f} s")
    print(f"    Networks, new sessions (median of {args.n})           {net:6.2f} s   "
          f"(range {min(warm):.2f}-{max(warm):.2f})")
    print(f"    trivial page, first session                  {ref_cold:6.2f} s")
    print(f"    trivial page, new sessions (median of {args.n})       {base:6.2f} s")
    print(f"    ratio Networks / trivial page                {net / base:6.2f}")
    print(f"    a page with one 10-point st.plotly_chart (median) {statistics.median(one_chart):6.2f} s")


if __name__ == "__main__":
    main()
