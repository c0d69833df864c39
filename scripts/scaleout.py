"""Run deploy/'s topology on this machine without Docker: HAProxy in front of N app replicas.

    .venv/bin/python scripts/scaleout.py [--replicas 3] [--port 8501] [--seconds 3600]

starts N replicas, each the image's own command (the Dockerfile's CMD, `streamlit run app.py`)
on its own loopback port, and HAProxy (Debian's package: apt-get install haproxy) with
deploy/haproxy.cfg, its `server` lines pointed at those ports; waits until the balancer reports
every replica UP and answers /_stcore/health itself, prints the address, and stops everything
after --seconds or on Ctrl-C. Everything listens on 127.0.0.1 only.

``scaleout(n)`` is the same as a context manager for tests and scripts: it yields a
``Topology`` that can kill a replica, drain it, and read the balancer's view of every replica
through HAProxy's admin socket.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "haproxy.cfg"
COOKIE = "DL_REPLICA"  # the balancer's stickiness cookie (deploy/haproxy.cfg)
BACKEND = "app"
SERVER_LINE = re.compile(r"^(\s*)server\s+r(\d+)\s+\S+\s+cookie\s+r\2\s*$")
MAX_SECONDS = 24 * 3600


def free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports: the sockets are held open together while the system picks
    them (one at a time, a port just released can be picked again: two replicas got the same one)."""
    with contextlib.ExitStack() as held:
        socks = [held.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


def image_command() -> list[str]:
    """The Dockerfile's CMD (exec form), the command every replica runs."""
    joined = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    (cmd,) = [ln.split(None, 1)[1] for ln in joined.splitlines() if ln.startswith("CMD ")]
    return json.loads(cmd)


def replica_command(port: int) -> list[str]:
    """The image's command with this interpreter's streamlit, on 127.0.0.1:``port``."""
    cmd = image_command()
    assert cmd[0] == "streamlit", cmd
    swap = {"--server.address": "127.0.0.1", "--server.port": str(port)}
    args = [f"{a.split('=', 1)[0]}={swap[a.split('=', 1)[0]]}" if a.split("=", 1)[0] in swap else a
            for a in cmd[1:]]
    assert all(f"{k}={v}" in args for k, v in swap.items()), args
    return [sys.executable, "-m", "streamlit", *args]


def balancer_config(ports: list[int]) -> str:
    """deploy/haproxy.cfg with its `server rK appK:8501 cookie rK` lines replaced by one line per
    port (rK at 127.0.0.1:port); every other line is kept as it is."""
    lines = CONFIG.read_text().splitlines()
    at = [i for i, ln in enumerate(lines) if SERVER_LINE.match(ln)]
    if not at or at != list(range(at[0], at[0] + len(at))):
        raise ValueError(f"{CONFIG}: expected one block of `server rK appK:8501 cookie rK` lines")
    indent = SERVER_LINE.match(lines[at[0]]).group(1)
    servers = [f"{indent}server r{k} 127.0.0.1:{p} cookie r{k}" for k, p in enumerate(ports, 1)]
    return "\n".join(lines[:at[0]] + servers + lines[at[-1] + 1:]) + "\n"


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, wait: float = 10.0) -> None:
    """End ``proc``'s process group (``sig``, then SIGKILL after ``wait`` s)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Replica:
    name: str  # the balancer's server name and cookie value: r1, r2, ...
    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class Topology:
    url: str  # the balancer's address: what users open
    replicas: list[Replica]
    balancer: subprocess.Popen
    socket: Path  # HAProxy's admin socket
    folder: Path  # config and logs
    killed_at: dict[str, float] = field(default_factory=dict)

    def replica(self, name: str) -> Replica:
        return next(r for r in self.replicas if r.name == name)

    def admin(self, command: str) -> str:
        """One command on HAProxy's runtime API (its admin socket); its answer."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.socket))
            s.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def servers(self) -> dict[str, dict[str, str]]:
        """The balancer's view of each replica (`show stat`): status (UP, DOWN, DRAIN, ...),
        scur (connections now), stot (in all), lastchg, check_status, ..."""
        text = self.admin("show stat").lstrip("# ")
        return {row["svname"]: row for row in csv.DictReader(io.StringIO(text))
                if row["pxname"] == BACKEND and row["svname"] not in ("FRONTEND", "BACKEND")}

    def status(self, name: str) -> str:
        return self.servers()[name]["status"]

    def wait_status(self, name: str, status: str, timeout: float = 30.0) -> float:
        """Wait until the balancer shows replica ``name`` as ``status``; the seconds waited."""
        t0 = time.monotonic()
        while (s := self.status(name)) != status:
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"{name} is {s}, not {status}, after {timeout:.0f} s")
            time.sleep(0.02)
        return time.monotonic() - t0

    def kill(self, name: str) -> float:
        """SIGKILL replica ``name`` (a crash: no goodbye to its browsers); the monotonic time of the kill."""
        r = self.replica(name)
        os.killpg(r.proc.pid, signal.SIGKILL)
        self.killed_at[name] = time.monotonic()
        r.proc.wait(timeout=10)
        return self.killed_at[name]

    def set_state(self, name: str, state: str) -> None:
        """`ready`, `drain` or `maint` (the runtime API's `set server`)."""
        answer = self.admin(f"set server {BACKEND}/{name} state {state}").strip()
        if answer:
            raise RuntimeError(answer)

    def cpu_seconds(self) -> dict[str, float]:
        return {r.name: cpu_seconds(r.proc.pid) for r in self.replicas if r.alive()}

    def balancer_log(self) -> str:
        return (self.folder / "haproxy.log").read_text(errors="replace")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.read().decode().strip() == "ok"
    except OSError:
        return False


@contextlib.contextmanager
def scaleout(n: int = 3, port: int | None = None, timeout: float = 120.0,
             cwd: Path = ROOT) -> Iterator[Topology]:
    """Start ``n`` replicas and the balancer (on ``port``, a free one by default); yield the
    Topology once the balancer reports every replica UP; stop everything afterwards."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        raise RuntimeError("no haproxy: apt-get install haproxy (Debian's package)")
    folder = Path(tempfile.mkdtemp(prefix="descent-scaleout-"))
    *ports, lb_port = free_ports(n + 1)
    lb_port = port or lb_port
    replicas: list[Replica] = []
    balancer = None
    try:
        for k, p in enumerate(ports, 1):
            log = folder / f"r{k}.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen(replica_command(p), cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                        start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
            replicas.append(Replica(f"r{k}", p, proc, log))
        (folder / "haproxy.cfg").write_text(balancer_config(ports))
        sock = folder / "admin.sock"
        env = {**os.environ, "LB_BIND": f"127.0.0.1:{lb_port}", "HAPROXY_ADMIN_SOCKET": str(sock)}
        with open(folder / "haproxy.log", "wb") as out:
            balancer = subprocess.Popen([haproxy, "-db", "-f", str(folder / "haproxy.cfg")], cwd=folder,
                                        stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env)
        topo = Topology(f"http://127.0.0.1:{lb_port}", replicas, balancer, sock, folder)
        deadline = time.monotonic() + timeout
        while True:
            dead = [r.name for r in replicas if not r.alive()]
            if dead or balancer.poll() is not None:
                logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                                 for p in sorted(folder.glob("*.log")))
                raise RuntimeError(f"exited during start: {dead or 'haproxy'}\n{logs}")
            with contextlib.suppress(OSError):
                if sock.exists() and all(s["status"] == "UP" for s in topo.servers().values()) \
                        and _healthy(topo.url):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"not every replica UP within {timeout:.0f} s")
            time.sleep(0.2)
        yield topo
    finally:
        if balancer is not None:
            _stop(balancer)
        for r in replicas:
            _stop(r.proc)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicas", type=int, default=3, choices=range(1, 17), metavar="N")
    ap.add_argument("--port", type=int, default=8501, help="the balancer's port on 127.0.0.1")
    ap.add_argument("--seconds", type=float, default=3600,
                    help=f"stop after this long (at most {MAX_SECONDS})")
    args = ap.parse_args()
    stop = time.monotonic() + min(args.seconds, MAX_SECONDS)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with scaleout(args.replicas, port=args.port) as topo:
        for r in topo.replicas:
            print(f"{r.name}: {r.url} (pid {r.proc.pid})")
        print(f"Descent Lab on {args.replicas} replicas: {topo.url}  (admin socket {topo.socket}); "
              "Ctrl-C stops", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while time.monotonic() < stop:
                time.sleep(min(1.0, max(0.0, stop - time.monotonic())))
    print("stopped")


if __name__ == "__main__":
    main()
