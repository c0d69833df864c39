"""The exported lesson page (descent_lab/page.py): its size, how soon Chromium paints it from
file:// with the network cut, and what an lr slider step costs there.

    python scripts/bench_page.py [--n 20]

Prints, for the default setup (Rosenbrock, GD / momentum / Adam, 500 steps) and a lesson:
the file's size (budget 7 MB), the time from navigation to the map drawn (budget 1.5 s) and to
plotly.js's axes, over fresh pages; and the time from an lr slider key to the path repainted
(budget 50 ms, as in the app), median and p95. The figures are this machine's, measured in one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import launch_chromium  # noqa: E402

from descent_lab.page import page_html  # noqa: E402
from descent_lab.presets import PRESETS  # noqa: E402
from descent_lab.setup import Setup  # noqa: E402

INIT = """window.__t0 = performance.now();
new MutationObserver((ms, o) => {
  if (!window.__drawn && document.querySelector('.stage[data-drawn]')) window.__drawn = performance.now();
  if (document.querySelector('.stage[data-axes]')) { window.__axes = performance.now(); o.disconnect(); }
}).observe(document, {subtree: true, childList: true, attributes: true});"""
# run 2's lr slider moved one stop (as a key or a drag moves it), to the stage's next paint (its
# data-drawn changes, then one frame)
LR_STEP = """(delta) => new Promise((done) => {
  const root = document.querySelector('.stage'), input = document.querySelectorAll('.stage .lr-input')[1];
  const before = root.dataset.drawn, t0 = performance.now();
  input.value = String(Number(input.value) + delta);
  input.dispatchEvent(new Event('input', { bubbles: true }));
  const wait = () => root.dataset.drawn !== before ? requestAnimationFrame(() => done(performance.now() - t0))
    : requestAnimationFrame(wait);
  wait();
})"""


def stats(ms: list[float]) -> str:
    return f"median {statistics.median(ms):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms"


def open_times(browser, url: str, n: int) -> tuple[list[float], list[float]]:
    drawn, axes = [], []
    for _ in range(n):
        ctx = browser.new_context(viewport={"width": 1366, "height": 768})
        ctx.route("**/*", lambda r: r.continue_() if r.request.url.split(":")[0] in ("file", "data", "blob")
                  else r.abort())
        ctx.add_init_script(INIT)
        page = ctx.new_page()
        page.goto(url, wait_until="commit")
        page.wait_for_function("() => window.__axes", timeout=60_000)
        d, a = page.evaluate("() => [window.__drawn, window.__axes]")  # ms from navigation start
        drawn.append(d)
        axes.append(a)
        ctx.close()
    return drawn, axes


def lr_steps(browser, url: str, n: int) -> list[float]:
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector(".stage[data-axes]", timeout=60_000)
    out = [page.evaluate(LR_STEP, -1 if k % 2 == 0 else 1) for k in range(n)]
    ctx.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="lr slider steps (default 20); fresh pages: n / 4")
    args = ap.parse_args()
    cases = {"default setup": Setup(), "lesson 'ravine'": PRESETS["ravine"].setup()}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = launch_chromium(pw)
        print("| page | size | map drawn (from navigation) | plotly.js axes | lr slider step -> repainted |")
        print("|---|---|---|---|---|")
        for name, setup in cases.items():
            path = Path(tmp) / "lesson.html"
            path.write_text(page_html(setup))
            size = path.stat().st_size
            drawn, axes = open_times(browser, path.as_uri(), max(3, args.n // 4))
            lr = lr_steps(browser, path.as_uri(), args.n)
            row = [name, f"{size / 1e6:.2f} MB", stats(drawn), stats(axes), stats(lr)]
            print("| " + " | ".join(row) + " |", flush=True)
        browser.close()


if __name__ == "__main__":
    main()
