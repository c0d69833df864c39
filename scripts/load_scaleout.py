"""A lecture hall on the scale-out topology: many students through HAProxy onto N replicas, one
replica killed mid-run, and what one interaction costs the server.

    .venv/bin/python scripts/load_scaleout.py [--replicas 3] [--users 30] [--interval 5]
        [--seconds 40] [--ramp 10] [--browsers 3] [--kill-after 15] [--repeat N] [--failure-only]

Starts the topology of deploy/ on loopback (scripts/scaleout.py: Debian's HAProxy with
deploy/haproxy.cfg in front of N `streamlit run app.py` replicas), then:

1. Capacity: one simulated user pinned to one replica, alone: --calibrate page loads (each a
   new session on the Playground link) and --calibrate changes of run 1's learning rate; the
   replica's CPU time (/proc/<pid>/stat) per load and per change.
2. Single server: --users simulated students on ONE replica, directly (no balancer): the
   single-server figures of scripts/load_protocol.py, measured in this run.
3. Balanced: the same students through the balancer onto all replicas, with --browsers real
   Chromium sessions beside them (key to painted map, as load_protocol.py times it): errors,
   latency, sessions per replica (from the balancer's cookie each student was given).
4. Failure: the same again; after --kill-after s replica r1 is killed (SIGKILL). Students whose
   next change fails reconnect through the balancer, as a browser does (at most --retries tries,
   0.5 s apart), sending their widgets' values; a learning rate the new page does not show is
   sent once more, as the stage does (viz/stage.js). Reported: errors by replica, when the
   balancer marked r1 DOWN, whether any new session went to r1 after the kill, and each affected
   student's time from the kill to their view back, and whether it came back with their change:
   the URL equal to what a healthy replica gives for the URL they had and the same change
   (``oracle``).

With --failure-only only phase 4 runs; --repeat N starts the topology afresh N times and ends with
a table of the failure runs.

The students are load_protocol.py's simulated users (Streamlit's WebSocket protocol, no
rendering) that also keep the balancer's cookie, as a browser does. Only loopback traffic;
every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "tests")]

from load_protocol import (  # noqa: E402
    ProtocolUser,
    Run,
    Viewer,
    arrive,
    client_cpu_s,
    next_change,
    open_viewer,
    pct,
    thread_waits,
    watch,
)
from scaleout import COOKIE, Topology, cpu_seconds, rss_mb, scaleout  # noqa: E402

RETRY_S = 0.5


class StickyUser(ProtocolUser):
    """A simulated student that keeps the balancer's stickiness cookie as a browser does: sent
    with every WebSocket it opens, replaced when the balancer sets a new one (it moved the
    student to another replica). It remembers its last change (``last``: the method and its
    arguments) and, as the stage does (viz/stage.js), sends a learning rate once more when the
    data that comes next does not show it."""

    def __init__(self, url: str, link: str, timeout: float, replica: str = ""):
        super().__init__(url, link, timeout)
        self.replica = replica
        self.last: tuple[str, tuple] = ("", ())

    async def trigger(self, key: str, event: str, value, kind: str = "") -> Run:
        self.last = ("trigger", (key, event, value, kind))
        return await super().trigger(key, event, value, kind)

    async def change(self, key: str, value, kind: str = "") -> Run:
        self.last = ("change", (key, value, kind))
        return await super().change(key, value, kind)

    def shows_last(self) -> bool:
        """Does the page show the last change? (A widget's value is the browser's own: always.)"""
        method, args = self.last
        if method != "trigger" or args[1] != "lr":
            return True
        runs = self.component("stage")["runs"]
        r = runs[args[2]["run"]] if args[2]["run"] < len(runs) else None
        return r is not None and r["lrs"][r["index"]] == args[2]["lr"]

    async def replay(self, method: str, args: tuple) -> Run:
        return await (self.trigger(*args) if method == "trigger" else self.change(*args))

    async def _connect(self, session_id: str = "") -> None:
        from websockets.asyncio.client import connect

        protocols = ["streamlit", "PLACEHOLDER_AUTH_TOKEN", *([session_id] if session_id else [])]
        headers = {"Cookie": f"{COOKIE}={self.replica}"} if self.replica else {}
        self.ws = await connect("ws" + self.url[4:] + "/_stcore/stream", subprotocols=protocols,
                                origin=self.url, additional_headers=headers, max_size=2**27,
                                ping_interval=None, open_timeout=self.timeout, close_timeout=2)
        for c in self.ws.response.headers.get_all("Set-Cookie"):
            name, _, rest = c.partition("=")
            if name.strip() == COOKIE:
                self.replica = rest.split(";")[0]


@dataclass
class Student:
    index: int
    runs: list[Run] = field(default_factory=list)
    replicas: list[tuple[float, str]] = field(default_factory=list)  # (when, replica) per connect
    failed_at: float = math.nan  # first failed change
    back_at: float = math.nan  # view back after a reconnect (and the stage's re-sent report)
    setup_back: bool | None = None  # after the reconnect: the setup the failed change makes (see oracle)
    resent: bool = False  # the stage sent the failed change again after the reconnect
    failed: tuple[str, str, tuple] = ("", "", ())  # the URL when the change failed, and the change
    url_back: str = ""  # the URL after the reconnect
    url_oracle: str = ""  # the URL the same link and change give on a healthy replica

    @property
    def errors(self) -> list[Run]:
        return [r for r in self.runs if r.error]


async def student(url: str, link: str, s: Student, start_at: float, stop_at: float, interval: float,
                  rng: random.Random, timeout: float, retries: int, keep: list[StickyUser]) -> None:
    """Arrive at ``start_at``, load ``link``, change a widget every ``interval`` s (+-20 %) until
    ``stop_at``. A failed change (its replica died) is followed by reconnects through the
    balancer (at most ``retries``, RETRY_S apart) that must bring back the setup in the URL."""
    user = StickyUser(url, link, timeout)
    if not await arrive(user, start_at, s, keep):
        return
    s.replicas.append((time.monotonic(), user.replica))
    if s.runs[-1].error:
        return
    walk, due = [0], time.monotonic()
    for _ in range(int((stop_at - start_at) / (0.8 * interval)) + 1):
        due += interval * rng.uniform(0.8, 1.2)
        if due >= stop_at:
            return
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        run = await next_change(user, rng, walk)
        s.runs.append(run)
        if not run.error:
            continue
        s.failed_at = time.monotonic()
        # the URL now (the failed run may have put its setup there before the replica died) and the change
        s.failed = (user.query_string, *user.last)
        for _ in range(retries):
            try:
                again = await user.reconnect()
                if not again.error and not user.shows_last():  # the stage sends it once more
                    s.resent = True
                    s.runs.append(again)
                    again = await user.replay(*user.last)
            except Exception as e:  # the balancer refused or the socket did not open
                again = Run("reconnect", error=f"connect: {type(e).__name__}: {e}"[:200])
            s.runs.append(again)
            if not again.error:
                s.replicas.append((time.monotonic(), user.replica))
                s.back_at = time.monotonic()
                s.url_back = user.query_string
                walk[0] = 0
                break
            await asyncio.sleep(RETRY_S)
        else:
            return
        due = max(due, time.monotonic() - interval)


@dataclass
class Phase:
    name: str
    students: list[Student]
    viewers: list[Viewer]
    viewers_on: list[str]  # each Chromium session's replica (its cookie)
    wall: float
    cpu: dict[str, float]  # CPU seconds per replica over the phase
    client_s: float
    rss: dict[str, float]
    interval: float = 5.0
    waited: float = math.nan  # seconds the replicas' threads waited for a core (run queue), summed
    loadavg: float = math.nan  # the machine's 1-minute load average at the end
    health: list[str] = field(default_factory=list)  # the balancer's DOWN / UP events in the phase
    killed_at: float = math.nan
    down_after: float = math.nan

    def ms(self, load: bool) -> list[float]:
        return [1000 * r.seconds for s in self.students for r in s.runs
                if not r.error and (r.kind == "load") == load and r.kind != "reconnect"]

    def first_replica(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.students:
            if s.replicas:
                out[s.replicas[0][1]] = out.get(s.replicas[0][1], 0) + 1
        return dict(sorted(out.items()))


async def run_phase(name: str, url: str, topo: Topology | None, pids: dict[str, int], args,
                    browser=None, kill: str = "") -> Phase:
    rng = random.Random(args.seed)
    students = [Student(i) for i in range(args.users)]
    viewers = [Viewer(i) for i in range(args.browsers if browser else 0)]
    opened = await asyncio.gather(*(open_viewer(browser, url + args.link, v, args.timeout) for v in viewers),
                                  return_exceptions=True)
    pages = [(v, *o) for v, o in zip(viewers, opened, strict=True) if not isinstance(o, BaseException)]
    for v, o in zip(viewers, opened, strict=True):
        if isinstance(o, BaseException):
            v.errors.append(f"load: {str(o).splitlines()[0][:160]}")
    on = [next((c["value"] for c in await context.cookies() if c["name"] == COOKIE), "-")
          for _, context, _ in pages]
    users: list[StickyUser] = []
    t0 = time.monotonic()
    stop = t0 + args.ramp + args.seconds
    cpu0, client0 = {k: cpu_seconds(p) for k, p in pids.items()}, client_cpu_s()
    wait0 = {k: sum(thread_waits(p).values()) for k, p in pids.items()}
    log0 = len(topo.balancer_log()) if topo else 0
    tasks = [student(url, args.link, s, t0 + args.ramp * i / max(1, args.users), stop, args.interval,
                     random.Random(rng.random()), args.timeout, args.retries, users)
             for i, s in enumerate(students)]
    tasks += [watch(page, v, t0 + args.ramp, stop, args.interval) for v, _, page in pages]
    killed_at = down_after = math.nan
    if kill and topo is not None:
        async def killer() -> tuple[float, float]:
            await asyncio.sleep(max(0.0, t0 + args.ramp + args.kill_after - time.monotonic()))
            at = topo.kill(kill)
            await asyncio.to_thread(topo.wait_status, kill, "DOWN", 30.0)
            return at, time.monotonic() - at
        gathered = await asyncio.gather(killer(), *tasks)
        killed_at, down_after = gathered[0]
    else:
        await asyncio.gather(*tasks)
    wall = time.monotonic() - t0
    alive = {k: p for k, p in pids.items() if Path(f"/proc/{p}").exists()}
    cpu = {k: cpu_seconds(p) - cpu0[k] for k, p in alive.items()}
    rss = {k: rss_mb(p) for k, p in alive.items()}
    client = client_cpu_s() - client0
    waited = sum(sum(thread_waits(p).values()) - wait0[k] for k, p in alive.items())
    health = [ln.split("] : ", 1)[-1][:90] for ln in (topo.balancer_log()[log0:] if topo else "").splitlines()
              if ln.startswith("[WARNING]") and (" is DOWN" in ln or " is UP" in ln)]
    await asyncio.gather(*(u.close() for u in users), *(context.close() for _, context, _ in pages))
    await asyncio.sleep(2)
    return Phase(name, students, viewers, on, wall, cpu, client, rss, args.interval, waited,
                 os.getloadavg()[0], health, killed_at, down_after)


async def oracle(url: str, students: list[Student], timeout: float) -> None:
    """Each student whose change failed: is the setup they got back (their URL after the reconnect) the
    one the change makes when nothing fails? The URL they had when it failed loaded on a healthy
    replica (``url``), the same change made there, the URLs compared (``setup_back``). (What the URL
    does not hold is not compared: which learning rates the student set on purpose, which a switch
    of surface or optimizer keeps; a session started from a link takes all of the link's as set.)"""
    for s in students:
        link, method, args = s.failed
        if not method or not s.url_back:
            continue
        u = StickyUser(url, "/?" + link, timeout)
        try:
            if (await u.open()).error:
                raise RuntimeError(f"oracle: the link {link} did not load")
            done = await u.replay(method, args)
        finally:
            await u.close()
        s.url_oracle = u.query_string if not done.error else f"(the change failed there: {done.error})"
        s.setup_back = s.url_oracle == s.url_back


async def calibrate(url: str, pid: int, args) -> tuple[float, float, list[float], list[float]]:
    """CPU ms of one replica per page load and per learning-rate change, one user alone; and the
    wall ms of each."""
    loads, changes = [], []
    c0 = cpu_seconds(pid)
    for _ in range(args.calibrate):
        u = ProtocolUser(url, args.link, args.timeout)
        try:
            r = await u.open()
        finally:
            await u.close()
        if r.error:
            raise RuntimeError(f"calibration load: {r.error}")
        loads.append(1000 * r.seconds)
    await asyncio.sleep(1.0)  # closed sessions' clean-up outside the measured changes
    u = ProtocolUser(url, args.link, args.timeout)
    try:
        first = await u.open()
        if first.error:
            raise RuntimeError(f"calibration: {first.error}")
        c1 = cpu_seconds(pid)
        for k in range(args.calibrate * 2):  # run 1's learning rate on the stage, one stop down and back
            r = await u.move_lr(0, -1 if k % 2 == 0 else 1)
            if r.error:
                raise RuntimeError(f"calibration change: {r.error}")
            changes.append(1000 * r.seconds)
        c2 = cpu_seconds(pid)
    finally:
        await u.close()
    load_cpu = 1000 * (c1 - c0) / (args.calibrate + 1)  # the changing user's own load included
    return load_cpu, 1000 * (c2 - c1) / (2 * args.calibrate), loads, changes


def on_at(s: Student, when: float) -> str:
    """The replica student ``s`` was connected to at ``when``."""
    return next((r for t, r in reversed(s.replicas) if t <= when), "")


def describe(p: Phase) -> list[str]:
    ch, ld = p.ms(False), p.ms(True)
    errs = [r for s in p.students for r in s.errors]
    painted = [x for v in p.viewers for x in v.latencies]
    runs = sum(len(s.runs) for s in p.students) + sum(len(v.latencies) + 1 for v in p.viewers)
    out = [f"{p.name}: {len(p.students)} students, {sum(len(s.runs) for s in p.students)} script runs "
           f"in {p.wall:.0f} s; errors {len(errs)}; Chromium errors {sum(len(v.errors) for v in p.viewers)}",
           f"  change median {pct(ch, 50):.0f} ms, p95 {pct(ch, 95):.0f}, max {pct(ch, 100):.0f} "
           f"({len(ch)} changes); page load median {pct(ld, 50):.0f} ms, p95 {pct(ld, 95):.0f}",
           f"  Chromium key to painted map: median {pct(painted, 50):.0f} ms, p95 {pct(painted, 95):.0f} "
           f"({len(painted)} moves by {len(p.viewers)} sessions on {', '.join(p.viewers_on) or '-'})",
           f"  students per replica (first connect): {p.first_replica()}",
           "  server CPU per replica: " + ", ".join(f"{k} {100 * v / p.wall:.0f} %" for k, v in p.cpu.items())
           + f" of a core; {1000 * sum(p.cpu.values()) / max(1, runs):.0f} ms CPU per script run; client "
           f"(generator + Chromium) {100 * p.client_s / p.wall:.0f} %; RSS "
           + ", ".join(f"{k} {v:.0f} MB" for k, v in p.rss.items()),
           f"  the machine: load average {p.loadavg:.1f} on {os.cpu_count()} cores; the replicas' threads "
           f"waited {p.waited:.0f} s for a core ({100 * p.waited / p.wall:.0f} % of the phase)",
           f"  balancer health events: {'; '.join(p.health) or 'none'}"]
    for v, on in zip(p.viewers, p.viewers_on + ["-"] * len(p.viewers), strict=False):
        out += [f"  Chromium session on {on}: {e}" for e in v.errors[:3]]
    if math.isnan(p.killed_at):
        out += [f"  student {s.index} on {on_at(s, math.inf)}: {r.kind}: {r.error}"
                for s in p.students for r in s.errors][:10]
        return out
    k = p.killed_at
    on_killed = [s for s in p.students if on_at(s, k) == "r1"]
    hit = [s for s in p.students if not math.isnan(s.failed_at)]
    others = [s for s in p.students if s.errors and on_at(s, k) != "r1"]
    after = [r for s in p.students for t, r in s.replicas if t > k and r == "r1"]
    back = [s.back_at - k for s in hit if not math.isnan(s.back_at)]
    first_error = [s.failed_at - k for s in hit]
    failed = [r for s in hit for r in s.errors]
    out += [f"  r1 killed: the balancer marked it DOWN after {p.down_after:.2f} s; sessions opened on r1 "
            f"after the kill: {len(after)}",
            f"  students on r1 at the kill: {len(on_killed)}; students with a failed change: {len(hit)} "
            f"(all on r1: {all(on_at(s, k) == 'r1' for s in hit)}); students of other replicas with an "
            f"error: {len(others)}",
            f"  failed changes: {len(failed)} (the change each sent to the dead replica; "
            f"{sum(s.resent for s in hit)} of them learning rates the stage sent again after the reconnect), "
            f"re-applied: {sum(bool(s.setup_back) for s in hit)}",
            f"  their first failed change {pct(first_error, 50):.1f} s after the kill (median; they change "
            f"every ~{p.interval:g} s); view back on another replica {pct(back, 50):.1f} s after the kill "
            f"(median, max {pct(back, 100):.1f}), with the setup their change makes (the URL a healthy "
            f"replica gives for the same link and change): "
            f"{sum(bool(s.setup_back) for s in hit)} of {len(hit)}; moved to "
            + ", ".join(f"{r}: {sum(s.replicas[-1][1] == r for s in hit)}" for r in sorted(
                {s.replicas[-1][1] for s in hit}))]
    out += [f"  student {s.index} (on {on_at(s, k)}): {r.kind}: {r.error[:100]}"
            for s in p.students for r in s.errors][:6]
    out += [f"  student {s.index}: {s.failed[1]} {s.failed[2]} from ?{s.failed[0]}: back with ?{s.url_back}, "
            f"a healthy replica gives ?{s.url_oracle}" for s in hit if s.setup_back is False][:6]
    return out


async def topology_run(args) -> tuple[list[Phase], tuple[float, float] | None]:
    """One topology, started afresh: calibration and the three phases (with --failure-only, the
    failure phase alone), each described as it ends; the failure phase's students checked
    against the oracle."""
    calibrated = None
    with scaleout(args.replicas) as topo:
        pids = {r.name: r.proc.pid for r in topo.replicas}
        print(f"balancer {topo.url}; replicas " + ", ".join(f"{r.name} {r.url}" for r in topo.replicas)
              + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
        warm = [ProtocolUser(r.url, args.link, args.timeout) for r in topo.replicas]
        for u in warm:  # first load of each replica (imports, caches) outside the figures
            await u.open()
            await u.close()
        r1 = topo.replicas[0]
        if not args.failure_only:
            load_cpu, change_cpu, loads, changes = await calibrate(r1.url, r1.proc.pid, args)
            calibrated = load_cpu, change_cpu
            print(f"capacity ({args.calibrate} loads, {2 * args.calibrate} changes, one user alone on r1): "
                  f"CPU per page load {load_cpu:.0f} ms (wall median {pct(loads, 50):.0f} ms), per change "
                  f"{change_cpu:.0f} ms (wall median {pct(changes, 50):.0f} ms)", flush=True)
        phases: list[Phase] = []
        from conftest import launch_chromium
        from playwright.async_api import async_playwright

        async with async_playwright() as pw:
            browser = await launch_chromium(pw) if args.browsers else None
            if not args.failure_only:
                phases.append(await run_phase(f"single server (r1 directly, {args.users} students)", r1.url,
                                              None, {"r1": r1.proc.pid}, args, browser))
                print("\n".join(describe(phases[-1])), flush=True)
                phases.append(await run_phase(f"balanced ({args.replicas} replicas)", topo.url, topo, pids,
                                              args, browser))
                print("\n".join(describe(phases[-1])), flush=True)
            phases.append(await run_phase(f"balanced, r1 killed after {args.kill_after:g} s", topo.url,
                                          topo, pids, args, browser, kill="r1"))
            await oracle(topo.replicas[1].url, phases[-1].students, args.timeout)
            print("\n".join(describe(phases[-1])), flush=True)
            if browser:
                await browser.close()
    return phases, calibrated


def failure_row(n: int, p: Phase) -> str:
    """One failure run as a row of the summary table."""
    k = p.killed_at
    on_r1 = [s for s in p.students if on_at(s, k) == "r1"]
    hit = [s for s in p.students if not math.isnan(s.failed_at)]
    others = sum(len(s.errors) for s in p.students if on_at(s, k) != "r1")
    back = [s.back_at - k for s in hit if not math.isnan(s.back_at)]
    setup = sum(bool(s.setup_back) for s in hit)
    return (f"| {n} | {len(on_r1)} | {sum(len(s.errors) for s in hit)} | {sum(s.resent for s in hit)} | "
            f"{setup} of {len(hit)} ({100 * setup / max(1, len(hit)):.0f} %) | {others} | "
            f"{p.down_after:.2f} | {pct(back, 50):.1f} / {pct(back, 100):.1f} | {p.loadavg:.1f} |")


async def main_async(args) -> int:
    rows, errors = [], 0
    for n in range(1, args.repeat + 1):
        phases, calibrated = await topology_run(args)
        rows.append(failure_row(n, phases[-1]))
        errors += sum(len(s.errors) for p in phases[:-1] for s in p.students)
        if calibrated:
            load_cpu, change_cpu = calibrated
            print(f"\nOne core at one change per student every 5 s: {5 / (change_cpu / 1000):.0f} students "
                  f"({change_cpu:.0f} ms CPU per change); 200 students arriving within a minute: "
                  f"{200 * load_cpu / 1000 / 60:.2f} cores for their page loads, then "
                  f"{200 / 5 * change_cpu / 1000:.2f} cores for their changes")
    print(f"\n{args.users} students, {args.replicas} replicas, r1 killed {args.kill_after:g} s after "
          "the ramp:")
    print("| run | students on r1 | failed changes (sent to the dead r1) | of them re-sent by the stage | "
          "setup back with the change (oracle) | errors elsewhere | r1 DOWN after (s) | "
          "view back after the kill, median / max (s) | load average (1 min) |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if not args.failure_only:
        print(f"errors without a failure: {errors}")
    return 1 if errors else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicas", type=int, default=3, choices=range(2, 9), metavar="N")
    ap.add_argument("--users", type=int, default=30, choices=range(1, 301), metavar="N")
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between one student's changes")
    ap.add_argument("--seconds", type=float, default=40.0, help="seconds of changes per phase (at most 600)")
    ap.add_argument("--ramp", type=float, default=10.0, help="seconds over which students arrive")
    ap.add_argument("--browsers", type=int, default=3, choices=range(0, 6), metavar="N",
                    help="Chromium sessions beside the students")
    ap.add_argument("--kill-after", type=float, default=15.0, help="seconds after the ramp to kill r1")
    ap.add_argument("--retries", type=int, default=10, help="reconnect attempts after a failed change")
    ap.add_argument("--calibrate", type=int, default=20, help="page loads (and twice as many changes)")
    ap.add_argument("--link", default="/?steps=500", help="the Playground link every student loads")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds before a wait is an error")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1, choices=range(1, 11), metavar="N",
                    help="start the topology and run everything N times (a table of the failure runs)")
    ap.add_argument("--failure-only", action="store_true", help="only the failure phase (no calibration, "
                    "no single-server or balanced phase)")
    args = ap.parse_args()
    args.seconds = min(args.seconds, 600.0)
    if not 0 < args.kill_after < args.seconds:
        ap.error("--kill-after must fall inside --seconds")
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
