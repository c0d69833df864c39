"""The stage in a notebook (JupyterLab, Notebook 7, VS Code): ``pip install "descent-lab[notebook]"``.

    from descent_lab.notebook import Stage
    stage = Stage(surface="rosenbrock", optimizers=["gd", "adam"], steps=300)
    stage                       # the map, the loss chart, the playback: viz/stage.js, the app's own
    stage.set(adam_lr=0.05)     # any link entry, "." written "_": adam_lr is adam.lr
    stage.runs                  # the runs as optimizers.Trajectory objects
    stage.link                  # the Playground link of this setup; Stage(link=...) opens one

An anywidget whose module is viz/stage.js itself (the file, not a copy; viz.stage.module_text puts
viz/payload.js and viz/playback.js in front, as for every stage) and whose payload is
viz.stage.stage_payload's, the app's. What the stage reports (an lr drag that ends, a start click or
drag, 3-D, explain) comes to the kernel as a message; the kernel recomputes through the link reader
(descent_lab.presets.from_link, as the app and the CLI read links) and the widget updates in place.
plotly.js (the axes, the 3-D view) is sent by the kernel once, when the stage asks for it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import urlencode

import anywidget
import traitlets

import viz
from viz.stage import STAGE_CSS, STAGE_JS, module_text, stage_payload, stage_runs

from .cli import link_query
from .families import Family, lr_family, lr_grid, own_run
from .page import PLOTLY_JS
from .presets import from_link
from .setup import RunSpec, Setup, prefixes, to_query

FAMILIES_KEPT = 32  # learning-rate families a Stage keeps for reuse
#: link entries that are not a run's (``adam.lr``) or the lesson's (``lesson.title``)
TOP_LEVEL = ("surface", "optimizers", "steps", "start", "noise", "seed", "batch", "f", "domain", "multiples",
             "show3d", "arrows", "explain", "speed")


def link_entries(settings: Mapping) -> dict[str, str]:
    """Keyword settings as link entries: ``adam_lr=0.05`` is ``adam.lr=0.05``, ``lesson_title`` is
    ``lesson.title``, a list is a comma list (``optimizers=["gd", "adam"]``), a pair ``start=(x, y)``
    is ``x,y``, a bool ``1`` or ``0``."""
    out = {}
    for key, value in settings.items():
        if key not in TOP_LEVEL and "_" in key:
            key = key.replace("_", ".", 1)
        if isinstance(value, bool):
            value = "1" if value else "0"
        elif isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        out[key] = str(value)
    return out


class Stage(anywidget.AnyWidget):
    """The Playground's stage for one setup, in a notebook cell (see the module's docstring)."""

    _esm = module_text(STAGE_JS)
    _css = STAGE_CSS
    payload = traitlets.Bytes(b"").tag(sync=True)
    #: what the kernel answers of the stage's reports (the rest the stage does itself)
    answers = traitlets.List(["lr", "start", "show3d", "explain"]).tag(sync=True)

    def __init__(self, link: str | None = None, **settings):
        super().__init__()
        self._families: dict[tuple, Family] = {}
        self._own_runs: dict[tuple, object] = {}  # (family key, lr index) -> own_run's Trajectory
        self._picture: tuple = (None, None)
        self.setup = Setup()
        self.on_msg(self._on_msg)
        query = dict(link_query(link)) if link else {}
        self._load({**query, **link_entries(settings)})

    @property
    def runs(self) -> list:
        """The runs (optimizers.Trajectory), in order."""
        return [v.trajectory for v in self._views]

    @property
    def link(self) -> str:
        """The Playground link of this setup, relative to the app's address."""
        return "?" + urlencode(to_query(self.setup))

    def set(self, **settings) -> Stage:
        """Change the setup by link entries (see link_entries): ``stage.set(adam_lr=0.05, steps=200)``.
        New ``optimizers`` start from their defaults; as in a link, what cannot be used is left at its
        default, with a warning."""
        query = to_query(self.setup)
        entries = link_entries(settings)
        if "optimizers" in entries:
            runs = set(prefixes(self.setup.runs))
            query = {k: v for k, v in query.items() if k.split(".", 1)[0] not in runs}
        self._load({**query, **entries})
        return self

    def _load(self, query: Mapping) -> None:
        setup, problems = from_link(query)
        if problems:
            warnings.warn("Descent Lab: some settings could not be used: " + "; ".join(problems),
                          stacklevel=3)
        self.setup = setup
        surface = setup.make_surface()
        families, self._views = stage_runs(setup, self._family, own=self._own_run)
        self.payload = stage_payload(setup, surface, families, self._views, self._image(setup, surface))

    def _image(self, setup: Setup, surface) -> tuple[str, float, float]:
        """The landscape picture, drawn again only for another surface."""
        key = (setup.surface, repr(sorted(setup.surface_params.items())))
        if self._picture[0] != key:
            self._picture = (key, viz.landscape_png(surface))
        return self._picture[1]

    def _family(self, setup: Setup, spec: RunSpec) -> Family:
        """``spec``'s learning-rate family, computed once per setting other than its lr (an lr drag
        along its slider reuses it)."""
        key, lrs = _family_key(setup, spec)
        if key not in self._families:
            if len(self._families) >= FAMILIES_KEPT:
                self._families.pop(next(iter(self._families)))  # the oldest
            self._families[key] = lr_family(setup, spec, lrs)
        return replace(self._families[key], spec=spec, index=lrs.index(float(spec.hyper["lr"])))

    def _own_run(self, setup: Setup, fam: Family, surface):
        """families.own_run, its rounding check run once per family and lr (an lr drag end re-checks
        only the run whose lr moved, and only at an lr not seen before)."""
        key = (_family_key(setup, fam.spec)[0], fam.index)
        if key not in self._own_runs:
            if len(self._own_runs) >= FAMILIES_KEPT * 4:
                self._own_runs.pop(next(iter(self._own_runs)))  # the oldest
            self._own_runs[key] = own_run(setup, fam, surface)
        return self._own_runs[key]

    def _on_msg(self, _widget, content, _buffers) -> None:
        """The stage's messages: {want: "plotly"}, or a report {report: name, value}."""
        if content.get("want") == "plotly":
            self.send({"plotly": True}, [PLOTLY_JS.read_bytes()])
            return
        name, value = content.get("report"), content.get("value")
        query = to_query(self.setup)
        if name == "lr" and isinstance(value, dict) and _number(value.get("lr")):
            slot = value.get("run")
            if isinstance(slot, int) and 0 <= slot < len(self.setup.runs):
                query[f"{prefixes(self.setup.runs)[slot]}.lr"] = repr(float(value["lr"]))
        elif name == "start" and isinstance(value, dict) and all(_number(value.get(c)) for c in "xy"):
            query["start"] = f"{round(value['x'], 3)},{round(value['y'], 3)}"
        elif name in ("show3d", "explain") and isinstance(value, bool):
            query[name] = "1" if value else "0"
        else:
            return
        self._load(query)


def _family_key(setup: Setup, spec: RunSpec) -> tuple[tuple, tuple[float, ...]]:
    """What ``spec``'s learning-rate family depends on (every setting but its lr), and its lrs."""
    lrs = lr_grid(spec)
    base = replace(setup, runs=(replace(spec, hyper={**spec.hyper, "lr": lrs[0]}),))
    return (tuple(sorted(to_query(base).items())), lrs), lrs


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)

