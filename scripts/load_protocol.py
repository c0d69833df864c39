"""Load test through Streamlit's own protocol: N simulated students on one server (or a balancer).

Each simulated user is what a browser tab is to the server, without the rendering: it opens the
app's WebSocket (/_stcore/stream) with the browser's subprotocol header, sends the BackMsg
rerun_script a browser sends (query string, page script hash, the state of every mounted widget,
the hashes of the messages it has cached, the browser's context info) and reads the ForwardMsgs
back (deltas, page_info_changed, script_finished), keeping a widget state and a message cache as
the Streamlit frontend does. The widgets' ids come from the page it received (found by their
keys), never hard-coded. tests/test_load_protocol.py checks this against Chromium: for the same
link and widget change both send the same widget states and receive the same elements.

    .venv/bin/python scripts/load_protocol.py [--users 10 30 100 300] [--interval 5 1]
        [--seconds 30] [--ramp 10] [--browsers 2] [--links 1000] [--url http://127.0.0.1:PORT]

Without --url it starts `streamlit run app.py` on a free loopback port with the Dockerfile's
flags and reads the server's CPU time and RSS from /proc/<pid>. For each interval and N: users
arrive over --ramp seconds, each loads the Playground link (--link) and then, once every
--interval seconds (+-20 %), changes one widget (run 1's learning rate, run 1's optimizer, the
surface or the step count) and waits for script_finished; every load and change is timed from
the message sent to script_finished received. --browsers Chromium sessions run beside them,
moving run 1's learning-rate slider at the same pace, timed in the page from keydown to the
redrawn map (bench_browser.py's probe): what a student sees under that load. Then --links
users load one distinct link each (own formula, step count and six learning rates: beyond
every cache's bound) and leave, and the server's RSS is read after all sessions have closed.

Only loopback targets are accepted; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import random
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import numpy as np
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from viz.stage import unpack  # noqa: E402  (the stage's data, read as its browser reads it)

#: the Dockerfile CMD's flags that apply to a loopback test server (address and port are chosen here)
DOCKER_FLAGS = ["--client.showErrorDetails", "none", "--client.toolbarMode", "viewer"]
SUCCESS = {ForwardMsg.FINISHED_SUCCESSFULLY}


def loopback(url: str) -> str:
    """``url`` without its trailing slash, if its host is a loopback address; ValueError otherwise."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if parts.scheme not in ("http", "https") or not ok:
        raise ValueError(f"{url!r}: only http(s) URLs on loopback hosts (127.0.0.0/8, ::1, localhost)")
    return url.rstrip("/")


# --- one simulated user: the browser's side of the protocol ---------------------------------------

class ProtocolError(RuntimeError):
    """The server's answer was not what a browser accepts: an exception shown, a failed run, a miss."""


def mounted_state(kind: str, w) -> WidgetState | None:
    """The state the browser registers for widget proto ``w`` (field ``kind`` of an Element) when it
    mounts it or when the server sets its value; None for widgets that hold none (buttons)."""
    s = WidgetState(id=w.id)
    if kind == "slider" and w.options:  # select_slider: the formatted options
        s.string_array_value.data[:] = (list(w.raw_value) if w.set_value
                                        else [w.options[int(i)] for i in w.default])
    elif kind == "slider":
        s.double_array_value.data[:] = list(w.value) if w.set_value else list(w.default)
    elif kind in ("selectbox", "radio"):
        if w.set_value:
            s.string_value = w.raw_value
        elif w.HasField("default"):
            s.string_value = w.options[w.default]
        else:
            return None
    elif kind == "button_group":
        s.string_array_value.data[:] = (list(w.raw_values) if w.set_value
                                        else [w.options[i].content for i in w.default])
    elif kind == "number_input":
        if not (w.set_value and w.HasField("value")) and not w.HasField("default"):
            return None
        v = w.value if w.set_value else w.default
        if w.data_type == NumberInput.INT:
            s.int_value = int(v)
        else:
            s.double_value = v
    elif kind == "checkbox":
        s.bool_value = w.value if w.set_value else w.default
    elif kind in ("text_input", "text_area"):
        s.string_value = w.value if w.set_value else w.default
    else:
        return None
    return s


@dataclass
class Run:
    """One script run as the user saw it: seconds from the rerun sent to script_finished, the
    elements' message hashes by delta path, and what went wrong."""
    kind: str
    seconds: float = float("nan")
    hashes: dict[tuple[int, ...], str] = field(default_factory=dict)
    error: str = ""


class ProtocolUser:
    """A browser tab on the app, speaking Streamlit's WebSocket protocol.

    ``await open()`` connects and loads ``link`` (path and query, e.g. "/?steps=300"); then
    ``await change(key, value)`` sets the widget whose key is ``key`` (its id is read from the
    page: "$$ID-<hash>-<key>") to ``value`` as the browser encodes it (the formatted option for
    select boxes and select sliders, a number for sliders and number boxes) and reruns.
    Every wait gives up after ``timeout`` seconds.
    """

    def __init__(self, url: str, link: str = "/", timeout: float = 60.0):
        self.url, self.timeout = loopback(url), timeout
        parts = urlsplit(link)
        self.page_name = parts.path.strip("/")
        self.query_string = parts.query
        self.page_script_hash = ""
        self.session_id = ""
        self.ws = None
        self.states: dict[str, WidgetState] = {}  # the mounted widgets' states, by id
        self.elements: dict[tuple[int, ...], object] = {}  # the last finished run's elements
        self.hashes: dict[tuple[int, ...], str] = {}
        self._cache: dict[str, list] = {}  # hash -> [message bytes, run count] (ForwardMsgCache)
        self._runs = 0
        self._max_age = 2
        self.sent: list[BackMsg] = []  # every BackMsg sent, for comparison with a browser's

    # connection ---------------------------------------------------------------------------------

    async def open(self) -> Run:
        """Connect and load the link: the browser's first rerun_script (no page hash yet)."""
        await self._connect()
        return await self.rerun("load")

    async def reconnect(self) -> Run:
        """A new socket that asks for the same session (as the browser does after a drop) and a
        rerun with the current URL and widgets; another replica starts a new session from the URL."""
        await self.close()
        await self._connect(self.session_id)
        return await self.rerun("reconnect")

    async def _connect(self, session_id: str = "") -> None:
        ws_url = "ws" + self.url[4:] + "/_stcore/stream"
        protocols = ["streamlit", "PLACEHOLDER_AUTH_TOKEN", *([session_id] if session_id else [])]
        self.ws = await connect(ws_url, subprotocols=protocols, origin=self.url, max_size=2**27,
                                ping_interval=None, open_timeout=self.timeout, close_timeout=2)

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
            self.ws = None

    # widgets -------------------------------------------------------------------------------------

    def widget(self, key: str) -> tuple[str, object]:
        """(kind, proto) of the widget with ``key`` on the current page."""
        for el in self.elements.values():
            kind = el.WhichOneof("type")
            w = getattr(el, kind)
            if getattr(w, "id", "").endswith("-" + key) and w.id.startswith("$$ID-"):
                return kind, w
        raise KeyError(f"no widget with key {key!r} on the page")

    def options(self, key: str) -> list[str]:
        return list(self.widget(key)[1].options)

    def value(self, key: str):
        """The value this tab would send for ``key`` (a string, a list or a number)."""
        s = self.states[self.widget(key)[1].id]
        which = s.WhichOneof("value")
        v = getattr(s, which)
        return list(v.data) if hasattr(v, "data") else v

    def figure(self, key: str) -> str:
        """The message hash of the chart with ``key``: equal hashes, equal figure bytes."""
        kind, w = self.widget(key)
        return next(self.hashes[p] for p, el in self.elements.items()
                    if getattr(getattr(el, kind), "id", None) == w.id)

    def component(self, key: str) -> dict:
        """The data the Playground's stage (a bidi_component with ``key``) was sent, unpacked."""
        return unpack(self.widget(key)[1].bytes)

    async def trigger(self, key: str, event: str, value, kind: str = "") -> Run:
        """What a custom component's setTriggerValue(event, value) sends: one rerun carrying the
        event in the component's trigger aggregator (a one-shot value, as the browser clears it)."""
        wid = f"$$STREAMLIT_INTERNAL_KEY_{self.widget(key)[1].id}__events"
        payload = json.dumps([{"event": event, "value": value}], separators=(",", ":"))  # as JSON.stringify
        self.states[wid] = WidgetState(id=wid, json_trigger_value=payload)
        try:
            return await self.rerun(kind or event)
        finally:
            self.states.pop(wid, None)

    async def move_lr(self, run: int, by: int) -> Run:
        """Run ``run``'s learning rate ``by`` stops along its slider on the Playground's stage: the
        browser redraws on its own and tells the server once (the stage's "lr" trigger)."""
        r = self.component("stage")["runs"][run]
        i = min(max(r["index"] + by, 0), len(r["lrs"]) - 1)
        return await self.trigger("stage", "lr", {"run": run, "lr": r["lrs"][i]}, "lr")

    async def change(self, key: str, value, kind: str = "") -> Run:
        wkind, w = self.widget(key)
        s = self.states.get(w.id) or mounted_state(wkind, w)
        which = s.WhichOneof("value")
        if which in ("string_array_value", "double_array_value"):
            getattr(s, which).data[:] = value if isinstance(value, list) else [value]
        elif which == "int_value":
            s.int_value = int(value)
        else:
            setattr(s, which, value)
        self.states[w.id] = s
        return await self.rerun(kind or key)

    # the run ----------------------------------------------------------------------------------------

    async def rerun(self, kind: str) -> Run:
        """Send rerun_script as the browser does and read the answer up to script_finished."""
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string
        cs.page_script_hash = self.page_script_hash
        cs.page_name = self.page_name if not self.page_script_hash else ""
        cs.widget_states.widgets.extend(self.states.values())
        cs.cached_message_hashes.extend(self._cache)
        ci = cs.context_info
        ci.timezone, ci.timezone_offset, ci.locale = "UTC", 0, "en-US"
        ci.url, ci.is_embedded, ci.color_scheme = f"{self.url}/{self.page_name}", False, "light"
        self.sent.append(msg)
        run = Run(kind)
        t0 = time.monotonic()
        try:
            await asyncio.wait_for(self._send_and_read(msg, run), self.timeout)
        except TimeoutError:
            run.error = f"timeout: no script_finished within {self.timeout:g} s"
        except ProtocolError as e:
            run.error = str(e)
        except Exception as e:  # the socket closed, or a message we could not read
            run.error = f"{type(e).__name__}: {e}"[:200]
        run.seconds = time.monotonic() - t0
        return run

    async def _send_and_read(self, msg: BackMsg, run: Run) -> None:
        await self.ws.send(msg.SerializeToString())
        elements: dict[tuple[int, ...], object] = {}
        popovers: set[tuple[int, ...]] = set()  # closed popovers: the browser mounts nothing in them
        status = None
        while status is None:
            fm = self._resolve(await self.ws.recv())
            which = fm.WhichOneof("type")
            if which == "new_session":
                self.page_script_hash = fm.new_session.page_script_hash
                self.session_id = fm.new_session.initialize.session_id or self.session_id
                self._max_age = fm.new_session.config.max_cached_message_age
            elif which == "navigation":  # an app with st.navigation: the page it shows
                self.page_script_hash = fm.navigation.page_script_hash
            elif which == "page_info_changed":
                self.query_string = fm.page_info_changed.query_string
            elif which == "delta":
                path = tuple(fm.metadata.delta_path)
                d = fm.delta
                if d.WhichOneof("type") == "new_element":
                    elements[path] = d.new_element
                    run.hashes[path] = fm.hash
                    if d.new_element.WhichOneof("type") == "exception":
                        raise ProtocolError(f"exception shown: {d.new_element.exception.message[:160]}")
                elif d.WhichOneof("type") == "add_block":
                    run.hashes[path] = fm.hash
                    if d.add_block.WhichOneof("type") == "popover" and not d.add_block.popover.open:
                        popovers.add(path)
            elif which == "script_finished":
                status = fm.script_finished
            elif which == "page_not_found":
                raise ProtocolError(f"page not found: {fm.page_not_found.page_name}")
        if status not in SUCCESS:
            raise ProtocolError(f"script finished with status {ForwardMsg.ScriptFinishedStatus.Name(status)}")
        self._finish(elements, run.hashes, popovers)

    def _resolve(self, data: bytes) -> ForwardMsg:
        """Parse one message; keep cacheable ones, replace a reference by its cached message (the
        frontend's ForwardMsgCache)."""
        fm = ForwardMsg.FromString(data)
        if fm.WhichOneof("type") == "ref_hash":
            entry = self._cache.get(fm.ref_hash)
            if entry is None:
                raise ProtocolError(f"cached message missing: {fm.ref_hash}")
            entry[1] = self._runs
            cached = ForwardMsg.FromString(entry[0])
            cached.metadata.CopyFrom(fm.metadata)
            return cached
        if fm.metadata.cacheable and fm.hash:
            self._cache.setdefault(fm.hash, [data, self._runs])[1] = self._runs
        return fm

    def _finish(self, elements, hashes, popovers) -> None:
        """The run is over: its elements are the page; widgets the page no longer has are dropped,
        new ones registered, and values the server set taken; the message cache ages by one run."""
        self.elements, self.hashes = elements, dict(hashes)
        mounted = {}
        for path, el in elements.items():
            if any(path[:k] in popovers for k in range(1, len(path))):
                continue
            kind = el.WhichOneof("type")
            w = getattr(el, kind)
            wid = getattr(w, "id", "")
            if not wid.startswith("$$ID-"):
                continue
            old = self.states.get(wid)
            new = mounted_state(kind, w) if old is None or getattr(w, "set_value", False) else old
            if new is not None:
                mounted[wid] = new
        self.states = mounted
        self._runs += 1
        self._cache = {h: e for h, e in self._cache.items() if self._runs - e[1] <= self._max_age}


# --- a student in a lecture: load a link, then change a widget every so often -------------------

#: widget changes and how often each is picked
ACTIONS = {"lr": 0.55, "steps": 0.15, "optimizer": 0.15, "surface": 0.15}
PLAYGROUND_OPTIMIZERS = 6  # run 1's optimizer is picked among the first few entries of its list


@dataclass
class Student:
    index: int
    runs: list[Run] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [f"{r.kind}: {r.error}" for r in self.runs if r.error]


async def next_change(user: ProtocolUser, rng: random.Random, walk: list[int]) -> Run:
    """One widget change picked at random: run 1's learning rate one grid step left or right (a
    bounded walk: at most 4 steps down, 1 up from where it started), run 1's optimizer, the
    surface (built-in ones) or the step count (a stop of its slider from 100 to 1,000)."""
    what = rng.choices(list(ACTIONS), weights=list(ACTIONS.values()))[0]
    if what == "lr":
        left = walk[0] > -4 and (walk[0] >= 1 or rng.random() < 0.5)
        walk[0] += -1 if left else 1
        return await user.move_lr(0, -1 if left else 1)
    if what == "optimizer":
        walk[0] = 0
        opts = [o for o in user.options("r0.opt")[:PLAYGROUND_OPTIMIZERS] if o != user.value("r0.opt")]
        return await user.change("r0.opt", rng.choice(opts), "optimizer")
    if what == "surface":
        opts = [o for o in user.options("surface")[:-1] if o != user.value("surface")]  # not the formula
        return await user.change("surface", rng.choice(opts), "surface")
    opts = [o for o in user.options("steps") if 100 <= float(o) <= 1000 and o != user.value("steps")[0]]
    return await user.change("steps", rng.choice(opts), "steps")


async def arrive(user: ProtocolUser, start_at: float, s: Student, keep: list) -> bool:
    """At ``start_at``, ``user`` loads its link; its runs go to ``s`` and the user to ``keep``.
    False when the socket could not be opened (an error run recorded)."""
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    keep.append(user)
    try:
        s.runs.append(await user.open())
    except Exception as e:  # the socket could not be opened
        s.runs.append(Run("load", error=f"connect: {type(e).__name__}: {e}"[:200]))
        return False
    return True


async def student(url: str, link: str, s: Student, start_at: float, stop_at: float, interval: float,
                  rng: random.Random, timeout: float, keep: list[ProtocolUser]) -> None:
    """Arrive at ``start_at``, load ``link``, change a widget every ``interval`` s (+-20 %) until
    ``stop_at``; at most (stop_at - start_at) / (0.8 interval) + 1 changes. The open user is put
    in ``keep`` (closed by the caller, so RSS is read with the sessions still held)."""
    user = ProtocolUser(url, link, timeout)
    if not await arrive(user, start_at, s, keep):
        return
    walk = [0]
    due = time.monotonic()
    for _ in range(int((stop_at - start_at) / (0.8 * interval)) + 1):
        if s.runs[-1].error:
            return  # an exception shown, a failed run or a student who gave up waiting
        due += interval * rng.uniform(0.8, 1.2)
        if due >= stop_at:
            return
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        try:
            s.runs.append(await next_change(user, rng, walk))
        except (KeyError, ValueError) as e:  # a widget missing from the page
            s.runs.append(Run("change", error=f"page: {e}"))
        due = max(due, time.monotonic() - interval)  # a late answer does not cause a burst


# --- the server, from /proc ------------------------------------------------------------------------

def server_pid(url: str) -> int | None:
    """The streamlit process listening on ``url``'s port, found by its command line (None if this
    machine runs none, e.g. behind a balancer on several ports)."""
    port = str(urlsplit(url).port)
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError):
                args = (d / "cmdline").read_bytes().decode(errors="replace").split("\0")
                if "streamlit" in args and "--server.port" in args and port in args:
                    return int(d.name)
    return None


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def active_sessions(url: str) -> int:
    """The server's own count of connected sessions (-1 if it does not answer within 60 s)."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=60) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("active_sessions "):
                    return int(float(line.split()[1]))
    except OSError:
        pass
    return -1


def thread_waits(pid: int) -> dict[int, float]:
    """Per thread of ``pid``: seconds it has spent runnable but waiting for a core (the run-queue
    delay in /proc/<pid>/task/<tid>/schedstat): what other processes on the machine cost it."""
    out = {}
    for t in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, IndexError, ValueError):
            out[int(t.name)] = int((t / "schedstat").read_text().split()[1]) / 1e9
    return out


@contextlib.contextmanager
def own_server() -> Iterator[str]:
    """`streamlit run app.py` on a free loopback port with the Dockerfile's flags."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import streamlit_server

    with streamlit_server(flags=DOCKER_FLAGS) as url:
        yield url


class Probe:
    """The server's CPU seconds and RSS, if its pid is known; while entered, sampled every ``every``
    s for the peak RSS and the seconds its threads waited for a core (``waited``; threads that end
    count up to their last sample)."""

    def __init__(self, pid: int | None, every: float = 0.5):
        self.pid, self.every, self.peak, self.waited = pid, every, float("nan"), float("nan")
        self._task: asyncio.Task | None = None
        self._waits: dict[int, float] = {}

    def _sample_waits(self) -> None:
        for tid, w in thread_waits(self.pid).items():
            self.waited += w - self._waits.get(tid, 0.0)  # a new thread: all its wait is new
            self._waits[tid] = w

    def cpu(self) -> float:
        return cpu_s(self.pid) if self.pid else float("nan")

    def rss(self) -> float:
        return rss_mb(self.pid) if self.pid else float("nan")

    async def _loop(self) -> None:
        while True:
            self.peak = max(self.peak, self.rss())
            self._sample_waits()
            await asyncio.sleep(self.every)

    def __enter__(self):
        self.peak = self.rss()
        if self.pid:
            self.waited, self._waits = 0.0, thread_waits(self.pid)
            self._task = asyncio.get_running_loop().create_task(self._loop())
        return self

    def __exit__(self, *exc) -> None:
        if self._task:
            self._task.cancel()
            self.peak = max(self.peak, self.rss())
            self._sample_waits()


# --- Chromium beside the simulated users: key to painted map --------------------------------------

@dataclass
class Viewer:
    """A real Chromium session: its load time, its key-to-painted latencies, its errors."""
    index: int
    load_s: float = float("nan")
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def open_viewer(browser, url: str, v: Viewer, timeout: float):
    """A fresh Chromium context on ``url``, waited for until the map is drawn and the script idle;
    returns (context, page)."""
    from bench_browser import IDLE, STAGE_PROBE

    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import VIEWPORT

    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    page.set_default_timeout(timeout * 1000)
    page.on("pageerror", lambda e: v.errors.append(f"page error: {str(e)[:160]}"))
    t = time.monotonic()
    await page.goto(url)
    await page.wait_for_function(f"() => ({STAGE_PROBE})() !== null")
    await page.wait_for_selector(IDLE)
    v.load_s = time.monotonic() - t
    return context, page


async def watch(page, v: Viewer, start_at: float, stop_at: float, interval: float) -> None:
    """From ``start_at`` to ``stop_at``, every ``interval`` s: press ArrowLeft / ArrowRight
    (alternately) on run 1's learning rate (on the stage) and time keydown to the first frame whose
    map holds the new run, in the page (bench_browser.py's ARM and STAGE_PROBE)."""
    from bench_browser import ARM, IDLE, STAGE_PROBE
    from playwright.async_api import Error as PlaywrightError

    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    thumb = page.locator(".stage .lr-input").first
    try:
        for i in range(int((stop_at - start_at) / interval) + 1):
            due = time.monotonic() + interval
            if due >= stop_at:
                break
            await thumb.focus()
            await page.evaluate(ARM, STAGE_PROBE)
            await thumb.press("ArrowLeft" if i % 2 == 0 else "ArrowRight")
            await page.wait_for_function("() => window.__t1 !== null")
            v.latencies.append(await page.evaluate("() => window.__t1 - window.__t0"))
            await page.wait_for_selector(IDLE)
            if await page.locator("[data-testid='stException']").count():
                v.errors.append("exception shown in the page")
            await asyncio.sleep(max(0.0, due - time.monotonic()))
    except PlaywrightError as e:  # timeouts included
        v.errors.append(f"playwright: {str(e).splitlines()[0][:160]}")


def client_cpu_s() -> float:
    """CPU seconds of this process and every process it started except the server: the load
    generator and Chromium with Playwright's driver (which share the server's cores)."""
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d.name))
    total, todo = 0.0, [os.getpid()]
    while todo:
        p = todo.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):
            if "streamlit" not in (Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")):
                total += cpu_s(p)
                todo.extend(kids.get(p, []))
    return total


# --- phases ----------------------------------------------------------------------------------------

@dataclass
class Phase:
    n: int
    interval: float
    students: list[Student]
    viewers: list[Viewer]
    wall: float
    cpu_s: float
    client_s: float
    rss: tuple[float, float, float, float]  # before, peak, with the sessions open, after they closed
    live: int
    loadavg: float  # the machine's 1-minute load average at the end of the phase (2 cores)
    waited_s: float  # seconds the server's threads waited for a core (other processes had it)

    @property
    def painted(self) -> list[float]:
        """The Chromium sessions' key-to-painted-map latencies, ms."""
        return [v for w in self.viewers for v in w.latencies]

    @property
    def server_runs(self) -> int:
        """Script runs the phase asked of the server: the simulated users' and the viewers'."""
        return (len(self.runs(False)) + len(self.runs(True))
                + sum(len(v.latencies) + (v.load_s == v.load_s) for v in self.viewers))

    def runs(self, load: bool) -> list[Run]:
        return [r for s in self.students for r in s.runs if (r.kind in ("load", "reconnect")) == load]

    def ms(self, load: bool = False) -> list[float]:
        return [1000 * r.seconds for r in self.runs(load) if not r.error]

    @property
    def errors(self) -> list[str]:
        return [e for s in self.students for e in s.errors] + [e for v in self.viewers for e in v.errors]


async def quiet(probe: Probe, limit: float) -> float:
    """Wait until the server uses under 10 % of a core over 2 s (the runs a previous phase left,
    e.g. loads whose users gave up, are done), at most ``limit`` s; returns the seconds waited."""
    t0 = time.monotonic()
    while probe.pid and time.monotonic() - t0 < limit:
        c = probe.cpu()
        await asyncio.sleep(2)
        if probe.cpu() - c < 0.2:
            break
    return time.monotonic() - t0


async def phase(url: str, probe: Probe, n: int, interval: float, args, browser=None) -> Phase:
    waited = await quiet(probe, args.quiet)
    if waited > 3:
        print(f"  (waited {waited:.0f} s for the server to finish the previous phase's runs)", flush=True)
    rng = random.Random(args.seed * 7919 + n)
    students = [Student(i) for i in range(n)]
    viewers = [Viewer(i) for i in range(args.browsers if browser else 0)]
    # the Chromium sessions load before the simulated users arrive, then watch through the phase
    opened = await asyncio.gather(*(open_viewer(browser, url + args.link, v, args.timeout) for v in viewers),
                                  return_exceptions=True)
    pages = []
    for v, o in zip(viewers, opened, strict=True):
        if isinstance(o, BaseException):
            v.errors.append(f"load: {str(o).splitlines()[0][:160]}")
        else:
            pages.append((v, *o))
    users: list[ProtocolUser] = []
    t0 = time.monotonic()
    stop = t0 + args.ramp + args.seconds
    before_rss, before_cpu, before_client = probe.rss(), probe.cpu(), client_cpu_s()
    with probe:
        tasks = [student(url, args.link, s, t0 + args.ramp * i / max(1, n), stop, interval,
                         random.Random(rng.random()), args.timeout, users) for i, s in enumerate(students)]
        # the viewers move once every simulated user has arrived
        tasks += [watch(page, v, t0 + args.ramp, stop, interval) for v, _, page in pages]
        await asyncio.gather(*tasks)
        wall = time.monotonic() - t0
        cpu, client = probe.cpu() - before_cpu, client_cpu_s() - before_client
        with_open, loadavg = probe.rss(), os.getloadavg()[0]
        live = await asyncio.to_thread(active_sessions, url)
    await asyncio.gather(*(u.close() for u in users), *(context.close() for _, context, _ in pages))
    await asyncio.sleep(args.settle)
    return Phase(n, interval, students, viewers, wall, cpu, client,
                 (before_rss, probe.peak, with_open, probe.rss()), live, loadavg, probe.waited)


def distinct_link(i: int, n: int) -> str:
    """The i-th of n different links: own formula surface, step count and six learning rates."""
    q = {"surface": "custom", "f": f"x^2 + {1 + i / 10:g}*y^2 + 0.3*sin(3*x)", "domain": "-3,3,-3,3",
         "steps": str(2000 - i % 1000), "optimizers": ",".join(["gd"] * 6)}
    for k in range(6):
        q[("gd" if k == 0 else f"gd{k + 1}") + ".lr"] = f"{1e-4 * (1 + i / n) * (1 + k):.6g}"
    return "/?" + urlencode(q)


async def memory(url: str, probe: Probe, args) -> tuple[list[tuple[int, float]], list[str], float]:
    """``args.links`` users, ``args.link_users`` at a time, each loading its own link and leaving.
    Returns (links done, RSS) every tenth of the way, the errors, and RSS ``args.settle`` s later."""
    rows, errors, done = [(0, probe.rss())], [], 0
    every = max(1, args.links // 10)
    todo = iter(range(args.links))

    async def visitor() -> None:
        nonlocal done
        for i in todo:  # shared: each link once
            user = ProtocolUser(url, distinct_link(i, args.links), args.timeout)
            try:
                run = await user.open()
            except Exception as e:
                run = Run("load", error=f"connect: {type(e).__name__}: {e}"[:200])
            await user.close()
            if run.error:
                errors.append(f"link {i}: {run.error}")
            done += 1
            if done % every == 0:
                rows.append((done, probe.rss()))
                print(f"  {done} links, RSS {rows[-1][1]:.0f} MB", flush=True)

    await asyncio.gather(*(visitor() for _ in range(args.link_users)))
    await asyncio.sleep(args.settle)
    return rows, errors, probe.rss()


async def alone(url: str, link: str, key: str, n: int, timeout: float,
                probe: Probe | None = None) -> tuple[list[float], float]:
    """One user alone on the server changes widget ``key`` ("lr": run 1's learning rate on the
    stage) ``n`` times, one option (or one unit) down and back: ms per change, and the server's
    CPU ms per change (nan without ``probe``)."""
    user = ProtocolUser(url, link, timeout)
    try:
        runs = [await user.open()]
        cpu = probe.cpu() if probe else float("nan")
        if key == "lr":  # run 1's learning rate on the stage, one stop down and back
            for k in range(n):
                runs.append(await user.move_lr(0, -1 if k % 2 == 0 else 1))
        else:
            v0 = user.value(key)
            w = user.widget(key)[1]
            v1 = [w.options[list(w.options).index(v0[0]) - 1]] if w.options else [v0[0] - 1]
            for k in range(n):
                runs.append(await user.change(key, v1 if k % 2 == 0 else v0))
        cpu = 1000 * ((probe.cpu() if probe else float("nan")) - cpu) / n
    finally:
        await user.close()
    if any(r.error for r in runs):
        raise ProtocolError(f"alone on {url}: {next(r.error for r in runs if r.error)}")
    return [1000 * r.seconds for r in runs[1:]], cpu


@contextlib.contextmanager
def trivial_server() -> Iterator[str]:
    """bench_browser.py's one-slider Streamlit page, served as the app is: the reference."""
    from bench_browser import TRIVIAL_APP

    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import streamlit_server

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "trivial.py").write_text(TRIVIAL_APP)
        with streamlit_server("trivial.py", cwd=tmp, flags=DOCKER_FLAGS) as url:
            yield url


# --- report -------------------------------------------------------------------------------------------

def pct(v: list[float], q: float) -> float:
    return float(np.percentile(v, q)) if v else float("nan")


def table(phases: list[Phase], args) -> list[str]:
    """One line per phase; the N at which p95 of a change passes 1 s, per interval."""
    cols = [  # header, unit, width, value of a phase
        ("interval", "(s)", 8, lambda p: f"{p.interval:g}"),
        ("users", "", 5, lambda p: f"{p.n}"),
        ("changes", "", 7, lambda p: f"{len(p.runs(False))}"),
        ("/s", "", 5, lambda p: f"{len(p.runs(False)) / p.wall:.1f}"),
        ("errors", "", 6, lambda p: f"{len(p.errors)}"),
        ("median", "(ms)", 6, lambda p: f"{pct(p.ms(), 50):.0f}"),
        ("p95", "(ms)", 6, lambda p: f"{pct(p.ms(), 95):.0f}"),
        ("max", "(ms)", 6, lambda p: f"{pct(p.ms(), 100):.0f}"),
        ("load", "p50 s", 6, lambda p: f"{pct(p.ms(True), 50) / 1000:.2f}"),
        ("load", "p95 s", 6, lambda p: f"{pct(p.ms(True), 95) / 1000:.2f}"),
        ("srv CPU", "(%)", 7, lambda p: f"{100 * p.cpu_s / p.wall:.0f}"),
        ("CPU per", "run ms", 7, lambda p: f"{1000 * p.cpu_s / max(1, p.server_runs):.0f}"),
        ("client", "CPU %", 6, lambda p: f"{100 * p.client_s / p.wall:.0f}"),
        ("RSS", "(MB)", 5, lambda p: f"{p.rss[0]:.0f}"),
        ("peak", "(MB)", 5, lambda p: f"{p.rss[1]:.0f}"),
        ("open", "(MB)", 5, lambda p: f"{p.rss[2]:.0f}"),
        ("closed", f"+{args.settle:g} s", 6, lambda p: f"{p.rss[3]:.0f}"),
        ("Chromium", "key>map ms", 10, lambda p: f"{pct(p.painted, 50):.0f}"),
        ("p95", "(ms)", 5, lambda p: f"{pct(p.painted, 95):.0f}"),
        ("srv wait", "(%)", 8, lambda p: f"{100 * p.waited_s / p.wall:.0f}"),
        ("load", "avg", 5, lambda p: f"{p.loadavg:.1f}"),
    ]
    out = [" ".join(f"{c[0]:>{c[2]}}" for c in cols), " ".join(f"{c[1]:>{c[2]}}" for c in cols)]
    out.append("-" * len(out[0]))
    out += [" ".join(f"{c[3](p):>{c[2]}}" for c in cols) for p in phases]
    for interval in dict.fromkeys(p.interval for p in phases):
        over = [p.n for p in phases if p.interval == interval and pct(p.ms(), 95) > 1000]
        out.append(f"every {interval:g} s: p95 of a change passes 1 s at N = {over[0]}" if over else
                   f"every {interval:g} s: p95 of a change stays under 1 s up to N = "
                   f"{max(p.n for p in phases if p.interval == interval)}")
    return out


async def main_async(args) -> int:
    stack = contextlib.ExitStack()
    url = loopback(args.url) if args.url else stack.enter_context(own_server())
    with stack:
        probe = Probe(server_pid(url))
        print(f"server {url}, pid {probe.pid or 'unknown'}, RSS {probe.rss():.0f} MB; "
              f"{os.cpu_count()} cores shared with this generator", flush=True)
        warm = ProtocolUser(url, args.link, args.timeout)
        first = await warm.open()
        await warm.close()
        print(f"first load {first.seconds:.2f} s {first.error}", flush=True)
        app_ms, app_cpu = await alone(url, args.link, "lr", 20, args.timeout, probe)
        with trivial_server() as trivial:
            ref_ms, ref_cpu = await alone(trivial, "/", "s", 20, args.timeout, Probe(server_pid(trivial)))
        reference = (f"One user alone, 20 changes: run 1's learning rate {pct(app_ms, 50):.0f} ms median "
                     f"(p95 {pct(app_ms, 95):.0f}), server CPU {app_cpu:.0f} ms per change; a one-slider "
                     f"Streamlit page (reference) {pct(ref_ms, 50):.0f} ms (p95 {pct(ref_ms, 95):.0f}), "
                     f"{ref_cpu:.0f} ms CPU; ratio {pct(app_ms, 50) / pct(ref_ms, 50):.1f}x (CPU "
                     f"{app_cpu / ref_cpu:.1f}x); load average {os.getloadavg()[0]:.1f}")
        print(reference, flush=True)
        phases = []
        async with contextlib.AsyncExitStack() as browsers:
            browser = None
            if args.browsers:
                from playwright.async_api import async_playwright

                sys.path.insert(0, str(ROOT / "tests"))
                from conftest import launch_chromium
                browser = await launch_chromium(await browsers.enter_async_context(async_playwright()))
                browsers.push_async_callback(browser.close)
            for n in args.users:  # the small loads first: a big one leaves the server a backlog
                for interval in args.interval:
                    p = await phase(url, probe, n, interval, args, browser)
                    phases.append(p)
                    print("\n".join(table([p], args)[3:4]), p.errors[:3], flush=True)
        phases.sort(key=lambda p: (args.interval.index(p.interval), p.n))
        if args.links:
            await quiet(probe, args.quiet)
        mem = await memory(url, probe, args) if args.links else None

    print(f"\nLoad through Streamlit's protocol: one server process ({'given' if args.url else 'own'}: "
          f"{url}); {os.cpu_count()} cores shared by the server, this generator and "
          f"{args.browsers} Chromium session(s); {args.ramp:g} s ramp + {args.seconds:g} s per phase; "
          f"link {args.link}")
    print(reference)
    print("\n".join(table(phases, args)))
    for p in phases:
        print(f"every {p.interval:g} s, N={p.n}: active sessions at the end {p.live}; loads "
              f"{len(p.runs(True))}; Chromium loads "
              f"{', '.join(f'{v.load_s:.1f} s' for v in p.viewers) or '-'}")
        for e in p.errors[:10]:
            print(f"  {e}")
    total = sum(len(p.errors) for p in phases)
    if mem:
        rows, errors, closed = mem
        total += len(errors)
        print(f"\nMemory: {args.links} distinct links (each its own formula surface, step count and six "
              f"learning rates), {args.link_users} users at a time, each closed after its load; errors "
              f"{len(errors)}")
        print(f"{'links':>6} {'RSS (MB)':>9}")
        for k, mb in rows:
            print(f"{k:>6} {mb:>9.0f}")
        print(f"RSS {args.settle:g} s after the last session closed: {closed:.0f} MB")
        for e in errors[:10]:
            print(f"  {e}")
    print(f"\ntotal errors: {total}")
    return 1 if total else 0


def positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        v = kind(text)
        if v <= 0:
            raise argparse.ArgumentTypeError(f"{text}: must be > 0")
        return v
    return parse


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=positive(int), nargs="*", default=[10, 30, 100, 300],
                    help="users per phase (none: only the memory phase)")
    ap.add_argument("--interval", type=positive(float), nargs="+", default=[5.0, 1.0],
                    help="seconds between one user's changes (5: a lecture, 1: a lab)")
    ap.add_argument("--seconds", type=positive(float), default=30, help="seconds of changes per phase")
    ap.add_argument("--ramp", type=float, default=10, help="seconds over which users arrive")
    ap.add_argument("--url", help="a running app (loopback only); default: start one")
    ap.add_argument("--link", default="/?steps=500", help="path and query every user loads")
    ap.add_argument("--browsers", type=int, default=2, help="Chromium sessions beside the users")
    ap.add_argument("--links", type=int, default=1000, help="distinct links for the memory phase (0: skip)")
    ap.add_argument("--link-users", type=positive(int), default=4, help="users at a time in the memory phase")
    ap.add_argument("--timeout", type=positive(float), default=60, help="seconds before a wait is an error")
    ap.add_argument("--settle", type=float, default=15, help="seconds after closing before RSS is read")
    ap.add_argument("--quiet", type=float, default=300,
                    help="at most so many seconds to wait before a phase for the server to be idle")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.url:
        try:
            loopback(args.url)
        except ValueError as e:
            ap.error(str(e))
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
