"""The course's visual language: one colour per quantity (Okabe-Ito, colour-blind safe) and small figure helpers.

Nothing here runs on import; call :func:`use_course_style` once at the top of a notebook.
"""

import numpy as np

# Okabe-Ito palette, one colour per quantity across every chapter.
COLORS = {
    "model": "#0072B2",       # the model, p(x), p(x|z), and the exact posterior p(z|x)
    "posterior": "#0072B2",
    "q": "#E69F00",           # the approximation q(z) or q(z|x)
    "log_px": "#000000",      # log p(x): a horizontal reference line
    "elbo": "#009E73",        # the ELBO, beneath log p(x)
    "kl": "#CC79A7",          # the gap KL(q || p(z|x))
    "data": "#999999",        # observed data points
    "sample": "#56B4E9",      # samples drawn by a method
    "highlight": "#D55E00",   # one point or value singled out
}
COMPONENT_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")


def use_course_style():
    """Set matplotlib defaults for the course's figures (laptop-sized, readable labels)."""
    import matplotlib as mpl

    mpl.rcParams.update({
        "figure.figsize": (7.5, 3.6),
        "figure.dpi": 90,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 10,
        "legend.frameon": False,
    })


def ellipse_points(mean, cov, n_std=2.0, n_points=100):
    """Points on the n_std contour of a 2-D Gaussian: array of shape (n_points, 2).

    mean : (2,). cov : (2, 2) symmetric positive definite (the covariance, not its Cholesky factor).
    n_std : > 0. n_points : whole number in [3, 100000].
    """
    from lvmlib import _checks
    from lvmlib.distributions import cholesky

    mean = _checks.as_float_array(mean, "mean")
    if mean.shape != (2,):
        raise ValueError(f"mean must have shape (2,) (a 2-D Gaussian), got {mean.shape}.")
    cov = _checks.as_float_array(cov, "cov")
    if cov.shape != (2, 2):
        raise ValueError(f"cov must have shape (2, 2) to match mean, got {cov.shape}.")
    n_std = float(_checks.positive(_checks.finite_scalar(n_std, "n_std"), "n_std"))
    n_points = _checks.positive_int(n_points, "n_points", minimum=3, maximum=100_000)
    t = np.linspace(0, 2 * np.pi, n_points)
    L = cholesky(cov, "cov")
    return mean + n_std * np.stack([np.cos(t), np.sin(t)], axis=1) @ L.T
