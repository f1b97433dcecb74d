"""The EM stepper: replay a Gaussian-mixture fit one half-step at a time.

Update logic: :func:`em_stepper_update` (plain Python, called by the tests). Front end: :func:`em_stepper`.

Controls
    IntSlider "iteration" (with a linked Play button) that counts *half-steps* s = 0 .. 2 T, T the number of EM
    iterations of the fit: s = 0 is the initialization, with q(z) uniform (q knows nothing yet); s = 2t - 1 is
    iteration t after its E-step (parameters theta_{t-1}, q = p(z|x; theta_{t-1})); s = 2t is iteration t after
    its M-step (parameters theta_t, the same q). Arrow keys move one half-step. A "reset" button returns to s = 0.

Readouts (``span.lvm-readout[data-name=...]``, 4 decimals, nats *per data point*):
    ``log_lik`` (mean log p(x) under the parameters shown), ``elbo`` (mean ELBO of q and those parameters),
    ``gap`` (log_lik - elbo = mean KL(q || p(z|x)), zero after every E-step; a rounding error of -1e-16 is shown
    as 0.0000, never -0.0000). A line above the readouts names the
    state in words ("iteration 3, after the E-step").

Figure (three panels, 9 x 3.2 inches at 96 dpi = 864 px wide, so it fits a ~900-px notebook column): the data
coloured by q with the components' ellipses; log p(x) and the ELBO per half-step; and the gap log p(x) - ELBO on
its own zoomed axis (0.001 to 0.02 nats after the M-steps, invisible on the 1.4-nat axis of the second panel).

Default fit (:func:`default_fit`): standardized Old Faithful, K = 2, from a deliberately poor initialization
(both means near the centre, unit covariances: the components must split), ``tol = 1e-6``,
``reg_covar = 0`` (the exact M-step, so log p(x) never decreases); deterministic, so a browser test can
recompute every readout with ``em_stepper_update(s)``. Every half-step's figure is rendered once when the stepper
is built (blitting only the changing artists: points, ellipses, curves, titles; ~0.7 s for the default fit's 39
half-steps), so a move or a Play frame only sends a stored PNG and the slider updates continuously while dragged.

"Try this" answers: :func:`try_this_answers` computes them with :func:`em_stepper_update`, the stepper's own code.
"""

from dataclasses import dataclass
from functools import lru_cache

import ipywidgets as widgets
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from lvmlib.data import load_faithful
from lvmlib.distributions import cholesky
from lvmlib.mixtures import e_step, elbo, fit_em, log_likelihood
from lvmlib.plotting import COLORS, COMPONENT_COLORS, ellipse_points
from lvmlib.widgets import LiveFigure, explorer_layout, readout_html, reset_button, slider

DEFAULT_INIT = {
    "weights": np.array([0.5, 0.5]),
    "means": np.array([[0.0, -0.2], [0.2, 0.0]]),
    "covs": np.stack([np.eye(2), np.eye(2)]),
}


@dataclass
class StepperFit:
    """Data and the EM run the stepper replays."""

    X: np.ndarray    # (n, 2)
    result: object   # lvmlib.mixtures.EMResult

    @property
    def n_steps(self):
        """Largest slider value: 2 T half-steps."""
        return 2 * self.result.n_iter


@dataclass
class StepperState:
    """What the stepper shows at one half-step s (numbers in nats per data point)."""

    step: int
    iteration: int
    phase: str              # "init", "E" or "M"
    weights: np.ndarray     # (K,)
    means: np.ndarray       # (K, 2)
    covs: np.ndarray        # (K, 2, 2)
    resp: np.ndarray        # (n, K), q(z_i = k)
    log_lik: float
    elbo: float
    curve_steps: np.ndarray     # (2T + 1,) half-step numbers
    curve_log_lik: np.ndarray   # (2T + 1,) log-likelihood after each half-step
    curve_elbo: np.ndarray      # (2T + 1,) ELBO after each half-step

    @property
    def gap(self):
        """log_lik - elbo = mean KL(q || p(z|x)) >= 0; rounding (about 1e-16 after an E-step) is shown as 0."""
        return max(self.log_lik - self.elbo, 0.0)


def standardized_faithful():
    """Old Faithful (272, 2), each column scaled to mean 0 and standard deviation 1."""
    X = load_faithful()
    return (X - X.mean(axis=0)) / X.std(axis=0)


@lru_cache(maxsize=1)
def default_fit():
    """The stepper's default: EM on standardized Old Faithful, K = 2, from :data:`DEFAULT_INIT`."""
    X = standardized_faithful()
    return StepperFit(X, fit_em(X, 2, init=DEFAULT_INIT, max_iter=200, tol=1e-6, reg_covar=0.0))


def _curves(fit):
    """log-likelihood and ELBO after every half-step, s = 0 .. 2T, shape (2T + 1,) each."""
    start = _state_numbers(fit, 0)
    lls = np.array([start[0]] + [h[1] for h in fit.result.half_steps])
    elbos = np.array([start[1]] + [h[2] for h in fit.result.half_steps])
    return lls, elbos


def _state_numbers(fit, step):
    """(log_lik, elbo, resp, params, phase, iteration) at half-step ``step``, computed from the parameters."""
    history = fit.result.params_history
    iteration = (step + 1) // 2
    params = history[step // 2]
    if step == 0:
        resp = np.full((fit.X.shape[0], len(params[0])), 1.0 / len(params[0]))
        phase = "init"
    else:
        w, m, c = history[iteration - 1]
        resp = np.exp(e_step(fit.X, w, m, cholesky(c))[0])
        phase = "E" if step % 2 else "M"
    return log_likelihood(fit.X, *params), elbo(fit.X, resp, *params), resp, params, phase, iteration


def em_stepper_update(step, fit=None):
    """Everything the stepper shows at half-step ``step`` (0 .. fit.n_steps) of ``fit`` (default_fit())."""
    fit = default_fit() if fit is None else fit
    if isinstance(step, bool) or not isinstance(step, (int, float, np.integer, np.floating)) or not np.isfinite(step) \
            or int(step) != step or not 0 <= step <= fit.n_steps:
        raise ValueError(f"step must be a whole number in [0, {fit.n_steps}], got {step!r}.")
    step = int(step)
    log_lik, value, resp, params, phase, iteration = _state_numbers(fit, step)
    lls, elbos = _curves(fit)
    return StepperState(step, iteration, phase, *params, resp, log_lik, value, np.arange(step + 1),
                        lls[: step + 1], elbos[: step + 1])


def _phase_text(state):
    if state.phase == "init":
        return "initial parameters, q(z) uniform"
    return f"iteration {state.iteration}, after the {state.phase}-step"


def try_this_answers(fit=None):
    """Answers to the chapter's "Try this" prompts, computed by :func:`em_stepper_update` (callables: lazy)."""
    fit = default_fit() if fit is None else fit

    def gaps_after(phase):
        return np.array([st.gap for st in _all_states(fit) if st.phase == phase])

    def one():
        g = gaps_after("E")
        return (f"Yes: after every E-step (odd s) the gap is at most {g.max():.1e} nats per point, rounding error, "
                "because q is then the exact posterior p(z|x; θ) and KL(q‖p(z|x)) = 0.")

    def two():
        states = _all_states(fit)
        e_moves = sum(np.array_equal(a.means, b.means) and not np.array_equal(a.resp, b.resp)
                      for a, b in zip(states[:-1], states[1:], strict=True) if b.phase == "E")
        m_moves = sum(np.array_equal(a.resp, b.resp) and not np.array_equal(a.means, b.means)
                      for a, b in zip(states[:-1], states[1:], strict=True) if b.phase == "M")
        g = gaps_after("M")
        return (f"An E-step changes only q (the colours): {e_moves} of {fit.result.n_iter} E-steps left θ as it was. "
                f"An M-step changes only θ (the ellipses): {m_moves} of {fit.result.n_iter} M-steps left q as it "
                f"was. The gap each M-step opens ranges from {g.min():.1e} to {g.max():.4f} nats per point "
                f"(largest at s = {2 * (int(g.argmax()) + 1)}); the third panel shows it zoomed.")

    def three():
        X = fit.X
        one_gauss = log_likelihood(X, np.ones(1), X.mean(0, keepdims=True), np.cov(X.T, bias=True)[None])
        lls = np.array(fit.result.log_lik_history)
        split = int(np.argmax(lls > one_gauss + 0.1))
        slowest = np.diff(lls)[1:split].min()  # the smallest gain per iteration on the plateau
        return (f"One Gaussian scores ℓ = {one_gauss:.4f}. The run stays within 0.1 nats of it until iteration "
                f"{split} (ℓ = {lls[split]:.4f}), then climbs to {lls[-1]:.4f} after {fit.result.n_iter} "
                f"iterations. On the plateau ℓ gained as little as {slowest:.1e} per iteration: a tol above that "
                "would have stopped EM there, next to a saddle.")

    return {"1": one, "2": two, "3": three}


def _all_states(fit):
    return [em_stepper_update(s, fit) for s in range(fit.n_steps + 1)]


def em_stepper(fit=None, dpi=96, interval_ms=400):
    """The EM stepper front end: an ipywidgets container (slider + Play, readouts, a three-panel figure)."""
    fit = default_fit() if fit is None else fit
    K = len(fit.result.weights)
    rgb = np.array([to_rgb(c) for c in COMPONENT_COLORS[:K]])
    lls, elbos = _curves(fit)
    gaps = np.maximum(lls - elbos, 0.0)
    steps = np.arange(fit.n_steps + 1)

    step_s = slider("iteration", 0, fit.n_steps, value=0, step=1, integer=True)
    play = widgets.Play(min=0, max=fit.n_steps, step=1, interval=interval_ms, description="play")
    widgets.jslink((play, "value"), (step_s, "value"))

    fig = Figure(figsize=(9.0, 3.2))
    ax_x, ax_c, ax_g = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.0, 1.05, 0.95]})
    points = ax_x.scatter(fit.X[:, 0], fit.X[:, 1], s=9, c=np.tile(rgb.mean(0), (len(fit.X), 1)), lw=0)
    ellipses = [ax_x.plot([], [], color=COMPONENT_COLORS[k], lw=2)[0] for k in range(K)]
    centres = [ax_x.plot([], [], "X", color=COMPONENT_COLORS[k], mec="k", ms=8)[0] for k in range(K)]
    pad = 0.6
    ax_x.set_xlim(fit.X[:, 0].min() - pad, fit.X[:, 0].max() + pad)
    ax_x.set_ylim(fit.X[:, 1].min() - pad, fit.X[:, 1].max() + pad)
    ax_x.set_xlabel("x₁ eruption (std.)", fontsize=9)
    ax_x.set_ylabel("x₂ waiting (std.)", fontsize=9)
    ax_c.plot(steps, lls, color=COLORS["log_px"], alpha=0.15, lw=1)
    ax_c.plot(steps, elbos, color=COLORS["elbo"], alpha=0.15, lw=1)
    (ll_line,) = ax_c.plot([], [], color=COLORS["log_px"], lw=2, label="log p(x)")
    (elbo_line,) = ax_c.plot([], [], ".-", color=COLORS["elbo"], lw=1.2, ms=5, label="ELBO")
    (now,) = ax_c.plot([], [], "o", color=COLORS["highlight"], ms=6)
    low, high = elbos.min(), lls.max()
    ax_c.set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
    ax_c.set_xlim(-0.5, fit.n_steps + 0.5)
    ax_c.set_xlabel("half-step s (odd: E, even: M)", fontsize=9)
    ax_c.set_ylabel("nats per data point", fontsize=9)
    ax_c.legend(loc="lower right", fontsize=8)
    top = gaps[1:].max() if fit.n_steps else 1.0
    ax_g.vlines(steps, 0, gaps, color=COLORS["kl"], alpha=0.2, lw=3)
    gap_bars = ax_g.vlines([], [], [], color=COLORS["kl"], lw=3)
    (gap_now,) = ax_g.plot([], [], "o", color=COLORS["highlight"], ms=6)
    ax_g.set_xlim(-0.5, fit.n_steps + 0.5)
    ax_g.set_ylim(0, 1.15 * top)
    ax_g.set_xlabel("half-step s", fontsize=9)
    ax_g.set_ylabel("gap = log p(x) − ELBO (zoomed)", fontsize=9)
    for ax in (ax_x, ax_c, ax_g):
        ax.tick_params(labelsize=8)
        ax.set_title("placeholder", fontsize=9)  # titles are set per update; reserve their room in the layout
    fig.tight_layout(w_pad=0.8)
    fig.set_layout_engine(None)  # keep the layout fixed; otherwise savefig lays the figure out again each time
    animated = [points, *ellipses, *centres, ll_line, elbo_line, now, gap_bars, gap_now,
                ax_x.title, ax_c.title, ax_g.title]
    live = LiveFigure(fig, dpi=dpi, animated=animated)  # blit: axes and faint full curves are drawn once
    readout = widgets.HTML()
    phase = widgets.HTML()

    def render(step):
        """The state at half-step ``step`` and its figure as PNG bytes."""
        st = em_stepper_update(step, fit)
        points.set_facecolor(np.clip(st.resp @ rgb, 0, 1))
        for k in range(K):
            ell = ellipse_points(st.means[k], st.covs[k])
            ellipses[k].set_data(ell[:, 0], ell[:, 1])
            ellipses[k].set_linewidth(0.5 + 3 * st.weights[k])
            centres[k].set_data([st.means[k, 0]], [st.means[k, 1]])
        ax_x.set_title(_phase_text(st), fontsize=9)
        ll_line.set_data(st.curve_steps, st.curve_log_lik)
        elbo_line.set_data(st.curve_steps, st.curve_elbo)
        now.set_data([st.step], [st.elbo])
        ax_c.set_title(f"log p(x) {st.log_lik:.4f}, ELBO {st.elbo:.4f}", fontsize=9)
        curve_gaps = np.maximum(st.curve_log_lik - st.curve_elbo, 0.0)
        gap_bars.set_segments([[(s, 0.0), (s, g)] for s, g in zip(st.curve_steps, curve_gaps, strict=True)])
        gap_now.set_data([st.step], [st.gap])
        ax_g.set_title(f"gap {st.gap:.4f} nats", fontsize=9)
        return st, live.render()

    # The fit is fixed, so every half-step's picture is rendered once, here (~0.7 s for the default fit's 39, each
    # step's state included): a step or a Play frame then only sends a stored PNG (half of a frame was its titles).
    frames = [render(step) for step in steps]

    def update(_=None):
        st, png = frames[step_s.value]
        live.widget.value = png
        phase.value = f"<b>{_phase_text(st)}</b>"
        readout.value = readout_html({"log p(x) per point": ("log_lik", st.log_lik),
                                      "ELBO per point": ("elbo", st.elbo),
                                      "gap = mean KL(q‖p(z|x))": ("gap", st.gap)})

    step_s.observe(update, names="value")
    update()
    controls = [widgets.HBox([play, reset_button([step_s])]), step_s, phase]
    caption = ("Press play or step with the arrow keys. After each E-step (odd s) the ELBO touches log p(x); "
               "each M-step lifts log p(x) above it, and the right panel shows that gap zoomed in. Odd steps "
               "recolour the points (q), even steps move the ellipses (θ).")
    return explorer_layout(controls, live, readout, caption)
