"""The Dockerfile: what it promises (no Docker engine runs here), and that the exact command it
runs starts the app and answers its own health check."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "Dockerfile").read_text()


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


def test_the_exact_command_starts_the_app_and_is_healthy():
    """Run CMD as the image would (from the app folder, `streamlit` on PATH), then the
    HEALTHCHECK command itself, then fetch the page."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.Popen(exec_form("CMD"), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            health = subprocess.run(exec_form("HEALTHCHECK"), env=env, capture_output=True, timeout=20)
            if health.returncode == 0:
                break
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
            assert time.monotonic() < deadline, "no healthy answer within 60 s"
            time.sleep(0.5)
        page = urllib.request.urlopen("http://127.0.0.1:8501/", timeout=10).read().decode()
        assert "<title>Streamlit</title>" in page or "streamlit" in page.lower()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
