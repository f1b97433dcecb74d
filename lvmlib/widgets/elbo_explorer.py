"""The flagship explorers: move q(z) and watch log p(x) = ELBO(q) + KL(q || p(z|x)) hold live.

Two explorers, each an update function (plain Python, called by the tests) and an ipywidgets front end.

Discrete (:func:`discrete_update`, :func:`discrete_explorer`), the three-cluster mixture, z in {A, B, C}:
    sliders "weight of A", "weight of B", "weight of C" (each in [0, 1]; q is the weights divided by their sum,
    uniform if all are 0), "x₁" in [-4, 4] and "x₂" in [-2, 5] (the observation); toggle "exact" /
    "Monte Carlo" with slider "S" (samples, 1..1000) and a "resample" button; button "E-step: q = p(z|x)" (sets
    the weights to the exact posterior probabilities, off the sliders' 0.01 grid).
Continuous (:func:`continuous_update`, :func:`continuous_explorer`), NonlinearModel1D, q(z) = N(μ_q, σ_q²):
    sliders "μ_q" in [-3, 3], "log σ_q" in [-3, 1], "x" in [-1, 4] (the observation); toggle "exact" /
    "Monte Carlo" with slider "S" (1..1000) and "resample"; button "fit q" (gradient ascent on the exact ELBO,
    animated over the ELBO contour map; the sliders end exactly at the fit, not on their 0.01 grid). The status line
    under the figure then gives the remaining gap and its cause (:func:`explain_fit`: a local maximum, a
    posterior with several modes, or a one-mode posterior that is not exactly Gaussian).

Readouts (``span.lvm-readout[data-name=...]``, 4 decimals, nats for this one x): ``log_px`` (log p(x)), ``elbo``
(the exact ELBO) and ``kl`` (the exact KL(q || p(z|x))), always exact, so ELBO + KL = log p(x) up to the last
digit; in Monte Carlo mode also ``elbo_mc`` (one S-sample estimate) and ``elbo_sd`` (the standard deviation of
such estimates over repeated draws). The discrete explorer also shows ``q_A``, ``q_B``, ``q_C``. The default mode
is exact.

Defaults (what the reset button restores): discrete weights (0.6, 0.2, 0.2), x = (-0.5, 1.0); continuous μ_q = 0.5,
log σ_q = 0.0, x = 2.0; S = 10. Slider steps: weights, μ_q and log σ_q 0.01; x, x₁, x₂ 0.1; S 1.
"""

import time
from dataclasses import dataclass
from functools import lru_cache

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from lvmlib import _checks
from lvmlib import elbo as lvm_elbo
from lvmlib.distributions import log_normal
from lvmlib.examples import NonlinearModel1D, three_cluster_mixture
from lvmlib.plotting import COLORS, COMPONENT_COLORS, ellipse_points
from lvmlib.widgets import LiveFigure, explorer_layout, readout_html, reset_button, slider

MU_RANGE = (-3.0, 3.0)
LOG_SIGMA_RANGE = (-3.0, 1.0)
X_RANGE = (-1.0, 4.0)
X1_RANGE = (-4.0, 4.0)
X2_RANGE = (-2.0, 5.0)
N_SAMPLES_RANGE = (1, 1000)
N_REPEATS = 50  # repeated Monte Carlo estimates drawn to show their spread
MODES = ("exact", "Monte Carlo")
Z_PLOT = np.linspace(-4.0, 4.0, 401)
MAP_MU = np.linspace(*MU_RANGE, 121)
MAP_LOG_SIGMA = np.linspace(*LOG_SIGMA_RANGE, 81)
MAP_DEPTH = 12.0  # the contour map shows ELBOs down to log p(x) - MAP_DEPTH nats
MAP_LEVELS = (-8.0, -4.0, -2.0, -1.0, -0.5, -0.1)  # contour lines of ELBO - log p(x), in nats
LOCAL_MAX_MARGIN = 0.05  # a fit this many nats below the map's best ELBO is reported as a local maximum
MODE_FLOOR = 1e-3  # a peak of p(z|x) counts as a mode if it rises above this fraction of the highest one
ABOVE_NOTE = "{share:.0%} of the dots\nabove log p(x):\nsingle estimates;\nonly their mean\nis a bound"
MC_NOTE = ("Each dot is one S-sample estimate of the ELBO. One estimate can land above log p(x): the bound holds "
           "for their average (the exact ELBO, green), not for every estimate.")


@dataclass
class MonteCarloView:
    """S-sample Monte Carlo ELBO estimates: ``estimates`` (N_REPEATS,) independent ones, the first shown, and the
    samples z (S,) behind it."""

    estimates: np.ndarray
    samples: np.ndarray

    @property
    def elbo_mc(self):
        return float(self.estimates[0])

    @property
    def elbo_sd(self):
        return float(self.estimates.std())

    def share_above(self, log_px):
        """Fraction of the estimates above log p(x): single estimates may exceed it; only their mean is bounded."""
        return float(np.mean(self.estimates > log_px))


@dataclass
class ContinuousState:
    """Everything the continuous explorer shows for one setting of its sliders (floats in nats)."""

    log_px: float
    elbo: float
    kl: float
    z: np.ndarray          # plotting grid (m,)
    posterior: np.ndarray  # p(z|x) on the grid (m,)
    q: np.ndarray          # q(z) on the grid (m,)
    mc: MonteCarloView | None = None


@dataclass
class DiscreteState:
    """Everything the discrete explorer shows: q and p(z|x) over (A, B, C), and the three exact numbers."""

    log_px: float
    elbo: float
    kl: float
    q: np.ndarray          # (3,)
    posterior: np.ndarray  # (3,)
    mc: MonteCarloView | None = None


def _check_mode(mode):
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")


def continuous_update(mu, log_sigma, x=2.0, mode="exact", n_samples=100, seed=0, model=None):
    """The continuous explorer's numbers for q(z) = N(mu, exp(log_sigma)^2) and the observation x.

    model : a 1-D ContinuousLVM with ``posterior_on_grid`` (default NonlinearModel1D()). In "Monte Carlo" mode
    also N_REPEATS reparameterized estimates from n_samples samples each, drawn with ``seed``.
    Returns :class:`ContinuousState`.
    """
    _check_mode(mode)
    mu, x = _checks.finite_scalar(mu, "mu"), _checks.finite_scalar(x, "x")
    log_sigma = _checks.in_range(log_sigma, "log_sigma", -20.0, 20.0)  # sigma = exp(log_sigma) stays finite
    x_arr = np.array([[float(x)]])
    log_px, posterior = _x_truth(model, float(x))
    model = _default_truth(float(x))[0] if model is None else model
    sigma = float(np.exp(log_sigma))
    elbo = float(lvm_elbo.elbo_gaussian(model, x_arr, [[mu]], [[sigma]])[0])
    kl = float(lvm_elbo.kl_posterior_gaussian(model, x_arr, [[mu]], [[sigma]])[0])
    state = ContinuousState(log_px=log_px, elbo=elbo, kl=kl, z=Z_PLOT, posterior=posterior,
                            q=np.exp(log_normal(Z_PLOT, mu, sigma)))
    if mode == "Monte Carlo":
        mu_rep = np.full((N_REPEATS, 1, 1), float(mu))
        estimates, _, z = lvm_elbo.elbo_monte_carlo(model, x_arr, mu_rep, sigma, n_samples,
                                                    np.random.default_rng(_checks.seed(seed)), return_z=True)
        state.mc = MonteCarloView(estimates=estimates[:, 0], samples=z[:, 0, 0, 0])  # the first repeat's samples
    return state


def _x_truth(model, x):
    """log p(x) and p(z|x) on Z_PLOT: they depend on x alone, not on q; for model None (the default) from a cache."""
    if model is None:
        return _default_truth(x)[1:]
    x_arr = np.array([[x]])
    return float(model.log_p_x(x_arr)[0]), model.posterior_on_grid(x_arr, Z_PLOT)[1][0]


@lru_cache(maxsize=32)
def _default_truth(x):
    """The default model, its exact log p(x) and p(z|x) on Z_PLOT: they depend on x only, not on q's sliders."""
    model = NonlinearModel1D()
    x_arr = np.array([[x]])
    posterior = model.posterior_on_grid(x_arr, Z_PLOT)[1][0]
    posterior.setflags(write=False)  # shared between calls through the cache
    return model, float(model.log_p_x(x_arr)[0]), posterior


def density_top(posterior_max, q_max):
    """Upper y-limit of the density panel: 1.15 times the higher peak, rounded up to a power of two times the
    posterior's (so it changes in a few jumps, each a full redraw, and q's peak is never clipped)."""
    need = 1.15 * max(posterior_max, q_max)
    base = 1.15 * posterior_max
    return float(base * 2.0 ** max(0.0, np.ceil(np.log2(need / base))))


def count_modes(density, floor=MODE_FLOOR):
    """Number of local maxima of a density on a grid, shape (m,), higher than ``floor`` times its maximum."""
    p = _checks.as_float_array(density, "density", ndim=1)
    peaks = (p[1:-1] > p[:-2]) & (p[1:-1] >= p[2:]) & (p[1:-1] > floor * p.max())
    return int(peaks.sum())


def explain_fit(gap, best_gap, n_modes):
    """Why a fit of q stopped where it did: a sentence for the "fit q" status line.

    gap : log p(x) - ELBO at the fit. best_gap : the smallest gap on the ELBO map (the global maximum, roughly).
    n_modes : the number of modes of p(z|x) (:func:`count_modes`).
    """
    if gap > best_gap + LOCAL_MAX_MARGIN:
        return ("This is a local maximum: the map has a higher peak elsewhere. Gradient ascent only climbs the "
                "hill it starts on; move q and fit again.")
    if n_modes > 1:
        return (f"p(z|x) has {n_modes} modes and a Gaussian only one: the best Gaussian sits on one mode and the "
                "gap cannot close.")
    if gap > 1e-3:
        return ("p(z|x) has one mode but is not exactly Gaussian (its log is a quartic in z, not a quadratic), so "
                "a small gap remains.")
    return "p(z|x) is (nearly) Gaussian, so the gap (nearly) closes."


def discrete_q(w_a, w_b, w_c):
    """q over (A, B, C) from three non-negative slider weights: w / sum(w), uniform when all are zero."""
    w = np.array([w_a, w_b, w_c], dtype=float)
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError(f"the weights must be finite and >= 0, got {w}.")
    return w / w.sum() if w.sum() > 0 else np.full(3, 1 / 3)


def discrete_update(w_a, w_b, w_c, x1=-0.5, x2=1.0, mode="exact", n_samples=100, seed=0, model=None):
    """The discrete explorer's numbers for q = (w_a, w_b, w_c) / sum and the observation x = (x1, x2).

    model : a DiscreteMixture with three components (default three_cluster_mixture()).
    Returns :class:`DiscreteState`.
    """
    _check_mode(mode)
    w_a, w_b, w_c = (_checks.finite_scalar(w, name) for w, name in ((w_a, "w_a"), (w_b, "w_b"), (w_c, "w_c")))
    if mode == "Monte Carlo":  # S = 0 samples would average nothing (a NaN estimate)
        n_samples = _checks.positive_int(n_samples, "n_samples", maximum=100_000)
    model = three_cluster_mixture() if model is None else model
    x = np.array([[x1, x2]], dtype=float)
    q = discrete_q(w_a, w_b, w_c)
    state = DiscreteState(
        log_px=float(model.log_p_x(x)[0]), elbo=float(lvm_elbo.elbo_discrete(model, x, q)[0]),
        kl=float(lvm_elbo.kl_posterior_discrete(model, x, q)[0]), q=q, posterior=model.posterior(x)[0],
    )
    if mode == "Monte Carlo":
        rng = np.random.default_rng(_checks.seed(seed))
        z = rng.choice(3, size=(N_REPEATS, n_samples), p=q)
        log_w = model.log_p_xz(x)[0, z] - np.log(q[z])  # q[z] > 0 for every drawn z
        state.mc = MonteCarloView(estimates=log_w.mean(axis=1), samples=z[0])
    return state


# ---------------------------------------------------------------------------------------------------------------
# front ends
# ---------------------------------------------------------------------------------------------------------------
class _BoundPanel:
    """log p(x) as a black line, the ELBO as a green bar beneath it, the gap filled in the KL colour, and (in
    Monte Carlo mode) the repeated estimates as dots. The y-range grows in doublings, so it rarely changes."""

    def __init__(self, ax):
        self.ax = ax
        self.elbo_bar = ax.bar([0], [1.0], width=0.5, color=COLORS["elbo"], label="ELBO")[0]
        self.kl_bar = ax.bar([0], [1.0], width=0.5, color=COLORS["kl"], label="KL(q‖p(z|x))")[0]
        self.log_px_line = ax.axhline(0.0, color=COLORS["log_px"], lw=2, label="log p(x)")
        self.dots = ax.scatter(np.zeros(N_REPEATS), np.zeros(N_REPEATS), s=9, color=COLORS["sample"], zorder=3,
                               label="MC estimates")
        self.gap_text = ax.text(0.5, 1.01, "", transform=ax.transAxes, ha="center", va="bottom", fontsize=10)
        self.above_text = ax.text(0.03, 0.03, "", transform=ax.transAxes, ha="left", va="bottom", fontsize=8,
                                  color="0.2", linespacing=1.1)  # under the legend, left of the bars
        self.jitter = np.linspace(-0.2, 0.2, N_REPEATS)
        self.limits = None
        ax.set_xlim(-1.45, 0.3)
        ax.set_xticks([])
        ax.set_ylabel("nats")
        ax.legend(loc="center left", fontsize=8, handlelength=1.0, borderaxespad=0.2)

    @property
    def artists(self):
        return [self.elbo_bar, self.kl_bar, self.log_px_line, self.dots, self.gap_text, self.above_text]

    def update(self, log_px, elbo, kl, mc):
        """Move the artists; return True when the y-range changed (the figure then needs a full redraw)."""
        lowest = elbo if mc is None else min(elbo, float(np.percentile(mc.estimates, 5)))
        span = 2.0 ** np.ceil(np.log2(max(2.0, 1.25 * (log_px - lowest))))
        limits = (log_px - span, log_px + 0.15 * span)
        bottom = limits[0]
        self.elbo_bar.set_y(bottom)
        self.elbo_bar.set_height(max(elbo - bottom, 0.0))
        self.kl_bar.set_y(max(elbo, bottom))
        self.kl_bar.set_height(log_px - max(elbo, bottom))
        self.log_px_line.set_ydata([log_px, log_px])
        if mc is None:
            self.dots.set_offsets(np.empty((0, 2)))
        else:
            self.dots.set_offsets(np.column_stack([self.jitter, np.maximum(mc.estimates, bottom)]))
        self.gap_text.set_text(f"gap = KL = {kl:.4f}")
        above = 0.0 if mc is None else mc.share_above(log_px)
        self.above_text.set_text(ABOVE_NOTE.format(share=above) if above > 0 else "")
        changed = limits != self.limits
        if changed:
            self.ax.set_ylim(*limits)
            self.limits = limits
        return changed


def _readout(state, extra=None):
    values = dict(extra or {})
    values.update({"log p(x)": ("log_px", state.log_px), "ELBO": ("elbo", state.elbo),
                   "KL(q‖p(z|x))": ("kl", state.kl)})
    if state.mc is None:
        return readout_html(values)
    values["ELBO, one MC estimate"] = ("elbo_mc", state.mc.elbo_mc)
    values[f"sd of MC estimates ({N_REPEATS} repeats)"] = ("elbo_sd", state.mc.elbo_sd)
    values["share of estimates above log p(x)"] = ("mc_above", state.mc.share_above(state.log_px))
    return readout_html(values) + f"<div style='max-width:330px;font-size:90%'>{MC_NOTE}</div>"


def _mc_controls():
    mode = widgets.ToggleButtons(options=list(MODES), value="exact", style={"button_width": "110px"})
    n_samples = slider("S", *N_SAMPLES_RANGE, value=10, step=1, integer=True)
    resample = widgets.Button(description="resample", layout=widgets.Layout(width="90px"))
    return mode, n_samples, resample


def continuous_explorer(model=None, x=2.0, mu=0.5, log_sigma=0.0, dpi=80):
    """Move q(z) = N(μ_q, σ_q²) against p(z|x) of the 1-D nonlinear model; returns an ipywidgets container."""
    given = model  # None: log p(x) and p(z|x) come from the default model's cache (_x_truth)
    model = NonlinearModel1D() if model is None else model
    mu_s = slider("μ_q", *MU_RANGE, value=mu, step=0.01)
    ls_s = slider("log σ_q", *LOG_SIGMA_RANGE, value=log_sigma, step=0.01)
    x_s = slider("x", *X_RANGE, value=x, step=0.1, continuous_update=False, readout_format=".1f")
    mode, n_samples, resample = _mc_controls()
    fit_button = widgets.Button(description="fit q", icon="play", button_style="success",
                                layout=widgets.Layout(width="90px"))
    status = widgets.HTML()
    seed = {"value": 0, "busy": False, "fitting": False}
    y_top = {"posterior": 1.0, "value": None}

    fig = Figure(figsize=(10.5, 3.3))
    ax_z, ax_b, ax_m = fig.subplots(1, 3, gridspec_kw={"width_ratios": [2.1, 1.1, 2.0]})
    post_fill = ax_z.fill_between(Z_PLOT, 0 * Z_PLOT, color=COLORS["posterior"], alpha=0.2)
    (post_line,) = ax_z.plot(Z_PLOT, 0 * Z_PLOT, color=COLORS["posterior"], label="p(z|x)")
    (q_line,) = ax_z.plot(Z_PLOT, 0 * Z_PLOT, color=COLORS["q"], lw=2, label="q(z)")
    (ticks,) = ax_z.plot([], [], "|", color=COLORS["sample"], ms=8, label="z ~ q")
    ax_z.set_xlabel("z")
    ax_z.set_ylabel("density")
    ax_z.set_xlim(Z_PLOT[0], Z_PLOT[-1])
    ax_z.legend(loc="upper left", fontsize=8)
    bound = _BoundPanel(ax_b)
    extent = (*MU_RANGE, *LOG_SIGMA_RANGE)
    image = ax_m.imshow(np.zeros((MAP_LOG_SIGMA.size, MAP_MU.size)), origin="lower", extent=extent,
                        aspect="auto", cmap="Greens", vmin=-MAP_DEPTH, vmax=0.0, interpolation="bilinear")
    contours = {"artist": None, "best": 0.0}
    (path_line,) = ax_m.plot([], [], ".-", color=COLORS["highlight"], ms=3, lw=1, label="fit path")
    (best_marker,) = ax_m.plot([], [], "*", color=COLORS["highlight"], ms=12)
    (current,) = ax_m.plot([], [], "o", color=COLORS["q"], mec="k", ms=8, label="q")
    ax_m.set_xlabel("μ_q")
    ax_m.set_ylabel("log σ_q")
    ax_m.legend(loc="upper right", fontsize=8)
    ax_z.set_title("p(z|x) and q(z)", fontsize=10)
    fig.tight_layout()
    moving = [post_fill, post_line, q_line, ticks, *bound.artists, path_line, best_marker, current]
    live = LiveFigure(fig, dpi=dpi, animated=moving)
    readout = widgets.HTML()

    def draw_map():
        x_arr = np.array([[x_s.value]])
        log_px, posterior = _x_truth(given, x_s.value)
        elbo_map = lvm_elbo.elbo_map(model, x_arr, MAP_MU, MAP_LOG_SIGMA) - log_px
        image.set_data(np.maximum(elbo_map, -MAP_DEPTH))
        contours["best"] = float(elbo_map.max())  # best ELBO - log p(x) on the map: the global maximum, roughly
        if contours["artist"] is not None:
            contours["artist"].remove()
        contours["artist"] = ax_m.contour(MAP_MU, MAP_LOG_SIGMA, elbo_map, levels=MAP_LEVELS,
                                          colors="k", linewidths=0.5, alpha=0.6)
        ax_m.set_title(f"ELBO − log p(x) over (μ_q, log σ_q), x = {x_s.value:.1f}", fontsize=10)
        path_line.set_data([], [])
        best_marker.set_data([], [])
        y_top["posterior"] = float(posterior.max())
        y_top["value"] = None
        ax_z.set_title(f"x = {x_s.value:.1f}: p(z|x) and q(z)", fontsize=10)

    def update(_=None, full=False):
        if seed["busy"]:
            return
        st = continuous_update(mu_s.value, ls_s.value, x_s.value, mode.value, n_samples.value, seed["value"],
                               given)
        post_line.set_ydata(st.posterior)
        post_fill.set_data(Z_PLOT, 0 * Z_PLOT, st.posterior)
        q_line.set_ydata(st.q)
        top = density_top(y_top["posterior"], float(st.q.max()))
        if top != y_top["value"]:  # q's peak would be clipped (or the axis is far too tall): rescale, redraw all
            ax_z.set_ylim(0, top)
            y_top["value"] = top
            full = True
        if st.mc is None:
            ticks.set_data([], [])
        else:
            ticks.set_data(np.clip(st.mc.samples, *Z_PLOT[[0, -1]]), np.zeros(st.mc.samples.size))
        full = bound.update(st.log_px, st.elbo, st.kl, st.mc) or full
        current.set_data([mu_s.value], [ls_s.value])
        n_samples.layout.display = resample.layout.display = "" if mode.value == "Monte Carlo" else "none"
        readout.value = _readout(st)
        live.refresh(full=full)

    def on_x(_):
        draw_map()
        status.value = ""
        update(full=True)

    def on_q(_):
        if not seed["fitting"]:
            status.value = ""  # the fit's report describes the fitted q, not this one
        update()

    def on_resample(_):
        seed["value"] += 1
        update()

    def on_fit(_):
        seed["fitting"] = True
        x_arr = np.array([[x_s.value]])
        fit = lvm_elbo.fit_gaussian_q(model, x_arr, mu_s.value, ls_s.value)
        path = fit.history
        frames = np.unique(np.round(np.geomspace(1, len(path), 25)).astype(int)) - 1
        for i in frames:
            path_line.set_data(path[: i + 1, 0], path[: i + 1, 1])
            seed["busy"] = True
            last = i == len(path) - 1  # the final frame lands exactly on the fit, the others on the 0.01 grid
            mu_s.value = float(np.clip(path[i, 0] if last else round(path[i, 0], 2), *MU_RANGE))
            ls_s.value = float(np.clip(path[i, 1] if last else round(path[i, 1], 2), *LOG_SIGMA_RANGE))
            seed["busy"] = False
            update()
            time.sleep(0.02)
        best_marker.set_data([fit.mu], [fit.log_sigma])
        log_px, posterior = _x_truth(given, x_s.value)
        gap = float(log_px - fit.elbo)
        why = explain_fit(gap, -contours["best"], count_modes(posterior))
        status.value = (f"<b>fit q</b>: {fit.n_iter} gradient steps, ELBO {fit.elbo:.4f}, remaining gap "
                        f"KL = {gap:.4f} nats at μ_q = {fit.mu:.4f}, log σ_q = {fit.log_sigma:.4f}. {why}")
        update()
        seed["fitting"] = False

    for c in (mu_s, ls_s, mode, n_samples):
        c.observe(on_q, names="value")
    x_s.observe(on_x, names="value")
    resample.on_click(on_resample)
    fit_button.on_click(on_fit)
    draw_map()
    update()
    controls = [mu_s, ls_s, x_s, mode, n_samples,
                widgets.HBox([fit_button, resample, reset_button([mu_s, ls_s, x_s, mode, n_samples])])]
    caption = ("Drag μ_q and log σ_q: the green ELBO plus the pink KL always stack up to log p(x). Press "
               "'fit q' at x = 2 (two modes), then at x = −0.5 (one mode): where does the gap stop shrinking?")
    layout = explorer_layout(controls, live, readout, caption)
    layout.children = (*layout.children, status)
    return layout


def discrete_explorer(model=None, x=(-0.5, 1.0), dpi=80):
    """Move q over {A, B, C} against p(z|x) of the three-cluster mixture; returns an ipywidgets container."""
    model = three_cluster_mixture() if model is None else model
    weights = [slider(f"weight of {label}", 0.0, 1.0, value=v, step=0.01)
               for label, v in zip(model.labels, (0.6, 0.2, 0.2), strict=True)]
    x1 = slider("x₁", *X1_RANGE, value=x[0], step=0.1, readout_format=".1f")
    x2 = slider("x₂", *X2_RANGE, value=x[1], step=0.1, readout_format=".1f")
    mode, n_samples, resample = _mc_controls()
    e_step = widgets.Button(description="E-step: q = p(z|x)", layout=widgets.Layout(width="160px"))
    seed = {"value": 0, "busy": False}

    fig = Figure(figsize=(10.5, 3.3))
    ax_x, ax_q, ax_b = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.6, 1.5, 1.1]})
    for k, label in enumerate(model.labels):
        ell = ellipse_points(model.means[k], model.covs[k])
        ax_x.plot(ell[:, 0], ell[:, 1], color=COMPONENT_COLORS[k], lw=1.2)
        ax_x.text(*model.means[k], label, color=COMPONENT_COLORS[k], ha="center", va="center", fontsize=12,
                  weight="bold")
    (x_marker,) = ax_x.plot([], [], "X", color=COLORS["highlight"], ms=11)
    ax_x.set_xlim(*X1_RANGE)
    ax_x.set_ylim(*X2_RANGE)
    ax_x.set_xlabel("x₁")
    ax_x.set_ylabel("x₂")
    pos = np.arange(3)
    post_bars = ax_q.bar(pos - 0.2, np.ones(3), width=0.4, color=COLORS["posterior"], label="p(z|x)")
    q_bars = ax_q.bar(pos + 0.2, np.ones(3), width=0.4, color=COLORS["q"], label="q(z)")
    mc_counts = ax_q.bar(pos + 0.2, np.zeros(3), width=0.16, color=COLORS["sample"], label="share of z ~ q")
    ax_q.set_xticks(pos, model.labels)
    ax_q.set_ylim(0, 1.4)
    ax_q.set_yticks(np.linspace(0, 1, 6))
    ax_q.set_xlabel("z")
    ax_q.set_ylabel("probability")
    ax_q.legend(loc="upper center", fontsize=8, ncol=2, handlelength=1.0, columnspacing=0.8)
    ax_q.set_title("p(z|x) and q(z)", fontsize=10)
    ax_x.set_title("the observation x (✖) and clusters A, B, C", fontsize=10)
    bound = _BoundPanel(ax_b)
    fig.tight_layout()
    live = LiveFigure(fig, animated=[x_marker, *post_bars, *q_bars, *mc_counts, *bound.artists], dpi=dpi)
    readout = widgets.HTML()

    def update(_=None):
        if seed["busy"]:
            return
        st = discrete_update(*(w.value for w in weights), x1.value, x2.value, mode.value, n_samples.value,
                             seed["value"], model)
        x_marker.set_data([x1.value], [x2.value])
        for bar, p in zip(post_bars, st.posterior, strict=True):
            bar.set_height(p)
        for bar, p in zip(q_bars, st.q, strict=True):
            bar.set_height(p)
        shares = np.zeros(3) if st.mc is None else np.bincount(st.mc.samples, minlength=3) / st.mc.samples.size
        for bar, p in zip(mc_counts, shares, strict=True):
            bar.set_height(p)
        full = bound.update(st.log_px, st.elbo, st.kl, st.mc)
        n_samples.layout.display = resample.layout.display = "" if mode.value == "Monte Carlo" else "none"
        readout.value = _readout(st, {f"q({lab})": (f"q_{lab}", p) for lab, p in zip(model.labels, st.q, strict=True)})
        live.refresh(full=full)

    def on_e_step(_):
        posterior = model.posterior(np.array([[x1.value, x2.value]]))[0]
        seed["busy"] = True
        for w, p in zip(weights, posterior, strict=True):
            w.value = float(p)  # exact, not rounded to the slider step: the gap closes to the last digit
        seed["busy"] = False
        update()

    def on_resample(_):
        seed["value"] += 1
        update()

    for c in (*weights, x1, x2, mode, n_samples):
        c.observe(update, names="value")
    resample.on_click(on_resample)
    e_step.on_click(on_e_step)
    update()
    controls = [*weights, x1, x2, mode, n_samples,
                widgets.HBox([e_step, resample, reset_button([*weights, x1, x2, mode, n_samples])])]
    caption = ("Move the weights of q over A, B, C and the point x: ELBO + KL = log p(x) at every setting. "
               "Press the E-step button: the pink gap vanishes.")
    return explorer_layout(controls, live, readout, caption)
