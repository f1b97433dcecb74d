"""Chapter 05 exercises: the E-step as ELBO maximization, the KL between two Gaussians, and the capstone:
gradient ascent on the ELBO of a Gaussian q by reparameterization, with torch autograd.

torch is imported lazily, inside the capstone's checks and its ``log_joint_torch`` helper only: the rest of the
chapter (and of lvmlib) runs without it. Answers for the explorers' "Try this" prompts are here too
(:data:`try_jensen`, :data:`try_discrete`, :data:`try_continuous`), computed by the explorers' update functions.
"""

import math

import numpy as np

from lvmlib import elbo as lvm_elbo
from lvmlib.distributions import kl_normal, log_normal
from lvmlib.examples import LinearGaussian, NonlinearModel1D, three_cluster_mixture
from lvmlib.exercises import Capstone, Case, Exercise, Mistake, NotAttempted, TryThis, compare
from lvmlib.logspace import normalize_log
from lvmlib.widgets.elbo_explorer import continuous_update, discrete_update
from lvmlib.widgets.jensen import chord_update, many_update

MODEL = NonlinearModel1D()  # z ~ N(0, 1), x | z ~ N(z^2 + 0.3 z, 0.5^2), as in the notebook
LINEAR = LinearGaussian()   # z ~ N(0, 1), x | z ~ N(1.5 z, 0.8^2)
MIXTURE = three_cluster_mixture()

# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: the E-step maximizes the ELBO over q
# ---------------------------------------------------------------------------------------------------------------
def _best_q(log_p_xz):
    return np.exp(normalize_log(log_p_xz))


def _one_hot_at_max(log_p_xz):
    return (log_p_xz == log_p_xz.max()).astype(float)


def _sign_flipped_softmax(log_p_xz):
    return np.exp(normalize_log(-log_p_xz))


def _uniform(log_p_xz):
    return np.full(log_p_xz.shape, 1.0 / log_p_xz.shape[-1])


ex1 = Exercise(
    "Exercise 1 (the E-step maximizes the ELBO over q)",
    _best_q,
    hints=[
        "Which q makes the gap KL(q || p(z|x)) zero? The ELBO cannot rise above log p(x).",
        "q_k = p(x, z=k) / sum_j p(x, z=j) = exp(log p(x, z=k) - logsumexp_j log p(x, z=j)), the posterior.",
        "from lvmlib.logspace import logsumexp; return np.exp(log_p_xz - logsumexp(log_p_xz))",
    ],
    solution="""
    from lvmlib.logspace import logsumexp

    def best_q(log_p_xz):
        return np.exp(log_p_xz - logsumexp(log_p_xz))""",
    explanation="""
    ELBO(q) = sum_k q_k (log p(x, z=k) - log q_k) = log p(x) - KL(q || p(z|x)), and the KL is zero only at
    q = p(z|x). Hence the maximizer is the posterior, q_k = p(x, z=k) / p(x). Subtracting the logsumexp before
    exponentiating keeps it finite when every log p(x, z) is near -1000 (exp underflows to 0 / 0 there).""",
    cases=[Case((MIXTURE.log_p_xz(np.array([[0.0, 1.0]]))[0],), "the mixture at x = (0, 1)"),
           Case((MIXTURE.log_p_xz(np.array([[1.5, 0.0]]))[0],), "the mixture at x = (1.5, 0)"),
           Case((np.array([-1000.0, -1001.0, -1003.0]),), "log p(x, z) near -1000: exp underflows")],
    mistakes=[Mistake("all mass on the best z", _one_hot_at_max,
                      "you put all of q on the most likely z. That maximizes E_q[log p(x, z)] but throws away the "
                      "entropy H(q) = -sum_k q_k log q_k, which rewards spreading q. Maximize the sum of both."),
              Mistake("sign flipped inside the exponential", _sign_flipped_softmax,
                      "your q is largest where log p(x, z) is smallest: a sign is flipped inside the exponential. "
                      "q should put the most mass on the z that explains x best."),
              Mistake("uniform q", _uniform,
                      "you returned the uniform q. That maximizes the entropy H(q) alone and ignores "
                      "E_q[log p(x, z)]: the answer must depend on the table you are given.")],
)

# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: KL between two Gaussians (the prior-KL term of the ELBO's second form)
# ---------------------------------------------------------------------------------------------------------------
def _kl(mu_q, sigma_q, mu_p, sigma_p):
    return kl_normal(mu_q, sigma_q, mu_p, sigma_p)


def _kl_reversed(mu_q, sigma_q, mu_p, sigma_p):
    return kl_normal(mu_p, sigma_p, mu_q, sigma_q)


def _kl_sd_for_variance(mu_q, sigma_q, mu_p, sigma_p):
    return np.log(sigma_p / sigma_q) + (sigma_q + (mu_q - mu_p) ** 2) / (2 * sigma_p) - 0.5


def _kl_log_variance_ratio(mu_q, sigma_q, mu_p, sigma_p):
    return np.log(sigma_p**2 / sigma_q**2) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5


ex2 = Exercise(
    "Exercise 2 (KL between two Gaussians)",
    _kl,
    hints=[
        "KL(q || p) = E_q[log q(z) - log p(z)]: write both log-densities and take the expectation under q, using "
        "E_q[(z - m)^2] = sigma_q^2 + (mu_q - m)^2.",
        "KL = log(sigma_p / sigma_q) + (sigma_q^2 + (mu_q - mu_p)^2) / (2 sigma_p^2) - 1/2.",
        "return np.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p)**2) / (2 * sigma_p**2) - 0.5",
    ],
    solution="""
    def kl_gaussians(mu_q, sigma_q, mu_p, sigma_p):
        return np.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p)**2) / (2 * sigma_p**2) - 0.5""",
    explanation="""
    log q(z) - log p(z) = log(sigma_p / sigma_q) - (z - mu_q)^2 / (2 sigma_q^2) + (z - mu_p)^2 / (2 sigma_p^2).
    Under q, E[(z - mu_q)^2] = sigma_q^2 and E[(z - mu_p)^2] = sigma_q^2 + (mu_q - mu_p)^2, which gives the
    formula. It is zero only when the two Gaussians are equal, and it is not symmetric: the expectation is under
    the first argument.""",
    cases=[Case((0.0, 1.0, 0.0, 1.0), "q = p: the KL is 0"),
           Case((1.0, 0.5, 0.0, 1.0), "q narrower than p"),
           Case((0.0, 1.0, 1.0, 0.5), "q wider than p: KL(q||p) and KL(p||q) differ"),
           Case((-2.0, 3.0, 1.5, 0.2), "far apart")],
    mistakes=[Mistake("KL reversed", _kl_reversed,
                      "you computed KL(p || q): the expectation must be under q, the first argument. Swap the "
                      "roles of (mu_q, sigma_q) and (mu_p, sigma_p) in your formula."),
              Mistake("standard deviations where variances belong", _kl_sd_for_variance,
                      "your quadratic term divides by 2 sigma_p and adds sigma_q: the arguments are standard "
                      "deviations, and E_q[(z - mu_p)^2] and the density's denominator need their squares."),
              Mistake("log of the variance ratio without its 1/2", _kl_log_variance_ratio,
                      "your log term is the log of the ratio of variances. Each Gaussian's log-normalizer is "
                      "-log sigma, the log of a standard deviation: the log of a variance ratio needs a factor 1/2.")],
)


# ---------------------------------------------------------------------------------------------------------------
# Capstone: gradient ascent on the ELBO by reparameterization, with torch autograd
# ---------------------------------------------------------------------------------------------------------------
def _torch():
    import torch  # lazily: only the capstone needs torch

    return torch


def log_joint_torch(model):
    """log p(x, z) of a 1-D model as a torch function ``(x: float, z: tensor (S,)) -> tensor (S,)``.

    The plumbing of the capstone (the model's formula, written in torch so autograd can differentiate it), for
    ``NonlinearModel1D`` (x | z ~ N(z^2 + b z, sigma_x^2)) and a 1-D ``LinearGaussian`` (x | z ~ N(w z + b,
    sigma_x^2)); the prior is N(0, 1) in both.
    """
    if isinstance(model, LinearGaussian):
        if model.W.shape != (1, 1):
            raise ValueError(f"log_joint_torch needs d_x = d_z = 1, got W of shape {model.W.shape}.")
        w, b, sigma_x = float(model.W[0, 0]), float(model.b[0]), float(model.sigma_x)

        def decode(z):
            return w * z + b
    elif isinstance(model, NonlinearModel1D):
        b, sigma_x = float(model.b), float(model.sigma_x)

        def decode(z):
            return z**2 + b * z
    else:
        raise ValueError(f"model must be a NonlinearModel1D or a 1-D LinearGaussian, got {type(model).__name__}.")
    half_log_2pi = 0.5 * math.log(2 * math.pi)

    def log_p_xz(x, z):
        log_p_z = -half_log_2pi - 0.5 * z**2
        log_p_x_given_z = -half_log_2pi - math.log(sigma_x) - 0.5 * ((x - decode(z)) / sigma_x) ** 2
        return log_p_z + log_p_x_given_z

    return log_p_xz


STEP_TIMEOUT = 60.0  # seconds per check, torch's first import included (slow on a busy laptop)
_EPS = np.random.default_rng(2016).standard_normal(200)  # fixed noise for the step checks (deterministic answers)
STEP_CASES = [  # (model, x, mu, log_sigma, eps), label
    ((MODEL, 2.0, 1.0, math.log(0.5), _EPS[:50]), "NonlinearModel1D, x = 2, q = N(1, 0.5^2), S = 50"),
    ((MODEL, -0.5, 0.0, 0.0, _EPS), "NonlinearModel1D, x = -0.5, q = N(0, 1), S = 200"),
    ((LINEAR, 1.3, -2.0, 1.0, _EPS[:7]), "linear-Gaussian, x = 1.3, q = N(-2, e^2), S = 7"),
    ((MODEL, 3.0, 1.7, -2.5, _EPS[:1]), "a narrow q, log sigma = -2.5, one sample"),
]


def _to_torch(mu, log_sigma, eps):
    torch = _torch()
    mu_t = torch.tensor(float(mu), dtype=torch.float64, requires_grad=True)
    log_sigma_t = torch.tensor(float(log_sigma), dtype=torch.float64, requires_grad=True)
    return mu_t, log_sigma_t, torch.tensor(eps, dtype=torch.float64)


def _gradient(value, params):
    """d value / d params, or None when no gradient reaches them (detached, or built outside torch)."""
    torch = _torch()
    if not isinstance(value, torch.Tensor) or not value.requires_grad:
        return None
    grads = torch.autograd.grad(value.sum(), params, allow_unused=True)
    if any(g is None for g in grads):
        return None
    return np.array([float(g) for g in grads])


NO_GRADIENT = ("your result has the right numbers but no gradient reaches mu and log_sigma: it was detached "
               "(.detach(), .item(), .numpy(), float()) or built with numpy. Keep every operation in torch on the "
               "tensors you were given, so that autograd can differentiate it.")


def _run_step_cases(answer, reference, gradient, mistakes, call):
    """Run a capstone step on STEP_CASES: values against lvmlib (with named mistakes), then its gradient."""
    for j, ((model, x, mu, log_sigma, eps), label) in enumerate(STEP_CASES, start=1):
        name = f"case {j} of {len(STEP_CASES)} ({label})"
        mu_t, log_sigma_t, eps_t = _to_torch(mu, log_sigma, eps)
        got = call(answer, model, x, mu_t, log_sigma_t, eps_t)
        if got is None or got is Ellipsis:
            raise NotAttempted
        expected = reference(model, x, mu, log_sigma, eps)
        ok, message = compare(got, expected, rtol=1e-6, atol=1e-8, what="your result", args=(eps,))
        if not ok:
            for mistake in mistakes:
                with np.errstate(all="ignore"):
                    wrong = mistake.wrong(model, x, mu, log_sigma, eps)
                if compare(got, wrong, rtol=1e-6, atol=1e-8)[0]:
                    return False, f"on {name}: {mistake.message}"
            return False, f"on {name}, {message}"
        grad = _gradient(got, (mu_t, log_sigma_t))
        if grad is None:
            return False, f"on {name}: {NO_GRADIENT}"
        want = gradient(model, x, mu, log_sigma, eps)
        if not np.allclose(grad, want, rtol=1e-5, atol=1e-6):
            return False, (f"on {name}: your values are right but their gradient with respect to (mu, log_sigma) is "
                           f"{np.round(grad, 4)}, not {np.round(want, 4)}: is part of the computation detached?")
    return True, ""


# step 1: the reparameterized sample ------------------------------------------------------------------------------
def _z(model, x, mu, log_sigma, eps):
    return mu + np.exp(log_sigma) * eps


def _z_gradient(model, x, mu, log_sigma, eps):  # d sum(z) / d (mu, log sigma)
    return np.array([eps.size, np.exp(log_sigma) * eps.sum()])


def _step1_checker(answer):
    if not callable(answer):
        return False, f"expected a function, got {type(answer).__name__}."
    return _run_step_cases(answer, _z, _z_gradient, STEP1_MISTAKES,
                           lambda f, model, x, mu, log_sigma, eps: f(mu, log_sigma, eps))


STEP1_MISTAKES = [
    Mistake("sigma where log_sigma is the parameter", lambda m, x, mu, ls, eps: mu + ls * eps,
            "you multiplied eps by log_sigma itself. The parameter is log sigma (so that sigma = exp(log_sigma) "
            "stays positive whatever the optimizer does): the scale is its exponential."),
    Mistake("log-variance convention", lambda m, x, mu, ls, eps: mu + np.exp(0.5 * ls) * eps,
            "you used exp(0.5 * log_sigma), the scale for a log-variance parameter. Here the parameter is "
            "log sigma, the log of the standard deviation."),
    Mistake("variance instead of sd", lambda m, x, mu, ls, eps: mu + np.exp(2 * ls) * eps,
            "you scaled eps by the variance sigma^2 = exp(2 log_sigma); the reparameterization scales it by the "
            "standard deviation sigma."),
    Mistake("mu - sigma eps", lambda m, x, mu, ls, eps: mu - np.exp(ls) * eps,
            "you subtracted sigma * eps. That has the right distribution (eps and -eps are both N(0, 1)), but the "
            "check gives you the noise and compares your samples one by one: use the convention z = mu + ..."),
]

step1 = Exercise(
    "Capstone step 1 (the reparameterized sample)",
    checker=_step1_checker,
    timeout=STEP_TIMEOUT,
    hints=[
        "Write z ~ N(mu, sigma^2) as a deterministic function of (mu, log_sigma) and parameter-free noise eps ~ "
        "N(0, 1): then gradients flow through z to mu and log_sigma.",
        "z = mu + sigma * eps with sigma = exp(log_sigma).",
        "return mu + torch.exp(log_sigma) * eps",
    ],
    solution="""
    def reparameterize(mu, log_sigma, eps):
        return mu + torch.exp(log_sigma) * eps""",
    explanation="""
    If eps ~ N(0, 1) then mu + sigma eps ~ N(mu, sigma^2). The randomness sits in eps, which does not depend on
    the parameters, so d z / d mu = 1 and d z / d log sigma = sigma eps: E_q[f(z)] = E_eps[f(mu + sigma eps)]
    can be differentiated inside the expectation. Parameterizing by log sigma keeps sigma > 0 without a
    constraint.""",
)


# step 2: the Monte Carlo ELBO ------------------------------------------------------------------------------------
def _log_w(model, x, mu, log_sigma, eps):
    z = mu + np.exp(log_sigma) * eps
    return model.log_p_xz(np.array([[x]]), z[:, None, None])[:, 0] - log_normal(z, mu, np.exp(log_sigma))


def _elbo_estimate(model, x, mu, log_sigma, eps):
    """The reference: lvmlib's log p(x, z) and log q(z) at z = mu + sigma eps, averaged (not a torch copy)."""
    return float(np.mean(_log_w(model, x, mu, log_sigma, eps)))


def _elbo_estimate_gradient(model, x, mu, log_sigma, eps, h=1e-6):
    """d estimate / d (mu, log sigma) by central differences of the numpy reference (eps fixed)."""
    f = _elbo_estimate
    return np.array([(f(model, x, mu + h, log_sigma, eps) - f(model, x, mu - h, log_sigma, eps)) / (2 * h),
                     (f(model, x, mu, log_sigma + h, eps) - f(model, x, mu, log_sigma - h, eps)) / (2 * h)])


def _entropy_sign_flipped(model, x, mu, log_sigma, eps):
    z = mu + np.exp(log_sigma) * eps
    return float(np.mean(model.log_p_xz(np.array([[x]]), z[:, None, None])[:, 0]
                         + log_normal(z, mu, np.exp(log_sigma))))


def _log_q_with_sigma(model, x, mu, log_sigma, eps):
    return _elbo_estimate(model, x, mu, log_sigma, eps) - log_sigma + math.exp(log_sigma)


def _no_entropy(model, x, mu, log_sigma, eps):
    z = mu + np.exp(log_sigma) * eps
    return float(np.mean(model.log_p_xz(np.array([[x]]), z[:, None, None])[:, 0]))


def _log_mean_exp(model, x, mu, log_sigma, eps):
    log_w = _log_w(model, x, mu, log_sigma, eps)
    return float(np.log(np.mean(np.exp(log_w - log_w.max()))) + log_w.max())


def _step2_checker(answer):
    if not callable(answer):
        return False, f"expected a function, got {type(answer).__name__}."
    return _run_step_cases(answer, _elbo_estimate, _elbo_estimate_gradient, STEP2_MISTAKES,
                           lambda f, model, x, mu, log_sigma, eps: f(log_joint_torch(model), x, mu, log_sigma, eps))


STEP2_MISTAKES = [
    Mistake("entropy sign flipped", _entropy_sign_flipped,
            "you added log q(z) instead of subtracting it: the ELBO is E_q[log p(x, z)] + H(q) and the entropy "
            "is H(q) = -E_q[log q(z)]. With the sign flipped, maximizing rewards a q that collapses to a point."),
    Mistake("the loss -ELBO instead of the ELBO", lambda *a: -_elbo_estimate(*a),
            "you returned the average of log q(z) - log p(x, z), which estimates KL(q || p(z|x)) - log p(x): the "
            "negative ELBO, the loss a minimizer uses. This step asks for the ELBO itself, log p(x, z) - log q(z)."),
    Mistake("log of the mean weight", _log_mean_exp,
            "you took the log of the average weight, log (1/S) sum_s w_s: that estimates L_S of section 5, not "
            "the ELBO. The ELBO averages the logs: (1/S) sum_s log w_s."),
    Mistake("log q(z) without its normalizer", lambda *a: _elbo_estimate(*a) - 0.5 * math.log(2 * math.pi),
            "your log q(z) misses the Gaussian's normalizing constant -0.5 log(2 pi) (you are off by exactly that). "
            "It does not change the gradient, but the ELBO's value must compare with log p(x)."),
    Mistake("sigma where log sigma belongs in log q(z)", _log_q_with_sigma,
            "in log q(z) you subtracted sigma = exp(log_sigma) where the Gaussian's log-density has -log sigma, "
            "which is the parameter log_sigma itself."),
    Mistake("log q(z) dropped", _no_entropy,
            "you averaged log p(x, z) alone: without -log q(z) (the entropy term) the estimate is not the ELBO, "
            "and maximizing it would shrink q onto the single best z."),
]

step2 = Exercise(
    "Capstone step 2 (the Monte Carlo ELBO in torch)",
    checker=_step2_checker,
    timeout=STEP_TIMEOUT,
    hints=[
        "Draw z with your step 1, then average log w = log p(x, z) - log q(z) over the S samples; everything in "
        "torch so that the result carries a gradient.",
        "log q(z) = -0.5 log(2 pi) - log_sigma - 0.5 eps^2, because (z - mu) / sigma = eps; "
        "ELBO estimate = mean_s [log_p_xz(x, z_s) - log q(z_s)].",
        "z = reparameterize(mu, log_sigma, eps)\n"
        "log_q = -0.5 * math.log(2 * math.pi) - log_sigma - 0.5 * eps**2\n"
        "return (log_p_xz(x, z) - log_q).mean()",
    ],
    solution="""
    def elbo_estimate(log_p_xz, x, mu, log_sigma, eps):
        z = mu + torch.exp(log_sigma) * eps                        # step 1
        log_q = -0.5 * math.log(2 * math.pi) - log_sigma - 0.5 * eps**2
        return (log_p_xz(x, z) - log_q).mean()""",
    explanation="""
    ELBO = E_q[log p(x, z) - log q(z)]: a plain expectation, with no log outside it, so the sample mean over
    z_s = mu + sigma eps_s is unbiased for it, and so is its gradient (the reparameterization gradient). With
    log q(z_s) = log N(z_s; mu, sigma^2) = -0.5 log(2 pi) - log sigma - 0.5 eps_s^2 the entropy term is exact
    in mu and sigma; autograd differentiates the whole expression.""",
)


# step 3: the ascent loop -----------------------------------------------------------------------------------------
FIT_STEPS, FIT_SAMPLES, FIT_LR = 300, 500, 0.05  # what the hints suggest: ~1 s on a laptop CPU
FIT_TOL = 1e-3          # nats below lvmlib's best ELBO at x = 2 (NonlinearModel1D)
LINEAR_GAP_TOL = 1e-3   # nats of gap left on the linear-Gaussian model, whose posterior is Gaussian
FIT_CASES = [  # (model, x, mu0, log_sigma0, seed), label
    ((MODEL, 2.0, 1.0, -1.0, 0), "NonlinearModel1D at x = 2 from mu = 1, log sigma = -1"),
    ((LINEAR, 1.3, 0.0, 0.0, 1), "linear-Gaussian at x = 1.3 from mu = 0, log sigma = 0"),
]


def _exact_elbo(model, x, mu, log_sigma):
    return float(lvm_elbo.elbo_gaussian(model, np.array([[x]]), [[mu]], [[math.exp(log_sigma)]])[0])


def _as_float_pair(result):
    torch = _torch()
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise ValueError(f"fit must return (mu, log_sigma), got {type(result).__name__}")
    return tuple(float(v.detach()) if isinstance(v, torch.Tensor) else float(v) for v in result)


def _fit_is_good(model, x, mu0, log_sigma0, mu, log_sigma):
    """Whether q = N(mu, exp(log_sigma)^2) passes step 3's bar for this case."""
    end, x_arr = _exact_elbo(model, x, mu, log_sigma), np.array([[x]])
    if isinstance(model, LinearGaussian):
        return float(model.log_p_x(x_arr)[0]) - end <= LINEAR_GAP_TOL
    return end >= lvm_elbo.fit_gaussian_q(model, x_arr, mu0, log_sigma0).elbo - FIT_TOL


def _step3_checker(answer):
    if not callable(answer):
        return False, f"expected a function, got {type(answer).__name__}."
    torch = _torch()
    for j, ((model, x, mu0, log_sigma0, seed), label) in enumerate(FIT_CASES, start=1):
        name = f"case {j} of {len(FIT_CASES)} ({label})"
        result = answer(log_joint_torch(model), x, mu0, log_sigma0, torch.Generator().manual_seed(seed))
        if result is None or result is Ellipsis:
            raise NotAttempted
        try:
            mu, log_sigma = _as_float_pair(result)
        except (TypeError, ValueError) as exc:
            return False, f"on {name}: {exc}."
        if not (np.isfinite(mu) and np.isfinite(log_sigma)):
            return False, f"on {name}: your fit ended at mu = {mu}, log sigma = {log_sigma}: it diverged."
        start, end = _exact_elbo(model, x, mu0, log_sigma0), _exact_elbo(model, x, mu, log_sigma)
        if (mu, log_sigma) == (mu0, log_sigma0):
            return False, (f"on {name}: your parameters never moved. No gradient reaches them (is z detached, or "
                           "is the ELBO computed with numpy?), or the optimizer was never stepped.")
        if mu == mu0:
            return False, (f"on {name}: log sigma moved but mu never did: no gradient reaches mu, so z is detached "
                           "(or built outside torch) and only the log q(z) term is differentiated. Keep z = mu + "
                           "exp(log_sigma) * eps in torch, without .detach().")
        if log_sigma > 0 and _fit_is_good(model, x, mu0, log_sigma0, mu, math.log(log_sigma)):
            return False, (f"on {name}: your second number, {log_sigma:.4f}, looks like sigma itself: read as log "
                           "sigma it is a poor fit, read as sigma a good one. Return log_sigma, the parameter you "
                           "optimize, not exp(log_sigma).")
        if end < start:
            return False, (f"on {name}: the exact ELBO went down, from {start:.4f} to {end:.4f}: you are "
                           "descending. Optimizers minimize: give them the loss -ELBO (or maximize=True).")
        x_arr = np.array([[x]])
        if isinstance(model, LinearGaussian):
            gap = float(model.log_p_x(x_arr)[0]) - end
            if gap > LINEAR_GAP_TOL:
                return False, (f"on {name}: the posterior is Gaussian, so the gap can close, but your fit leaves "
                               f"{gap:.2e} nats (allowed {LINEAR_GAP_TOL:g}): more steps, or a learning rate "
                               "that decays to zero?")
        else:
            best = lvm_elbo.fit_gaussian_q(model, x_arr, mu0, log_sigma0).elbo
            if end < best - FIT_TOL:
                return False, (f"on {name}: your fit ends at ELBO {end:.4f}, {best - end:.4f} nats below the best "
                               f"Gaussian from this start (allowed {FIT_TOL:g}). Use more samples per step, more "
                               "steps, or a learning rate that decays to zero; and check the loop draws fresh eps "
                               "every step.")
    return True, ""


step3 = Exercise(
    "Capstone step 3 (gradient ascent on the ELBO)",
    checker=_step3_checker,
    timeout=120.0,
    hints=[
        "Make mu and log_sigma float64 tensors with requires_grad=True, give them to torch.optim.Adam, and "
        f"repeat: fresh eps (S = {FIT_SAMPLES}) from the generator, the ELBO estimate of step 2, a gradient step "
        "that raises it. Return the final (mu, log_sigma).",
        "Optimizers minimize, so step on loss = -ELBO: optimizer.zero_grad(); loss.backward(); optimizer.step(). "
        f"Adam with lr = {FIT_LR} for {FIT_STEPS} steps, the learning rate decayed to zero by "
        "torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, n_steps), lands within 1e-3 nats of the optimum.",
        "eps = torch.randn(n_samples, generator=generator, dtype=torch.float64)\n"
        "loss = -elbo_estimate(log_p_xz, x, mu, log_sigma, eps)\n"
        "optimizer.zero_grad(); loss.backward(); optimizer.step(); scheduler.step()",
    ],
    solution=f"""
    def fit(log_p_xz, x, mu0, log_sigma0, generator, n_steps={FIT_STEPS}, n_samples={FIT_SAMPLES}, lr={FIT_LR}):
        mu = torch.tensor(float(mu0), dtype=torch.float64, requires_grad=True)
        log_sigma = torch.tensor(float(log_sigma0), dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.Adam([mu, log_sigma], lr=lr)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, n_steps)
        for _ in range(n_steps):
            eps = torch.randn(n_samples, generator=generator, dtype=torch.float64)   # fresh noise each step
            loss = -elbo_estimate(log_p_xz, x, mu, log_sigma, eps)                   # ascend the ELBO
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        return mu.item(), log_sigma.item()""",
    explanation="""
    The gradient of the S-sample estimate is an unbiased estimate of the ELBO's gradient (the reparameterization
    gradient), so stochastic gradient ascent with a learning rate that decays to zero converges to a local maximum
    of the exact ELBO, the same point lvmlib's deterministic ascent reaches from the same start. Fresh eps each step
    keeps the gradient unbiased; reusing one fixed eps would maximize that sample's ELBO instead. On the
    linear-Gaussian model the optimum is q = p(z|x): there every log w equals log p(x), the gradient noise
    vanishes, and the gap closes.""",
)

capstone = Capstone(
    "Capstone: gradient ascent on the ELBO by reparameterization",
    [("reparameterize", step1), ("elbo_estimate", step2), ("fit", step3)],
    intro="""
    You build the ELBO's optimizer with torch autograd: (1) the reparameterized sample z = mu + exp(log_sigma) eps,
    (2) the Monte Carlo ELBO mean_s [log p(x, z_s) - log q(z_s)], (3) the ascent loop with Adam. At the end your
    q sits within 1e-3 nats of lvmlib's best Gaussian at x = 2 and closes the gap on the linear-Gaussian model.""",
)


# ---------------------------------------------------------------------------------------------------------------
# "Try this" answers, computed by the explorers' own update functions
# ---------------------------------------------------------------------------------------------------------------
def _jensen_answer_1():
    zero = [chord_update(0.5, 4.0, w).gap for w in (0.0, 1.0)] + [chord_update(2.0, 2.0, 0.3).gap]
    return (f"At w = 0, at w = 1 and at f1 = f2 = 2 the gap is {max(abs(g) for g in zero):.4f}: log E[f] = "
            "E[log f] when f takes one value with probability one. Jensen's inequality is tight only for a constant.")


def _jensen_answer_2():
    gaps = {f1: chord_update(f1, 6.0, 0.5).gap for f1 in (2.0, 1.0, 0.5, 0.1)}
    return ("With f2 = 6 and w = 0.5: " + ", ".join(f"f1 = {f1}: gap {g:.4f}" for f1, g in gaps.items())
            + ". The further apart the values, the larger the gap.")


def _jensen_answer_3(n_draws=400):
    rows = []
    for s in (0.25, 0.5, 1.0, 1.5):
        gaps = np.array([many_update(200, s, seed).gap for seed in range(n_draws)])  # seed 0 is the first draw
        rows.append(f"s = {s}: first draw {gaps[0]:.4f}, average {gaps.mean():.4f}, above s^2/2 = {s**2 / 2:.4f} "
                    f"in {np.mean(gaps > s**2 / 2):.0%} of draws")
    return (f"n = 200 points, over {n_draws} draws ('new draw'): " + "; ".join(rows) + ". The gap grows like "
            "s^2 / 2, and a single finite draw scatters around it, above or below. On average it falls short: "
            "E[log of the mean of f] <= log E[f] = s^2 / 2 by Jensen once more (the bias of chapter 04's log "
            "estimate), while the mean of log f averages to 0. The shortfall grows with s, because the rare large "
            "values of f that carry much of E[f] are missing from most draws; s^2 / 2 is the limit of infinitely "
            "many points.")


try_jensen = TryThis({"1": _jensen_answer_1, "2": _jensen_answer_2, "3": _jensen_answer_3})


def _discrete_answer_1():
    x = np.array([[-0.5, 1.0]])
    st = discrete_update(*MIXTURE.posterior(x)[0], -0.5, 1.0)
    return (f"With q = p(z|x) the ELBO is {st.elbo:.4f} and log p(x) is {st.log_px:.4f}: the KL is {st.kl:.1e}. "
            "The E-step of EM does exactly this.")


def _discrete_answer_2():
    st = discrete_update(0.0, 1.0, 0.0, -0.5, 1.0)
    return (f"All weight on B: ELBO = {st.elbo:.4f}, KL = {st.kl:.4f}, and ELBO + KL = {st.elbo + st.kl:.4f} = "
            f"log p(x) = {st.log_px:.4f}. B explains this x poorly (p(B|x) = {st.posterior[1]:.4f}), so the gap "
            f"-log p(B|x) is large.")


def _discrete_answer_3():
    rows = []
    for s in (1, 10, 100, 1000):
        st = discrete_update(0.6, 0.2, 0.2, -0.5, 1.0, "Monte Carlo", s, seed=0)
        rows.append(f"S = {s}: sd {st.mc.elbo_sd:.4f}, {st.mc.share_above(st.log_px):.0%} above log p(x)")
    return ("; ".join(rows) + f". The dots gather around the exact ELBO ({st.elbo:.4f}), not log p(x): Monte Carlo "
            "estimates the bound. Single estimates above log p(x) are fine; only their mean is a bound.")


try_discrete = TryThis({"1": _discrete_answer_1, "2": _discrete_answer_2, "3": _discrete_answer_3})


def _fit_report(x, mu0, log_sigma0):
    fit = lvm_elbo.fit_gaussian_q(MODEL, np.array([[x]]), mu0, log_sigma0)
    st = continuous_update(fit.mu, fit.log_sigma, x)
    return fit, st


def _continuous_answer_1():
    fit, st = _fit_report(2.0, 0.5, 0.0)
    return (f"From mu_q = 0.5, log sigma_q = 0 the fit ends at mu_q = {fit.mu:.4f}, log sigma_q = {fit.log_sigma:.4f} "
            f"with KL = {st.kl:.4f} nats: q sits on the right-hand mode and cannot cover the left one.")


def _continuous_answer_2():
    (left, st_left), (middle, st_mid) = _fit_report(2.0, -1.0, 0.0), _fit_report(2.0, 0.0, 0.0)
    return (f"From mu_q = -1: the left mode, mu_q = {left.mu:.4f}, KL = {st_left.kl:.4f}. From (0, 0): a wide q "
            f"between the modes, mu_q = {middle.mu:.4f}, log sigma_q = {middle.log_sigma:.4f}, KL = {st_mid.kl:.4f}. "
            "Three starts, three local maxima.")


def _continuous_answer_3():
    fit, st = _fit_report(-0.5, 0.5, 0.0)
    return (f"At x = -0.5 the fit leaves KL = {st.kl:.4f} nats: one mode, nearly Gaussian, so almost no gap.")


def _continuous_answer_4():
    sds = {s: continuous_update(0.5, 0.0, 2.0, "Monte Carlo", s).mc.elbo_sd for s in (1, 1000)}
    _, se = lvm_elbo.elbo_monte_carlo(MODEL, np.array([[2.0]]), 0.5, 1.0, 200_000, np.random.default_rng(0))
    sd_one = float(se[0]) * math.sqrt(200_000)  # the sd of a single-sample estimate, from 200 000 draws
    return (f"At mu_q = 0.5, log sigma_q = 0 the explorer's 50 estimates spread with sd {sds[1]:.4f} at S = 1 and "
            f"{sds[1000]:.4f} at S = 1000. The sd of a mean of S samples is the single-sample sd over sqrt(S): "
            f"{sd_one:.4f} / sqrt(1000) = {sd_one / math.sqrt(1000):.4f}. At S = 1 the explorer's 50 estimates "
            "understate the spread: log w has a long lower tail (log p(x, z) falls like -z^4) that 50 draws rarely "
            "reach.")


try_continuous = TryThis({"1": _continuous_answer_1, "2": _continuous_answer_2, "3": _continuous_answer_3,
                          "4": _continuous_answer_4})
