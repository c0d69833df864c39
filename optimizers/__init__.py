"""Descent Lab's optimizers: pure NumPy, PyTorch's update rules, batched runs.

    import optimizers
    opt = optimizers.get("adam", lr=0.01, beta1=0.9, beta2=0.999)
    tr = optimizers.run(opt, surface, start=(-1.5, 2.0), steps=500)
    tr.path, tr.loss, tr.diverged_at
"""

from .analysis import Outcome, outcome
from .rules import LR_ROLE, RULES, Rule
from .run import BATCH, DIVERGENCE_FACTOR, NOISE, SEED, STEPS, Optimizer, Trajectory, get, names, rule, run
from .schedules import KINDS as SCHEDULES
from .schedules import Schedule

__all__ = [
    "BATCH", "DIVERGENCE_FACTOR", "LR_ROLE", "NOISE", "RULES", "SCHEDULES", "SEED", "STEPS",
    "Optimizer", "Outcome", "Rule", "Schedule", "Trajectory", "get", "names", "outcome", "rule", "run",
]
