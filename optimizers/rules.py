"""Update rules: one small definition each, with explicit state (as in optax).

A rule's ``step(g, s, h, lr, xp)`` takes the gradient ``g``, the state tuple
``s``, the hyperparameters ``h`` (attributes), the learning rate of this step
and a math namespace, and returns ``(update, new_state)``; the parameters then
move by ``w <- w + update``. The same code runs on floats (one run) and on
NumPy arrays (a batch), so a batch row equals the single run bit for bit.

State slots start at the rule's ``init`` values; powers such as beta^t are
kept as running products in the state, so only + - * / and sqrt are used.
The PyTorch forms are the defaults; the textbook forms say how they relate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from landscapes import Param


def lr_param(default: float) -> Param:
    return Param("lr", default, 1e-6, 10.0, "Learning rate", log=True)


def beta_param(name: str, default: float, label: str) -> Param:
    return Param(name, default, 0.0, 0.9999, label)


def eps_param(default: float) -> Param:
    # eps > 0: with eps = 0 a zero gradient component gives 0/0 (as in PyTorch)
    return Param("eps", default, 1e-16, 1.0, "Epsilon", log=True, help="Added to the denominator.")


@dataclass(frozen=True)
class Rule:
    """A registered optimizer: parameters, state slots, the step and how to explain it."""

    name: str
    label: str
    params: tuple[Param, ...]
    slots: tuple[str, ...]
    init: tuple[float, ...]
    step: Callable = field(repr=False)
    formula: str = ""  # LaTeX, one line per equation
    torch: str = ""  # code template, formatted with the hyperparameters
    keras: str = ""
    note: str = ""  # how this form relates to other forms / frameworks
    #: where the gradient is taken, (w, s, h) -> point; default the parameters
    grad_point: Callable | None = field(default=None, repr=False)
    #: per-parameter step size lr / (sqrt(v_hat) + eps) for adaptive rules,
    #: (s, h, lr, t, xp) -> array, evaluated after the run on recorded state
    effective_lr: Callable | None = field(default=None, repr=False)
    #: constants derived once from the hyperparameters, h -> dict
    derive: Callable | None = field(default=None, repr=False)
    #: the state slot that is the rule's "velocity" (for arrows), if any
    velocity: str | None = None
    #: a short name for legends (default: label)
    short: str = ""

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}


RULES: dict[str, Rule] = {}


def rule(**kw) -> Rule:
    r = Rule(**kw)
    RULES[r.name] = r
    return r


def _gd(g, s, h, lr, xp):
    return -lr * g, s


rule(
    name="gd", label="Gradient descent", short="GD", params=(lr_param(0.001),), slots=(), init=(), step=_gd,
    formula=r"w_{t+1} = w_t - \eta\, g_t",
    torch="torch.optim.SGD(params, lr={lr})",
    keras="keras.optimizers.SGD(learning_rate={lr})",
    note="Batch, stochastic and mini-batch GD are this rule fed full-data, one-sample "
    "or mini-batch gradients.",
)


def _momentum(g, s, h, lr, xp):
    (v,) = s
    v = h.beta * v + g
    return -lr * v, (v,)


rule(
    name="momentum", label="Momentum", params=(lr_param(0.001), beta_param("beta", 0.9, "Momentum beta")),
    slots=("velocity",), init=(0.0,), step=_momentum, velocity="velocity",
    formula=r"v_t = \beta v_{t-1} + g_t \\ w_{t+1} = w_t - \eta\, v_t",
    torch="torch.optim.SGD(params, lr={lr}, momentum={beta})",
    keras="keras.optimizers.SGD(learning_rate={lr}, momentum={beta})  # Keras: v = beta*v - lr*g",
    note="PyTorch's form. The EWMA form v = beta v + (1 - beta) g takes the same steps "
    "with learning rate lr / (1 - beta).",
)


def _momentum_ewma(g, s, h, lr, xp):
    (v,) = s
    v = h.beta * v + (1 - h.beta) * g
    return -lr * v, (v,)


rule(
    name="momentum_ewma", label="Momentum (EWMA form)", short="Momentum EWMA",
    params=(lr_param(0.01), beta_param("beta", 0.9, "Momentum beta")),
    slots=("velocity",), init=(0.0,), step=_momentum_ewma, velocity="velocity",
    formula=r"v_t = \beta v_{t-1} + (1-\beta)\, g_t \\ w_{t+1} = w_t - \eta\, v_t",
    torch="torch.optim.SGD(params, lr={lr} * (1 - {beta}), momentum={beta})",
    keras="keras.optimizers.SGD(learning_rate={lr} * (1 - {beta}), momentum={beta})",
    note="The course's form: v is an exponentially weighted average of gradients. "
    "Equal to PyTorch's momentum with lr * (1 - beta).",
)


def _nesterov(g, s, h, lr, xp):
    (v,) = s
    v = h.beta * v + g
    return -lr * (g + h.beta * v), (v,)


rule(
    name="nesterov", label="Nesterov (NAG)", short="Nesterov",
    params=(lr_param(0.001), beta_param("beta", 0.9, "Momentum beta")),
    slots=("velocity",), init=(0.0,), step=_nesterov, velocity="velocity",
    formula=r"v_t = \beta v_{t-1} + g_t \\ w_{t+1} = w_t - \eta\,(g_t + \beta v_t)",
    torch="torch.optim.SGD(params, lr={lr}, momentum={beta}, nesterov=True)",
    keras="keras.optimizers.SGD(learning_rate={lr}, momentum={beta}, nesterov=True)",
    note="PyTorch's form. Its iterates are the look-ahead points of the textbook form.",
)


def _nesterov_lookahead(g, s, h, lr, xp):
    (v,) = s
    v = h.beta * v - lr * g
    return v, (v,)


rule(
    name="nesterov_lookahead", label="Nesterov (look-ahead form)", short="NAG look-ahead",
    params=(lr_param(0.001), beta_param("beta", 0.9, "Momentum beta")),
    slots=("velocity",), init=(0.0,), step=_nesterov_lookahead, velocity="velocity",
    grad_point=lambda w, s, h: w + h.beta * s[0],
    formula=r"v_t = \beta v_{t-1} - \eta\, \nabla f(w_t + \beta v_{t-1}) \\ w_{t+1} = w_t + v_t",
    torch="torch.optim.SGD(params, lr={lr}, momentum={beta}, nesterov=True)  # iterates = look-aheads",
    keras="keras.optimizers.SGD(learning_rate={lr}, momentum={beta}, nesterov=True)",
    note="The course's form, with the gradient taken at the look-ahead point "
    "w + beta v. Those look-ahead points are exactly PyTorch's NAG iterates.",
)


def _adagrad(g, s, h, lr, xp):
    (acc,) = s
    acc = acc + g * g
    return -lr * (g / (xp.sqrt(acc) + h.eps)), (acc,)


rule(
    name="adagrad", label="AdaGrad", params=(lr_param(0.1), eps_param(1e-10)),
    slots=("sum_sq",), init=(0.0,), step=_adagrad,
    effective_lr=lambda s, h, lr, t, xp: lr / (xp.sqrt(s["sum_sq"]) + h.eps),
    formula=r"G_t = G_{t-1} + g_t^2 \\ w_{t+1} = w_t - \frac{\eta}{\sqrt{G_t} + \epsilon}\, g_t",
    torch="torch.optim.Adagrad(params, lr={lr}, eps={eps})",
    keras="keras.optimizers.Adagrad(learning_rate={lr}, initial_accumulator_value=0.0, epsilon={eps})",
    note="eps is outside the square root, as in PyTorch. Keras starts the sum at 0.1 "
    "by default (the code sets 0) and puts eps inside the root, sqrt(G + eps): the same steps "
    "wherever sqrt(G) is much larger than sqrt(eps).",
)


def _rmsprop(g, s, h, lr, xp):
    (sq,) = s
    sq = h.beta * sq + (1 - h.beta) * (g * g)
    return -lr * (g / (xp.sqrt(sq) + h.eps)), (sq,)


rule(
    name="rmsprop", label="RMSProp",
    params=(lr_param(0.01), beta_param("beta", 0.99, "Decay beta (torch alpha)"), eps_param(1e-8)),
    slots=("mean_sq",), init=(0.0,), step=_rmsprop,
    effective_lr=lambda s, h, lr, t, xp: lr / (xp.sqrt(s["mean_sq"]) + h.eps),
    formula=r"v_t = \beta v_{t-1} + (1-\beta)\, g_t^2 \\ "
    r"w_{t+1} = w_t - \frac{\eta}{\sqrt{v_t} + \epsilon}\, g_t",
    torch="torch.optim.RMSprop(params, lr={lr}, alpha={beta}, eps={eps})",
    keras="keras.optimizers.RMSprop(learning_rate={lr}, rho={beta}, epsilon={eps})",
    note="beta is PyTorch's alpha (Keras's rho); eps outside the square root, as in PyTorch. "
    "Keras puts eps inside the root.",
)


def _adam(g, s, h, lr, xp):
    m, v, p1, p2 = s
    m = h.beta1 * m + (1 - h.beta1) * g
    v = h.beta2 * v + (1 - h.beta2) * (g * g)
    p1, p2 = p1 * h.beta1, p2 * h.beta2
    denom = xp.sqrt(v) / xp.sqrt(1 - p2) + h.eps
    return -(lr / (1 - p1)) * (m / denom), (m, v, p1, p2)


def _adam_effective_lr(s, h, lr, t, xp):
    return lr / (xp.sqrt(s["v"]) / xp.sqrt(1 - h.beta2**t) + h.eps)


ADAM_PARAMS = (
    lr_param(0.01),
    beta_param("beta1", 0.9, "beta1 (first moment)"),
    beta_param("beta2", 0.999, "beta2 (second moment)"),
    eps_param(1e-8),
)

rule(
    name="adam", label="Adam", params=ADAM_PARAMS,
    slots=("m", "v", "beta1_power", "beta2_power"), init=(0.0, 0.0, 1.0, 1.0), step=_adam,
    effective_lr=_adam_effective_lr, velocity="m",
    formula=r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t \\ v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\ "
    r"\hat m_t = \frac{m_t}{1-\beta_1^t},\ \hat v_t = \frac{v_t}{1-\beta_2^t} \\ "
    r"w_{t+1} = w_t - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}",
    torch="torch.optim.Adam(params, lr={lr}, betas=({beta1}, {beta2}), eps={eps})",
    keras="keras.optimizers.Adam(learning_rate={lr}, beta_1={beta1}, beta_2={beta2}, epsilon={eps})",
    note="As PyTorch: eps is added after the bias-corrected square root. Keras adds eps to the "
    "uncorrected root, which is PyTorch's rule with eps / sqrt(1 - beta2^t) in place of eps "
    "(31.6 eps at step 1, 1.26 eps at step 1000 for beta2 = 0.999): it matters only where "
    "sqrt(v_hat) is near eps.",
)


def _nadam(g, s, h, lr, xp):
    m, v, p2, decay, mu_prod = s
    decay = decay * h.decay_per_step  # 0.96^(t psi)
    mu = h.beta1 * (1 - 0.5 * decay)
    mu_next = h.beta1 * (1 - 0.5 * (decay * h.decay_per_step))
    mu_prod = mu_prod * mu
    m = h.beta1 * m + (1 - h.beta1) * g
    v = h.beta2 * v + (1 - h.beta2) * (g * g)
    p2 = p2 * h.beta2
    denom = xp.sqrt(v / (1 - p2)) + h.eps
    update = -(lr * (1 - mu) / (1 - mu_prod)) * (g / denom) - (
        lr * mu_next / (1 - mu_prod * mu_next)
    ) * (m / denom)
    return update, (m, v, p2, decay, mu_prod)


rule(
    name="nadam", label="Nadam",
    params=(*ADAM_PARAMS, Param("momentum_decay", 0.004, 0.0, 1.0, "Momentum decay psi")),
    slots=("m", "v", "beta2_power", "decay_power", "mu_product"), init=(0.0, 0.0, 1.0, 1.0, 1.0),
    step=_nadam, velocity="m",
    derive=lambda h: {"decay_per_step": 0.96**h.momentum_decay},
    effective_lr=lambda s, h, lr, t, xp: lr / (xp.sqrt(s["v"] / (1 - h.beta2**t)) + h.eps),
    formula=r"\mu_t = \beta_1 (1 - \tfrac12\, 0.96^{t\psi}) \\ m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t"
    r" \\ v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\ "
    r"w_{t+1} = w_t - \frac{\eta}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}\left("
    r"\frac{(1-\mu_t)\, g_t}{1-\prod_{i\le t}\mu_i} + \frac{\mu_{t+1}\, m_t}{1-\prod_{i\le t+1}\mu_i}\right)",
    torch="torch.optim.NAdam(params, lr={lr}, betas=({beta1}, {beta2}), eps={eps}, "
    "momentum_decay={momentum_decay})",
    keras="keras.optimizers.Nadam(learning_rate={lr}, beta_1={beta1}, beta_2={beta2}, epsilon={eps})"
    "\n# Keras's schedule is 0.96^t: momentum_decay=1 here takes its steps (this card's: {momentum_decay})",
    note="PyTorch's NAdam: Adam whose first moment looks one step ahead, with Dozat's "
    "momentum schedule mu_t (psi = 0.004 by default). Keras 3 has no psi setting: its mu_t uses "
    "0.96^t, so keras.optimizers.Nadam takes torch.optim.NAdam(momentum_decay=1)'s steps, and "
    "mu_t reaches beta1 within about 100 steps instead of thousands.",
)
