"""Chapter 01 explorer: its update logic over every slider's full range, its model, and its wiring."""

import io
import time

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import expit

from lvmlib.examples import SigmoidDLVM
from lvmlib.widgets import dlvm_explorer as X


@pytest.mark.parametrize("param", X.PARAMS)
@pytest.mark.parametrize("where", ["min", "max"])
def test_update_is_finite_and_p_x_is_a_density_at_every_slider_extreme(param, where):
    low, high = X.RANGES[param[0]]
    values = X.DEFAULTS | {param: low if where == "min" else high}
    s = X.dlvm_state(**values)
    assert np.all(np.isfinite(s.px_grid)) and np.all(s.px_grid >= 0)
    assert np.isfinite(s.avg_log_px)
    # the square holds the means (in (0, 1)) plus 3.5 of the largest standard deviations: mass ~ 1
    assert 0.999 < s.mass < 1 + 1e-6


def test_decoder_sd_follows_the_formula_and_spans_its_bounds():
    m = SigmoidDLVM([1.0, 1.0], [2.0, -1.0], [0.0, 0.0], [0.5, -0.5], X.VAR_SCALE, X.LOG_VAR_RANGE)
    z = np.linspace(-3, 3, 7)[:, None]
    _, sd = m.decode(z)
    expected = np.sqrt(X.VAR_SCALE * np.exp(X.LOG_VAR_RANGE * expit(z * np.array([2.0, -1.0]) + [0.5, -0.5])))
    np.testing.assert_allclose(sd, expected, rtol=1e-14)
    lo, hi = m.sd_bounds()
    assert np.all((sd > lo) & (sd < hi))
    assert hi / lo == pytest.approx(np.exp(X.LOG_VAR_RANGE / 2))
    assert isinstance(X.dlvm_state(**X.DEFAULTS).model, SigmoidDLVM)
    assert X.dlvm_state(**X.DEFAULTS).model.log_var_range == X.LOG_VAR_RANGE


def test_b_and_d_sliders_visibly_change_the_widths():
    # the lecture's form (range 1) moves an sd by at most sqrt(e) = 1.65; the explorer's d-slider spans a factor > 3
    lo = X.dlvm_state(**(X.DEFAULTS | {"d1": X.RANGES["d"][0]})).sd_curve[:, 0]
    hi = X.dlvm_state(**(X.DEFAULTS | {"d1": X.RANGES["d"][1]})).sd_curve[:, 0]
    assert np.all(hi > lo) and np.max(hi / lo) > 3
    assert hi.max() / lo.min() > 3.5
    # b changes how the width depends on z: wider for z > 0 and narrower for z < 0 when b1 grows (from 0)
    flat = X.dlvm_state(**(X.DEFAULTS | {"b1": 0.0})).sd_curve[:, 0]
    steep = X.dlvm_state(**(X.DEFAULTS | {"b1": 4.0}))
    z = steep.z_curve
    assert np.all(steep.sd_curve[z > 0, 0] > flat[z > 0]) and np.all(steep.sd_curve[z < 0, 0] < flat[z < 0])


def test_density_image_equals_the_model_log_p_x():
    s = X.dlvm_state(**X.DEFAULTS, grid_size=20)
    X1, X2 = np.meshgrid(s.grid, s.grid)
    exact = np.exp(s.model.log_p_x(np.stack([X1.ravel(), X2.ravel()], axis=1)).reshape(20, 20))
    np.testing.assert_allclose(s.px_grid, exact, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("a1, a2", [(6.0, -6.0), (-6.0, 6.0)])
def test_density_image_matches_adaptive_quadrature_at_steep_settings(a1, a2):
    s = X.dlvm_state(**(X.DEFAULTS | {"a1": a1, "a2": a2}), grid_size=9)
    for i, j in [(4, 4), (2, 6), (6, 2)]:
        x = np.array([[s.grid[j], s.grid[i]]])
        f = lambda t, x=x: np.exp(s.model.log_p_xz(x, np.array([[t]]))[0])
        exact, _ = integrate.quad(f, -8, 8, epsabs=0, epsrel=1e-12, limit=400)
        np.testing.assert_allclose(s.px_grid[i, j], exact, rtol=1e-9)


def test_expected_log_p_x_readout_matches_a_monte_carlo_average():
    # E_p(x)[log p(x)] by quadrature vs the average log p(x) of 20 000 ancestral samples (5 standard errors;
    # the sample mean of log p(x) is close to normal here, so a false failure has probability ~6e-7)
    s = X.dlvm_state(**X.DEFAULTS)
    _, x = s.model.sample(20_000, np.random.default_rng(5))
    log_px = s.model.log_p_x(x)
    assert abs(log_px.mean() - s.avg_log_px) < 5 * log_px.std() / np.sqrt(len(x))


def test_samples_map_the_given_noise_through_the_decoder():
    noise = X.draw_noise(np.random.default_rng(3), n_samples=50)
    s = X.dlvm_state(**X.DEFAULTS, noise=noise)
    mu, sd = s.model.decode(noise[0][:, None])
    np.testing.assert_allclose(s.x, mu + sd * noise[1], rtol=1e-14)
    # for a fixed setting, the mapped noise is a sample of p(x | z) at each z: standardized residuals are N(0, 1)
    many = X.draw_noise(np.random.default_rng(4), n_samples=4000)
    t = X.dlvm_state(**X.DEFAULTS, noise=many)
    mu, sd = t.model.decode(t.z[:, None])
    assert stats.kstest(((t.x - mu) / sd).ravel(), "norm").pvalue > 1e-4  # fails for 1 seed in 10 000


def test_same_noise_same_samples_and_a_clear_error_for_a_bad_rng():
    a = X.dlvm_state(**X.DEFAULTS, noise=X.draw_noise(np.random.default_rng(3)))
    b = X.dlvm_state(**X.DEFAULTS, noise=X.draw_noise(np.random.default_rng(3)))
    np.testing.assert_array_equal(a.x, b.x)
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        X.draw_noise(3)
    with pytest.raises(ValueError, match=r"noise must be \(z, eps\) with shapes \(n,\) and \(n, 2\)"):
        X.dlvm_state(**X.DEFAULTS, noise=(np.zeros(5), np.zeros((4, 2))))
    with pytest.raises(ValueError, match="log_var_range must be a finite number >= 0"):
        SigmoidDLVM([0, 0], [0, 0], [0, 0], [0, 0], log_var_range=-1.0)


def _children(box):
    controls = box.children[1].children[0].children
    return controls, box.children[1].children[1], controls[-1]


def test_widget_uses_the_generator_passed_in_and_redraws_when_a_slider_moves():
    box = X.dlvm_explorer(np.random.default_rng(11))
    controls, image, readout = _children(box)
    before_png, before_text = image.value, readout.value
    controls[0].value = -3.0  # a1
    assert image.value != before_png
    expected = X.dlvm_state(**(X.DEFAULTS | {"a1": -3.0}), noise=X.draw_noise(np.random.default_rng(11)))
    assert f"{expected.avg_log_px:.4f}" in readout.value and readout.value != before_text
    assert f"{expected.mass:.4f}" in readout.value
    # the chapter's generator is used: another generator gives another picture for the same sliders
    other = X.dlvm_explorer(np.random.default_rng(12))
    _children(other)[0][0].value = -3.0
    assert _children(other)[1].value != image.value


def test_figure_fits_a_narrow_notebook_and_updates_fast():
    from PIL import Image

    box = X.dlvm_explorer()
    controls, image, _ = _children(box)
    width, height = Image.open(io.BytesIO(image.value)).size
    assert width <= 880 and height <= 400  # ~900 px of notebook width with JupyterLab's file browser open
    times = []
    for v in (2.25, 2.5, 2.75, 3.0, 2.75, 2.5, 2.25):  # b1 one step at a time, as the arrow keys move it
        start = time.perf_counter()
        controls[2].value = v
        times.append(time.perf_counter() - start)
    assert np.median(times) < 0.5  # ~20 ms on a quiet 2-core CPU; generous for a loaded test machine
