"""Chapter 03 explorer: a 1-D grid quadrature of log p(x) for the nonlinear running example, and its 2-D cost.

:func:`grid_explorer_state` is the plain update function and :func:`grid_explorer` the ipywidgets front end;
:func:`try_this_answers` computes the answers to the chapter's "Try this" prompts with the same update function.

Sliders (description: meaning): ``x``: the observed value (updates on release: a new x redraws the left panel,
whose y-axis and title change); ``m (grid points)``: number of grid points per axis; ``L (grid on [−L, L])``: the
grid covers z in [-L, L] (m and L only move the grid's artists, which are blitted, so they update while dragged).
Readout data-names: ``log_px`` (exact log p(x), nats), ``log_px_grid`` (trapezoid estimate on the slider's grid),
``error`` (estimate minus exact, nats: > 0 overestimates), ``abs_error``, ``points_2d`` (m^2, the same grid for two
latents), ``points_10d`` (m^10), ``useful_2d`` (points of the 2-D grid where the posterior is above 1e-3 of its peak).

The right panel is the same grid for a model with d_z = 2: two independent copies of the 1-D latent, each seeing
the same x. Its posterior is p(z_1 | x) p(z_2 | x), its log p(x_1, x_2) is 2 log p(x), and because the integrand
is a product, the tensor-product trapezoid estimate is exactly twice the 1-D one: the error doubles while the
number of points is squared.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lvmlib.logspace import log_trapezoid
from lvmlib.marginal import grid_1d

EXPLORER_DEFAULTS = {"x": 2.0, "m": 7, "L": 4.0}
EXPLORER_RANGES = {"x": (-1.0, 6.0, 0.1), "m": (2, 60, 1), "L": (0.5, 8.0, 0.1)}
USEFUL = 1e-3  # a 2-D grid point "matters" where p(z | x) is above this fraction of its peak
MASK_MAX_M = 2000  # the (m, m) table of useful 2-D points is returned only up to this m (the sliders stop at 60)


@dataclass
class GridExplorerState:
    """Numbers and curves the grid explorer shows (nats; point counts are Python ints)."""

    log_px: float
    log_px_grid: float
    abs_error: float
    grid: np.ndarray  # (m,) grid points
    p_xz_grid: np.ndarray  # (m,) p(x, z) at the grid points
    error: float = 0.0  # log_px_grid - log_px: > 0 means the grid overestimates
    points_2d: int = 0  # m^2
    points_10d: int = 0  # m^10
    useful_2d: int = 0  # 2-D grid points with p(z_1, z_2 | x) > USEFUL * its peak (the posterior's, not the grid's)
    useful_mask_2d: np.ndarray = None  # (m, m) bool, rows z_2, columns z_1 (as np.meshgrid); None above MASK_MAX_M

    @property
    def verdict(self):
        """'overestimates' / 'underestimates' / 'matches' (|error| < 5e-5, below the 4-decimal readout)."""
        if abs(self.error) < 5e-5:
            return "matches"
        return "overestimates" if self.error > 0 else "underestimates"


def grid_explorer_state(x, m, L, model=None):
    """Exact log p(x) of ``NonlinearModel1D`` against the trapezoid rule with m points on [-L, L].

    The integrand is kept in log space, so the estimate stays finite even when every grid point misses the
    posterior's mass. The 2-D counts are for the same grid per axis on two independent latents. Returns a
    :class:`GridExplorerState`.
    """
    from lvmlib import _checks

    x, L = _checks.finite_scalar(x, "x"), float(_checks.positive(_checks.finite_scalar(L, "L"), "L"))
    L = _checks.in_range(L, "L", 0.0, 1e3)  # wider grids only overflow z^2 + b z
    m = _checks.positive_int(m, "m", minimum=2, maximum=10**6)
    xs = np.array([[float(x)]])
    if model is None:
        model, exact, log_peak = _default_truth(float(x))
    else:
        exact, log_peak = float(model.log_p_x(xs)[0]), _log_peak(model, float(x))
    grid = grid_1d(-L, L, m)
    log_joint = model.log_p_xz_on_grid(xs, grid)[0]
    estimate = float(log_trapezoid(log_joint, grid))
    # "where the posterior matters" is judged against the posterior's own peak, not the best grid point: a grid that
    # misses the mass entirely has no useful points (compared with its own best point, one would always count)
    rel = log_joint - max(log_peak, log_joint.max())
    # pairs (i, j) with rel_i + rel_j > log USEFUL, i.e. p(z_2 | x) p(z_1 | x) > USEFUL * peak^2, counted in
    # O(m log m) (m goes up to 1e6, where an (m, m) table would not fit); the table itself only for a drawable m
    ordered = np.sort(rel)
    n_useful = int(np.sum(m - np.searchsorted(ordered, np.log(USEFUL) - rel, side="right")))
    useful = rel[:, None] + rel[None, :] > np.log(USEFUL) if m <= MASK_MAX_M else None
    m = int(m)
    return GridExplorerState(exact, estimate, abs(estimate - exact), grid, np.exp(log_joint),
                             estimate - exact, m**2, m**10, n_useful, useful)


def _log_peak(model, x):
    """max_z log p(x, z) on a fine grid over [-10, 10] (spacing 0.005, well below the posterior's widths here)."""
    return float(model.log_p_xz_on_grid(np.array([[x]]), np.linspace(-10.0, 10.0, 4001))[0].max())


@lru_cache(maxsize=128)
def _default_truth(x):
    """The default model, its exact log p(x) and its log peak: they depend on x only, not on the sliders m and L."""
    from lvmlib.examples import NonlinearModel1D

    model = NonlinearModel1D()
    return model, float(model.log_p_x(np.array([[x]]))[0]), _log_peak(model, x)


def _cost_html(s):
    """The m^d_z blow-up as a small table: points for the slider's m per axis in 1, 2 and 10 dimensions."""
    rows = [("d_z = 1: m", "points_1d", f"{s.grid.size}"), ("d_z = 2: m²", "points_2d", f"{s.points_2d}"),
            ("d_z = 10: m¹⁰", "points_10d", f"{s.points_10d:.2e}"),
            ("d_z = 2, where p(z | x) matters", "useful_2d", f"{s.useful_2d}")]
    cell = "<td style='text-align:right;font-family:monospace'>"
    body = "".join(f"<tr><td style='padding-right:1em'>{label}</td>{cell}<span class='lvm-readout' "
                   f"data-name='{name}'>{text}</span></td></tr>" for label, name, text in rows)
    return f"<b>grid points for the same m per axis</b><table>{body}</table>"


def grid_explorer(dpi=80):
    """The ipywidgets explorer: sliders x, m, L; p(x, z) with the grid's trapezoids, and the same grid in 2-D."""
    import ipywidgets as widgets
    import matplotlib
    from matplotlib.figure import Figure

    from lvmlib.examples import NonlinearModel1D
    from lvmlib.plotting import COLORS
    from lvmlib.widgets import LiveFigure, explorer_layout, readout_html, reset_button, slider

    model = NonlinearModel1D()
    fine = np.linspace(-8.0, 8.0, 1601)
    fine_2d = np.linspace(-5.0, 5.0, 161)  # the modes stay inside |z| < 3 for x <= 6
    labels = {"x": "x", "m": "m (grid points)", "L": "L (grid on [−L, L])"}
    controls = {}
    for name, (lo, hi, step) in EXPLORER_RANGES.items():  # slider(label, min, max, value, step)
        controls[name] = slider(labels[name], lo, hi, EXPLORER_DEFAULTS[name], step, readout_format=".1f",
                                integer=name == "m", continuous_update=name != "x")  # x redraws all: on release
    # 9.6 x 3.8 in at 80 dpi = 768 x 304 px: fits a ~900-px notebook (below the controls when it wraps)
    fig = Figure(figsize=(9.6, 3.8))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1]})
    (curve,) = ax.plot(fine, fine * 0, color=COLORS["model"], label="p(x, z)")
    (trap,) = ax.plot([], [], "-o", color=COLORS["highlight"], ms=3, lw=1, label="trapezoid on the grid")
    ax.set(xlabel="z", ylabel="p(x, z)", xlim=(-8, 8))
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("x", fontsize=9)  # room for the title before tight_layout
    ax2.set(xlabel="$z_1$", ylabel="$z_2$", xlim=(-8, 8), ylim=(-8, 8), aspect="equal")
    ax2.set_title("the same grid for two latents, d_z = 2", fontsize=9)
    (pts2,) = ax2.plot([], [], ".", color=COLORS["data"], ms=2, label="grid point")
    (useful2,) = ax2.plot([], [], "o", mfc="none", color=COLORS["highlight"], ms=4, mew=0.8,
                          label=f"p(z | x) > {USEFUL:g} × peak")
    ax2.legend(loc="upper right", fontsize=7, framealpha=0.9)
    fig.tight_layout()
    # p(z | x) in 2-D as an image (redrawn per x in ~1 ms; contourf took ~50): below 1/8 of the peak transparent
    shade = matplotlib.colormaps["Blues"].with_extremes(under="none")
    post_image = ax2.imshow(np.zeros((fine_2d.size, fine_2d.size)), extent=(fine_2d[0], fine_2d[-1]) * 2,
                            origin="lower", cmap=shade, interpolation="bilinear", zorder=0)
    # m and L only move the grid: it is blitted (the counts go to the readout; re-rendering a title costs ~10 ms);
    # x also changes the left panel's y-axis and title, so that panel alone is drawn again, with the integrand and
    # the 2-D posterior, which only x changes (the image's resampling was ~3 ms of every m or L move)
    live = LiveFigure(fig, dpi=dpi, animated=[trap, pts2, useful2], redrawn_axes=[ax],
                      redrawn_artists=[post_image, curve])
    readout = widgets.HTML()

    def update(change=None):
        x, m, L = (controls[k].value for k in ("x", "m", "L"))
        s = grid_explorer_state(x, m, L, model)
        trap.set_data(s.grid, s.p_xz_grid)
        g1, g2 = np.meshgrid(s.grid, s.grid)
        pts2.set_data(g1.ravel(), g2.ravel())
        keep = s.useful_mask_2d.ravel()  # rows: z_2, columns: z_1 (as meshgrid); from the state, never 0 / 0
        useful2.set_data(g1.ravel()[keep], g2.ravel()[keep])
        x_moved = change is None or change["owner"] is controls["x"]
        if x_moved:  # a new integrand: new curve, 2-D posterior, y-limits and title, so the left panel is redrawn
            curve.set_ydata(np.exp(model.log_p_xz_on_grid(np.array([[x]]), fine)[0]))
            ax.set_ylim(0, 1.15 * max(curve.get_ydata().max(), 1e-12))  # grid values lie on the curve
            ax.set_title(f"x = {x:.1f}: p(x, z) and the grid's trapezoids", fontsize=9)
            post = np.exp(model.log_p_xz_on_grid(np.array([[x]]), fine_2d)[0])
            post2 = post[:, None] * post[None, :]
            post_image.set_data(post2)
            post_image.set_clim(post2.max() / 8, post2.max())
        readout.value = readout_html({
            "log p(x) exact": ("log_px", s.log_px),
            "log p(x) grid": ("log_px_grid", s.log_px_grid),
            "grid − exact": ("error", s.error),
            "|error|": ("abs_error", s.abs_error),
        }) + _cost_html(s) + (
            f"<p style='max-width:330px'>This grid <b>{s.verdict}</b> log p(x)"
            + ("" if s.verdict == "matches" else f" by {s.abs_error:.4f} nats")
            + f". With two latents the same m costs m² = {s.points_2d:,} points, of which {s.useful_2d} "
            "land where the posterior matters, and the error doubles.</p>")
        live.refresh(axes=x_moved)

    for c in controls.values():
        c.observe(update, names="value")
    update()
    caption = ("The default grid (m = 7, L = 4) misjudges log p(x) at x = 2: the readout says by how much and in "
               "which direction. Raise m until the error is below 1e-4 and read the cost of the same m in 2-D and "
               "10-D. Move m down to 3 and L below 1: when the grid misses the posterior's mass, log p(x) is badly "
               "wrong. At x = 2 the two posterior modes both need grid points.")
    return explorer_layout([*controls.values(), reset_button(list(controls.values()))], live, readout, caption)


def smallest_m(x, L, tol, model=None):
    """The smallest m on the slider's range whose |error| is below ``tol`` for it and every larger m, or None."""
    lo, hi, _ = EXPLORER_RANGES["m"]
    errors = [grid_explorer_state(x, m, L, model).abs_error for m in range(lo, hi + 1)]
    for i, m in enumerate(range(lo, hi + 1)):
        if max(errors[i:]) < tol:
            return m
    return None


def _modes(x):
    """Where the posterior's modes sit: the local maxima of log p(x, z) on a fine grid (spacing 0.0005).

    They lie a little inside the roots of z^2 + b z = x, pulled towards 0 by the prior.
    """
    from lvmlib.examples import NonlinearModel1D

    z = np.linspace(-6.0, 6.0, 24001)
    lj = NonlinearModel1D().log_p_xz_on_grid(np.array([[float(x)]]), z)[0]
    peaks = z[1:-1][(lj[1:-1] > lj[:-2]) & (lj[1:-1] > lj[2:])]
    return " and ".join(f"z = {r:.2f}" for r in peaks)


def try_this_answers():
    """Answers to the chapter's "Try this" prompts, each computed by :func:`grid_explorer_state` when revealed.

    Returns a dict {prompt number: callable returning the answer text}, for ``lvmlib.exercises.TryThis``.
    """
    d = EXPLORER_DEFAULTS

    def default():
        s = grid_explorer_state(d["x"], d["m"], d["L"])
        near = ", ".join(f"{g:.2f}" for g in s.grid[np.argsort(-s.p_xz_grid)[:2]])
        return (f"At x = {d['x']}, m = {d['m']}, L = {d['L']} the grid {s.verdict} log p(x): {s.log_px_grid:.4f} "
                f"against {s.log_px:.4f} nats (error {s.error:+.4f}). Its points at z = {near} land near the two "
                f"narrow peaks (at {_modes(d['x'])}), and each trapezoid stretches a peak value over a whole grid "
                f"step of {s.grid[1] - s.grid[0]:.2f}, wider than the peaks.")

    def coarse():
        s = grid_explorer_state(d["x"], 3, d["L"])
        return (f"m = 3 puts points at z = {', '.join(f'{g:.0f}' for g in s.grid)}: all miss both modes, and the "
                f"error is {s.error:+.4f} nats.")

    def narrow():
        a, b = grid_explorer_state(2.0, 7, 0.8), grid_explorer_state(6.0, 7, 0.8)
        return (f"With L = 0.8 the grid ends before the modes (at {_modes(2.0)} for x = 2): error "
                f"{a.error:+.4f} nats. At x = 6 the modes move out to {_modes(6.0)} and the error is "
                f"{b.error:+.4f} nats.")

    def enough():
        m = smallest_m(d["x"], d["L"], 1e-4)
        s = grid_explorer_state(d["x"], m, d["L"])
        return (f"At x = {d['x']}, L = {d['L']}: |error| < 1e-4 from m = {m} on (error {s.error:+.2e}). The same "
                f"m per axis costs {s.points_2d:,} points for d_z = 2 and {s.points_10d:.2e} for d_z = 10.")

    return {"1": default, "2": coarse, "3": narrow, "4": enough}
