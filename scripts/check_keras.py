"""Check the reference card's Keras claims by running Keras 3's optimizers next to ours.

    pip install --target /tmp/kpkgs keras==3.15.1      # not a project dependency
    PYTHONPATH=/tmp/kpkgs KERAS_BACKEND=torch .venv/bin/python scripts/check_keras.py

Keras (torch backend, float64) updates a (2,) variable with our analytic gradient
for 300 steps on each surface; our run with the settings the card gives is compared
step by step. The card says which pairs take the same steps (momentum, Nesterov, and
Nadam with momentum_decay = 1) and which differ by where eps sits (AdaGrad, RMSProp,
Adam); the table shows both, as the largest distance between the two paths relative
to the distance travelled.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import landscapes
import optimizers

STEPS = 300
K = keras.optimizers

#: (label, Keras optimizer factory, our optimizer name and settings, the card's claim)
CASES = [
    ("SGD", lambda: K.SGD(learning_rate=1e-3), ("gd", {"lr": 1e-3}), "same"),
    ("SGD momentum", lambda: K.SGD(learning_rate=1e-3, momentum=0.9),
     ("momentum", {"lr": 1e-3, "beta": 0.9}), "same"),
    ("SGD momentum, lr (1 - beta)", lambda: K.SGD(learning_rate=1e-2 * (1 - 0.9), momentum=0.9),
     ("momentum_ewma", {"lr": 1e-2, "beta": 0.9}), "same"),
    ("SGD Nesterov", lambda: K.SGD(learning_rate=1e-3, momentum=0.9, nesterov=True),
     ("nesterov", {"lr": 1e-3, "beta": 0.9}), "same"),
    ("Adagrad, sum starts at 0", lambda: K.Adagrad(learning_rate=0.1, initial_accumulator_value=0.0,
                                                   epsilon=1e-10),
     ("adagrad", {"lr": 0.1, "eps": 1e-10}), "eps inside the root"),
    ("RMSprop", lambda: K.RMSprop(learning_rate=1e-2, rho=0.99, epsilon=1e-8),
     ("rmsprop", {"lr": 1e-2, "beta": 0.99, "eps": 1e-8}), "eps inside the root"),
    ("Adam", lambda: K.Adam(learning_rate=1e-2, beta_1=0.9, beta_2=0.999, epsilon=1e-8),
     ("adam", {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}), "eps on the uncorrected root"),
    ("Nadam", lambda: K.Nadam(learning_rate=1e-2, beta_1=0.9, beta_2=0.999, epsilon=1e-8),
     ("nadam", {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "momentum_decay": 1.0}), "same"),
    ("Nadam vs psi = 0.004", lambda: K.Nadam(learning_rate=1e-2, beta_1=0.9, beta_2=0.999, epsilon=1e-8),
     ("nadam", {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}), "differs"),
]
SURFACES = [("rosenbrock", (-1.5, 2.0)), ("himmelblau", (-0.5, -0.5)), ("elongated_bowl", (-2.8, 1.5))]


def keras_path(opt, surface, start, steps: int = STEPS) -> np.ndarray:
    """Positions (steps+1, 2) of a float64 keras.Variable that Keras optimizer ``opt`` moves with
    our analytic gradient ``surface.grad`` (so only the update rules differ)."""
    w = keras.Variable(np.array(start, dtype=np.float64), dtype="float64")
    path = [np.array(start, dtype=float)]
    for _ in range(steps):
        g = surface.grad(np.asarray(keras.ops.convert_to_numpy(w), dtype=float))
        opt.apply_gradients([(keras.ops.convert_to_tensor(g, dtype="float64"), w)])
        path.append(np.asarray(keras.ops.convert_to_numpy(w), dtype=float))
    return np.array(path)


def main() -> None:
    keras.config.set_floatx("float64")
    print(f"Keras {keras.__version__} ({keras.backend.backend()} backend, float64) against Descent Lab, "
          f"{STEPS} steps; difference = max |ours - Keras| / max |step from the start|")
    print(f"{'Keras optimizer':<30} {'ours':<50} {'the card says':<28} " +
          " ".join(f"{name:>15}" for name, _ in SURFACES))
    for label, make, (name, hyper), claim in CASES:
        diffs = []
        for sname, start in SURFACES:
            s = landscapes.get(sname)
            ours = optimizers.run(optimizers.get(name, **hyper), s, start=start, steps=STEPS).path
            theirs = keras_path(make(), s, start)
            scale = np.abs(ours - ours[0]).max() or 1.0
            diffs.append(float(np.abs(ours - theirs).max() / scale))
        ours_text = f"{name}({', '.join(f'{k}={v:g}' for k, v in hyper.items())})"
        print(f"{label:<30} {ours_text:<50} {claim:<28} " + " ".join(f"{d:15.2e}" for d in diffs))


if __name__ == "__main__":
    main()
