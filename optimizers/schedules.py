"""Learning-rate schedules, matching torch.optim.lr_scheduler.

The rate for update t = 0, 1, ... (torch calls ``scheduler.step()`` after each
``optimizer.step()``):

    constant     lr_t = lr
    step         lr_t = lr * gamma^floor(t / step_size)             (StepLR)
    exponential  lr_t = lr * gamma^t                                 (ExponentialLR)
    cosine       lr_t = eta_min + (lr - eta_min) (1 + cos(pi t / T)) / 2
                                                                     (CosineAnnealingLR)
    warm-up      lr_t *= s + (1 - s) min(t, W) / W                   (LinearLR, chained)

Warm-up multiplies any schedule, as torch's ChainedScheduler([LinearLR, ...])
does (exactly so for cosine when eta_min = 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from specs import Param, grid_125

KINDS = ("constant", "step", "exponential", "cosine")

PARAMS = {
    "step_size": Param("step_size", 100, 1, 100_000, "Step size (steps)", scale="integer",
                       help="The rate is multiplied by γ every this many steps."),
    "gamma": Param("gamma", 0.5, 1e-6, 1.0, "Decay factor gamma", grid=grid_125(1e-6, 1.0),
                   help="γ: the factor of each decay."),
    "t_max": Param("t_max", 0, 0, 100_000, "Cosine period T (0 = run length)", scale="integer",
                   help="Steps from the full rate down to the minimum rate."),
    "eta_min": Param("eta_min", 0.0, 0.0, 10.0, "Minimum rate", grid=grid_125(0.0, 10.0),
                     help="The rate at the bottom of the cosine."),
    "warmup": Param("warmup", 0, 0, 100_000, "Warm-up steps", scale="integer",
                    help="Steps over which the rate rises linearly to its full value (0 = none)."),
    "warmup_start": Param("warmup_start", 0.1, 1e-6, 1.0, "Warm-up start factor", grid=grid_125(1e-6, 1.0),
                          help="The fraction of the rate the warm-up starts from."),
}
USES = {
    "constant": (),
    "step": ("step_size", "gamma"),
    "exponential": ("gamma",),
    "cosine": ("t_max", "eta_min"),
}


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule; parameters may be scalars or arrays of R values."""

    kind: str = "constant"
    step_size: int = 100
    gamma: float = 0.5
    t_max: int = 0
    eta_min: float = 0.0
    warmup: int = 0
    warmup_start: float = 0.1

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown schedule {self.kind!r}; choose one of {', '.join(KINDS)}")
        for name, p in PARAMS.items():
            object.__setattr__(self, name, p.check(getattr(self, name)))

    def rates(self, lr, steps: int) -> np.ndarray:
        """Learning rate of each update: shape (steps,) or (steps, R) for array settings."""
        nd = max(np.ndim(lr), *(np.ndim(getattr(self, name)) for name in PARAMS))
        t = np.arange(steps, dtype=float).reshape(-1, *[1] * nd)
        if self.kind in ("step", "exponential"):
            power = t if self.kind == "exponential" else np.floor(t / self.step_size)
            rate = lr * np.power(self.gamma, power)
        elif self.kind == "cosine":
            period = np.where(self.t_max == 0, steps, self.t_max)
            rate = self.eta_min + (lr - self.eta_min) * (1 + np.cos(np.pi * t / period)) / 2
        else:
            rate = lr + 0 * t
        if np.any(self.warmup > 0):
            w = np.maximum(self.warmup, 1)
            s = self.warmup_start
            factor = np.where(self.warmup > 0, s + (1 - s) * np.minimum(t, w) / w, 1.0)
            rate = rate * factor
        return np.asarray(rate, dtype=float)

    def describe(self) -> str:
        """Short human text, e.g. 'step (gamma 0.5 every 100)'."""
        text = {
            "constant": "constant",
            "step": f"step (x{self.gamma:g} every {self.step_size})",
            "exponential": f"exponential (x{self.gamma:g} per step)",
            "cosine": f"cosine (T={self.t_max or 'run'}, min {self.eta_min:g})",
        }[self.kind]
        return text + (f", warm-up {self.warmup}" if np.any(self.warmup > 0) else "")

    def torch(self, lr: float | None = None, scale: float = 1.0) -> str:
        """The torch.optim.lr_scheduler code for this schedule (``sched = ...``, after ``opt = ...``;
        a cosine without T uses the name ``steps``), or "" for a constant rate. A warm-up multiplies
        the rate, as ChainedScheduler does, except for a cosine with eta_min > 0: there
        ChainedScheduler scales only the distance above eta_min, so the code is a LambdaLR with
        this schedule's rates (``lr``: the optimizer's, needed then; the code uses ``math``).
        ``scale``: torch's learning rate over ours (1 - beta for the average form of momentum), which
        scales eta_min too."""
        mod = "torch.optim.lr_scheduler."
        period = self.t_max or "steps"
        if self.kind == "cosine" and self.warmup > 0 and self.eta_min > 0:
            if lr is None:
                raise ValueError("a cosine with a warm-up and eta_min > 0 needs the learning rate")
            m, s, w = self.eta_min / lr, self.warmup_start, self.warmup
            return (f"sched = {mod}LambdaLR(opt, lambda t: ({s!r} + {1 - s!r} * min(t, {w}) / {w})"
                    f" * ({m!r} + {1 - m!r} * (1 + math.cos(math.pi * t / {period})) / 2))")
        main = {
            "constant": None,
            "step": f"StepLR(opt, step_size={self.step_size}, gamma={self.gamma!r})",
            "exponential": f"ExponentialLR(opt, gamma={self.gamma!r})",
            "cosine": f"CosineAnnealingLR(opt, T_max={period}, eta_min={self.eta_min * scale!r})",
        }[self.kind]
        parts = [main] if main else []
        if np.any(self.warmup > 0):
            parts.insert(0, f"LinearLR(opt, start_factor={self.warmup_start!r}, total_iters={self.warmup})")
        if len(parts) < 2:
            return "".join(f"sched = {mod}{p}" for p in parts)
        return f"sched = {mod}ChainedScheduler([\n" + "".join(f"    {mod}{p},\n" for p in parts) + "])"

    def keras_schedule(self, lr: float, steps: int) -> tuple[str, dict] | None:
        """This schedule from the rate ``lr`` over ``steps`` updates as a keras.optimizers.schedules
        class name and its arguments (``("", {"initial_learning_rate": lr})`` when constant), or None
        where Keras has no schedule with these rates (a warm-up that multiplies the schedule; a
        cosine that restarts within the run, since Keras's stays at its minimum after decay_steps)."""
        if self.warmup > 0 or (self.kind == "cosine" and 0 < self.t_max < steps):
            return None
        return {
            "constant": ("", {"initial_learning_rate": lr}),
            "step": ("ExponentialDecay", {"initial_learning_rate": lr, "decay_steps": self.step_size,
                                          "decay_rate": self.gamma, "staircase": True}),
            "exponential": ("ExponentialDecay", {"initial_learning_rate": lr, "decay_steps": 1,
                                                 "decay_rate": self.gamma}),
            "cosine": ("CosineDecay", {"initial_learning_rate": lr, "decay_steps": self.t_max or steps,
                                       "alpha": self.eta_min / lr}),
        }[self.kind]

    def keras(self, lr: float, steps: int) -> str | None:
        """keras_schedule as code: ``lr`` itself when constant (None where Keras has no such schedule)."""
        parts = self.keras_schedule(lr, steps)
        if parts is None:
            return None
        name, kw = parts
        if not name:
            return repr(lr)
        first, *rest = kw.items()
        args = ", ".join([repr(first[1]), *(f"{k}={v!r}" for k, v in rest)])
        return f"keras.optimizers.schedules.{name}({args})"
