"""Chapter 02 exercises: an independent right answer (scipy), a wrong one and the untouched stub for each."""

import numpy as np
from scipy.special import logsumexp, xlogy
from scipy.stats import multivariate_normal

from lvmlib.exercises import ch02


def _log_joint(X, weights, means, covs):
    return np.stack([np.log(w) + multivariate_normal(m, c).logpdf(X)
                     for w, m, c in zip(weights, means, covs, strict=True)], axis=1)


def _stub(*args):
    ...


def test_ex1_log_responsibilities():
    right = lambda X, w, m, c: _log_joint(X, w, m, c) - logsumexp(_log_joint(X, w, m, c), axis=1, keepdims=True)
    assert ch02.ex1.check(right) is True

    def naive(X, w, m, c):  # exponentiates first: NaN for the far point
        p = np.exp(_log_joint(X, w, m, c))
        with np.errstate(invalid="ignore"):
            return np.log(p / p.sum(axis=1, keepdims=True))

    assert ch02.ex1.check(naive) is False
    assert ch02.ex1.check(_stub) is None


def test_ex2_m_step_means():
    right = lambda X, r: np.stack([np.average(X, axis=0, weights=r[:, k]) for k in range(r.shape[1])])
    assert ch02.ex2.check(right) is True
    assert ch02.ex2.check(lambda X, r: r.T @ X / len(X)) is False  # divides by n, not N_k
    assert ch02.ex2.check(_stub) is None


def test_ex3_elbo():
    right = lambda X, r, w, m, c: np.mean(np.sum(r * np.where(r > 0, _log_joint(X, w, m, c), 0), axis=1)
                                          - np.sum(xlogy(r, r), axis=1))
    assert ch02.ex3.check(right) is True
    no_entropy = lambda X, r, w, m, c: np.mean(np.sum(r * _log_joint(X, w, m, c), axis=1))
    assert ch02.ex3.check(no_entropy) is False
    assert ch02.ex3.check(_stub) is None


def test_printed_solutions_run_with_the_notebooks_imports_and_pass(capsys):
    # a learner pastes solution() into the notebook, where only np, multivariate_normal and logsumexp are imported
    for ex, name in ((ch02.ex1, "log_responsibilities"), (ch02.ex2, "m_step_means"), (ch02.ex3, "elbo_per_point")):
        capsys.readouterr()  # drop earlier verdicts
        ex.solution()
        code = capsys.readouterr().out.split("\n", 1)[1]  # the lines after the title
        namespace = {"np": np, "multivariate_normal": multivariate_normal, "logsumexp": logsumexp}
        exec(code, namespace)
        assert ex.check(namespace[name]) is True
