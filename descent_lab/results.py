"""The Playground's results table: what each run achieved, as rows a table widget shows."""

from __future__ import annotations

import optimizers

#: The table's loss columns, in the course's notation: the final loss J, and J − J* where J has a minimum.
FINAL = "final J"
GAP = "J − J*"

#: The table's column of runs that are sensitive to rounding (optimizers.rounding), and its help.
SENSITIVE = "chaotic from"
SENSITIVE_HELP = (f"From this step on, one changed rounding (the start moved by one unit in the last place) "
                  f"moves the path by more than {optimizers.rounding.TOL:g}: PyTorch may end elsewhere, and "
                  "so may this app on another machine.")


def result_rows(views, surface, tol: float) -> list[dict]:
    """One row per run (viz.RunView): final J, J − J* (only where J has a minimum in the domain),
    nearest known minimum, distance to it, the step from which it stays within ``tol`` of a
    minimum, the step it diverged at, and the step from which it is sensitive to rounding
    (optimizers.rounding: one changed rounding moves its end; None when it does not)."""
    rows = []
    for v in views:
        o = optimizers.outcome(v.trajectory, surface, tol)
        m = surface.minima[int(o.nearest)] if len(surface.minima) else None
        rows.append({
            "run": v.label,
            FINAL: float(o.final_loss),
            **({GAP: float(o.gap)} if surface.has_global_min else {}),
            "nearest minimum": f"({m[0]:.3g}, {m[1]:.3g})" if m is not None else "none known",
            "distance": float(o.distance),
            "within tolerance from step": int(o.reached_at) if o.reached_at >= 0 else None,
            "diverged at step": int(o.diverged_at) if o.diverged_at >= 0 else None,
            SENSITIVE: v.trajectory.sensitive_from,
        })
    return rows
