"""Load test of one app server: N users moving a slider at once, then many short visits.

Starts the app itself (the server helper of tests/conftest.py, as bench_browser.py does) and
drives N browser contexts in ONE headless Chromium on loopback, concurrently (Playwright's async
API, one asyncio task per context):

    .venv/bin/python scripts/load_test.py [--sessions 1 10 30] [--seconds 40] [--growth 100]

(a) load phase, for each N: every session loads the Playground, then for --seconds moves run 1's
    learning-rate slider with the keyboard (alternating ArrowLeft / ArrowRight, or --mode random:
    a bounded random walk over the slider's grid), waits for the chart, pauses --think seconds
    and moves again. Each move's slider-to-chart latency is timed in the page exactly as
    bench_browser.py does (keydown -> first animation frame whose map holds the new run).
    Errors: exceptions shown in the page ([data-testid=stException]), page errors (uncaught
    JavaScript), timeouts (--timeout). The server's RSS (VmRSS of the streamlit process) is
    read before the load, sampled during it (peak), after it with the contexts still open, and
    --settle seconds after all contexts are closed; the server's CPU time comes from
    /proc/<pid>/stat (srv CPU: % of one core over the phase, loads included; 200% = both cores;
    browser CPU: the same for Chromium and Playwright's driver, which share the machine).
(b) growth phase: --growth sessions open and close one after another, each loading a
    different link (its own formula surface, step count and six learning rates), so the run
    cache (512 entries), the landscape image cache (64) and the formula cache (64) all
    overflow their bounds; RSS is printed every tenth of the way.

Client and server share this machine's cores (and Chromium renders in software), so latency
under load is an upper bound for what the server alone would give.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench_browser import ARM, MAP_PROBE  # noqa: E402  (the same in-page timing)
from conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, streamlit_server  # noqa: E402

GD = "document.querySelector('.st-key-map .js-plotly-plot')"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
EXCEPTION = "[data-testid='stException']"
SLIDER = ".st-key-r0-lr"  # run 1's learning rate: its thumb is the input of role slider inside
MAP_DRAWN = (f"() => {{ const g = {GD}; "
             "return !!(g && g._fullLayout && g.querySelector('.imagelayer image')); }")


# --- the server process ---------------------------------------------------------------------------

def server_pid(url: str) -> int:
    """The streamlit process listening on ``url``'s port (found by its command line)."""
    port = url.rsplit(":", 1)[1]
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            args = (d / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "streamlit" in args and "--server.port" in args and port in args:
            return int(d.name)
    raise RuntimeError(f"no streamlit process on port {port}")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(root: int) -> set[int]:
    """``root`` and every process below it."""
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d.name))
    out, todo = set(), [root]
    while todo:
        p = todo.pop()
        out.add(p)
        todo.extend(kids.get(p, []))
    return out


def client_cpu(server: int) -> dict[int, float]:
    """CPU seconds of every process this script started except the server: Playwright's driver
    and Chromium with its renderers."""
    out = {}
    for p in descendants(os.getpid()) - descendants(server) - {os.getpid()}:
        with contextlib.suppress(OSError, IndexError, ValueError):  # ended meanwhile
            out[p] = cpu_s(p)
    return out


def active_sessions(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("active_sessions "):
                return int(float(line.split()[1]))
    return -1


class RssSampler:
    """Samples the server's RSS every ``every`` seconds while active; keeps the peak."""

    def __init__(self, pid: int, every: float = 0.5):
        self.pid, self.every, self.peak = pid, every, 0.0
        self._task: asyncio.Task | None = None

    async def _loop(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mb(self.pid))
            await asyncio.sleep(self.every)

    def __enter__(self):
        self._task = asyncio.get_running_loop().create_task(self._loop())
        return self

    def __exit__(self, *exc) -> None:
        self._task.cancel()
        self.peak = max(self.peak, rss_mb(self.pid))


# --- one simulated user ---------------------------------------------------------------------------

@dataclass
class Session:
    index: int
    load_s: float = float("nan")
    latencies: list[float] = field(default_factory=list)
    exceptions: int = 0
    page_errors: list[str] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self.exceptions + len(self.page_errors) + len(self.timeouts) + len(self.other)

    def messages(self) -> list[str]:
        shown = [f"{self.exceptions} exception(s) shown in the page"] if self.exceptions else []
        return shown + [f"page error: {e}" for e in self.page_errors] + self.timeouts + self.other


async def open_page(browser, url: str, s: Session, timeout_ms: float):
    """A fresh context on ``url``, waited for until the map is drawn and the script idle."""
    context = await browser.new_context(viewport=VIEWPORT)
    try:
        page = await context.new_page()
        page.set_default_timeout(timeout_ms)
        page.on("pageerror", lambda e: s.page_errors.append(str(e)[:200]))
        t = time.monotonic()
        await page.goto(url)
        await page.wait_for_function(MAP_DRAWN)
        await page.wait_for_selector(IDLE)
    except BaseException:
        await context.close()  # a failed load must not hold its session open
        raise
    s.load_s = time.monotonic() - t
    return context, page


async def user(browser, url: str, s: Session, start_at: float, args) -> object:
    """Arrive at ``start_at``, load the Playground and move run 1's lr slider for ``args.seconds``;
    returns the context (left open, so the server still holds the session when RSS is read)."""
    rng = random.Random(args.seed * 1000 + s.index)
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    context = None
    try:
        context, page = await open_page(browser, url, s, args.timeout * 1000)
        deadline = time.monotonic() + args.seconds
        thumb = page.locator(SLIDER).get_by_role("slider")
        pos = 0  # grid steps from the start value (random mode keeps it in -4..+1: no divergence)
        i = 0
        while time.monotonic() < deadline:
            await page.wait_for_selector(IDLE)
            await thumb.focus()
            await page.evaluate(ARM, MAP_PROBE)
            left = (pos > -4 and (pos >= 1 or rng.random() < 0.5)) if args.mode == "random" else i % 2 == 0
            pos += -1 if left else 1
            await thumb.press("ArrowLeft" if left else "ArrowRight")
            await page.wait_for_function("() => window.__t1 !== null")
            s.latencies.append(await page.evaluate("() => window.__t1 - window.__t0"))
            await page.wait_for_selector(IDLE)
            s.exceptions += await page.locator(EXCEPTION).count()
            i += 1
            await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))
    except PlaywrightTimeout as e:
        s.timeouts.append(f"timeout: {str(e).splitlines()[0][:160]}")
    except PlaywrightError as e:
        s.other.append(f"playwright: {str(e).splitlines()[0][:160]}")
    return context


async def load_phase(browser, url: str, pid: int, n: int, args) -> dict:
    sessions = [Session(i) for i in range(n)]
    before_rss, before_cpu, before_client = rss_mb(pid), cpu_s(pid), client_cpu(pid)
    t0 = time.monotonic()
    # arrivals spread over the first seconds (as real users come in), all moving by then
    starts = [t0 + args.ramp * i / max(1, n) for i in range(n)]
    with RssSampler(pid) as sampler:
        contexts = await asyncio.gather(*(user(browser, url, s, st, args)
                                          for s, st in zip(sessions, starts, strict=True)))
        wall = time.monotonic() - t0
        after_rss, after_cpu, after_client = rss_mb(pid), cpu_s(pid), client_cpu(pid)
        live = active_sessions(url)
    await asyncio.gather(*(c.close() for c in contexts if c is not None))
    await asyncio.sleep(args.settle)
    lat = [v for s in sessions for v in s.latencies]
    return {
        "n": n, "sessions": sessions, "lat": lat, "wall": wall, "live": live,
        "rss": (before_rss, sampler.peak, after_rss, rss_mb(pid)),
        "cpu_pct": 100 * (after_cpu - before_cpu) / wall,
        "client_pct": 100 * sum(v - before_client.get(p, 0.0) for p, v in after_client.items()) / wall,
        "left_after_close": active_sessions(url),
    }


def growth_link(i: int, n: int) -> str:
    """The i-th of n different links: own formula surface, step count and six learning rates."""
    q = {"surface": "custom", "f": f"x^2 + {1 + i / 10:g}*y^2 + 0.3*sin(3*x)", "domain": "-3,3,-3,3",
         "steps": str(2000 - i), "optimizers": ",".join(["gd"] * 6)}
    for k in range(6):
        q[("gd" if k == 0 else f"gd{k + 1}") + ".lr"] = f"{1e-4 * (1 + i / n) * (1 + k):.6g}"
    return "/?" + urlencode(q)


async def growth_phase(browser, url: str, pid: int, args) -> tuple[list[tuple], list[Session]]:
    rows, done = [(0, rss_mb(pid), active_sessions(url))], []
    every = max(1, args.growth // 10)
    for i in range(args.growth):
        s = Session(i)
        try:
            link = url + growth_link(i, args.growth)
            context, page = await open_page(browser, link, s, args.timeout * 1000)
            s.exceptions += await page.locator(EXCEPTION).count()
            await context.close()
        except PlaywrightTimeout as e:
            s.timeouts.append(f"timeout: {str(e).splitlines()[0][:160]}")
        except PlaywrightError as e:
            s.other.append(f"playwright: {str(e).splitlines()[0][:160]}")
        done.append(s)
        if (i + 1) % every == 0 or i + 1 == args.growth:
            rows.append((i + 1, rss_mb(pid), active_sessions(url)))
            print(f"  growth: {i + 1} sessions, RSS {rows[-1][1]:.0f} MB", flush=True)
    return rows, done


# --- report ---------------------------------------------------------------------------------------

def pct(v: list[float], q: float) -> float:
    return float(np.percentile(v, q)) if v else float("nan")


async def main_async(args) -> int:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        with streamlit_server() as url:
            pid = server_pid(url)
            print(f"server {url} pid {pid}; RSS at start {rss_mb(pid):.0f} MB", flush=True)
            # one visit first, so phase 1 does not pay for imports and the first cache fills
            warm = Session(-1)
            context, _ = await open_page(browser, url, warm, args.timeout * 1000)
            await context.close()
            print(f"warm-up load {warm.load_s:.2f} s; RSS {rss_mb(pid):.0f} MB", flush=True)
            phases = []
            for n in args.sessions:
                r = await load_phase(browser, url, pid, n, args)
                phases.append(r)
                errs = [e for s in r["sessions"] for e in s.messages()]
                print(f"N={n}: {len(r['lat'])} moves, median {pct(r['lat'], 50):.0f} ms, errors "
                      f"{sum(s.errors for s in r['sessions'])} {errs[:3]}", flush=True)
            growth, visits = await growth_phase(browser, url, pid, args) if args.growth else ([], [])
            end_rss = rss_mb(pid)
        await browser.close()

    print()
    print(f"Load test: one server process, {os.cpu_count()} cores shared with headless Chromium "
          f"(software rendering); {args.seconds:g} s of moves per phase after a {args.ramp:g} s ramp, "
          f"think time {args.think:g} s, mode {args.mode}")
    head = (f"{'users':>5} {'errors':>6} {'moves':>6} {'moves/s':>7} {'median':>7} {'p95':>7} {'max':>7} "
            f"{'load p50':>8} {'srv CPU':>7} {'browser':>7} {'RSS before':>10} {'peak':>6} {'after':>6} "
            f"{'closed':>6}")
    print(head)
    print(f"{'':>5} {'':>6} {'':>6} {'':>7} {'(ms)':>7} {'(ms)':>7} {'(ms)':>7} {'(s)':>8} {'(%)':>7} "
          f"{'CPU (%)':>7} "
          f"{'(MB)':>10} {'(MB)':>6} {'(MB)':>6} {'+' + format(args.settle, 'g') + ' s':>6}")
    print("-" * len(head))
    total_errors = 0
    for r in phases:
        errors = sum(s.errors for s in r["sessions"])
        total_errors += errors
        lat = r["lat"]
        loads = [s.load_s for s in r["sessions"] if s.load_s == s.load_s]
        b, peak, a, closed = r["rss"]
        print(f"{r['n']:>5} {errors:>6} {len(lat):>6} {len(lat) / r['wall']:>7.1f} {pct(lat, 50):>7.0f} "
              f"{pct(lat, 95):>7.0f} {max(lat, default=float('nan')):>7.0f} "
              f"{statistics.median(loads) if loads else float('nan'):>8.2f} {r['cpu_pct']:>7.0f} "
              f"{r['client_pct']:>7.0f} "
              f"{b:>10.0f} {peak:>6.0f} {a:>6.0f} {closed:>6.0f}")
    for r in phases:
        moves = [len(s.latencies) for s in r["sessions"]]
        print(f"N={r['n']}: moves per user {min(moves)}..{max(moves)}; active sessions during the load "
              f"{r['live']}, {r['left_after_close']} after the contexts closed")
        for s in r["sessions"]:
            for e in s.messages():
                print(f"  session {s.index}: {e}")
    if growth:
        g_err = sum(s.errors for s in visits)
        total_errors += g_err
        loads = [s.load_s for s in visits if s.load_s == s.load_s]
        print()
        print(f"Growth: {args.growth} sessions opened and closed one after another, each on its own link "
              f"(formula, steps, 6 learning rates: {6 * args.growth} distinct runs for a 512-entry cache, "
              f"{args.growth} surfaces for 64-entry caches); errors {g_err}; "
              f"load median {statistics.median(loads):.2f} s")
        print(f"{'sessions':>8} {'RSS (MB)':>9} {'active':>7}")
        for k, mb, live in growth:
            print(f"{k:>8} {mb:>9.0f} {live:>7}")
        half = growth[len(growth) // 2][1]
        print(f"RSS growth over the second half: {growth[-1][1] - half:+.0f} MB; at the end {end_rss:.0f} MB")
    for s in visits:
        for e in s.messages():
            print(f"  visit {s.index}: {e}")
    print(f"\ntotal errors: {total_errors}")
    return 1 if total_errors else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 30], help="users per phase")
    ap.add_argument("--seconds", type=float, default=40, help="seconds of moves per phase (default 40)")
    ap.add_argument("--ramp", type=float, default=5, help="seconds over which users arrive (default 5)")
    ap.add_argument("--think", type=float, default=0.5,
                    help="mean pause between a chart update and the next move, s (default 0.5)")
    ap.add_argument("--mode", choices=["alternate", "random"], default="alternate")
    ap.add_argument("--timeout", type=float, default=60, help="seconds before a wait is an error")
    ap.add_argument("--settle", type=float, default=15, help="seconds after closing before RSS is read")
    ap.add_argument("--growth", type=int, default=100, help="sessions in the growth phase (0: skip)")
    ap.add_argument("--seed", type=int, default=0)
    sys.exit(asyncio.run(main_async(ap.parse_args())))


if __name__ == "__main__":
    main()
