"""Chapter 03 explorer: the update function over every slider's range, and the front end."""

import numpy as np
import pytest

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


def test_signed_error_and_verdict():
    s = G.grid_explorer_state(*G.EXPLORER_DEFAULTS.values())
    assert s.error == s.log_px_grid - s.log_px and s.abs_error == abs(s.error)
    assert s.verdict == "overestimates" and s.error > 0.1  # the default grid overestimates, and says so
    assert G.grid_explorer_state(2.0, 3, 4.0).verdict == "underestimates"
    assert G.grid_explorer_state(2.0, 60, 5.0).verdict == "matches"


def test_two_d_counts_against_a_tensor_grid():
    """points_2d = m^2; useful_2d counted independently on the 2-D product posterior; the 2-D tensor trapezoid
    estimate of log p(x, x) is exactly twice the 1-D one (the integrand is a product)."""
    from lvmlib.examples import NonlinearModel1D
    from lvmlib.marginal import log_p_x_grid

    model = NonlinearModel1D()
    x, m, L = 3.0, 15, 4.0
    s = G.grid_explorer_state(x, m, L)
    assert (s.points_2d, s.points_10d) == (m**2, m**10)
    z = np.linspace(-L, L, m)
    Z1, Z2 = np.meshgrid(z, z)
    log_post = (model.log_p_xz(np.array([[x]]), Z1.reshape(-1, 1, 1))[:, 0]
                + model.log_p_xz(np.array([[x]]), Z2.reshape(-1, 1, 1))[:, 0])
    assert s.useful_2d == int(np.sum(log_post > log_post.max() + np.log(G.USEFUL)))

    class TwoCopies:  # z = (z_1, z_2), x = (x_1, x_2), p(x, z) = p(x_1, z_1) p(x_2, z_2)
        d_z = 2

        def log_p_xz(self, x, z):
            return (model.log_p_xz(x[:, :1], z[..., :1]) + model.log_p_xz(x[:, 1:], z[..., 1:]))

    two_d = log_p_x_grid(TwoCopies(), np.array([[x, x]]), -L, L, m)[0]
    assert two_d == pytest.approx(2 * s.log_px_grid, abs=1e-10)


def test_try_this_answers_come_from_the_update_function():
    answers = {k: f() for k, f in G.try_this_answers().items()}
    s = G.grid_explorer_state(*G.EXPLORER_DEFAULTS.values())
    assert f"{s.error:+.4f}" in answers["1"] and "overestimates" in answers["1"]
    assert f"{G.grid_explorer_state(2.0, 3, 4.0).error:+.4f}" in answers["2"]
    assert f"{G.grid_explorer_state(6.0, 7, 0.8).error:+.4f}" in answers["3"]
    m = G.smallest_m(2.0, 4.0, 1e-4)
    assert G.grid_explorer_state(2.0, m, 4.0).abs_error < 1e-4 <= G.grid_explorer_state(2.0, m - 1, 4.0).abs_error
    assert f"from m = {m} on" in answers["4"]


def test_front_end_readout_shows_direction_and_cost():
    box = G.grid_explorer()
    x_slider, m_slider, L_slider, reset, readout = box.children[1].children[0].children
    assert "overestimates" in readout.value and "data-name='error'" in readout.value
    m_slider.value = 12
    assert "data-name='points_2d'>144<" in readout.value
