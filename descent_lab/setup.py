"""A Playground setup: everything a view depends on, to and from URL query parameters.

Every value from outside (a link, a widget) is checked here, against the same
Param specs the core uses. Parsing never raises: what cannot be used is left
at its default and reported in plain words.

Query form: ``surface``, surface parameters by name (``condition=50``),
``start=x,y``, ``steps``, ``noise``, ``seed``, ``batch``, ``optimizers`` (a comma
list, in order) and, per run, ``<prefix>.<setting>`` where the prefix is the
optimizer's name, numbered from the second of a kind on (``adam``, ``adam2``):
``adam.lr=0.01``, ``adam.schedule=cosine``, ``adam.t_max=200``, and ``adam.form=keras`` for Keras's
form of an optimizer that has one; ``lesson`` (one of the lessons given to from_query:
descent_lab.presets.from_link gives its PRESETS) shows that lesson's question and answer beside the runs;
``lesson.title``, ``lesson.question`` and ``lesson.answer`` are a lecturer's own lesson for the setup
(plain text within LESSON_TEXT's limits, shown escaped wherever it appears).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

import landscapes
import optimizers
from optimizers import BATCH, NOISE, SEED, STEPS, schedules
from specs import Param

MAX_RUNS = 6
DEFAULT_APP_URL = "http://localhost:8501/"  # the app as `descent-lab` starts it on this machine
MAX_PARAMS = 200  # query entries looked at; the rest is ignored
MAX_TEXT = 300  # characters of one value (a formula may be 300 long)
CUSTOM = "custom"  # the surface name of a typed formula: surface=custom&f=...&domain=x0,x1,y0,y1
DEFAULT_DOMAIN = ((-3.0, 3.0), (-3.0, 3.0))
VIEW_FLAGS = ("multiples", "show3d", "arrows", "explain")
SPEEDS = ("0.25x", "0.5x", "1x", "2x", "4x")
#: the stage's playback at 1x, steps a second: a pace a lecturer can talk over (a lesson sets its own speed)
STEPS_PER_SECOND = 20
#: a lecturer's own lesson in a link (lesson.title=...): its texts and their limits in characters
LESSON_TEXT = {"title": 120, "question": 600, "answer": 2000}
#: characters a lesson's text cannot hold (control characters other than tab and newline)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: the Playground's panels below the stage, by their key in links (panel=results)
PANELS = {"rates": "Step sizes", "results": "Results", "code": "Code", "export": "Export"}


@lru_cache(maxsize=64)
def custom_surface(text: str, domain: tuple) -> landscapes.Surface:
    """landscapes.from_expression, once per formula and domain (parsing and the minima search
    take tens of milliseconds)."""
    return landscapes.from_expression(text, domain=domain)


def make_surface(name: str, params: dict) -> landscapes.Surface:
    """A built-in surface with its parameters, or (name "custom") a formula with its domain."""
    if name == CUSTOM:
        return custom_surface(params["expression"], params["domain"])
    return landscapes.get(name, **params)


@dataclass(frozen=True)
class RunSpec:
    """One run: the optimizer's name, its settings, its schedule settings and its form (optimizers.FORMS)."""

    name: str
    hyper: dict = field(default_factory=dict)
    schedule: dict = field(default_factory=lambda: {"kind": "constant"})
    form: str = "pytorch"

    def optimizer(self) -> optimizers.Optimizer:
        return optimizers.get(self.name, schedule=optimizers.Schedule(**self.schedule), form=self.form,
                              **self.hyper)

    def key(self) -> tuple:
        """Hashable identity, for caches."""
        return self.name, tuple(sorted(self.hyper.items())), tuple(sorted(self.schedule.items())), self.form


def forms(name: str) -> tuple[str, ...]:
    """The forms optimizer ``name`` can run in: PyTorch's, and Keras's where it differs."""
    return optimizers.FORMS if optimizers.rule(name).keras_form else ("pytorch",)


def run_spec(name: str, **hyper) -> RunSpec:
    """A run of ``name`` with defaults for every setting not given."""
    rule = optimizers.rule(name)
    return RunSpec(name, {p.name: hyper.get(p.name, p.default) for p in rule.params})


DEFAULT_RUNS = (run_spec("gd", lr=0.001), run_spec("momentum", lr=0.001), run_spec("adam", lr=0.1))


@dataclass(frozen=True)
class LessonText:
    """A lecturer's own lesson for a setup: a title, a question and its answer. Plain text: every
    front end shows it escaped (never as HTML or Markdown); LESSON_TEXT bounds its length."""

    title: str = ""
    question: str = ""
    answer: str = ""

    def __bool__(self) -> bool:
        return bool(self.title or self.question or self.answer)


@dataclass(frozen=True)
class Setup:
    """The whole Playground view."""

    surface: str = "rosenbrock"
    surface_params: dict = field(default_factory=dict)
    start: tuple[float, float] | None = None  # None: the surface's default start
    steps: int = STEPS.default
    runs: tuple[RunSpec, ...] = DEFAULT_RUNS
    noise: float = NOISE.default
    seed: int = SEED.default
    batch: int = BATCH.default  # dataset surfaces: samples per gradient, 0 = all
    multiples: bool = False
    show3d: bool = False  # off by default: in software WebGL a change costs ~0.8 s (README, Performance)
    arrows: bool = True
    explain: bool = False  # explain mode: the selected run's update rule with this step's numbers
    speed: str = "1x"
    panel: str = ""  # a key of PANELS, or "" for none open
    lesson: str = ""  # a key of descent_lab.presets.PRESETS, or "" for none
    own_lesson: LessonText = LessonText()  # the lecturer's own title, question and answer

    def make_surface(self) -> landscapes.Surface:
        return make_surface(self.surface, self.surface_params)

    def start_point(self) -> tuple[float, float]:
        if self.start is not None:
            return self.start
        s = self.make_surface().start
        return float(s[0]), float(s[1])


def prefixes(runs) -> list[str]:
    """URL prefix of each run: its name, with 2, 3, ... for repeats."""
    seen: dict[str, int] = {}
    out = []
    for r in runs:
        seen[r.name] = seen.get(r.name, 0) + 1
        out.append(r.name if seen[r.name] == 1 else f"{r.name}{seen[r.name]}")
    return out


def link_number(v) -> str:
    return repr(int(v)) if isinstance(v, int) or (float(v).is_integer() and abs(v) < 1e15) else repr(float(v))


def spelt_out(setup: Setup) -> Setup:
    """The same setup with its start and every surface setting written out, as the Playground holds
    it: its to_query is the address the Playground writes for it."""
    if setup.surface == CUSTOM:
        return replace(setup, start=setup.start_point())
    return replace(setup, start=setup.start_point(), surface_params=dict(setup.make_surface().params))


def to_query(setup: Setup) -> dict[str, str]:
    """The setup as query parameters (all of it, so a link reproduces the view exactly)."""
    q = {"surface": setup.surface}
    if setup.surface == CUSTOM:
        (x0, x1), (y0, y1) = setup.surface_params["domain"]
        q["f"] = setup.surface_params["expression"]
        q["domain"] = ",".join(link_number(v) for v in (x0, x1, y0, y1))
    else:
        q.update({k: link_number(v) for k, v in sorted(setup.surface_params.items())})
    if setup.start is not None:
        q["start"] = f"{link_number(setup.start[0])},{link_number(setup.start[1])}"
    q["steps"] = str(setup.steps)
    if setup.noise:
        q["noise"] = link_number(setup.noise)
    if setup.seed:
        q["seed"] = str(setup.seed)
    if setup.batch:
        q["batch"] = str(setup.batch)
    q.update(runs_query(setup.runs))
    for flag in VIEW_FLAGS:
        if getattr(setup, flag) != getattr(Setup, flag):
            q[flag] = "1" if getattr(setup, flag) else "0"
    if setup.speed != Setup.speed:
        q["speed"] = setup.speed
    if setup.panel:
        q["panel"] = setup.panel
    if setup.lesson:
        q["lesson"] = setup.lesson
    for k in LESSON_TEXT:
        if text := getattr(setup.own_lesson, k):
            q[f"lesson.{k}"] = text
    return q


def runs_query(runs) -> dict[str, str]:
    """Runs as query parameters: ``optimizers`` (a comma list) and ``<prefix>.<setting>``."""
    q = {"optimizers": ",".join(r.name for r in runs)}
    for pre, r in zip(prefixes(runs), runs, strict=True):
        for k, v in r.hyper.items():
            q[f"{pre}.{k}"] = link_number(v)
        if r.form != "pytorch":
            q[f"{pre}.form"] = r.form
        if r.schedule.get("kind", "constant") != "constant" or r.schedule.get("warmup"):
            q[f"{pre}.schedule"] = r.schedule["kind"]
            for k, v in r.schedule.items():
                if k != "kind":
                    q[f"{pre}.{k}"] = link_number(v)
    return q


class QueryReader:
    """Takes values out of a query, noting every problem."""

    def __init__(self, query: Mapping, long: Mapping[str, int] | None = None):
        """``long``: keys whose values may be longer than MAX_TEXT, with their own limits."""
        items = list(query.items())
        long = long or {}
        self.problems: list[str] = []
        if len(items) > MAX_PARAMS:
            self.problems.append(f"{len(items) - MAX_PARAMS} parameters beyond the first {MAX_PARAMS}")
            items = items[:MAX_PARAMS]
        self.q = {}
        for k, v in items:
            v = v[-1] if isinstance(v, list | tuple) and v else v
            k, v = str(k)[:MAX_TEXT], str(v)
            if len(v) > (limit := long.get(k, MAX_TEXT)):
                self.problems.append(f"{k} (value longer than {limit} characters)")
                continue
            self.q[k] = v.strip()
        self.used: set[str] = set()

    def text(self, key: str) -> str | None:
        if key in self.q:
            self.used.add(key)
            return self.q[key]
        return None

    def number(self, key: str, p: Param, label: str | None = None):
        raw = self.text(key)
        if raw is None:
            return None
        try:
            v = float(raw)
        except ValueError:
            self.problems.append(f"{label or key}={raw!r} (not a number)")
            return None
        if not math.isfinite(v):
            self.problems.append(f"{label or key}={raw} (not a finite number)")
            return None
        clamped = p.clamp(v)
        if clamped != v:
            self.problems.append(f"{label or key}={raw} (outside {p.lo:g}..{p.hi:g}; used {clamped:g})")
        return clamped

    def choice(self, key: str, options, default=None):
        """The value of ``key`` if it is one of ``options``; else ``default`` (a problem noted)."""
        raw = self.text(key)
        if raw is None:
            return default
        if raw in options:
            return raw
        self.problems.append(f"{key}={raw[:40]!r} (use one of {', '.join(options)})")
        return default

    def flag(self, key: str) -> bool | None:
        raw = self.text(key)
        if raw is None:
            return None
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        self.problems.append(f"{key}={raw!r} (use 1 or 0)")
        return None

    def leftovers(self) -> None:
        rest = sorted(set(self.q) - self.used)
        if rest:
            shown = ", ".join(rest[:8]) + (f" and {len(rest) - 8} more" if len(rest) > 8 else "")
            self.problems.append(f"unknown parameters: {shown}")


def from_query(query: Mapping, lessons: Collection[str] = ()) -> tuple[Setup, list[str]]:
    """The setup a query describes, and what was ignored or changed (never raises); ``lesson=``
    is one of ``lessons`` (the keys of descent_lab.presets.PRESETS, which are setups themselves)."""
    r = QueryReader(query, long={f"lesson.{k}": n for k, n in LESSON_TEXT.items()})
    setup = Setup()
    name = r.text("surface")
    if name is not None and name not in (*landscapes.names(), CUSTOM):
        r.problems.append(f"surface={name!r} (unknown; using {setup.surface})")
        name = None
    sparams = _custom(r) if name == CUSTOM else None
    if sparams is None:
        name = setup.surface if name in (None, CUSTOM) else name
        sparams = {}
        for p in landscapes.spec(name).params:
            v = r.number(p.name, p)
            if v is not None:
                sparams[p.name] = v
    changes: dict = {"surface": name, "surface_params": sparams}
    s = make_surface(name, sparams)
    raw = r.text("start")
    if raw is not None:
        start = parse_start(raw, s, r.problems)
        if start is not None:
            changes["start"] = start
    for key, p in (("steps", STEPS), ("noise", NOISE), ("seed", SEED), ("batch", BATCH)):
        v = r.number(key, p)
        if v is not None:
            changes[key] = v
    if changes.get("batch") and s.data is None:
        r.problems.append(f"batch (only for dataset surfaces; {s.title} has no data)")
        changes["batch"] = 0
    for flag in VIEW_FLAGS:
        v = r.flag(flag)
        if v is not None:
            changes[flag] = v
    for key, options in (("panel", PANELS), ("speed", SPEEDS), ("lesson", tuple(lessons))):
        if (v := r.choice(key, options)) is not None:
            changes[key] = v
    names = r.text("optimizers")
    if names is not None:
        changes["runs"] = read_runs(names, r)
    changes["own_lesson"] = read_lesson_text(r)
    r.leftovers()
    return replace(setup, **changes), r.problems


def read_lesson_text(r: QueryReader) -> LessonText:
    """The link's own lesson (lesson.title, lesson.question, lesson.answer): a text beyond its limit
    is refused by the reader; control characters are dropped, each with a problem noted."""
    texts = {}
    for k in LESSON_TEXT:
        raw = r.text(f"lesson.{k}")
        if raw is None:
            continue
        text = CONTROL.sub("", raw.replace("\r\n", "\n").replace("\r", "\n"))
        if CONTROL.search(raw.replace("\r", "")):
            r.problems.append(f"lesson.{k} (control characters removed)")
        texts[k] = text.strip()
    return LessonText(**texts)


def domain_words(domain) -> str:
    """E.g. "x from -3 to 3, y from -3 to 3"."""
    (x0, x1), (y0, y1) = domain
    return f"x from {x0:g} to {x1:g}, y from {y0:g} to {y1:g}"


def _custom(r: QueryReader) -> dict | None:
    """A formula surface's parameters from f= and domain=, or None (with the problem noted: a bad
    formula under f=, a bad domain under domain=, and what is shown instead)."""
    instead = f"showing {Setup().make_surface().title} instead"
    text = r.text("f")
    if not text:
        r.problems.append(f"surface=custom needs a formula in f=, e.g. f=x^2+3*y^2; {instead}")
        return None
    domain = DEFAULT_DOMAIN
    raw = r.text("domain")
    if raw is not None:
        try:
            x0, x1, y0, y1 = (float(v) for v in raw.split(","))
            domain = ((x0, x1), (y0, y1))
        except ValueError:
            r.problems.append(f"domain={raw!r} (use four numbers: xmin,xmax,ymin,ymax; using "
                              f"{domain_words(DEFAULT_DOMAIN)})")
    try:
        custom_surface(text, domain)
        return {"expression": text, "domain": domain}
    except ValueError as e:
        problem = str(e)
    if domain != DEFAULT_DOMAIN:
        try:
            custom_surface(text, DEFAULT_DOMAIN)  # the formula works: the domain was the problem
        except ValueError:
            pass
        else:
            r.problems.append(f"domain={raw} ({problem}; using {domain_words(DEFAULT_DOMAIN)})")
            return {"expression": text, "domain": DEFAULT_DOMAIN}
    r.problems.append(f"f={text!r} ({problem}; {instead})")
    return None


def two_numbers(key: str, raw: str, problems: list[str], example: str) -> tuple[float, float] | None:
    """``raw`` ("a,b") as two finite numbers, or None with the problem noted."""
    try:
        a, b = (float(v) for v in raw.split(","))
    except ValueError:
        problems.append(f"{key}={raw[:40]!r} (use two numbers, like {key}={example})")
        return None
    if not (math.isfinite(a) and math.isfinite(b)):
        problems.append(f"{key}={raw[:40]} (not finite)")
        return None
    return a, b


def parse_start(raw: str, s, problems: list[str]):
    if (xy := two_numbers("start", raw, problems, "-1.5,2")) is None:
        return None
    x, y = xy
    (x0, x1), (y0, y1) = s.domain
    cx, cy = min(max(x, x0), x1), min(max(y, y0), y1)
    if (cx, cy) != (x, y):
        problems.append(f"start={raw} (outside the map; moved to {cx:g},{cy:g})")
    return cx, cy


def read_runs(names: str, r: QueryReader, default=DEFAULT_RUNS) -> tuple[RunSpec, ...]:
    """The runs a query lists in ``names`` (``optimizers=``) with their settings; ``default`` when
    none is known (problems noted in ``r``)."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    known = [n for n in wanted if n in optimizers.names()]
    for n in wanted:
        if n not in optimizers.names():
            r.problems.append(f"optimizer {n[:40]!r} (unknown)")
    if len(known) > MAX_RUNS:
        r.problems.append(f"{len(known) - MAX_RUNS} optimizers beyond the first {MAX_RUNS}")
        known = known[:MAX_RUNS]
    if not known:
        r.problems.append("no known optimizer in the list; using the default runs")
        return default
    runs = []
    for pre, name in zip(prefixes([RunSpec(n) for n in known]), known, strict=True):
        rule = optimizers.rule(name)
        hyper = {}
        for p in rule.params:
            v = r.number(f"{pre}.{p.name}", p)
            hyper[p.name] = p.default if v is None else v
        kind = r.text(f"{pre}.schedule") or "constant"
        if kind not in schedules.KINDS:
            r.problems.append(f"{pre}.schedule={kind!r} (use one of {', '.join(schedules.KINDS)})")
            kind = "constant"
        sched = {"kind": kind}
        for k in (*schedules.USES[kind], "warmup", "warmup_start"):
            v = r.number(f"{pre}.{k}", schedules.PARAMS[k])
            if v is not None:
                sched[k] = v
        form = r.choice(f"{pre}.form", forms(name), "pytorch")
        runs.append(RunSpec(name, hyper, sched, form))
    return tuple(runs)
