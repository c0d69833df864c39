"""The optimizer registry: one entry per optimizer, its math and its presentation together.

A rule's ``step(g, s, h, lr, xp, w)`` takes the gradient ``g``, its state ``s`` (the rule's
NamedTuple: fields read by name), the hyperparameters ``h`` (attributes), the learning rate of this
step, a math namespace and the parameters ``w``, and returns ``(update, new_state)``; the parameters
then move by ``w <- w + update`` (as optax's update(grads, state, params)). The same code runs on
floats (one run) and on NumPy arrays (a batch), so a batch row equals the single run bit for bit.

The state starts at the rule's ``init`` (an instance of its NamedTuple); powers such as beta^t are
kept as running products in the state, so only + - * / and sqrt are used. The PyTorch forms are the defaults;
the course's forms say how they relate. Formulas use the course's notation (w, η, g_t = ∇J(w_t) for the
loss J, β, v) and label their form wherever a rule has several: momentum's PyTorch form
v = βv + g, its average form v = βv + (1 − β)g (the same steps with η(1 − β) in PyTorch) and the
course's η-inside form v = βv + ηg, w = w − v (its v is PyTorch's v times η).

Adding an optimizer is one ``register(...)`` entry here: its math, named state, settings, formulas,
what explain mode shows (``explain`` rows, each read from the run's recording), its curvature limit
(``limit``), the largest rate a network sweep tries (``net_lr_top``), the torch and Keras
constructors and when Keras takes its steps, verdict, conventions and colour; plus its reference
case in scripts/make_references.py. Everything else (pages, explain mode, scripts, sweeps, links)
derives from the entry; ``optimizers.rule(name)`` looks an entry up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np

from specs import Param, grid_125

LR_ROLE = "learning rate"
BETAS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999)
EPSILONS = (1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1e-1)


def lr_param(default: float) -> Param:
    return Param("lr", default, 1e-6, 10.0, "η (learning rate)", scale="log", grid=grid_125(1e-6, 10.0),
                 help="η: how far each step goes along the (adapted) gradient g = ∇J(w); PyTorch's lr.",
                 role=LR_ROLE, symbol="η")


def beta_param(name: str, symbol: str, default: float, what: str, help: str = "") -> Param:
    return Param(name, default, 0.0, 0.9999, f"{symbol} ({what})", scale="log1m", grid=BETAS, help=help,
                 symbol=symbol)


def eps_param(default: float) -> Param:
    # eps > 0: with eps = 0 a zero gradient component gives 0/0 (as in PyTorch)
    return Param("eps", default, 1e-16, 1.0, "ε (epsilon)", scale="log", grid=EPSILONS,
                 help="ε, added to the denominator so it is never 0.", symbol="ε")


# ---- what explain mode shows of a rule (viz.explain renders it) -----------------------------------


@dataclass(frozen=True)
class Row:
    """A number explain mode shows at each step: its symbol (LaTeX), its value from a run's
    recording, ``value(tr) -> (steps, D)`` or ``(steps,)`` for one number per step, and the formula
    line (0-based) it is listed under (-1: after the formula). ``arrow``: a label when the row is
    also drawn on the map as an arrow beside the gradient and the step (the velocity, Adam's first
    moment), ``sign`` the arrow's direction (-1: drawn as -value, the way the step goes)."""

    symbol: str
    value: Callable
    line: int = -1
    arrow: str = ""
    sign: float = 1.0


def recorded(name: str) -> Callable:
    """A row's value: the state field ``name`` as the run recorded it after each update."""
    return lambda tr: tr.state[name]


def setting(tr, name: str) -> float:
    """The run's hyperparameter ``name``."""
    return float(tr.optimizer.hyper[name])


def rate_row(symbol: str, line: int) -> Row:
    """The per-weight step size the run recorded (Trajectory.effective_lr), under ``symbol``."""
    return Row(symbol, lambda tr: tr.effective_lr, line)


#: the rows every rule shows: the gradient first, the step and the new point last
GRADIENT = Row(r"g_t = \nabla J(w_t)", lambda tr: tr.grad)
LOOKAHEAD_GRADIENT = Row(r"g_t = \nabla J(w_t - \beta v_{t-1})", lambda tr: tr.grad)
STEP = Row(r"\Delta w = w_{t+1} - w_t", lambda tr: np.diff(tr.path, axis=0))
NEW_POINT = Row(r"w_{t+1}", lambda tr: tr.path[1:])
ETA = rate_row(r"\eta", -1)
VELOCITY = Row("v_t", recorded("velocity"), 0, arrow="−v: velocity", sign=-1.0)
FIRST_MOMENT = Row("m_t", recorded("m"), 0, arrow="−m: first moment", sign=-1.0)


@dataclass(frozen=True)
class CourseForm:
    """The course's form of a rule the registry computes in PyTorch's form: the registry entry whose
    formula is the course's (``entry``), this run's rows in that form (gradient to new point, derived
    from the recordings), whether they are exact for a run (``exact``), and, where they are not, the
    words the "Course" tab shows under PyTorch's formula instead."""

    entry: str
    rows: tuple[Row, ...]
    exact: Callable = lambda tr: True
    otherwise: str = ""


def course_in_words(text: str) -> CourseForm:
    """The course writes the rule in a form that takes other steps (no entry computes it): the "Course"
    tab keeps this rule's formula and says in ``text`` how the course writes it."""
    return CourseForm("", (), exact=lambda tr: False, otherwise=text)


@dataclass(frozen=True)
class Limit:
    """The largest stable learning rate of a rule on a quadratic, ``factor(beta) / λmax``
    (optimizers.analysis.max_stable_lr), and that formula in words."""

    factor: Callable[[float], float]
    formula: str


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
    init: tuple | None = None  # its state's start (the rule's NamedTuple), where it differs
    derive: Callable | None = field(default=None, repr=False)
    effective_lr: Callable | None = field(default=None, repr=False)
    keras_args: Callable | None = field(default=None, repr=False)
    explain: tuple[Row, ...] | None = None  # explain mode's rows, where they differ


@dataclass(frozen=True)
class Rule:
    """A registered optimizer: its settings, state, step, and everything pages show about it."""

    name: str
    label: str
    params: tuple[Param, ...]
    init: tuple  # the state at the start: an instance of the rule's NamedTuple (its fields name the state)
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
    #: explain mode: the rows under the course's formula, and under PyTorch's where it writes the
    #: rule differently and its quantities follow from the run's (None: the course's rows are listed)
    explain: tuple[Row, ...] = ()
    explain_torch: tuple[Row, ...] | None = None
    #: the course's form, where the course writes this rule as another entry (explain mode's Course tab)
    course_form: CourseForm | None = field(default=None, repr=False)
    #: the curvature limit on the learning rate (None: adaptive rules, which rescale per weight)
    limit: Limit | None = field(default=None, repr=False)
    #: the largest learning rate a network sweep tries (None: not swept on networks)
    net_lr_top: float | None = None
    #: hyperparameters -> whether Keras's keras_class takes this (PyTorch) form's steps after all
    keras_takes: Callable | None = field(default=None, repr=False)

    @property
    def slots(self) -> tuple[str, ...]:
        """The names of the rule's state fields."""
        return self.init._fields

    def start_state(self, shape) -> tuple:
        """The state at the start for parameters of ``shape`` (each field an array)."""
        return self.init._make(np.full(shape, v) for v in self.init)

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
                       note=k.note, explain=self.explain if k.explain is None else k.explain,
                       explain_torch=None, course_form=None, keras_takes=None)

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


def register(**kw) -> Rule:
    """Add the entry ``Rule(**kw)`` to RULES (look entries up with optimizers.rule(name))."""
    r = Rule(**kw)
    RULES[r.name] = r
    return r


class NoState(NamedTuple):
    """Gradient descent keeps nothing between steps."""


class Velocity(NamedTuple):
    velocity: float


class SumSq(NamedTuple):
    sum_sq: float


class MeanSq(NamedTuple):
    mean_sq: float


class Moments(NamedTuple):
    """Adam's state: the moments and the running powers beta1^t, beta2^t of their bias corrections."""

    m: float
    v: float
    beta1_power: float
    beta2_power: float


def _gd(g, s, h, lr, xp, w):
    return -lr * g, s


register(
    name="gd", label="Gradient descent", short="GD", params=(lr_param(0.001),), init=NoState(), step=_gd,
    formula=r"w_{t+1} = w_t - \eta\, g_t",
    torch_class="SGD", torch_args=lambda h: dict(lr=h.lr),
    keras_class="SGD", keras_args=lambda h: dict(learning_rate=h.lr),
    note="Batch, stochastic and mini-batch GD are this rule fed full-data, one-sample "
    "or mini-batch gradients.",
    good="Simple, predictable, cheap; with a schedule and mini-batches it trains almost anything.",
    bad="One rate for all weights: slow on long narrow valleys, stuck at saddles and in local minima.",
    color="#0072B2",
    explain=(ETA,), limit=Limit(lambda beta: 2.0, "2/λmax"),
)


#: momentum's and Nesterov's formulas in PyTorch's form (the buffer v sums gradients), labelled
MOMENTUM_PYTORCH = r"v_t = \beta v_{t-1} + g_t \quad \text{(PyTorch form)} \\ "
NESTEROV_PYTORCH = MOMENTUM_PYTORCH + r"w_{t+1} = w_t - \eta\,(g_t + \beta v_t)"
#: the average form's η in terms of PyTorch's (the lr of PyTorch-form momentum taking the same steps)
AVERAGE_ETA = r"\eta = \eta_{\text{PyTorch}} / (1-\beta)"


def _momentum(g, s, h, lr, xp, w):
    v = h.beta * s.velocity + g
    return -lr * v, Velocity(v)


MOMENTUM_BETA = beta_param("beta", "β", 0.9, "momentum", "β: how much of the last velocity is kept.")

register(
    name="momentum", label="Momentum", params=(lr_param(0.001), MOMENTUM_BETA),
    init=Velocity(0.0), step=_momentum, velocity="velocity",
    formula=MOMENTUM_PYTORCH + r"w_{t+1} = w_t - \eta\, v_t",
    torch_class="SGD", torch_args=lambda h: dict(lr=h.lr, momentum=h.beta),
    keras_class="SGD", keras_args=lambda h: dict(learning_rate=h.lr, momentum=h.beta),
    note="PyTorch's form, v = βv + g, w = w − ηv. The course's average form v = βv + (1 − β)g "
    "takes the same steps when its η is this η / (1 − β); its v is (1 − β) times this one.",
    good="Ravines and consistent slopes: speeds up along the valley, averages away the zig-zag; "
    "can roll over small bumps.",
    bad="Overshoots and oscillates around the minimum when β is large; one more setting to tune.",
    conventions="Keras keeps v = βv − ηg and steps +v (the course's η-inside form, v = βv + ηg, w = w − v, "
    "up to sign): the same steps while η is constant.",
    color="#D55E00",
    explain=(VELOCITY, ETA), limit=Limit(lambda beta: 2.0 * (1 + beta), "2(1+β)/λmax"), net_lr_top=1.0,
    # the course's average form: v = (1 - beta) x PyTorch's v, with eta / (1 - beta): exact for any schedule
    course_form=CourseForm("momentum_ewma", (
        GRADIENT,
        Row("v_t", lambda tr: (1 - setting(tr, "beta")) * tr.state["velocity"], 0, arrow="−v: velocity",
            sign=-1.0),
        # the course's eta (the formula's) from PyTorch's: one symbol, one value in the tab
        Row(AVERAGE_ETA, lambda tr: tr.effective_lr / (1 - setting(tr, "beta")), 1),
        STEP, NEW_POINT)),
)


def _momentum_ewma(g, s, h, lr, xp, w):
    v = h.beta * s.velocity + (1 - h.beta) * g
    return -lr * v, Velocity(v)


register(
    name="momentum_ewma", label="Momentum (average form)", short="Momentum average",
    params=(lr_param(0.01), MOMENTUM_BETA),
    init=Velocity(0.0), step=_momentum_ewma, velocity="velocity",
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
    explain=(VELOCITY, ETA),
    explain_torch=(Row("v_t", lambda tr: tr.state["velocity"] / (1 - setting(tr, "beta")), 0),
                   Row(r"\eta (1-\beta)", lambda tr: tr.effective_lr * (1 - setting(tr, "beta")), 1)),
    limit=Limit(lambda beta: 2.0 * (1 + beta) / (1 - beta), "2(1+β)/((1−β) λmax)"), net_lr_top=5.0,
)


def _nesterov(g, s, h, lr, xp, w):
    v = h.beta * s.velocity + g
    return -lr * (g + h.beta * v), Velocity(v)


def _nag_v(tr) -> np.ndarray:
    """The course's v (η inside) from PyTorch's buffer: η v, exact while η is constant."""
    return tr.lr[:, None] * tr.state["velocity"]


#: Nesterov's curvature limit (both forms)
NESTEROV_LIMIT = Limit(lambda beta: 2.0 * (1 + beta) / (1 + 2 * beta), "2(1+β)/((1+2β) λmax)")

register(
    name="nesterov", label="Nesterov (NAG)", short="Nesterov",
    params=(lr_param(0.001), MOMENTUM_BETA),
    init=Velocity(0.0), step=_nesterov, velocity="velocity",
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
    explain=(VELOCITY, ETA), limit=NESTEROV_LIMIT, net_lr_top=1.0,
    # the look-ahead form, eta inside v: its look-ahead points are this run's points, its v is eta x PyTorch's
    course_form=CourseForm("nesterov_lookahead", (
        LOOKAHEAD_GRADIENT,
        Row(r"w_t - \beta v_{t-1}", lambda tr: tr.path[:-1], 0),
        Row("v_t", _nag_v, 0, arrow="−v: velocity", sign=-1.0),
        ETA,
        Row(r"w_{t+1} - \beta v_t", lambda tr: tr.path[1:], 1),
        Row(r"w_{t+1}", lambda tr: tr.path[1:] + setting(tr, "beta") * _nag_v(tr), 1)),
        exact=lambda tr: bool(np.all(tr.lr == tr.lr[0])),
        otherwise="The course writes Nesterov with η inside v (look-ahead form: v = βv + η∇J(w − βv), "
        "w = w − v; its v is η times PyTorch's v). With this run's changing η that form takes other "
        "steps, so this tab shows PyTorch's form."),
)


def _nesterov_lookahead(g, s, h, lr, xp, w):
    v = h.beta * s.velocity - lr * g
    return v, Velocity(v)


register(
    name="nesterov_lookahead", label="Nesterov (look-ahead form)", short="Nesterov look-ahead",
    params=(lr_param(0.001), MOMENTUM_BETA),
    init=Velocity(0.0), step=_nesterov_lookahead, velocity="velocity",
    grad_point=lambda w, s, h: w + h.beta * s.velocity,
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
    # the registry keeps v with the opposite sign (v <- beta v - eta g, w <- w + v): the course's v is -v
    explain=(Row(r"w_t - \beta v_{t-1}", lambda tr: tr.grad_point, 0),
             Row("v_t", lambda tr: -tr.state["velocity"], 0, arrow="−v: velocity", sign=-1.0),
             ETA),
    limit=NESTEROV_LIMIT, net_lr_top=1.0,
)


def _adagrad_step(eps_inside: bool) -> Callable:
    """AdaGrad's step with eps added outside the root (PyTorch) or inside it (Keras)."""

    def step(g, s, h, lr, xp, w):
        acc = s.sum_sq + g * g
        root = xp.sqrt(acc + h.eps) if eps_inside else xp.sqrt(acc) + h.eps
        return -lr * (g / root), SumSq(acc)

    return step


#: how AdaGrad and RMSProp differ in the course: ε inside the root
COURSE_EPS = ("The course writes {what} with ε inside the root, η / √(v + ε) (as Keras does): the same "
              "steps as this run's wherever √v is much larger than √ε.")

#: Keras's default initial_accumulator_value: the sum of squares starts there, not at 0
KERAS_ADAGRAD_START = 0.1


register(
    name="adagrad", label="AdaGrad", params=(lr_param(0.1), eps_param(1e-10)),
    init=SumSq(0.0), step=_adagrad_step(False),
    explain=(Row("v_t", recorded("sum_sq"), 0), rate_row(r"\frac{\eta}{\sqrt{v_t} + \epsilon}", 1)),
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
    course_form=course_in_words(COURSE_EPS.format(what="AdaGrad")),
    keras_form=Form(
        step=_adagrad_step(True), init=SumSq(KERAS_ADAGRAD_START),
        explain=(Row("v_t", recorded("sum_sq"), 0), rate_row(r"\frac{\eta}{\sqrt{v_t + \epsilon}}", 1)),
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
        sq = h.beta * s.mean_sq + (1 - h.beta) * (g * g)
        root = xp.sqrt(sq + h.eps) if eps_inside else xp.sqrt(sq) + h.eps
        return -lr * (g / root), MeanSq(sq)

    return step


register(
    name="rmsprop", label="RMSProp",
    params=(lr_param(0.01), beta_param("beta", "β", 0.99, "decay; torch alpha",
                                       "β: how much of the running mean of g² is kept."), eps_param(1e-8)),
    init=MeanSq(0.0), step=_rmsprop_step(False), net_lr_top=0.2,
    explain=(Row("v_t", recorded("mean_sq"), 0), rate_row(r"\frac{\eta}{\sqrt{v_t} + \epsilon}", 1)),
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
    course_form=course_in_words(COURSE_EPS.format(what="RMSProp")),
    keras_form=Form(
        step=_rmsprop_step(True),
        explain=(Row("v_t", recorded("mean_sq"), 0), rate_row(r"\frac{\eta}{\sqrt{v_t + \epsilon}}", 1)),
        effective_lr=lambda s, h, lr, t, xp: lr / xp.sqrt(s["mean_sq"] + h.eps),
        formula=r"v_t = \beta v_{t-1} + (1-\beta)\, g_t^2 \\ "
        r"w_{t+1} = w_t - \frac{\eta}{\sqrt{v_t + \epsilon}}\, g_t",
        note="Keras's RMSprop: ε is inside the root, √(v + ε). Where √v is near √ε "
        "(a flat start, a vanishing gradient) the steps are smaller than PyTorch's."),
)


def _adam_core(g, s, h, lr, xp, keras: bool):
    """Adam's update and state; eps is added to the bias-corrected root (PyTorch) or to the
    uncorrected one, with the correction in the step size (Keras)."""
    m = h.beta1 * s.m + (1 - h.beta1) * g
    v = h.beta2 * s.v + (1 - h.beta2) * (g * g)
    p1, p2 = s.beta1_power * h.beta1, s.beta2_power * h.beta2
    if keras:
        return -(lr * xp.sqrt(1 - p2) / (1 - p1)) * (m / (xp.sqrt(v) + h.eps)), Moments(m, v, p1, p2)
    denom = xp.sqrt(v) / xp.sqrt(1 - p2) + h.eps
    return -(lr / (1 - p1)) * (m / denom), Moments(m, v, p1, p2)


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


#: Adam's explain rows: the moments, their bias-corrected values (from the recorded powers), the step size
ADAM_ROWS = (
    FIRST_MOMENT,
    Row("v_t", recorded("v"), 1),
    Row(r"\hat m_t", lambda tr: tr.state["m"] / (1 - tr.state["beta1_power"]), 2),
    Row(r"\hat v_t", lambda tr: tr.state["v"] / (1 - tr.state["beta2_power"]), 2),
    rate_row(r"\frac{\eta}{\sqrt{\hat v_t} + \epsilon}", 3),
)
ADAM_KERAS_ROWS = (
    FIRST_MOMENT,
    Row("v_t", recorded("v"), 1),
    Row(r"\hat m_t", lambda tr: tr.state["m"] / (1 - tr.state["beta1_power"]), 2),
    rate_row(r"\frac{\eta \sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon}", 2),
)
#: AdamW's decay term, under the line of the formula it is on
DECAY = Row(r"\eta \lambda\, w_t", lambda tr: tr.lr[:, None] * setting(tr, "weight_decay") * tr.path[:-1], 3)

ADAM_PARAMS = (
    lr_param(0.01),
    beta_param("beta1", "β₁", 0.9, "first moment", "β₁: how much of the running mean of g is kept."),
    beta_param("beta2", "β₂", 0.999, "second moment", "β₂: how much of the running mean of g² is kept."),
    eps_param(1e-8),
)
ADAM_FORMULA = (r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t \\ v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\ "
                r"\hat m_t = \frac{m_t}{1-\beta_1^t},\ \hat v_t = \frac{v_t}{1-\beta_2^t} \\ ")

register(
    name="adam", label="Adam", params=ADAM_PARAMS,
    init=Moments(0.0, 0.0, 1.0, 1.0), step=_adam_step(False),
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
                    note=ADAM_KERAS_NOTE, explain=ADAM_KERAS_ROWS),
    explain=ADAM_ROWS, net_lr_top=0.2,
)


def _adamw_step(keras: bool) -> Callable:
    def step(g, s, h, lr, xp, w):
        update, s = _adam_core(g, s, h, lr, xp, keras)
        return update - lr * h.weight_decay * w, s

    return step


register(
    name="adamw", label="AdamW", params=(*ADAM_PARAMS, Param(
        "weight_decay", 0.01, 0.0, 1.0, "λ (weight decay)", grid=grid_125(0.0, 1.0), symbol="λ",
        help="λ: every step also shrinks the weights by η λ w, outside Adam's per-weight scaling.")),
    init=Moments(0.0, 0.0, 1.0, 1.0), step=_adamw_step(False),
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
                    note=ADAM_KERAS_NOTE + " The decay eta lambda w is as in PyTorch.",
                    explain=(*ADAM_KERAS_ROWS, replace(DECAY, line=2))),
    explain=(*ADAM_ROWS, DECAY), net_lr_top=0.2,
)


class NadamState(NamedTuple):
    """Nadam's moments, beta2^t, the momentum schedule's 0.96^(t psi) and the product of its mu_i."""

    m: float
    v: float
    beta2_power: float
    decay_power: float
    mu_product: float


def _nadam(g, s, h, lr, xp, w):
    decay = s.decay_power * h.decay_per_step  # 0.96^(t psi)
    mu = h.beta1 * (1 - 0.5 * decay)
    mu_next = h.beta1 * (1 - 0.5 * (decay * h.decay_per_step))
    mu_prod = s.mu_product * mu
    m = h.beta1 * s.m + (1 - h.beta1) * g
    v = h.beta2 * s.v + (1 - h.beta2) * (g * g)
    p2 = s.beta2_power * h.beta2
    denom = xp.sqrt(v / (1 - p2)) + h.eps
    update = -(lr * (1 - mu) / (1 - mu_prod)) * (g / denom) - (
        lr * mu_next / (1 - mu_prod * mu_next)
    ) * (m / denom)
    return update, NadamState(m, v, p2, decay, mu_prod)


NADAM_FORMULA = (
    r"\mu_t = \beta_1 (1 - \tfrac12\, 0.96^{t\psi}) \\ m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t"
    r" \\ v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\ "
    r"w_{t+1} = w_t - \frac{\eta}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}\left("
    r"\frac{(1-\mu_t)\, g_t}{1-\prod_{i\le t}\mu_i} + "
    r"\frac{\mu_{t+1}\, m_t}{1-\prod_{i\le t+1}\mu_i}\right)")

register(
    name="nadam", label="Nadam",
    params=(*ADAM_PARAMS, Param("momentum_decay", 0.004, 0.0, 1.0, "ψ (momentum decay)", symbol="ψ",
                                   grid=grid_125(0.0, 1.0), help="ψ: how fast μ_t approaches β₁.")),
    init=NadamState(0.0, 0.0, 1.0, 1.0, 1.0),
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
    explain=(
        # mu_t from the recorded 0.96^(t psi): the formula's first line, read off the state
        Row(r"\mu_t", lambda tr: setting(tr, "beta1") * (1 - 0.5 * tr.state["decay_power"][:, 0]), 0),
        replace(FIRST_MOMENT, line=1),
        Row("v_t", recorded("v"), 2),
        rate_row(r"\frac{\eta}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}", 3)),
    net_lr_top=0.2,
    # Keras's schedule is PyTorch's with momentum_decay = 1: then keras.optimizers.Nadam takes these steps
    keras_takes=lambda hyper: hyper["momentum_decay"] == 1,
)


class RAdamState(NamedTuple):
    """RAdam's state: Adam's, and the step number t (its rectification depends on t)."""

    m: float
    v: float
    beta1_power: float
    beta2_power: float
    t: float


def radam_terms(t, p2, beta2, xp):
    """RAdam's ρ_t (from t and β₂ᵗ = ``p2``) and its rectification r_t, as torch.optim.RAdam computes
    them; r_t is used only where ρ_t > 5 (elsewhere it is any finite number, never a division by 0)."""
    rho_inf = 2 / (1 - beta2) - 1
    rho = rho_inf - 2 * t * p2 / (1 - p2)
    den = (rho_inf - 4) * (rho_inf - 2) * rho
    return rho, xp.sqrt(abs((rho - 4) * (rho - 2) * rho_inf / (den + (den == 0))))


def _radam(g, s, h, lr, xp, w):
    m = h.beta1 * s.m + (1 - h.beta1) * g
    v = h.beta2 * s.v + (1 - h.beta2) * (g * g)
    p1, p2, t = s.beta1_power * h.beta1, s.beta2_power * h.beta2, s.t + 1
    rho, r = radam_terms(t, p2, h.beta2, xp)
    step = m / (1 - p1) * lr  # torch.optim.RAdam's order of operations
    adapted = step * (xp.sqrt(1 - p2) / (xp.sqrt(v) + h.eps)) * r
    rectified = (rho > 5) * 1.0  # 1 or 0 (per row): picks one of the two steps exactly
    return -(rectified * adapted + (1 - rectified) * step), RAdamState(m, v, p1, p2, t)


def _radam_effective_lr(s, h, lr, t, xp):
    """Per unit of m̂: η r_t √(1 − β₂ᵗ) / (√v_t + ε) where rectified, η while ρ_t <= 5."""
    rho, r = radam_terms(t, s["beta2_power"], h.beta2, xp)
    adapted = lr * xp.sqrt(1 - s["beta2_power"]) / (xp.sqrt(s["v"]) + h.eps) * r
    return xp.where(rho > 5, adapted, lr + 0 * adapted)


def _radam_rho(tr) -> np.ndarray:
    """ρ_t of a recorded run, one number per step."""
    return radam_terms(tr.state["t"][:, 0], tr.state["beta2_power"][:, 0], setting(tr, "beta2"), np)[0]


register(
    name="radam", label="RAdam", params=ADAM_PARAMS,
    init=RAdamState(0.0, 0.0, 1.0, 1.0, 0.0), step=_radam, velocity="m",
    effective_lr=_radam_effective_lr,
    formula=ADAM_FORMULA
    + r"\rho_t = \rho_∞ - \frac{2 t \beta_2^t}{1-\beta_2^t},\ \rho_∞ = \frac{2}{1-\beta_2} - 1 \\ "
    r"r_t = \frac{\sqrt{(\rho_t-4)(\rho_t-2)\rho_∞}}{\sqrt{(\rho_∞-4)(\rho_∞-2)\rho_t}} \\ "
    r"w_{t+1} = w_t - \eta\, r_t\, \frac{\sqrt{1-\beta_2^t}\, \hat m_t}{\sqrt{v_t} + \epsilon}\ \text{if}\ "
    r"\rho_t > 5 \\ w_{t+1} = w_t - \eta\, \hat m_t\ \text{if}\ \rho_t \le 5",
    torch_class="RAdam", torch_args=lambda h: dict(lr=h.lr, betas=(h.beta1, h.beta2), eps=h.eps),
    note="Rectified Adam (Liu et al., 2020): while few squared gradients are averaged (ρ_t <= 5: the "
    "first 5 steps for β₂ = 0.999) v̂ is too noisy to divide by, so it steps η m̂ (momentum SGD); then "
    "it is Adam with its step scaled by r_t, which grows from near 0 to 1: a built-in warm-up. "
    "ε is added to the uncorrected root √v, as in torch.optim.RAdam.",
    good="Adam without a hand-made warm-up: the early steps are damped by the variance's own uncertainty.",
    bad="Its first steps are plain momentum steps of size η |m̂|: from a steep start they can "
    "overshoot where Adam's first steps are about η.",
    conventions="Keras 3 has no RAdam. PyTorch's default η is 0.001; decoupled_weight_decay=False and "
    "weight_decay=0 are its defaults, used here.",
    color="#009E73",
    explain=(
        FIRST_MOMENT,
        Row("v_t", recorded("v"), 1),
        Row(r"\hat m_t", lambda tr: tr.state["m"] / (1 - tr.state["beta1_power"]), 2),
        Row(r"\hat v_t", lambda tr: tr.state["v"] / (1 - tr.state["beta2_power"]), 2),
        Row(r"\rho_t", _radam_rho, 3),
        rate_row(r"\eta\, r_t \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon}", 5)),
    net_lr_top=0.2,
)
