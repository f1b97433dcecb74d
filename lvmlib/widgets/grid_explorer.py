"""Chapter 03 explorer: a 1-D grid quadrature of log p(x) for the nonlinear running example.

:func:`grid_explorer_state` is the plain update function and :func:`grid_explorer` the ipywidgets front end.

Sliders (description: meaning): ``x``: the observed value (updates on release: a new x redraws the whole figure,
~50 ms); ``m (grid points)``: number of grid points; ``L (grid on [−L, L])``: the grid covers z in [-L, L] (m and L
only move the grid's artists, which are blitted in a few ms, so they update while dragged). Readout data-names:
``log_px`` (exact log p(x), nats), ``log_px_grid`` (trapezoid estimate on the slider's grid), ``abs_error`` (their
absolute difference, nats).
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lvmlib.logspace import log_trapezoid
from lvmlib.marginal import grid_1d

EXPLORER_DEFAULTS = {"x": 2.0, "m": 7, "L": 4.0}
EXPLORER_RANGES = {"x": (-1.0, 6.0, 0.1), "m": (2, 60, 1), "L": (0.5, 8.0, 0.1)}


@dataclass
class GridExplorerState:
    """Numbers and curves the grid explorer shows."""

    log_px: float
    log_px_grid: float
    abs_error: float
    grid: np.ndarray  # (m,) grid points
    p_xz_grid: np.ndarray  # (m,) p(x, z) at the grid points


def grid_explorer_state(x, m, L, model=None):
    """Exact log p(x) of ``NonlinearModel1D`` against the trapezoid rule with m points on [-L, L].

    The integrand is kept in log space, so the estimate stays finite even when every grid point misses the
    posterior's mass. Returns a :class:`GridExplorerState`.
    """
    from lvmlib import _checks

    x, L = _checks.finite_scalar(x, "x"), float(_checks.positive(_checks.finite_scalar(L, "L"), "L"))
    xs = np.array([[float(x)]])
    if model is None:
        model, exact = _default_truth(float(x))
    else:
        exact = float(model.log_p_x(xs)[0])
    grid = grid_1d(-L, L, m)
    log_joint = model.log_p_xz_on_grid(xs, grid)[0]
    estimate = float(log_trapezoid(log_joint, grid))
    return GridExplorerState(exact, estimate, abs(estimate - exact), grid, np.exp(log_joint))


@lru_cache(maxsize=128)
def _default_truth(x):
    """The default model and its exact log p(x): it depends on x only, not on the grid's sliders m and L."""
    from lvmlib.examples import NonlinearModel1D

    model = NonlinearModel1D()
    return model, float(model.log_p_x(np.array([[x]]))[0])


def grid_explorer(dpi=80):
    """The ipywidgets explorer: sliders x, m, L; a figure of p(x, z) over z with the grid's trapezoids."""
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from lvmlib.examples import NonlinearModel1D
    from lvmlib.plotting import COLORS
    from lvmlib.widgets import LiveFigure, explorer_layout, readout_html, reset_button, slider

    model = NonlinearModel1D()
    fine = np.linspace(-8.0, 8.0, 1601)
    labels = {"x": "x", "m": "m (grid points)", "L": "L (grid on [−L, L])"}
    controls = {}
    for name, (lo, hi, step) in EXPLORER_RANGES.items():  # slider(label, min, max, value, step)
        controls[name] = slider(labels[name], lo, hi, EXPLORER_DEFAULTS[name], step, readout_format=".1f",
                                integer=name == "m", continuous_update=name != "x")  # x redraws all: on release
    fig = Figure(figsize=(5.6, 3.2))
    ax = fig.add_subplot()
    (curve,) = ax.plot(fine, fine * 0, color=COLORS["model"], label="p(x, z)")
    (trap,) = ax.plot([], [], "-o", color=COLORS["highlight"], ms=3, lw=1, label="trapezoid on the grid")
    ax.set(xlabel="z", ylabel="p(x, z)", xlim=(-8, 8))
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("x", fontsize=9)  # room for the title before tight_layout
    fig.tight_layout()
    live = LiveFigure(fig, dpi=dpi, animated=[curve, trap])  # m and L only move the grid: blit it
    readout = widgets.HTML()

    def update(change=None):
        x, m, L = (controls[k].value for k in ("x", "m", "L"))
        s = grid_explorer_state(x, m, L, model)
        trap.set_data(s.grid, s.p_xz_grid)
        x_moved = change is None or change["owner"] is controls["x"]
        if x_moved:  # a new integrand: new curve, y-limits and title, so a full redraw
            curve.set_ydata(np.exp(model.log_p_xz_on_grid(np.array([[x]]), fine)[0]))
            ax.set_ylim(0, 1.15 * max(curve.get_ydata().max(), 1e-12))  # grid values lie on the curve
            ax.set_title(f"x = {x:.1f}: p(x, z) and the grid's trapezoids", fontsize=9)
        readout.value = readout_html({
            "log p(x) exact": ("log_px", s.log_px),
            "log p(x) grid": ("log_px_grid", s.log_px_grid),
            "|error|": ("abs_error", s.abs_error),
        })
        live.refresh(full=x_moved)

    for c in controls.values():
        c.observe(update, names="value")
    update()
    caption = ("Move m down to 3 and L below 1: when the grid misses the posterior's mass, log p(x) is badly "
               "wrong. At x = 2 the two posterior modes both need grid points.")
    return explorer_layout([*controls.values(), reset_button(list(controls.values()))], live, readout, caption)
