"""The protocol load generator (scripts/load_protocol.py): its simulated user is a browser tab as the
server sees it, and the short form of the load test runs clean.

The long form (N = 10..300 users, the memory phase) is the script; its figures are in docs/load.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import ROOT, VIEWPORT
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

sys.path.insert(0, str(ROOT / "scripts"))
import load_protocol as lp

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
#: noise on, so the seed's number box (an integer widget) is on the page too
LINK = "/?steps=300&noise=0.1"


def run(coro):
    """Run ``coro`` on its own event loop in a worker thread: Playwright's sync API (the session's
    browser fixture) holds an event loop in this thread once a browser test has run."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="module")
def own_server():
    """A server started as the script starts it, warmed by one load (imports, first caches)."""
    async def warm(url):
        user = lp.ProtocolUser(url, "/?steps=300")
        assert (await user.open()).error == ""
        await user.close()

    with lp.own_server() as url:
        run(warm(url))
        yield url


@pytest.mark.parametrize("url", ["http://10.0.0.5:8501", "http://example.com", "http://192.168.1.2",
                                 "ftp://127.0.0.1/", "http://127.0.0.1.example.com:80"])
def test_only_loopback_targets(url):
    with pytest.raises(ValueError, match="loopback"):
        lp.ProtocolUser(url)


def test_loopback_targets_accepted():
    assert lp.loopback("http://127.0.0.1:8501/") == "http://127.0.0.1:8501"
    assert lp.loopback("http://localhost:8501") == "http://localhost:8501"
    assert lp.loopback("http://[::1]:8501") == "http://[::1]:8501"


def test_the_cli_refuses_a_remote_target():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "load_protocol.py"), "--url",
                           "http://192.168.0.10:8501"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "loopback" in done.stderr


def test_short_load_run(own_server):
    """Three users arrive, load the link and change a widget every second for a few seconds: no
    error, every load and change answered by script_finished, the server's CPU and RSS read."""
    args = argparse.Namespace(seconds=5, ramp=1, link="/?steps=300", browsers=0, timeout=30, settle=0,
                              quiet=10, seed=1)

    async def go():
        probe = lp.Probe(lp.server_pid(own_server))
        assert probe.pid is not None
        return await lp.phase(own_server, probe, 3, 1.0, args)

    p = run(go())
    assert p.errors == []
    assert [sum(r.kind == "load" for r in s.runs) for s in p.students] == [1, 1, 1]
    runs = p.runs(False)
    assert len(runs) >= 6  # about 3 users x 4-5 changes
    assert all(r.seconds == r.seconds and r.seconds < args.timeout and r.hashes for r in runs)
    assert {r.kind for r in runs} <= set(lp.ACTIONS)
    assert p.cpu_s > 0
    assert p.rss[0] > 50 and p.rss[1] >= p.rss[0]
    assert p.live == 3


def test_a_change_changes_the_figure_and_back(own_server):
    """The learning rate one stop left (the stage's trigger) redraws the stage; back where it was,
    the stage's bytes are those of the first run again (a reference to the tab's cached copy)."""

    async def go():
        user = lp.ProtocolUser(own_server, "/?steps=300")
        try:
            assert (await user.open()).error == ""
            first = user.figure("stage")
            left = await user.move_lr(0, -1)
            assert left.error == "" and "gd.lr=0.0005" in user.query_string
            moved = user.figure("stage")
            back = await user.move_lr(0, 1)
            assert back.error == ""
            assert first in user.sent[-1].rerun_script.cached_message_hashes
            return first, moved, user.figure("stage"), user.query_string
        finally:
            await user.close()

    first, moved, again, query = run(go())
    assert moved != first
    assert again == first
    assert "gd.lr=0.001" in query


@pytest.mark.browser
def test_the_same_link_and_change_as_chromium(app_url, browser):
    """A browser and a protocol user load the same link and move run 1's learning rate one step
    left: they send the same rerun requests (query string, page, every widget's id and value,
    cached message hashes) and receive the same elements (message hashes by position: the same
    figure bytes) in both runs."""
    sent, got = [], []

    def on_ws(ws):
        ws.on("framesent", lambda b: sent.append(BackMsg.FromString(b)))
        ws.on("framereceived", lambda b: got.append(ForwardMsg.FromString(b)))

    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.on("websocket", on_ws)
        page.goto(app_url + LINK)
        page.wait_for_selector(IDLE, timeout=60_000)
        page.wait_for_selector(".stage .lr-input", timeout=60_000)
        thumb = page.locator(".stage .lr-input").first
        thumb.focus()
        thumb.press("ArrowLeft")
        deadline = time.monotonic() + 60
        while sum(m.WhichOneof("type") == "script_finished" for m in got) < 2:
            assert time.monotonic() < deadline, "the browser's second run did not finish"
            page.wait_for_timeout(100)
    finally:
        context.close()

    async def protocol_user():
        user = lp.ProtocolUser(app_url, LINK)
        try:
            load = await user.open()
            change = await user.move_lr(0, -1)
            return user.sent, [load, change]
        finally:
            await user.close()

    user_sent, runs = run(protocol_user())
    assert [r.error for r in runs] == ["", ""]

    def request(m: BackMsg) -> tuple:
        cs = m.rerun_script
        states = {w.id: w.SerializeToString(deterministic=True) for w in cs.widget_states.widgets}
        return cs.query_string, cs.page_script_hash, cs.page_name, states, sorted(cs.cached_message_hashes)

    assert [m.WhichOneof("type") for m in sent] == ["rerun_script", "rerun_script"]
    assert [request(m) for m in user_sent] == [request(m) for m in sent]
    widgets = {w.id.rsplit("-", 1)[1] for w in sent[1].rerun_script.widget_states.widgets}
    assert {"r0.opt", "surface", "steps", "seed", "panel"} <= widgets
    assert any(w.id.endswith("__events") and json.loads(w.json_trigger_value)[0]["event"] == "lr"
               for w in sent[1].rerun_script.widget_states.widgets)  # the stage's lr trigger

    def browser_runs() -> list[dict]:
        out, cur = [], {}
        for m in got:
            which = m.WhichOneof("type")
            if which == "delta":
                cur[tuple(m.metadata.delta_path)] = m.ref_hash or m.hash
            elif which == "script_finished":
                out.append(cur)
                cur = {}
        return out

    assert browser_runs() == [r.hashes for r in runs]
    map_path = next(p for p, h in runs[0].hashes.items() if len(p) == 4 and h != runs[1].hashes[p])
    assert runs[0].hashes[map_path] != runs[1].hashes[map_path]  # the figure did change


def test_reconnect_keeps_the_setup(own_server):
    """A dropped socket reconnects as the browser does (asking for its session back, rerunning with
    its URL and widgets): same session on the same server, the same setup on the page."""

    async def go():
        user = lp.ProtocolUser(own_server, "/?steps=300")
        try:
            assert (await user.open()).error == ""
            assert (await user.change("steps", "400")).error == ""
            before = user.session_id, user.query_string, user.figure("stage")
            again = await user.reconnect()
            return before, (user.session_id, user.query_string, user.figure("stage")), again
        finally:
            await user.close()

    before, after, again = run(go())
    assert again.error == ""
    assert before[0] and after == before
    assert "steps=400" in after[1]
