"""Chapter 05 exercises: an independently written right answer passes, a wrong one fails, the stub is 'not
attempted'."""

import numpy as np
from scipy.special import softmax
from scipy.stats import norm

from lvmlib.exercises import ch05


def test_ex1_elbo_by_monte_carlo():
    def right(x, mu, sigma, eps):
        z = mu + sigma * eps
        log_joint = norm.logpdf(z) + norm.logpdf(x, z**2 + 0.3 * z, 0.5)
        return np.mean(log_joint - norm.logpdf(z, mu, sigma))

    def wrong(x, mu, sigma, eps):  # log of the mean weight: the IWAE/log-estimator, not the ELBO
        z = mu + sigma * eps
        log_w = norm.logpdf(z) + norm.logpdf(x, z**2 + 0.3 * z, 0.5) - norm.logpdf(z, mu, sigma)
        return np.log(np.mean(np.exp(log_w)))

    def stub(x, mu, sigma, eps):
        ...

    assert ch05.ex1.check(right) is True
    assert ch05.ex1.check(wrong) is False
    assert ch05.ex1.check(stub) is None


def test_ex2_kl_between_gaussians():
    def right(mu_q, sigma_q, mu_p, sigma_p):
        return np.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5

    def wrong(mu_q, sigma_q, mu_p, sigma_p):  # arguments swapped: KL(p || q)
        return right(mu_p, sigma_p, mu_q, sigma_q)

    def stub(mu_q, sigma_q, mu_p, sigma_p):
        ...

    assert ch05.ex2.check(right) is True
    assert ch05.ex2.check(wrong) is False
    assert ch05.ex2.check(stub) is None


def test_ex3_e_step():
    def right(log_p_xz):
        return softmax(log_p_xz)

    def naive(log_p_xz):  # exponentiates first: 0 / 0 on the last case
        p = np.exp(log_p_xz)
        with np.errstate(invalid="ignore"):
            return p / p.sum()

    def stub(log_p_xz):
        ...

    assert ch05.ex3.check(right) is True
    assert ch05.ex3.check(naive) is False
    assert ch05.ex3.check(stub) is None


def test_printed_solutions_run_and_pass(capsys):
    # a learner pastes the printed solution into the notebook, where np and model exist: it must pass as printed
    for ex in (ch05.ex1, ch05.ex2, ch05.ex3):
        ex.solution()
        code = capsys.readouterr().out.split("\n\n", 1)[1]
        namespace = {"np": np, "model": ch05.MODEL}
        exec(code, namespace)
        (answer,) = [v for k, v in namespace.items() if callable(v) and k.startswith(("elbo", "kl", "best"))]
        assert ex.check(answer) is True


