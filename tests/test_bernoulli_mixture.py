"""Tests for lvmlib.bernoulli_mixture: brute-force sums over completions, scipy densities, EM properties."""

import itertools
import warnings

import numpy as np
import pytest
from scipy import stats

from lvmlib.bernoulli_mixture import BernoulliMixture, fit_bernoulli_mixture, log_p_completions, top_completions
from lvmlib.data import load_digits


def small_model(D=6, K=3, seed=0):
    rng = np.random.default_rng(seed)
    return BernoulliMixture(rng.dirichlet(np.ones(K)), rng.uniform(0.05, 0.95, (K, D)))


def test_log_p_x_matches_scipy_bernoulli_mixture():
    model = small_model()
    x = np.array([[1, 0, 1, 1, 0, 0], [0, 0, 0, 1, 1, 1]], dtype=float)
    components = list(zip(model.weights, model.probs, strict=True))
    ref = [np.log(sum(w * np.prod(stats.bernoulli(p).pmf(row)) for w, p in components)) for row in x]
    assert np.allclose(model.log_p_x(x), ref, atol=1e-12)


def test_full_distribution_sums_to_one():
    model = small_model(D=5)
    every_image = np.array(list(itertools.product([0.0, 1.0], repeat=5)))
    assert np.exp(model.log_p_x(every_image)).sum() == pytest.approx(1.0, abs=1e-12)


def test_missing_pixels_marginalize_analytically():
    model = small_model(D=8)
    x = np.array([1, 0, 1, 1, 0, 0, 1, 0], dtype=float)
    observed = np.array([True, False, True, False, True, True, False, True])
    images, log_p = log_p_completions(model, x, observed)
    assert images.shape == (8, 8) and np.all(images[:, observed] == x[observed])
    assert len({tuple(r) for r in images}) == 8  # every completion once
    from scipy.special import logsumexp

    assert logsumexp(log_p) == pytest.approx(model.log_p_x(x, observed)[0], abs=1e-12)


def test_values_at_unobserved_pixels_are_ignored():
    model = small_model()
    observed = np.array([True, True, False, False, True, True])
    a = np.array([[1, 0, 0, 0, 1, 1.0]])
    b = np.array([[1, 0, 1, 1, 1, 1.0]])
    assert model.log_p_x(a, observed) == pytest.approx(model.log_p_x(b, observed))


def test_nothing_observed_gives_log_one():
    model = small_model()
    assert model.log_p_x(np.zeros((2, 6)), np.zeros(6, bool)) == pytest.approx([0.0, 0.0], abs=1e-12)


def test_pixel_probs_match_brute_force_conditionals():
    model = small_model(D=6)
    x = np.array([1, 0, 1, 0, 0, 0], dtype=float)
    observed = np.array([True, True, True, False, False, False])
    images, log_p = log_p_completions(model, x, observed)
    post = np.exp(log_p - model.log_p_x(x, observed)[0])
    assert np.allclose(model.pixel_probs(x, observed)[0], post @ images, atol=1e-12)


def test_most_likely_completions_are_ranked_exact_conditionals():
    model = small_model(D=6)
    x = np.array([1, 0, 1, 0, 0, 0], dtype=float)
    observed = np.array([True, True, True, False, False, False])
    images, log_p = model.most_likely_completions(x, observed, top=2)
    assert images.shape[0] <= 2 and np.all(np.diff(log_p) <= 0)
    assert np.all(images[:, observed] == x[observed])
    all_images, all_log_p = log_p_completions(model, x, observed)
    cond = dict(zip(map(tuple, all_images), all_log_p - model.log_p_x(x, observed)[0], strict=True))
    assert np.allclose(log_p, [cond[tuple(r)] for r in images], atol=1e-12)


def test_top_completions_against_itertools_and_scipy():
    """Brute force written here with itertools and scipy's Bernoulli pmf: the top completions and their
    conditional probabilities p(x_mis | x_obs)."""
    model = small_model(D=7, K=3, seed=4)
    x = np.array([1, 0, 1, 0, 0, 1, 0], dtype=float)
    observed = np.array([True, False, True, False, True, False, False])
    scores = {}
    for bits in itertools.product([0.0, 1.0], repeat=4):
        full = x.copy()
        full[~observed] = bits
        per_k = [np.log(w) + stats.bernoulli.logpmf(full, p).sum() for w, p in zip(model.weights, model.probs,
                                                                                   strict=True)]
        scores[tuple(full)] = np.logaddexp.reduce(per_k)
    total = np.logaddexp.reduce(list(scores.values()))
    ranked = sorted(scores, key=scores.get, reverse=True)[:3]
    images, log_p = top_completions(model, x, observed, top=3)
    assert [tuple(r) for r in images] == ranked
    np.testing.assert_allclose(log_p, [scores[r] - total for r in ranked], atol=1e-12)
    with pytest.raises(ValueError, match="top must be >= 1"):
        top_completions(model, x, observed, top=0)


def test_completions_of_several_images_are_refused():
    with pytest.raises(ValueError, match="x must be a single image of shape \\(6,\\)"):
        log_p_completions(small_model(), np.zeros((2, 6)), np.ones(6, bool))


def test_too_many_missing_pixels_are_refused_before_allocation():
    model = small_model(D=64)
    with pytest.raises(ValueError, match="2\\^32 = 4.295e\\+09 completions; brute force is limited to 16"):
        log_p_completions(model, np.zeros(64), np.arange(64) >= 32)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"observed": np.ones(6)}, "observed must be a boolean mask"),
        ({"observed": np.ones(5, bool)}, "observed must have shape"),
        ({"x": np.full((1, 6), 0.5)}, "x must be binary"),
        ({"x": np.zeros((1, 5))}, "x must have shape \\(n_data, 6\\)"),
    ],
)
def test_bad_inputs_name_the_parameter(kwargs, message):
    args = {"x": np.zeros((1, 6)), "observed": None} | kwargs
    with pytest.raises(ValueError, match=message):
        small_model().log_p_x(args["x"], args["observed"])


def test_probs_must_be_strictly_inside_unit_interval():
    with pytest.raises(ValueError, match="probs must lie strictly between 0 and 1"):
        BernoulliMixture([1.0], [[0.0, 0.5]])


def test_em_never_lowers_its_objective_and_beats_one_component():
    images, _ = load_digits()
    x = images.reshape(len(images), -1)[:600]
    rng = np.random.default_rng(0)
    fit = fit_bernoulli_mixture(x, 8, rng, max_iter=300)
    assert fit.converged
    assert np.all(np.diff(fit.history) >= -1e-10)
    single = fit_bernoulli_mixture(x, 1, rng, alpha=0.0, max_iter=5)
    assert fit.model.log_p_x(x).mean() > single.model.log_p_x(x).mean() + 3.0  # 4.8 nats per image measured


def test_n_init_keeps_the_best_of_the_same_runs():
    images, _ = load_digits()
    x = images.reshape(len(images), -1)[:300]
    best = fit_bernoulli_mixture(x, 6, np.random.default_rng(5), n_init=3)
    replay = np.random.default_rng(5)  # each run draws its start from the generator in turn
    singles = [fit_bernoulli_mixture(x, 6, replay) for _ in range(3)]
    assert best.history[-1] == max(run.history[-1] for run in singles)
    with pytest.raises(ValueError, match="n_init must be >= 1"):
        fit_bernoulli_mixture(x, 6, replay, n_init=0)


def test_one_component_ml_fit_is_pixel_means():
    rng = np.random.default_rng(1)
    x = (rng.random((200, 5)) < [0.1, 0.3, 0.5, 0.7, 0.9]).astype(float)
    fit = fit_bernoulli_mixture(x, 1, rng, alpha=0.0, max_iter=5)
    assert np.allclose(fit.model.probs[0], x.mean(axis=0))


def test_em_warns_when_not_converged():
    rng = np.random.default_rng(2)
    x = (rng.random((100, 6)) < 0.5).astype(float)
    with pytest.warns(UserWarning, match="without converging"):
        fit_bernoulli_mixture(x, 3, rng, max_iter=2, tol=0.0)


def test_em_input_checks():
    rng = np.random.default_rng(3)
    with pytest.raises(ValueError, match="Expected n_data >= n_components"):
        fit_bernoulli_mixture(np.zeros((2, 3)), 5, rng)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        fit_bernoulli_mixture(np.zeros((4, 3)), 2, rng, alpha=-1)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"), warnings.catch_warnings():
        fit_bernoulli_mixture(np.zeros((4, 3)), 2, 0)


def test_sample_frequencies_match_probs():
    # 20,000 draws: each pixel frequency within 5 standard errors (failure rate < 1e-5 per pixel)
    model = small_model(D=4, K=2)
    _, x = model.sample(20_000, np.random.default_rng(4))
    marginal = model.weights @ model.probs
    se = np.sqrt(marginal * (1 - marginal) / 20_000)
    assert np.all(np.abs(x.mean(axis=0) - marginal) < 5 * se)
