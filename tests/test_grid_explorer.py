"""Chapter 03 explorer: the update function over every slider's range, and the front end."""

import numpy as np

from lvmlib.widgets import grid_explorer as G


def test_explorer_state_is_finite_over_the_slider_ranges():
    lo_x, hi_x, _ = G.EXPLORER_RANGES["x"]
    lo_m, hi_m, _ = G.EXPLORER_RANGES["m"]
    lo_L, hi_L, _ = G.EXPLORER_RANGES["L"]
    for x in (lo_x, 2.0, hi_x):
        for m in (lo_m, 7, hi_m):
            for L in (lo_L, 4.0, hi_L):
                s = G.grid_explorer_state(x, m, L)
                assert np.isfinite([s.log_px, s.log_px_grid, s.abs_error]).all()
                assert s.grid.shape == s.p_xz_grid.shape == (m,)


def test_explorer_state_converges_for_a_fine_wide_grid():
    s = G.grid_explorer_state(2.0, 60, 5.0)
    assert s.abs_error < 1e-6


def test_explorer_front_end_builds_and_updates():
    box = G.grid_explorer()
    left = box.children[1].children[0]
    x_slider, m_slider, L_slider, reset, readout = left.children
    assert "data-name='log_px'" in readout.value and "data-name='abs_error'" in readout.value
    for name, control in zip("xmL", (x_slider, m_slider, L_slider), strict=True):  # start, range and step
        assert control.value == G.EXPLORER_DEFAULTS[name]
        assert (control.min, control.max, control.step) == G.EXPLORER_RANGES[name]
    m_slider.value, L_slider.value = 3, 2.5
    s = G.grid_explorer_state(x_slider.value, 3, 2.5)
    assert f"data-name='abs_error'>{s.abs_error:.4f}<" in readout.value
    reset.click()
    assert (m_slider.value, L_slider.value) == (G.EXPLORER_DEFAULTS["m"], G.EXPLORER_DEFAULTS["L"])
