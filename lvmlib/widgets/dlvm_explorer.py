"""Chapter 01 explorer: the lecture's small deep latent variable model, a mixture of infinitely many Gaussians.

z ~ N(0, 1), x | z ~ N(sigmoid(A z + c), var_scale * diag(exp(sigmoid(B z + d)))), x in R^2.

Sliders (descriptions): "a₁", "a₂", "b₁", "b₂", "c₁", "c₂", "d₁", "d₂" (entries of A, B, c, d).
Readouts (data-name): ``avg_log_px`` (mean log p(x) of the drawn samples, nats per data point) and ``mass``
(the integral of p(x) over the plotted square, which is 1 up to the mass outside it).
"""

from dataclasses import dataclass

import numpy as np

from lvmlib.distributions import log_normal
from lvmlib.examples import SigmoidDLVM

PARAMS = ("a1", "a2", "b1", "b2", "c1", "c2", "d1", "d2")
LABELS = ("a₁", "a₂", "b₁", "b₂", "c₁", "c₂", "d₁", "d₂")
DEFAULTS = {"a1": 4.0, "a2": -2.5, "b1": 2.0, "b2": -2.0, "c1": 0.0, "c2": 0.5, "d1": -1.0, "d2": 0.0}
RANGES = {"a": (-6.0, 6.0), "b": (-4.0, 4.0), "c": (-3.0, 3.0), "d": (-3.0, 3.0)}


def plot_box(var_scale):
    """The square (lo, hi) shown for both coordinates: the means' range (0, 1) plus 4 of the largest standard
    deviations, sqrt(e * var_scale), so the mass outside it is negligible for any slider setting."""
    pad = 4.0 * np.sqrt(np.e * var_scale)
    return -pad, 1.0 + pad


@dataclass
class DLVMState:
    """Everything the explorer shows for one setting of the sliders."""

    model: SigmoidDLVM
    z: np.ndarray            # (n_samples,) latent draws
    x: np.ndarray            # (n_samples, 2) observations drawn given z
    grid: np.ndarray         # (grid_size,) coordinates of the density image, both axes
    px_grid: np.ndarray      # (grid_size, grid_size) p(x) on the grid, rows = x2, columns = x1
    z_curve: np.ndarray      # (m,) values of z for the decoder curves
    mu_curve: np.ndarray     # (m, 2) mu(z)
    sigma_curve: np.ndarray  # (m, 2) standard deviations of p(x | z)
    avg_log_px: float        # mean log p(x) of the samples (nats per data point)
    mass: float              # integral of p(x) over the plotted square


def density_on_grid(model, grid):
    """p(x) on the square grid x grid, shape (grid_size, grid_size) (rows x2, columns x1).

    p(x1, x2) = integral of N(z) N(x1; mu1(z), s1(z)^2) N(x2; mu2(z), s2(z)^2) dz: on a tensor grid the sum over
    the quadrature nodes is one matrix product, E1^T diag(w) E2, computed with per-node shifts in log space.
    """
    z = model.grid[:, None]  # (m, 1)
    mu, sigma = model.decode(z)  # (m, 2) each
    log_f = [log_normal(grid[None, :], mu[:, [j]], sigma[:, [j]]) for j in range(2)]  # (m, G) each
    shift = [f.max(axis=1, keepdims=True) for f in log_f]
    weights = np.gradient(model.grid)  # trapezoid weights (interior dz, half at the ends)
    weights[[0, -1]] /= 2
    log_w = log_normal(z[:, 0], 0.0, 1.0) + np.log(weights) + shift[0][:, 0] + shift[1][:, 0]  # (m,)
    top = log_w.max()
    e1, e2 = np.exp(log_f[0] - shift[0]), np.exp(log_f[1] - shift[1])
    return np.exp(top) * (e2.T * np.exp(log_w - top)) @ e1


def dlvm_state(a1, a2, b1, b2, c1, c2, d1, d2, var_scale=0.01, n_samples=400, grid_size=50, seed=0):
    """The explorer's update logic: sample the model and evaluate p(x) exactly (quadrature over z)."""
    model = SigmoidDLVM(A=[a1, a2], B=[b1, b2], c=[c1, c2], d=[d1, d2], var_scale=var_scale)
    z, x = model.sample(n_samples, np.random.default_rng(seed))
    grid = np.linspace(*plot_box(var_scale), grid_size)
    px_grid = density_on_grid(model, grid)
    mass = float(px_grid.sum() * (grid[1] - grid[0]) ** 2)
    z_curve = np.linspace(-3, 3, 121)[:, None]
    mu_curve, sigma_curve = model.decode(z_curve)
    return DLVMState(model, z[:, 0], x, grid, px_grid, z_curve[:, 0], mu_curve, sigma_curve,
                     float(model.log_p_x(x).mean()), mass)


def dlvm_explorer(var_scale=0.01, seed=0):
    """The widget: eight sliders, samples over the density p(x), and the decoder's mean and scale curves."""
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from lvmlib.plotting import COLORS
    from lvmlib.widgets import LiveFigure, explorer_layout, readout_html, reset_button, slider

    sliders = {p: slider(lab, *RANGES[p[0]], DEFAULTS[p], 0.25, continuous_update=False)
               for p, lab in zip(PARAMS, LABELS, strict=True)}
    state = dlvm_state(**DEFAULTS, var_scale=var_scale, seed=seed)

    fig = Figure(figsize=(9.5, 3.8), layout="constrained")
    fig.get_layout_engine().set(wspace=0.08)
    ax_x, ax_z = fig.subplots(1, 2)
    box = plot_box(var_scale)
    image = ax_x.imshow(state.px_grid, origin="lower", extent=(*box, *box), cmap="Greys", aspect="equal")
    dots = ax_x.scatter(state.x[:, 0], state.x[:, 1], c=state.z, cmap="viridis", s=6, vmin=-3, vmax=3)
    fig.colorbar(dots, ax=ax_x, label="z of each sample")
    ax_x.set(xlabel="$x_1$", ylabel="$x_2$")
    curves = [ax_z.plot(state.z_curve, state.mu_curve[:, j], color=c, label=f"$\\mu_{j + 1}(z)$")[0]
              for j, c in enumerate((COLORS["model"], COLORS["highlight"]))]
    bands = [ax_z.plot(state.z_curve, state.sigma_curve[:, j], "--", color=c, label=f"$\\sigma_{j + 1}(z)$")[0]
             for j, c in enumerate((COLORS["model"], COLORS["highlight"]))]
    ax_z.set(xlabel="z", ylabel="decoder output", title="p(x|z): mean and standard deviation", ylim=(0, 1.05))
    ax_z.legend(loc="center right", fontsize=8, ncol=2)
    title = ax_x.set_title("", fontsize=10)
    # only these artists change with the sliders: they are blitted over a cached background
    live = LiveFigure(fig, animated=[image, *ax_x.spines.values(), dots, *curves, *bands, title])
    readout = widgets.HTML()

    def show(s):
        image.set_data(s.px_grid)
        image.set_clim(0, 1.8 * s.px_grid.max())  # light grey, so the dark sample colours stay visible
        dots.set_offsets(s.x)
        dots.set_array(s.z)
        for j in range(2):
            curves[j].set_ydata(s.mu_curve[:, j])
            bands[j].set_ydata(s.sigma_curve[:, j])
        top = max(1.05, 1.1 * s.sigma_curve.max())
        rescaled = top != ax_z.get_ylim()[1]
        ax_z.set_ylim(0, top)
        title.set_text(f"samples over p(x) (grey); ∫ p(x) dx = {s.mass:.4f}")
        readout.value = readout_html({"mean log p(x) of samples": ("avg_log_px", s.avg_log_px),
                                      "∫ p(x) dx over the square": ("mass", s.mass)}, title="readouts")
        live.refresh(full=rescaled)  # new axis limits need the background redrawn

    def on_change(_):
        show(dlvm_state(**{p: s.value for p, s in sliders.items()}, var_scale=var_scale, seed=seed))

    for s in sliders.values():
        s.observe(on_change, names="value")
    show(state)
    caption = ("Move a₁ and a₂ to bend the curve of means; b and d change how wide each Gaussian is. "
               "Every colour is one value of z: p(x) is the blend of all of them.")
    return explorer_layout([*sliders.values(), reset_button(list(sliders.values()))], live, readout, caption)
