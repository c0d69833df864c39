"""The app's server computes with one BLAS thread (app_pages/blas_threads.py: two threads wait on each
other whenever the browser or another session holds a core)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import json
import numpy
from threadpoolctl import threadpool_info
from streamlit.testing.v1 import AppTest
blas = lambda: [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
before = blas()
AppTest.from_file("app.py", default_timeout=120).run()
print(json.dumps({"before": before, "after": blas()}))
"""


def test_a_script_run_of_the_app_leaves_numpys_blas_with_one_thread():
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True, timeout=180)
    threads = json.loads(out.stdout.strip().splitlines()[-1])
    assert threads["after"] and set(threads["after"]) == {1}
    if (os.cpu_count() or 1) > 1:  # the limit is the app's doing: a fresh process has a thread per core
        assert max(threads["before"]) > 1
