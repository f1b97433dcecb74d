"""Chapter 07's flow explorer: q(z) against the exact bimodal posterior as planar layers are added.

One slider, ``K`` (the number of planar layers: one of the fitted flows, K = 0 being the best Gaussian). The fits
are computed beforehand (the notebook loads them and evaluates their densities with :mod:`lvmlib.flows`), so a
move only swaps one curve: no torch here.

Readouts (``span.lvm-readout[data-name=...]``, 4 decimals): ``elbo`` (the flow's exact ELBO), ``log_px``
(log p(x) by quadrature) and ``gap`` (log p(x) - ELBO = KL(q || p(z|x)) >= 0), plus ``mass_left``, q's mass on
z < 0 against the posterior's (``post_left``).

:func:`flow_update` is the plain function of the slider value that returns the numbers shown.
"""

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from lvmlib.plotting import COLORS
from lvmlib.widgets import LiveFigure, explorer_layout, readout_html, reset_button


@dataclass
class FlowState:
    """What the explorer shows for one K: the density q (m,) on the grid, its ELBO, log p(x), q's mass at z < 0."""

    K: int
    q: np.ndarray
    elbo: float
    log_p_x: float
    mass_left: float

    @property
    def gap(self):
        """log p(x) - ELBO = KL(q || p(z|x)), in nats."""
        return self.log_p_x - self.elbo


def flow_update(grid, panels, log_p_x, K):
    """The state for K layers. grid (m,); panels {K: (q on the grid (m,), ELBO)}; log_p_x a number."""
    if K not in panels:
        raise ValueError(f"K must be one of the fitted numbers of layers {sorted(panels)}, got {K!r}.")
    q, elbo = panels[K]
    q = np.asarray(q, dtype=float)
    grid = np.asarray(grid, dtype=float)
    if q.shape != grid.shape:
        raise ValueError(f"panels[{K}] must hold q on the grid, shape {grid.shape}; got {q.shape}.")
    left = grid <= 0
    return FlowState(K=int(K), q=q, elbo=float(elbo), log_p_x=float(log_p_x),
                     mass_left=float(np.trapezoid(q[left], grid[left])))


def flow_explorer(grid, posterior, panels, log_p_x, dpi=80):
    """The interactive picture: returns an ipywidgets container (see the module docstring for its controls)."""
    grid = np.asarray(grid, dtype=float)
    posterior = np.asarray(posterior, dtype=float)
    post_left = float(np.trapezoid(posterior[grid <= 0], grid[grid <= 0]))
    k_slider = widgets.SelectionSlider(options=sorted(panels), value=sorted(panels)[0], description="K",
                                       continuous_update=True, style={"description_width": "initial"},
                                       layout=widgets.Layout(width="320px"))
    fig = Figure(figsize=(6.0, 3.4))
    ax = fig.add_subplot()
    ax.fill_between(grid, posterior, color=COLORS["posterior"], alpha=0.25, label="p(z | x) (exact)")
    (line,) = ax.plot(grid, np.zeros_like(grid), color=COLORS["q"], lw=2, label="q(z)")
    title = ax.set_title("KL", fontsize=10)  # a placeholder, so that tight_layout leaves room for the title
    top = max(float(posterior.max()), max(float(np.max(q)) for q, _ in panels.values()))
    ax.set(xlim=(grid.min(), grid.max()), ylim=(0, 1.05 * top), xlabel="z", ylabel="density")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    live = LiveFigure(fig, animated=[line, title], dpi=dpi)
    readout = widgets.HTML()

    def update(_=None):
        st = flow_update(grid, panels, log_p_x, k_slider.value)
        line.set_ydata(st.q)
        name = "the best Gaussian" if st.K == 0 else f"{st.K} planar layer{'s' if st.K > 1 else ''}"
        title.set_text(f"{name}: KL(q || p(z|x)) = {st.gap:.4f} nats")
        readout.value = readout_html({
            "ELBO": ("elbo", st.elbo),
            "log p(x)": ("log_px", st.log_p_x),
            "gap = KL(q ‖ p(z|x))": ("gap", st.gap),
            "q's mass at z < 0": ("mass_left", st.mass_left),
            "posterior's mass at z < 0": ("post_left", post_left),
        })
        live.refresh()

    k_slider.observe(update, names="value")
    update()
    caption = ("Add planar layers with K: watch q move mass onto the second mode, and the gap (the KL) shrink. "
               "Compare q's mass at z < 0 with the posterior's.")
    return explorer_layout([k_slider, reset_button([k_slider])], live, readout, caption)
