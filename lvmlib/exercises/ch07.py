"""Chapter 07 exercises: the free-bits objective, and a capstone that builds a planar flow q and its ELBO in numpy.

- ``ex1``: the free-bits rate sum_j max(lambda, mean_n KL_nj) (Kingma et al. 2016);
- ``capstone``: ``planar_layer`` (z' = z + u tanh(w . z + b)), ``planar_log_det`` (log|1 + u . w tanh'(.)|),
  ``flow_log_q`` (log q(z_K) = log N(eps) - sum_k log|det J_k|) and ``flow_elbo`` (the Monte Carlo ELBO
  mean_i [log p(x, z_K,i) - log q(z_K,i)]).

The references are computed with the chapter's torch code (:mod:`lvmlib.flows`, :mod:`lvmlib.iwae`), not with
numpy formulas like the learner's. Planar parameters are passed already constrained (u . w > -1): the learner
applies no u_hat correction.
"""

import numpy as np
import torch

from lvmlib import flows
from lvmlib.exercises import Capstone, Case, Exercise, Mistake


# ---------------------------------------------------------------------------------------------------------------
# references through lvmlib (torch)
# ---------------------------------------------------------------------------------------------------------------
def _flow_of(layers, mu=None, log_sigma=None):
    """lvmlib.flows.Flow: an affine layer (mu, log_sigma; default identity), then planar layers whose u_hat is
    exactly the given u."""
    d = len(layers[0][0])
    as_row = lambda v: None if v is None else torch.as_tensor(np.asarray(v, dtype=float)).reshape(1, d)  # noqa: E731
    planar = []
    for u, w, b in layers:
        layer = flows.PlanarLayer(d).double()
        with torch.no_grad():
            layer.w.copy_(torch.as_tensor(w, dtype=torch.float64)[None])
            layer.b.fill_(float(b))
            # u_hat = u_s + (softplus(w . u_s) - 1 - w . u_s) w / |w|^2 equals u exactly for the stored
            # u_s = u + (a - w . u) w / |w|^2 with softplus(a) = 1 + w . u, i.e. a = log(expm1(1 + w . u))
            u_t, w_t = (torch.as_tensor(v, dtype=torch.float64) for v in (u, w))
            a = torch.log(torch.expm1(1 + u_t @ w_t))
            layer.u.copy_((u_t + (a - u_t @ w_t) * w_t / (w_t @ w_t))[None])
        planar.append(layer)
    return flows.Flow([flows.AffineLayer(d, 1, as_row(mu), as_row(log_sigma)).double(), *planar])


@torch.no_grad()
def _ref_planar_log_det(z, u, w, b):
    flow = _flow_of([(u, w, b)])
    return flow.layers[1](torch.as_tensor(np.asarray(z, dtype=float)))[1].numpy()


@torch.no_grad()
def _ref_planar_layer_lvmlib(z, u, w, b):
    flow = _flow_of([(u, w, b)])
    return flow.layers[1](torch.as_tensor(np.asarray(z, dtype=float)))[0].numpy()


@torch.no_grad()
def _ref_flow_log_q(eps, mu, log_sigma, layers):
    _, log_det = _flow_of(layers, mu, log_sigma)(torch.as_tensor(np.asarray(eps, dtype=float)))
    return (flows.log_standard_normal(torch.as_tensor(np.asarray(eps, dtype=float))) - log_det).numpy()


@torch.no_grad()
def _ref_flow_elbo(eps, mu, log_sigma, layers, log_joint):
    eps_t = torch.as_tensor(np.asarray(eps, dtype=float))
    z, log_det = _flow_of(layers, mu, log_sigma)(eps_t)
    log_q = flows.log_standard_normal(eps_t) - log_det
    return float(np.mean(np.asarray(log_joint(z.numpy())) - log_q.numpy()))


def _ref_free_bits(kl_units, lam):
    return float(torch.as_tensor(np.asarray(kl_units, dtype=float)).mean(0).clamp_min(float(lam)).sum())


# ---------------------------------------------------------------------------------------------------------------
# the learner's usual mistakes (each computes the wrong answer its message diagnoses)
# ---------------------------------------------------------------------------------------------------------------
def _free_bits_per_point(kl_units, lam):
    return float(np.maximum(np.asarray(kl_units), lam).mean(0).sum())


def _free_bits_total(kl_units, lam):
    return float(max(np.asarray(kl_units).mean(0).sum(), lam))


def _free_bits_summed_over_points(kl_units, lam):
    return float(np.maximum(np.asarray(kl_units).sum(0), lam).sum())


def _free_bits_min(kl_units, lam):
    return float(np.minimum(np.asarray(kl_units).mean(0), lam).sum())


def _layer_elementwise(z, u, w, b):
    z = np.asarray(z, dtype=float)
    return z + u * np.tanh(z * w + b)


def _layer_without_b(z, u, w, b):
    z = np.asarray(z, dtype=float)
    return z + np.tanh(z @ w)[:, None] * u


def _log_det_with_tanh(z, u, w, b):
    return np.log(np.abs(1 + np.dot(u, w) * np.tanh(np.asarray(z) @ w + b)))


def _log_det_without_log(z, u, w, b):
    return np.abs(1 + np.dot(u, w) * (1 - np.tanh(np.asarray(z) @ w + b) ** 2))


@torch.no_grad()
def _log_det_sum(eps, mu, log_sigma, layers):
    _, log_det = _flow_of(layers, mu, log_sigma)(torch.as_tensor(np.asarray(eps, dtype=float)))
    return log_det.numpy()


def _log_q_plus(eps, mu, log_sigma, layers):
    return _ref_flow_log_q(eps, mu, log_sigma, layers) + 2 * _log_det_sum(eps, mu, log_sigma, layers)


@torch.no_grad()
def _log_q_base_only(eps, mu, log_sigma, layers):
    return flows.log_standard_normal(torch.as_tensor(np.asarray(eps, dtype=float))).numpy()


def _log_q_without_base(eps, mu, log_sigma, layers):
    return -_log_det_sum(eps, mu, log_sigma, layers)


def _log_q_without_log_sigma(eps, mu, log_sigma, layers):
    return _ref_flow_log_q(eps, mu, log_sigma, layers) + np.sum(log_sigma)


def _log_q_log_det_at_output(eps, mu, log_sigma, layers):
    eps = np.asarray(eps, dtype=float)
    z, total = mu + np.exp(log_sigma) * eps, np.sum(log_sigma)
    for u, w, b in layers:
        z = z + np.tanh(z @ w + b)[:, None] * u
        total = total + np.log(np.abs(1 + np.dot(u, w) * (1 - np.tanh(z @ w + b) ** 2)))
    return -0.5 * (np.log(2 * np.pi) + eps**2).sum(-1) - total


@torch.no_grad()
def _elbo_plus_log_q(eps, mu, log_sigma, layers, log_joint):
    z, _ = _flow_of(layers, mu, log_sigma)(torch.as_tensor(np.asarray(eps, dtype=float)))
    return float(np.mean(np.asarray(log_joint(z.numpy())) + _ref_flow_log_q(eps, mu, log_sigma, layers)))


@torch.no_grad()
def _elbo_without_log_q(eps, mu, log_sigma, layers, log_joint):
    z, _ = _flow_of(layers, mu, log_sigma)(torch.as_tensor(np.asarray(eps, dtype=float)))
    return float(np.mean(np.asarray(log_joint(z.numpy()))))


@torch.no_grad()
def _elbo_base_density(eps, mu, log_sigma, layers, log_joint):
    z, _ = _flow_of(layers, mu, log_sigma)(torch.as_tensor(np.asarray(eps, dtype=float)))
    base = flows.log_standard_normal(torch.as_tensor(np.asarray(eps, dtype=float))).numpy()
    return float(np.mean(np.asarray(log_joint(z.numpy())) - base))


# ---------------------------------------------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------------------------------------------
_rng = np.random.default_rng(707)  # fixed cases, drawn once at import (no effect on any other generator)
_KL = np.abs(_rng.normal(size=(6, 4))) * np.array([0.02, 0.3, 1.5, 4.0])  # units: collapsed, small, medium, large
_Z2 = _rng.normal(size=(5, 2)) * 2
_U2, _W2, _B2 = np.array([0.8, -0.4]), np.array([1.5, 0.7]), 0.3  # u . w = 0.92
_U_SHRINK, _W_SHRINK = np.array([-0.3, -0.2]), np.array([2.0, 1.5])  # u . w = -0.9: det < 1, log det < 0
_LAYERS = [(np.array([1.2]), np.array([3.0]), 0.5), (np.array([-0.2]), np.array([1.0]), -0.3),
           (np.array([0.6]), np.array([2.0]), 0.0)]
_LAYERS_2D = [(_U2, _W2, _B2), (np.array([-0.3, 0.5]), np.array([0.4, -1.2]), -0.2)]
_EPS1 = _rng.normal(size=(7, 1))
_MU1, _LOG_SIGMA1 = np.array([0.4]), np.array([-0.7])
_EPS2 = _rng.normal(size=(6, 2))


def _log_joint_bimodal(z):
    """log p(x = 2, z) of chapter 05's NonlinearModel1D (b = 0.3, sigma_x = 0.5), numpy, z (n, 1) -> (n,)."""
    z = np.asarray(z)[..., 0]
    return -0.5 * (np.log(2 * np.pi) + z**2) - 0.5 * np.log(2 * np.pi * 0.25) - (2.0 - z**2 - 0.3 * z) ** 2 / 0.5


def _log_joint_gaussian_2d(z):
    return -0.5 * (2 * np.log(2 * np.pi) + ((np.asarray(z) - np.array([1.0, -0.5])) ** 2 / 0.3).sum(-1)) \
        - np.log(0.3)


ex1 = Exercise(
    "Exercise 1 (the free-bits rate)",
    _ref_free_bits,
    cases=[Case((_KL, 0.5), "four units with average KL ~0.02, 0.2, 1.2, 3.2 nats over 6 points, lambda = 0.5"),
           Case((_KL[:, :1] * 0.0, 0.25), "one fully collapsed unit: its rate is lambda itself"),
           Case((_KL, 0.0), "lambda = 0: the plain rate, sum_j mean_n KL_nj")],
    hints=["Average each latent unit's KL over the data points first, then compare with lambda.",
           "rate = sum_j max(lambda, (1/n) sum_i KL_ij): the floor acts on each unit's batch average.",
           "np.maximum(kl_units.mean(axis=0), lam).sum()"],
    solution="def free_bits_rate(kl_units, lam):\n    return np.maximum(kl_units.mean(axis=0), lam).sum()",
    explanation="Free bits (Kingma et al. 2016) stop paying for a unit's KL below lambda nats: the gradient of\n"
                "max(lambda, KL_j) is zero there, so the optimizer has nothing to gain by pushing the unit to the\n"
                "prior. The floor acts on the batch average per unit, so single points can still use less.",
    mistakes=[Mistake("floored per point", _free_bits_per_point,
                      "You floored each data point's KL before averaging. Free bits floor each unit's KL averaged "
                      "over the batch: points whose KL is small still count at their true value in the average."),
              Mistake("floored the total", _free_bits_total,
                      "You floored the total rate summed over units. The floor is per latent unit: a unit at "
                      "KL ~0 must be lifted to lambda even when the other units carry plenty of nats."),
              Mistake("summed over points", _free_bits_summed_over_points,
                      "You summed each unit's KL over the data points. The floor compares lambda with the batch "
                      "average of each unit's KL (divide by the number of points before comparing)."),
              Mistake("min for max", _free_bits_min,
                      "You capped each unit's KL at lambda (a minimum). Free bits do the opposite: a unit is "
                      "charged at least lambda, and its full KL above it.")],
)

ex_layer = Exercise(
    "Capstone step 1 (a planar layer)",
    _ref_planar_layer_lvmlib,
    cases=[Case((_Z2, _U2, _W2, _B2), "five 2-d points, u . w = 0.92"),
           Case((_Z2, _U_SHRINK, _W_SHRINK, 0.0), "u . w = -0.9: the layer pulls points together")],
    hints=["Each row z gets the same vector u added, scaled by tanh of one number per row.",
           "z' = z + u tanh(w . z + b), with w . z computed per row (z @ w).",
           "z + np.tanh(z @ w + b)[:, None] * u"],
    solution="def planar_layer(z, u, w, b):\n    return z + np.tanh(z @ w + b)[:, None] * u",
    mistakes=[Mistake("elementwise", _layer_elementwise,
                      "You applied tanh coordinate by coordinate (z * w). The layer takes one number per point, "
                      "the inner product w . z (z @ w), and moves the whole point along u by tanh of it."),
              Mistake("no b", _layer_without_b,
                      "The step sits at w . z = 0 in your layer: the offset b inside the tanh is missing.")],
    explanation="A planar layer moves every point along the fixed direction u by an amount that depends on where\n"
                "it sits along w: tanh(w . z + b) is a smooth step across the hyperplane w . z + b = 0.",
)

ex_log_det = Exercise(
    "Capstone step 2 (the planar layer's log-determinant)",
    _ref_planar_log_det,
    cases=[Case((_Z2, _U2, _W2, _B2), "five 2-d points, u . w = 0.92: each log det > 0"),
           Case((_Z2, _U_SHRINK, _W_SHRINK, 0.0), "u . w = -0.9: det < 1, so the log det is negative")],
    hints=["The Jacobian is I + u psi(z)^T with psi(z) = tanh'(w . z + b) w: a rank-one update of I.",
           "det(I + u psi^T) = 1 + psi^T u (the matrix determinant lemma), tanh'(a) = 1 - tanh(a)^2; take log|.|.",
           "np.log(np.abs(1 + (u @ w) * (1 - np.tanh(z @ w + b) ** 2)))"],
    solution="def planar_log_det(z, u, w, b):\n    return np.log(np.abs(1 + (u @ w) * (1 - np.tanh(z @ w + b) ** 2)))",
    explanation="dz'/dz = I + u tanh'(w . z + b) w^T. By the matrix determinant lemma det(I + a c^T) = 1 + c^T a,\n"
                "so log|det| = log|1 + (u . w) tanh'(w . z + b)|: O(d) work instead of O(d^3). Here u . w > -1\n"
                "and 0 < tanh' <= 1, so 1 + (u . w) tanh' > 0 and the |.| changes nothing; for unconstrained u it\n"
                "can be negative (the layer is then not invertible) and the |.| is needed.",
    mistakes=[Mistake("tanh for tanh'", _log_det_with_tanh,
                      "You used tanh(w . z + b) where the derivative tanh' = 1 - tanh^2 belongs: the Jacobian "
                      "differentiates the layer, so it carries the slope of the step, not its height."),
              Mistake("det, not log det", _log_det_without_log,
                      "You returned |det J| itself; the flow adds log-determinants. Take the log.")],
)

ex_log_q = Exercise(
    "Capstone step 3 (log q of a flow)",
    _ref_flow_log_q,
    cases=[Case((_EPS1, _MU1, _LOG_SIGMA1, _LAYERS), "a Gaussian base and three 1-d planar layers, seven draws"),
           Case((_EPS2, np.zeros(2), np.zeros(2), _LAYERS_2D), "a standard-normal base and two 2-d planar layers")],
    hints=["Start at z_0 = mu + sigma * eps, then push through the layers, collecting each log-determinant.",
           "log q(z_K) = log N(eps; 0, I) - sum_j log sigma_j - sum_k log|det J_k(z_{k-1})|, with "
           "log N(eps) = -0.5 sum_j (log 2 pi + eps_j^2).",
           "z, total = mu + np.exp(log_sigma) * eps, np.sum(log_sigma)\nfor u, w, b in layers:\n"
           "    total = total + planar_log_det(z, u, w, b)\n    z = planar_layer(z, u, w, b)\n"
           "return -0.5 * (np.log(2 * np.pi) + eps**2).sum(-1) - total"],
    solution="def flow_log_q(eps, mu, log_sigma, layers):\n"
             "    z, total = mu + np.exp(log_sigma) * eps, np.sum(log_sigma)\n"
             "    for u, w, b in layers:\n        total = total + planar_log_det(z, u, w, b)\n"
             "        z = planar_layer(z, u, w, b)\n    return -0.5 * (np.log(2 * np.pi) + eps**2).sum(-1) - total",
    explanation="Change of variables: q(z_K) = N(eps) / (prod_j sigma_j prod_k |det J_k|). A layer that stretches\n"
                "space (|det| > 1) spreads the same mass over more room, so the density drops: the log-dets are\n"
                "subtracted.",
    mistakes=[Mistake("log-dets added", _log_q_plus,
                      "You added the log-determinants. A layer that stretches space (|det J| > 1) thins the "
                      "density, so log q = log N(eps) - sum_k log|det J_k|."),
              Mistake("base density only", _log_q_base_only,
                      "You returned log N(eps), the density of the noise before the layers; the layers change the "
                      "density, and each contributes -log|det J_k|."),
              Mistake("no base density", _log_q_without_base,
                      "Your log q holds only the log-determinants: the density of the noise itself, "
                      "log N(eps; 0, I), is missing. The layers reshape that density; they do not replace it."),
              Mistake("log sigma missing", _log_q_without_log_sigma,
                      "The first layer, z_0 = mu + sigma * eps, is a flow layer too: its log-determinant "
                      "sum_j log sigma_j is missing from what you subtract."),
              Mistake("log-det at the output", _log_q_log_det_at_output,
                      "You evaluated each layer's log-determinant at the point it produces. J_k is the Jacobian "
                      "at the layer's input z_{k-1}: take the log-det before moving z.")],
)

ex_elbo = Exercise(
    "Capstone step 4 (the flow's Monte Carlo ELBO)",
    _ref_flow_elbo,
    cases=[Case((_EPS1, _MU1, _LOG_SIGMA1, _LAYERS, _log_joint_bimodal),
                "chapter 05's bimodal posterior at x = 2, seven draws"),
           Case((_EPS2, np.zeros(2), np.zeros(2), _LAYERS_2D, _log_joint_gaussian_2d), "a 2-d Gaussian target")],
    hints=["The ELBO averages log p(x, z) - log q(z) over draws z = f(eps); you have both pieces.",
           "ELBO ~ (1/n) sum_i [log_joint(z_K,i) - log q(z_K,i)] with z_K = f(eps_i) and log q from step 3.",
           "z = mu + np.exp(log_sigma) * eps\nfor u, w, b in layers:\n    z = planar_layer(z, u, w, b)\n"
           "return np.mean(log_joint(z) - flow_log_q(eps, mu, log_sigma, layers))"],
    solution="def flow_elbo(eps, mu, log_sigma, layers, log_joint):\n    z = mu + np.exp(log_sigma) * eps\n"
             "    for u, w, b in layers:\n        z = planar_layer(z, u, w, b)\n"
             "    return np.mean(log_joint(z) - flow_log_q(eps, mu, log_sigma, layers))",
    explanation="The reparameterized ELBO of chapter 06 with a flow for q: z = f(eps) is differentiable in the\n"
                "layers' "
                "parameters and log q(z) is exact by the change of variables, so no closed-form entropy is needed.",
    mistakes=[Mistake("no log q", _elbo_without_log_q,
                      "You averaged log p(x, z) alone. Without -log q(z) the objective rewards piling all of q on "
                      "the posterior's mode: the entropy term is what keeps q spread out."),
              Mistake("+ log q", _elbo_plus_log_q,
                      "You added log q(z). The ELBO is E_q[log p(x, z) - log q(z)]: log q enters with a minus "
                      "sign (it is minus the entropy)."),
              Mistake("base density for q", _elbo_base_density,
                      "You subtracted log N(eps), the noise's density, instead of log q(z_K): the layers' "
                      "log-determinants are missing.")],
)

capstone = Capstone(
    "Capstone: a planar flow q and its ELBO",
    [("planar_layer", ex_layer), ("planar_log_det", ex_log_det), ("flow_log_q", ex_log_q), ("flow_elbo", ex_elbo)],
    intro="You build the flow of section 1 in numpy: one planar layer, its log-determinant, the density of a stack\n"
          "of layers by the change of variables, and the Monte Carlo ELBO. At the end your functions evaluate the\n"
          "flow fitted in this chapter, and its Monte Carlo ELBO lands within a few standard errors of lvmlib's\n"
          "exact (quadrature) value.",
)
