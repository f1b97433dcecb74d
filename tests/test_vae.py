"""Tests for lvmlib.vae against torch.distributions, quadrature and the closed-form pPCA likelihood."""

import numpy as np
import pytest
import torch

from lvmlib import data, ppca, vae
from lvmlib.logspace import log_trapezoid


@pytest.fixture(scope="module")
def digits():
    images, labels = data.load_digits()
    return vae.train_test_split(images, labels, 297, np.random.default_rng(0))


# ---- the pieces of the ELBO ---------------------------------------------------------------------------------
def test_closed_form_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(50, 6, generator=g, dtype=torch.float64) * 2
    log_var = torch.randn(50, 6, generator=g, dtype=torch.float64) * 2
    q = torch.distributions.Normal(mu, torch.exp(0.5 * log_var))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    reference = torch.distributions.kl_divergence(q, p).sum(-1)  # KL(q || p): torch's argument order is (q, p)
    assert torch.allclose(vae.kl_normal_std(mu, log_var), reference, atol=1e-6, rtol=0)
    # direction pinned: KL(q || p) != KL(p || q) for these values
    assert not torch.allclose(vae.kl_normal_std(mu, log_var), torch.distributions.kl_divergence(p, q).sum(-1))


def test_closed_form_kl_matches_a_monte_carlo_estimate():
    mu, log_var = torch.tensor([[0.7, -1.2]]), torch.tensor([[-0.5, 0.8]])
    z = vae.reparameterize(mu, log_var, 200_000, torch.Generator().manual_seed(1))
    log_ratio = vae.log_normal_diag(z, mu, log_var) - vae.log_normal_diag(z, torch.zeros(2), torch.zeros(2))
    # 200,000 draws: the standard error is ~0.003, so 0.02 is > 6 standard errors (fails ~never)
    assert abs(log_ratio.mean().item() - vae.kl_normal_std(mu, log_var).item()) < 0.02


def test_bernoulli_log_likelihood_is_stable_for_large_logits():
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0, 0.5]], dtype=torch.float64)
    logits = torch.tensor([[100.0, -100.0, -100.0, 100.0, 3.0]], dtype=torch.float64)
    got = vae.log_bernoulli_logits(x, logits)
    exact = -np.log1p(np.exp(-100.0)) * 2 - 100.0 - 100.0 + (0.5 * 3.0 - np.logaddexp(0, 3.0))
    assert torch.isfinite(got).all()
    assert np.isclose(got.item(), exact, rtol=1e-12)
    reference = torch.distributions.Bernoulli(logits=logits[:, :4]).log_prob(x[:, :4]).sum(-1)
    assert torch.allclose(vae.log_bernoulli_logits(x[:, :4], logits[:, :4]), reference)


def test_gaussian_decoder_density_uses_the_data_dimension():
    x = torch.randn(3, 7, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    mean, beta = torch.zeros(7, dtype=torch.float64), torch.tensor(0.3, dtype=torch.float64)
    reference = torch.distributions.Normal(mean, beta.sqrt()).log_prob(x).sum(-1)
    assert torch.allclose(vae.log_gaussian_beta(x, mean, beta), reference, atol=1e-10)


def test_reparameterized_samples_have_the_right_moments():
    mu, log_var = torch.tensor([1.5, -2.0]), torch.tensor([0.4, -1.0])
    z = vae.reparameterize(mu, log_var, 100_000, torch.Generator().manual_seed(3))
    assert z.shape == (100_000, 2)
    # standard errors ~0.005 (mean) and ~0.005-0.02 (variance): tolerances are > 5 standard errors
    assert torch.allclose(z.mean(0), mu, atol=0.03)
    assert torch.allclose(z.var(0), torch.exp(log_var), rtol=0.03)


# ---- training and bounds ------------------------------------------------------------------------------------
def test_negative_elbo_decreases_over_a_short_seeded_run(digits):
    x_train = digits[0]
    model = vae.VAE(vae.VAEConfig(d_x=64, d_z=4, d_hidden=64), torch.Generator().manual_seed(10))
    history = vae.train(model, x_train, 8, vae.make_generator(0, "cpu"), progress=False)
    assert len(history["train"]) == 8 and all(np.isfinite(history["train"]))
    assert history["train"][-1] < history["train"][0] - 5.0  # ~44 -> ~27 nats per image in practice


def test_iwae_bound_is_non_decreasing_in_k_on_average(digits):
    x_train, x_test = digits[0], digits[1]
    model = vae.VAE(vae.VAEConfig(d_x=64, d_z=4, d_hidden=64), torch.Generator().manual_seed(10))
    vae.train(model, x_train, 10, vae.make_generator(1, "cpu"), progress=False)
    g = vae.make_generator(2, "cpu")
    # E[L_k] averaged over 297 test images and over repeated draws (more repeats where single draws are noisier)
    repeats = {1: 200, 10: 20, 100: 4, 1000: 1}
    bounds = [np.mean([model.iwae_bound(x_test, k, g).mean() for _ in range(r)]) for k, r in repeats.items()]
    # measured steps ~0.13, 0.07, 0.013 nats; the averaged Monte Carlo noise is ~0.005 nats
    assert bounds[0] < bounds[1] < bounds[2] < bounds[3] + 0.01
    # the ELBO estimate agrees with E[L_1] (two unbiased estimates of the same expectation)
    assert abs(model.elbo(x_test, g, n_samples=200).mean() - bounds[0]) < 0.03


@pytest.mark.parametrize("d_x, n, k, scale", [(784, 30, 40, 1.0), (784, 30, 40, 8.0), (131, 7, 33, 3.0),
                                              (1, 4, 5, 1.0)])
def test_fast_bernoulli_path_equals_the_plain_log_weights(d_x, n, k, scale):
    """iwae_bound's rearranged decoder (tanh as a sigmoid, softplus sums as logs of products) = model.log_weights.

    Same draws, so the two agree to float32 rounding (~1e-7 of the value): d_x = 784 (7 groups of 112),
    131 (groups of 66 and 65) and 1; scale 8 gives logits in the hundreds (confidently wrong pixels included).
    """
    model = vae.VAE(vae.VAEConfig(d_x=d_x, d_z=2, d_hidden=16), vae.make_generator(0, "cpu"))
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(scale)
    x = (torch.rand(n, d_x, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    with torch.no_grad():
        fast = vae._log_weights_blocked(model, x, k, vae.make_generator(5, "cpu"), rows=64)
        plain = model.log_weights(x, k, vae.make_generator(5, "cpu"))
    assert torch.allclose(fast, plain, rtol=2e-6, atol=1e-4), (fast - plain).abs().max()


def test_fast_bernoulli_path_does_not_underflow_at_zero_logits():
    """Zero output weights give logits 0, every pixel probability 1/2: log p(x|z) = -D log 2 exactly, the case
    where the products of sigm(|l|) are smallest (2^-112 per group of 112; a group of 200 would underflow to 0)."""
    model = vae.VAE(vae.VAEConfig(d_x=784, d_z=2, d_hidden=16), vae.make_generator(0, "cpu"))
    with torch.no_grad():
        model.decoder.net[2].weight.zero_()
        model.decoder.net[2].bias.zero_()
    x = (torch.rand(3, 784, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    z = torch.randn(4, 3, 2, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        log_lik = vae._bernoulli_mlp_log_lik(model.decoder, x, z, per_block=2)
    assert torch.allclose(log_lik, torch.full((4, 3), -784 * np.log(2.0)), rtol=1e-6, atol=0)


def test_iwae_bound_approaches_log_p_x_by_quadrature(digits):
    """d_z = 1, so log p(x) is exact by the trapezoid rule over z."""
    x_train, x_test = digits[0], digits[1][:40]
    model = vae.VAE(vae.VAEConfig(d_x=64, d_z=1, d_hidden=64), torch.Generator().manual_seed(10))
    vae.train(model, x_train, 15, vae.make_generator(1, "cpu"), progress=False)
    l_k = model.iwae_bound(x_test, 2000, vae.make_generator(2, "cpu"))
    grid = torch.linspace(-8, 8, 3201)
    with torch.no_grad():
        xt = model.as_x(x_test)
        log_joint = model.log_p_x_given_z(xt, grid[:, None, None].expand(-1, len(x_test), 1))
        log_joint = log_joint - 0.5 * (np.log(2 * np.pi) + grid[:, None] ** 2)
    log_p_x = log_trapezoid(log_joint.double().numpy().T, grid.double().numpy())
    assert np.all(np.isfinite(log_p_x))
    # a lower bound on average, and a tight one with 2000 samples in one dimension (0.01: Monte Carlo slack)
    assert -0.01 < log_p_x.mean() - l_k.mean() < 0.05
    assert np.allclose(l_k, log_p_x, atol=0.2)


def test_refining_q_per_point_does_not_lower_the_elbo(digits):
    x_train, x_test = digits[0], digits[1][:30]
    model = vae.VAE(vae.VAEConfig(d_x=64, d_z=4, d_hidden=64), torch.Generator().manual_seed(10))
    vae.train(model, x_train, 5, vae.make_generator(3, "cpu"), progress=False)
    g = vae.make_generator(4, "cpu")
    mu, log_var = (torch.as_tensor(a) for a in model.encode(x_test))
    amortized = vae.elbo_of_q(model, x_test, mu, log_var, g, n_samples=2000).mean()
    mu_r, log_var_r, history = vae.refine_q(model, x_test, g, n_steps=100, progress=False)
    refined = vae.elbo_of_q(model, x_test, mu_r, log_var_r, g, n_samples=2000).mean()
    assert refined > amortized  # the per-point optimum is at least as good as the encoder's guess
    assert all(p.requires_grad for p in model.parameters())  # the decoder is released afterwards
    assert vae.iwae_of_q(model, x_test, mu_r, log_var_r, 500, g).mean() >= refined - 0.05


def test_active_units_counts_varying_means():
    mu = np.column_stack([np.linspace(-1, 1, 100), np.full(100, 0.3), 0.01 * np.ones(100)])
    assert vae.active_units(mu).tolist() == [True, False, False]


# ---- the linear VAE reaches the pPCA likelihood -------------------------------------------------------------
@pytest.mark.parametrize("sigma2", [None, 0.3])
def test_linear_vae_elbo_reaches_the_closed_form_ppca_likelihood(sigma2):
    images, _ = data.load_digits(binarized=False)
    x = images.reshape(len(images), -1) / 16
    model = vae.LinearVAE(64, 6, x.mean(0), np.random.default_rng(0), sigma2=sigma2)
    model.fit(x)
    exact = ppca.log_likelihood_from_eigenvalues(ppca.covariance_eigen(x)[0], 6, sigma2)
    elbo = model.mean_elbo(x)
    assert elbo <= exact + 1e-6  # a lower bound
    assert exact - elbo < 0.01  # within 0.01 nats per data point
    with torch.no_grad():  # the moment formula used for fitting equals the per-point mean
        xt = torch.as_tensor(x)
        centred = xt - xt.mean(0)
        from_moments = model.mean_elbo_from_moments(xt.mean(0), centred.T @ centred / len(x)).item()
    assert np.isclose(from_moments, elbo, atol=1e-8)
    if sigma2 is not None:  # directions with eigenvalue below sigma^2 collapse
        n_active = ppca.n_active_directions(ppca.covariance_eigen(x)[0], 6, sigma2)
        assert np.sum(model.column_norms2() > 1e-3) == n_active == 4


def test_linear_vae_exact_elbo_matches_its_monte_carlo_estimate():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(20, 5))
    model = vae.LinearVAE(5, 2, x.mean(0), rng)
    xt = torch.as_tensor(x)
    with torch.no_grad():
        m = (xt - model.b) @ model.V.T
        log_var = model.log_s2.expand_as(m)
        z = vae.reparameterize(m, log_var, 100_000, torch.Generator().manual_seed(6))
        log_p = vae.log_gaussian_beta(xt, z @ model.W.T + model.b, torch.exp(model.log_sigma2))
        mc = (log_p.mean(0) - vae.kl_normal_std(m, log_var)).mean().item()
    # standard error of the average over 20 points x 100,000 draws is < 0.005
    assert abs(mc - model.mean_elbo(x)) < 0.03


# ---- checkpoints, devices, errors ---------------------------------------------------------------------------
def test_checkpoint_round_trip(tmp_path):
    config = vae.VAEConfig(d_x=64, d_z=3, d_hidden=16, likelihood="gaussian", beta=0.2)
    model = vae.VAE(config, torch.Generator().manual_seed(10))
    path = tmp_path / "m.pt"
    vae.save_checkpoint(model, path, n_epochs=0)
    assert torch.load(path, weights_only=True)["meta"] == {"n_epochs": 0}
    loaded, meta = vae.load_checkpoint(path, device="cpu")
    assert loaded.config == model.config and meta == {"n_epochs": 0}
    z = np.random.default_rng(0).normal(size=(5, 3))
    assert np.array_equal(loaded.decode_numpy(z), model.decode_numpy(z))
    assert float(loaded.beta) == pytest.approx(0.2)


def test_shipped_checkpoint_loads_and_is_well_trained(digits):
    model, meta = vae.load_checkpoint(data.data_path("vae_digits_8x8.pt"), device="cpu")
    assert model.config.d_z == 8 and meta["n_epochs"] >= 100
    assert model.elbo(digits[1], vae.make_generator(0, "cpu"), n_samples=20).mean() > -19.0


def test_device_and_generator():
    assert vae.select_device().type in ("cuda", "mps", "cpu")
    a = torch.randn(3, generator=vae.make_generator(7, "cpu"))
    assert torch.equal(a, torch.randn(3, generator=vae.make_generator(7, "cpu")))


def test_bad_inputs_raise_value_errors_naming_the_parameter():
    model = vae.VAE(vae.VAEConfig(d_x=64, d_z=2), torch.Generator().manual_seed(10))
    with pytest.raises(ValueError, match=r"x must have shape \(n_data, 64\) or images \(n_data, 8, 8\)"):
        model.as_x(np.zeros((3, 28, 28)))
    with pytest.raises(ValueError, match=r"x must have shape"):
        model.as_x(np.zeros((3, 63)))
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\] for a Bernoulli decoder"):
        model.as_x(np.full((2, 64), 2.0))
    with pytest.raises(ValueError, match="x contains NaN"):
        model.as_x(np.full((2, 64), np.nan))
    for beta in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="beta must be > 0"):
            vae.VAEConfig(likelihood="gaussian", beta=beta)
    with pytest.raises(ValueError, match="likelihood must be one of"):
        vae.VAEConfig(likelihood="poisson")
    with pytest.raises(ValueError, match="d_z must be a whole number"):
        vae.VAEConfig(d_z=0)
    with pytest.raises(ValueError, match="sigma2 must be > 0"):
        vae.LinearVAE(4, 2, np.zeros(4), np.random.default_rng(0), sigma2=0.0)
    with pytest.raises(ValueError, match="k must be >= 1"):
        model.iwae_bound(np.zeros((2, 64)), 0, vae.make_generator(0, "cpu"))
    with pytest.raises(ValueError, match="k must be >= 1"):
        vae.iwae_of_q(model, np.zeros((1, 64)), torch.zeros(1, 2), torch.zeros(1, 2), 0, vae.make_generator(0, "cpu"))
    with pytest.raises(ValueError, match="optimizer must be"):
        vae.train(model, np.zeros((2, 64)), 1, vae.make_generator(0, "cpu"), optimizer="rmsprop")
    with pytest.raises(ValueError, match="generator must be a torch.Generator on the model's device"):
        vae.train(model, np.zeros((2, 64)), 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        vae.train_test_split(np.zeros((4, 2)), np.zeros(4), 1, rng=0)
    gaussian = vae.VAE(vae.VAEConfig(d_x=4, d_z=1, likelihood="gaussian"))
    assert gaussian.as_x(np.full((1, 4), 5.0)).shape == (1, 4)  # any real value is fine for a Gaussian decoder


def _loss_written_here(encoder, decoder, x, eps, kl_sign=1.0):
    """The notebook's negative ELBO, written independently: log-sigmoid terms and the Gaussian KL, batch mean."""
    mu, log_var = encoder(x)
    logits = decoder(mu + torch.exp(0.5 * log_var) * eps)
    log_p_x_given_z = (x * torch.nn.functional.logsigmoid(logits)
                       + (1 - x) * torch.nn.functional.logsigmoid(-logits)).sum(-1)
    kl = 0.5 * (log_var.exp() + mu**2 - 1 - log_var).sum(-1)
    return (kl_sign * kl - log_p_x_given_z).mean()


def _train_loss_and_replay(digits, written_loss):
    """vae.train's loss on one epoch of one full batch (computed before its one step), and the same batch and noise
    replayed into ``written_loss``."""
    x = digits[0][:200]
    config = vae.VAEConfig(d_x=64, d_z=3)
    model = vae.VAE(config, torch.Generator().manual_seed(5), device="cpu")  # the weights before the step
    trained = vae.VAE(config, torch.Generator().manual_seed(5), device="cpu")  # the same weights, then trained
    history = vae.train(trained, x, 1, vae.make_generator(11, "cpu"), batch_size=len(x), progress=False)
    replay = vae.make_generator(11, "cpu")
    xt = model.as_x(x)
    batch = xt[torch.randperm(len(x), generator=replay)]
    eps = torch.randn((len(x), 3), generator=replay)
    with torch.no_grad():
        return history["train"][0], written_loss(model.encoder, model.decoder, batch, eps).item()


def test_train_minimizes_the_loss_written_out_on_the_same_batch_and_noise(digits):
    from_train, written = _train_loss_and_replay(digits, _loss_written_here)
    assert abs(from_train - written) < 1e-6 * abs(written)


def test_the_loss_equality_check_catches_a_flipped_kl_sign(digits):
    flipped = lambda *args: _loss_written_here(*args, kl_sign=-1.0)  # a planted error: + KL written as - KL
    from_train, written = _train_loss_and_replay(digits, flipped)
    assert abs(from_train - written) > 1e-2


def test_train_step_takes_one_optimizer_step_on_the_loss():
    model = vae.VAE(vae.VAEConfig(d_x=6, d_z=2, d_hidden=5), torch.Generator().manual_seed(1), device="cpu")
    x = (torch.rand(4, 6, generator=torch.Generator().manual_seed(2)) > 0.5).float()
    eps = torch.randn(4, 2, generator=torch.Generator().manual_seed(3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):  # twice: a missing zero_grad would double the second step
        before = [p.detach().clone() for p in model.parameters()]
        loss = vae.negative_elbo_loss(model.encoder, model.decoder, x, eps)
        grads = torch.autograd.grad(loss, list(model.parameters()))
        returned = vae.train_step(model.encoder, model.decoder, opt, x, eps)
        assert torch.isclose(returned, loss.detach())
        for p, p0, g in zip(model.parameters(), before, grads, strict=True):
            assert torch.allclose(p.detach(), p0 - 0.1 * g, atol=1e-7)


def test_kl_per_unit_adds_up_to_the_kl_term():
    g = torch.Generator().manual_seed(4)
    mu, log_var = (torch.randn(30, 5, generator=g, dtype=torch.float64) for _ in range(2))
    per_unit = vae.kl_per_unit(mu.numpy(), log_var.numpy())
    assert per_unit.shape == (5,) and np.all(per_unit >= 0)
    assert np.isclose(per_unit.sum(), vae.kl_normal_std(mu, log_var).mean().item())
    assert np.allclose(vae.kl_per_unit(np.zeros((3, 2)), np.zeros((3, 2))), 0.0)  # q = p(z): nothing transmitted


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_training_loss_is_the_mean_negative_elbo(digits, likelihood):
    model = vae.VAE(vae.VAEConfig(d_x=64, d_z=3, likelihood=likelihood, beta=0.5), torch.Generator().manual_seed(0))
    x = model.as_x(digits[1][:50])
    with torch.no_grad():
        fused = model.training_loss(x, torch.Generator().manual_seed(1))
        per_point = model.negative_elbo(x, torch.Generator().manual_seed(1))
    assert torch.isclose(fused, per_point.mean(), rtol=1e-5)


def test_tile_images_places_each_image():
    tiles = vae.tile_images(np.arange(3 * 4).reshape(3, 4), (2, 2), n_cols=2, pad=1)
    assert tiles.shape == (5, 5) and tiles[0, 0] == 0 and tiles[0, 3] == 4 and tiles[3, 0] == 8
    assert np.isnan(tiles[3, 3]) and np.isnan(tiles[2, 0])


def test_linear_vae_fit_warns_when_it_stops_before_converging():
    x = np.random.default_rng(7).normal(size=(50, 6))
    model = vae.LinearVAE(6, 2, x.mean(0), np.random.default_rng(8))
    with pytest.warns(UserWarning, match="raise max_iter"):
        model.fit(x, max_iter=3)


def test_one_cpu_thread_restores_the_callers_thread_count():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert vae.one_cpu_thread(torch.get_num_threads)() == 1
        with pytest.raises(ZeroDivisionError):
            vae.one_cpu_thread(lambda: 1 / 0)()
        assert torch.get_num_threads() == 2  # restored, also after an exception
    finally:
        torch.set_num_threads(before)


def test_linear_vae_kl_per_unit_matches_the_ppca_prediction():
    x = np.random.default_rng(3).normal(size=(400, 6)) * np.array([2.0, 1.5, 1.0, 0.5, 0.3, 0.2])
    lam, _ = ppca.covariance_eigen(x)
    model = vae.LinearVAE(6, 3, x.mean(0), np.random.default_rng(4), sigma2=0.5)
    model.fit(x, tol=1e-10)
    observed = np.sort(vae.kl_per_unit(*model.encode(x)))[::-1]
    assert np.allclose(observed, ppca.kl_per_direction(lam, 3, 0.5), atol=1e-4)


def test_rate_plus_distortion_is_the_negative_elbo(digits):
    model = vae.VAE(vae.VAEConfig(d_x=64, d_z=3), torch.Generator().manual_seed(6), device="cpu")
    rate, distortion = vae.rate_distortion(model, digits[1][:20], vae.make_generator(9, "cpu"), n_samples=50)
    elbo = model.elbo(digits[1][:20], vae.make_generator(9, "cpu"), n_samples=50)
    assert rate.shape == (20,) and np.all(rate >= 0) and np.all(distortion >= 0)  # Bernoulli: -log p(x|z) >= 0
    assert np.allclose(rate + distortion, -elbo, rtol=1e-6)


# ---- the optimizer's fused update ------------------------------------------------------------------------------
def _trained_weights(digits, **kwargs):
    model = vae.VAE(vae.VAEConfig(d_x=64, d_z=4, d_hidden=32), torch.Generator().manual_seed(5))
    vae.train(model, digits[0][:300], 2, vae.make_generator(6, "cpu"), progress=False, threads=1, **kwargs)
    return torch.cat([p.detach().ravel() for p in model.parameters()])


def _hand_loop_weights(digits):
    """The loop a learner writes with torch.optim.Adam's defaults: the same draws in the same order as train."""
    model = vae.VAE(vae.VAEConfig(d_x=64, d_z=4, d_hidden=32), torch.Generator().manual_seed(5))
    x, g = model.as_x(digits[0][:300]), vae.make_generator(6, "cpu")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    with vae._threads.limit(1):
        for _ in range(2):
            for xb in x[torch.randperm(len(x), generator=g)].split(100):
                eps = torch.randn((len(xb), 4), generator=g)
                vae.train_step(model.encoder, model.decoder, opt, xb, eps)
    return torch.cat([p.detach().ravel() for p in model.parameters()])


def test_train_uses_the_fused_update_by_default_and_fused_false_is_the_plain_loop_bit_for_bit(digits):
    try:  # asked of torch itself, not of lvmlib (whose choice is under test)
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1e-3, fused=True)
    except RuntimeError:
        pytest.skip("this torch has no fused Adam on the CPU (torch < 2.4)")
    hand, loop = _hand_loop_weights(digits), _trained_weights(digits, fused=False)
    default, fused = _trained_weights(digits), _trained_weights(digits, fused=True)
    assert torch.equal(loop, hand)  # fused=False: torch.optim's default Adam, bit for bit
    assert torch.equal(default, fused)  # the default is the fused kernel ...
    assert not torch.equal(default, hand)  # ... which differs from the loop in the last bits (so it is used) ...
    assert torch.allclose(default, hand, rtol=1e-4, atol=1e-6)  # ... and only there: the same algorithm


def test_the_fused_update_falls_back_where_torch_lacks_it(monkeypatch):
    class OldAdam(torch.optim.Adam):  # torch < 2.4 on the CPU: fused=True is refused with a RuntimeError
        def __init__(self, params, lr, fused=None):
            if fused:
                raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of "
                                   "supported devices: ['cuda'].")
            super().__init__(params, lr=lr)

    monkeypatch.setattr(torch.optim, "Adam", OldAdam)
    params = [torch.zeros(3, requires_grad=True)]
    assert isinstance(vae.make_optimizer("adam", iter(params), 1e-3), OldAdam)  # a generator is not used up
    assert not vae.make_optimizer("adam", params, 1e-3).defaults.get("fused")
    with pytest.raises(RuntimeError, match="fused=True"):
        vae.make_optimizer("adam", params, 1e-3, fused=True)  # asked for explicitly: the error is the caller's


def test_train_refuses_a_fused_setting_that_is_not_a_bool(digits):
    model = vae.VAE(vae.VAEConfig(d_x=64, d_z=4, d_hidden=32), torch.Generator().manual_seed(5))
    for bad in ("yes", 1, 0.0):
        with pytest.raises(TypeError, match="fused must be None, True or False"):
            vae.train(model, digits[0][:10], 1, vae.make_generator(0, "cpu"), progress=False, fused=bad)
    with pytest.raises(ValueError, match="optimizer must be 'adam' or 'sgd', got 'rmsprop'"):
        vae.make_optimizer("rmsprop", model.parameters(), 1e-3)
