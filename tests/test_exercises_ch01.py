"""Chapter 01 exercises and capstone: independent right answers pass, each named mistake gets its own diagnosis,
untouched stubs are "not attempted", and the capstone's steps are checked one by one."""

import numpy as np
import pytest
from scipy import stats

from lvmlib.exercises import ch01

M = ch01.MIXTURE


def _stub(*args):
    ...


def _log_p_x_scipy(x):
    comps = [np.log(w) + stats.multivariate_normal(mu, c).logpdf(x)
             for w, mu, c in zip(M.weights, M.means, M.covs, strict=True)]
    return np.logaddexp.reduce(np.atleast_2d(np.stack(comps, axis=-1)), axis=1)


def _verdict(exercise, answer, capsys):
    result = exercise.check(answer)
    return result, capsys.readouterr().out


# ---- exercise 1 -----------------------------------------------------------------------------------------------
def test_ex1_reference_and_an_independent_answer_pass(capsys):
    assert _verdict(ch01.ex1, _log_p_x_scipy, capsys)[0] is True
    assert _verdict(ch01.ex1, ch01.ex1.reference, capsys)[0] is True


@pytest.mark.parametrize("wrong, words", [
    (lambda x: _log_p_x_scipy(x) - np.log(3), "averaged p(x, z) over the three values"),
    (lambda x: np.logaddexp.reduce(M.log_p_x_given_z(x), axis=1), "the prior weights are missing"),
    (lambda x: np.logaddexp.reduce(M.log_p_xz(x), axis=0), "summed over the data points (axis 0)"),
    (lambda x: np.log(np.exp(M.log_p_xz(x)).sum(axis=1)), "every term underflows to 0.0"),
])
def test_ex1_each_mistake_has_its_own_diagnosis(wrong, words, capsys):
    with np.errstate(divide="ignore"):
        ok, out = _verdict(ch01.ex1, wrong, capsys)
    assert ok is False and words in out


# ---- exercise 2 -----------------------------------------------------------------------------------------------
def test_ex2_right_and_wrong(capsys):
    assert _verdict(ch01.ex2, lambda z: np.array([np.mean(z == k) for k in range(3)]), capsys)[0] is True
    for wrong, words in [(lambda z: np.array([np.sum(z == k) for k in range(3)]),
                          "divide by n, the number of data points"),
                         (lambda z: np.full(3, 1 / 3), "you returned equal weights"),
                         (lambda z: np.bincount(z) / len(z), "a label that never occurs was dropped")]:
        ok, out = _verdict(ch01.ex2, wrong, capsys)
        assert ok is False and words in out, out


def test_untouched_stubs_are_not_attempted_and_hints_come_in_steps(capsys):
    for exercise in (ch01.ex1, ch01.ex2, ch01.step_sample, ch01.step_log_posterior):
        ok, out = _verdict(exercise, _stub, capsys)
        assert ok is None and "not attempted" in out
        assert 2 <= len(exercise.hints) <= 3
        exercise.solution()
        assert "A solution for" in capsys.readouterr().out


# ---- capstone: a right solution written here (not the library's) ------------------------------------------------
def my_sample(weights, means, covs, n, rng):
    """Inverse-CDF sampling of z and an eigen-decomposition square root of each covariance."""
    u = rng.random(n)
    z = np.searchsorted(np.cumsum(weights), u, side="right").clip(max=len(weights) - 1)
    x = np.empty((n, means.shape[1]))
    for k in range(len(weights)):
        vals, vecs = np.linalg.eigh(covs[k])
        root = vecs * np.sqrt(vals)                       # root @ root.T = covs[k]
        idx = np.flatnonzero(z == k)
        x[idx] = means[k] + rng.standard_normal((len(idx), means.shape[1])) @ root.T
    return z, x


def my_log_posterior(x, weights, means, covs):
    out = []
    for w, m, c in zip(weights, means, covs, strict=True):
        diff = x - m
        maha = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(c), diff)
        out.append(np.log(w) - 0.5 * maha - 0.5 * np.log(np.linalg.det(2 * np.pi * c)))
    log_joint = np.stack(out, axis=1)
    top = log_joint.max(axis=1, keepdims=True)
    return log_joint - top - np.log(np.exp(log_joint - top).sum(axis=1, keepdims=True))


def test_capstone_right_solution_passes_every_step(capsys):
    verdicts = ch01.capstone.check(sample=my_sample, log_posterior=my_log_posterior)
    assert verdicts == {"sample": True, "log_posterior": True}
    assert "2 of 2 steps correct" in capsys.readouterr().out


def test_capstone_stubs_are_not_attempted(capsys):
    verdicts = ch01.capstone.check(sample=_stub, log_posterior=_stub)
    assert verdicts == {"sample": None, "log_posterior": None}


def _uniform_z(weights, means, covs, n, rng):
    z, x = my_sample(np.full(len(weights), 1 / len(weights)), means, covs, n, rng)
    return z, x


def _cov_as_sd(weights, means, covs, n, rng):
    z = rng.choice(len(weights), size=n, p=weights)
    return z, means[z] + np.einsum("nij,nj->ni", covs[z], rng.standard_normal((n, 2)))


def _variance_as_sd(weights, means, covs, n, rng):
    z = rng.choice(len(weights), size=n, p=weights)
    return z, means[z] + rng.standard_normal((n, 2)) * np.diagonal(covs, axis1=1, axis2=2)[z]


def _no_correlation(weights, means, covs, n, rng):
    z = rng.choice(len(weights), size=n, p=weights)
    return z, means[z] + rng.standard_normal((n, 2)) * np.sqrt(np.diagonal(covs, axis1=1, axis2=2)[z])


def _cholesky_transposed(weights, means, covs, n, rng):
    z = rng.choice(len(weights), size=n, p=weights)
    return z, means[z] + np.einsum("nji,nj->ni", np.linalg.cholesky(covs)[z], rng.standard_normal((n, 2)))


def _fixed_seed(weights, means, covs, n, rng):
    return my_sample(weights, means, covs, n, np.random.default_rng(0))


def _mean_ignores_z(weights, means, covs, n, rng):
    z, x = my_sample(weights, means, covs, n, rng)
    return z, x - means[z] + means[0]


def _global_random(weights, means, covs, n, rng):
    return my_sample(weights, means, covs, n, np.random.default_rng())


@pytest.mark.parametrize("buggy, words", [
    (_uniform_z, "close to uniform"),
    (_cov_as_sd, "multiplied the noise by the covariance itself"),
    (_variance_as_sd, "used the variances as standard deviations"),
    (_no_correlation, "no correlation"),
    (_cholesky_transposed, "transposed Cholesky factor"),
    (_mean_ignores_z, "must be centred at means[1]"),
    (_global_random, "draw every random number from the rng argument"),
    (_fixed_seed, "no np.random.seed inside the function"),
])
def test_capstone_a_buggy_sampler_fails_only_that_step_with_its_diagnosis(buggy, words, capsys):
    verdicts = ch01.capstone.check(sample=buggy, log_posterior=my_log_posterior)
    out = capsys.readouterr().out
    assert verdicts == {"sample": False, "log_posterior": True}
    assert words in out, out


def test_capstone_a_sampler_too_slow_is_told_to_vectorize(monkeypatch, capsys):
    import time

    def one_at_a_time(weights, means, covs, n, rng):  # stands in for a python loop over 20 000 draws
        time.sleep(1.0)
        return my_sample(weights, means, covs, n, rng)

    monkeypatch.setattr(ch01, "SAMPLE_TIMEOUT", 0.5)
    ok, out = _verdict(ch01.capstone.sample, one_at_a_time, capsys)
    assert ok is False and "took more than 0.5 s: draw all n samples at once" in out, out


def _forgot_normalization(x, w, m, c):
    return ch01._log_joint(x, w, m, c)


def _probabilities(x, w, m, c):
    return np.exp(my_log_posterior(x, w, m, c))


def _wrong_axis(x, w, m, c):
    lj = ch01._log_joint(x, w, m, c)
    return lj - np.logaddexp.reduce(lj, axis=0, keepdims=True)


def _no_prior(x, w, m, c):
    return my_log_posterior(x, np.ones(len(w)) / len(w), m, c)


def _exp_first(x, w, m, c):
    p = np.exp(ch01._log_joint(x, w, m, c))
    return np.log(p / p.sum(axis=1, keepdims=True))


@pytest.mark.parametrize("buggy, words", [
    (_forgot_normalization, "you returned log p(x, z)"),
    (_probabilities, "you returned probabilities p(z | x)"),
    (_wrong_axis, "normalized over the data points (axis 0)"),
    (_no_prior, "ignores the weights pi"),
    (_exp_first, "0/0 = nan"),
])
def test_capstone_a_buggy_posterior_fails_only_that_step_with_its_diagnosis(buggy, words, capsys):
    with np.errstate(all="ignore"):
        verdicts = ch01.capstone.check(sample=my_sample, log_posterior=buggy)
    out = capsys.readouterr().out
    assert verdicts == {"sample": True, "log_posterior": False}
    assert words in out, out


# ---- the checks themselves: calibrated, and able to fail ---------------------------------------------------------
def test_sampling_check_false_failure_rate_over_500_seeds():
    # 13 tests at level 3e-5 per model: a correct sampler fails with probability < 3.9e-4; over 500 seeds x
    # 2 models we expect < 0.39 failures (seen: 0), and the test fails only if >= 5 occur (Poisson(0.39): < 1e-4).
    # (It allowed 2 at level 5e-5, a rate < 6.5e-4: then 3 or more occur with probability ~0.03, not < 1e-4.)
    failures = 0
    for seed in range(500):
        for model in (ch01.SKEWED, M):
            z, x = model.sample(ch01.N_CHECK, np.random.default_rng(seed))
            failures += bool(ch01._sampling_problems(z, x, model))
    assert failures <= 4


def test_reference_posterior_agrees_with_brute_force_bayes_where_nothing_underflows():
    for args in ch01._POST_ARGS:
        np.testing.assert_allclose(ch01._log_posterior(ch01._NEAR, *args),
                                   ch01._log_posterior_brute_force(ch01._NEAR, *args), rtol=1e-10, atol=1e-12)


def test_planted_errors_make_the_key_checks_fail(capsys):
    # a wrong log p(x) (5 nats too high) fails exercise 1; a posterior off by a planted 0.01 nat fails step 2
    assert ch01.ex1.check(lambda x: _log_p_x_scipy(x) + 5.0) is False
    assert ch01.step_log_posterior.check(lambda *a: my_log_posterior(*a) + np.array([0.01, -0.01, 0.0])) is False
    # a sampler whose component B is 5% too wide fails the statistical sampling check
    def wide(weights, means, covs, n, rng):
        return my_sample(weights, means, covs * np.array([1.0, 1.1025, 1.0])[:, None, None], n, rng)

    assert ch01.step_sample.check(wide) is False
    capsys.readouterr()


def test_printed_solutions_run_with_the_notebooks_names_and_pass(capsys):
    import textwrap

    from scipy.special import logsumexp

    for ex, name in ((ch01.ex1, "log_p_x"), (ch01.ex2, "weights_mle"), (ch01.step_sample, "sample_mixture"),
                     (ch01.step_log_posterior, "log_posterior")):
        namespace = {"np": np, "logsumexp": logsumexp, "mixture": M, "stats": stats}
        exec(textwrap.dedent(ex._solution), namespace)
        assert ex.check(namespace[name]) is True, capsys.readouterr().out


# ---- the chapter's own key checks fail when an error is planted ------------------------------------------------
def _chapter_cells(*needles):
    """Sources of the notebook's code cells containing each needle, in order (the import cell first)."""
    from pathlib import Path

    import nbformat

    nb = nbformat.read(Path(__file__).parents[1] / "notebooks" / "01_latent_variables.ipynb", as_version=4)
    code = [c.source.replace("%matplotlib inline", "") for c in nb.cells if c.cell_type == "code"]
    picked = []
    for needle in needles:
        hits = [s for s in code if needle in s]
        assert len(hits) == 1, needle
        picked.append(hits[0])
    return picked


def _run_cells(sources, plant=None):
    import matplotlib

    matplotlib.use("Agg")
    namespace = {}
    for src in sources:
        if plant is not None and plant[0] in src:
            src = src.replace(*plant)
        exec(compile(src, "chapter-01-cell", "exec"), namespace)
    return namespace


_KEY_CELLS = ("rng = np.random.default_rng(2026)", "z, x = mixture.sample(N_SAMPLES, rng)",
              "log_p_x = logsumexp(log_joint, axis=1)", "posterior = mixture.posterior(x_probe)",
              "var_exact = within + between", "mu4 = np.sum(", "ks = stats.kstest(")


@pytest.mark.parametrize("plant", [
    ("log_p_x = logsumexp(log_joint, axis=1)", "log_p_x = logsumexp(log_joint, axis=1) - np.log(3)"),  # averaged
    ("posterior = mixture.posterior(x_probe)",  # a posterior 0.1% off, still normalized
     "posterior = mixture.posterior(x_probe) ** 1.001; posterior /= posterior.sum(axis=1, keepdims=True)"),
    ("z, x = mixture.sample(N_SAMPLES, rng)", "z, x = mixture.sample(N_SAMPLES, rng); x = x * [1.1, 1.0]"),  # too wide
    ("z, x = mixture.sample(N_SAMPLES, rng)", "z, x = mixture.sample(N_SAMPLES, rng); x = x + [0.3, 0.0]"),  # shifted
])
def test_planted_errors_make_the_chapters_key_asserts_fail(plant):
    cells = _chapter_cells(*_KEY_CELLS)
    _run_cells(cells)  # as written, every check passes
    with pytest.raises(AssertionError):
        _run_cells(cells, plant)
