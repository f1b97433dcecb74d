"""Property-based tests (Hypothesis) over the public numpy API.

Valid inputs: results are finite and the invariants of the course hold (KL >= 0, ELBO <= log p(x), probabilities
sum to one, log-space helpers match scipy). Invalid inputs (one parameter at a time): the error is a ValueError or
TypeError whose message starts with the parameter's name. Derandomized, so CI sees the same examples every run.
"""

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special, stats

from lvmlib import distributions as D
from lvmlib import elbo as E
from lvmlib import logspace, mixtures
from lvmlib.bernoulli_mixture import BernoulliMixture
from lvmlib.examples import LinearGaussian, NonlinearModel1D, three_cluster_mixture

FAST = settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

reals = st.floats(-50, 50, allow_nan=False)
scales = st.floats(1e-3, 1e3, allow_nan=False)
log_values = hnp.arrays(float, hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6),
                        elements=st.floats(-700, 700, allow_nan=False))


def simplex(k):
    return hnp.arrays(float, k, elements=st.floats(0.0, 1.0)).filter(lambda w: w.sum() > 1e-3).map(
        lambda w: w / w.sum())


# ---- valid inputs: invariants ----------------------------------------------------------------------------------
@FAST
@given(reals, scales, reals, scales)
def test_kl_normal_is_finite_non_negative_and_zero_only_at_equality(mu_q, s_q, mu_p, s_p):
    kl = D.kl_normal(mu_q, s_q, mu_p, s_p)
    assert np.isfinite(kl) and kl >= -1e-12
    assert abs(D.kl_normal(mu_q, s_q, mu_q, s_q)) < 1e-12


@FAST
@given(simplex(4), simplex(4))
def test_kl_discrete_is_non_negative(q, p):
    with np.errstate(divide="ignore"):
        kl = D.kl_discrete(q, np.log(p))
    assert kl >= -1e-12  # +inf when q puts mass where p has none


@FAST
@given(log_values)
def test_log_mean_exp_and_normalize_log_match_scipy(log_w):
    np.testing.assert_allclose(logspace.log_mean_exp(log_w, axis=-1),
                               special.logsumexp(log_w, axis=-1) - np.log(log_w.shape[-1]), rtol=1e-12, atol=1e-12)
    p = np.exp(logspace.normalize_log(log_w, axis=-1))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)


@FAST
@given(hnp.arrays(float, (3, 2), elements=reals), reals, reals, st.floats(-0.9, 0.9), st.floats(0.1, 10),
       st.floats(0.1, 10))
def test_log_mvn_matches_scipy(x, m1, m2, rho, s1, s2):
    cov = np.array([[s1**2, rho * s1 * s2], [rho * s1 * s2, s2**2]])
    np.testing.assert_allclose(D.log_mvn(x, [m1, m2], D.cholesky(cov)),
                               stats.multivariate_normal([m1, m2], cov).logpdf(x), rtol=1e-8, atol=1e-8)


@FAST
@given(simplex(3), st.floats(-6, 6), st.floats(-6, 6))
def test_discrete_elbo_is_below_log_p_x_and_posteriors_sum_to_one(q, x1, x2):
    model, x = three_cluster_mixture(), np.array([[x1, x2]])
    log_px = model.log_p_x(x)[0]
    assert E.elbo_discrete(model, x, q)[0] <= log_px + 1e-9
    np.testing.assert_allclose(model.posterior(x).sum(axis=1), 1.0, rtol=1e-12)
    assert E.kl_posterior_discrete(model, x, q)[0] >= -1e-9


@SLOW
@given(st.floats(-2, 2), st.floats(0.2, 2.0), st.floats(-5, 40), st.floats(-4, 4), st.floats(-4, 1))
def test_gaussian_elbo_is_below_log_p_x_for_the_nonlinear_model(b, sigma_x, x, mu, log_sigma):
    model = NonlinearModel1D(b=b, sigma_x=sigma_x)
    log_px = model.log_p_x([x])[0]
    elbo = E.elbo_gaussian(model, [[x]], [[mu]], [[np.exp(log_sigma)]])[0]
    assert np.isfinite(log_px) and np.isfinite(elbo)
    assert elbo <= log_px + 1e-6


@FAST
@given(hnp.arrays(float, (2, 1), elements=st.floats(-3, 3)), st.floats(0.1, 3),
       hnp.arrays(float, (4, 1), elements=reals), st.floats(-5, 5), st.floats(0.05, 5))
def test_linear_gaussian_elbo_is_below_its_closed_form_log_p_x(W, sigma_x, x, mu, sigma):
    model = LinearGaussian(W, np.zeros(2), sigma_x)
    x = x.reshape(2, 2)
    elbo = E.elbo_gaussian(model, x, [[mu]], [[sigma]])
    assert np.all(np.isfinite(elbo)) and np.all(elbo <= model.log_p_x(x) + 1e-9)
    # the bound is tight at the exact posterior (d_z = 1: q = p(z|x) is a Gaussian): a check with power
    mean, cov = model.posterior(x)
    np.testing.assert_allclose(E.elbo_gaussian(model, x, mean, np.sqrt(cov[0, 0])), model.log_p_x(x),
                               rtol=1e-9, atol=1e-9)


@FAST
@given(simplex(3), hnp.arrays(float, (3, 5), elements=st.floats(0.01, 0.99)),
       hnp.arrays(bool, (4, 5)))
def test_bernoulli_mixture_posteriors_sum_to_one(weights, probs, x):
    model = BernoulliMixture(weights, probs)
    post = np.exp(model.log_posterior(x.astype(float)))
    np.testing.assert_allclose(post.sum(axis=1), 1.0, rtol=1e-12)


@FAST
@given(hnp.arrays(float, (5, 2), elements=st.floats(-10, 10)), simplex(3))
def test_e_step_responsibilities_sum_to_one(X, weights):
    model = three_cluster_mixture()
    log_resp, log_px = mixtures.e_step(X, weights, model.means, model.chols)
    np.testing.assert_allclose(np.exp(log_resp).sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(np.isfinite(log_px))


# ---- invalid inputs: ValueError or TypeError naming the parameter ----------------------------------------------
bad_arrays = st.one_of(
    st.sampled_from([None, "abc", b"1", 1 + 1j, {"a": 1}, object(), [[1.0], [1.0, 2.0]], np.array(["x"])]),
    st.sampled_from([np.nan, np.inf, -np.inf]),
    hnp.arrays(float, st.integers(1, 4), elements=st.floats(allow_nan=True, allow_infinity=True)).filter(
        lambda a: not np.all(np.isfinite(a))),
)
bad_scales = st.one_of(bad_arrays, st.floats(max_value=0.0, allow_nan=False, allow_infinity=False))
bad_counts = st.one_of(
    st.sampled_from([None, "3", np.nan, np.inf, -np.inf, 1e300, 10**400, 2.5, True, 1 + 0j, [3]]),
    st.integers(max_value=0), st.floats(1.01, 1e6).filter(lambda v: v != int(v)),
)


def _assert_names(call, name):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert re.search(rf"(^|\W){name}\W", str(info.value)), f"message does not name {name!r}: {info.value}"


CALLS_WITH_ARRAYS = {
    "x": lambda v: D.log_normal(v, 0.0, 1.0),
    "mu_q": lambda v: D.kl_normal(v, 1.0, 0.0, 1.0),
    "log_w": lambda v: logspace.log_mean_exp(v),
    "weights": lambda v: three_cluster_mixture().__class__(v, np.zeros((3, 2)), np.stack([np.eye(2)] * 3)),
    "mu": lambda v: E.elbo_gaussian(NonlinearModel1D(), [[1.0]], v, 1.0),
    "log_p": lambda v: D.kl_discrete([0.5, 0.5], v),
}
CALLS_WITH_SCALES = {
    "sigma": lambda v: D.log_normal(0.0, 0.0, v),
    "sigma_p": lambda v: D.kl_normal(0.0, 1.0, 0.0, v),
    "sigma_x": lambda v: LinearGaussian(sigma_x=v),
    "step_size": lambda v: E.fit_gaussian_q(NonlinearModel1D(), [[1.0]], step_size=v, max_iter=1),
}
CALLS_WITH_COUNTS = {
    "n_samples": lambda v: E.elbo_monte_carlo(NonlinearModel1D(), [[1.0]], 0.0, 1.0, v, np.random.default_rng(0)),
    "k": lambda v: E.iwae_bound(NonlinearModel1D(), [[1.0]], 0.0, 1.0, v, np.random.default_rng(0)),
    "n": lambda v: three_cluster_mixture().sample(v, np.random.default_rng(0)),
    "n_components": lambda v: mixtures.n_parameters(v, 2),
    "max_iter": lambda v: mixtures.fit_em(np.zeros((5, 1)) + np.arange(5)[:, None], 1,
                                          rng=np.random.default_rng(0), max_iter=v),
}


@FAST
@given(st.sampled_from(sorted(CALLS_WITH_ARRAYS)), bad_arrays)
def test_bad_arrays_are_refused_by_name(name, value):
    if name in ("log_w", "log_p") and _is_log_probability(value):
        return  # -inf is a valid log-probability (of an impossible value)
    _assert_names(lambda: CALLS_WITH_ARRAYS[name](value), name)


def _is_log_probability(value):
    """True for a real array whose entries are finite or -inf (what log-space functions must accept)."""
    if isinstance(value, (str, bytes)) or value is None:
        return False
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return False
    return not np.iscomplexobj(value) and not np.any(np.isnan(arr) | (arr == np.inf))


@FAST
@given(st.sampled_from(sorted(CALLS_WITH_SCALES)), bad_scales)
def test_bad_scales_are_refused_by_name(name, value):
    _assert_names(lambda: CALLS_WITH_SCALES[name](value), name)


@FAST
@given(st.sampled_from(sorted(CALLS_WITH_COUNTS)), bad_counts)
def test_bad_counts_are_refused_by_name_at_once(name, value):
    _assert_names(lambda: CALLS_WITH_COUNTS[name](value), name)
