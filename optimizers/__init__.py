"""Descent Lab's optimizers: pure NumPy, PyTorch's update rules, batched runs.

    import optimizers
    opt = optimizers.get("adam", lr=0.01, beta1=0.9, beta2=0.999)
    tr = optimizers.run(opt, surface, start=(-1.5, 2.0), steps=500)
    tr.path, tr.loss, tr.diverged_at
"""

from .analysis import Outcome, outcome
from .rounding import Rounding
from .rules import FORMS, LR_ROLE, RULES, Form, Rule
from .run import (
    BATCH,
    DIVERGENCE_FACTOR,
    NOISE,
    SEED,
    STEPS,
    Optimizer,
    Trajectory,
    check_rounding,
    get,
    names,
    rule,
    run,
)
from .schedules import KINDS as SCHEDULES
from .schedules import Schedule

__all__ = [
    "BATCH", "DIVERGENCE_FACTOR", "FORMS", "LR_ROLE", "NOISE", "RULES", "SCHEDULES", "SEED", "STEPS", "Form",
    "Optimizer", "Outcome", "Rounding", "Rule", "Schedule", "Trajectory", "check_rounding", "get", "names",
    "outcome", "rule", "run",
]
