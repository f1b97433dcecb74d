import numpy as np
import pytest

from lvmlib.logspace import log_mean_exp, log_trapezoid, normalize_log


def test_log_mean_exp_matches_direct_computation():
    w = np.array([[0.1, 2.0, -1.0], [3.0, 3.0, 3.0]])
    np.testing.assert_allclose(log_mean_exp(w, axis=1), np.log(np.exp(w).mean(axis=1)), rtol=1e-12)


def test_log_mean_exp_is_finite_for_very_negative_log_weights():
    out = log_mean_exp(np.array([-1e4, -1e4 - 1.0]))
    assert np.isfinite(out)
    np.testing.assert_allclose(out, -1e4 + np.log((1 + np.exp(-1.0)) / 2), rtol=1e-12)


def test_log_trapezoid_of_a_gaussian_density_is_zero():
    z = np.linspace(-12, 12, 2001)
    log_f = -0.5 * z**2 - 0.5 * np.log(2 * np.pi)
    assert abs(log_trapezoid(log_f, z)) < 1e-12


def test_log_trapezoid_matches_numpy_trapezoid_on_a_batch():
    z = np.linspace(0, 1, 11)
    log_f = np.log(np.stack([1 + z, 2 + z**2]))
    np.testing.assert_allclose(np.exp(log_trapezoid(log_f, z)), np.trapezoid(np.exp(log_f), z, axis=-1))


@pytest.mark.parametrize(
    "grid, message", [(np.array([0.0]), "at least 2 points"), (np.array([1.0, 0.0]), "increasing")]
)
def test_log_trapezoid_rejects_bad_grids(grid, message):
    with pytest.raises(ValueError, match=message):
        log_trapezoid(np.zeros(grid.size), grid)


def test_normalize_log_rows_sum_to_one():
    p = np.exp(normalize_log(np.array([[-1000.0, -1001.0], [0.0, 5.0]])))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: log_mean_exp(np.array([])), "at least one entry"),
        (lambda: log_mean_exp(np.array([0.0, np.nan])), "log_w contains NaN"),
        (lambda: log_trapezoid(np.zeros(3), np.arange(4.0)), "grid along its last axis"),
        (lambda: normalize_log(np.array([-np.inf, -np.inf])), "cannot be normalized"),
    ],
)
def test_bad_inputs_raise_with_the_parameter_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
