"""Chapter 01 explorer: its update logic over every slider's full range, and its wiring."""

import numpy as np
import pytest

from lvmlib.widgets import dlvm_explorer as X


@pytest.mark.parametrize("param", X.PARAMS)
@pytest.mark.parametrize("where", ["min", "max"])
def test_update_is_finite_and_p_x_is_a_density_at_every_slider_extreme(param, where):
    low, high = X.RANGES[param[0]]
    values = X.DEFAULTS | {param: low if where == "min" else high}
    s = X.dlvm_state(**values)
    assert np.all(np.isfinite(s.px_grid)) and np.all(s.px_grid >= 0)
    assert np.isfinite(s.avg_log_px)
    # the square [-0.5, 1.5]^2 holds the means (in (0, 1)) plus >= 3 standard deviations (<= 0.165): mass ~ 1
    assert 0.99 < s.mass < 1.001


def test_density_image_equals_the_model_log_p_x():
    s = X.dlvm_state(**X.DEFAULTS, grid_size=20)
    X1, X2 = np.meshgrid(s.grid, s.grid)
    exact = np.exp(s.model.log_p_x(np.stack([X1.ravel(), X2.ravel()], axis=1)).reshape(20, 20))
    np.testing.assert_allclose(s.px_grid, exact, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("a1, a2", [(6.0, -6.0), (-6.0, 6.0)])
def test_density_image_matches_adaptive_quadrature_at_steep_settings(a1, a2):
    from scipy import integrate

    s = X.dlvm_state(**(X.DEFAULTS | {"a1": a1, "a2": a2}), grid_size=9)
    for i, j in [(4, 4), (2, 6), (6, 2)]:
        x = np.array([[s.grid[j], s.grid[i]]])
        f = lambda t, x=x: np.exp(s.model.log_p_xz(x, np.array([[t]]))[0])
        exact, _ = integrate.quad(f, -8, 8, epsabs=0, epsrel=1e-12, limit=400)
        np.testing.assert_allclose(s.px_grid[i, j], exact, rtol=1e-9)


def test_same_seed_same_samples():
    a, b = X.dlvm_state(**X.DEFAULTS, seed=3), X.dlvm_state(**X.DEFAULTS, seed=3)
    np.testing.assert_array_equal(a.x, b.x)


def test_widget_redraws_when_a_slider_moves():
    box = X.dlvm_explorer()
    controls = box.children[1].children[0].children
    image = box.children[1].children[1]
    readout = controls[-1]
    before_png, before_text = image.value, readout.value
    controls[0].value = -3.0  # a1
    assert image.value != before_png
    expected = X.dlvm_state(**(X.DEFAULTS | {"a1": -3.0})).avg_log_px
    assert f"{expected:.4f}" in readout.value and readout.value != before_text
