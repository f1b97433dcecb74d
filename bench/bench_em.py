"""EM: lvmlib.mixtures.fit_em against scikit-learn's GaussianMixture on the same data from the same start.

100,000 points in 2-D from a seeded three-component mixture; K = 3, full covariances, reg_covar = 1e-6 and the
same initial weights, means and covariances (sklearn gets the initial precisions). Both run exactly N_ITER
iterations (tol = 0), so both end at the parameters after N_ITER M-steps; their mean log-likelihoods per sample
must then agree. Time per iteration = best of REPEATS fits / iterations (the best is the least disturbed by other
work on the machine).
"""

import warnings

import numpy as np
from common import NotAvailable, timed

N, K, N_ITER, REPEATS = 100_000, 3, 50, 3


def data(rng):
    means = np.array([[0.0, 0.0], [3.0, 1.0], [-1.0, 4.0]])
    covs = np.array([[[1.0, 0.3], [0.3, 0.5]], [[0.6, -0.2], [-0.2, 1.2]], [[0.8, 0.0], [0.0, 0.8]]])
    z = rng.choice(3, size=N, p=[0.5, 0.3, 0.2])
    chol = np.linalg.cholesky(covs)
    return means[z] + np.einsum("nij,nj->ni", chol[z], rng.standard_normal((N, 2)))


def initial(X, rng):
    """Means at K random points, the data covariance for every component, equal weights."""
    means = X[rng.choice(len(X), K, replace=False)]
    covs = np.repeat(np.cov(X.T)[None], K, axis=0)
    return {"weights": np.full(K, 1.0 / K), "means": means, "covs": covs}


def run():
    try:
        from lvmlib.mixtures import fit_em
    except ImportError as error:
        raise NotAvailable("lvmlib.mixtures") from error
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(0)
    X = data(rng)
    init = initial(X, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tol = 0: both warn that they did not "converge"
        ours, ours_s = [], []
        theirs, theirs_s = [], []
        for _ in range(REPEATS):  # interleaved, so a burst of load hits both alike
            result, seconds = timed(fit_em, X, K, init=init, max_iter=N_ITER, tol=0.0, reg_covar=1e-6)
            ours.append(result)
            ours_s.append(seconds)
            gm = GaussianMixture(K, covariance_type="full", tol=0.0, reg_covar=1e-6, max_iter=N_ITER,
                                 init_params="random_from_data", weights_init=init["weights"],
                                 means_init=init["means"], precisions_init=np.linalg.inv(init["covs"]))
            _, seconds = timed(gm.fit, X)
            theirs.append(gm)
            theirs_s.append(seconds)
    result, gm = ours[0], theirs[0]
    ll_ours = result.log_lik
    ll_sklearn = float(gm.score(X))
    per_iter_ours = min(ours_s) / result.n_iter
    per_iter_sklearn = min(theirs_s) / gm.n_iter_
    return {
        "n": N, "k": K, "iterations": (result.n_iter, int(gm.n_iter_)),
        "ms_per_iter_lvmlib": 1e3 * per_iter_ours, "ms_per_iter_sklearn": 1e3 * per_iter_sklearn,
        "ratio": per_iter_ours / per_iter_sklearn,
        "log_lik_lvmlib": ll_ours, "log_lik_sklearn": ll_sklearn, "log_lik_diff": abs(ll_ours - ll_sklearn),
        "max_abs_mean_diff": float(np.abs(np.sort(result.means, 0) - np.sort(gm.means_, 0)).max()),
    }
