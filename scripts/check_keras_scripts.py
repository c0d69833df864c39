"""Run the Code panel's Keras scripts with Keras 3 and compare their last line with the app's runs.

    pip install --target /tmp/kpkgs keras==3.15.1      # not a project dependency
    PYTHONPATH=/tmp/kpkgs .venv/bin/python scripts/check_keras_scripts.py

Every optimizer in every form it has, under every kind of schedule (50 steps on Rosenbrock), and a
few other surfaces: descent_lab.script.keras_script writes the script, one python process runs them
all, and the final point is compared with the app's. A script that does not say it "ends elsewhere"
must agree to 1e-7 (relative to the distance travelled); the table shows every case. Exits non-zero
when a claim fails. (Keras is not a dependency, so this is a script, not a test; the update rules
themselves are tested against Keras by tests/test_keras_reference.py.)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import optimizers  # noqa: E402
from descent_lab import compute  # noqa: E402
from descent_lab.script import keras_difference, keras_script, run_scripts  # noqa: E402
from descent_lab.setup import RunSpec, Setup, forms, run_spec  # noqa: E402

STEPS = 50
SCHEDULES = {
    "constant": {"kind": "constant"},
    "step": {"kind": "step", "step_size": 15, "gamma": 0.5},
    "exponential": {"kind": "exponential", "gamma": 0.97},
    "cosine": {"kind": "cosine", "eta_min": 1e-4},
    "cosine T=30": {"kind": "cosine", "t_max": 30, "eta_min": 1e-4},
    "warm-up": {"kind": "constant", "warmup": 10, "warmup_start": 0.2},
}


def cases() -> dict[str, Setup]:
    out = {}
    for name in optimizers.names():
        for form in forms(name):
            for k, sched in SCHEDULES.items():
                spec = RunSpec(name, optimizers.rule(name).defaults(), sched, form)
                out[f"{name} {form} {k}"] = Setup(steps=STEPS, runs=(spec,))
    out["nadam pytorch momentum_decay=1"] = Setup(steps=STEPS, runs=(run_spec("nadam", momentum_decay=1.0),))
    out["adam keras wells"] = Setup(surface="wells", steps=STEPS, runs=(
        RunSpec("adam", optimizers.rule("adam").defaults() | {"lr": 0.1, "eps": 0.3}, form="keras"),))
    out["rmsprop keras formula"] = Setup(surface="custom", steps=STEPS, runs=(
        RunSpec("rmsprop", optimizers.rule("rmsprop").defaults(), form="keras"),),
        surface_params={"expression": "sin(x)*cosh(y/2) + (x - 1)^2/4", "domain": ((-3.0, 3.0), (-3.0, 3.0))})
    return out


def main() -> None:
    rows, failed = [], 0
    with tempfile.TemporaryDirectory() as folder:
        files, runs = {}, {}
        for key, setup in cases().items():
            tr = compute.trajectory(setup, setup.runs[0])
            text = keras_script(setup, tr)
            if text is None:
                rows.append((key, "no script: " + keras_difference(tr.optimizer)[:60], ""))
                continue
            path = str(Path(folder) / f"case{len(files)}.py")
            Path(path).write_text(text)
            files[key], runs[key] = path, (tr, text)
        printed = {path: lines[-1] for path, lines in
                   run_scripts(files.values(), cwd=folder, isolated=False).items()}
    for key, path in files.items():
        tr, text = runs[key]
        point = np.array([float(v) for v in printed[path].split()])
        gap = float(np.abs(point - tr.path[-1]).max() / np.abs(tr.path - tr.path[0]).max())
        prose = " ".join(line[2:] for line in text.splitlines() if line.startswith("# "))
        exact = "ends elsewhere" not in prose
        ok = gap < 1e-7 if exact else True
        failed += not ok
        rows.append((key, "claims the app's point" if exact else "says it ends elsewhere",
                     f"{gap:.1e}" + ("" if ok else "  FAILS")))
    print(f"Keras scripts against the app, {STEPS} steps; gap = max |script - app| / distance travelled")
    for r in rows:
        print(f"{r[0]:<36} {r[1]:<64} {r[2]}")
    print(f"{len(files)} scripts run, {len(rows) - len(files)} runs without a Keras script, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
