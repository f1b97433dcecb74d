"""Latent traversal explorer: move z with sliders and watch the decoded image E[x|z] change.

Controls and readouts (the browser test relies on these names):

- sliders described ``"z1"``, ``"z2"``, ... (one per latent coordinate shown, each over [-z_limit, z_limit], step
  0.1; ``z_limit`` defaults to :func:`z_limit_from_data` of the encoded points shown, else 3);
  coordinates without a slider stay at their value in ``z0``;
- a ``reset`` button;
- readouts ``span.lvm-readout[data-name=...]``: ``pixel_mean`` (the mean over pixels of E[x|z], e.g. the
  average ink probability for a Bernoulli decoder) and ``log_p_z`` (log N(z; 0, I) in nats: how typical z is
  under the prior).

Slider values start on the 0.1 grid (``z0`` is rounded to it), so the sliders' own readouts (two decimals) give z
exactly. When every latent coordinate has a slider (chapter 06: d_z = 2, sliders z1 and z2), ``log_p_z`` is a
function of the slider values alone: a test can check it without the trained decoder,
``log_p_z = -sum_j (z_j^2 + log 2 pi) / 2``.

The update logic, :func:`traversal_update`, is a plain function of the slider values; :func:`traversal_explorer`
is the thin ipywidgets front end. The decoder is passed in as a numpy function (``VAE.decode_numpy``), so this
module never imports torch.
"""

from dataclasses import dataclass

import numpy as np

from lvmlib.distributions import log_normal_diag

Z_LIMIT = 3.0  # the slider range without data: the prior's +-3 standard deviations
Z_STEP = 0.1


def z_limit_from_data(z_points, coverage=0.99, floor=Z_LIMIT):
    """A slider range that holds the data: the ``coverage`` quantile of max_j |z_j| over the points, rounded up to
    a multiple of 0.5, and at least ``floor`` (so the prior's +-3 stays reachable).

    z_points : (n, d) encoded data (e.g. the encoder's means). A trained encoder's means need not stay within
    the prior's +-3: the range comes from where they are, not from p(z).
    """
    from lvmlib import _checks

    z = _checks.as_numeric(z_points, "z_points").astype(float)
    coverage = _checks.finite_scalar(coverage, "coverage")
    if z.ndim != 2 or z.shape[0] == 0 or not np.all(np.isfinite(z)):
        raise ValueError(f"z_points must be a finite (n, d) array with n >= 1, got shape {z.shape}.")
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage must be in (0, 1], got {coverage}.")
    reach = float(np.quantile(np.abs(z).max(axis=1), coverage))
    return max(float(floor), np.ceil(reach / 0.5) * 0.5)


@dataclass
class TraversalView:
    """What the explorer shows for one z: the image (h, w), its mean pixel value and log p(z)."""

    z: np.ndarray
    image: np.ndarray
    pixel_mean: float
    log_p_z: float


def traversal_update(decode, z, image_shape):
    """Decode one latent point.

    Parameters
    ----------
    decode : function mapping z of shape (n, d_z) to E[x|z] of shape (n, d_x) (numpy in, numpy out).
    z : (d_z,) the latent point (the slider values, plus the fixed coordinates).
    image_shape : (h, w) with h * w = d_x.

    Returns
    -------
    :class:`TraversalView`. Raises ValueError for a non-finite z or a decoder output of the wrong size.
    """
    from lvmlib import _checks

    z = _checks.as_numeric(z, "z").astype(float).reshape(-1)
    if not np.all(np.isfinite(z)):
        raise ValueError(f"z must be finite, got {z}.")
    if not callable(decode):
        raise _checks.InputTypeError(f"decode must be a function z -> E[x|z], got {type(decode).__name__}.")
    if not (isinstance(image_shape, (tuple, list)) and len(image_shape) == 2):
        raise _checks.InputTypeError(f"image_shape must be a tuple (h, w), got {image_shape!r}.")
    image_shape = tuple(_checks.positive_int(v, "image_shape entries") for v in image_shape)
    out = np.asarray(decode(z[None, :]), dtype=float)
    h, w = image_shape
    if out.size != h * w:
        raise ValueError(f"decode returned {out.size} values, but image_shape {image_shape} needs {h * w}; "
                         "pass the decoder's image shape.")
    image = out.reshape(h, w)
    return TraversalView(z, image, float(image.mean()), float(log_normal_diag(z, 0.0, 1.0)))


def _check_start(d_z, z0, n_sliders):
    """Validated starting point z0 (d_z,) and slider count 1 <= n_sliders <= d_z (default min(d_z, 4))."""
    from lvmlib import _checks

    d_z = _checks.positive_int(d_z, "d_z", maximum=10_000)  # 2.5 is refused, not truncated to 2
    z0 = np.zeros(d_z) if z0 is None else np.asarray(z0, dtype=float).reshape(-1).copy()
    if z0.shape != (d_z,) or not np.all(np.isfinite(z0)):
        raise ValueError(f"z0 must hold d_z = {d_z} finite values, got shape {z0.shape}; pass one value per latent.")
    if n_sliders is not None:
        n_sliders = _checks.positive_int(n_sliders, "n_sliders", minimum=0, maximum=None)
    n_sliders = min(d_z, 4) if n_sliders is None else n_sliders
    if not 1 <= n_sliders <= d_z:
        raise ValueError(f"n_sliders must be between 1 and d_z = {d_z}, got {n_sliders}.")
    return z0, n_sliders


def _readout(view):
    from lvmlib.widgets import readout_html

    return readout_html({"mean pixel E[x|z]": ("pixel_mean", view.pixel_mean),
                         "log p(z) (nats)": ("log_p_z", view.log_p_z)})


def traversal_explorer(decode, d_z, image_shape, z0=None, n_sliders=None, z_points=None, point_colors=None,
                       z_limit=None):
    """Sliders over z -> decoded image, beside the latent plane (z1, z2) with the prior's 1 and 2 sigma circles.

    Parameters
    ----------
    decode, image_shape : as in :func:`traversal_update`. d_z : latent dimension.
    z0 : (d_z,) starting point (default 0); coordinates without a slider keep these values.
    n_sliders : how many leading coordinates get a slider (default min(d_z, 4)).
    z_points, point_colors : optional encoded data (n, d_z) and colours drawn faintly in the latent plane.
    z_limit : the sliders' range [-z_limit, z_limit]; default :func:`z_limit_from_data` of ``z_points`` (the
        coordinates with sliders), or 3 without points.

    Returns an ipywidgets container; ``container.update_ms`` holds the last update time (compute + redraw).
    """
    import time

    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from lvmlib.plotting import COLORS
    from lvmlib.widgets import LiveFigure, explorer_layout, reset_button, slider

    z0, n_sliders = _check_start(d_z, z0, n_sliders)
    if z_limit is None:
        z_limit = Z_LIMIT if z_points is None else z_limit_from_data(np.asarray(z_points)[:, :n_sliders])
    if not (np.isfinite(z_limit) and z_limit > 0):
        raise ValueError(f"z_limit must be a positive number, got {z_limit!r}.")
    z_limit = float(z_limit)
    start = np.round(np.clip(z0[:n_sliders], -z_limit, z_limit) / Z_STEP) * Z_STEP  # on the slider's grid
    sliders = [slider(f"z{j + 1}", -z_limit, z_limit, round(float(v), 1), Z_STEP) for j, v in enumerate(start)]

    def current_z():
        z = z0.copy()
        z[:n_sliders] = [s.value for s in sliders]
        return z

    view = traversal_update(decode, current_z(), image_shape)
    fig = Figure(figsize=(6.4, 3.2))
    ax_z, ax_x = fig.subplots(1, 2)
    t = np.linspace(0, 2 * np.pi, 200)
    for r in (1, 2):
        ax_z.plot(r * np.cos(t), r * np.sin(t), color=COLORS["model"], lw=1, alpha=0.6)
    if z_points is not None and d_z >= 2:
        ax_z.scatter(z_points[:, 0], z_points[:, 1], s=3, c=point_colors, alpha=0.3)
    (marker,) = ax_z.plot([view.z[0]], [view.z[1] if d_z >= 2 else 0.0], "o", ms=9, color=COLORS["highlight"])
    lim = (-z_limit - 0.5, z_limit + 0.5)
    ax_z.set(xlim=lim, ylim=lim, xlabel="$z_1$", ylabel="$z_2$" if d_z >= 2 else "",
             title="z in the latent plane ($p(z)$: 1σ, 2σ)")
    ax_z.set_aspect("equal")
    image = ax_x.imshow(view.image, cmap="gray_r", vmin=0, vmax=1)
    ax_x.set(xticks=[], yticks=[])
    ax_x.set_title("decoded E[x|z]")
    fig.tight_layout()
    live = LiveFigure(fig, animated=[marker, image])  # blit: circles, data points and axes are drawn once
    readout = widgets.HTML(_readout(view))

    def on_change(_):
        start = time.perf_counter()
        v = traversal_update(decode, current_z(), image_shape)
        marker.set_data([v.z[0]], [v.z[1] if d_z >= 2 else 0.0])
        image.set_data(v.image)
        readout.value = _readout(v)
        live.refresh()
        container.update_ms = 1e3 * (time.perf_counter() - start)

    for s in sliders:
        s.observe(on_change, names="value")
    caption = ("Try this: drag z1 and z2 through the clouds of encoded images and watch one digit morph into "
               "another; then go where no point lies, and see what the decoder makes of it.")
    container = explorer_layout([*sliders, reset_button(sliders)], live, readout, caption)
    container.update_ms = float("nan")
    container.z_limit = z_limit
    container.on_change = on_change
    return container
