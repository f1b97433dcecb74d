"""The proposal explorer of chapter 04: importance sampling of p(x) with a Gaussian proposal q(z) = N(mu_q, sigma_q^2).

The model is the 1-D running example (:class:`lvmlib.examples.NonlinearModel1D`) at one data point x (default
x = 2, where p(z|x) has two modes). For each setting the update function draws ``n_repeats`` independent estimates
log p_hat_k(x), each from k samples z ~ q, and reports how good they are against the exact log p(x) (quadrature).

Two layers:

- :func:`proposal_update` (plain Python, what tests call): slider values (and a seed) -> :class:`ProposalState`.
- :func:`proposal_explorer` (the ipywidgets front end): sliders, a reset button, a readout and a two-panel figure
  (left: p(z|x), q(z) and the normalized weights of one run as stems; right: the histogram of log p_hat_k(x)
  over the repeats, with log p(x) and their mean as vertical lines; estimates and mean are clipped to the axis).
  The sliders update while dragged: only the moving artists are redrawn (blitting, ~10 ms per update).

Slider descriptions: ``μ_q`` (mean of q), ``log σ_q`` (log standard deviation of q), ``k`` (samples per
estimate). Readout ``span.lvm-readout`` data-names: ``log_px`` (exact log p(x)), ``log_px_hat`` (mean of
log p_hat_k(x) over the repeats), ``bias`` (log_px_hat - log_px, <= 0 in expectation), ``bias_se`` (its standard
error over the repeats), ``ess`` (mean effective sample size), ``ess_frac`` (ess / k), ``sd_log_px_hat``
(spread of log p_hat_k(x) over the repeats) and ``ratio`` (mean of p_hat_k(x) / p(x), 1 in expectation).
All in nats, per data point.

At k = 1 the single weight normalizes to 1, so ESS = 1 for every proposal, however bad: ESS/k carries no
information there. The state reports ``ess_frac = nan`` and the readout shows it greyed as "undefined (k = 1)".

:func:`try_this_answers` computes the answers to the notebook's "Try this" prompts with :func:`proposal_update`
(the explorer's own update function, at its seed), for :class:`lvmlib.exercises.TryThis`.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lvmlib import _checks
from lvmlib.distributions import log_normal
from lvmlib.estimators import effective_sample_size, log_p_x_hat, log_weights_gaussian
from lvmlib.examples import NonlinearModel1D

MU_RANGE = (-3.0, 3.0)
LOG_SIGMA_RANGE = (-2.5, 1.0)
K_RANGE = (1, 500)
DEFAULTS = {"mu_q": 0.0, "log_sigma_q": 0.0, "k": 10}
Z_GRID = np.linspace(-4.0, 4.0, 401)
HIST_EDGES = np.linspace(-4.0, 1.5, 45)  # relative to log p(x); estimates outside are clipped into the end bins


@dataclass
class ProposalState:
    """Everything the explorer shows for one slider setting (numbers in nats, per data point)."""

    log_px: float
    log_px_hat: float
    bias: float
    bias_se: float
    ess: float
    ess_frac: float  # nan at k = 1, where ESS = 1 whatever q is
    sd_log_px_hat: float
    ratio: float
    z: np.ndarray  # (k,) samples of the first repeat
    w_norm: np.ndarray  # (k,) their normalized weights, summing to one
    log_px_hats: np.ndarray  # (n_repeats,) one estimate per repeat
    q_density: np.ndarray  # (len(Z_GRID),) q(z) on Z_GRID

    def readout(self):
        """The readout's labels mapped to (data-name, value) pairs, for :func:`lvmlib.widgets.readout_html`."""
        return {
            "log p(x) (exact)": ("log_px", self.log_px),
            "mean of log p̂_k(x)": ("log_px_hat", self.log_px_hat),
            "bias of log p̂_k(x)": ("bias", self.bias),
            "± standard error": ("bias_se", self.bias_se),
            "sd of log p̂_k(x)": ("sd_log_px_hat", self.sd_log_px_hat),
            "mean of p̂_k(x) / p(x)": ("ratio", self.ratio),
            "ESS": ("ess", self.ess),
            "ESS / k": ("ess_frac", self.ess_frac),
        }

    def readout_html(self, title=None):
        """The readout as HTML; ESS/k is shown greyed as undefined at k = 1 (one weight always normalizes to 1)."""
        from lvmlib.widgets import readout_html

        html = readout_html(self.readout(), title=title)
        if np.isnan(self.ess_frac):
            html = html.replace(
                "<span class='lvm-readout' data-name='ess_frac'>nan</span>",
                "<span class='lvm-readout' data-name='ess_frac' style='color:#999' title='with one sample the "
                "normalized weight is always 1, so ESS = 1 for every q: ESS/k says nothing at k = 1'>"
                "undefined (k = 1)</span>",
            )
        return html


@lru_cache(maxsize=16)
def _truth(x, b, sigma_x):
    """Exact log p(x) and p(z|x) on Z_GRID for the 1-D model (cached: they do not depend on the sliders)."""
    model = NonlinearModel1D(b=b, sigma_x=sigma_x)
    log_px = float(model.log_p_x(np.array([[x]]))[0])
    _, posterior = model.posterior_on_grid(np.array([[x]]), Z_GRID)
    return model, log_px, posterior[0]


def proposal_update(mu_q, log_sigma_q, k, seed=0, x=2.0, n_repeats=200, b=0.3, sigma_x=0.5):
    """Draw ``n_repeats`` importance sampling estimates of log p(x) with q = N(mu_q, exp(log_sigma_q)^2).

    Parameters
    ----------
    mu_q, log_sigma_q : the proposal's mean and log standard deviation (finite floats).
    k : samples per estimate, >= 1.
    seed : int or numpy.random.Generator; the same seed gives the same numbers.
    x : the observed data point (a float: the model is 1-D).
    n_repeats : number of independent estimates (the spread and the bias are measured over them).
    b, sigma_x : parameters of the NonlinearModel1D.

    Returns
    -------
    ProposalState.
    """
    mu_q = _checks.finite_scalar(mu_q, "mu_q")
    log_sigma_q = _checks.finite_scalar(log_sigma_q, "log_sigma_q")
    k = _checks.positive_int(k, "k")
    n_repeats = _checks.positive_int(n_repeats, "n_repeats", maximum=100_000)
    rng = np.random.default_rng(_checks.seed(seed))
    model, log_px, _ = _truth(float(x), float(b), float(sigma_x))
    with np.errstate(over="ignore", under="ignore"):
        sigma_q = float(np.exp(log_sigma_q))
    if not 0.0 < sigma_q < np.inf:
        raise ValueError(f"log_sigma_q = {log_sigma_q:g} makes sigma_q = exp(log_sigma_q) overflow or vanish; "
                         f"keep it within the slider's range {LOG_SIGMA_RANGE}.")
    log_w, z = log_weights_gaussian(model, np.array([[x]]), mu_q, sigma_q, k, rng, n_repeats=n_repeats,
                                    return_z=True)
    log_w = log_w[..., 0]  # (n_repeats, k): one data point
    estimates = log_p_x_hat(log_w[..., None])[:, 0]  # (n_repeats,)
    ess = effective_sample_size(log_w[..., None])[:, 0]
    w_first = np.exp(log_w[0] - log_w[0].max())
    return ProposalState(
        log_px=log_px,
        log_px_hat=float(estimates.mean()),
        bias=float(estimates.mean() - log_px),
        bias_se=float(estimates.std(ddof=1) / np.sqrt(estimates.size)) if estimates.size > 1 else 0.0,
        ess=float(ess.mean()),
        ess_frac=float(ess.mean() / k) if k > 1 else float("nan"),
        sd_log_px_hat=float(estimates.std()),
        ratio=float(np.exp(estimates - log_px).mean()),
        z=z[0, :, 0, 0],
        w_norm=w_first / w_first.sum(),
        log_px_hats=estimates,
        q_density=np.exp(log_normal(Z_GRID, mu_q, sigma_q)),
    )


def _hist_top(counts):
    """The histogram panel's y-limit: the smallest of n_repeats / 2^j (j = 0..4) above the tallest bar, times 1.1.

    Steps instead of the exact maximum, so that most updates keep the axis and can blit (a limit change redraws
    the panel)."""
    n = max(int(counts.sum()), 1)
    levels = n / 2.0 ** np.arange(4, -1, -1)
    return 1.1 * levels[np.searchsorted(levels, counts.max())]


def _build_figure(state, posterior):
    """The two panels and the artists that move; returns (fig, artists), the moving ones under ``"animated"``."""
    from matplotlib.figure import Figure

    from lvmlib.plotting import COLORS

    fig = Figure(figsize=(8.0, 3.1))
    ax_z, ax_h = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.16, top=0.9, wspace=0.22)
    top = 1.15 * posterior.max()
    ax_z.plot(Z_GRID, posterior, color=COLORS["posterior"], lw=2, label="p(z|x)")
    q_line, = ax_z.plot(Z_GRID, state.q_density, color=COLORS["q"], lw=2, label="q(z)")
    stems = ax_z.vlines(state.z, 0, state.w_norm * top, color=COLORS["sample"], lw=1.2, label="weights (one run)")
    ax_z.set(xlim=(Z_GRID[0], Z_GRID[-1]), ylim=(0, top), xlabel="z", ylabel="density")
    ax_z.legend(loc="upper left", fontsize=8)
    edges = state.log_px + HIST_EDGES
    counts = np.histogram(np.clip(state.log_px_hats, edges[0], edges[-1]), edges)[0]
    hist = ax_h.stairs(counts, edges, fill=True, color=COLORS["sample"], alpha=0.6, label="log p̂_k(x), repeats")
    ax_h.axvline(state.log_px, color=COLORS["log_px"], lw=2, label="log p(x)")
    mean_line = ax_h.axvline(state.log_px_hat, color=COLORS["highlight"], lw=2, ls="--", label="mean of log p̂_k(x)")
    ax_h.set(xlim=(edges[0], edges[-1]), xlabel="log p̂_k(x) (nats; clipped to the axis)", ylabel="count")
    ax_h.legend(loc="upper left", fontsize=8)
    # static titles: the ESS and the bias are in the readout (redrawing text on every update costs 2-10 ms)
    ax_z.set_title("p(z|x), q(z) and the weights of one run", fontsize=10)
    ax_h.set_title("log p̂_k(x) over the repeats", fontsize=10)
    animated = [q_line, stems, hist, mean_line]
    artists = {"q_line": q_line, "stems": stems, "hist": hist, "mean_line": mean_line, "ax_h": ax_h,
               "ax_z": ax_z, "top": top, "edges": edges, "animated": animated}
    return fig, artists


def _redraw(artists, state):
    """Move the artists to ``state``; returns True when the histogram's y-limit changed (its panel is redrawn)."""
    artists["q_line"].set_ydata(np.minimum(state.q_density, 10 * artists["top"]))
    heights = state.w_norm * artists["top"]
    artists["stems"].set_segments(np.stack([np.stack([state.z, 0 * state.z], 1), np.stack([state.z, heights], 1)], 1))
    edges = artists["edges"]
    counts = np.histogram(np.clip(state.log_px_hats, edges[0], edges[-1]), edges)[0]
    artists["hist"].set_data(counts)
    mean = np.clip(state.log_px_hat, edges[0], edges[-1])  # like the estimates: k = 1 can average below the axis
    artists["mean_line"].set_xdata([mean, mean])
    y_top = _hist_top(counts)
    if y_top == artists["ax_h"].get_ylim()[1]:
        return False
    artists["ax_h"].set_ylim(0, y_top)
    return True


def _front_end(x=2.0, n_repeats=200, seed=0, dpi=72):
    """The explorer's container and its :class:`LiveFigure` (tests time ``live.last_render_ms``)."""
    import ipywidgets as widgets

    from lvmlib.widgets import LiveFigure, explorer_layout, reset_button, slider

    # the update takes ~1-5 ms and a blitted refresh (only the moving artists) a few ms more, so the figure
    # follows the sliders while they are dragged; when the histogram's y-limit steps, only that panel is drawn
    # again (redrawn_axes: such a k step 38 ms in process, 88 ms with a full redraw; most of it is the panel's text)
    mu = slider("μ_q", *MU_RANGE, DEFAULTS["mu_q"], 0.05)
    log_sigma = slider("log σ_q", *LOG_SIGMA_RANGE, DEFAULTS["log_sigma_q"], 0.05)
    k = slider("k", *K_RANGE, DEFAULTS["k"], 1, integer=True)
    controls = [mu, log_sigma, k]
    title = f"x = {x:g}, {n_repeats} repeats"

    def compute():
        return proposal_update(mu.value, log_sigma.value, k.value, seed=seed, x=x, n_repeats=n_repeats)

    state = compute()
    fig, artists = _build_figure(state, _truth(float(x), 0.3, 0.5)[2])
    _redraw(artists, state)
    live = LiveFigure(fig, dpi=dpi, animated=artists["animated"], redrawn_axes=[artists["ax_h"]])
    readout = widgets.HTML(state.readout_html(title=title))

    def on_change(_):
        new = compute()
        new_limit = _redraw(artists, new)
        readout.value = new.readout_html(title=title)
        live.refresh(axes=new_limit)

    for control in controls:
        control.observe(on_change, names="value")
    caption = ("Put q(z) on one mode of p(z|x) (μ_q = 1.25, log σ_q = -1): the ESS looks healthy, yet p̂_k/p(x) "
               "averages about 0.6 and log p̂_k(x) is biased, because q never visits the other mode. Then centre q at "
               "0, widen it, and raise k: the bias shrinks towards 0 (within its standard error). At k = 1 the one "
               "weight normalizes to 1, so ESS = 1 for any q and ESS/k is greyed out as undefined: read the bias.")
    return explorer_layout([*controls, reset_button(controls)], live, readout, caption), live


def proposal_explorer(x=2.0, n_repeats=200, seed=0):
    """The interactive explorer (an ipywidgets container). Same seed on every update, so only the sliders move it."""
    return _front_end(x=x, n_repeats=n_repeats, seed=seed)[0]


def try_this_answers(seed=0, x=2.0, n_repeats=200):
    """Answers to the chapter's "Try this" prompts, each a function computing its numbers with :func:`proposal_update`
    at the explorer's seed (so they match what the learner sees), for :class:`lvmlib.exercises.TryThis`.

    Returns a dict {"1": callable, "2": callable, "3": callable}; each callable returns the answer as text.
    """

    def update(mu_q, log_sigma_q, k):
        return proposal_update(mu_q, log_sigma_q, k, seed=seed, x=x, n_repeats=n_repeats)

    def one_mode():
        prior, mode = update(0.0, 0.0, DEFAULTS["k"]), update(1.25, -1.0, DEFAULTS["k"])
        return (f"At the prior (k = {DEFAULTS['k']}): ESS/k = {prior.ess_frac:.4f}, bias {prior.bias:.4f} nats, mean "
                f"p_hat/p(x) = {prior.ratio:.4f}. On the right mode (mu_q = 1.25, log sigma_q = -1): ESS/k = "
                f"{mode.ess_frac:.4f} (higher), sd of log p_hat {mode.sd_log_px_hat:.4f} (narrower, against "
                f"{prior.sd_log_px_hat:.4f}), yet mean p_hat/p(x) = {mode.ratio:.4f}, about the right mode's share of "
                f"the posterior, and the bias is {mode.bias:.4f} nats. The weights only see where q samples.")

    def narrower():
        prior = update(0.0, 0.0, DEFAULTS["k"])
        mode, narrow = update(1.25, -1.0, DEFAULTS["k"]), update(1.25, -2.0, DEFAULTS["k"])
        verdict = "No" if narrow.bias < mode.bias + 0.1 else "A little"
        return (f"{verdict}: at log sigma_q = -2 the bias is {narrow.bias:.4f} nats (against {mode.bias:.4f} at -1), "
                f"and the sd of log p_hat is {narrow.sd_log_px_hat:.4f}, still far below the prior's "
                f"{prior.sd_log_px_hat:.4f}. The histogram is narrow because every repeat misses the same mode in the "
                f"same way: the spread measures how repeatable the estimate is, not whether it is right.")

    def raise_k():
        rows = [(k, update(0.0, 0.3, k)) for k in (1, 10, 100, K_RANGE[1])]
        text = ", ".join(f"k = {k}: {s.bias:.4f} +- {s.bias_se:.4f}" for k, s in rows)
        last = rows[-1][1]
        n_se = abs(last.bias) / last.bias_se
        resolved = "still resolved" if n_se > 2 else f"too small for {n_repeats} repeats to resolve"
        return (f"Bias of log p_hat_k(x) (nats, +- one standard error over {n_repeats} repeats): {text}. It shrinks "
                f"from several nats towards 0, roughly like chi^2/(2k) once k is large; at k = {K_RANGE[1]} it is "
                f"{n_se:.1f} standard errors from 0, {resolved}. (At k = 1 the log-weights are heavy-tailed, so the "
                f"standard error there is itself unreliable.) At k = 1 ESS/k reads 'undefined': one weight always "
                f"normalizes to 1, so ESS = 1 for any q.")

    return {"1": one_mode, "2": narrower, "3": raise_k}
