"""Tests for lvmlib.made: the autoregressive property (Jacobian sparsity) and the ARVAE's densities."""

import numpy as np
import pytest
import torch
from torch.autograd.functional import jacobian

from lvmlib import made, vae


def _perturbed_made(d_in=6, d_hidden=20, n_out=2, d_context=0, seed=0):
    net = made.MADE(d_in, d_hidden, n_out, d_context, generator=torch.Generator().manual_seed(seed)).double()
    return net


def test_each_output_depends_only_on_earlier_inputs():
    """d out_j / d x_i is zero for i >= j and non-zero for some i < j (so the mask is not simply empty)."""
    net = _perturbed_made()
    x = torch.randn(6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    jac = jacobian(lambda v: net(v), x)  # (n_out, d_out, d_in)
    upper = torch.triu(torch.ones(6, 6, dtype=torch.bool))  # i >= j
    assert torch.all(jac[:, upper] == 0)
    assert torch.all(jac[:, ~upper].abs().amax(0) > 0)  # every allowed connection is used by some output


def test_the_context_reaches_every_output():
    net = _perturbed_made(d_context=3)
    x = torch.randn(6, dtype=torch.float64)
    jac = jacobian(lambda c: net(x, c), torch.randn(3, dtype=torch.float64))
    assert torch.all(jac.abs().sum(-1) > 0)


def test_the_arvae_decoder_is_autoregressive_in_the_pixels():
    model = made.ARVAE(vae.VAEConfig(d_x=16, d_z=2, d_hidden=32), torch.Generator().manual_seed(2))
    x = torch.rand(16)
    z = torch.randn(2)
    jac = jacobian(lambda v: model.decoder(v, z)[0], x)
    assert torch.all(jac[torch.triu(torch.ones(16, 16, dtype=torch.bool))] == 0)


def test_a_leaky_mask_is_caught_by_the_jacobian_check():
    """Planted error: mask_out with '>=' instead of '>' lets output j see x_j; the sparsity check must fail."""
    net = _perturbed_made()
    _, mask_out = made.made_masks(6, 20)
    degree_hidden = 1 + torch.arange(20) % 5
    leaky = (torch.arange(1, 7)[:, None] >= degree_hidden[None, :]).float()
    assert not torch.equal(leaky, mask_out)
    net.mask_out = leaky.repeat(2, 1).double()
    jac = jacobian(lambda v: net(v), torch.randn(6, dtype=torch.float64))
    assert torch.any(jac[:, torch.triu(torch.ones(6, 6, dtype=torch.bool))] != 0)


def test_the_autoregressive_likelihood_normalizes_over_all_binary_images():
    """sum_x p(x|z) = 1 over all 2^D binary images (D = 8), for a fixed z: the product of conditionals is a pmf."""
    model = made.ARVAE(vae.VAEConfig(d_x=8, d_z=2, d_hidden=16), torch.Generator().manual_seed(3)).double()
    images = torch.tensor(np.array(np.meshgrid(*[[0, 1]] * 8)).reshape(8, -1).T, dtype=torch.float64)
    z = torch.randn(1, 1, 2, dtype=torch.float64).expand(1, 256, 2)
    log_p = model.log_p_x_given_z(images, z)
    assert abs(torch.logsumexp(log_p.reshape(-1), 0).item()) < 1e-10


def test_ancestral_samples_follow_the_model():
    """Frequencies of sampled images match p(x|z) (D = 3, 8 images; 20,000 samples, chi-square style bound)."""
    model = made.ARVAE(vae.VAEConfig(d_x=3, d_z=1, d_hidden=8), torch.Generator().manual_seed(4))
    g = torch.Generator().manual_seed(5)
    z = torch.full((20_000, 1), 0.7)
    samples = model.sample(20_000, g, z=z)
    codes = (samples @ np.array([4, 2, 1])).astype(int)
    images = torch.tensor([[b >> 2 & 1, b >> 1 & 1, b & 1] for b in range(8)], dtype=torch.float32)
    with torch.no_grad():
        p = torch.exp(model.log_p_x_given_z(images, torch.full((1, 8, 1), 0.7)))[0].numpy()
    freq = np.bincount(codes, minlength=8) / 20_000
    se = np.sqrt(p * (1 - p) / 20_000)
    assert np.all(np.abs(freq - p) < 6 * se + 1e-12)  # 6 standard errors per cell: fails with prob. < 1e-7


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="d_in must be >= 2"):
        made.made_masks(1, 4)
    with pytest.raises(ValueError, match="d_hidden must be a whole number >= 1"):
        made.MADE(4, 0)
    with pytest.raises(ValueError, match="context must be given"):
        made.MADE(4, 8, d_context=2)(torch.zeros(4))
    with pytest.raises(ValueError, match="likelihood='bernoulli'"):
        made.ARVAE(vae.VAEConfig(likelihood="gaussian"))
