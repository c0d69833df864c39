"""The optimizer registry: one entry per optimizer, its math and its presentation together.

A rule's ``step(g, s, h, lr, xp, w)`` takes the gradient ``g``, the state tuple ``s``, the
hyperparameters ``h`` (attributes), the learning rate of this step, a math namespace and the
parameters ``w``, and returns ``(update, new_state)``; the parameters then move by
``w <- w + update`` (as optax's update(grads, state, params)). The same code runs on floats
(one run) and on NumPy arrays (a batch), so a batch row equals the single run bit for bit.

State slots start at the rule's ``init`` values; powers such as beta^t are kept as running
products in the state, so only + - * / and sqrt are used. The PyTorch forms are the defaults;
the course's forms say how they relate. Formulas use the course's notation (w, η, g_t = ∇J(w_t) for the
loss J, β, v) and label their form wherever a rule has several: momentum's PyTorch form
v = βv + g, its average form v = βv + (1 − β)g (the same steps with η(1 − β) in PyTorch) and the
course's η-inside form v = βv + ηg, w = w − v (its v is PyTorch's v times η).

Adding an optimizer is one ``rule(...)`` entry here (math, settings, formulas, the torch and
Keras constructors, verdict, conventions, colour) plus its case in scripts/make_references.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from specs import Param, grid_125

LR_ROLE = "learning rate"
BETAS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999)
EPSILONS = (1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1e-1)


def lr_param(default: float) -> Param:
    return Param("lr", default, 1e-6, 10.0, "Learning rate", scale="log", grid=grid_125(1e-6, 10.0),
                 help="η: how far each step goes along the (adapted) gradient g = ∇J(w).", role=LR_ROLE)


def beta_param(name: str, default: float, label: str, help: str = "") -> Param:
    return Param(name, default, 0.0, 0.9999, label, scale="log1m", grid=BETAS, help=help)


def eps_param(default: float) -> Param:
    # eps > 0: with eps = 0 a zero gradient component gives 0/0 (as in PyTorch)
    return Param("eps", default, 1e-16, 1.0, "Epsilon", scale="log", grid=EPSILONS,
                 help="ε, added to the denominator so it is never 0.")


#: the forms a run can take: PyTorch's (every rule) or Keras's (rules whose Keras optimizer differs)
FORMS = ("pytorch", "keras")

#: characters per line of generated code (it is shown in narrow columns): a longer call puts
#: one argument per line
CODE_WIDTH = 50


def _code(module: str, cls: str, args: dict, first: str = "") -> str:
    parts = [*([first] if first else []), *(f"{k}={_literal(v)}" for k, v in args.items())]
    one_line = f"{module}.{cls}({', '.join(parts)})"
    if len(one_line) <= CODE_WIDTH:
        return one_line
    return f"{module}.{cls}(\n" + "".join(f"    {p},\n" for p in parts) + ")"


def _literal(v) -> str:
    if isinstance(v, bool):
        return repr(v)
    if isinstance(v, tuple):
        return "(" + ", ".join(_literal(x) for x in v) + ")"
    # 15 digits: 0.001 stays 0.001, and any lr is exact to rounding (the scripts reproduce runs)
    return f"{v:.15g}" if isinstance(v, float) else repr(v)


@dataclass(frozen=True)
class Form:
    """Another framework's way of writing a rule: the parts that differ from the rule's own (PyTorch's)
    form; the rest, settings included, is shared."""

    step: Callable = field(repr=False)
    note: str  # how this form differs, in words
    formula: str = ""  # the update, where it differs
    init: tuple[float, ...] | None = None
    derive: Callable | None = field(default=None, repr=False)
    effective_lr: Callable | None = field(default=None, repr=False)
    keras_args: Callable | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Rule:
    """A registered optimizer: its settings, state, step, and everything pages show about it."""

    name: str
    label: str
    params: tuple[Param, ...]
    slots: tuple[str, ...]
    init: tuple[float, ...]
    step: Callable = field(repr=False)
    formula: str = ""  # LaTeX in the course's notation, one line per equation (\\ between), its form labelled
    torch_formula: str = ""  # LaTeX as torch.optim's documentation writes it, when it differs
    #: torch.optim class and its keyword arguments from the hyperparameters: h -> dict
    torch_class: str = ""
    torch_args: Callable | None = field(default=None, repr=False)
    #: keras.optimizers class and its keyword arguments, when Keras has the same optimizer
    keras_class: str = ""
    keras_args: Callable | None = field(default=None, repr=False)
    note: str = ""  # how this form relates to other forms / frameworks
    good: str = ""  # what it is good at, in plain words
    bad: str = ""  # what it is bad at
    conventions: str = ""  # framework defaults and names that differ
    color: str = "#000000"  # its colour on every page
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
    #: another form of the named rule (tested equal to it), not an optimizer of its own in torch
    form_of: str = ""
    #: Keras's form of this rule, where keras.optimizers.<keras_class> takes other steps
    keras_form: Form | None = field(default=None, repr=False)
    #: the form this rule object computes, one of FORMS (see in_form)
    form: str = "pytorch"

    def in_form(self, form: str) -> Rule:
        """This rule as ``form`` computes it ("pytorch": itself; "keras": its Keras form)."""
        if form not in FORMS:
            raise ValueError(f"unknown form {form!r}; choose one of {', '.join(FORMS)}")
        if form == self.form:
            return self
        if form == "pytorch":
            return RULES[self.name]
        k = self.keras_form
        if k is None:
            raise ValueError(f"{self.label} has no Keras form: Keras takes the same steps")
        return replace(self, form=form, label=f"{self.label} (Keras form)",
                       short=f"{self.short or self.label} Keras", step=k.step, init=k.init or self.init,
                       derive=k.derive or self.derive, effective_lr=k.effective_lr or self.effective_lr,
                       formula=k.formula or self.formula, keras_args=k.keras_args or self.keras_args,
                       note=k.note)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    @property
    def lr(self) -> Param:
        """The learning-rate setting (by its role)."""
        return next(p for p in self.params if p.role == LR_ROLE)

    def torch_code(self, hyper: dict, params: str = "params") -> str:
        """``torch.optim.<Class>(params, ...)`` with these hyperparameters (numbers)."""
        return _code("torch.optim", self.torch_class, self.torch_args(_Hyper(hyper)), params)

    def keras_code(self, hyper: dict) -> str | None:
        """``keras.optimizers.<Class>(...)``, or None where Keras has no such optimizer."""
        if not self.keras_class:
            return None
        return _code("keras.optimizers", self.keras_class, self.keras_args(_Hyper(hyper)))


class _Hyper:
    def __init__(self, hyper: dict):
        self.__dict__.update(hyper)


RULES: dict[str, Rule] = {}


def rule(**kw) -> Rule:
    r = Rule(**kw)
    RULES[r.name] = r
    return r


def _gd(g, s, h, lr, xp, w):
    return -lr * g, s


rule(
    name="gd", label="Gradient descent", short="GD", params=(lr_param(0.001),), slots=(), init=(), step=_gd,
    formula=r"w_{t+1} = w_t - \eta\, g_t",
    torch_class="SGD", torch_args=lambda h: dict(lr=h.lr),
    keras_class="SGD", keras_args=lambda h: dict(learning_rate=h.lr),
    note="Batch, stochastic and mini-batch GD are this rule fed full-data, one-sample "
    "or mini-batch gradients.",
    good="Simple, predictable, cheap; with a schedule and mini-batches it trains almost anything.",
    bad="One rate for all weights: slow on long narrow valleys, stuck at saddles and in local minima.",
    color="#0072B2",
)


#: momentum's and Nesterov's formulas in PyTorch's form (the buffer v sums gradients), labelled
MOMENTUM_PYTORCH = r"v_t = \beta v_{t-1} + g_t \quad \text{(PyTorch form)} \\ "
NESTEROV_PYTORCH = MOMENTUM_PYTORCH + r"w_{t+1} = w_t - \eta\,(g_t + \beta v_t)"


def _momentum(g, s, h, lr, xp, w):
    (v,) = s
    v = h.beta * v + g
    return -lr * v, (v,)


MOMENTUM_BETA = beta_param("beta", 0.9, "Momentum beta", "β: how much of the last velocity is kept.")

rule(
    name="momentum", label="Momentum", params=(lr_param(0.001), MOMENTUM_BETA),
    slots=("velocity",), init=(0.0,), step=_momentum, velocity="velocity",
    formula=MOMENTUM_PYTORCH + r"w_{t+1} = w_t - \eta\, v_t",
    torch_class="SGD", torch_args=lambda h: dict(lr=h.lr, momentum=h.beta),
    keras_class="SGD", keras_args=lambda h: dict(learning_rate=h.lr, momentum=h.beta),
    note="PyTorch's form, v = βv + g, w = w − ηv. The course's average form v = βv + (1 − β)g "
    "takes the same steps with η / (1 − β); its v is (1 − β) times this one.",
    good="Ravines and consistent slopes: speeds up along the valley, averages away the zig-zag; "
    "can roll over small bumps.",
    bad="Overshoots and oscillates around the minimum when β is large; one more setting to tune.",
    conventions="Keras keeps v = βv − ηg and steps +v (the course's η-inside form, v = βv + ηg, w = w − v, "
    "up to sign): the same steps while η is constant.",
    color="#D55E00",
)


def _momentum_ewma(g, s, h, lr, xp, w):
    (v,) = s
    v = h.beta * v + (1 - h.beta) * g
    return -lr * v, (v,)


rule(
    name="momentum_ewma", label="Momentum (EWMA form)", short="Momentum EWMA",
    params=(lr_param(0.01), MOMENTUM_BETA),
    slots=("velocity",), init=(0.0,), step=_momentum_ewma, velocity="velocity",
    formula=r"v_t = \beta v_{t-1} + (1-\beta)\, g_t \quad \text{(average form)} \\ "
    r"w_{t+1} = w_t - \eta\, v_t",
    torch_formula=MOMENTUM_PYTORCH + r"w_{t+1} = w_t - \eta (1-\beta)\, v_t",
    torch_class="SGD", torch_args=lambda h: dict(lr=h.lr * (1 - h.beta), momentum=h.beta),
    keras_class="SGD", keras_args=lambda h: dict(learning_rate=h.lr * (1 - h.beta), momentum=h.beta),
    note="The course's average form: v is an exponentially weighted average of gradients, "
    "v = βv + (1 − β)g. The same steps as PyTorch's form v = βv + g with η(1 − β).",
    good="The same method written as an average of gradients: β changes the memory "
    "without changing the step size.",
    bad="Same as momentum. Watch the learning rate when you move code to PyTorch or Keras.",
    conventions="The code's learning rate is η (1 − β): PyTorch and Keras have only the other form.",
    color="#D55E00", form_of="momentum",
)


def _nesterov(g, s, h, lr, xp, w):
    (v,) = s
    v = h.beta * v + g
    return -lr * (g + h.beta * v), (v,)


rule(
    name="nesterov", label="Nesterov (NAG)", short="Nesterov",
    params=(lr_param(0.001), MOMENTUM_BETA),
    slots=("velocity",), init=(0.0,), step=_nesterov, velocity="velocity",
    formula=NESTEROV_PYTORCH,
    torch_class="SGD", torch_args=lambda h: dict(lr=h.lr, momentum=h.beta, nesterov=True),
    keras_class="SGD", keras_args=lambda h: dict(learning_rate=h.lr, momentum=h.beta, nesterov=True),
    note="PyTorch's form. Its points w are the look-ahead points w − βv of the course's look-ahead "
    "form, whose v (η inside) is this v times η while η is constant.",
    good="Momentum with less overshoot: a look-ahead brakes before the turn. A good default "
    "when using momentum.",
    bad="Slightly less able to coast through small bumps into a deeper valley.",
    conventions="The course's look-ahead form (η inside v) is the next entry.",
    color="#56B4E9",
)


def _nesterov_lookahead(g, s, h, lr, xp, w):
    (v,) = s
    v = h.beta * v - lr * g
    return v, (v,)


rule(
    name="nesterov_lookahead", label="Nesterov (look-ahead form)", short="NAG look-ahead",
    params=(lr_param(0.001), MOMENTUM_BETA),
    slots=("velocity",), init=(0.0,), step=_nesterov_lookahead, velocity="velocity",
    grad_point=lambda w, s, h: w + h.beta * s[0],
    formula=r"v_t = \beta v_{t-1} + \eta\, \nabla J(w_t - \beta v_{t-1}) \quad \text{(look-ahead form)}"
    r" \\ w_{t+1} = w_t - v_t",
    torch_formula=NESTEROV_PYTORCH,
    torch_class="SGD", torch_args=lambda h: dict(lr=h.lr, momentum=h.beta, nesterov=True),
    keras_class="SGD", keras_args=lambda h: dict(learning_rate=h.lr, momentum=h.beta, nesterov=True),
    note="The course's look-ahead form: the gradient is taken at the look-ahead point w − βv and "
    "v includes η. Those look-ahead points are exactly PyTorch's NAG points, and this v is "
    "PyTorch's v times η (η constant).",
    good="The textbook picture of Nesterov: the gradient is taken at the look-ahead "
    "point, which you can see.",
    bad="Same method as Nesterov (NAG); only the points it reports differ.",
    conventions="The code's iterates are this form's look-ahead points.",
    color="#56B4E9", form_of="nesterov",
)


def _adagrad_step(eps_inside: bool) -> Callable:
    """AdaGrad's step with eps added outside the root (PyTorch) or inside it (Keras)."""

    def step(g, s, h, lr, xp, w):
        (acc,) = s
        acc = acc + g * g
        root = xp.sqrt(acc + h.eps) if eps_inside else xp.sqrt(acc) + h.eps
        return -lr * (g / root), (acc,)

    return step


#: Keras's default initial_accumulator_value: the sum of squares starts there, not at 0
KERAS_ADAGRAD_START = 0.1


rule(
    name="adagrad", label="AdaGrad", params=(lr_param(0.1), eps_param(1e-10)),
    slots=("sum_sq",), init=(0.0,), step=_adagrad_step(False),
    effective_lr=lambda s, h, lr, t, xp: lr / (xp.sqrt(s["sum_sq"]) + h.eps),
    formula=r"v_t = v_{t-1} + g_t^2 \\ w_{t+1} = w_t - \frac{\eta}{\sqrt{v_t} + \epsilon}\, g_t",
    torch_class="Adagrad", torch_args=lambda h: dict(lr=h.lr, eps=h.eps),
    keras_class="Adagrad",
    keras_args=lambda h: dict(learning_rate=h.lr, initial_accumulator_value=0.0, epsilon=h.eps),
    note="ε is outside the square root, as in PyTorch. Keras starts the sum at 0.1 "
    "by default (the code sets 0) and puts ε inside the root, √(v + ε): the same steps "
    "wherever √v is much larger than √ε.",
    good="Sparse features and features on very different scales: every weight gets its own rate.",
    bad="The rate only shrinks: long runs and deep networks stall before the minimum.",
    conventions="In Keras that start is initial_accumulator_value (the code sets 0.0); "
    "its default ε is 1e-7.",
    color="#E69F00",
    keras_form=Form(
        step=_adagrad_step(True), init=(KERAS_ADAGRAD_START,),
        effective_lr=lambda s, h, lr, t, xp: lr / xp.sqrt(s["sum_sq"] + h.eps),
        formula=r"v_t = v_{t-1} + g_t^2,\ v_0 = 0.1 \\ "
        r"w_{t+1} = w_t - \frac{\eta}{\sqrt{v_t + \epsilon}}\, g_t",
        keras_args=lambda h: dict(learning_rate=h.lr, epsilon=h.eps),
        note="Keras's Adagrad: the sum of squares starts at initial_accumulator_value = 0.1 and ε is "
        "inside the root, √(v + ε). The start at 0.1 makes the first steps smaller than "
        "PyTorch's (whose first step is η in every direction)."),
)


def _rmsprop_step(eps_inside: bool) -> Callable:
    """RMSProp's step with eps added outside the root (PyTorch) or inside it (Keras)."""

    def step(g, s, h, lr, xp, w):
        (sq,) = s
        sq = h.beta * sq + (1 - h.beta) * (g * g)
        root = xp.sqrt(sq + h.eps) if eps_inside else xp.sqrt(sq) + h.eps
        return -lr * (g / root), (sq,)

    return step


rule(
    name="rmsprop", label="RMSProp",
    params=(lr_param(0.01), beta_param("beta", 0.99, "Decay beta (torch alpha)",
                                       "β: how much of the running mean of g² is kept."), eps_param(1e-8)),
    slots=("mean_sq",), init=(0.0,), step=_rmsprop_step(False),
    effective_lr=lambda s, h, lr, t, xp: lr / (xp.sqrt(s["mean_sq"]) + h.eps),
    formula=r"v_t = \beta v_{t-1} + (1-\beta)\, g_t^2 \\ "
    r"w_{t+1} = w_t - \frac{\eta}{\sqrt{v_t} + \epsilon}\, g_t",
    torch_class="RMSprop", torch_args=lambda h: dict(lr=h.lr, alpha=h.beta, eps=h.eps),
    keras_class="RMSprop", keras_args=lambda h: dict(learning_rate=h.lr, rho=h.beta, epsilon=h.eps),
    note="β is PyTorch's alpha (Keras's rho); ε outside the square root, as in PyTorch. "
    "Keras puts ε inside the root.",
    good="Per-weight rates that can grow back: long, non-convex training; recurrent networks.",
    bad="No momentum of its own; β and η still need tuning.",
    conventions="Defaults differ too: PyTorch alpha = 0.99, Keras rho = 0.9.",
    color="#CC79A7",
    keras_form=Form(
        step=_rmsprop_step(True),
        effective_lr=lambda s, h, lr, t, xp: lr / xp.sqrt(s["mean_sq"] + h.eps),
        formula=r"v_t = \beta v_{t-1} + (1-\beta)\, g_t^2 \\ "
        r"w_{t+1} = w_t - \frac{\eta}{\sqrt{v_t + \epsilon}}\, g_t",
        note="Keras's RMSprop: ε is inside the root, √(v + ε). Where √v is near √ε "
        "(a flat start, a vanishing gradient) the steps are smaller than PyTorch's."),
)


def _adam_core(g, s, h, lr, xp, keras: bool):
    """Adam's update and state; eps is added to the bias-corrected root (PyTorch) or to the
    uncorrected one, with the correction in the step size (Keras)."""
    m, v, p1, p2 = s
    m = h.beta1 * m + (1 - h.beta1) * g
    v = h.beta2 * v + (1 - h.beta2) * (g * g)
    p1, p2 = p1 * h.beta1, p2 * h.beta2
    if keras:
        return -(lr * xp.sqrt(1 - p2) / (1 - p1)) * (m / (xp.sqrt(v) + h.eps)), (m, v, p1, p2)
    denom = xp.sqrt(v) / xp.sqrt(1 - p2) + h.eps
    return -(lr / (1 - p1)) * (m / denom), (m, v, p1, p2)


def _adam_step(keras: bool) -> Callable:
    def step(g, s, h, lr, xp, w):
        return _adam_core(g, s, h, lr, xp, keras)

    return step


def _adam_effective_lr(s, h, lr, t, xp):
    return lr / (xp.sqrt(s["v"]) / xp.sqrt(1 - h.beta2**t) + h.eps)


def _adam_keras_effective_lr(s, h, lr, t, xp):
    # the step is lr sqrt(1 - beta2^t) m_hat / (sqrt(v) + eps): per unit of m_hat, this
    return lr * xp.sqrt(1 - h.beta2**t) / (xp.sqrt(s["v"]) + h.eps)


ADAM_KERAS_NOTE = ("Keras's form: ε is added to the uncorrected root and the bias corrections go into the "
                   "step size, η √(1 − β₂ᵗ) / (1 − β₁ᵗ). That is PyTorch's rule with "
                   "ε / √(1 − β₂ᵗ) in place of ε: 31.6 ε at step 1, 1.26 ε at step 1000 "
                   "for β₂ = 0.999.")
ADAM_KERAS_FORMULA = (r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t \\ "
                      r"v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\ "
                      r"w_{t+1} = w_t - \frac{\eta \sqrt{1-\beta_2^t}}{1-\beta_1^t}\, "
                      r"\frac{m_t}{\sqrt{v_t} + \epsilon}")


ADAM_PARAMS = (
    lr_param(0.01),
    beta_param("beta1", 0.9, "beta1 (first moment)", "β₁: how much of the running mean of g is kept."),
    beta_param("beta2", 0.999, "beta2 (second moment)", "β₂: how much of the running mean of g² is kept."),
    eps_param(1e-8),
)
ADAM_SLOTS = ("m", "v", "beta1_power", "beta2_power")
ADAM_FORMULA = (r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t \\ v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\ "
                r"\hat m_t = \frac{m_t}{1-\beta_1^t},\ \hat v_t = \frac{v_t}{1-\beta_2^t} \\ ")

rule(
    name="adam", label="Adam", params=ADAM_PARAMS,
    slots=ADAM_SLOTS, init=(0.0, 0.0, 1.0, 1.0), step=_adam_step(False),
    effective_lr=_adam_effective_lr, velocity="m",
    formula=ADAM_FORMULA + r"w_{t+1} = w_t - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}",
    torch_class="Adam", torch_args=lambda h: dict(lr=h.lr, betas=(h.beta1, h.beta2), eps=h.eps),
    keras_class="Adam",
    keras_args=lambda h: dict(learning_rate=h.lr, beta_1=h.beta1, beta_2=h.beta2, epsilon=h.eps),
    note="As PyTorch: ε is added after the bias-corrected square root. Keras adds ε to the "
    "uncorrected root, which is PyTorch's rule with ε / √(1 − β₂ᵗ) in place of ε "
    "(31.6 ε at step 1, 1.26 ε at step 1000 for β₂ = 0.999): it matters only where "
    "√v̂ is near ε.",
    good="The usual default: momentum plus per-weight rates, bias-corrected so the first steps "
    "are about η. Little tuning.",
    bad="Can settle where well-tuned SGD with momentum generalises a little better; η still matters.",
    conventions="The η = 0.01 here is this app's starting value for a two-weight map; PyTorch's and "
    "Keras's default (and the course's) is 0.001, sized for networks with many weights. Keras's "
    "default ε is 1e-7; the code sets the values above.",
    color="#009E73",
    keras_form=Form(step=_adam_step(True), effective_lr=_adam_keras_effective_lr, formula=ADAM_KERAS_FORMULA,
                    note=ADAM_KERAS_NOTE),
)


def _adamw_step(keras: bool) -> Callable:
    def step(g, s, h, lr, xp, w):
        update, s = _adam_core(g, s, h, lr, xp, keras)
        return update - lr * h.weight_decay * w, s

    return step


rule(
    name="adamw", label="AdamW", params=(*ADAM_PARAMS, Param(
        "weight_decay", 0.01, 0.0, 1.0, "Weight decay λ", grid=grid_125(0.0, 1.0),
        help="λ: every step also shrinks the weights by η λ w, outside Adam's per-weight scaling.")),
    slots=ADAM_SLOTS, init=(0.0, 0.0, 1.0, 1.0), step=_adamw_step(False),
    effective_lr=_adam_effective_lr, velocity="m",
    formula=ADAM_FORMULA
    + r"w_{t+1} = w_t - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon} - \eta \lambda\, w_t",
    torch_class="AdamW",
    torch_args=lambda h: dict(lr=h.lr, betas=(h.beta1, h.beta2), eps=h.eps, weight_decay=h.weight_decay),
    keras_class="AdamW",
    keras_args=lambda h: dict(learning_rate=h.lr, weight_decay=h.weight_decay, beta_1=h.beta1,
                              beta_2=h.beta2, epsilon=h.eps),
    note="Adam with decoupled weight decay (Loshchilov and Hutter, 2019): the decay η λ w is "
    "subtracted from the weights directly, not added to the gradient, so Adam's per-weight "
    "scaling does not weaken it. λ = 0 is Adam.",
    good="Regularised training of networks: the usual choice for transformers and large models.",
    bad="On a 2-D test surface the decay pulls every run towards the origin, so it settles near, "
    "not at, the minimum of J.",
    conventions="PyTorch's defaults: η = 0.001, λ = 0.01; Keras's λ default is 0.004 and its ε "
    "placement is as for Adam.",
    color="#009E73",
    keras_form=Form(step=_adamw_step(True), effective_lr=_adam_keras_effective_lr,
                    formula=ADAM_KERAS_FORMULA + r" - \eta \lambda\, w_t",
                    note=ADAM_KERAS_NOTE + " The decay eta lambda w is as in PyTorch."),
)


def _nadam(g, s, h, lr, xp, w):
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


NADAM_FORMULA = (
    r"\mu_t = \beta_1 (1 - \tfrac12\, 0.96^{t\psi}) \\ m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t"
    r" \\ v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\ "
    r"w_{t+1} = w_t - \frac{\eta}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}\left("
    r"\frac{(1-\mu_t)\, g_t}{1-\prod_{i\le t}\mu_i} + "
    r"\frac{\mu_{t+1}\, m_t}{1-\prod_{i\le t+1}\mu_i}\right)")

rule(
    name="nadam", label="Nadam",
    params=(*ADAM_PARAMS, Param("momentum_decay", 0.004, 0.0, 1.0, "Momentum decay psi",
                                   grid=grid_125(0.0, 1.0), help="ψ: how fast μ_t approaches β₁.")),
    slots=("m", "v", "beta2_power", "decay_power", "mu_product"), init=(0.0, 0.0, 1.0, 1.0, 1.0),
    step=_nadam, velocity="m",
    derive=lambda h: {"decay_per_step": 0.96**h.momentum_decay},
    effective_lr=lambda s, h, lr, t, xp: lr / (xp.sqrt(s["v"] / (1 - h.beta2**t)) + h.eps),
    formula=NADAM_FORMULA,
    torch_class="NAdam", torch_args=lambda h: dict(lr=h.lr, betas=(h.beta1, h.beta2), eps=h.eps,
                                                  momentum_decay=h.momentum_decay),
    keras_class="Nadam",
    keras_args=lambda h: dict(learning_rate=h.lr, beta_1=h.beta1, beta_2=h.beta2, epsilon=h.eps),
    note="PyTorch's NAdam: Adam whose first moment looks one step ahead, with Dozat's "
    "momentum schedule μ_t (ψ = 0.004 by default). Keras 3 has no ψ setting: its μ_t uses "
    "0.96^t, so keras.optimizers.Nadam takes torch.optim.NAdam(momentum_decay=1)'s steps, and "
    "μ_t reaches β₁ within about 100 steps instead of thousands.",
    good="Adam with Nesterov's look-ahead on the first moment: sometimes faster, rarely worse.",
    bad="One more setting (the momentum decay); gains over Adam depend on the problem.",
    conventions="PyTorch: μ_t = β₁ (1 − ½ · 0.96^(tψ)); its default η for NAdam is 0.002. "
    "Keras's schedule is 0.96^t: its Nadam takes this entry's steps with momentum_decay = 1.",
    color="#000000",
    keras_form=Form(
        step=_nadam, derive=lambda h: {"decay_per_step": 0.96 + 0 * h.momentum_decay},
        formula=NADAM_FORMULA.replace(r"0.96^{t\psi}", "0.96^{t}"),
        note="Keras's Nadam: the momentum schedule is μ_t = β₁ (1 − 0.96^t / 2), PyTorch's with "
        "momentum_decay = 1 (this form ignores the momentum-decay setting); μ_t reaches β₁ within "
        "about 100 steps instead of thousands. ε is placed as in PyTorch."),
)
