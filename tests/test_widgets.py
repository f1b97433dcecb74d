import numpy as np
import pytest
from matplotlib.figure import Figure

from lvmlib.widgets import LiveFigure, readout_html, reset_button, slider


def test_live_figure_renders_png_and_rerenders_after_an_update():
    fig = Figure(figsize=(2, 2))
    (line,) = fig.add_subplot().plot([0, 1], [0, 1])
    live = LiveFigure(fig, dpi=50)
    first = live.widget.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    line.set_ydata([1, 0])
    live.refresh()
    assert live.widget.value != first and np.isfinite(live.last_render_ms)


def test_readout_html_shows_four_decimals_in_named_spans():
    html = readout_html({"ELBO": ("elbo", -1.23456789)})
    assert "data-name='elbo'>-1.2346</span>" in html


def test_reset_button_restores_initial_values():
    s = slider("μ_q", -3.0, 3.0, 0.5, 0.1)
    button = reset_button([s])
    s.value = 2.0
    button.click()
    assert s.value == 0.5


def test_blit_refresh_draws_the_same_picture_as_a_full_redraw():
    import io

    from PIL import Image

    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    (line,) = ax.plot([0, 1], [0, 1])
    live = LiveFigure(fig, dpi=50, animated=[line])
    line.set_data([0, 1], [1, 0])
    live.refresh()
    blitted = np.asarray(Image.open(io.BytesIO(live.widget.value)))
    live.refresh(full=True)
    full = np.asarray(Image.open(io.BytesIO(live.widget.value)))
    assert np.array_equal(blitted, full) and live.last_render_ms < 1000


def test_png_bytes_decodes_to_the_same_pixels():
    """The explorers' own PNG writer: Pillow (an independent decoder) reads back exactly the figure's pixels."""
    import io

    from PIL import Image

    from lvmlib.widgets import png_bytes

    rgba = np.random.default_rng(0).integers(0, 256, (7, 5, 4), dtype=np.uint8)  # odd sizes, every byte value
    decoded = Image.open(io.BytesIO(png_bytes(rgba)))
    assert decoded.mode == "RGBA" and decoded.size == (5, 7)
    assert np.array_equal(np.asarray(decoded), rgba)
    with pytest.raises(ValueError, match="rgba must be an \\(h, w, 4\\) uint8 array"):
        png_bytes(rgba[..., :3])


def test_png_bytes_deflates_with_zlib_ng_and_falls_back_to_zlib(monkeypatch):
    """zlib-ng (a dependency) does the deflate; without it, the standard library's zlib gives the same pixels."""
    import io
    import sys
    import zlib

    from PIL import Image
    from zlib_ng import zlib_ng

    from lvmlib import widgets

    rgba = np.random.default_rng(1).integers(0, 256, (9, 6, 4), dtype=np.uint8)
    rgba[:4] = 255  # a flat band as in a plot, plus noise
    widgets._deflate.cache_clear()
    calls = []
    monkeypatch.setattr(zlib_ng, "compress", lambda data, level: calls.append(level) or zlib.compress(data, level))
    fast = widgets.png_bytes(rgba)
    assert calls == [1], "png_bytes must deflate with zlib-ng (level 1) when it is installed"
    widgets._deflate.cache_clear()
    monkeypatch.setitem(sys.modules, "zlib_ng", None)  # as if not installed: the import fails
    plain = widgets.png_bytes(rgba)
    widgets._deflate.cache_clear()
    for png in (fast, plain):
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), rgba)


def test_redrawn_axes_refresh_draws_the_same_picture_as_a_full_redraw():
    """refresh(axes=True) redraws one panel (new limits, new title) over a background cached without it: the
    picture must equal a full redraw, pixel for pixel, including the other panel and the animated artists."""
    import io

    import matplotlib
    from PIL import Image

    from lvmlib.plotting import use_course_style

    with matplotlib.rc_context():
        use_course_style()  # the notebooks' style, as in a full test run, restored afterwards
        fig = Figure(figsize=(6, 2))
        left, right = fig.subplots(1, 2, gridspec_kw={"wspace": 0.6})  # panels apart: where two panels' pixels
        # overlap, antialiased edges blend in drawing order, which a partial redraw changes (1 pixel, 3 levels, seen)
        (line,) = left.plot([0, 1], [0, 1])
        (dots,) = right.plot([0, 1], [1, 0], "o")
        right.set(xlim=(-1, 2), ylim=(-1, 2), title="static")
        live = LiveFigure(fig, dpi=50, animated=[line, dots], redrawn_axes=[left])
        line.set_data([0, 5], [0, 30])
        left.set(xlim=(0, 5), ylim=(0, 30), title="x = 5")
        dots.set_data([0.5], [0.5])
        live.refresh(axes=True)
        partial = np.asarray(Image.open(io.BytesIO(live.widget.value)))
        live.refresh()  # a plain blit afterwards starts from the redrawn panel, not the first one
        blitted = np.asarray(Image.open(io.BytesIO(live.widget.value)))
        live.refresh(full=True)
        full = np.asarray(Image.open(io.BytesIO(live.widget.value)))
        assert np.array_equal(partial, full) and np.array_equal(blitted, full)


@pytest.mark.parametrize("with_axes", [True, False])
def test_redrawn_artists_change_with_an_axes_refresh_only(with_axes):
    """An artist in redrawn_artists is drawn into the cached background: refresh(axes=True) shows its new state
    exactly as a full redraw does, and a plain refresh keeps the cached one (it is not drawn on every blit)."""
    import io

    from PIL import Image

    def picture(live):
        return np.asarray(Image.open(io.BytesIO(live.widget.value)))

    fig = Figure(figsize=(6, 2))
    left, right = fig.subplots(1, 2, gridspec_kw={"wspace": 0.6})
    (line,) = left.plot([0, 1], [0, 1])
    image = right.imshow(np.zeros((4, 4)), vmin=0, vmax=1, extent=(0, 1, 0, 1))
    (dots,) = right.plot([0.2], [0.2], "o")
    live = LiveFigure(fig, dpi=50, animated=[dots], redrawn_axes=[left] if with_axes else [],
                      redrawn_artists=[image, line])
    first = picture(live)
    image.set_data(np.eye(4))
    line.set_data([0, 1], [1, 0])
    live.refresh(axes=True)
    partial = picture(live)
    assert not np.array_equal(partial, first), "the redrawn artists' new state is not shown"
    live.refresh(full=True)
    assert np.array_equal(partial, picture(live))
    image.set_data(np.ones((4, 4)))  # changed without refresh(axes=True): a plain refresh keeps the cached image
    live.refresh()
    assert np.array_equal(partial, picture(live))
