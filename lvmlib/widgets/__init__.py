"""Building blocks for the course's explorers.

An explorer is two layers: a plain *update function* of the slider values that returns the numbers it shows
(tests call it directly), and a thin ipywidgets front end that calls it and redraws existing matplotlib artists.
Figures are rendered to PNG into an ``ipywidgets.Image``, so they also show in a notebook saved with its widget
state (GitHub, HTML export) without a running kernel.
"""

import io
import time

import ipywidgets as widgets


class LiveFigure:
    """A matplotlib Figure shown as an ``ipywidgets.Image`` and re-rendered on :meth:`refresh`.

    Create the figure with ``matplotlib.figure.Figure`` (not pyplot), so it is never displayed twice. Update
    its artists (``set_data``, ``set_ydata`` ...) and call :meth:`refresh`. ``last_render_ms`` records the cost.

    With ``animated`` artists, refreshes blit: everything else (axes, ticks, labels, contour maps) is drawn once and
    cached as a background, and a refresh pastes it and draws only the animated artists (a few ms instead of tens).
    Call ``refresh(full=True)`` after changing axis limits or any artist not listed as animated.
    """

    def __init__(self, fig, dpi=80, animated=()):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig = fig
        fig.set_dpi(dpi)  # render at the figure's own dpi: savefig at another dpi would draw twice
        FigureCanvasAgg(fig)
        self.animated = list(animated)
        for artist in self.animated:
            artist.set_animated(True)
        self._background = None
        # max_width + height auto: on a narrow notebook the PNG scales down instead of being clipped
        self.widget = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto", min_width="0"))
        self.last_render_ms = float("nan")
        self.refresh(full=True)

    def refresh(self, full=False):
        """Render the figure (only its animated artists, unless ``full``) and push the PNG to the browser."""
        import numpy as np
        from PIL import Image

        start = time.perf_counter()
        canvas = self.fig.canvas
        if full or not self.animated or self._background is None:
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox) if self.animated else None
        else:
            canvas.restore_region(self._background)
        for artist in self.animated:
            self.fig.draw_artist(artist)
        buf = io.BytesIO()
        Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3]).save(buf, format="png", compress_level=1)
        self.widget.value = buf.getvalue()
        self.last_render_ms = 1e3 * (time.perf_counter() - start)


def readout_html(values, title=None):
    """HTML table of named numbers to 4 decimals; each value sits in ``<span data-name=...>`` for browser tests.

    values : dict mapping a display label to a (name, number) pair, e.g. {"ELBO": ("elbo", -1.2345)}.
    """
    rows = "".join(
        f"<tr><td style='padding-right:1em'>{label}</td>"
        f"<td style='text-align:right;font-family:monospace'><span class='lvm-readout' data-name='{name}'>"
        f"{number:.4f}</span></td></tr>"
        for label, (name, number) in values.items()
    )
    head = f"<b>{title}</b>" if title else ""
    return f"{head}<table>{rows}</table>"


def slider(label, min, max, value, step, continuous_update=True, readout_format=".2f", integer=False):
    """A labelled slider (float, or integer with ``integer=True``) sized for the course's explorers."""
    cls = widgets.IntSlider if integer else widgets.FloatSlider
    kwargs = {} if integer else {"readout_format": readout_format}
    return cls(
        value=value, min=min, max=max, step=step, description=label, continuous_update=continuous_update,
        style={"description_width": "initial"}, layout=widgets.Layout(width="320px"), **kwargs,
    )


def reset_button(controls):
    """A button that puts every control in ``controls`` back to the value it had when the button was made."""
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
    left = widgets.VBox([*controls, readout], layout=widgets.Layout(min_width="340px", flex="0 0 auto"))
    row = widgets.HBox([left, figure.widget], layout=widgets.Layout(flex_flow="row wrap", width="100%"))
    return widgets.VBox([widgets.HTML(f"<i>{caption}</i>"), row], layout=widgets.Layout(width="100%"))
