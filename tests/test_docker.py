"""The Dockerfile: what it promises (no Docker engine runs here), and that the exact command it
runs, from exactly the files it copies, serves the app and answers its own health check."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import VIEWPORT, free_port
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "Dockerfile").read_text()
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def instruction(name: str) -> list[str]:
    """The arguments of every ``name`` instruction, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", TEXT)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(name + " ")]


def exec_form(name: str) -> list[str]:
    (args,) = instruction(name)
    args = args.split("CMD", 1)[-1].strip() if name == "HEALTHCHECK" else args
    return json.loads(args)


def test_small_image_non_root_pinned():
    assert instruction("FROM") == ["python:3.11-slim"]
    users = instruction("USER")
    assert users and users[-1] not in ("root", "0")
    assert instruction("EXPOSE") == ["8501"]
    assert any("pip install -r requirements.txt" in r for r in instruction("RUN"))
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    reqs = [ln for ln in lines if ln and not ln.startswith("#")]
    assert reqs and all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.+]*", r) for r in reqs), reqs
    # only the app is copied in: no tests, no .venv
    copied = " ".join(instruction("COPY"))
    assert "tests" not in copied and ".venv" not in copied
    assert "--chown" not in copied  # the app's files stay root's: the user it runs as cannot change them


def test_command_listens_everywhere_without_telemetry_or_tracebacks():
    cmd = exec_form("CMD")
    assert cmd[:3] == ["streamlit", "run", "app.py"]
    assert "--server.address=0.0.0.0" in cmd and "--server.port=8501" in cmd
    assert "--browser.gatherUsageStats=false" in cmd
    assert "--client.showErrorDetails=none" in cmd
    assert "--server.fileWatcherType=none" in cmd  # no source watcher per session: the code never changes
    assert any("STREAMLIT_BROWSER_GATHER_USAGE_STATS=false" in e for e in instruction("ENV"))


def test_health_check_uses_python_not_curl():
    check = exec_form("HEALTHCHECK")
    assert check[0] == "python" and "/_stcore/health" in check[-1]
    used = " ".join(instruction("RUN") + instruction("HEALTHCHECK") + instruction("CMD"))
    assert "curl" not in used and "wget" not in used


def image_files(app_dir: Path) -> None:
    """Put in ``app_dir`` (the image's WORKDIR) exactly what the Dockerfile's COPY instructions copy."""
    assert instruction("WORKDIR") == ["/app"]
    for args in instruction("COPY"):
        *sources, dest = [a for a in args.split() if not a.startswith("--")]
        target = app_dir / dest
        for source in sources:
            path = ROOT / source
            if path.is_dir():  # Docker copies a folder's contents into dest
                shutil.copytree(path, target, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__"))
            else:
                into = dest.endswith("/") or dest == "." or target.is_dir()
                (target if into else target.parent).mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target / path.name if into else target)


@pytest.mark.browser
def test_the_exact_command_serves_the_app_from_what_the_image_holds(tmp_path, browser):
    """Run CMD as the image would: in a folder holding only what the Dockerfile copies, `streamlit`
    on PATH, the checkout not importable; the port moved to a free one (a stray server on 8501
    must not answer for it). Then the HEALTHCHECK command itself, then the Playground in Chromium,
    which runs app.py and the page (the health check alone passes before any page code runs)."""
    app = tmp_path / "app"
    image_files(app)
    port = free_port()
    cmd = [a.replace("--server.port=8501", f"--server.port={port}") for a in exec_form("CMD")]
    health = [a.replace(":8501/", f":{port}/") for a in exec_form("HEALTHCHECK")]
    assert f"--server.port={port}" in cmd and f":{port}/_stcore/health" in health[-1]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=app, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(health, cwd=app, env=env, capture_output=True, timeout=20).returncode:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no healthy answer within 60 s:\n" + log.read_text()
            time.sleep(0.5)
        context = browser.new_context(viewport=VIEWPORT)
        try:
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector(".stage .stage-land img", timeout=60_000)  # the stage drew its map
            page.wait_for_selector(IDLE, timeout=60_000)
            expect(page.locator("[data-testid='stException']")).to_have_count(0)
            # .streamlit/config.toml's viewer toolbar: no Deploy button, even on localhost
            expect(page.locator("[data-testid='stMainMenu']")).to_be_visible()
            expect(page.locator("[data-testid='stAppDeployButton']")).to_have_count(0)
            icon = page.evaluate("document.querySelector(\"link[rel='shortcut icon']\").href")
        finally:
            context.close()
        with urllib.request.urlopen(icon, timeout=10) as r:  # the page icon, served from the image's files
            assert r.read(8) == b"\x89PNG\r\n\x1a\n"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
