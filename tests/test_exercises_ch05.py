"""Chapter 05 exercises and capstone: independently written right answers pass, each named mistake fails with its
own diagnosis, untouched stubs are 'not attempted', hints come in steps, and a capstone with one buggy step fails
that step only. The capstone's right solution is written here (torch), not copied from the library."""

import math

import numpy as np
import pytest
from scipy.special import softmax

from lvmlib.exercises import ch05

torch = pytest.importorskip("torch")


def verdict(exercise, answer, capsys):
    ok = exercise.check(answer)
    return ok, capsys.readouterr().out


# ---- exercise 1 -------------------------------------------------------------------------------------------------
def test_ex1_e_step(capsys):
    def naive(log_p_xz):  # exponentiates first: 0 / 0 on the last case
        p = np.exp(log_p_xz)
        with np.errstate(invalid="ignore"):
            return p / p.sum()

    def stub(log_p_xz):
        ...

    assert verdict(ch05.ex1, softmax, capsys)[0] is True
    ok, out = verdict(ch05.ex1, naive, capsys)
    assert ok is False and "case 3 of 3" in out and "under- or overflowed" in out
    ok, out = verdict(ch05.ex1, lambda v: (v == v.max()).astype(float), capsys)
    assert ok is False and "throws away the entropy" in out
    ok, out = verdict(ch05.ex1, lambda v: np.log(softmax(v)), capsys)
    assert ok is False and "log-values where plain values" in out
    ok, out = verdict(ch05.ex1, lambda v: softmax(-v), capsys)
    assert ok is False and "a sign is flipped inside the exponential" in out
    ok, out = verdict(ch05.ex1, lambda v: np.ones_like(v) / v.size, capsys)
    assert ok is False and "you returned the uniform q" in out
    assert verdict(ch05.ex1, stub, capsys)[0] is None


# ---- exercise 2 -------------------------------------------------------------------------------------------------
def test_ex2_kl_between_gaussians(capsys):
    def right(mu_q, sigma_q, mu_p, sigma_p):
        return np.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5

    assert verdict(ch05.ex2, right, capsys)[0] is True
    ok, out = verdict(ch05.ex2, lambda a, b, c, d: right(c, d, a, b), capsys)
    assert ok is False and "you computed KL(p || q)" in out
    ok, out = verdict(ch05.ex2, lambda a, b, c, d: -right(a, b, c, d), capsys)
    assert ok is False and "wrong sign" in out

    def sds_for_variances(mu_q, sigma_q, mu_p, sigma_p):
        return np.log(sigma_p / sigma_q) + (sigma_q + (mu_q - mu_p) ** 2) / (2 * sigma_p) - 0.5

    def log_variance_ratio(mu_q, sigma_q, mu_p, sigma_p):
        return np.log((sigma_p / sigma_q) ** 2) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5

    ok, out = verdict(ch05.ex2, sds_for_variances, capsys)
    assert ok is False and "need their squares" in out
    ok, out = verdict(ch05.ex2, log_variance_ratio, capsys)
    assert ok is False and "needs a factor 1/2" in out
    for mistake in ch05.ex2.mistakes:
        assert "np.log(sigma_p / sigma_q)" not in mistake.message  # a diagnosis never gives the answer
    assert verdict(ch05.ex2, lambda a, b, c, d: ..., capsys)[0] is None


# ---- the capstone, written independently ------------------------------------------------------------------------
def reparameterize(mu, log_sigma, eps):
    return mu + log_sigma.exp() * eps


def elbo_estimate(log_p_xz, x, mu, log_sigma, eps):
    z = reparameterize(mu, log_sigma, eps)
    q = torch.distributions.Normal(mu, log_sigma.exp())
    return torch.mean(log_p_xz(x, z) - q.log_prob(z))


def fit(log_p_xz, x, mu0, log_sigma0, generator, n_steps=400, n_samples=500, lr=0.05, sign=-1.0):
    params = torch.tensor([float(mu0), float(log_sigma0)], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([params], lr=lr)
    for t in range(n_steps):
        for group in optimizer.param_groups:  # linear decay to zero, by hand
            group["lr"] = lr * (1 - t / n_steps)
        eps = torch.randn(n_samples, generator=generator, dtype=torch.float64)
        loss = sign * elbo_estimate(log_p_xz, x, params[0], params[1], eps)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return params[0].item(), params[1].item()


def test_capstone_right_solution_passes_every_step(capsys):
    verdicts = ch05.capstone.check(reparameterize=reparameterize, elbo_estimate=elbo_estimate, fit=fit)
    assert verdicts == {"reparameterize": True, "elbo_estimate": True, "fit": True}, capsys.readouterr().out
    assert "3 of 3 steps correct" in capsys.readouterr().out


STEP1_BUGS = [
    (lambda mu, ls, eps: mu + ls * eps, "multiplied eps by log_sigma itself"),
    (lambda mu, ls, eps: mu + torch.exp(0.5 * ls) * eps, "scale for a log-variance"),
    (lambda mu, ls, eps: (mu + ls.exp() * eps).detach(), "no gradient reaches mu and log_sigma"),
    (lambda mu, ls, eps: torch.tensor(mu.item() + math.exp(ls.item()) * eps.numpy()), "no gradient reaches"),
    (lambda mu, ls, eps: mu - ls.exp() * eps, "you subtracted sigma * eps"),
]


@pytest.mark.parametrize("bug, message", STEP1_BUGS)
def test_step1_mistakes_are_named(bug, message, capsys):
    ok, out = verdict(ch05.step1, bug, capsys)
    assert ok is False and message in out


def entropy_flipped(log_p_xz, x, mu, log_sigma, eps):
    z = reparameterize(mu, log_sigma, eps)
    return torch.mean(log_p_xz(x, z) + torch.distributions.Normal(mu, log_sigma.exp()).log_prob(z))


def iwae_instead(log_p_xz, x, mu, log_sigma, eps):
    z = reparameterize(mu, log_sigma, eps)
    log_w = log_p_xz(x, z) - torch.distributions.Normal(mu, log_sigma.exp()).log_prob(z)
    return torch.logsumexp(log_w, 0) - math.log(len(eps))


def detached_z(log_p_xz, x, mu, log_sigma, eps):
    z = reparameterize(mu, log_sigma, eps).detach()  # gradient only through log q: a wrong gradient
    return torch.mean(log_p_xz(x, z) - torch.distributions.Normal(mu, log_sigma.exp()).log_prob(z))


STEP2_BUGS = [
    (entropy_flipped, "you added log q(z) instead of subtracting it"),
    (lambda *a: -elbo_estimate(*a), "the negative ELBO"),
    (iwae_instead, "estimates L_S of section 5"),
    (detached_z, "is part of the computation detached?"),
    (lambda *a: elbo_estimate(*a).detach(), "no gradient reaches mu and log_sigma"),
    (lambda lp, x, mu, ls, eps: torch.mean(lp(x, reparameterize(mu, ls, eps)) + ls + 0.5 * eps**2),
     "misses the Gaussian's normalizing constant"),
    (lambda lp, x, mu, ls, eps: torch.mean(lp(x, reparameterize(mu, ls, eps)) + 0.5 * math.log(2 * math.pi)
                                           + ls.exp() + 0.5 * eps**2),
     "where the Gaussian's log-density has -log sigma"),
    (lambda lp, x, mu, ls, eps: torch.mean(lp(x, reparameterize(mu, ls, eps))), "you averaged log p(x, z) alone"),
]


@pytest.mark.parametrize("bug, message", STEP2_BUGS)
def test_step2_mistakes_are_named(bug, message, capsys):
    ok, out = verdict(ch05.step2, bug, capsys)
    assert ok is False and message in out


def test_step3_descending_and_frozen_fits_are_named(capsys):
    ok, out = verdict(ch05.step3, lambda *a: fit(*a, n_steps=30, sign=1.0), capsys)
    assert ok is False and "you are descending" in out

    def frozen(log_p_xz, x, mu0, log_sigma0, generator):
        return mu0, log_sigma0

    ok, out = verdict(ch05.step3, frozen, capsys)
    assert ok is False and "never moved" in out

    def detached(log_p_xz, x, mu0, log_sigma0, generator):  # z detached: only log q's -log sigma is differentiated
        mu = torch.tensor(float(mu0), dtype=torch.float64, requires_grad=True)
        log_sigma = torch.tensor(float(log_sigma0), dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.Adam([mu, log_sigma], lr=0.05)
        for _ in range(30):
            eps = torch.randn(100, generator=generator, dtype=torch.float64)
            z = (mu + log_sigma.exp() * eps).detach()
            loss = -torch.mean(log_p_xz(x, z) + log_sigma + 0.5 * eps**2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return mu.item(), log_sigma.item()

    ok, out = verdict(ch05.step3, lambda *a: (lambda m, ls: (m, math.exp(ls)))(*fit(*a)), capsys)
    assert ok is False and "looks like sigma itself" in out

    ok, out = verdict(ch05.step3, detached, capsys)
    assert ok is False and "no gradient reaches mu, so z is detached" in out and "descending" not in out
    ok, out = verdict(ch05.step3, lambda *a: fit(*a, n_steps=20), capsys)  # too short to reach the optimum
    assert ok is False and "below the best Gaussian" in out


def test_capstone_with_one_buggy_step_fails_only_that_step(capsys):
    verdicts = ch05.capstone.check(reparameterize=reparameterize, elbo_estimate=entropy_flipped, fit=fit)
    out = capsys.readouterr().out
    assert verdicts == {"reparameterize": True, "elbo_estimate": False, "fit": True}, out
    assert "2 of 3 steps correct" in out and "you added log q(z) instead of subtracting it" in out
    stubs = ch05.capstone.check()
    assert set(stubs.values()) == {None}


def test_hints_come_in_steps_and_solutions_run(capsys):
    for exercise in (ch05.ex1, ch05.ex2, ch05.step1, ch05.step2, ch05.step3):
        assert len(exercise.hints) >= 2
    namespace = {"np": np, "torch": torch, "math": math}
    for exercise, name in [(ch05.step1, "reparameterize"), (ch05.step2, "elbo_estimate"), (ch05.step3, "fit")]:
        exercise.solution()
        code = capsys.readouterr().out.split("\n\n")[-1]
        exec(code, namespace)  # the printed solution, pasted as a learner would
        assert exercise.check(namespace[name]) is True, capsys.readouterr().out


def test_try_this_answers_are_computed(capsys):
    for try_this in (ch05.try_jensen, ch05.try_discrete, ch05.try_continuous):
        for key in try_this.answers:
            try_this.reveal(key)
            assert f"Try this {key}:" in capsys.readouterr().out
    ch05.try_discrete.reveal("1")  # the E-step closes the gap to rounding
    out = capsys.readouterr().out
    assert abs(float(out.split("the KL is ")[1].split(". ")[0])) < 1e-12, out
