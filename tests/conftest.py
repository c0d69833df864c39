"""Shared fixtures. The browser ones are lazy: the Streamlit server and Chromium only start
when a test marked ``browser`` asks for them, so the NumPy tests stay fast.

The server and browser helpers are plain functions so scripts/bench_browser.py can reuse them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPTEST_TIMEOUT = 60
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 768}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(app: str | Path = "app.py", cwd: str | Path = ROOT,
                     timeout: float = 60.0, flags: Sequence[str] = ()) -> Iterator[str]:
    """Run ``streamlit run app`` (with extra command-line ``flags``) on a free port from ``cwd``; yield
    its URL once /_stcore/health says ok."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *flags]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with server(cmd, cwd, env, f"http://127.0.0.1:{port}", "/_stcore/health", timeout, says="ok") as url:
        yield url


@contextlib.contextmanager
def server(cmd: Sequence[str], cwd, env: dict, url: str, probe: str, timeout: float,
           says: str | None = None) -> Iterator[str]:
    """Run ``cmd`` (a server at ``url``) from ``cwd``; yield ``url`` once ``url + probe`` answers
    (with the text ``says``, when given). The server runs in its own process group so it and
    anything it spawned are ended together."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 -- closed in the finally below
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env=env)

    def server_log() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")

    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[2]} exited with code {proc.returncode}:\n{server_log()}")
            try:
                with urllib.request.urlopen(url + probe, timeout=2) as r:
                    if says is None or r.read().decode().strip() == says:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[2]} did not answer {url + probe} within {timeout:.0f} s:\n"
                                   f"{server_log()}")
            time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        log.close()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_chromium(pw)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    yield pg
    context.close()


def ok(at):
    """Run an AppTest and assert that no exception was shown; returns it for chaining."""
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def open_page(file: str):
    """The app under AppTest, switched to the page ``file`` through its navigation."""
    from streamlit.testing.v1 import AppTest

    at = ok(AppTest.from_file(str(ROOT / "app.py"), default_timeout=APPTEST_TIMEOUT))
    at.switch_page(file)
    return ok(at)


def follow_playground_link(at, label: str = "Open in the Playground", nth: int = 0):
    """Follow the page's ``nth`` link labelled ``label`` to the Playground as a browser does: the
    Playground, in the same session, with the link's query in the address bar. The Playground then
    writes the same query back (no second history entry, so Back takes one press)."""
    from urllib.parse import parse_qsl

    links = [e.proto for e in at.get("page_link") if e.proto.label == label]
    assert links[nth].page == "", "a link to the Playground (the default page)"
    query = dict(parse_qsl(links[nth].query_string, keep_blank_values=True))
    at.query_params.clear()
    at.query_params.update(query)
    at.switch_page("app_pages/playground.py")
    ok(at)
    assert dict(at.query_params) == query
    return at


def assert_on_playground(at, setup) -> None:
    """The Playground shows ``setup``: its surface, runs and settings are in the widgets."""
    assert at.selectbox(key="surface").value == setup.surface
    for i, r in enumerate(setup.runs):
        assert at.selectbox(key=f"r{i}.opt").value == r.name
        for k, v in r.hyper.items():
            assert at.session_state[f"r{i}.{k}"] == pytest.approx(v)
    assert at.select_slider(key="steps").value == setup.steps
    for k, v in setup.surface_params.items():
        assert at.session_state[f"surface.{setup.surface}.{k}"] == pytest.approx(v)
    x, y = setup.start_point()
    assert at.session_state[f"start.{setup.surface}.x"] == pytest.approx(x)
    assert at.session_state[f"start.{setup.surface}.y"] == pytest.approx(y)


def mount_stage(page, payload: bytes) -> None:
    """viz/stage.js alone in ``page`` (no host behind it, so nothing is answered and plotly.js is not
    loaded): its module with ``mount`` and ``unpack`` on window, mounted on ``payload`` in #host."""
    import base64

    from viz.stage import STAGE_CSS, STAGE_JS, module_text

    page.set_content("<div id='host'></div>")
    page.add_style_tag(content=STAGE_CSS.read_text())
    page.add_script_tag(type="module", content=module_text(STAGE_JS)
                        + "\nwindow.__stage = { mount, unpack };")
    page.wait_for_function("() => window.__stage")
    page.evaluate("(b64) => { window.__bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));"
                  " window.__stage.mount(document.getElementById('host'), window.__bytes, {}); }",
                  base64.b64encode(payload).decode())


@contextlib.contextmanager
def jupyter_lab(root_dir: str | Path, timeout: float = 90.0) -> Iterator[str]:
    """A real JupyterLab on loopback, no token, serving ``root_dir``, its kernels importing this
    checkout; yields its URL once /api/status answers. The news and update checks are off (the
    server's only reasons to reach the network); --allow-root lets it run as root, as CI does."""
    port = free_port()
    cmd = [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", "--ip", "127.0.0.1",
           "--port", str(port), "--IdentityProvider.token=", "--ServerApp.password=",
           f"--ServerApp.root_dir={root_dir}", "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JUPYTER_PLATFORM_DIRS": "1"}
    with server(cmd, root_dir, env, f"http://127.0.0.1:{port}", "/api/status", timeout) as url:
        yield url


def notebook_file(path: Path, cells: Sequence[str]) -> Path:
    """A notebook of code ``cells`` (nbformat 4), for a test to open in JupyterLab."""
    import json

    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}},
          "cells": [{"cell_type": "code", "id": f"c{n}", "metadata": {}, "execution_count": None,
                     "outputs": [], "source": src} for n, src in enumerate(cells)]}
    path.write_text(json.dumps(nb))
    return path


def run_cell(page, n: int, timeout: float = 120_000) -> None:
    """Run cell ``n`` of the open notebook (click into it, Shift+Enter) and wait until it has run.
    A kernel that has only just said idle can miss the first request: it is sent again then."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(n)
    prompt = ("(n) => document.querySelectorAll('.jp-Notebook .jp-Cell')[n]"
              ".querySelector('.jp-InputPrompt').textContent")
    for _ in range(3):
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        with contextlib.suppress(Exception):
            page.wait_for_function(f"(n) => /\\[(\\*|\\d+)\\]/.test(({prompt})(n))", arg=n, timeout=10_000)
            break
    page.wait_for_function(f"(n) => /\\[\\d+\\]/.test(({prompt})(n))", arg=n, timeout=timeout)
