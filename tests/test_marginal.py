"""Tests for lvmlib.marginal against closed forms, scipy quadrature, brute-force sums and finite differences."""

import itertools

import numpy as np
import pytest
from scipy import integrate, stats

from lvmlib import marginal
from lvmlib.examples import BinaryLatentModel, LinearGaussian, NonlinearModel1D


def linear_gaussian_2d():
    return LinearGaussian(W=[[1.0, 0.5], [-0.3, 1.2], [0.8, 0.2]], b=[0.1, 0.0, -0.2], sigma_x=0.7)


# ---- grids ------------------------------------------------------------------------------------------------------
def test_grid_1d_matches_closed_form_to_1e10():
    model = LinearGaussian()
    x = np.array([[-2.0], [0.3], [3.1]])
    exact = stats.norm(0.0, np.sqrt(1.5**2 + 0.8**2)).logpdf(x[:, 0])  # independent closed form
    got = marginal.log_p_x_grid_1d(model, x, -8.0, 8.0, 101)
    assert np.allclose(got, exact, atol=1e-10, rtol=0)


def test_grid_error_shrinks_with_m():
    model, x = LinearGaussian(), np.array([[1.0]])
    errors = [abs(marginal.log_p_x_grid_1d(model, x, -8, 8, m)[0] - model.log_p_x(x)[0]) for m in (5, 9, 17)]
    assert errors[0] > errors[1] > errors[2]


def test_grid_1d_nonlinear_matches_scipy_quad():
    model, x0 = NonlinearModel1D(), 2.0
    ref, _ = integrate.quad(lambda z: np.exp(model.log_p_xz(np.array([[x0]]), np.array([[z]]))[0]), -10, 10,
                            points=[-1.6, 1.3], limit=200, epsabs=1e-13)
    got = marginal.log_p_x_grid_1d(model, np.array([[x0]]), -10, 10, 4001)[0]
    assert got == pytest.approx(np.log(ref), abs=1e-8)


def test_grid_2d_matches_closed_form_to_1e8():
    model = linear_gaussian_2d()
    x = model.sample(4, np.random.default_rng(3))[1]
    assert np.allclose(marginal.log_p_x_grid(model, x, -7.0, 7.0, 61), model.log_p_x(x), atol=1e-8, rtol=0)


def test_grid_2d_agrees_with_1d_for_d_z_1():
    model, x = LinearGaussian(), np.array([[0.4], [-1.0]])
    assert np.allclose(marginal.log_p_x_grid(model, x, -8, 8, 41), marginal.log_p_x_grid_1d(model, x, -8, 8, 41))


@pytest.mark.parametrize("m", [1, 0, -3, 2.5, True, float("nan"), float("inf"), None])
def test_grid_below_two_points_is_refused(m):
    with pytest.raises(ValueError, match="m \\(grid points per axis\\) must be a whole number >= 2"):
        marginal.log_p_x_grid(LinearGaussian(), np.array([[0.0]]), -1, 1, m)
    with pytest.raises(ValueError, match="m \\(grid points per axis\\)"):
        marginal.grid_1d(-1, 1, m)


def test_huge_grid_is_refused_before_allocation():
    class Tripwire:
        d_z = 30

        def log_p_xz(self, x, z):  # pragma: no cover - must never be reached
            raise AssertionError("allocated before checking the size")

    with pytest.raises(ValueError, match="m\\^d_z = 10\\^30 = 1.000e\\+30 points .* exceeds max_points"):
        marginal.log_p_x_grid(Tripwire(), np.zeros((1, 2)), -1, 1, 10)


def test_grid_1d_refuses_a_two_dimensional_latent():
    with pytest.raises(ValueError, match="needs a model with d_z = 1, got d_z = 2; use log_p_x_grid"):
        marginal.log_p_x_grid_1d(linear_gaussian_2d(), np.zeros((1, 3)), -1, 1, 5)


def test_grid_limits_must_be_ordered():
    with pytest.raises(ValueError, match="lo must be < hi"):
        marginal.grid_1d(1.0, -1.0, 5)


def test_grid_points_needed_is_exact():
    assert marginal.grid_points_needed(33, 30) == 33**30


# ---- enumeration, growth, posterior, gradient -------------------------------------------------------------------
def test_time_enumeration_returns_values_matching_brute_force():
    seconds, values = marginal.time_enumeration([2, 3], d_x=2, rng=np.random.default_rng(0), n_data=2,
                                                progress=False)
    assert seconds.shape == (2,) and np.all(seconds > 0)
    replay = np.random.default_rng(0)  # the same draws: the same models and data points
    for d, got in zip([2, 3], values, strict=True):
        model = BinaryLatentModel.random(d, 2, replay)
        x = model.sample(2, replay)[1]
        brute = []
        for x_n in x:  # sum of p(z) N(x; W z + b, sigma_x^2 I) over every z, with scipy densities
            terms = [np.prod(np.where(z, model.prior_p, 1 - model.prior_p))
                     * stats.multivariate_normal(model.W @ z + model.b, model.sigma_x**2 * np.eye(2)).pdf(x_n)
                     for z in np.array(list(itertools.product([0, 1], repeat=d)))]
            brute.append(np.log(sum(terms)))
        assert np.allclose(got, brute, atol=1e-12, rtol=0)


@pytest.mark.parametrize(("repeat_below", "calls"), [(np.inf, 1 + 3 + 3), (0.0, 1 + 1 + 1)])
def test_time_enumeration_repeats_only_short_timings(monkeypatch, repeat_below, calls):
    counted = []
    original = BinaryLatentModel.log_p_x
    monkeypatch.setattr(BinaryLatentModel, "log_p_x", lambda self, x: counted.append(1) or original(self, x))
    marginal.time_enumeration([2, 3], d_x=2, rng=np.random.default_rng(0), repeats=3, repeat_below=repeat_below,
                              progress=False)
    assert len(counted) == calls  # one untimed warm-up, then 3 timings per d, or 1 when none is short enough


def test_time_enumeration_refuses_empty_ds():
    with pytest.raises(ValueError, match="ds is empty"):
        marginal.time_enumeration([], d_x=2, rng=np.random.default_rng(0), progress=False)


def test_time_enumeration_refuses_large_d():
    with pytest.raises(ValueError, match="enumeration is limited to d <= 30"):
        marginal.time_enumeration([31], d_x=2, rng=np.random.default_rng(0), progress=False)


def test_fit_growth_recovers_a_pure_exponential():
    ds = np.arange(10, 21)
    fit = marginal.fit_growth(ds, 1e-6 * 2.0**ds)
    assert fit.slope == pytest.approx(1.0) and fit.factor_per_d == pytest.approx(2.0)
    assert fit.seconds(30) == pytest.approx(1e-6 * 2.0**30)


def test_fit_growth_needs_two_usable_timings():
    with pytest.raises(ValueError, match="only 1 timing"):
        marginal.fit_growth([1, 2, 3], [1e-5, 1e-5, 1.0], min_seconds=1e-3)


def test_seconds_to_years():
    assert marginal.seconds_to_years(365.25 * 86400) == pytest.approx(1.0)


def test_enumeration_size_is_exact():
    assert marginal.enumeration_size(30, 3) == 3 * 2**30


def test_posterior_by_enumeration_normalizes_and_matches_bayes():
    rng = np.random.default_rng(1)
    model = BinaryLatentModel.random(4, 3, rng)
    x = model.sample(3, rng)[1]
    z, log_post = marginal.log_posterior_enumeration(model, x)
    assert z.shape == (16, 4) and log_post.shape == (3, 16)
    assert np.allclose(np.exp(log_post).sum(axis=1), 1.0)
    # Bayes by hand for one configuration, with scipy densities
    k = 5
    joint = np.prod(np.where(z[k] == 1, model.prior_p, 1 - model.prior_p)) * stats.multivariate_normal(
        model.W @ z[k] + model.b, model.sigma_x**2 * np.eye(3)).pdf(x[0])
    assert log_post[0, k] == pytest.approx(np.log(joint) - model.log_p_x(x[:1])[0], abs=1e-10)


def test_posterior_refuses_huge_tables():
    model = BinaryLatentModel(np.zeros((1, 25)), np.zeros(1), np.full(25, 0.5))
    with pytest.raises(ValueError, match="this module enumerates up to d = 24"):
        marginal.log_posterior_enumeration(model, np.zeros((1, 1)))


def test_posterior_refuses_too_many_data_points_before_allocation():
    model = BinaryLatentModel(np.zeros((2, 20)), np.zeros(2), np.full(20, 0.5))
    with pytest.raises(ValueError, match="1000 data point\\(s\\) x 2\\^20 configurations .* pass fewer data points"):
        marginal.log_posterior_enumeration(model, np.zeros((1000, 2)))


def test_gradient_identity_matches_finite_differences():
    rng = np.random.default_rng(2)
    model = BinaryLatentModel.random(5, 3, rng, sigma_x=0.8)
    x = model.sample(6, rng)[1]

    def total_log_p_x(W):
        return BinaryLatentModel(W, model.b, model.prior_p, model.sigma_x).log_p_x(x).sum()

    fd = marginal.finite_difference_grad(total_log_p_x, model.W, eps=1e-5)
    assert np.allclose(marginal.grad_log_p_x_W(model, x), fd, atol=1e-7, rtol=1e-7)


def test_finite_difference_grad_of_a_quadratic():
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    theta = np.array([0.3, -1.2])
    assert np.allclose(marginal.finite_difference_grad(lambda t: 0.5 * t @ A @ t, theta), A @ theta, atol=1e-9)


# ---------------------------------------------------------------------------------------------------------------
# The chapter's key checks can fail: run them from the notebook's own cells with an error planted
# ---------------------------------------------------------------------------------------------------------------
NOTEBOOK = __import__("pathlib").Path(__file__).parents[1] / "notebooks" / "03_marginal_likelihood.ipynb"
CHECKS = {  # name: the cells to run (by a line each contains), the last one holding the check
    "closed form": ["U = np.linalg.qr(rng.standard_normal((D, d_z)))[0]"],
    "brute = analytic": ["images, labels = load_digits()", "em = fit_bernoulli_mixture(",
                         "brute = logsumexp(log_p_full)", "analytic = bmm.log_p_x(x_one, few)"],
    "gradient identity": ["grad_model = BinaryLatentModel.random("],
    "Laplace": ["linear2 = LinearGaussian(W=", "starts = {-0.5: 0.0, 2.0: 1.0}", "log_mass_right = np.log("],
    "Gauss-Hermite reach": ["linear2 = LinearGaussian(W=", "starts = {-0.5: 0.0, 2.0: 1.0}", "log_mass_right = np.log(",
                            "n_reach = need[2.0, 1e-2][0]"],
}


def _run_chapter_cells(lines, replace=None):
    """Exec the notebook's import cell and the code cells containing ``lines`` (in order) in a fresh namespace."""
    import matplotlib
    import nbformat

    matplotlib.use("Agg")
    cells = [c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]
    chosen = [next(s for s in cells if "%matplotlib inline" in s)]
    chosen += [next(s for s in cells if line in s) for line in lines]
    namespace = {}
    for source in chosen:
        source = "\n".join(line for line in source.splitlines() if not line.startswith("%"))
        for old, new in (replace or {}).items():
            source = source.replace(old, new)
        exec(compile(source, str(NOTEBOOK), "exec"), namespace)
    return namespace


def _plant(name, monkeypatch):
    """Plant one error for the check ``name``; return source replacements (if the error is in the cell itself)."""
    from lvmlib import laplace
    from lvmlib.bernoulli_mixture import BernoulliMixture

    if name == "closed form":  # W's columns no longer orthogonal: the factorized formula does not apply
        return {"U = np.linalg.qr(rng.standard_normal((D, d_z)))[0]": "U = rng.standard_normal((D, d_z)) / np.sqrt(D)"}
    if name == "Gauss-Hermite reach":  # the distance in units of t, without the sqrt(2) of z = z_hat + sqrt(2) s t
        return {"/ (np.sqrt(2) * lap[2.0].scale[0])": "/ lap[2.0].scale[0]"}
    if name == "brute = analytic":  # a wrong marginal: the hidden pixels are not summed out but kept
        log_p_x = BernoulliMixture.log_p_x
        monkeypatch.setattr(BernoulliMixture, "log_p_x", lambda self, x, observed=None: log_p_x(self, x))
    if name == "gradient identity":  # the posterior-averaged gradient with a flipped sign
        grad = marginal.grad_log_p_x_W
        monkeypatch.setattr(marginal, "grad_log_p_x_W", lambda model, x: -grad(model, x))
    if name == "Laplace":  # a curvature off by a factor 4 (e.g. a wrong finite-difference step)
        hessian = laplace.hessian
        monkeypatch.setattr(laplace, "hessian", lambda f, z, eps=1e-4: 4 * hessian(f, z, eps))
    return {}


@pytest.mark.parametrize("name", list(CHECKS))
def test_chapter_check_passes_as_written_and_fails_with_a_planted_error(name, monkeypatch):
    _run_chapter_cells(CHECKS[name])  # as written: no AssertionError
    replace = _plant(name, monkeypatch)
    with pytest.raises(AssertionError):
        _run_chapter_cells(CHECKS[name], replace)


@pytest.mark.parametrize("d_max", [5, 12, 16])
def test_chapter_timing_cells_survive_a_small_D_MAX(d_max, capsys):
    """The trap of issue 12: D_MAX = 16 left every timing too short to fit and raised in four cells. Now the fit
    falls back to the three longest timings with a note, the slope check is skipped, and the cells run."""
    ns = _run_chapter_cells(["D_MAX = 21", "t30 = float(fit.seconds(30))"], {"D_MAX = 21 ": f"D_MAX = {d_max} "})
    out = capsys.readouterr().out
    assert ns["d_max"] == max(d_max, 8) and np.isfinite(ns["t30"])
    if d_max < 8:
        assert "D_MAX = 5 is outside 8..26" in out
    if not ns["slope_testable"]:
        assert "fewer than 3 timings reach MIN_FIT_SECONDS" in out
