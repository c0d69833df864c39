"""Benchmark of the Networks page's first view and of a change, against a trivial Streamlit page in the
same run.

    .venv/bin/python scripts/bench_networks_page.py [--n 5]

(a) the computation behind the default view, in this process: training the three runs (one
    batched optimizers.run per optimizer), the PCA plane with its 41 x 41 slice, the loss at the
    paths' projections and the stage's payload (each the best of n, cold caches);
(b) in Chromium at 1366x768: navigation to the stage drawn (viz/net_stage.js paints the plane, the
    output and the network at once) and the script idle, in fresh browser contexts (new sessions,
    each computing its view: each asks for another seed, so no cache answers), the first one right
    after the server is up (it also imports the page's modules); the default link again in new
    sessions (its computation then comes from the page's caches);
(c) a change in one session: a new seed typed into the sidebar (new data, new start: everything
    trained again) until the stage has repainted in place and the script is idle, against the same
    edit on a trivial page (a number input and st.write), and the training's own compute for those
    seeds measured in this process (so the round trip beyond it can be compared with the trivial one);
    then the same seeds again in a new session, their views from the page's caches: the change's
    round trip without the training (on a loaded machine the in-process compute is a rough estimate
    of the server's, this one is measured directly);
(d) the same navigation to a trivial Streamlit page (one slider, one st.write) served the same way,
    and to a page with one small st.plotly_chart (what Streamlit's chart element costs by itself);
(e) other changes in one session: run 2's optimizer switched in its card (trained, then cached), the
    3-D surface toggled on (its first time loads plotly.js), off and on again.
The server computes with one BLAS thread (app_pages/blas_threads.py), and so does this process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import VIEWPORT, launch_chromium, streamlit_server  # noqa: E402

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
DRAWN = ".ns[data-drawn]"  # the Networks stage, painted (Playwright's selectors reach into its shadow root)
TRIVIAL = ("import streamlit as st\nv = st.slider('x', 0, 100, 50)\nst.write(v * 2)\n"
           "k = st.number_input('k', value=0)\nst.write(f'k is {k}')\n")
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


def view_compute(setup) -> None:
    """Everything the page computes for a view it has not seen: runs, plane, projection, payload."""
    from descent_lab import networks as dn
    from viz.net_stage import net_stage_data
    from viz.stage import pack

    runs = dn.train(setup)
    land, _ = dn.landscape(setup, runs)
    pack(net_stage_data(runs, land, dn.colors(setup), dn.projection(runs, land), plane_title=land.title,
                        drawn=setup.drawn()))


def compute(n: int) -> dict[str, float]:
    from descent_lab import networks as dn
    from viz.net_stage import net_stage_data
    from viz.stage import pack

    setup = dn.NetSetup()
    runs = dn.train(setup)
    land, _ = dn.landscape(setup, runs)
    proj = dn.projection(runs, land)
    return {
        "train 3 runs x 300 steps (337 weights, 200 points)": best(lambda: dn.train(setup), n),
        "PCA plane + 41 x 41 slice + projection": best(lambda: dn.landscape(setup, runs), n),
        "loss at the paths' projections (301 x 3)": best(lambda: dn.projection(runs, land), n),
        "stage payload (picture, weights) + pack": best(lambda: pack(net_stage_data(
            runs, land, dn.colors(setup), proj, plane_title=land.title, drawn=setup.drawn())), n),
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


def changes(browser, url: str, label: str, values, changed: str, n: int) -> list[float]:
    """In one session: type each of ``values`` into the number input ``label``; the time from Enter
    until ``changed`` (a JS predicate on the page, given {v, before}) holds and the script is
    idle."""
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.set_default_timeout(180_000)
    page.goto(url)
    page.wait_for_selector(IDLE)
    times = []
    for v in list(values)[:n]:
        box = page.get_by_label(label, exact=True)
        box.fill(str(v))
        times.append(timed(page, lambda b=box: b.press("Enter"), changed, str(v)))
    ctx.close()
    return times


def timed(page, act, changed: str, v: str = "") -> float:
    """The time from ``act()`` until ``changed`` (a JS predicate, given {v, before}) holds and
    the script is idle."""
    arg = {"v": v, "before": page.evaluate(STAGE_VERSION)}
    t = time.monotonic()
    act()
    page.wait_for_function(changed, arg=arg)
    page.wait_for_selector(IDLE)
    return time.monotonic() - t


def other_changes(browser, url: str, n: int) -> dict[str, list[float]]:
    """In one session: run 2's optimizer switched between Nesterov and Momentum n times (the first two
    trained, then cached), and the 3-D surface toggled on (the first time loads plotly.js), off and on."""
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.set_default_timeout(180_000)
    page.goto(url)
    page.wait_for_selector(IDLE)
    page.wait_for_selector(DRAWN)

    def switch(name: str) -> None:
        box = page.get_by_role("combobox", name="Run 2")
        box.click()
        if box.get_attribute("aria-expanded") != "true":  # (a click soon after a load may not open it)
            box.press("ArrowDown")
        page.get_by_role("option", name=name, exact=True).click()

    out = {"optimizer": [timed(page, lambda k=k: switch(("Nesterov (NAG)", "Momentum")[k % 2]), STAGE_CHANGED)
                         for k in range(n)]}
    surface = ".ns .js-plotly-plot .main-svg"  # (Playwright's selectors pierce the stage's shadow root)
    for name, state in (("3-D on (loads plotly.js)", "visible"), ("3-D off", "detached"),
                        ("3-D on again", "visible")):
        t = time.monotonic()
        page.get_by_text("3-D surface", exact=True).click()
        page.wait_for_selector(surface, state=state)
        page.wait_for_selector(IDLE)
        out[name] = [time.monotonic() - t]
    ctx.close()
    return out


#: the version of the data the Networks stage last painted (viz/net_stage.js marks each payload it paints):
#: cheap to ask, where reading its shadow root on every animation frame would slow the page being timed
STAGE_VERSION = """() => { const m = performance.getEntriesByName('net_stage:drawn');
  return m.length ? m[m.length - 1].detail : null; }"""
#: the stage has painted new data
STAGE_CHANGED = f"(a) => ({STAGE_VERSION})() !== a.before"
#: ... for the new seed (the link holds it)
NET_CHANGED = f"(a) => new URL(location.href).searchParams.get('seed') === a.v && ({STAGE_CHANGED})(a)"
TRIVIAL_CHANGED = "(a) => [...document.querySelectorAll('p')].some(p => p.textContent === 'k is ' + a.v)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5)
    args = ap.parse_args()
    from descent_lab import networks as dn

    threadpool_limits(1, user_api="blas")  # as the app's server computes (app_pages/blas_threads.py)

    print("(a) the default view's computation, best of", args.n)
    for k, v in compute(args.n).items():
        print(f"    {k:<55} {v * 1e3:7.0f} ms")
    seeds = range(101, 101 + args.n)
    own = []
    for s in seeds:  # what a change to each seed costs to compute, in this process
        t = time.perf_counter()
        view_compute(dn.NetSetup(seed=s))
        own.append(time.perf_counter() - t)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        trivial = Path(tmp) / "trivial.py"
        trivial.write_text(TRIVIAL)
        browser = launch_chromium(pw)
        with streamlit_server(flags=["--server.runOnSave", "false"]) as url:
            cold = first_views(browser, f"{url}/networks", DRAWN, 1)[0]
            # every later session computes the view again: vary the seed so no cache answers
            warm = [first_views(browser, f"{url}/networks?seed={s}", DRAWN, 1)[0]
                    for s in range(1, args.n + 1)]
            cached = first_views(browser, f"{url}/networks", DRAWN, args.n)  # the default view, cached
            change = changes(browser, f"{url}/networks", "Seed", seeds, NET_CHANGED, args.n)
            # the same seeds again: their views come from the page's caches, so what is left is the
            # change's round trip (script, transfer, the stage's repaint) without the training
            revisit = changes(browser, f"{url}/networks", "Seed", seeds, NET_CHANGED, args.n)
            others = other_changes(browser, f"{url}/networks", max(args.n, 4))
        with streamlit_server(app=trivial, cwd=tmp) as url:
            ref_cold = first_views(browser, url, IDLE, 1)[0]
            ref = first_views(browser, url, IDLE, args.n)
            ref_change = changes(browser, url, "k", range(1, args.n + 1), TRIVIAL_CHANGED, args.n)
        chart = Path(tmp) / "chart.py"
        chart.write_text(ONE_CHART)
        with streamlit_server(app=chart, cwd=tmp) as url:
            first_views(browser, url, CHART, 1)
            one_chart = first_views(browser, url, CHART, args.n)
        browser.close()
    net, base = statistics.median(warm), statistics.median(ref)
    med = statistics.median
    print("(b, d) navigation -> drawn and idle, Chromium 1366x768, fresh contexts")
    print(f"    Networks, first session after server start   {cold:6.2f} s")
    print(f"    Networks default link, new sessions (cached)  {med(cached):6.2f} s")
    print(f"    Networks, new sessions (median of {args.n})           {net:6.2f} s   "
          f"(range {min(warm):.2f}-{max(warm):.2f})")
    print(f"    trivial page, first session                  {ref_cold:6.2f} s")
    print(f"    trivial page, new sessions (median of {args.n})       {base:6.2f} s")
    print(f"    ratio Networks / trivial page                {net / base:6.2f}")
    print(f"    a page with one 10-point st.plotly_chart (median) {med(one_chart):6.2f} s")
    print("(c) a change in one session: a new seed typed, Enter -> repainted and idle (median)")
    print(f"    Networks: new seed, everything trained again  {med(change):6.2f} s   "
          f"(range {min(change):.2f}-{max(change):.2f})")
    print(f"    of which the training's own compute           {med(own):6.2f} s   (in this process)")
    print(f"    trivial page: the same edit                   {med(ref_change):6.2f} s")
    beyond = (med(change) - med(own)) / med(ref_change)
    print(f"    (change - compute) / trivial change           {beyond:6.2f}")
    print(f"    Networks: the same seeds again (cached views) {med(revisit):6.2f} s   "
          f"(range {min(revisit):.2f}-{max(revisit):.2f})")
    print(f"    cached change / trivial change                {med(revisit) / med(ref_change):6.2f}")
    print("(e) other changes in one session, Enter or click -> repainted and idle")
    opt = others.pop("optimizer")
    print(f"    run 2's optimizer switched, trained: {', '.join(f'{v:.2f}' for v in opt[:2])} s; "
          f"cached: median {med(opt[2:]):.2f} s")
    for name, (v,) in others.items():
        print(f"    {name:<45} {v:6.2f} s")


if __name__ == "__main__":
    main()
