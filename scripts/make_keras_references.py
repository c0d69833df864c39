"""Record reference trajectories with Keras 3 into tests/fixtures/keras_reference.npz.

    pip install --target /tmp/kpkgs keras==3.15.1      # not a project dependency
    PYTHONPATH=/tmp/kpkgs KERAS_BACKEND=torch .venv/bin/python scripts/make_keras_references.py

Each case runs a float64 keras.Variable of shape (2,) under the keras.optimizers optimizer (and
learning-rate schedule) that our optimizer claims to match in the given form: the Keras form of
AdaGrad, RMSProp, Adam, AdamW and Nadam (optimizers.get(name, form="keras")), and the PyTorch
form of the rules Keras writes the same way (SGD, momentum, Nesterov at a constant rate; Nadam with
momentum_decay = 1). As in scripts/make_references.py, Keras is fed our own analytic gradient,
``surface.grad(w)``, so the comparison isolates the update rules. The Keras optimizer is built from
the registry's own ``keras_class`` and ``keras_args``, its schedule from ``Schedule.keras`` (what the
Keras code shown to users says).

The fixture holds ``cases`` (a JSON list of specs: surface, start, optimizer, form, every
hyperparameter, the schedule), ``path`` (N, STEPS+1, 2) and ``keras_version``.
tests/test_keras_reference.py replays every case with ``optimizers.run``; Keras is not needed there.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from check_keras import keras_path  # noqa: E402  (scripts/: the Keras loop on a surface)

import landscapes  # noqa: E402
import optimizers  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "keras_reference.npz"
STEPS = 200
START = {"rosenbrock": (-1.5, 2.0), "himmelblau": (-0.5, -0.5), "wells": (-3.2, -1.6),
         "elongated_bowl": (-2.8, 1.5), "beale": (-1.0, 1.5)}


def _case(surface, optimizer, form="keras", schedule=None, **hyper) -> dict:
    full = optimizers.rule(optimizer).defaults() | hyper
    parts = [optimizer, form, surface, *(f"{k}={v:g}" for k, v in hyper.items())]
    if schedule:
        parts.append("+".join(f"{k}={v}" for k, v in schedule.items()))
    return dict(id="-".join(parts), surface=surface, start=list(START[surface]), optimizer=optimizer,
                form=form, hyper={k: float(v) for k, v in full.items()},
                schedule=schedule or {"kind": "constant"})


def cases() -> list[dict]:
    c = _case
    out = []
    for name in ("adagrad", "rmsprop", "adam", "adamw", "nadam"):  # every Keras form, defaults
        out += [c("rosenbrock", name), c("himmelblau", name, lr=0.05)]
    out += [
        # other settings, and a large eps, where the root's eps shows
        c("rosenbrock", "adagrad", lr=0.5, eps=1e-6),
        c("wells", "adagrad", lr=0.5, eps=0.1),
        c("rosenbrock", "rmsprop", lr=0.003, beta=0.9),
        c("wells", "rmsprop", lr=0.05, beta=0.9, eps=0.01),
        c("rosenbrock", "adam", lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6),
        c("wells", "adam", lr=0.1, eps=0.3),
        c("elongated_bowl", "adamw", lr=0.05, weight_decay=0.1),
        c("wells", "adamw", lr=0.1, eps=0.3, weight_decay=0.05),
        c("wells", "nadam", lr=0.1, eps=0.5),
        c("beale", "nadam", lr=0.01, beta1=0.95, momentum_decay=0.02),  # Keras ignores the decay
        # Keras's own schedules that are ours exactly: step (staircase) and exponential decay, cosine
        c("rosenbrock", "adam", lr=0.03, schedule={"kind": "exponential", "gamma": 0.99}),
        c("himmelblau", "rmsprop", lr=0.05, schedule={"kind": "step", "step_size": 50, "gamma": 0.5}),
        c("rosenbrock", "nadam", lr=0.02, schedule={"kind": "cosine", "eta_min": 2e-3}),
        # PyTorch forms that Keras writes the same way (at a constant rate)
        c("rosenbrock", "gd", form="pytorch"),
        c("rosenbrock", "momentum", form="pytorch", lr=3e-4, beta=0.95),
        c("rosenbrock", "momentum_ewma", form="pytorch", lr=0.01, beta=0.9),
        c("himmelblau", "nesterov", form="pytorch", lr=0.005, beta=0.8),
        c("rosenbrock", "nadam", form="pytorch", momentum_decay=1.0),
    ]
    ids = [x["id"] for x in out]
    assert len(set(ids)) == len(ids), "case ids must be unique"
    return out


def keras_run(spec: dict, steps: int = STEPS) -> np.ndarray:
    """Positions (steps+1, 2) of one case under Keras."""
    keras.config.set_floatx("float64")
    rule = optimizers.rule(spec["optimizer"]).in_form(spec["form"])
    args = rule.keras_args(SimpleNamespace(**spec["hyper"]))
    # the schedule the Keras scripts write (Schedule.keras_schedule), so the fixture checks it too
    name, kw = optimizers.Schedule(**spec["schedule"]).keras_schedule(args["learning_rate"], steps)
    if name:
        args["learning_rate"] = getattr(keras.optimizers.schedules, name)(**kw)
    opt = getattr(keras.optimizers, rule.keras_class)(**args)
    return keras_path(opt, landscapes.get(spec["surface"]), spec["start"], steps)


def main() -> None:
    specs = cases()
    paths = []
    for spec in specs:
        path = keras_run(spec)
        if not np.all(np.isfinite(path)) or np.linalg.norm(path[-1] - path[0]) < 1e-2:
            raise RuntimeError(f"{spec['id']}: the Keras run is not finite or barely moves")
        paths.append(path)
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(FIXTURE, cases=np.array(json.dumps(specs)), path=np.stack(paths),
                        keras_version=np.array(keras.__version__))
    print(f"wrote {len(specs)} cases x {STEPS} steps to {FIXTURE.relative_to(ROOT)} "
          f"({FIXTURE.stat().st_size / 1024:.0f} KiB, Keras {keras.__version__}, {keras.backend.backend()})")


if __name__ == "__main__":
    main()
