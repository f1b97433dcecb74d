"""MADE (Germain et al. 2015) and a VAE with an autoregressive decoder (chapter 07; torch).

A MADE is a one-hidden-layer network whose weight matrices are multiplied by 0/1 masks so that output j depends
only on inputs 1..j-1 (in a fixed order): an autoregressive model in one pass. Each input gets the degree j,
each hidden unit a degree in 1..d-1, and a connection exists only from lower (or equal, into the hidden layer)
to strictly higher degree. An optional ``context`` (e.g. z) feeds every unit without a mask.

:class:`ARVAE` uses a MADE over the 64 pixels as the decoder: p(x|z) = prod_j Bernoulli(x_j; sigm(l_j(x_<j, z))).
Such a decoder can model the digits without z at all, which invites posterior collapse.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from lvmlib import vae


def made_masks(d_in, d_hidden):
    """0/1 masks of a one-hidden-layer MADE in the natural order 1..d_in.

    Returns (mask_in (d_hidden, d_in), mask_out (d_in, d_hidden)) as float tensors. Hidden unit k has degree
    1 + k mod (d_in - 1); mask_in[k, i] = deg_k >= i + 1 and mask_out[j, k] = j + 1 > deg_k.
    """
    if d_in < 2:
        raise ValueError(f"d_in must be >= 2 for an autoregressive mask, got {d_in}.")
    degree_in = torch.arange(1, d_in + 1)
    degree_hidden = 1 + torch.arange(d_hidden) % (d_in - 1)
    mask_in = (degree_hidden[:, None] >= degree_in[None, :]).float()
    mask_out = (degree_in[:, None] > degree_hidden[None, :]).float()
    return mask_in, mask_out


class MADE(nn.Module):
    """Masked autoencoder: x (..., d_in) [and context (..., d_context)] -> (..., n_out, d_in).

    Output [..., r, j] depends only on x_1..x_{j-1} (and the context). Weights carry a leading ``n_models`` axis:
    with n_models > 1 each of n_data points has its own network and x must be (..., n_data, d_in).
    ``zero_output`` starts the output layer at zero (a flow layer that begins as the identity).
    """

    def __init__(self, d_in, d_hidden, n_out=1, d_context=0, n_models=1, generator=None, zero_output=False):
        super().__init__()
        for name, value in (("d_in", d_in), ("d_hidden", d_hidden), ("n_out", n_out), ("n_models", n_models)):
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}.")
        self.d_in, self.n_out, self.d_context = d_in, n_out, d_context
        mask_in, mask_out = made_masks(d_in, d_hidden)
        self.register_buffer("mask_in", mask_in, persistent=False)
        self.register_buffer("mask_out", mask_out.repeat(n_out, 1), persistent=False)

        def init(fan_in, *shape):
            bound = 1.0 / math.sqrt(fan_in)
            return nn.Parameter((2 * torch.rand((n_models, *shape), generator=generator) - 1) * bound)

        self.w_in, self.b_in = init(d_in, d_hidden, d_in), init(d_in, d_hidden)
        self.w_out, self.b_out = init(d_hidden, n_out * d_in, d_hidden), init(d_hidden, n_out * d_in)
        if zero_output:
            with torch.no_grad():
                self.w_out.zero_()
                self.b_out.zero_()
        if d_context:
            self.c_in, self.c_out = init(d_context, d_hidden, d_context), init(d_context, n_out * d_in, d_context)

    @staticmethod
    def _linear(x, weight, bias):
        if weight.shape[0] == 1:
            return F.linear(x, weight[0], bias[0])
        return (x.unsqueeze(-2) @ weight.transpose(-1, -2)).squeeze(-2) + bias

    def forward(self, x, context=None):
        h = self._linear(x, self.w_in * self.mask_in, self.b_in)
        if self.d_context:
            if context is None:
                raise ValueError(f"context must be given: this MADE has d_context = {self.d_context}.")
            h = h + self._linear(context, self.c_in, torch.zeros_like(self.b_in))
        out = self._linear(torch.tanh(h), self.w_out * self.mask_out, self.b_out)
        if self.d_context:
            out = out + self._linear(context, self.c_out, torch.zeros_like(self.b_out))
        return out.unflatten(-1, (self.n_out, self.d_in))


class ARVAE(nn.Module):
    """A VAE whose decoder is autoregressive: p(x|z) = prod_j Bernoulli(x_j; sigm(MADE(x, z)_j)).

    The encoder is chapter 06's ``vae.Encoder``; ``config`` a ``vae.VAEConfig`` (Bernoulli). ``z_to_decoder``
    False cuts z out of the decoder (a plain MADE: an exact likelihood, and a reference for the collapsed VAE).
    """

    def __init__(self, config, generator=None, z_to_decoder=True):
        super().__init__()
        if not isinstance(config, vae.VAEConfig) or config.likelihood != "bernoulli":
            raise ValueError("config must be a vae.VAEConfig with likelihood='bernoulli'.")
        self.config = config
        with torch.random.fork_rng(devices=[]):
            if generator is not None:
                torch.manual_seed(int(torch.randint(2**62, (1,), generator=generator)))
            self.encoder = vae.Encoder(config)
        self.decoder = MADE(config.d_x, config.d_hidden, 1, config.d_z if z_to_decoder else 0,
                            generator=generator)

    as_x = vae.VAE.as_x

    @property
    def device(self):
        return self.decoder.w_in.device

    def log_p_x_given_z(self, x, z):
        """log p(x|z) for x (n_data, d_x), z (n_samples, n_data, d_z): (n_samples, n_data)."""
        xs = x.expand(*z.shape[:-1], x.shape[-1])
        logits = self.decoder(xs, z if self.decoder.d_context else None)[..., 0, :]
        return vae.log_bernoulli_logits(x, logits)

    def rate_distortion(self, x, generator, n_samples=1):
        """Per point: the rate KL(q(z|x) || p(z)) per latent unit (n_data, d_z) and the distortion
        -E_q log p(x|z) (n_data,), the latter with ``n_samples`` draws."""
        mu, log_var = self.encoder(x)
        z = vae.reparameterize(mu, log_var, n_samples, generator)
        kl_units = 0.5 * (torch.exp(log_var) + mu**2 - 1.0 - log_var)
        return kl_units, -self.log_p_x_given_z(x, z).mean(0)

    def log_weights(self, x, k, generator):
        """log p(x, z) - log q(z|x) for k samples z ~ q(z|x): (k, n_data)."""
        mu, log_var = self.encoder(x)
        z = vae.reparameterize(mu, log_var, k, generator)
        log_p_z = -0.5 * (vae.LOG_2PI + z**2).sum(-1)
        return self.log_p_x_given_z(x, z) + log_p_z - vae.log_normal_diag(z, mu, log_var)

    iwae_bound = vae.VAE.iwae_bound

    @torch.no_grad()
    def encode(self, x):
        mu, log_var = self.encoder(self.as_x(x))
        return mu.cpu().numpy(), log_var.cpu().numpy()

    @torch.no_grad()
    def sample(self, n, generator, z=None):
        """Ancestral sampling, one pixel at a time: z ~ p(z) (or the given z (n, d_z)), x ~ p(x|z). Numpy (n, d_x)."""
        if z is None:
            z = torch.randn((n, self.config.d_z), generator=generator)
        x = torch.zeros((n, self.config.d_x))
        for j in range(self.config.d_x):
            logits = self.decoder(x, z if self.decoder.d_context else None)[:, 0, j]
            x[:, j] = (torch.rand(n, generator=generator) < torch.sigmoid(logits)).float()
        return x.numpy()


def active_units(model, x, threshold=0.01):
    """Units whose encoder mean varies across the data (Var_x mu_j(x) > threshold): boolean numpy (d_z,)."""
    mu, _ = model.encode(x)
    return vae.active_units(mu, threshold)

