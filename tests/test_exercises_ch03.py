"""Chapter 03 exercises: independent right answers pass, each named mistake fails with its own diagnosis, the stub is
'not attempted', hints come in steps; the capstone's references agree with brute force written here; a full right
capstone passes every step and one bug fails only its own step."""

import itertools

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp

from lvmlib.bernoulli_mixture import BernoulliMixture
from lvmlib.exercises import ch03

B = ch03.BINARY_MODEL


def _stub(*args):
    ...


def _verdict(ex, answer):
    return ex.verdict(answer)


# ---- exercise 1: the grid ---------------------------------------------------------------------------------------
def right_ex1(x, z_grid):
    """The trapezoid rule written out in log space, with scipy's normal densities."""
    log_f = stats.norm.logpdf(z_grid)[None, :] + stats.norm.logpdf(x, 1.5 * z_grid[None, :], 0.8)  # (n, m)
    pair = np.logaddexp(log_f[:, :-1], log_f[:, 1:]) + np.log(np.diff(z_grid) / 2)
    return logsumexp(pair, axis=1)


def test_ex1_reference_matches_closed_form_and_quad():
    x = np.array([[-3.0], [0.0], [1.7], [4.0]])
    np.testing.assert_allclose(ch03.ex1.reference(x, ch03.Z_GRID), stats.norm.logpdf(x[:, 0], 0, np.hypot(1.5, 0.8)),
                               atol=1e-10)
    # the coarse case: scipy's own trapezoid on the same 7 points
    z = np.linspace(-1.0, 2.0, 7)
    f = stats.norm.pdf(z) * stats.norm.pdf(0.5, 1.5 * z, 0.8)
    assert ch03.ex1.reference(np.array([[0.5]]), z)[0] == pytest.approx(np.log(integrate.trapezoid(f, z)), abs=1e-12)


def test_ex1_right_answer_and_mistakes(capsys):
    assert ch03.ex1.check(right_ex1) is True
    expected = {
        "exp then trapezoid then log": ("case 4 of 4", "exponentiated before summing"),
        "no half weights at the ends": ("case 3 of 4", "half weight"),
        "spacing missing": ("case 1 of 4", "spacing dz is missing"),
    }
    for mistake in ch03.ex1.mistakes:
        ok, message = _verdict(ch03.ex1, mistake.wrong)
        case, words = expected[mistake.name]
        assert ok is False and case in message and words in message, (mistake.name, message)
    assert ch03.ex1.check(_stub) is None
    assert "not attempted" in capsys.readouterr().out
    assert len(ch03.ex1.hints) >= 2


def test_ex1_catches_the_naive_answer_only_through_the_underflow_case():
    """The issue: exp -> np.trapezoid -> log passed because no case underflowed. It passes cases 1-3 and fails 4."""
    def naive(x, z_grid):
        with np.errstate(divide="ignore", under="ignore"):
            return np.log(np.trapezoid(stats.norm.pdf(z_grid) * stats.norm.pdf(x, 1.5 * z_grid, 0.8), z_grid, axis=1))

    for case in ch03.ex1.cases[:3]:
        np.testing.assert_allclose(naive(*case.args), ch03.ex1.reference(*case.args), rtol=1e-9)
    ok, message = _verdict(ch03.ex1, naive)
    assert ok is False and "case 4 of 4" in message and "-inf" in message


# ---- exercise 2: the gradient identity --------------------------------------------------------------------------
def _log_joint_scipy(x_n, z):
    z = np.asarray(z, dtype=float)
    log_prior = np.sum(np.where(z == 1, np.log(B.prior_p), np.log1p(-B.prior_p)))
    return log_prior + stats.multivariate_normal(B.W @ z + B.b, B.sigma_x**2 * np.eye(B.d_x)).logpdf(x_n)


def right_ex2(x):
    configs = np.array(list(itertools.product([0, 1], repeat=B.d)), dtype=float)
    grad = np.zeros_like(B.W)
    for x_n in x:
        log_joint = np.array([_log_joint_scipy(x_n, z) for z in configs])
        post = np.exp(log_joint - logsumexp(log_joint))
        for p, z in zip(post, configs, strict=True):
            grad += p * np.outer(x_n - B.W @ z - B.b, z) / B.sigma_x**2
    return grad


def test_ex2_reference_matches_finite_differences():
    x = ch03.ex2.cases[1].args[0]
    eps, fd = 1e-5, np.zeros_like(B.W)
    for i in np.ndindex(B.W.shape):
        step = np.zeros_like(B.W)
        step[i] = eps
        fd[i] = (_total_at(B.W + step, x) - _total_at(B.W - step, x)) / (2 * eps)
    np.testing.assert_allclose(ch03.ex2.reference(x), fd, atol=1e-6)


def _total_at(W, x):
    configs = list(itertools.product([0, 1], repeat=B.d))
    out = 0.0
    for x_n in x:
        terms = []
        for z in configs:
            z = np.asarray(z, dtype=float)
            log_prior = np.sum(np.where(z == 1, np.log(B.prior_p), np.log1p(-B.prior_p)))
            terms.append(log_prior + stats.multivariate_normal(W @ z + B.b, B.sigma_x**2 * np.eye(2)).logpdf(x_n))
        out += logsumexp(terms)
    return out


def test_ex2_right_answer_and_mistakes(capsys):
    assert ch03.ex2.check(right_ex2) is True
    words = {"joint instead of posterior": "normalized over z", "prior instead of posterior": "under the prior",
             "normalized over the data points": "over the configurations z"}
    for mistake in ch03.ex2.mistakes:
        ok, message = _verdict(ch03.ex2, mistake.wrong)
        assert ok is False and words[mistake.name] in message, (mistake.name, message)
    ok, message = _verdict(ch03.ex2, lambda x: -right_ex2(x))  # the residual's sign flipped
    assert ok is False and "wrong sign" in message
    assert ch03.ex2.check(_stub) is None
    assert "not attempted" in capsys.readouterr().out
    assert len(ch03.ex2.hints) >= 2


# ---- the capstone: references against brute force written here ---------------------------------------------------
def _brute(x, observed, log_pi, mu):
    """Every completion with itertools and scipy's Bernoulli pmf: (log p(x_obs | k) (K,), log p(x_obs),
    p(k | x_obs) (K,), E[x | x_obs] (D,))."""
    hidden = np.flatnonzero(~observed)
    log_pk = []  # (n_completions, K): log p(k, completion)
    images = []
    for bits in itertools.product([0.0, 1.0], repeat=hidden.size):
        full = x.copy()
        full[hidden] = bits
        images.append(full)
        log_pk.append([lp + stats.bernoulli.logpmf(full, m).sum() for lp, m in zip(log_pi, mu, strict=True)])
    log_pk, images = np.array(log_pk), np.array(images)
    log_p_obs_k = logsumexp(log_pk, axis=0) - log_pi
    log_p_obs = logsumexp(log_pk)
    post = np.exp(logsumexp(log_pk, axis=0) - log_p_obs)
    fill = np.exp(logsumexp(log_pk, axis=1) - log_p_obs) @ images
    return log_p_obs_k, log_p_obs, post, fill


@pytest.mark.parametrize("j", [0, 1])
def test_capstone_references_match_brute_force(j):
    args = ch03.capstone.log_p_obs.cases[j].args
    x, observed, log_pi, mu = args
    log_p_obs_k, log_p_obs, post, fill = _brute(x, observed, log_pi, mu)
    np.testing.assert_allclose(ch03.capstone.log_p_obs_given_k.reference(x, observed, mu), log_p_obs_k, atol=1e-9)
    assert ch03.capstone.log_p_obs.reference(*args) == pytest.approx(log_p_obs, abs=1e-9)
    np.testing.assert_allclose(ch03.capstone.posterior_k.reference(*args), post, atol=1e-12)
    np.testing.assert_allclose(ch03.capstone.fill_in.reference(*args), fill, atol=1e-12)


def test_capstone_case_b_underflows_in_plain_arithmetic():
    x, observed, log_pi, mu = ch03.capstone.log_p_obs.cases[1].args
    p = np.where(observed, mu**x * (1 - mu) ** (1 - x), 1.0)
    assert np.all(np.prod(p, axis=1) == 0.0)  # the product of 60 probabilities is 0 in float64
    assert np.isfinite(ch03.capstone.log_p_obs.reference(*ch03.capstone.log_p_obs.cases[1].args))


def test_capstone_case_c_reference_is_lvmlib():
    x, observed, log_pi, mu = ch03.capstone.fill_in.cases[2].args
    model = BernoulliMixture(np.exp(log_pi), mu)
    assert ch03.capstone.log_p_obs.reference(x, observed, log_pi, mu) == pytest.approx(
        model.log_p_x(x, observed)[0], abs=1e-12)
    np.testing.assert_allclose(ch03.capstone.fill_in.reference(x, observed, log_pi, mu),
                               model.pixel_probs(x, observed)[0], atol=1e-12)


# ---- the capstone: a learner's full solution, written here -------------------------------------------------------
def my_log_p_obs_given_k(x, observed, mu):
    out = np.zeros(mu.shape[0])
    for j in np.flatnonzero(observed):
        out += np.log(mu[:, j]) if x[j] == 1 else np.log(1 - mu[:, j])
    return out


def my_log_p_obs(x, observed, log_pi, mu):
    a = log_pi + my_log_p_obs_given_k(x, observed, mu)
    top = a.max()
    return top + np.log(np.exp(a - top).sum())


def my_posterior_k(x, observed, log_pi, mu):
    return np.exp(log_pi + my_log_p_obs_given_k(x, observed, mu) - my_log_p_obs(x, observed, log_pi, mu))


def my_fill_in(x, observed, log_pi, mu):
    out = x.astype(float).copy()
    out[~observed] = (my_posterior_k(x, observed, log_pi, mu)[:, None] * mu[:, ~observed]).sum(axis=0)
    return out


RIGHT = {"log_p_obs_given_k": my_log_p_obs_given_k, "log_p_obs": my_log_p_obs, "posterior_k": my_posterior_k,
         "fill_in": my_fill_in}


def test_capstone_full_right_solution_passes_every_step(capsys):
    verdicts = ch03.capstone.check(**RIGHT)
    assert verdicts == dict.fromkeys(RIGHT, True)
    assert "4 of 4 steps correct" in capsys.readouterr().out


def _buggy_posterior(x, observed, log_pi, mu):  # forgets to normalize
    return np.exp(log_pi + my_log_p_obs_given_k(x, observed, mu))


def _buggy_log_p_obs_given_k(x, observed, mu):  # all pixels, hidden included
    return my_log_p_obs_given_k(x, np.ones_like(observed), mu)


@pytest.mark.parametrize(("step", "bug", "words"), [
    ("posterior_k", _buggy_posterior, "not normalized"),
    ("log_p_obs_given_k", _buggy_log_p_obs_given_k, "hidden ones included"),
])
def test_capstone_one_bug_fails_only_its_step(step, bug, words, capsys):
    answers = dict(RIGHT, **{step: bug})
    verdicts = ch03.capstone.check(**answers)
    assert verdicts[step] is False
    assert all(v is True for name, v in verdicts.items() if name != step)
    out = capsys.readouterr().out
    assert words in out and "3 of 4 steps correct" in out


CAPSTONE_WORDS = {
    "log_p_obs_given_k": {"hidden pixels included": "hidden ones included",
                          "probabilities summed over pixels": "log-probabilities add",
                          "product of probabilities underflows": "underflowed to 0",
                          "mask reversed": "hidden pixels only"},
    "log_p_obs": {"log pi_k forgotten": "mixture weights are missing", "hidden pixels included": "one particular "
                  "completion", "exp then sum then log": "underflowed to 0"},
    "posterior_k": {"not normalized": "not normalized", "hidden pixels included": "only the observed pixels are "
                    "evidence", "log pi_k forgotten": "prior weights pi_k are missing"},
    "fill_in": {"prior instead of posterior": "the prior", "one component only": "only the most probable",
                "observed pixels overwritten": "keep their observed values",
                "responsibilities not normalized": "do not sum to one over k", "rounded to 0 or 1": "rounded"},
}


@pytest.mark.parametrize("step", list(CAPSTONE_WORDS))
def test_capstone_mistakes_get_their_own_diagnosis(step, capsys):
    ex = ch03.capstone.steps[step]
    assert {m.name for m in ex.mistakes} == set(CAPSTONE_WORDS[step])
    for mistake in ex.mistakes:
        ok, message = ex.verdict(mistake.wrong)
        assert ok is False and CAPSTONE_WORDS[step][mistake.name] in message, (step, mistake.name, message)
    assert ex.check(_stub) is None
    assert "not attempted" in capsys.readouterr().out
    assert len(ex.hints) >= 2 and ex.explanation


def test_learner_underflow_in_step_1_is_caught_on_the_confident_case():
    def product_then_log(x, observed, mu):
        p = np.where(observed, mu**x * (1 - mu) ** (1 - x), 1.0)
        with np.errstate(divide="ignore"):
            return np.log(p.prod(axis=1))

    ok, message = ch03.capstone.log_p_obs_given_k.verdict(product_then_log)
    assert ok is False and "case 2 of 3" in message and "underflowed" in message


def test_compare_fill_in():
    model = BernoulliMixture([0.6, 0.4], [[0.2, 0.7, 0.9], [0.8, 0.1, 0.5]])
    x, observed = np.array([1.0, 0.0, 1.0]), np.array([True, False, True])
    assert ch03.compare_fill_in(_stub, model, x, observed) is None
    yours, ref = ch03.compare_fill_in(my_fill_in, model, x, observed)
    np.testing.assert_allclose(yours, ref, atol=1e-12)


def test_printed_solutions_pass_their_checks():
    """Each solution text, run with the names the notebook provides, passes its own check."""
    import textwrap

    from lvmlib.logspace import log_trapezoid

    namespace = {"np": np, "logsumexp": logsumexp, "log_trapezoid": log_trapezoid, "linear": ch03.LINEAR_MODEL,
                 "binary": ch03.BINARY_MODEL}
    exercises = {"log_p_x_by_grid": ch03.ex1, "grad_W": ch03.ex2, **ch03.capstone.steps}
    for ex in exercises.values():
        exec(textwrap.dedent(ex._solution), namespace)
    for name, ex in exercises.items():  # each solution defines the function the notebook names after its step
        assert ex.verdict(namespace[name])[0] is True, name


def test_learner_mistakes_written_here_get_their_diagnosis():
    """Wrong answers written independently of the library's Mistake functions (as a learner would write them)."""
    def fill_unnormalized(x, observed, log_pi, mu):
        w = np.exp(log_pi + my_log_p_obs_given_k(x, observed, mu))
        out = x.astype(float).copy()
        out[~observed] = w @ mu[:, ~observed]
        return out

    def grad_over_data(x):
        configs = np.array(list(itertools.product([0, 1], repeat=B.d)), dtype=float)
        log_joint = np.array([[_log_joint_scipy(x_n, z) for x_n in x] for z in configs])  # (16, n)
        w = np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))
        return sum(w[c, n] * np.outer(x[n] - B.W @ z - B.b, z) for c, z in enumerate(configs)
                   for n in range(len(x))) / B.sigma_x**2

    ok, message = ch03.capstone.fill_in.verdict(fill_unnormalized)
    assert ok is False and "do not sum to one over k" in message
    ok, message = ch03.ex2.verdict(grad_over_data)
    assert ok is False and "over the configurations z" in message
