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
    # against the posterior's own peak, found here with scipy (this grid passes near both modes, so also its max)
    from scipy import optimize

    peak = max(-optimize.minimize_scalar(lambda z: -model.log_p_xz(np.array([[x]]), np.array([[[z]]]))[0, 0],
                                         bracket=br).fun for br in ((-3, -1.9, -1), (1, 1.6, 3)))
    assert s.useful_2d == int(np.sum(log_post > 2 * peak + np.log(G.USEFUL)))
    assert s.useful_2d == int(s.useful_mask_2d.sum()) and s.useful_mask_2d.shape == (m, m)

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
    # the modes named in answers 1 and 3 are the posterior's (Laplace's mode search), not the roots of z^2 + b z = x
    from lvmlib import laplace
    from lvmlib.examples import NonlinearModel1D

    for x, starts in ((2.0, (1.0, -1.0)), (6.0, (2.0, -2.0))):
        for z0 in starts:
            mode = laplace.laplace(laplace.log_joint_fn(NonlinearModel1D(), [x]), z0).mode[0]
            assert f"z = {mode:.2f}" in answers["3"], (x, mode, answers["3"])


def test_front_end_readout_shows_direction_and_cost():
    box = G.grid_explorer()
    x_slider, m_slider, L_slider, reset, readout = box.children[1].children[0].children
    assert "overestimates" in readout.value and "data-name='error'" in readout.value
    m_slider.value = 12
    assert "data-name='points_2d'>144<" in readout.value


@pytest.mark.parametrize(("x", "m", "L"), [(6.0, 60, 0.5), (6.0, 2, 8.0), (-1.0, 2, 8.0)])
def test_a_grid_that_misses_the_posterior_has_no_useful_points(x, m, L):
    """At the sliders' extremes the grid can miss every mode (x = 6 with L = 0.5; m = 2 puts points at +-8 only):
    no 2-D point is then "where the posterior matters". Judged against the grid's own best point (the old rule)
    one or more always counted, and the readout claimed points that matter."""
    s = G.grid_explorer_state(x, m, L)
    assert s.useful_2d == 0 and np.isfinite([s.log_px_grid, s.error]).all() and s.error < -1.0


def test_front_end_update_at_slider_extremes_has_no_nan_or_warning():
    """Every p(x, z) on the grid underflows to 0 at x = -1, m = 2, L = 8: the update once divided 0 by 0."""
    import warnings

    box = G.grid_explorer()
    x_slider, m_slider, L_slider, reset, readout = box.children[1].children[0].children
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x, m, L in [(-1.0, 2, 8.0), (6.0, 60, 0.5), (6.0, 2, 0.5), (-1.0, 60, 8.0)]:
            x_slider.value, m_slider.value, L_slider.value = x, m, L
            s = G.grid_explorer_state(x, m, L)
            assert "nan" not in readout.value.lower() and f"data-name='useful_2d'>{s.useful_2d}<" in readout.value


def test_useful_count_needs_no_m_by_m_table():
    """m goes up to 1e6: the count of useful 2-D points is formed without an (m, m) table, and agrees with it."""
    for x, m, L in [(3.0, 15, 4.0), (2.0, 60, 8.0), (-1.0, 2, 0.5), (6.0, 60, 0.5)]:
        s = G.grid_explorer_state(x, m, L)
        assert s.useful_2d == int(s.useful_mask_2d.sum())
    big = G.grid_explorer_state(2.0, 200_000, 4.0)  # a (2e5)^2 table would need 40 GB
    assert big.useful_mask_2d is None and 0 < big.useful_2d < big.points_2d
