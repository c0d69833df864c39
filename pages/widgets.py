"""Streamlit widgets shared by the pages: settings from Param specs, surface picker, cached math.

Only Streamlit wiring lives here; the math is in landscapes/optimizers, the
figures in viz.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

import landscapes
import optimizers
import viz
from landscapes import Param, Surface


def _grid(lo: float, hi: float) -> list[float]:
    """1-2-5 values from lo to hi: the steps of a log slider."""
    out = [0.0] if lo <= 0 else []
    for e in range(-12, 7):
        for m in (1, 2, 5):
            v = float(f"{m}e{e}")
            if max(lo, 1e-12) <= v <= hi:
                out.append(v)
    return out


PLAYGROUND = "pages/playground.py"
PENDING_SETUP = "pending_setup"  # session key: a Setup for the Playground to load on its next run


def open_in_playground(setup) -> None:
    """Switch to the Playground showing ``setup`` (a descent_lab.setup.Setup)."""
    st.session_state[PENDING_SETUP] = setup
    st.switch_page(PLAYGROUND)


BETAS = [0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999]
EPS = [1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1e-1]


def options_for(p: Param) -> list[float] | None:
    """The discrete choices a slider offers for ``p``, or None for a number box."""
    if p.integer:
        return None
    if p.name.startswith("beta"):
        return BETAS
    if p.name == "eps":
        return EPS
    if p.log or p.name in ("momentum_decay", "gamma", "eta_min", "warmup_start"):
        return _grid(p.lo, p.hi)
    return None


def snap(p: Param, value) -> float | int:
    """``value`` moved onto the widget's grid for ``p`` (nearest choice, in log terms for log grids)."""
    opts = options_for(p)
    v = float(value)
    if opts is None:
        v = min(max(v, p.lo), p.hi)
        return round(v) if p.integer else v
    arr = np.array(opts)
    if p.log and v > 0:
        pos = arr > 0
        return float(arr[pos][np.argmin(np.abs(np.log(arr[pos]) - np.log(v)))])
    return float(arr[np.argmin(np.abs(arr - v))])


def param_widget(p: Param, key: str, container=st):
    """A widget for ``p`` bound to ``st.session_state[key]`` (set to the default first time).

    A value that came from a link and is not on the slider's grid is added to it,
    so links reproduce settings exactly.
    """
    if key not in st.session_state:
        st.session_state[key] = snap(p, p.default)
    opts = options_for(p)
    if opts is None:
        return container.number_input(p.label, min_value=p.lo, max_value=p.hi, key=key, help=p.help or None,
                                      step=1 if p.integer else None)
    return container.select_slider(p.label, options=with_value(opts, st.session_state[key]), key=key,
                                   help=p.help or None, format_func=lambda v: f"{v:g}")


def with_value(options: list, value) -> list:
    """``options`` with ``value`` inserted in order if it is not there yet."""
    return options if value in options else sorted([*options, value])


def surface_picker(container, key: str = "surface") -> Surface:
    """Surface select box, its lesson and its parameter widgets; returns the surface."""
    names = landscapes.names()
    st.session_state.setdefault(key, "rosenbrock")
    name = container.selectbox("Surface", names, key=key,
                               format_func=lambda n: landscapes.spec(n).title)
    spec = landscapes.spec(name)
    values = {p.name: param_widget(p, f"{key}.{name}.{p.name}", container) for p in spec.params}
    surface = landscapes.get(name, **values)
    container.caption(surface.lesson)
    return surface


@st.cache_data(max_entries=64, show_spinner=False)
def landscape_image(name: str, params: tuple) -> tuple[str, float, float]:
    """The map's landscape picture, once per surface and parameters."""
    return viz.landscape_png(landscapes.get(name, **dict(params)))


def image_for(surface: Surface):
    return landscape_image(surface.name, tuple(sorted(surface.params.items())))


@st.cache_resource(max_entries=512, show_spinner=False)
def cached_run(surface_key: tuple, run_key: tuple, start: tuple, steps: int,
               noise: float, seed: int, batch_size: int | None) -> optimizers.Trajectory:
    """One run, computed once per configuration (changing one run recomputes only that run)."""
    surface = landscapes.get(surface_key[0], **dict(surface_key[1]))
    name, hyper, schedule = run_key
    opt = optimizers.get(name, schedule=optimizers.Schedule(**dict(schedule)), **dict(hyper))
    return optimizers.run(opt, surface, start=start, steps=steps, noise=noise, seed=seed,
                          batch_size=batch_size)


def surface_key(surface: Surface) -> tuple:
    return surface.name, tuple(sorted(surface.params.items()))
