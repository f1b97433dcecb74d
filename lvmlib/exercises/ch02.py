"""Chapter 02 exercises: the ELBO of a mixture, parameter counts for BIC, and the capstone (EM, written by the learner).

Each learner function receives plain arrays (shapes as in :mod:`lvmlib.mixtures`): X (n, D), weights (K,),
means (K, D), covs (K, D, D), resp (n, K). References are computed with lvmlib; the capstone's fit step is also
compared with scikit-learn's GaussianMixture from the same start.
"""

from functools import lru_cache

import numpy as np

from lvmlib import mixtures
from lvmlib.data import load_faithful
from lvmlib.distributions import cholesky
from lvmlib.examples import three_cluster_mixture
from lvmlib.exercises import Capstone, Case, Exercise, Mistake, NotAttempted, compare

_ABC = three_cluster_mixture()
_FAR = np.array([[-2.0, 0.1], [2.0, 0.4], [0.0, 2.5], [0.1, 1.2], [40.0, -30.0]])  # the last one is far from all
_UNEVEN = (np.array([0.7, 0.2, 0.1]), _ABC.means + 0.5, _ABC.covs * 1.5)
_RESP = np.array([[0.8, 0.1, 0.1], [0.2, 0.5, 0.3], [0.0, 0.0, 1.0], [1 / 3, 1 / 3, 1 / 3], [0.0, 1.0, 0.0]])


def _log_joint(X, weights, means, covs):
    return mixtures.log_joint(X, weights, means, cholesky(covs))


def _faithful():
    raw = load_faithful()
    return (raw - raw.mean(0)) / raw.std(0)


# ---- Exercise 1: the ELBO of a mixture ---------------------------------------------------------------------------
def _elbo(X, resp, weights, means, covs):
    return mixtures.elbo(X, resp, weights, means, covs)


def _elbo_without_entropy(X, resp, weights, means, covs):
    return float(np.mean(np.sum(np.where(resp > 0, resp * _log_joint(X, weights, means, covs), 0.0), axis=1)))


def _elbo_densities(X, resp, weights, means, covs):
    with np.errstate(divide="ignore", invalid="ignore"):
        rlogr = np.where(resp > 0, resp * np.log(resp), 0.0)
    joint = np.exp(_log_joint(X, weights, means, covs))
    return float(np.mean(np.sum(resp * joint, axis=1) - np.sum(rlogr, axis=1)))


def _elbo_entropy_sign(X, resp, weights, means, covs):
    with np.errstate(divide="ignore", invalid="ignore"):
        rlogr = np.where(resp > 0, resp * np.log(resp), 0.0)
    return _elbo_without_entropy(X, resp, weights, means, covs) + float(np.mean(np.sum(rlogr, axis=1)))


ex1 = Exercise(
    "Exercise 1 (the ELBO of a mixture, per data point)",
    _elbo,
    hints=[
        "The ELBO of one point is an expectation under q plus an entropy: E_q[log p(x_i, z)] + H(q_i). Both are "
        "sums over k weighted by r_ik. Average over the points at the end.",
        "ELBO = mean over i of sum_k r_ik (log p(x_i, z=k) - log r_ik), with log p(x_i, z=k) = log pi_k + "
        "log N(x_i; mu_k, Sigma_k). Where r_ik = 0 the term is 0 (0 log 0 = 0), not nan.",
        "log_joint = np.stack([np.log(w) + multivariate_normal(m, c).logpdf(X) for w, m, c in zip(weights, means, "
        "covs)], axis=1); then np.sum(resp * log_joint, axis=1) - np.sum(xlogy(resp, resp), axis=1), averaged "
        "(scipy.special.xlogy(r, r) is r log r and 0 where r = 0).",
    ],
    solution="""
    from scipy.special import xlogy  # xlogy(r, r) = r log r, and 0 where r = 0

    def elbo_per_point(X, resp, weights, means, covs):
        log_joint = np.stack([np.log(w) + multivariate_normal(m, c).logpdf(X)
                              for w, m, c in zip(weights, means, covs)], axis=1)
        expected_log_joint = np.sum(resp * log_joint, axis=1)
        entropy = -np.sum(xlogy(resp, resp), axis=1)
        return np.mean(expected_log_joint + entropy)""",
    explanation="""
    From log p(x_i) = E_q[log p(x_i, z)] + H(q) + KL(q || p(z | x_i)): the ELBO is the first two terms. For a
    categorical q_i with probabilities r_ik both are sums over k, E_q[log p(x_i, z)] = sum_k r_ik log p(x_i, z=k)
    and H(q_i) = -sum_k r_ik log r_ik, with 0 log 0 = 0 (the limit of r log r as r -> 0).""",
    cases=[Case((_FAR[:4], _RESP[:4], _ABC.weights, _ABC.means, _ABC.covs),
                "four points near the clusters, one one-hot row of resp (0 log 0 = 0)"),
           Case((_FAR, _RESP, *_UNEVEN), "five points, one far away, some one-hot rows of resp (0 log 0 = 0)")],
    mistakes=[
        Mistake("no entropy", _elbo_without_entropy,
                "your value is E_q[log p(x, z)] alone: the ELBO also has the entropy H(q) = -sum_k r_ik log r_ik."),
        Mistake("entropy with the wrong sign", _elbo_entropy_sign,
                "you added sum_k r_ik log r_ik; the entropy is minus that (H(q) >= 0, so it raises the ELBO)."),
        Mistake("densities for log densities", _elbo_densities,
                "you weighted the densities p(x_i, z=k) by r_ik; the ELBO weights their logs, log p(x_i, z=k)."),
    ],
)


# ---- Exercise 2: how many parameters does BIC charge? -------------------------------------------------------
def _n_params(K, D, covariance_type):
    return mixtures.n_parameters(K, D, covariance_type)


def _n_params_k_weights(K, D, covariance_type):
    return mixtures.n_parameters(K, D, covariance_type) + 1


def _n_params_full_square(K, D, covariance_type):
    extra = {"full": K * D * (D - 1) // 2, "tied": D * (D - 1) // 2}.get(covariance_type, 0)
    return mixtures.n_parameters(K, D, covariance_type) + extra


def _n_params_tied_per_component(K, D, covariance_type):
    extra = (K - 1) * D * (D + 1) // 2 if covariance_type == "tied" else 0
    return mixtures.n_parameters(K, D, covariance_type) + extra


ex2 = Exercise(
    "Exercise 2 (free parameters of a Gaussian mixture, for BIC)",
    _n_params,
    hints=[
        "Count the weights, the means and the covariance entries separately. The weights sum to one, and a "
        "covariance matrix is symmetric: neither has as many free numbers as entries.",
        "K - 1 weights, K D means; covariances: K D (D + 1) / 2 for 'full', K D for 'diag', D (D + 1) / 2 for 'tied' "
        "(one matrix shared by all K), K for 'spherical' (one variance per component).",
    ],
    solution="""
    def n_params(K, D, covariance_type):
        cov = {"full": K * D * (D + 1) // 2, "diag": K * D, "tied": D * (D + 1) // 2, "spherical": K}
        return K - 1 + K * D + cov[covariance_type]""",
    explanation="""
    BIC charges each free parameter log n. The K weights live on a simplex (they sum to 1), so K - 1 are free. A
    symmetric D x D matrix has D (D + 1) / 2 free entries (the diagonal and one triangle). 'tied' shares one such
    matrix across components; 'diag' keeps D variances per component; 'spherical' one variance per component.""",
    cases=[(2, 2, "full"), (3, 2, "diag"), (4, 3, "tied"), (3, 5, "spherical"), (1, 4, "full")],
    mistakes=[
        Mistake("K weights", _n_params_k_weights,
                "you counted K free weights; they sum to one, so only K - 1 of them are free."),
        Mistake("all D^2 covariance entries", _n_params_full_square,
                "you counted every entry of a covariance matrix; it is symmetric, so only D (D + 1) / 2 are free."),
        Mistake("tied covariance counted per component", _n_params_tied_per_component,
                "for 'tied' you counted one covariance matrix per component; 'tied' means all K components share "
                "ONE matrix."),
    ],
)


# ---- Capstone: EM for a Gaussian mixture, by the learner ------------------------------------------------------
def _e_step(X, weights, means, covs):
    return mixtures.e_step(X, weights, means, cholesky(covs))


def _e_step_unnormalized(X, weights, means, covs):
    log_joint = _log_joint(X, weights, means, covs)
    return log_joint, mixtures.e_step(X, weights, means, cholesky(covs))[1]


def _e_step_probabilities(X, weights, means, covs):
    log_resp, log_px = _e_step(X, weights, means, covs)
    return np.exp(log_resp), log_px


def _e_step_wrong_axis(X, weights, means, covs):
    log_joint = _log_joint(X, weights, means, covs)
    log_col = np.log(np.sum(np.exp(log_joint - log_joint.max(0)), axis=0)) + log_joint.max(0)
    return log_joint - log_col, mixtures.e_step(X, weights, means, cholesky(covs))[1]


_E_CASES = [
    Case((_FAR[:4], _ABC.weights, _ABC.means, _ABC.covs), "four points near the three clusters"),
    Case((_FAR, *_UNEVEN), "five points incl. x = (40, -30), far from every cluster: naive exp underflows to 0/0"),
]


def _m_step(X, resp):
    return mixtures.m_step(X, resp, reg_covar=0.0)


def _m_step_means_over_n(X, resp):
    w, m, c = _m_step(X, resp)
    return w, resp.T @ X / len(X), c


def _m_step_means_unscaled(X, resp):
    w, m, c = _m_step(X, resp)
    return w, resp.T @ X, c


def _m_step_uncentred(X, resp):
    w, m, _ = _m_step(X, resp)
    nk = resp.sum(0)
    return w, m, np.einsum("nk,ni,nj->kij", resp, X, X) / nk[:, None, None]


def _m_step_covs_over_n(X, resp):
    w, m, c = _m_step(X, resp)
    return w, m, c * (resp.sum(0) / len(X))[:, None, None]


def _m_step_weights_nk(X, resp):
    w, m, c = _m_step(X, resp)
    return resp.sum(0), m, c


_RESP_UNEVEN = np.array([[0.9, 0.1, 0.0], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.05, 0.9, 0.05], [0.3, 0.0, 0.7],
                         [0.5, 0.25, 0.25]])
_X6 = np.array([[0.0, 0.0], [1.0, 2.0], [-1.5, 0.5], [3.0, -1.0], [2.0, 2.0], [-0.5, -1.0]])
_X40 = _ABC.sample(40, np.random.default_rng(2))[1]
_M_CASES = [Case((_X6, _RESP_UNEVEN), "six points, soft responsibilities, K = 3"),
            Case((_X40, _ABC.posterior(_X40)), "40 points from the A/B/C mixture, their exact posterior, K = 3")]


N_ITER = 60  # iterations the fit step runs; EM converges from this start in 11 (|Δℓ| < 1e-13 per point)


@lru_cache(maxsize=1)
def _fit_problem():
    """Standardized Old Faithful and a k-means++ start (seed 0) for K = 2."""
    X = _faithful()
    return X, mixtures.init_from_kmeans_plusplus(X, 2, np.random.default_rng(0), reg_covar=0.0)


@lru_cache(maxsize=1)
def _fit_references():
    """lvmlib's fit and scikit-learn's, both from :func:`_fit_problem`'s start."""
    from sklearn.mixture import GaussianMixture

    X, init = _fit_problem()
    ours = mixtures.fit_em(X, 2, init=init, reg_covar=0.0, tol=0.0, max_iter=N_ITER)
    gm = GaussianMixture(2, reg_covar=0.0, tol=1e-12, max_iter=5000, weights_init=init["weights"],
                         means_init=init["means"], precisions_init=np.linalg.inv(init["covs"])).fit(X)
    return ours, gm


def _fit_checker(answer):
    import copy
    import warnings

    if not callable(answer):
        return False, f"expected your function fit_gmm(X, init, n_iter), got {type(answer).__name__}."
    X, init = _fit_problem()
    try:
        got = answer(X.copy(), copy.deepcopy(init), N_ITER)
    except NotImplementedError:
        raise NotAttempted from None
    except Exception as exc:
        return False, (f"on Old Faithful from a k-means++ start, your fit_gmm raised {type(exc).__name__}: {exc}. "
                       "Check your e_step and m_step above first.")
    if got is None or got is Ellipsis:
        raise NotAttempted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, gm = _fit_references()
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        return False, "fit_gmm should return a tuple (weights, means, covs, trace)."
    weights, means, covs, trace = (np.asarray(v, dtype=float) for v in got)
    if trace.shape != (N_ITER + 1,):
        return False, (f"trace should hold ℓ before the first iteration and after each of the {N_ITER}, i.e. "
                       f"{N_ITER + 1} numbers; got shape {trace.shape}.")
    start = mixtures.log_likelihood(X, init["weights"], init["means"], init["covs"])
    ok, message = compare(trace[0], start, rtol=0, atol=1e-8, what="trace[0]")
    if not ok:
        return False, ("trace[0] should be the mean log-likelihood per point of the initial parameters, "
                       f"log p(x) averaged over the points: {message}")
    reference = np.asarray(ours.log_lik_history)  # ℓ(θ_0), ..., ℓ(θ_N_ITER) from the same start
    if np.allclose(trace[1:], reference[:-1], rtol=0, atol=1e-8) and not np.allclose(trace, reference, rtol=0,
                                                                                      atol=1e-8):
        return False, ("your trace lags one iteration behind: trace[t] should be ℓ of the parameters AFTER the "
                       "M-step of iteration t, but yours holds the log p(x_i) your E-step computed before it "
                       f"(trace[1] equals trace[0] = {trace[0]:.6f}).")
    steps = np.diff(trace)
    if np.any(steps < -1e-10):
        t = int(np.argmin(steps)) + 1
        return False, (f"your trace goes down at iteration {t} (by {-steps.min():.2e} nats per point). With the "
                       "exact M-step EM can never lower ℓ: look for an M-step that is not the exact maximizer "
                       "(covariances not centred at the new means? weights not N_k / n? a reg_covar?), or a trace "
                       "that is not the mean of log p(x_i).")
    try:
        final = mixtures.log_likelihood(X, weights, means, covs)
    except ValueError as exc:
        return False, f"the parameters you returned are not a valid mixture: {exc}"
    if abs(trace[-1] - final) > 1e-8:
        return False, (f"trace[-1] = {trace[-1]:.6f} but the parameters you returned have ℓ = {final:.6f}: record ℓ "
                       "of the parameters after each M-step (and return those parameters).")
    for name, mine, ref in (("weights", weights, ours.weights), ("means", means, ours.means),
                            ("covs", covs, ours.covs)):
        ok, message = compare(mine, ref, rtol=0, atol=1e-6, what=f"your final {name}")
        if not ok:
            return False, (f"after {N_ITER} iterations from lvmlib's start, {message} lvmlib's fit_em from the same "
                           "start ends elsewhere: your trace is monotone, so look at the E-step/M-step formulas.")
    ok, message = compare(trace, reference, rtol=0, atol=1e-8, what="your trace")
    if not ok:
        return False, (f"{message} Your final parameters are right, so look at what you record: trace[t] is ℓ, the "
                       "mean over points of log p(x_i), of the parameters after t iterations.")
    if abs(final - gm.score(X)) > 1e-6:
        return False, (f"your optimum ℓ = {final:.6f} differs from scikit-learn's {gm.score(X):.6f} from the same "
                       "start.")
    return True, ""


_E_STEP = Exercise(
    "Capstone step 1 (the E-step in log space)",
    _e_step,
    hints=[
        "Work with logs throughout: build the table log p(x_i, z=k) (shape (n, K)), then normalize each row in "
        "log space. Exponentiating first fails far from every cluster, where every p(x_i, z=k) underflows to 0.",
        "log p(x_i, z=k) = log pi_k + log N(x_i; mu_k, Sigma_k); log p(x_i) = logsumexp over k; "
        "log r_ik = log p(x_i, z=k) - log p(x_i).",
        "log_joint = np.stack([np.log(w) + multivariate_normal(m, c).logpdf(X) for w, m, c in zip(weights, means, "
        "covs)], axis=1); log_px = logsumexp(log_joint, axis=1); return log_joint - log_px[:, None], log_px",
    ],
    solution="""
    def e_step(X, weights, means, covs):
        log_joint = np.stack([np.log(w) + multivariate_normal(m, c).logpdf(X)
                              for w, m, c in zip(weights, means, covs)], axis=1)   # (n, K)
        log_px = logsumexp(log_joint, axis=1)                                     # (n,)
        return log_joint - log_px[:, None], log_px""",
    explanation="""
    Bayes' rule: r_ik = p(z=k | x_i) = p(x_i, z=k) / p(x_i), and p(x_i) = sum_k p(x_i, z=k). In logs the division
    is a subtraction and the sum is a logsumexp, which subtracts the row's maximum before exponentiating, so the
    far point (40, -30) (log p(x, z=k) around -1000) stays finite.""",
    cases=_E_CASES,
    mistakes=[
        Mistake("responsibilities not normalized", _e_step_unnormalized,
                "your first output is log p(x_i, z=k): subtract log p(x_i) from every row so that each row of "
                "exp(log r) sums to one."),
        Mistake("probabilities for logs", _e_step_probabilities,
                "your first output holds probabilities r_ik; this step returns their logs, log r_ik."),
        Mistake("normalized over the points", _e_step_wrong_axis,
                "each COLUMN of your exp(log r) sums to one: you normalized over the points i. Bayes' rule "
                "normalizes each point's row over the components k."),
    ],
    atol=1e-8,
)


_M_STEP = Exercise(
    "Capstone step 2 (the M-step)",
    _m_step,
    hints=[
        "With q fixed, the ELBO is the fully observed log-likelihood with fractional labels: each component's "
        "parameters are weighted versions of chapter 01's averages, point i counting r_ik times.",
        "N_k = sum_i r_ik; pi_k = N_k / n; mu_k = sum_i r_ik x_i / N_k; "
        "Sigma_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T / N_k (centred at the NEW mu_k). No reg_covar here.",
        "Nk = resp.sum(0); means = resp.T @ X / Nk[:, None]; for each k: d = X - means[k]; "
        "covs[k] = (resp[:, k, None] * d).T @ d / Nk[k]; weights = Nk / len(X)",
    ],
    solution="""
    def m_step(X, resp):
        Nk = resp.sum(axis=0)                                  # (K,) effective counts
        weights = Nk / len(X)
        means = resp.T @ X / Nk[:, None]                       # (K, D)
        covs = np.stack([(resp[:, k, None] * (X - means[k])).T @ (X - means[k]) / Nk[k]
                         for k in range(len(Nk))])            # (K, D, D)
        return weights, means, covs""",
    explanation="""
    The M-step maximizes sum_i sum_k r_ik [log pi_k + log N(x_i; mu_k, Sigma_k)] over theta. The weights: maximize
    sum_k N_k log pi_k subject to sum_k pi_k = 1 (a Lagrange multiplier) -> pi_k = N_k / n. The means: the gradient
    sum_i r_ik Sigma_k^{-1} (x_i - mu_k) = 0 -> the weighted average. The covariances: the weighted scatter around
    the new mean, divided by N_k. This is the exact maximizer: with it, EM's log-likelihood never decreases.""",
    cases=_M_CASES,
    mistakes=[
        Mistake("means divided by n, not N_k", _m_step_means_over_n,
                "your means are sum_i r_ik x_i / n; each mean is a weighted AVERAGE, so divide by N_k = sum_i r_ik."),
        Mistake("means not divided", _m_step_means_unscaled,
                "your means are the weighted sums sum_i r_ik x_i; divide each by N_k = sum_i r_ik."),
        Mistake("covariance without centring", _m_step_uncentred,
                "your covariances are sum_i r_ik x_i x_i^T / N_k; subtract the new mean first: (x_i - mu_k)."),
        Mistake("covariances divided by n, not N_k", _m_step_covs_over_n,
                "your covariances are the weighted scatter divided by n; like the means, divide by N_k."),
        Mistake("weights not summing to 1", _m_step_weights_nk,
                "your weights are the counts N_k; the weights pi_k must sum to one: divide by n."),
    ],
    atol=1e-10,
)


_FIT = Exercise(
    "Capstone step 3 (the EM loop with its log-likelihood trace, on Old Faithful)",
    checker=_fit_checker,
    timeout=60.0,
    hints=[
        "Alternate your two steps, starting from init. Before the first iteration and after each M-step record ℓ, "
        "the mean over points of log p(x_i); your E-step already returns log p(x_i).",
        "trace = [e_step(X, w, m, c)[1].mean()]; then n_iter times: log_r, _ = e_step(X, w, m, c); "
        "w, m, c = m_step(X, np.exp(log_r)); trace.append(e_step(X, w, m, c)[1].mean()).",
        "Return (weights, means, covs, np.array(trace)): the final parameters and the n_iter + 1 values of ℓ.",
    ],
    solution="""
    def fit_gmm(X, init, n_iter):
        w, m, c = init["weights"], init["means"], init["covs"]
        trace = [e_step(X, w, m, c)[1].mean()]        # ℓ(θ_0)
        for _ in range(n_iter):
            log_r, _ = e_step(X, w, m, c)              # E-step: q = p(z | x; θ_{t-1})
            w, m, c = m_step(X, np.exp(log_r))         # M-step: θ_t
            trace.append(e_step(X, w, m, c)[1].mean()) # ℓ(θ_t)
        return w, m, c, np.array(trace)""",
    explanation="""
    Each iteration: ℓ(θ_t) >= ELBO(q_t, θ_t) >= ELBO(q_t, θ_{t-1}) = ℓ(θ_{t-1}). The first inequality is
    ELBO <= log p(x); the second holds because the M-step maximizes the ELBO for fixed q; the equality because
    the E-step set q_t to the posterior. So the trace can never go down. (The log p(x_i) computed after an M-step
    is also the next E-step's; a faster loop reuses it.)""",
)

capstone = Capstone(
    "Capstone: EM for a Gaussian mixture",
    [("e_step", _E_STEP), ("m_step", _M_STEP), ("fit", _FIT)],
    intro=f"""
    You write EM from scratch: an E-step in log space, the exact M-step, and the loop that records the
    log-likelihood trace. The last step runs your loop for {N_ITER} iterations on standardized Old Faithful from a
    k-means++ start; it must never go down and must end at lvmlib's and scikit-learn's optimum from that start.""",
)
