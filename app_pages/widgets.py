"""Streamlit widgets shared by the pages: settings from Param specs, surface picker, cached math.

Only Streamlit wiring lives here; the math is in landscapes/optimizers, the
figures in viz.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

import streamlit as st

import landscapes
import optimizers
import viz
from descent_lab import compute
from descent_lab.compute import surface_from_key, surface_key
from descent_lab.families import Family, lr_family, lr_grid
from descent_lab.runlist import RunList
from descent_lab.setup import (
    CUSTOM,
    DEFAULT_DOMAIN,
    MAX_RUNS,
    RunSpec,
    Setup,
    custom_surface,
    forms,
    spelt_out,
    to_query,
)
from landscapes import Surface, expression
from optimizers import schedules
from specs import Param


def plain(text: str) -> str:
    """``text`` escaped for Streamlit's Markdown so it shows as typed: ``x**2`` is not bold, a
    ``[link](...)`` or ``![image](...)`` from a link's query is not rendered (nor fetched)."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)

PLAYGROUND = "app_pages/playground.py"
PENDING_SETUP = "pending_setup"  # session key: a Setup for the Playground to load on its next run


def open_in_playground(setup) -> None:
    """Switch to the Playground showing ``setup`` (a descent_lab.setup.Setup)."""
    st.session_state[PENDING_SETUP] = setup
    st.switch_page(PLAYGROUND)


def playground_link(setup, label: str = "Open in the Playground") -> None:
    """A link to the Playground showing ``setup``: a real link whose address is the setup's (so it
    opens in a new tab too), one step in the browser's history (so Back returns here in one press)."""
    st.page_link(PLAYGROUND, label=label, icon=":material/sports_esports:",
                 query_params=to_query(spelt_out(setup)))


NETWORKS = "app_pages/networks.py"
PENDING_NET = "net.pending"  # session key: a Networks link's query for the Networks page to load


def open_in_networks(link: str) -> None:
    """Switch to the Networks page showing ``link`` (descent_lab.networks.link's '/networks?...'),
    also when the page already holds another view in this session."""
    st.session_state[PENDING_NET] = dict(parse_qsl(urlsplit(link).query))
    st.switch_page(NETWORKS)


def param_widget(p: Param, key: str, container=st, disabled: bool = False):
    """A widget for ``p`` bound to ``st.session_state[key]`` (set to the default first time;
    ``disabled``: shown greyed, its value kept).

    A value that came from a link and is not on the slider's grid is added to it,
    so links reproduce settings exactly.
    """
    if key not in st.session_state:
        st.session_state[key] = p.snap(p.default)
    if p.grid is None:
        return container.number_input(p.label, min_value=p.lo, max_value=p.hi, key=key, help=p.help or None,
                                      step=1 if p.integer else None, disabled=disabled)
    return container.select_slider(p.label, options=p.options(st.session_state[key]), key=key,
                                   help=p.help or None, format_func=lambda v: f"{v:g}", disabled=disabled)


def schedule_widgets(key: str) -> dict:
    """A run's learning-rate schedule: its kind (session key ``key``), that kind's settings and
    the warm-up (keys ``key.<setting>``); returns the RunSpec.schedule dict."""
    kind = st.selectbox("Learning-rate schedule", schedules.KINDS, key=key)
    sched = {"kind": kind}
    for k in (*schedules.USES[kind], "warmup"):
        sched[k] = param_widget(schedules.PARAMS[k], f"{key}.{k}")
    if sched["warmup"]:
        sched["warmup_start"] = param_widget(schedules.PARAMS["warmup_start"], f"{key}.warmup_start")
    return sched


FORM_LABELS = {"pytorch": "PyTorch", "keras": "Keras"}
FORM_HELP = "The update as torch.optim or as keras.optimizers writes it (where eps sits, where sums start)"
CARDS_PER_ROW = 3


def run_cards(runs: RunList, lr_on_stage: bool = False) -> tuple[list[int], list[str], list[RunSpec]]:
    """The run cards of ``runs``, three to a row (a name like "Gradient descent" is never cut), and
    "Add run" after the last; returns the runs' ids, colours and RunSpecs, in order."""
    ss = st.session_state
    ids = runs.ids(ss)
    colors = runs.colors(ss)
    specs = []
    rows = [list(enumerate(ids))[k:k + CARDS_PER_ROW] for k in range(0, len(ids), CARDS_PER_ROW)]
    for r, cards in enumerate(rows):
        cols = st.columns(CARDS_PER_ROW + 1)
        for col, (slot, i) in zip(cols, cards, strict=False):
            with col:
                specs.append(run_card(runs, i, slot + 1, colors[slot], lr_on_stage))
        if r == len(rows) - 1:
            cols[-1].button(":material/add: Add run", key=f"{runs.prefix}add_run", on_click=runs.add,
                            args=(ss,), disabled=len(ids) >= MAX_RUNS, width="stretch")
    return ids, colors, specs


def run_card(runs: RunList, i: int, number: int, color: str, lr_on_stage: bool) -> RunSpec:
    """One run's optimizer and learning rate (``lr_on_stage``: its slider is on the stage, beside the
    map, where dragging it needs no server); its form, other settings and schedule in a popover."""
    ss = st.session_state
    pick, more = st.columns([4, 1], vertical_alignment="bottom", gap="small")
    name = pick.selectbox(f"Run {number}", optimizers.names(), key=runs.key(i, "opt"),
                          format_func=optimizer_label)
    st.markdown(f"<div style='height:4px;background:{color};margin:-0.6rem 0 0.2rem'></div>",
                unsafe_allow_html=True)
    rule = optimizers.rule(name)
    if lr_on_stage:
        ss.setdefault(runs.key(i, "lr"), rule.lr.snap(rule.lr.default))
        hyper = {"lr": rule.lr.clamp(ss[runs.key(i, "lr")])}
    else:
        hyper = {"lr": param_widget(rule.lr, runs.key(i, "lr"))}
    with more.popover("", icon=":material/tune:", help="More settings: betas, schedule, epsilon"):
        form = "pytorch"
        if len(forms(name)) > 1:
            ss.setdefault(runs.key(i, "form"), "pytorch")
            form = st.radio("Form", forms(name), key=runs.key(i, "form"), format_func=FORM_LABELS.get,
                            help=FORM_HELP, horizontal=True)
        st.caption(rule.in_form(form).note)
        for p in rule.params:
            if p.name not in ("lr", "eps"):
                hyper[p.name] = param_widget(p, runs.key(i, p.name))
        sched = schedule_widgets(runs.key(i, "sched"))
        with st.expander("Advanced"):
            for p in rule.params:
                if p.name == "eps":
                    hyper["eps"] = param_widget(p, runs.key(i, "eps"))
        st.button("Remove this run", key=runs.key(i, "remove"), on_click=runs.remove, args=(ss, i),
                  disabled=len(runs.ids(ss)) == 1)
    return RunSpec(name, hyper, sched, form)


def side_by_side(*panels: tuple[str, list[str]]) -> None:
    """Formulas to compare, in columns: each panel is (a bold-title markdown line, [LaTeX, ...])."""
    for col, (title, formulas) in zip(st.columns(len(panels)), panels, strict=True):
        col.markdown(title)
        for f in formulas:
            col.latex(f)


DEFAULT_FORMULA = "sin(x)*cos(y) + 0.1*(x^2 + y^2)"
FORMULA_HELP = (f"Use x, y, numbers, + - * / ^, parentheses, {', '.join(expression.CONSTANTS)} and "
                f"{' '.join(expression.USER_FUNCTIONS)}; at most {expression.MAX_LENGTH} characters, "
                f"constant powers up to ±{expression.MAX_POWER}.")


def surface_label(name: str) -> str:
    """A surface as the Surface select box lists it."""
    return "Your own formula" if name == CUSTOM else landscapes.spec(name).title


def optimizer_label(name: str) -> str:
    """An optimizer as a run's select box lists it."""
    return optimizers.rule(name).label


def surface_picker(container, key: str = "surface", allow_custom: bool = False) -> Surface:
    """Surface select box, its lesson and its parameter widgets; returns the surface.

    With ``allow_custom`` the list ends with "Your own formula", which shows a formula box
    and the domain.
    """
    names = landscapes.names() + ([CUSTOM] if allow_custom else [])
    st.session_state.setdefault(key, "rosenbrock")
    name = container.selectbox("Surface", names, key=key, format_func=surface_label)
    if name == CUSTOM:
        return formula_picker(container, f"{key}.custom")
    spec = landscapes.spec(name)
    values = {p.name: param_widget(p, f"{key}.{name}.{p.name}", container) for p in spec.params}
    surface = landscapes.get(name, **values)
    container.caption(surface.lesson)
    return surface


def formula_picker(container, key: str) -> Surface:
    """A formula box and its domain. A formula that cannot be used is reported, and the last
    good one stays on the map (nothing the user had is lost)."""
    st.session_state.setdefault(f"{key}.f", DEFAULT_FORMULA)
    text = container.text_input("J(x, y) =", key=f"{key}.f", max_chars=300,
                                help=FORMULA_HELP)
    cols = container.columns(4)
    bounds = []
    for col, (k, default) in zip(cols, (("x0", -3.0), ("x1", 3.0), ("y0", -3.0), ("y1", 3.0)), strict=True):
        st.session_state.setdefault(f"{key}.{k}", default)
        bounds.append(col.number_input(k.replace("0", " min").replace("1", " max"), key=f"{key}.{k}",
                                       min_value=-expression.MAX_BOUND, max_value=expression.MAX_BOUND,
                                       step=0.5))
    domain = ((bounds[0], bounds[1]), (bounds[2], bounds[3]))
    try:
        surface = custom_surface(text, domain)
        st.session_state[f"{key}.last"] = (text, domain)
    except ValueError as e:
        container.error(f"That formula or domain can't be used: {plain(str(e))}", icon=":material/function:")
        text, domain = st.session_state.get(f"{key}.last", (DEFAULT_FORMULA, DEFAULT_DOMAIN))
        shown = " ".join(text.split())  # inline code: no Markdown (x**2 is not bold)
        container.caption(f"Still showing `J(x, y) = {shown}`")
        surface = custom_surface(text, domain)
    return surface


@st.cache_data(max_entries=64, show_spinner=False)
def landscape_image(key: tuple) -> tuple[str, float, float]:
    """The map's landscape picture, once per surface (see surface_key)."""
    return viz.landscape_png(surface_from_key(key))


def image_for(surface: Surface):
    return landscape_image(surface_key(surface))


@st.cache_resource(max_entries=512, show_spinner=False)
def cached_run(surface_key: tuple, run_key: tuple, start: tuple, steps: int,
               noise: float, seed: int, batch_size: int | None) -> optimizers.Trajectory:
    """One run, computed once per configuration (changing one run recomputes only that run)."""
    return compute.keyed_run(surface_key, run_key, start, steps, noise, seed, batch_size)


@lru_cache(maxsize=32)
def _family(surface_key: tuple, name: str, hyper: tuple, schedule: tuple, form: str, lrs: tuple,
            start: tuple, steps: int, noise: float, seed: int, batch: int) -> Family:
    """One run at every lr of ``lrs``: computed once per configuration other than the lr itself.

    Shared by every session like st.cache_resource, but keyed by Python's own hash of the
    arguments: st.cache_resource hashed them value by value (and inspected the signature once per
    argument), 1-2 ms per look-up and six look-ups per Playground run."""
    surface, params = compute.surface_setting(surface_key)
    setup = Setup(surface=surface, surface_params=params, start=start, steps=steps, noise=noise, seed=seed,
                  batch=batch)
    return lr_family(setup, RunSpec(name, {**dict(hyper), "lr": lrs[0]}, dict(schedule), form), lrs)


def family_for(setup: Setup, spec: RunSpec, surface: Surface) -> Family:
    """``spec``'s learning-rate family on ``setup`` (cached; moving the lr along its grid is free)."""
    lrs = lr_grid(spec)
    hyper = tuple(sorted((k, v) for k, v in spec.hyper.items() if k != "lr"))
    fam = _family(surface_key(surface), spec.name, hyper, tuple(sorted(spec.schedule.items())), spec.form,
                  lrs, setup.start_point(), setup.steps, setup.noise, setup.seed, setup.batch)
    return replace(fam, spec=spec, lrs=lrs, index=lrs.index(float(spec.hyper["lr"])))
