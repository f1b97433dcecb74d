"""Chapter 01 explorer: the lecture's small deep latent variable model, a mixture of infinitely many Gaussians.

z ~ N(0, 1), x | z ~ N(mu(z), diag(sd(z)^2)), x in R^2, with

    mu(z) = sigm(A z + c),   sd(z)^2 = var_scale * exp(log_var_range * sigm(B z + d)),

sigm the logistic sigmoid. The lecture's model has var_scale = log_var_range = 1, where a standard deviation can
change by a factor of at most sqrt(e) ~ 1.65 whatever B and d are; the explorer stretches the log-variance range
(LOG_VAR_RANGE = 3: the sd spans 0.05 to 0.224, a factor e^1.5 ~ 4.5) so that the b and d sliders visibly matter.

The samples come from noise drawn once, (z, eps) ~ N(0, 1) x N(0, I_2), from the generator passed in (the
chapter's ``rng``); each slider setting maps the same noise through the decoder, x = mu(z) + sd(z) * eps, which is
ancestral sampling with the randomness held fixed, so the points move smoothly instead of being redrawn.

Sliders (descriptions): "a₁", "a₂", "b₁", "b₂", "c₁", "c₂", "d₁", "d₂" (entries of A, B, c, d).
Readouts (data-name): ``avg_log_px`` (E_p(x)[log p(x)], the mean log p(x) that samples average to, by quadrature
on the plotted square; nats per data point) and ``mass`` (the integral of p(x) over the plotted square, 1 up to
the mass outside it).
"""

from dataclasses import dataclass

import numpy as np

from lvmlib.distributions import log_normal
from lvmlib.examples import SigmoidDLVM

PARAMS = ("a1", "a2", "b1", "b2", "c1", "c2", "d1", "d2")
LABELS = ("a₁", "a₂", "b₁", "b₂", "c₁", "c₂", "d₁", "d₂")
DEFAULTS = {"a1": 4.0, "a2": -2.5, "b1": 2.0, "b2": -2.0, "c1": 0.0, "c2": 0.5, "d1": -1.0, "d2": 0.0}
RANGES = {"a": (-6.0, 6.0), "b": (-4.0, 4.0), "c": (-3.0, 3.0), "d": (-4.0, 4.0)}
VAR_SCALE = 0.0025      # smallest variance: sd >= 0.05
LOG_VAR_RANGE = 3.0     # largest variance VAR_SCALE * e^3: sd <= 0.05 * e^1.5 ~ 0.224
N_SAMPLES = 400
GRID_SIZE = 100


def plot_box(var_scale=VAR_SCALE, log_var_range=LOG_VAR_RANGE):
    """The square (lo, hi) shown for both coordinates: the means' range (0, 1) plus 3.5 of the largest standard
    deviations, so the mass outside it stays below ~1e-3 for any slider setting."""
    pad = 3.5 * np.sqrt(var_scale * np.exp(log_var_range))
    return -pad, 1.0 + pad


def draw_noise(rng, n_samples=N_SAMPLES):
    """The explorer's randomness, drawn once: z of shape (n_samples,) and eps of shape (n_samples, 2), N(0, 1)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}.")
    return rng.standard_normal(n_samples), rng.standard_normal((n_samples, 2))


@dataclass
class DLVMState:
    """Everything the explorer shows for one setting of the sliders."""

    model: SigmoidDLVM
    z: np.ndarray            # (n_samples,) latent draws
    x: np.ndarray            # (n_samples, 2) observations, x = mu(z) + sd(z) * eps
    grid: np.ndarray         # (grid_size,) coordinates of the density image, both axes
    px_grid: np.ndarray      # (grid_size, grid_size) p(x) on the grid, rows = x2, columns = x1
    z_curve: np.ndarray      # (m,) values of z for the decoder curves
    mu_curve: np.ndarray     # (m, 2) mu(z)
    sd_curve: np.ndarray     # (m, 2) standard deviations of p(x | z)
    avg_log_px: float        # E_p(x)[log p(x)] over the square (nats per data point)
    mass: float              # integral of p(x) over the plotted square


def density_on_grid(model, grid):
    """p(x) on the square grid x grid, shape (grid_size, grid_size) (rows x2, columns x1).

    p(x1, x2) = integral of N(z) N(x1; mu1(z), s1(z)^2) N(x2; mu2(z), s2(z)^2) dz: on a tensor grid the sum over
    the quadrature nodes is one matrix product, E1^T diag(w) E2, computed with per-node shifts in log space.
    """
    z = model.grid[:, None]  # (m, 1)
    mu, sd = model.decode(z)  # (m, 2) each
    log_f = [log_normal(grid[None, :], mu[:, [j]], sd[:, [j]]) for j in range(2)]  # (m, G) each
    shift = [f.max(axis=1, keepdims=True) for f in log_f]
    weights = np.gradient(model.grid)  # trapezoid weights (interior dz, half at the ends)
    weights[[0, -1]] /= 2
    log_w = log_normal(z[:, 0], 0.0, 1.0) + np.log(weights) + shift[0][:, 0] + shift[1][:, 0]  # (m,)
    top = log_w.max()
    e1, e2 = np.exp(log_f[0] - shift[0]), np.exp(log_f[1] - shift[1])
    weighted = e2 * np.exp(log_w - top)[:, None]  # (m, G)
    # summed over blocks of 64 nodes: each small product runs on one BLAS thread. One (G x m) @ (m x G) product
    # goes multi-threaded, and on a busy 2-core machine that took ~100 ms instead of ~0.3 ms.
    block = 64
    total = sum(weighted[k:k + block].T @ e1[k:k + block] for k in range(0, len(z), block))
    return np.exp(top) * total


def dlvm_state(a1, a2, b1, b2, c1, c2, d1, d2, noise=None, var_scale=VAR_SCALE, log_var_range=LOG_VAR_RANGE,
               grid_size=GRID_SIZE):
    """The explorer's update logic: map the fixed noise through the decoder and evaluate p(x) exactly.

    noise : (z, eps) from :func:`draw_noise`; None draws it from ``np.random.default_rng(0)``.
    """
    model = SigmoidDLVM([a1, a2], [b1, b2], [c1, c2], [d1, d2], var_scale, log_var_range)
    z, eps = draw_noise(np.random.default_rng(0)) if noise is None else (np.asarray(a, float) for a in noise)
    if z.ndim != 1 or eps.shape != (len(z), 2):
        raise ValueError(f"noise must be (z, eps) with shapes (n,) and (n, 2), as draw_noise returns; got {z.shape} "
                         f"and {eps.shape}.")
    mu, sd = model.decode(z[:, None])
    x = mu + sd * eps
    grid = np.linspace(*plot_box(var_scale, log_var_range), grid_size)
    px_grid = density_on_grid(model, grid)
    cell = (grid[1] - grid[0]) ** 2
    mass = float(px_grid.sum() * cell)
    positive = px_grid > 0
    avg_log_px = float(np.sum(px_grid[positive] * np.log(px_grid[positive])) * cell / mass)
    z_curve = np.linspace(-3, 3, 121)[:, None]
    mu_curve, sd_curve = model.decode(z_curve)
    return DLVMState(model, z, x, grid, px_grid, z_curve[:, 0], mu_curve, sd_curve, avg_log_px, mass)


def dlvm_explorer(rng=None, var_scale=VAR_SCALE, log_var_range=LOG_VAR_RANGE):
    """The widget: eight sliders, samples over the density p(x), and the decoder's mean and sd curves.

    rng : the np.random.Generator the samples' noise is drawn from, once (pass the chapter's ``rng``);
          None means ``np.random.default_rng(0)``.
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from lvmlib.plotting import COLORS
    from lvmlib.widgets import LiveFigure, explorer_layout, readout_html, reset_button, slider

    noise = draw_noise(np.random.default_rng(0) if rng is None else rng)
    sliders = {p: slider(lab, *RANGES[p[0]], DEFAULTS[p], 0.25, continuous_update=False)
               for p, lab in zip(PARAMS, LABELS, strict=True)}
    state = dlvm_state(**DEFAULTS, noise=noise, var_scale=var_scale, log_var_range=log_var_range)
    sd_top = 1.1 * state.model.sd_bounds()[1]

    fig = Figure(figsize=(10.5, 3.9), layout="constrained")
    fig.get_layout_engine().set(wspace=0.06)
    ax_x, ax_z = fig.subplots(1, 2, width_ratios=(1.1, 1))
    box = plot_box(var_scale, log_var_range)
    image = ax_x.imshow(state.px_grid, origin="lower", extent=(*box, *box), cmap="Greys", aspect="equal")
    dots = ax_x.scatter(state.x[:, 0], state.x[:, 1], c=state.z, cmap="viridis", s=6, vmin=-3, vmax=3)
    fig.colorbar(dots, ax=ax_x, label="z of each sample", pad=0.02)
    ax_x.set(xlabel="$x_1$", ylabel="$x_2$")
    ax_sd = ax_z.twinx()
    colours = (COLORS["model"], COLORS["highlight"])
    curves = [ax_z.plot(state.z_curve, state.mu_curve[:, j], color=c, label=f"mean $\\mu_{j + 1}(z)$")[0]
              for j, c in enumerate(colours)]
    bands = [ax_sd.plot(state.z_curve, state.sd_curve[:, j], "--", color=c, label=f"sd $\\sigma_{j + 1}(z)$")[0]
             for j, c in enumerate(colours)]
    ax_z.set(xlabel="z", ylabel="mean of p(x|z) (solid)", ylim=(0, 1.02), xlim=(-3, 3))
    ax_sd.set(ylabel="standard deviation (dashed)", ylim=(0, sd_top))
    ax_sd.grid(False)
    ax_sd.spines["right"].set_visible(True)
    # above the axes: inside, the redrawn curves would cover it
    ax_z.legend(handles=[*curves, *bands], loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, fontsize=8,
                frameon=False, title="the decoder p(x|z)", title_fontsize=10, columnspacing=1.0)
    ax_x.set_title("samples over p(x) (grey)", fontsize=10)
    # only these artists change with the sliders: they are blitted over a cached background
    live = LiveFigure(fig, animated=[image, *ax_x.spines.values(), dots, *curves, *bands])
    readout = widgets.HTML()

    def show(s):
        image.set_data(s.px_grid)
        image.set_clim(0, 1.5 * s.px_grid.max())  # light grey, so the dark sample colours stay visible
        dots.set_offsets(s.x)
        for j in range(2):
            curves[j].set_ydata(s.mu_curve[:, j])
            bands[j].set_ydata(s.sd_curve[:, j])
        readout.value = readout_html({"E[log p(x)] (nats per point)": ("avg_log_px", s.avg_log_px),
                                      "∫ p(x) dx over the square": ("mass", s.mass)}, title="readouts")
        live.refresh()

    def on_change(_):
        show(dlvm_state(**{p: s.value for p, s in sliders.items()}, noise=noise, var_scale=var_scale,
                        log_var_range=log_var_range))

    for s in sliders.values():
        s.observe(on_change, names="value")
    show(state)
    caption = ("a moves and bends the curve of means, c shifts it; b and d set each Gaussian's width: d for all of "
               "them, b how it changes along z. Every colour is one value of z: p(x) is the blend of all of them.")
    return explorer_layout([*sliders.values(), reset_button(list(sliders.values()))], live, readout, caption)
