"""Training objectives beyond the ELBO (chapter 07; torch): IWAE, KL warm-up, free bits; gradient SNR; checkpoints.

Objectives are functions ``objective(model, xb, generator, epoch) -> scalar loss`` for :func:`train`; the models
are ``vae.VAE`` or ``made.ARVAE`` (both have ``log_weights``; ARVAE also ``rate_distortion``).

- :func:`iwae_loss`: -L_k = -mean_n log (1/k) sum_i w_i (Burda et al. 2016); k = 1 is the VAE's single-sample
  -ELBO with a Monte Carlo KL.
- :func:`collapse_loss`: distortion + beta * rate, the rate optionally floored per latent unit (free bits,
  Kingma et al. 2016): sum_j max(lambda, E_batch KL_j).
"""

import math
import time
from dataclasses import asdict

import numpy as np
import torch
from tqdm.auto import tqdm

from lvmlib import data, made, vae


def _check_k(k):
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k must be a whole number >= 1 (the number of importance samples), got {k!r}.")
    return int(k)


def iwae_loss(model, x, k, generator):
    """-L_k averaged over the data: -mean_n [logsumexp_i log w_i - log k], log w from ``model.log_weights``."""
    k = _check_k(k)
    log_w = model.log_weights(x, k, generator)
    return -(torch.logsumexp(log_w, dim=0) - math.log(k)).mean()


def collapse_loss(model, x, generator, beta=1.0, free_bits=0.0):
    """distortion + beta * rate for an ARVAE, with the rate per unit floored at ``free_bits`` nats (0: no floor).

    rate = sum_j max(free_bits, mean_batch KL_j) with KL_j = KL(q(z_j|x) || N(0, 1)); distortion = -E_q log p(x|z).
    """
    if not (math.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta must be a finite number >= 0, got {beta!r}.")
    if not (math.isfinite(free_bits) and free_bits >= 0):
        raise ValueError(f"free_bits must be a finite number of nats >= 0, got {free_bits!r}.")
    kl_units, distortion = model.rate_distortion(x, generator)
    rate = kl_units.mean(0)
    if free_bits > 0:
        rate = rate.clamp_min(free_bits)
    return distortion.mean() + beta * rate.sum()


def warmup(n_epochs_warmup):
    """beta(epoch) = min(1, epoch / n_epochs_warmup): the KL weight of KL warm-up (linear from 0 to 1)."""
    if n_epochs_warmup <= 0:
        raise ValueError(f"n_epochs_warmup must be > 0, got {n_epochs_warmup!r}.")
    return lambda epoch: min(1.0, epoch / n_epochs_warmup)


@vae.uses_threads
def train(model, x, n_epochs, generator, objective, batch_size=100, lr=1e-3, progress=True, desc="training"):
    """Minimize ``objective(model, xb, generator, epoch)`` by Adam over minibatches; returns the mean loss per epoch."""
    x = model.as_x(x)
    if isinstance(n_epochs, bool) or int(n_epochs) != n_epochs or n_epochs < 1:
        raise ValueError(f"n_epochs must be a whole number >= 1, got {n_epochs!r}.")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    bar = tqdm(range(int(n_epochs)), desc=desc, disable=not progress, leave=False)
    for epoch in bar:
        losses = []
        for xb in x[torch.randperm(x.shape[0], generator=generator)].split(batch_size):
            loss = objective(model, xb, generator, epoch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item() * xb.shape[0])
        history.append(sum(losses) / x.shape[0])
        bar.set_postfix({"loss": f"{history[-1]:.2f}"})
    return np.array(history)


@vae.uses_threads
def gradient_snr(model, x, k, n_reps, generator):
    """Signal-to-noise ratio |E g| / sd(g) of each parameter's gradient of -L_k (Rainforth et al. 2018).

    Draws ``n_reps`` independent gradients on the batch ``x``. Returns {"encoder": G_enc, "decoder": G_dec}, each
    an array (n_reps, n_params) of the raw gradients, so callers can summarize (and bootstrap) the SNR.
    """
    x = model.as_x(x)
    groups = {"encoder": list(model.encoder.parameters()), "decoder": list(model.decoder.parameters())}
    params = groups["encoder"] + groups["decoder"]
    n_enc = sum(p.numel() for p in groups["encoder"])
    rows = []
    for _ in range(int(n_reps)):
        grads = torch.autograd.grad(iwae_loss(model, x, k, generator), params)
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    g = torch.stack(rows).double().numpy()
    return {"encoder": g[:, :n_enc], "decoder": g[:, n_enc:]}


def snr(grads):
    """Per-parameter SNR |mean| / sd over the first axis of ``grads`` (n_reps, n_params); zero-variance ones dropped."""
    sd = grads.std(axis=0, ddof=1)
    keep = sd > 0
    return np.abs(grads.mean(axis=0))[keep] / sd[keep]


def median_snr_with_se(grads, rng, n_boot=200):
    """Median SNR over parameters, and its bootstrap standard error (resampling the gradient draws)."""
    n = grads.shape[0]
    boots = [np.median(snr(grads[rng.integers(0, n, n)])) for _ in range(int(n_boot))]
    return float(np.median(snr(grads))), float(np.std(boots, ddof=1))


# ---------------------------------------------------------------------------------------------------------------
# evaluation and checkpoints
# ---------------------------------------------------------------------------------------------------------------
@torch.no_grad()
@vae.uses_threads
def evaluate(model, x, generator, k=5000, n_elbo=100):
    """Per-point test numbers (float64 tensors (n_data,)): L_k, the ELBO (``n_elbo`` draws, Monte Carlo KL),
    and for an ARVAE the rate (closed-form KL) and distortion. Returns a dict."""
    x = model.as_x(x)
    out = {f"L_{k}": torch.as_tensor(model.iwae_bound(x, k, generator))}
    log_w = model.log_weights(x, n_elbo, generator)
    out["elbo"] = log_w.mean(0).double()
    if isinstance(model, made.ARVAE):
        kl_units, distortion = model.rate_distortion(x, generator, n_samples=n_elbo)
        out["rate"], out["distortion"] = kl_units.sum(-1).double(), distortion.double()
    return out


def save(model, path, **meta):
    """Save a VAE or ARVAE: config, weights and ``meta`` (tensors, numbers, strings), for ``weights_only`` loading."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    kind = "arvae" if isinstance(model, made.ARVAE) else "vae"
    z_to_decoder = bool(getattr(model.decoder, "d_context", 1))
    torch.save({"kind": kind, "config": asdict(model.config), "z_to_decoder": z_to_decoder, "state_dict": state,
                "meta": meta}, path)


def load(name, data_dir=None):
    """Load a chapter-07 checkpoint shipped in data/ after checking its sha256 (``data.data_path``).

    Returns (model on the CPU in eval mode, meta dict). Uses ``torch.load(weights_only=True)``.
    """
    blob = torch.load(data.data_path(name, data_dir), map_location="cpu", weights_only=True)
    config = vae.VAEConfig(**blob["config"])
    if blob["kind"] == "arvae":
        model = made.ARVAE(config, z_to_decoder=blob["z_to_decoder"])
    else:
        model = vae.VAE(config, device="cpu")
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model, blob["meta"]


def timed(function, *args, **kwargs):
    """(result, seconds) of one call."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start
