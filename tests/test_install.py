"""``pip install .``: the wheel built from a copy of the checkout, installed into a new virtualenv,
used from a directory far from the checkout: ``descent-lab export``, the installed app under
AppTest, and ``descent-lab --server.port N`` serving it.

Nothing is downloaded: the wheel is built with this interpreter's setuptools
(``--no-build-isolation``) and installed with ``--no-index``; the new virtualenv sees this one's
packages through a .pth file, and ``pip check`` there fails if the wheel asks for anything they
do not provide.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socketserver
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
JUNK = (".git", ".venv", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".hypothesis", "build",
        "dist", "*.egg-info", "out", "screenshots")


def run(*cmd, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{cmd}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("build")
    src = tmp / "src"  # a copy: building in place would leave build/ and *.egg-info in the checkout
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*JUNK))
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "--disable-pip-version-check", "-w", tmp / "dist", src, cwd=tmp)
    (whl,) = (tmp / "dist").glob("descent_lab-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A new virtualenv with the wheel installed; returns its bin directory."""
    return install(wheel, tmp_path_factory.mktemp("venv"))


def install(wheel: Path, env_dir: Path) -> Path:
    """A new virtualenv in ``env_dir`` with ``wheel`` installed; returns its bin directory."""
    run(sys.executable, "-m", "venv", "--without-pip", env_dir, cwd=env_dir)
    python = env_dir / "bin" / "python"
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                  cwd=env_dir).stdout.strip()
    (Path(purelib) / "pinned_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = (sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check")
    # --no-deps --force-reinstall: installed here even if this virtualenv already has descent-lab;
    # then pip check: the wheel's dependencies are met by the pinned ones it sees
    run(*pip, "install", "--no-index", "--no-deps", "--force-reinstall", wheel, cwd=env_dir)
    run(*pip, "check", cwd=env_dir)
    return env_dir / "bin"


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """A working directory with nothing of the checkout in it."""
    d = tmp_path / "elsewhere"
    d.mkdir()
    return d


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, **extra}


def test_wheel_has_the_app_and_the_pinned_dependencies(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        (meta,) = (n for n in names if n.endswith(".dist-info/METADATA"))
        requires = [ln.split(": ", 1)[1] for ln in z.read(meta).decode().splitlines()
                    if ln.startswith("Requires-Dist: ") and "extra ==" not in ln]
        extras = [ln.split(": ", 1)[1] for ln in z.read(meta).decode().splitlines()
                  if ln.startswith("Requires-Dist: ") and "extra ==" in ln]
        (entry,) = (n for n in names if n.endswith(".dist-info/entry_points.txt"))
        entry_points = z.read(entry).decode()
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    assert requires == [ln for ln in lines if ln and not ln.startswith("#")]
    assert extras == ['anywidget>=0.9; extra == "notebook"']  # the notebook widget, optional
    assert "descent-lab = descent_lab.launch:main" in entry_points
    app = {f"descent_lab/app/{f}" for f in ("app.py", ".streamlit/config.toml", "assets/icon.png",
                                            "static/plotly.min.js")}
    pages = {f"descent_lab/app/app_pages/{p.name}" for p in (ROOT / "app_pages").iterdir()
             if p.suffix in (".py", ".js", ".css")}
    modules = {f"{p.relative_to(ROOT)}" for pkg in ("specs", "landscapes", "optimizers", "viz", "descent_lab")
               for p in (ROOT / pkg).glob("*.py")}
    modules |= {f"viz/{f}" for f in ("stage.js", "stage.css", "payload.js", "playback.js", "net_stage.js")}
    assert app | pages | modules <= names, sorted(app | pages | modules - names)
    assert not [n for n in names if n.startswith(("tests/", "scripts/", "docs/", "app_pages/", "app.py"))]


def test_export_from_another_directory(venv, elsewhere):
    env = clean_env()
    where = run(venv / "python", "-c", "import descent_lab, landscapes, optimizers, viz; "
                "print(*(m.__file__ for m in (descent_lab, landscapes, optimizers, viz)))",
                cwd=elsewhere, env=env).stdout.split()
    assert all(Path(f).is_relative_to(venv.parent) for f in where), where  # not the checkout
    help_ = run(venv / "descent-lab", "export", "--help", cwd=elsewhere, env=env).stdout
    assert help_.startswith("usage: descent-lab export") and "--gif FILE" in help_
    done = run(venv / "descent-lab", "export", "--surface", "himmelblau", "--optimizers", "gd,adam",
               "--steps", "20", "--csv", "runs.csv", "--png", "end.png", "--width", "200",
               cwd=elsewhere, env=env)
    assert [ln.split()[0] for ln in done.stdout.splitlines()] == ["end.png", "runs.csv"]
    rows = (elsewhere / "runs.csv").read_text().splitlines()
    assert rows[0].startswith("step,run,optimizer,x,y,loss") and len(rows) == 1 + 2 * 21
    assert (elsewhere / "end.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # python -m descent_lab is the same command line
    again = run(venv / "python", "-m", "descent_lab", "--help", cwd=elsewhere, env=env).stdout
    assert again.startswith("usage: python -m descent_lab") and "export" in again


def test_streamlit_options_go_to_streamlit(venv, elsewhere):
    done = subprocess.run([str(venv / "descent-lab"), "--server.prot", "8502"], cwd=elsewhere,
                          env=clean_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "No such option '--server.prot'" in done.stderr and "--server.port" in done.stderr
    assert "streamlit run --help" in done.stderr


def test_installed_app_runs_its_pages(venv, elsewhere):
    """The installed app.py under AppTest: navigation, every page file found beside it, no exception."""
    script = """
import sys
from descent_lab.launch import app_file
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(str(app_file()), default_timeout=60).run()
assert not at.exception, [e.message for e in at.exception]
at.switch_page("app_pages/learn_3_ewma.py").run()
assert not at.exception, [e.message for e in at.exception]
print(app_file())
print(at.title[0].value)
"""
    out = run(venv / "python", "-c", script, cwd=elsewhere, env=clean_env(), timeout=180).stdout.splitlines()
    assert Path(out[0]).is_relative_to(venv.parent) and out[0].endswith("descent_lab/app/app.py")
    assert "moving average" in out[1].lower(), out


class _Recorder(socketserver.ThreadingTCPServer):
    """A stand-in HTTP(S) proxy on loopback: records the first line of each request, answers nothing."""

    daemon_threads = True

    def __init__(self):
        self.requests: list[str] = []

        class Handler(socketserver.StreamRequestHandler):
            def handle(inner):
                inner.server.requests.append(inner.rfile.readline(500).decode(errors="replace").strip())

        super().__init__(("127.0.0.1", 0), Handler)


def wait_healthy(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log.read_text()
        with contextlib.suppress(OSError), urllib.request.urlopen(
                f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            if r.read() == b"ok":
                return
        assert time.monotonic() < deadline, "no healthy answer within 60 s:\n" + log.read_text()
        time.sleep(0.3)


def test_descent_lab_command_serves_the_app(venv, elsewhere):
    """`descent-lab --server.port N` from another directory: healthy, the page served, Streamlit's
    options passed through, and no request to another host while it starts (a proxy that records
    every outside request the server makes through Python: requests and urllib use HTTP(S)_PROXY)."""
    proxy = _Recorder()
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    port = free_port()
    env = clean_env(HTTP_PROXY=proxy_url, HTTPS_PROXY=proxy_url, http_proxy=proxy_url, https_proxy=proxy_url,
                    NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    log = elsewhere / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(venv / "descent-lab"), "--server.port", str(port)], cwd=elsewhere,
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(proc, port, log)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            assert r.status == 200 and b"<div id=\"root\">" in r.read()
        time.sleep(1)  # what the server does just after it starts (Streamlit's banner)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        proxy.shutdown()
        proxy.server_close()
    text = log.read_text()
    assert f"http://localhost:{port}" in text, text  # the banner, from the installed config.toml
    assert proxy.requests == [], proxy.requests


def test_plotly_js_is_the_pinned_packages_file():
    """static/plotly.min.js (served to the stage, shipped in the wheel) is the plotly package's own
    file for the version requirements.txt pins: after a new pin, copy the new one in."""
    import plotly

    pinned = (ROOT / "static" / "plotly.min.js").read_bytes()
    own = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    assert f"plotly=={plotly.__version__}" in (ROOT / "requirements.txt").read_text().split()
    assert pinned == own, "static/plotly.min.js is not this plotly's: copy package_data/plotly.min.js"


def files_of(root: Path) -> dict[str, tuple[int, int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_mode, p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


@contextlib.contextmanager
def read_only(env_dir: Path):
    """``env_dir`` with every write bit off; the bits come back afterwards (for the clean-up)."""
    modes = {p: p.stat().st_mode for p in [env_dir, *env_dir.rglob("*")] if not p.is_symlink()}
    for p, mode in modes.items():
        p.chmod(mode & ~0o222)
    try:
        yield
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


def as_another_user(home: Path) -> list[str]:
    """The command prefix that runs a command as a user who owns nothing of the install: ``nobody``
    when the tests run as root (CI does), else this (non-root) user; ``home`` is made theirs."""
    if os.geteuid() != 0:
        return []
    shutil.chown(home, "nobody", "nogroup")
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


@pytest.mark.browser
def test_read_only_install_serves_the_playground_as_another_user(wheel, browser, tmp_path):
    """The wheel in a virtualenv whose every file is read-only, `descent-lab` started by a user who
    owns none of it: the Playground's map and Plotly's axes are drawn, plotly.js comes from the
    install, the server prints no warning, and not one file of the install changed."""
    from conftest import VIEWPORT
    from playwright.sync_api import expect

    shared = Path(tempfile.mkdtemp(prefix="descent-lab-ro-"))  # pytest's tmp_path is root's alone (0700)
    try:
        shared.chmod(0o755)
        env_dir, home, cwd = shared / "venv", shared / "home", shared / "cwd"
        for d in (env_dir, home, cwd):
            d.mkdir()
        bin_dir = install(wheel, env_dir)
        before = files_of(env_dir)
        port = free_port()
        log = tmp_path / "server.log"
        with read_only(env_dir), log.open("wb") as out:
            proc = subprocess.Popen(
                [*as_another_user(home), str(bin_dir / "descent-lab"), "--server.port", str(port),
                 "--server.address", "127.0.0.1"],
                cwd=cwd, env=clean_env(HOME=str(home)), stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
            try:
                wait_healthy(proc, port, log)
                context = browser.new_context(viewport=VIEWPORT)
                try:
                    page = context.new_page()
                    page.goto(f"http://127.0.0.1:{port}/")
                    page.wait_for_function(  # the landscape and the runs, then Plotly's axes
                        "() => { const s = document.querySelector('.stage');"
                        " return s && s.dataset.drawn && s.dataset.axes"
                        " && s.querySelector('.stage-land img'); }",
                        timeout=60_000)
                    expect(page.locator(".stage-map .xtick text").first).to_be_visible()
                    ticks = page.locator(".stage-map .xtick text, .stage-map .ytick text").all_text_contents()
                    assert len([t for t in ticks if t.strip()]) >= 4, ticks
                    expect(page.locator("[data-testid='stException']")).to_have_count(0)
                finally:
                    context.close()
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/app/static/plotly.min.js") as r:
                    assert r.read() == (ROOT / "static" / "plotly.min.js").read_bytes()
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
        assert files_of(env_dir) == before
        text = log.read_text()
        assert f"http://localhost:{port}" in text, text
        assert "warning" not in text.lower() and "error" not in text.lower(), text
    finally:
        shutil.rmtree(shared)


def test_dev_requirements_pin_the_cpu_build_of_torch():
    """A new Linux x86_64 machine gets PyTorch's CPU build (PyPI's torch there is a CUDA build of
    several GB); every other platform one exact release; and the torch installed here is a CPU build."""
    import torch
    from packaging.requirements import Requirement

    lines = (ROOT / "requirements-dev.txt").read_text().splitlines()
    torches = [Requirement(ln) for ln in lines if ln.startswith("torch")]
    for system, machine in [("Linux", "x86_64"), ("Linux", "aarch64"), ("Darwin", "arm64"),
                            ("Windows", "AMD64")]:
        env = {"platform_system": system, "platform_machine": machine}
        (pin,) = [str(r.specifier) for r in torches if r.marker is None or r.marker.evaluate(env)]
        assert pin == ("==2.13.0+cpu" if (system, machine) == ("Linux", "x86_64") else "==2.13.0"), pin
    assert torch.version.cuda is None and torch.__version__.startswith("2.13.0")
