"""Figure builders: arrays in, Plotly / Matplotlib figures out. No Streamlit here."""

from descent_lab.compute import RunView
from descent_lab.runlist import PALETTE, run_colors

from .landscape import display_transform, landscape_grid, landscape_png
from .playground import fast_figure, rate_figure, trajectory_figure

__all__ = [
    "PALETTE", "RunView", "display_transform", "fast_figure", "landscape_grid", "landscape_png",
    "rate_figure", "run_colors", "trajectory_figure",
]
