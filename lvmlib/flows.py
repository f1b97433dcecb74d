"""Normalizing flows for the approximate posterior q(z) (chapter 07; torch).

A flow pushes base noise eps ~ N(0, I_{d_z}) through invertible layers z = f_K(...f_1(eps)). By the change of
variables, log q(z) = log N(eps; 0, I) - sum_k log |det df_k/dz_{k-1}|, so every layer returns its output and
the log-determinant of its Jacobian.

Layers: :class:`AffineLayer` (a diagonal Gaussian is eps -> mu + sigma * eps), :class:`PlanarLayer`
(Rezende & Mohamed 2015) and :class:`IAFLayer` (inverse autoregressive flow, Kingma et al. 2016, built on
:class:`lvmlib.made.MADE`). A layer's parameters carry a leading ``n_models`` axis (default 1, shared), so one
call refines a separate flow for each of n_data data points; inputs are then shaped (..., n_data, d_z).

Shapes: z is (..., d_z) (e.g. (n_samples, n_data, d_z)); log-determinants and log-densities are (...).
"""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from lvmlib.made import MADE
from lvmlib.vae import LOG_2PI, adam_with_decoder_fixed, uses_threads


def _check_size(value, name, minimum=1):
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}.")
    return int(value)


def log_standard_normal(eps):
    """log N(eps; 0, I) summed over the last axis: (..., d_z) -> (...)."""
    return -0.5 * (LOG_2PI + eps**2).sum(dim=-1)


# ---------------------------------------------------------------------------------------------------------------
# layers: forward(z) -> (z', log|det J|), inverse(z') -> z
# ---------------------------------------------------------------------------------------------------------------
class AffineLayer(nn.Module):
    """z' = mu + exp(log_sigma) * z elementwise; log|det J| = sum_j log_sigma_j. Parameters (n_models, d_z)."""

    def __init__(self, d_z, n_models=1, mu=None, log_sigma=None):
        super().__init__()
        d_z, n_models = _check_size(d_z, "d_z"), _check_size(n_models, "n_models")
        self.mu = nn.Parameter(torch.zeros(n_models, d_z) if mu is None else torch.as_tensor(mu).clone().float())
        self.log_sigma = nn.Parameter(
            torch.zeros(n_models, d_z) if log_sigma is None else torch.as_tensor(log_sigma).clone().float())

    def forward(self, z):
        return self.mu + torch.exp(self.log_sigma) * z, self.log_sigma.sum(-1).expand(z.shape[:-1])

    def inverse(self, y):
        return (y - self.mu) * torch.exp(-self.log_sigma)


class PlanarLayer(nn.Module):
    """z' = z + u_hat tanh(w . z + b) (Rezende & Mohamed 2015); parameters u, w (n_models, d_z), b (n_models,).

    log|det J| = log|1 + (u_hat . w) tanh'(w . z + b)|. The layer is invertible when u_hat . w > -1, which
    u_hat = u + (m(w . u) - w . u) w / ||w||^2 with m(a) = -1 + softplus(a) guarantees.
    """

    def __init__(self, d_z, n_models=1, generator=None, scale=0.5):
        super().__init__()
        d_z, n_models = _check_size(d_z, "d_z"), _check_size(n_models, "n_models")
        draw = lambda *shape: scale * torch.randn(shape, generator=generator)  # noqa: E731
        self.u, self.w, self.b = nn.Parameter(draw(n_models, d_z)), nn.Parameter(draw(n_models, d_z)), \
            nn.Parameter(draw(n_models))

    def u_hat(self):
        wu = (self.w * self.u).sum(-1, keepdim=True)
        return self.u + (-1.0 + F.softplus(wu) - wu) * self.w / (self.w**2).sum(-1, keepdim=True).clamp_min(1e-12)

    def forward(self, z):
        u = self.u_hat()
        h = torch.tanh((z * self.w).sum(-1) + self.b)
        log_det = torch.log(torch.abs(1.0 + (1.0 - h**2) * (u * self.w).sum(-1)))
        return z + u * h.unsqueeze(-1), log_det

    @torch.no_grad()
    def inverse(self, y, n_iter=100):
        """Solve for z by bisection on a = w . z, which satisfies a + (u_hat . w) tanh(a + b) = w . y."""
        u = self.u_hat()
        wu, wy = (u * self.w).sum(-1), (y * self.w).sum(-1)
        spread = wu.abs().expand_as(wy)
        lo, hi = wy - spread - 1e-9, wy + spread + 1e-9
        for _ in range(n_iter):
            mid = 0.5 * (lo + hi)
            above = mid + wu * torch.tanh(mid + self.b) > wy
            hi, lo = torch.where(above, mid, hi), torch.where(above, lo, mid)
        a = 0.5 * (lo + hi)
        return y - u * torch.tanh(a + self.b).unsqueeze(-1)


class IAFLayer(nn.Module):
    """Inverse autoregressive flow layer: z'_j = m_j(z_<j) + exp(s_j(z_<j)) z_j, with (m, s) from a MADE.

    The Jacobian is triangular, so log|det J| = sum_j s_j; sampling is one pass, inversion takes d_z passes.
    ``reverse`` flips the variable order (alternate it between layers). The MADE's output layer starts at zero,
    so a new layer is the identity. Parameters carry a leading ``n_models`` axis (see the module docstring).
    """

    def __init__(self, d_z, d_hidden=16, n_models=1, reverse=False, generator=None):
        super().__init__()
        self.reverse = bool(reverse)
        self.made = MADE(d_z, d_hidden, n_out=2, n_models=n_models, generator=generator, zero_output=True)

    def _flip(self, z):
        return z.flip(-1) if self.reverse else z

    def forward(self, z):
        zr = self._flip(z)
        m, s = self.made(zr).unbind(-2)
        return self._flip(m + torch.exp(s) * zr), s.sum(-1)

    @torch.no_grad()
    def inverse(self, y):
        yr = self._flip(y)
        z = torch.zeros_like(yr)
        for _ in range(yr.shape[-1]):  # z_j depends on z_<j only: d_z passes fix one more coordinate each
            m, s = self.made(z).unbind(-2)
            z = (yr - m) * torch.exp(-s)
        return self._flip(z)


class Flow(nn.Module):
    """q(z): eps ~ N(0, I_{d_z}) pushed through ``layers`` in order; log q(z) by the change of variables."""

    def __init__(self, layers):
        super().__init__()
        if len(layers) == 0:
            raise ValueError("layers must hold at least one layer, e.g. [AffineLayer(d_z)].")
        self.layers = nn.ModuleList(layers)

    def forward(self, eps):
        """z = f(eps) and log|det df/deps| for eps (..., d_z): returns z (..., d_z), log_det (...)."""
        log_det = torch.zeros(eps.shape[:-1], dtype=eps.dtype, device=eps.device)
        z = eps
        for layer in self.layers:
            z, ld = layer(z)
            log_det = log_det + ld
        return z, log_det

    def inverse(self, z):
        """eps = f^{-1}(z), layer by layer in reverse order."""
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_q(self, z):
        """log q(z) = log N(f^{-1}(z)) - log|det df/deps| at eps = f^{-1}(z): (..., d_z) -> (...)."""
        eps = self.inverse(z)
        _, log_det = self(eps)
        return log_standard_normal(eps) - log_det

    def rsample(self, shape, generator):
        """Reparameterized draws: z (*shape, d_z) and log q(z) (*shape), differentiable in the parameters."""
        d_z = self.layers[0].mu.shape[-1] if isinstance(self.layers[0], AffineLayer) else None
        if d_z is None:
            raise ValueError("the first layer must be an AffineLayer (it fixes d_z and the base scale).")
        eps = torch.randn((*shape, d_z), generator=generator)
        z, log_det = self(eps)
        return z, log_standard_normal(eps) - log_det


def planar_flow(n_layers, d_z=1, n_models=1, generator=None, mu=None, log_sigma=None):
    """An affine (Gaussian) layer followed by ``n_layers`` planar layers; n_layers = 0 is a Gaussian q."""
    n_layers = _check_size(n_layers, "n_layers", minimum=0)
    layers = [AffineLayer(d_z, n_models, mu, log_sigma)]
    layers += [PlanarLayer(d_z, n_models, generator) for _ in range(n_layers)]
    return Flow(layers)


def iaf_flow(n_layers, d_z, mu, log_sigma, d_hidden=16, generator=None):
    """A diagonal Gaussian (mu, log_sigma of shape (n_models, d_z)) followed by ``n_layers`` IAF layers."""
    n_layers = _check_size(n_layers, "n_layers", minimum=0)
    n_models = mu.shape[0]
    layers = [AffineLayer(d_z, n_models, mu, log_sigma)]
    layers += [IAFLayer(d_z, d_hidden, n_models, reverse=k % 2 == 1, generator=generator) for k in range(n_layers)]
    return Flow(layers)


# ---------------------------------------------------------------------------------------------------------------
# the 1-D bimodal posterior of chapter 05: NonlinearModel1D, x | z ~ N(z^2 + b z, sigma_x^2)
# ---------------------------------------------------------------------------------------------------------------
def nonlinear_1d_log_joint(model, x):
    """log p(x, z) of ``examples.NonlinearModel1D`` at the number x, as a torch function of z (..., 1) -> (...).

    The function takes an optional ``beta`` in [0, 1]: log p(z) + beta log p(x|z), the tempered target of
    annealing (beta = 1 is the model itself).
    """
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"x must be a finite number, got {x!r}.")
    b, sigma_x = float(model.b), float(model.sigma_x)

    def log_joint(z, beta=1.0):
        z = z[..., 0]
        mean = z**2 + b * z
        log_lik = -0.5 * (LOG_2PI + ((x - mean) / sigma_x) ** 2) - math.log(sigma_x)
        return -0.5 * (LOG_2PI + z**2) + beta * log_lik

    return log_joint


@torch.no_grad()
def elbo_by_quadrature_1d(flow, log_joint, n_grid=20001, eps_max=10.0):
    """The exact ELBO of a 1-D flow q: E_eps[log p(x, f(eps)) + log|f'(eps)|] + H[N(0, 1)], trapezoid in eps.

    Deterministic (no sampling), float64. Accurate while f is smooth on the grid's scale (2 * eps_max / n_grid).
    Returns a float, or an array (n_models,) for a flow with several models (one ELBO each).
    """
    eps = torch.linspace(-eps_max, eps_max, _check_size(n_grid, "n_grid", 3), dtype=torch.float64)
    flow64 = _float64_copy(flow)
    n_models = flow64.layers[0].mu.shape[0]
    grid = eps[:, None, None].expand(-1, n_models, 1)
    z, log_det = flow64(grid)
    integrand = torch.exp(log_standard_normal(grid)) * (log_joint(z) + log_det)
    elbo = torch.trapezoid(integrand, eps, dim=0).numpy() + 0.5 * (LOG_2PI + 1.0)
    return float(elbo[0]) if n_models == 1 else elbo


def one_model(flow, i):
    """A copy of model ``i`` of a flow whose layers carry several models (parameters sliced to n_models = 1)."""
    single = _float64_copy(flow).to(next(flow.parameters()).dtype)
    with torch.no_grad():
        for name, p in list(single.named_parameters()):
            module_name, _, attr = name.rpartition(".")
            setattr(single.get_submodule(module_name), attr, nn.Parameter(p[i:i + 1].clone()))
    return single


@torch.no_grad()
def density_on_grid_1d(flow, z_grid):
    """q(z) of a 1-D flow at the points ``z_grid`` (numpy (m,)) through the inverse: numpy (m,), float64."""
    flow64 = _float64_copy(flow)
    z = torch.as_tensor(np.asarray(z_grid, dtype=float))[:, None]
    return torch.exp(flow64.log_q(z)).numpy()


def _float64_copy(flow):
    import copy

    return copy.deepcopy(flow).double()


@uses_threads
def fit_flow_1d(flow, log_joint, generator, n_steps=2000, n_samples=256, lr=0.01, n_anneal=0, lr_final=None,
                progress=True, desc="fitting the flow"):
    """Maximize the reparameterized Monte Carlo ELBO of a 1-D flow q by Adam; returns the -ELBO history.

    A flow with n_models > 1 fits that many independent restarts at once (Adam acts elementwise, so each model
    follows its own path). Each step draws ``n_samples`` eps ~ N(0, 1) from ``generator`` and takes one step on
    -mean[log p(z) + beta_t log p(x|z) - log q(z)] at z = f(eps), with beta_t = min(1, (t + 1) / n_anneal)
    (annealing, Rezende & Mohamed 2015: a flat start lets q spread over both modes; n_anneal = 0: beta = 1).
    The history holds the loss at beta = 1 only after annealing ends (before, the tempered loss). ``lr_final``
    (default ``lr``) decays the learning rate geometrically to that value over the steps after annealing.
    """
    n_steps, n_samples = _check_size(n_steps, "n_steps"), _check_size(n_samples, "n_samples")
    n_anneal = _check_size(n_anneal, "n_anneal", minimum=0)
    opt = torch.optim.Adam(flow.parameters(), lr=lr)
    decay = (lr_final / lr) ** (1.0 / max(1, n_steps - n_anneal)) if lr_final else 1.0
    history = []
    for t in tqdm(range(n_steps), desc=desc, disable=not progress, leave=False):
        beta = min(1.0, (t + 1) / n_anneal) if n_anneal else 1.0
        if t >= n_anneal:
            opt.param_groups[0]["lr"] *= decay
        z, log_q = flow.rsample((n_samples, flow.layers[0].mu.shape[0]), generator)
        loss = (log_q - log_joint(z, beta)).mean(0).sum()  # several models: independent fits, summed
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.append(loss.item())
    return np.array(history)


# ---------------------------------------------------------------------------------------------------------------
# a flow q per data point for a fixed decoder (the approximation gap)
# ---------------------------------------------------------------------------------------------------------------
def log_joint_vae(model, x):
    """log p(x, z) = log p(z) + log p(x|z) of a ``vae.VAE`` (decoder fixed), as a function of z (s, n, d_z)."""

    def log_joint(z):
        return log_standard_normal(z) + model.log_p_x_given_z(x, z)

    return log_joint


@uses_threads
def refine_flow_q(model, x, n_layers, generator, n_steps=300, lr=0.02, n_samples=8, d_hidden=16, progress=True):
    """Per-point q_i(z) for a fixed VAE decoder: the encoder's diagonal Gaussian, then ``n_layers`` IAF layers.

    Every data point gets its own Gaussian and its own IAF weights (n_layers = 0 gives the per-point diagonal
    Gaussian of ``vae.refine_q``). All start at the encoder's output (a new IAF layer is the identity) and take
    ``n_steps`` Adam steps on the reparameterized ELBO with ``n_samples`` draws: the same budget for every family.
    Returns the flow (n_models = n_data) and the history of the mean -ELBO per step.
    """
    x = model.as_x(x)
    with torch.no_grad():
        mu, log_var = model.encoder(x)
    flow = iaf_flow(n_layers, model.config.d_z, mu, 0.5 * log_var, d_hidden, generator)
    log_joint = log_joint_vae(model, x)

    def negative_elbo():
        z, log_q = flow.rsample((n_samples, x.shape[0]), generator)
        return (log_q - log_joint(z)).mean(0).sum()

    history = adam_with_decoder_fixed(model, list(flow.parameters()), negative_elbo,
                                      _check_size(n_steps, "n_steps"), lr, x.shape[0],
                                      f"refining q ({n_layers} IAF layers)", progress)
    return flow, np.array(history)


@torch.no_grad()
@uses_threads
def flow_log_weights(model, x, flow, n_samples, generator, chunk=500):
    """log w = log p(x, z) - log q_i(z) for z ~ q_i (a per-point flow): tensor (n_samples, n_data), in chunks."""
    x = model.as_x(x)
    log_joint = log_joint_vae(model, x)
    parts = []
    for start in range(0, n_samples, chunk):
        z, log_q = flow.rsample((min(chunk, n_samples - start), x.shape[0]), generator)
        parts.append(log_joint(z) - log_q)
    return torch.cat(parts)
