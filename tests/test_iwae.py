"""Tests for lvmlib.iwae: the IWAE loss against an independent torch.distributions computation, objectives, SNR."""

import math

import numpy as np
import pytest
import torch

from lvmlib import iwae, made, vae

CONFIG = vae.VAEConfig(d_x=10, d_z=3, d_hidden=16)


@pytest.fixture
def model():
    return vae.VAE(CONFIG, vae.make_generator(0, "cpu"), device="cpu")


@pytest.fixture
def x():
    return (torch.rand(7, 10, generator=torch.Generator().manual_seed(1)) < 0.5).float()


def _elbo_single_sample_by_hand(model, x, eps):
    """-mean ELBO with one sample z = mu + sigma eps, from torch.distributions (no lvmlib density)."""
    mu, log_var = model.encoder(x)
    sigma = torch.exp(0.5 * log_var)
    z = mu + sigma * eps
    q = torch.distributions.Normal(mu, sigma)
    prior = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    lik = torch.distributions.Bernoulli(logits=model.decoder(z))
    return -(lik.log_prob(x).sum(-1) + prior.log_prob(z).sum(-1) - q.log_prob(z).sum(-1)).mean()


def test_the_iwae_loss_at_k_1_is_the_vae_loss_on_the_same_noise(model, x):
    loss = iwae.iwae_loss(model, x, 1, torch.Generator().manual_seed(2))
    eps = torch.randn((1, 7, 3), generator=torch.Generator().manual_seed(2))[0]  # the same draws
    assert abs(loss.item() - _elbo_single_sample_by_hand(model, x, eps).item()) < 1e-5


def test_the_iwae_loss_at_k_is_minus_log_mean_exp_of_the_weights(model, x):
    g = torch.Generator().manual_seed(3)
    eps = torch.randn((5, 7, 3), generator=torch.Generator().manual_seed(3))
    mu, log_var = model.encoder(x)
    sigma = torch.exp(0.5 * log_var)
    z = mu + sigma * eps
    log_w = (torch.distributions.Bernoulli(logits=model.decoder(z)).log_prob(x).sum(-1)
             + torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
             - torch.distributions.Normal(mu, sigma).log_prob(z).sum(-1))
    reference = -(torch.log(torch.exp(log_w.double()).mean(0))).mean()
    assert abs(iwae.iwae_loss(model, x, 5, g).item() - reference.item()) < 1e-5


def test_the_bound_tightens_with_k_on_average(model, x):
    """E[L_1] <= E[L_5] <= E[L_50]: means over 400 draws, each gap > 5 standard errors here."""
    g = torch.Generator().manual_seed(4)
    with torch.no_grad():
        values = {k: np.array([-iwae.iwae_loss(model, x, k, g).item() for _ in range(400)]) for k in (1, 5, 50)}
    for small, large in ((1, 5), (5, 50)):
        diff = values[large].mean() - values[small].mean()
        se = math.sqrt(values[large].var() / 400 + values[small].var() / 400)
        assert diff > 5 * se


def test_free_bits_floor_each_units_rate_and_warmup_scales_it():
    model = made.ARVAE(vae.VAEConfig(d_x=10, d_z=3, d_hidden=16), torch.Generator().manual_seed(5))
    x = (torch.rand(6, 10, generator=torch.Generator().manual_seed(6)) < 0.5).float()
    with torch.no_grad():
        model.encoder.mu.weight.zero_()
        model.encoder.mu.bias.copy_(torch.tensor([0.0, 0.1, 3.0]))  # KL per unit: 0, 0.005, 4.5 nats
        model.encoder.log_var.weight.zero_()
        model.encoder.log_var.bias.zero_()
    loss = lambda **kw: iwae.collapse_loss(model, x, torch.Generator().manual_seed(7), **kw).item()  # noqa: E731
    distortion = loss(beta=0.0)
    assert abs(loss() - distortion - (0.0 + 0.005 + 4.5)) < 1e-5
    assert abs(loss(free_bits=0.5) - distortion - (0.5 + 0.5 + 4.5)) < 1e-5
    assert abs(loss(beta=0.25) - distortion - 0.25 * 4.505) < 1e-5
    assert iwae.warmup(10)(5) == 0.5 and iwae.warmup(10)(30) == 1.0


def test_gradient_snr_shapes_and_definition(model, x):
    grads = iwae.gradient_snr(model, x, 3, 20, torch.Generator().manual_seed(8))
    n_enc = sum(p.numel() for p in model.encoder.parameters())
    assert grads["encoder"].shape == (20, n_enc)
    g = grads["decoder"]
    s = iwae.snr(g)
    sd = g.std(0, ddof=1)
    assert np.allclose(s, np.abs(g.mean(0))[sd > 0] / sd[sd > 0])


def test_checkpoints_round_trip(tmp_path, monkeypatch, model):
    import hashlib

    from lvmlib import data

    for m in (model, made.ARVAE(CONFIG, torch.Generator().manual_seed(9))):
        path = tmp_path / "ch07_test.pt"
        iwae.save(m, path, k=3, numbers=torch.arange(3.0))
        monkeypatch.setitem(data.SHA256, "ch07_test.pt", hashlib.sha256(path.read_bytes()).hexdigest())
        loaded, meta = iwae.load("ch07_test.pt", data_dir=tmp_path)
        assert type(loaded) is type(m) and meta["k"] == 3
        for (name, a), (_, b) in zip(m.state_dict().items(), loaded.state_dict().items(), strict=True):
            assert torch.equal(a, b), name


def test_bad_input_names_the_parameter(model, x):
    with pytest.raises(ValueError, match="k must be a whole number >= 1"):
        iwae.iwae_loss(model, x, 0, torch.Generator())
    arvae = made.ARVAE(CONFIG)
    with pytest.raises(ValueError, match="free_bits must be a finite number of nats >= 0"):
        iwae.collapse_loss(arvae, x, torch.Generator(), free_bits=-1.0)
    with pytest.raises(ValueError, match="beta must be a finite number >= 0"):
        iwae.collapse_loss(arvae, x, torch.Generator(), beta=float("nan"))
    with pytest.raises(ValueError, match="n_epochs_warmup must be > 0"):
        iwae.warmup(0)
    with pytest.raises(ValueError, match="n_epochs must be a whole number >= 1"):
        iwae.train(model, x, 0, torch.Generator(), None)
