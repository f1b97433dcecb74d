"""Building blocks for the course's explorers.

An explorer is two layers: a plain *update function* of the slider values that returns the numbers it shows
(tests call it directly), and a thin ipywidgets front end that calls it and redraws existing matplotlib artists.
Figures are rendered to PNG into an ``ipywidgets.Image``, so they also show in a notebook saved with its widget
state (GitHub, HTML export) without a running kernel.
"""

import functools
import html
import struct
import time
import zlib


class LiveFigure:
    """A matplotlib Figure shown as an ``ipywidgets.Image`` and re-rendered on :meth:`refresh`.

    Create the figure with ``matplotlib.figure.Figure`` (not pyplot), so it is never displayed twice. Update
    its artists (``set_data``, ``set_ydata`` ...) and call :meth:`refresh` (or :meth:`render` for the PNG alone, to
    show later). ``last_render_ms`` records the cost.

    With ``animated`` artists, refreshes blit: everything else (axes, ticks, labels, contour maps) is drawn once and
    cached as a background, and a refresh pastes it and draws only the animated artists (a few ms instead of tens).
    Call ``refresh(full=True)`` after changing axis limits or any artist not listed as animated. Axes listed in
    ``redrawn_axes`` may change their limits and titles between refreshes: ``refresh(axes=True)`` draws just them
    again, over a background cached without them, instead of the whole figure. Artists in ``redrawn_artists``
    change only when that happens: they are drawn on top like animated ones, but into the cached background, so
    that a plain refresh does not draw them again.
    """

    def __init__(self, fig, dpi=80, animated=(), redrawn_axes=(), redrawn_artists=()):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig = fig
        fig.set_dpi(dpi)  # render at the figure's own dpi: savefig at another dpi would draw twice
        FigureCanvasAgg(fig)
        self.animated = list(animated)
        self.redrawn_artists = list(redrawn_artists)
        for artist in self.animated + self.redrawn_artists:
            artist.set_animated(True)  # left out of canvas.draw(): drawn explicitly, on top
        self._background = None
        self.redrawn_axes = list(redrawn_axes)
        self._without_axes = None  # the figure without ``redrawn_axes``, redrawn_artists and animated artists
        # max_width + height auto: on a narrow notebook the PNG scales down instead of being clipped
        import ipywidgets as widgets

        self.widget = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto", min_width="0"))
        self.last_render_ms = float("nan")
        self.refresh(full=True)

    def refresh(self, full=False, axes=False):
        """Render the figure and push the PNG to the browser: only its animated artists, or with ``axes`` also the
        ``redrawn_axes`` and ``redrawn_artists``, or with ``full`` everything."""
        self.widget.value = self.render(full=full, axes=axes)

    def render(self, full=False, axes=False):
        """The PNG (bytes) that :meth:`refresh` would show, without sending it: for frames rendered ahead."""
        import numpy as np

        start = time.perf_counter()
        canvas = self.fig.canvas
        if full or not self.animated or self._background is None:
            if self.redrawn_axes:
                self._without_axes = self._draw_without(self.redrawn_axes)
            canvas.draw()
            if not self.redrawn_axes:  # nothing to leave out: what refresh(axes=True) starts from
                self._without_axes = canvas.copy_from_bbox(self.fig.bbox)
            self._background = self._cache_background()
        elif axes:
            canvas.restore_region(self._without_axes)
            for ax in self.redrawn_axes:
                self.fig.draw_artist(ax)  # an Axes draws its children but the animated ones
            self._background = self._cache_background()
        else:
            canvas.restore_region(self._background)
        for artist in self.animated:
            self.fig.draw_artist(artist)
        png = png_bytes(np.asarray(canvas.buffer_rgba()))
        self.last_render_ms = 1e3 * (time.perf_counter() - start)
        return png

    def _cache_background(self):
        """Draw the redrawn_artists over the canvas; return it as the background plain refreshes restore."""
        for artist in self.redrawn_artists:
            self.fig.draw_artist(artist)
        return self.fig.canvas.copy_from_bbox(self.fig.bbox) if self.animated else None

    def _draw_without(self, hidden):
        """The canvas drawn with the axes ``hidden`` left out, as a region to restore later."""
        for ax in hidden:
            ax.set_visible(False)
        try:
            self.fig.canvas.draw()
            return self.fig.canvas.copy_from_bbox(self.fig.bbox)
        finally:
            for ax in hidden:
                ax.set_visible(True)


def png_bytes(rgba):
    """A PNG file (bytes) of an (h, w, 4) uint8 RGBA image: no row filters, deflate level 1.

    Plots are mostly flat colour, which deflate compresses well without PNG's per-row filters; skipping them (and
    the RGB copy) encodes a 840 x 310 explorer figure in ~3 ms with zlib instead of Pillow's ~8 ms, for ~20% more
    bytes. The deflate is zlib-ng's where it is installed (a dependency of lvmlib; standard zlib streams, 3-4x
    faster at level 1 on the explorers' figures here: 0.6-1.0 ms against 2.5-3.2 ms, for ~20% more bytes), else
    Python's zlib.
    """
    h, w, channels = rgba.shape
    if channels != 4 or rgba.dtype.name != "uint8":
        raise ValueError(f"rgba must be an (h, w, 4) uint8 array, got shape {rgba.shape} and dtype {rgba.dtype}.")
    import numpy as np

    rows = np.zeros((h, 1 + 4 * w), dtype=np.uint8)  # each row starts with its filter type, 0 = none
    rows[:, 1:] = rgba.reshape(h, -1)
    header = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)  # 8 bits per channel, colour type 6 = RGBA
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", _deflate()(rows.tobytes(), 1)) + _png_chunk(b"IEND", b""))


@functools.cache
def _deflate():
    """compress(data, level) giving a zlib stream: zlib-ng's if importable, else the standard library's."""
    try:
        from zlib_ng import zlib_ng
    except ImportError:
        return zlib.compress
    return zlib_ng.compress


def _png_chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def readout_html(values, title=None):
    """HTML table of named numbers to 4 decimals; each value sits in ``<span data-name=...>`` for browser tests.

    values : dict mapping a display label to a (name, number) pair, e.g. {"ELBO": ("elbo", -1.2345)}.
    title : optional text shown in bold above the table. Labels, names and the title are plain text: they are
        HTML-escaped, so a "<" in them shows as "<" instead of breaking (or injecting into) the page.
    """
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string or None, got {type(title).__name__}.")
    if not isinstance(values, dict):
        raise TypeError(f"values must be a dict {{label: (name, number)}}, got {type(values).__name__}.")
    rows = []
    for label, pair in values.items():
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ValueError(f"values[{label!r}] must be a (name, number) pair, got {pair!r}.")
        name, number = pair
        try:  # numbers, numpy scalars and 0-d arrays; NaN is shown as nan (an undefined readout)
            number = float(number) if not isinstance(number, (str, bytes, complex)) else None
        except (TypeError, ValueError):
            number = None
        if number is None:
            raise TypeError(f"values[{label!r}] must hold a real number, got {pair[1]!r}.")
        rows.append(
            f"<tr><td style='padding-right:1em'>{html.escape(str(label))}</td>"
            f"<td style='text-align:right;font-family:monospace'><span class='lvm-readout' "
            f"data-name='{html.escape(str(name), quote=True)}'>{number:.4f}</span></td></tr>"
        )
    head = f"<b>{html.escape(str(title))}</b>" if title else ""
    return f"{head}<table>{''.join(rows)}</table>"


def slider(label, min, max, value, step, continuous_update=True, readout_format=".2f", integer=False):
    """A labelled slider (float, or integer with ``integer=True``) sized for the course's explorers.

    Raises ValueError when ``value`` lies outside [min, max] or ``step`` is not positive (ipywidgets would clamp
    the value without a word), and when ``integer=True`` gets a value that is not a whole number.
    """
    import ipywidgets as widgets

    _check_slider(label, min, max, value, step, integer)
    cls = widgets.IntSlider if integer else widgets.FloatSlider
    kwargs = {} if integer else {"readout_format": readout_format}
    return cls(
        value=value, min=min, max=max, step=step, description=label, continuous_update=continuous_update,
        style={"description_width": "initial"}, layout=widgets.Layout(width="320px"), **kwargs,
    )


def reset_button(controls):
    """A button that puts every control in ``controls`` back to the value it had when the button was made."""
    import ipywidgets as widgets

    initial = [(c, c.value) for c in controls]
    button = widgets.Button(description="reset", icon="undo", layout=widgets.Layout(width="90px"))

    def on_click(_):
        for control, value in initial:
            control.value = value

    button.on_click(on_click)
    return button


def explorer_layout(controls, figure, readout, caption):
    """Caption on top, controls and readout on the left, the figure on the right.

    The row wraps: where the notebook is too narrow for both (a 1280-px laptop window with the file browser
    open), the figure moves below the controls, and scales down to the cell's width rather than being clipped.
    """
    import ipywidgets as widgets

    left = widgets.VBox([*controls, readout], layout=widgets.Layout(min_width="340px", flex="0 0 auto"))
    row = widgets.HBox([left, figure.widget], layout=widgets.Layout(flex_flow="row wrap", width="100%"))
    return widgets.VBox([widgets.HTML(f"<i>{caption}</i>"), row], layout=widgets.Layout(width="100%"))


def _check_slider(label, lo, hi, value, step, integer):
    """Refuse slider settings ipywidgets would silently clamp or round, naming the slider and the parameter."""
    from lvmlib import _checks

    if not isinstance(label, str):
        raise TypeError(f"slider label must be a string, got {type(label).__name__}.")
    step = _checks.finite_scalar(step, f"slider {label!r}: step")
    lo, hi = _checks.finite_scalar(lo, f"slider {label!r}: min"), _checks.finite_scalar(hi, f"slider {label!r}: max")
    if not lo < hi:
        raise ValueError(f"slider {label!r}: min must be < max, got min = {lo:g}, max = {hi:g}.")
    _checks.positive(step, f"slider {label!r}: step")
    number = _checks.in_range(value, f"slider {label!r}: value", lo, hi)
    if integer:
        for name, v in (("min", lo), ("max", hi), ("value", number), ("step", step)):
            _checks.positive_int(v, f"slider {label!r}: {name}", minimum=-_checks.MAX_COUNT)
