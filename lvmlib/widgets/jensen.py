"""Jensen's inequality for the concave log: the chord lies below the curve, so log E[f] >= E[log f].

Two modes, one figure (the curve log f, the points (f_i, log f_i), and the gap at the mean):

- "two points": sliders ``f₁``, ``f₂`` (the two values, in [0.1, 6]) and ``w`` (the weight of f₁, in [0, 1]);
  the chord joins the two points and E[f] = w f₁ + (1 - w) f₂.
- "many points": sliders ``n`` (number of equally weighted points, 2..200) and ``s`` (their spread: log f_i are
  s times standard normal draws, s in [0, 1.5]); a "new draw" button resamples.

Readouts (``span.lvm-readout[data-name=...]``, 4 decimals): ``mean_f`` (E[f]), ``log_mean`` (log E[f]),
``mean_log`` (E[log f]) and ``gap`` (log E[f] - E[log f] >= 0).

The update functions :func:`chord_update` and :func:`many_update` are plain functions of the slider values.
"""

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from lvmlib import _checks
from lvmlib.plotting import COLORS
from lvmlib.widgets import LiveFigure, explorer_layout, readout_html, reset_button, slider

F_RANGE = (0.1, 6.0)
SPREAD_RANGE = (0.0, 1.5)
N_RANGE = (2, 200)
CURVE_RANGE = (1e-4, 1e4)  # the curve log f is drawn over this range of f (the axes show a part of it)


@dataclass
class JensenState:
    """What the Jensen explorer shows: the points f (n,), their weights (n,), and the four numbers."""

    f: np.ndarray
    weights: np.ndarray
    mean_f: float
    log_mean: float
    mean_log: float

    @property
    def gap(self):
        """log E[f] - E[log f], the Jensen gap (>= 0)."""
        return self.log_mean - self.mean_log


def _state(f, weights):
    return JensenState(f=f, weights=weights, mean_f=float(weights @ f), log_mean=float(np.log(weights @ f)),
                       mean_log=float(weights @ np.log(f)))


def chord_update(f1, f2, w):
    """Two points f1, f2 > 0 with weights w and 1 - w (w in [0, 1]). Returns :class:`JensenState`."""
    f = _checks.positive([f1, f2], "f1, f2")
    w = _checks.finite_scalar(w, "w")
    if not 0.0 <= w <= 1.0:
        raise ValueError(f"w must lie in [0, 1], got {w}.")
    return _state(f, np.array([w, 1.0 - w]))


def many_update(n_points, spread, seed=0):
    """n_points equally weighted values f_i = exp(spread * eps_i), eps_i ~ N(0, 1) drawn with ``seed``."""
    n_points = _checks.positive_int(n_points, "n_points", minimum=1)
    spread = _checks.finite_scalar(spread, "spread")
    if spread < 0:
        raise ValueError(f"spread must be >= 0, got {spread}.")
    f = np.exp(spread * np.random.default_rng(_checks.seed(seed)).standard_normal(n_points))
    return _state(f, np.full(n_points, 1.0 / n_points))


def _readout(state):
    return readout_html({
        "E[f]": ("mean_f", state.mean_f),
        "log E[f]": ("log_mean", state.log_mean),
        "E[log f]": ("mean_log", state.mean_log),
        "gap = log E[f] − E[log f]": ("gap", state.gap),
    })


def jensen_explorer(dpi=80):
    """The interactive chord: returns an ipywidgets container (see the module docstring for its controls)."""
    mode = widgets.ToggleButtons(options=["two points", "many points"], value="two points")
    f1 = slider("f₁", *F_RANGE, value=0.5, step=0.05)
    f2 = slider("f₂", *F_RANGE, value=4.0, step=0.05)
    w = slider("w", 0.0, 1.0, value=0.5, step=0.01)
    n = slider("n", *N_RANGE, value=20, step=1, integer=True)
    s = slider("s", *SPREAD_RANGE, value=0.8, step=0.05)
    redraw_button = widgets.Button(description="new draw", layout=widgets.Layout(width="90px"))
    seed = {"value": 0}

    fig = Figure(figsize=(6.0, 3.6))
    ax = fig.add_subplot()
    grid = np.geomspace(*CURVE_RANGE, 800)  # wider than any view: "many points" at s = 1.5 reach f > 10 and f < 0.02
    (curve,) = ax.plot(grid, np.log(grid), color=COLORS["model"], label="log f")
    (chord,) = ax.plot([], [], color=COLORS["data"], lw=1.2, label="chord")
    points = ax.scatter([0.0], [0.0], s=18, color=COLORS["sample"], zorder=3, label="(f_i, log f_i)")
    (gap_line,) = ax.plot([], [], color=COLORS["kl"], lw=5, solid_capstyle="butt", label="gap")
    (top,) = ax.plot([], [], "o", ms=5, color=COLORS["log_px"], label="(E[f], log E[f])")
    (bottom,) = ax.plot([], [], "o", ms=5, color=COLORS["elbo"], label="(E[f], E[log f])")
    title = ax.text(0.5, 1.02, "gap", transform=ax.transAxes, ha="center", va="bottom", fontsize=10)
    ax.set_xlabel("f")
    ax.set_ylabel("log f")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    live = LiveFigure(fig, animated=[chord, points, gap_line, top, bottom, title], dpi=dpi)
    readout = widgets.HTML()
    limits = {"value": None}

    def update(_=None):
        if mode.value == "two points":
            st = chord_update(f1.value, f2.value, w.value)
            lo, hi = st.f.min(), st.f.max()
            chord.set_data([lo, hi], np.log([lo, hi]))
        else:
            st = many_update(n.value, s.value, seed["value"])
            chord.set_data([], [])
        points.set_offsets(np.column_stack([st.f, np.log(st.f)]))
        top.set_data([st.mean_f], [st.log_mean])
        bottom.set_data([st.mean_f], [st.mean_log])
        gap_line.set_data([st.mean_f, st.mean_f], [st.mean_log, st.log_mean])
        x_max = 6.5 if st.f.max() < 6.2 else 10.0 * np.ceil(st.f.max() / 9.5)
        y_min = -2.8 if st.f.min() > 0.08 else np.floor(np.log(st.f.min())) - 0.3
        new_limits = (x_max, y_min)
        if new_limits != limits["value"]:
            ax.set_xlim(0, x_max)
            ax.set_ylim(y_min, np.log(x_max) + 0.3)
        title.set_text(f"log E[f] − E[log f] = {st.gap:.4f}")
        for c in (f1, f2, w):
            c.layout.display = "" if mode.value == "two points" else "none"
        for c in (n, s, redraw_button):
            c.layout.display = "none" if mode.value == "two points" else ""
        readout.value = _readout(st)
        live.refresh(full=new_limits != limits["value"])
        limits["value"] = new_limits

    def new_draw(_):
        seed["value"] += 1
        update()

    for c in (mode, f1, f2, w, n, s):
        c.observe(update, names="value")
    redraw_button.on_click(new_draw)
    update()
    controls = [mode, f1, f2, w, n, s, widgets.HBox([redraw_button, reset_button([mode, f1, f2, w, n, s])])]
    caption = ("Move f₁, f₂ and w: the chord (E[f], E[log f]) never rises above the curve (E[f], log E[f]). "
               "When is the gap zero? Then switch to many points and raise their spread s.")
    return explorer_layout(controls, live, readout, caption)
