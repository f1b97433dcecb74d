"""Bad input gets a clear error naming the parameter (issue 13): one test per root cause the fuzz run found."""

import time
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

from lvmlib import _checks, data, envcheck, plotting
from lvmlib import distributions as D
from lvmlib.examples import BinaryLatentModel, LinearGaussian, NonlinearModel1D
from lvmlib.logspace import log_mean_exp, normalize_log
from lvmlib.widgets import readout_html, slider


# ---- the validation layer -------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["abc", None, 1 + 2j, np.array([1.0, 2j]), object(), [[1.0, 2.0], [3.0]],
                                 {"a": 1}, np.array(["1.0"])])
def test_array_arguments_of_the_wrong_kind_raise_type_errors_naming_the_parameter(bad):
    with pytest.raises(TypeError, match="^mu_q must"):
        D.kl_normal(bad, 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="^mu_q must"):  # InputTypeError is a ValueError too, as before
        D.kl_normal(bad, 1.0, 0.0, 1.0)


def test_complex_input_is_refused_rather_than_losing_its_imaginary_part():
    with pytest.raises(TypeError, match=r"x must be real, got complex values; pass np.real\(x\)"):
        D.log_normal(1.0 + 1e-3j, 0.0, 1.0)


@pytest.mark.parametrize("bad, kind, message", [
    (None, TypeError, "n must be a whole number, got NoneType"),
    ("3", TypeError, "n must be a whole number, got str"),
    (np.nan, ValueError, "n must be a whole number, got nan"),
    (np.inf, ValueError, "n must be a whole number, got inf"),
    (2.5, ValueError, "n must be a whole number, got 2.5"),
    (True, TypeError, "n must be a whole number, got bool"),
    (0, ValueError, "n must be >= 1, got 0"),
    (1e300, ValueError, "n must be <= 1e\\+07, got 1e\\+300"),
    (10**400, ValueError, "n must be <= 1e\\+07"),
])
def test_positive_int_refuses_none_nan_inf_fractions_and_absurd_counts(bad, kind, message):
    with pytest.raises(kind, match=message):
        _checks.positive_int(bad, "n")


def test_positive_int_accepts_whole_numbers_of_any_numeric_type():
    assert [_checks.positive_int(v, "n") for v in (3, 3.0, np.int64(3), np.float32(3.0), np.array(3))] == [3] * 5


def test_no_count_of_1e300_starts_a_computation():
    rng = np.random.default_rng(0)
    calls = [lambda: LinearGaussian().sample(1e300, rng), lambda: BinaryLatentModel.random(1e300, 2, rng),
             lambda: BinaryLatentModel.random(3, 2, rng).log_p_x(np.zeros((1, 2)), chunk=1e300),
             lambda: plotting.ellipse_points([0, 0], np.eye(2), n_points=1e300)]
    for call in calls:
        start = time.perf_counter()
        with pytest.raises(ValueError, match="must be <="):
            call()
        assert time.perf_counter() - start < 1.0


def test_tolerance_and_scalar_checks_name_the_parameter():
    with pytest.raises(ValueError, match="tol must be a finite number >= 0"):
        _checks.tolerance(-1e-3, "tol")
    with pytest.raises(ValueError, match="tol contains NaN"):
        _checks.tolerance(np.nan, "tol")
    with pytest.raises(ValueError, match=r"step must be a single number, got shape \(2,\)"):
        _checks.finite_scalar([1.0, 2.0], "step")
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        _checks.choice("bogus", "covariance_type", ("full", "diag"))


# ---- distributions -------------------------------------------------------------------------------------------
def test_kl_normal_with_a_huge_scale_ratio_is_computed_in_log_space():
    # KL(N(0, 1) || N(0, s^2)) = log s + 1 / (2 s^2) - 1/2; for s = 1e300: log(1e300) - 0.5 ~ 690.28
    np.testing.assert_allclose(D.kl_normal(0.0, 1.0, 0.0, 1e300), 300 * np.log(10) - 0.5, rtol=1e-14)
    np.testing.assert_allclose(D.kl_normal(0.0, 1e-300, 0.0, 1.0), 300 * np.log(10) - 0.5, rtol=1e-14)


def test_shapes_that_do_not_broadcast_are_named():
    with pytest.raises(ValueError, match=r"shapes disagree: x \(2,\), mu \(3,\), sigma \(\)"):
        D.log_normal(np.zeros(2), np.zeros(3), 1.0)
    with pytest.raises(ValueError, match=r"shapes disagree: x \(2, 4\), logits \(3, 4\)"):
        D.log_bernoulli(np.zeros((2, 4)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"shapes disagree: q \(3,\), log_p \(2,\)"):
        D.kl_discrete(np.full(3, 1 / 3), np.zeros(2))


def test_a_covariance_passed_as_a_cholesky_factor_is_caught():
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    x, mu = np.zeros((1, 2)), np.zeros(2)
    with pytest.raises(ValueError, match="chol must be lower-triangular .* was a covariance passed"):
        D.log_mvn(x, mu, cov)
    with pytest.raises(ValueError, match="chol must have a positive diagonal"):
        D.log_mvn(x, mu, -np.eye(2))
    with pytest.raises(ValueError, match="chol contains NaN"):
        D.log_mvn(x, mu, np.diag([1.0, np.nan]))
    # the right call still matches scipy
    np.testing.assert_allclose(D.log_mvn(x, mu, np.linalg.cholesky(cov)),
                               stats.multivariate_normal(mu, cov).logpdf(x[0]), rtol=1e-12)


def test_logspace_accepts_minus_inf_but_not_nan_or_plus_inf():
    assert log_mean_exp(np.array([0.0, -np.inf])) == pytest.approx(np.log(0.5))
    assert normalize_log(np.array([0.0, -np.inf])).tolist() == [0.0, -np.inf]
    with pytest.raises(ValueError, match="log_w contains NaN or infinite"):
        log_mean_exp(np.array([0.0, np.inf]))
    with pytest.raises(ValueError, match="axis must be <= 0"):
        log_mean_exp(np.zeros(3), axis=1)
    with pytest.raises(TypeError, match="axis must be a whole number"):
        normalize_log(np.zeros(3), axis="rows")


# ---- the running examples ------------------------------------------------------------------------------------
def _log_p_x_by_quad(b, sigma_x, x):
    """Independent reference: scipy's adaptive quadrature, split at the posterior's modes."""
    disc = b**2 + 4 * x
    modes = [-b / 2] if disc < 0 else [(-b - np.sqrt(disc)) / 2, (-b + np.sqrt(disc)) / 2]
    log_f = lambda z: stats.norm.logpdf(z) + stats.norm.logpdf(x, z**2 + b * z, sigma_x)  # noqa: E731
    peak = max(log_f(np.linspace(m - 3, m + 3, 20001)).max() for m in modes)
    edges = sorted({-60.0, 60.0, *(m + h for m in modes for h in (-1, -0.1, 0, 0.1, 1))})
    with warnings.catch_warnings():  # quad's round-off warning at the far-out x = -1e4; the result agrees anyway
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        total = sum(integrate.quad(lambda z: np.exp(log_f(z) - peak), a, c, limit=1000, epsabs=0, epsrel=1e-13)[0]
                    for a, c in zip(edges[:-1], edges[1:], strict=True))
    return peak + np.log(total)


@pytest.mark.parametrize("b, sigma_x, x", [(0.3, 0.5, 130.0), (0.3, 0.5, 500.0), (0.3, 0.5, 2.0), (0.3, 0.5, -3.0),
                                           (100.0, 0.5, 3.0), (0.3, 0.5, -1e4)])
def test_nonlinear_model_grid_follows_x_and_matches_quad(b, sigma_x, x):
    # at x = 130 the modes sit at z ~ +-11.4, outside the base grid [-10, 10]: it used to return -1515.1
    model = NonlinearModel1D(b=b, sigma_x=sigma_x)
    np.testing.assert_allclose(model.log_p_x([x]), _log_p_x_by_quad(b, sigma_x, x), rtol=1e-12, atol=1e-10)


def test_nonlinear_model_keeps_its_base_grid_where_it_is_exact():
    model = NonlinearModel1D()
    assert model.quadrature_grid(np.linspace(-5, 20, 11)) is model.grid


def test_nonlinear_model_refuses_what_it_cannot_integrate():
    with pytest.raises(ValueError, match=r"b must lie in \[-100, 100\], got 1e\+300"):
        NonlinearModel1D(b=1e300)
    with pytest.raises(ValueError, match="sigma_x contains NaN or infinite"):
        NonlinearModel1D(sigma_x=np.inf)
    with pytest.raises(ValueError, match=r"sigma_x must lie in \[0.001, 1000\], got 1e-05"):
        NonlinearModel1D(sigma_x=1e-5)
    with pytest.raises(ValueError, match="x up to 1e\\+05 .* needs a quadrature grid of .* more than max_grid_points"):
        NonlinearModel1D().log_p_x([1e5])


def test_decode_of_an_integer_z_gives_a_float_sigma():
    mu, sigma = NonlinearModel1D().decode(np.array([[1], [2]]))
    assert sigma.dtype == float and np.all(sigma == 0.5) and mu.tolist() == [[1.3], [4.6]]


def test_binary_model_checks_its_counts():
    model = BinaryLatentModel.random(3, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="stop must be >= 5"):
        model.configurations(5, 2)
    with pytest.raises(ValueError, match="stop must be <= 8"):
        model.configurations(0, 9)


# ---- explorers' building blocks, plotting, data, environment -------------------------------------------------
def test_readout_html_escapes_the_title_and_the_labels():
    html = readout_html({"KL <q||p>": ("kl'x", 1.5)}, title="<script>alert(1)</script>")
    assert "<script>" not in html and "&lt;script&gt;" in html and "KL &lt;q||p&gt;" in html
    assert "data-name='kl&#x27;x'>1.5000</span>" in html
    with pytest.raises(TypeError, match=r"values\['ELBO'\] must hold a real number"):
        readout_html({"ELBO": ("elbo", "high")})


@pytest.mark.parametrize("kwargs, message", [
    ({"value": 10.0}, r"slider 'mu': value must lie in \[-3, 3\], got 10"),
    ({"value": np.nan}, "slider 'mu': value contains NaN"),
    ({"step": 0.0}, "slider 'mu': step must be > 0"),
    ({"min": 3.0, "max": -3.0}, "slider 'mu': min must be < max"),
    ({"value": 2.5, "step": 1, "integer": True}, "slider 'mu': value must be a whole number"),
])
def test_slider_refuses_values_ipywidgets_would_clamp(kwargs, message):
    args = {"min": -3.0, "max": 3.0, "value": 0.0, "step": 0.1} | kwargs
    with pytest.raises(ValueError, match=message):
        slider("mu", **args)


def test_ellipse_points_checks_its_arguments():
    np.testing.assert_allclose(plotting.ellipse_points([1, 2], np.eye(2), n_std=1, n_points=5)[0], [2, 2])
    with pytest.raises(ValueError, match="cov is not positive definite"):
        plotting.ellipse_points([0, 0], -np.eye(2))
    with pytest.raises(ValueError, match=r"mean must have shape \(2,\)"):
        plotting.ellipse_points([0, 0, 0], np.eye(2))
    with pytest.raises(ValueError, match="n_std must be > 0"):
        plotting.ellipse_points([0, 0], np.eye(2), n_std=-1)


def test_data_and_environment_helpers_check_their_arguments():
    with pytest.raises(ValueError, match="threshold contains NaN"):
        data.binarize(np.zeros(3), np.nan)
    with pytest.raises(TypeError, match="binarized must be True or False"):
        data.load_digits(binarized="yes")
    with pytest.raises(ValueError, match="name must be one of"):
        data.data_path(["faithful.csv"])
    with pytest.raises(TypeError, match="required must be a dict"):
        envcheck.check_environment(["numpy"])
    with pytest.raises(ValueError, match=r"required\['numpy'\] must be a version string"):
        envcheck.check_environment({"numpy": 2.0})


# ---- chapter modules: one small check each (issue 13's list) --------------------------------------------------
def _fast(call, kind, message):
    start = time.perf_counter()
    with pytest.raises(kind, match=message):
        call()
    assert time.perf_counter() - start < 1.0, "a refused count must be refused at once"


@pytest.mark.parametrize("bad", [None, np.nan, np.inf, 1e300])
def test_counts_of_none_nan_inf_or_1e300_are_refused_at_once(bad):
    from lvmlib import bernoulli_mixture, marginal

    kind = TypeError if bad is None else ValueError
    x = (np.random.default_rng(0).random((20, 4)) < 0.5).astype(float)
    rng = np.random.default_rng(0)
    _fast(lambda: marginal.enumeration_size(bad), kind, "^d must be")
    _fast(lambda: marginal.grid_points_needed(10, bad), kind, "^d_z must be")
    _fast(lambda: bernoulli_mixture.fit_bernoulli_mixture(x, 2, rng, n_init=bad), kind, "^n_init must be")
    _fast(lambda: marginal.time_enumeration([2, 3], 1, rng, repeats=bad, progress=False), kind, "^repeats must be")


def test_shapes_must_agree_between_x_and_q():
    from lvmlib import elbo

    with pytest.raises(ValueError, match=r"shapes disagree: mu \(3, 1\), sigma \(\), \(n_data, d_z\) of x \(2, 1\)"):
        elbo.elbo_gaussian(NonlinearModel1D(), [[1.0], [2.0]], np.zeros((3, 1)), 1.0)


def test_checks_name_the_parameter_that_is_wrong_not_an_internal_one():
    from lvmlib import elbo
    from lvmlib.widgets.grid_explorer import grid_explorer_state

    with pytest.raises(ValueError, match="^L contains NaN"):  # was "lo must be < hi"
        grid_explorer_state(2.0, 41, np.nan)
    with pytest.raises(ValueError, match="^L must be > 0"):
        grid_explorer_state(2.0, 41, -3.0)
    with pytest.raises(ValueError, match=r"^log_sigma0 must lie in \[-20, 20\], got 800"):  # was "z contains NaN"
        elbo.fit_gaussian_q(NonlinearModel1D(), [[2.0]], log_sigma0=800)


def test_ppca_refuses_negative_eigenvalues():
    from lvmlib import ppca

    with pytest.raises(ValueError, match="eigenvalues must be >= 0"):  # mle_sigma2 returned -1.5
        ppca.mle_sigma2(np.array([3.0, -1.0, -2.0]), 1)
    assert ppca.mle_sigma2(np.array([3.0, 1.0, -1e-17]), 1) == 0.5  # rounding noise is clipped to 0


def test_mixture_helpers_validate_their_options():
    from lvmlib import mixtures

    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        mixtures.init_from_kmeans_plusplus(X, 2, np.random.default_rng(0), covariance_type="bogus")
    with pytest.raises(ValueError, match="tol contains NaN"):
        mixtures.fit_em(X, 2, rng=np.random.default_rng(0), tol=np.nan)
    with pytest.raises(ValueError, match="n_components must be >= 1, got -1"):
        mixtures.n_parameters(-1, 2)
    with pytest.raises(ValueError, match="reg_covar must be >= 0 and finite"):
        mixtures.m_step(X, np.full((30, 2), 0.5), reg_covar=np.inf)
    from lvmlib import bernoulli_mixture

    with pytest.raises(ValueError, match="tol contains NaN"):
        bernoulli_mixture.fit_bernoulli_mixture((X > 0).astype(float), 2, np.random.default_rng(0), tol=np.nan)


def test_explorer_update_functions_refuse_instead_of_returning_nan_or_clamping():
    from lvmlib.widgets import elbo_explorer, latent_traversal

    with pytest.raises(ValueError, match="n_samples must be >= 1, got 0"):  # returned NaN estimates
        elbo_explorer.discrete_update(0.3, 0.3, 0.4, mode="Monte Carlo", n_samples=0)
    with pytest.raises(ValueError, match=r"slider 'μ_q': value must lie in \[-3, 3\], got 100"):  # was clamped to 3
        elbo_explorer.continuous_explorer(mu=100)
    with pytest.raises(ValueError, match="log_sigma must lie in"):
        elbo_explorer.continuous_update(0.0, 800.0)
    with pytest.raises(ValueError, match="d_z must be a whole number, got 2.5"):  # was truncated to 2
        latent_traversal.traversal_explorer(lambda z: np.zeros((len(z), 4)), 2.5, (2, 2))


def test_mixture_cholesky_factors_are_checked():
    from lvmlib import mixtures
    from lvmlib.examples import three_cluster_mixture

    model = three_cluster_mixture()
    X = np.zeros((2, 2))
    with pytest.raises(ValueError, match="chols must have a positive diagonal"):  # gave NaN
        mixtures.log_joint(X, model.weights, model.means, -model.chols)
    with pytest.raises(ValueError, match="chols must be lower-triangular .* was a covariance passed"):
        mixtures.e_step(X, model.weights, model.means, model.covs)  # covariances passed as factors
    np.testing.assert_allclose(mixtures.log_joint(X, model.weights, model.means, model.chols), model.log_p_xz(X))


def test_fuzz_findings_name_the_parameter():
    """Found by tools/fuzz_validation.py: each used to end in an AttributeError or a numpy message."""
    from lvmlib import bernoulli_mixture, elbo, estimators, marginal, ppca
    from lvmlib.widgets import elbo_explorer

    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="^model must be a latent variable model with d_z"):
        elbo.elbo_gaussian(2.0, [[1.0]], 0.0, 1.0)
    with pytest.raises(TypeError, match="^model must be a latent variable model"):
        marginal.log_p_x_grid(np.zeros(3), [[1.0]], -5, 5, 11)
    with pytest.raises(ValueError, match=r"mu and sigma must broadcast to \(..., n_data, d_z\) = \(..., 1, 1\)"):
        elbo.elbo_monte_carlo(NonlinearModel1D(), [[1.0]], np.zeros((2, 3, 4)), 1.0, 5, rng)
    with pytest.raises(ValueError, match="^sigma must be <= 1e10"):
        elbo.iwae_bound(NonlinearModel1D(), [[1.0]], 0.0, 1e300, 4, rng)
    with pytest.raises(TypeError, match="^lo must be a number"):
        marginal.log_p_x_grid(NonlinearModel1D(), [[1.0]], None, 5, 11)
    with pytest.raises(ValueError, match=r"^tol must be a single number"):
        elbo.fit_gaussian_q(NonlinearModel1D(), [[1.0]], tol=np.zeros(3))
    with pytest.raises(ValueError, match=r"^alpha must be a single number"):
        bernoulli_mixture.fit_bernoulli_mixture(np.zeros((4, 2)), 2, rng, alpha=[1.0, 2.0])
    with pytest.raises(TypeError, match="^log_w must be a number"):
        estimators.effective_sample_size("abc")
    with pytest.raises(TypeError, match="^w_b must be a number"):
        elbo_explorer.discrete_update(0.3, "abc", 0.4)
    with pytest.raises(TypeError, match="^title must be a string or None"):
        readout_html({"a": ("a", 1.0)}, title=np.zeros(2))
    with pytest.raises(ValueError, match="^eigenvalues must hold D >= 2 values"):
        ppca.mle_sigma2(np.array([]), 1)
    with pytest.raises(ValueError, match=r"^log_p must be <= 0 \(log-probabilities\)"):  # gave KL = -1e300
        D.kl_discrete([0.5, 0.5], [1e300, 0.0])


def test_second_fuzz_round_findings():
    from lvmlib import elbo, estimators
    from lvmlib.examples import three_cluster_mixture
    from lvmlib.widgets.grid_explorer import grid_explorer_state

    with pytest.raises(ValueError, match=r"^z holds values too large for this model \(\|z\| up to 1e\+300\)"):
        estimators.log_weights_gaussian(NonlinearModel1D(), [[2.0]], 1e300, 1.0, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^L must lie in \[0, 1000\]"):  # was "mu contains NaN"
        grid_explorer_state(2.0, 21, 1e300)
    with pytest.raises(ValueError, match=r"^m must be <= 1e\+06"):  # was "Maximum allowed size exceeded"
        grid_explorer_state(2.0, 1e300, 5.0)
    with pytest.raises(ValueError, match="^q must be a probability vector"):  # was IndexError
        elbo.elbo_discrete(three_cluster_mixture(), np.zeros((1, 2)), 1.0)
    with pytest.raises(TypeError, match="^slider label must be a string"):  # was a traitlets TraitError
        slider(None, -1.0, 1.0, 0.0, 0.1)
    with pytest.raises(ValueError, match="^sigma_x must be a single number"):
        LinearGaussian(sigma_x=[1.0, 2.0])
    assert NonlinearModel1D().log_p_x(np.zeros(0)).shape == (0,)


def test_absurd_locations_of_q_are_named():
    from lvmlib import elbo

    with pytest.raises(ValueError, match=r"^mu must lie in \[-1e10, 1e10\]"):
        elbo.elbo_gaussian(NonlinearModel1D(), [[1.0]], 1e300, 1.0)
    with pytest.raises(ValueError, match=r"^mu0 must lie in \[-1e\+10, 1e\+10\]"):
        elbo.fit_gaussian_q(NonlinearModel1D(), [[1.0]], mu0=1e300)


def test_third_fuzz_round_findings():
    from lvmlib import bernoulli_mixture, elbo, marginal
    from lvmlib.widgets import em_stepper, jensen, latent_traversal, proposal_explorer

    for call, message in [
        (lambda: marginal.log_posterior_enumeration(2.0, np.zeros((1, 2))), "^model must be a BinaryLatentModel"),
        (lambda: marginal.finite_difference_grad(2.0, np.ones(2)), "^f must be a function"),
        (lambda: elbo.elbo_map(None, [[1.0]], [0.0], [0.0]), "^model must be a latent variable model"),
        (lambda: bernoulli_mixture.top_completions(None, np.zeros(3), np.ones(3, bool)),
         "^model must be a BernoulliMixture"),
        (lambda: latent_traversal.traversal_update(2.0, np.zeros(2), (2, 2)), "^decode must be a function"),
        (lambda: latent_traversal.traversal_update(lambda z: z, np.zeros(2), 4), "^image_shape must be a tuple"),
        (lambda: latent_traversal.z_limit_from_data(np.zeros((3, 2)), coverage=None), "^coverage must be a number"),
        (lambda: jensen.chord_update(1.0, 2.0, [0.5, 0.5]), "^w must be a single number"),
        (lambda: proposal_explorer.proposal_update(np.zeros(2), 0.0, 5), "^mu_q must be a single number"),
        (lambda: em_stepper.em_stepper_update(np.inf), r"^step must be a whole number in \[0, "),
    ]:
        with pytest.raises((TypeError, ValueError), match=message):
            call()


def test_a_cholesky_factor_passed_as_a_covariance_is_caught():
    from lvmlib.examples import DiscreteMixture, three_cluster_mixture

    model = three_cluster_mixture()
    with pytest.raises(ValueError, match=r"covs\[0\] must be a symmetric covariance, but it is lower-triangular"):
        DiscreteMixture(model.weights, model.means, model.chols)


def test_fourth_fuzz_round_findings():
    from lvmlib import marginal, ppca, vae
    from lvmlib.bernoulli_mixture import BernoulliMixture
    from lvmlib.widgets import jensen, proposal_explorer

    for call, message in [
        (lambda: BernoulliMixture(True, np.full((1, 3), 0.5)), "^weights must be a probability vector"),
        (lambda: proposal_explorer.proposal_update(0.0, 0.0, 5, n_repeats=None), "^n_repeats must be a whole"),
        (lambda: proposal_explorer.proposal_update(0.0, 0.0, 5, seed=2.5), "^seed must be a whole number"),
        (lambda: jensen.many_update(10, 0.5, seed="abc"), "^seed must be a whole number"),
        (lambda: marginal.grid_1d(-1.0, 1.0, 1e300), "^m must be <= 1e\\+07"),
        (lambda: ppca.n_active_directions(np.array([3.0, 1.0, 0.5]), 1, None), "^sigma2 must be a number"),
        (lambda: ppca.diagonal_q_gap(np.eye(3)[:, :2], np.array([])), "^sigma2 must be a single number"),
        (lambda: vae.make_generator(0, "abc"), "^device must name an available device"),
    ]:
        with pytest.raises((TypeError, ValueError), match=message):
            call()
