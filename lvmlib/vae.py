"""The variational autoencoder in PyTorch (the only module of lvmlib that imports torch).

Model: p(z) = N(0, I_{d_z}); the :class:`Decoder` gives p_theta(x|z), either Bernoulli (it returns logits) or
Gaussian N(f(z), beta I) with variance ``beta``; the :class:`Encoder` gives q_phi(z|x) = N(mu_phi(x),
diag sigma_phi(x)^2) through ``(mu, log_var)``. Sizes live in :class:`VAEConfig`.

Shapes (one axis order everywhere): ``x`` is (n_data, d_x) (images (n_data, h, w) are flattened), ``z`` is
(n_samples, n_data, d_z), log-densities come back as (n_samples, n_data) or (n_data,).

Randomness is passed in as a ``torch.Generator`` (see :func:`make_generator`); nothing draws from global state.
"""

import functools
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from lvmlib import _checks, _threads

LOG_2PI = math.log(2 * math.pi)
LIKELIHOODS = ("bernoulli", "gaussian")


# ---------------------------------------------------------------------------------------------------------------
# device, generators, data
# ---------------------------------------------------------------------------------------------------------------
DEVICES = ("cpu", "cuda", "mps")


def select_device(device=None):
    """The device for the course's models: ``device``, else ``LVMLIB_DEVICE`` (cpu, cuda or mps), else the CPU.

    The CPU is the default because the course's networks are tiny: copying them to a GPU costs more than it saves.
    Ask for a faster device by name; one that is not present raises a ValueError saying what to use instead.
    """
    where = "device"
    if device is None:
        device, where = os.environ.get("LVMLIB_DEVICE", "").strip().lower() or "cpu", "LVMLIB_DEVICE"
    if isinstance(device, torch.device):
        device = device.type if device.index is None else str(device)
    if not isinstance(device, str) or device.split(":")[0] not in DEVICES:
        raise ValueError(f"{where} must be one of {', '.join(DEVICES)}, got {device!r}.")
    kind = device.split(":")[0]
    present = {"cpu": True, "cuda": torch.cuda.is_available(),
               "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()}
    if not present[kind]:
        raise ValueError(f"{where} asks for {device!r}, which this machine does not have; "
                         f"available: {', '.join(k for k in DEVICES if present[k])} (unset it to use the CPU).")
    return torch.device(device)


uses_threads = _threads.uses_threads  # decorator: the call runs on LVMLIB_THREADS / the offered cores, or threads=


def one_cpu_thread(function):
    """Run ``function`` with exactly one CPU thread for torch and BLAS, restoring the caller's settings afterwards.

    lvmlib's own training and evaluation take the offered cores (see :func:`uses_threads`), but inside this they
    keep the one thread (unless called with ``threads=``): for code that wants a fixed single thread, e.g. to
    compare the last digits of two training loops, or a training script that must give the same bytes again.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with _threads.limit(1):
            return function(*args, **kwargs)

    return wrapper


def make_generator(seed, device=None):
    """A ``torch.Generator`` on ``device`` (default: :func:`select_device`) seeded with the integer ``seed``."""
    seed = _checks.positive_int(seed, "seed", minimum=0, maximum=2**63 - 1)
    device = _check_device(device) if device is not None else select_device()
    return torch.Generator(device=device).manual_seed(int(seed))


def train_test_split(images, labels, n_test, rng):
    """Shuffle with the numpy Generator ``rng`` and split off ``n_test`` points.

    images : (n, h, w) or (n, d_x); labels : (n,). Returns x_train (n - n_test, d_x), x_test (n_test, d_x),
    y_train, y_test, with images flattened to float32 rows.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}.")
    n_test = _checks.positive_int(n_test, "n_test")
    images, labels = _checks.as_float_array(images, "images"), _checks.as_numeric(labels, "labels")
    if images.ndim < 2 or labels.shape != images.shape[:1]:
        raise ValueError(f"images must be (n, h, w) or (n, d_x) and labels (n,), got {images.shape} and "
                         f"{labels.shape}.")
    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    if not 0 < n_test < len(x):
        raise ValueError(f"n_test must be between 1 and {len(x) - 1}, got {n_test}.")
    order = rng.permutation(len(x))
    test, train = order[:n_test], order[n_test:]
    return x[train], x[test], labels[train], labels[test]


# ---------------------------------------------------------------------------------------------------------------
# configuration and networks
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class VAEConfig:
    """Sizes and observation model of a VAE.

    d_x : data dimension D (pixels). d_z : latent dimension. d_hidden : width of the one hidden layer of each
    network. likelihood : "bernoulli" (decoder returns logits) or "gaussian" (decoder returns the mean f(z),
    variance ``beta``). beta : the Gaussian decoder's variance, > 0 (ignored for Bernoulli).
    """

    d_x: int = 64
    d_z: int = 2
    d_hidden: int = 128
    likelihood: str = "bernoulli"
    beta: float = 1.0

    def __post_init__(self):
        _check_config_types(self)
        for name in ("d_x", "d_z", "d_hidden"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}.")
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}.")
        if not (math.isfinite(self.beta) and self.beta > 0):
            raise ValueError(f"beta must be > 0 (the Gaussian decoder's variance), got {self.beta!r}.")


class Encoder(nn.Module):
    """q_phi(z|x) = N(mu, diag exp(log_var)): x (n_data, d_x) -> mu, log_var, each (n_data, d_z)."""

    def __init__(self, config):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(config.d_x, config.d_hidden), nn.Tanh())
        self.mu = nn.Linear(config.d_hidden, config.d_z)
        self.log_var = nn.Linear(config.d_hidden, config.d_z)

    def forward(self, x):
        h = self.hidden(x)
        return self.mu(h), self.log_var(h)


class Decoder(nn.Module):
    """p_theta(x|z): z (..., d_z) -> logits (Bernoulli) or mean f(z) (Gaussian), shape (..., d_x)."""

    def __init__(self, config):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(config.d_z, config.d_hidden), nn.Tanh(), nn.Linear(config.d_hidden, config.d_x)
        )

    def forward(self, z):
        return self.net(z)


# ---------------------------------------------------------------------------------------------------------------
# the pieces of the ELBO (plain functions, tested against torch.distributions)
# ---------------------------------------------------------------------------------------------------------------
def reparameterize(mu, log_var, n_samples, generator):
    """z = mu + sigma * eps with eps ~ N(0, I): returns (n_samples, n_data, d_z), differentiable in mu, log_var."""
    _check_generator(generator, mu.device)  # never torch's global generator
    eps = torch.randn((n_samples, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * log_var) * eps


def kl_normal_std(mu, log_var):
    """Closed-form KL( N(mu, diag exp(log_var)) || N(0, I) ) summed over the last axis: (..., d_z) -> (...)."""
    return 0.5 * (torch.exp(log_var) + mu**2 - 1.0 - log_var).sum(dim=-1)


def log_normal_diag(z, mu, log_var):
    """log N(z; mu, diag exp(log_var)) summed over the last axis; broadcasts, returns (...)."""
    return -0.5 * (LOG_2PI + log_var + (z - mu) ** 2 / torch.exp(log_var)).sum(dim=-1)


def log_bernoulli_logits(x, logits):
    """sum_j x_j log p_j + (1 - x_j) log(1 - p_j) with p = sigmoid(logits), as x * l - softplus(l) (stable).

    x : (n_data, d_x) in [0, 1]; logits : (..., n_data, d_x). Returns (..., n_data). Computed by PyTorch's fused
    ``binary_cross_entropy_with_logits`` (the same formula, one kernel).
    """
    return -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(dim=-1)


def log_gaussian_beta(x, mean, beta):
    """log N(x; mean, beta I) = -||x - mean||^2 / (2 beta) - (D / 2) log(2 pi beta), with D = d_x.

    The normalizing constant counts the data dimension D (not the latent dimension). Returns (..., n_data).
    """
    d_x = x.shape[-1]
    return -((x - mean) ** 2).sum(dim=-1) / (2 * beta) - 0.5 * d_x * (LOG_2PI + torch.log(beta))


def negative_elbo_loss(encoder, decoder, x, eps, likelihood="bernoulli", beta=1.0):
    """-ELBO averaged over the batch, with one reparameterized sample per data point: a scalar tensor.

    x : (n_data, d_x); eps : (n_data, d_z) standard normal noise. Per data point,
    -ELBO = -log p(x | z) + KL(q(z|x) || p(z)) with z = mu + exp(log_var / 2) * eps: the reconstruction term is
    summed over the D pixels (Bernoulli from logits, or Gaussian with variance ``beta``), the KL over the d_z
    latent units, and the sum is averaged over the batch. This is what :func:`train` minimizes.
    """
    mu, log_var = encoder(x)
    z = mu + torch.exp(0.5 * log_var) * eps
    out = decoder(z)
    if likelihood == "bernoulli":
        minus_reconstruction = F.binary_cross_entropy_with_logits(out, x, reduction="sum")
    else:
        minus_reconstruction = -log_gaussian_beta(x, out, torch.as_tensor(beta, dtype=x.dtype)).sum()
    kl = 0.5 * torch.sum(torch.exp(log_var) + mu**2 - 1.0 - log_var)
    return (minus_reconstruction + kl) / x.shape[0]


def train_step(encoder, decoder, optimizer, x, eps, likelihood="bernoulli", beta=1.0):
    """One stochastic gradient step on :func:`negative_elbo_loss`: zero the gradients, backpropagate, step.

    Returns the loss before the step as a detached scalar tensor (no device sync inside the training loop).
    """
    loss = negative_elbo_loss(encoder, decoder, x, eps, likelihood, beta)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


# ---------------------------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------------------------
class VAE(nn.Module):
    """Encoder, decoder and prior together, with the bounds on log p(x) they give.

    Parameters
    ----------
    config : :class:`VAEConfig`.
    generator : ``torch.Generator`` that seeds the initial weights (PyTorch's default initialization, drawn in
        a forked random state so the global one is untouched); None seeds them with 0 (torch's global generator
        is never used).
    device : where the model lives; default the generator's device, else :func:`select_device`. Data passed to
        the methods is moved there, and the generators used with the model must live there too.
    """

    def __init__(self, config, generator=None, device=None):
        super().__init__()
        if not isinstance(config, VAEConfig):
            raise ValueError(f"config must be a VAEConfig, got {type(config).__name__}.")
        if generator is None:  # the documented default: seed 0, never torch's global generator
            generator = torch.Generator().manual_seed(0)
            device = _check_device(device) if device is not None else select_device()
        _check_generator(generator)
        self.config = config
        with torch.random.fork_rng(devices=[]):
            if generator is not None:
                torch.manual_seed(int(torch.randint(2**62, (1,), generator=generator, device=generator.device)))
            self.encoder = Encoder(config)
            self.decoder = Decoder(config)
        self.register_buffer("beta", torch.tensor(float(config.beta)))
        if device is None:
            device = generator.device if generator is not None else select_device()
        self.to(device)

    @property
    def device(self):
        return self.beta.device

    # ---- input checks ---------------------------------------------------------------------------------------
    def as_x(self, x):
        """Validate data and return a float tensor (n_data, d_x) on the model's device.

        Accepts numpy arrays or tensors of shape (n_data, d_x) or images (n_data, h, w) with h * w = d_x.
        """
        x = _as_float_tensor(x, "x")
        d_x = self.config.d_x
        if x.ndim == 3:
            x = x.reshape(x.shape[0], -1)
        if x.ndim != 2 or x.shape[1] != d_x:
            side = math.isqrt(d_x)
            raise ValueError(
                f"x must have shape (n_data, {d_x}) or images (n_data, {side}, {side}) for this model, got "
                f"{tuple(x.shape)}; use data of the size the model was built for (VAEConfig.d_x)."
            )
        if not torch.all(torch.isfinite(x)):
            raise ValueError("x contains NaN or infinite values; remove them first.")
        if self.config.likelihood == "bernoulli" and (torch.any(x < 0) or torch.any(x > 1)):
            raise ValueError("x must lie in [0, 1] for a Bernoulli decoder; binarize or rescale the data.")
        return x.to(self.device)

    # ---- densities ------------------------------------------------------------------------------------------
    def log_p_x_given_z(self, x, z):
        """log p_theta(x|z) for x (n_data, d_x) and z (n_samples, n_data, d_z): returns (n_samples, n_data)."""
        out = self.decoder(z)
        if self.config.likelihood == "bernoulli":
            return log_bernoulli_logits(x, out)
        return log_gaussian_beta(x, out, self.beta)

    def decode_mean(self, z):
        """E[x|z]: pixel probabilities (Bernoulli) or f(z) (Gaussian); z (..., d_z) -> (..., d_x)."""
        out = self.decoder(z)
        return torch.sigmoid(out) if self.config.likelihood == "bernoulli" else out

    def elbo_terms(self, x, generator, n_samples=1):
        """Monte Carlo reconstruction term E_q[log p(x|z)] and closed-form KL(q(z|x) || p(z)), each (n_data,)."""
        mu, log_var = self.encoder(x)
        z = reparameterize(mu, log_var, n_samples, generator)
        return self.log_p_x_given_z(x, z).mean(dim=0), kl_normal_std(mu, log_var)

    def negative_elbo(self, x, generator, n_samples=1):
        """-ELBO per data point, shape (n_data,): -E_q[log p(x|z)] + KL(q(z|x) || p(z)); x already validated."""
        reconstruction, kl = self.elbo_terms(x, generator, n_samples)
        return kl - reconstruction

    def training_loss(self, x, generator):
        """The training objective: :func:`negative_elbo_loss` with one eps ~ N(0, I) drawn from ``generator``.

        x : validated (n_data, d_x). The draw is ``torch.randn((n_data, d_z), generator=generator)``, so replaying
        the generator's state gives the same eps (a test checks the notebook's loss against this one to 1e-6).
        """
        eps = torch.randn((x.shape[0], self.config.d_z), generator=generator, device=x.device, dtype=x.dtype)
        return negative_elbo_loss(self.encoder, self.decoder, x, eps, self.config.likelihood, self.beta)

    def log_weights(self, x, k, generator):
        """log w = log p(x, z) - log q(z|x) for k samples z ~ q(z|x): shape (k, n_data)."""
        mu, log_var = self.encoder(x)
        z = reparameterize(mu, log_var, k, generator)
        log_p_z = -0.5 * (LOG_2PI + z**2).sum(dim=-1)
        return self.log_p_x_given_z(x, z) + log_p_z - log_normal_diag(z, mu, log_var)

    @torch.no_grad()
    @uses_threads
    def iwae_bound(self, x, k, generator, chunk=1000, batch_size=100):
        """The importance-weighted bound L_k = E[log (1/k) sum_i w_i], one draw per data point: (n_data,) numpy.

        L_1 is an unbiased estimate of the ELBO; L_k increases with k towards log p(x), so a large k gives the
        importance-sampling estimate of log p(x) with q(z|x) as the proposal. Work is split into ``chunk``
        samples by ``batch_size`` points to bound memory.
        """
        x = self.as_x(x)
        k = _checks.positive_int(k, "k", maximum=MAX_SAMPLES)  # 2.5 is refused, not truncated to 2
        chunk = _checks.positive_int(chunk, "chunk", maximum=MAX_SAMPLES)
        batch_size = _checks.positive_int(batch_size, "batch_size", maximum=MAX_SAMPLES)
        _check_generator(generator, self.device)
        out = []
        for start in range(0, x.shape[0], batch_size):
            xb = x[start:start + batch_size]
            parts = [torch.logsumexp(_log_weights_blocked(self, xb, min(chunk, k - s), generator), dim=0)
                     for s in range(0, k, chunk)]
            out.append(torch.logsumexp(torch.stack(parts), dim=0) - math.log(k))
        return torch.cat(out).cpu().double().numpy()

    @torch.no_grad()
    @uses_threads
    def elbo(self, x, generator, n_samples=100):
        """ELBO per data point (numpy, (n_data,)), its expectation estimated with ``n_samples`` draws."""
        x = self.as_x(x)
        n_samples = _checks.positive_int(n_samples, "n_samples", maximum=MAX_SAMPLES)  # 0 would average nothing
        _check_generator(generator, self.device)
        return -self.negative_elbo(x, generator, n_samples).cpu().double().numpy()

    @torch.no_grad()
    def encode(self, x):
        """mu and log_var of q(z|x) as numpy arrays (n_data, d_z)."""
        mu, log_var = self.encoder(self.as_x(x))
        return mu.cpu().numpy(), log_var.cpu().numpy()

    def decode_numpy(self, z):
        """Numpy in, numpy out: E[x|z] for z of shape (..., d_z). Used by the widgets (which never import torch)."""
        z = _checks.as_float_array(z, "z")
        if z.ndim < 1 or z.shape[-1] != self.config.d_z:
            raise ValueError(f"z must have shape (..., d_z) with d_z = {self.config.d_z}, got {z.shape}.")
        with torch.no_grad():
            zt = torch.as_tensor(np.asarray(z, dtype=np.float32), device=self.device)
            return self.decode_mean(zt).cpu().numpy().astype(float)

    @torch.no_grad()
    def sample(self, n, generator):
        """z ~ p(z), then the decoder's mean E[x|z]: returns z (n, d_z) and images (n, d_x), numpy."""
        n = _checks.positive_int(n, "n", maximum=MAX_SAMPLES)
        _check_generator(generator, self.device)
        z = torch.randn((n, self.config.d_z), generator=generator, device=self.device)
        return z.cpu().numpy(), self.decode_mean(z).cpu().numpy()


def active_units(mu, threshold=0.01):
    """Latent units whose posterior mean varies across the data: Var_x[mu_j(x)] > threshold (Burda et al. 2016).

    mu : (n_data, d_z) numpy array of encoder means. Returns a boolean array (d_z,).
    """
    mu = _checks.as_float_array(mu, "mu", ndim=2)
    return np.var(mu, axis=0) > _checks.finite_scalar(threshold, "threshold")


def kl_per_unit(mu, log_var):
    """Average KL(q(z_j|x) || N(0, 1)) over the data for each latent unit j (nats per data point), numpy (d_z,).

    mu, log_var : (n_data, d_z) encoder outputs. The units' values add up to the average KL term of the ELBO, a
    rate in nats that bounds the information z_j carries about x; a collapsed unit has KL near 0.
    """
    mu, log_var = np.asarray(mu, dtype=float), np.asarray(log_var, dtype=float)
    return (0.5 * (np.exp(log_var) + mu**2 - 1.0 - log_var)).mean(axis=0)


@torch.no_grad()
def rate_distortion(model, x, generator, n_samples=10):
    """Rate and distortion per data point (Alemi et al. 2018), numpy (n_data,) each, in nats.

    rate = KL(q(z|x) || p(z)) (closed form), distortion = -E_q[log p(x|z)] (``n_samples`` draws), so that
    -ELBO = distortion + rate. The average rate bounds the mutual information I_q(x; z) of the encoder.
    """
    x = model.as_x(x)
    reconstruction, kl = model.elbo_terms(x, generator, n_samples)
    return kl.cpu().double().numpy(), -reconstruction.cpu().double().numpy()


# ---------------------------------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------------------------------
@uses_threads
def train(model, x, n_epochs, generator, batch_size=100, lr=1e-3, optimizer="adam", x_valid=None,
          progress=True, desc="training", fused=None):
    """Minimize the average negative ELBO by minibatch stochastic gradients (one reparameterized sample).

    Parameters
    ----------
    model : :class:`VAE`. x : training data (n_data, d_x) or images. n_epochs : passes over the data.
    generator : ``torch.Generator`` on the model's device (shuffling and eps). optimizer : "adam" or "sgd".
    x_valid : optional held-out data, evaluated once per epoch. progress : show a tqdm progress bar.
    fused : the optimizer's update as torch's fused kernel (``fused=True`` of torch.optim; one pass per parameter
    tensor instead of ~10 small operations): None (default) uses it where this torch offers it (CPU from torch
    2.4), False never. Same algorithm, last bits differ; chapter 06's MNIST model trains ~15% faster with it
    here (bench/RESULTS.md). False reproduces loops written with torch.optim's defaults bit for bit.

    Returns
    -------
    dict of lists, one entry per epoch: "train" (mean -ELBO per data point over the epoch's minibatches),
    "valid" (if x_valid is given), and "images_per_s".
    """
    _check_model(model)
    n_epochs = _checks.positive_int(n_epochs, "n_epochs", maximum=100_000)
    batch_size = _checks.positive_int(batch_size, "batch_size", maximum=MAX_SAMPLES)
    lr = _check_lr(lr)
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False, got {progress!r}.")
    x = model.as_x(x)
    xv = model.as_x(x_valid) if x_valid is not None else None
    if n_epochs < 1 or batch_size < 1:
        raise ValueError(f"n_epochs and batch_size must be >= 1, got {n_epochs} and {batch_size}.")
    if not isinstance(generator, torch.Generator) or generator.device.type != model.device.type:
        raise ValueError(f"generator must be a torch.Generator on the model's device ({model.device}); "
                         "make one with vae.make_generator(seed, model.device).")
    opt = make_optimizer(optimizer, model.parameters(), lr, fused)
    history = {"train": [], "valid": [], "images_per_s": []}
    bar = tqdm(range(n_epochs), desc=desc, disable=not progress, leave=False)
    n = x.shape[0]
    for _ in bar:
        start = time.perf_counter()
        model.train()
        losses = []
        for xb in x[torch.randperm(n, generator=generator, device=x.device)].split(batch_size):
            eps = torch.randn((xb.shape[0], model.config.d_z), generator=generator, device=x.device)
            losses.append(train_step(model.encoder, model.decoder, opt, xb, eps, model.config.likelihood,
                                     model.beta))
        sizes = torch.tensor([min(batch_size, n - i) for i in range(0, n, batch_size)], device=x.device)
        history["train"].append((torch.stack(losses) * sizes).sum().item() / n)
        history["images_per_s"].append(n / (time.perf_counter() - start))
        model.eval()
        if xv is not None:
            with torch.no_grad():
                history["valid"].append(model.negative_elbo(xv, generator).mean().item())
        bar.set_postfix({"-ELBO": f"{history['train'][-1]:.2f}"})
    return history


def make_optimizer(name, params, lr, fused=None):
    """torch.optim.Adam ("adam") or SGD ("sgd") over ``params`` with learning rate ``lr``.

    fused : True asks for torch's fused update kernel (an error where this torch or device lacks it); None uses it
    where available and otherwise the per-tensor loop (torch < 2.4 on CPU refuses fused=True with a RuntimeError);
    False is torch.optim's default.
    """
    if name not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {name!r}.")
    if fused is not None and not isinstance(fused, (bool, np.bool_)):
        raise TypeError(f"fused must be None, True or False, got {fused!r}.")
    cls = torch.optim.Adam if name == "adam" else torch.optim.SGD
    params = list(params)
    if fused is False:
        return cls(params, lr=lr)
    try:
        return cls(params, lr=lr, fused=True)
    except RuntimeError:
        if fused:
            raise
        return cls(params, lr=lr)


def tile_images(images, image_shape, n_cols, pad=1):
    """Arrange images (n, h * w) into one array for a single ``imshow``: (rows * (h + pad), n_cols * (w + pad))."""
    image_shape, n_cols, pad = _check_tiling(images, image_shape, n_cols, pad)
    images = np.asarray(images, dtype=float).reshape(-1, *image_shape)
    n_rows = -(-len(images) // n_cols)
    h, w = image_shape
    out = np.full((n_rows * (h + pad) - pad, n_cols * (w + pad) - pad), np.nan)
    for i, image in enumerate(images):
        r, c = divmod(i, n_cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = image
    return out


# ---------------------------------------------------------------------------------------------------------------
# amortization gap: one q per data point, refined from the encoder's output
# ---------------------------------------------------------------------------------------------------------------
@uses_threads
def refine_q(model, x, generator, n_steps=200, lr=0.05, n_samples=8, progress=True):
    """Per-point q(z) = N(mu_i, diag exp(log_var_i)) started at the encoder's output, then optimized.

    Maximizes each data point's ELBO over its own (mu_i, log_var_i) by Adam with the decoder fixed, so the
    result approaches the best Gaussian q for each x (the approximation gap alone remains).

    Returns mu, log_var as tensors (n_data, d_z) (no gradient) and the history of the mean -ELBO per step.
    """
    _check_model(model)
    n_steps = _checks.positive_int(n_steps, "n_steps", maximum=100_000)
    n_samples = _checks.positive_int(n_samples, "n_samples", maximum=MAX_SAMPLES)
    lr = _check_lr(lr)
    _check_generator(generator, model.device)
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False, got {progress!r}.")
    x = model.as_x(x)
    with torch.no_grad():
        mu0, log_var0 = model.encoder(x)
    mu = mu0.clone().requires_grad_(True)
    log_var = log_var0.clone().requires_grad_(True)

    def negative_elbo():
        z = reparameterize(mu, log_var, n_samples, generator)
        return (kl_normal_std(mu, log_var) - model.log_p_x_given_z(x, z).mean(dim=0)).sum()

    history = adam_with_decoder_fixed(model, [mu, log_var], negative_elbo, int(n_steps), lr, x.shape[0],
                                      "refining q per point", progress)
    return mu.detach(), log_var.detach(), history


def adam_with_decoder_fixed(model, params, loss_fn, n_steps, lr, n_points, desc, progress):
    """``n_steps`` Adam steps on ``loss_fn()`` (a -ELBO summed over ``n_points``) over ``params`` only: the
    model's own weights are frozen meanwhile and unfrozen afterwards, also after an exception.

    Shared by the per-point refinements of q (a Gaussian here, a flow in :mod:`lvmlib.flows`).
    Returns the list of mean -ELBO per point after each step.
    """
    opt = torch.optim.Adam(params, lr=lr)
    for p in model.parameters():
        p.requires_grad_(False)
    history = []
    try:
        for _ in tqdm(range(n_steps), desc=desc, disable=not progress, leave=False):
            loss = loss_fn()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            history.append(loss.item() / n_points)
    finally:
        for p in model.parameters():
            p.requires_grad_(True)
    return history


@torch.no_grad()
def elbo_of_q(model, x, mu, log_var, generator, n_samples=1000):
    """ELBO per data point (numpy (n_data,)) of the Gaussian q given by (mu, log_var), with ``n_samples`` draws."""
    _check_model(model)
    x = model.as_x(x)
    n_samples = _checks.positive_int(n_samples, "n_samples", maximum=MAX_SAMPLES)
    mu, log_var = _check_q(model, x, mu, log_var)
    _check_generator(generator, model.device)
    z = reparameterize(mu, log_var, n_samples, generator)
    return (model.log_p_x_given_z(x, z).mean(dim=0) - kl_normal_std(mu, log_var)).cpu().double().numpy()


@torch.no_grad()
def iwae_of_q(model, x, mu, log_var, k, generator):
    """L_k with the Gaussian proposal (mu, log_var) instead of the encoder's: numpy (n_data,)."""
    _check_model(model)
    x = model.as_x(x)
    k = _checks.positive_int(k, "k", maximum=MAX_SAMPLES)
    mu, log_var = _check_q(model, x, mu, log_var)
    _check_generator(generator, model.device)
    z = reparameterize(mu, log_var, k, generator)
    log_w = model.log_p_x_given_z(x, z) - 0.5 * (LOG_2PI + z**2).sum(-1) - log_normal_diag(z, mu, log_var)
    return (torch.logsumexp(log_w, dim=0) - math.log(k)).cpu().double().numpy()


# ---------------------------------------------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------------------------------------------
def save_checkpoint(model, path, **meta):
    """Save the config and weights (plain tensors and numbers only, loadable with ``weights_only=True``).

    Refuses what :func:`load_checkpoint` would refuse: non-finite weights, and ``meta`` values other than None,
    bool, int, float, str and lists, tuples or dicts of them (e.g. a numpy array: pass ``curve.tolist()``).
    """
    _check_model(model)
    _check_meta(meta)
    _check_finite_state(model.state_dict(), "model")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"config": asdict(model.config), "state_dict": state, "meta": meta}, path)


def load_checkpoint(path, device=None, sha256=None):
    """Load a :func:`save_checkpoint` file with ``torch.load(weights_only=True)``; returns (model, meta).

    The file is checked before its weights are used: its sha256 against ``sha256`` when given, or against
    ``lvmlib.data.SHA256`` for a file shipped in ``data/``; every member's CRC (torch does not check them, so a
    flipped byte would load silently); then the keys ("config", "state_dict"), the config, and that every weight
    is finite. Each failure raises a ValueError that names the file and what is wrong.
    """
    device = _check_device(device) if device is not None else select_device()
    blob = _read_checkpoint(path, device, sha256)
    try:
        model = VAE(VAEConfig(**blob["config"]), device=device)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: its config is not a valid VAEConfig ({exc}); re-save it with save_checkpoint.") \
            from None
    _load_state(model, blob["state_dict"], path)
    model.eval()
    return model, blob.get("meta", {})


# ---------------------------------------------------------------------------------------------------------------
# the linear VAE (Lucas et al. 2019): exact expectations, so its ELBO can be compared with pPCA to 0.01 nats
# ---------------------------------------------------------------------------------------------------------------
class LinearVAE(nn.Module):
    """p(x|z) = N(W z + b, sigma^2 I), q(z|x) = N(V (x - b), diag s^2) with s not depending on x.

    The ELBO's expectation has a closed form here: E_q ||x - W z - b||^2 = ||x - W m - b||^2 + sum_j s_j^2
    ||W_j||^2, so it is optimized without sampling noise (float64). ``sigma2=None`` learns the observation
    variance; a number fixes it.

    d_x, d_z : sizes. x_mean : (d_x,) initial b. rng : numpy Generator for the initial weights.
    """

    def __init__(self, d_x, d_z, x_mean, rng, sigma2=None):
        super().__init__()
        _check_linear_vae_args(d_x, d_z, x_mean, rng, sigma2)
        if sigma2 is not None and not sigma2 > 0:
            raise ValueError(f"sigma2 must be > 0 (or None to learn it), got {sigma2!r}.")
        init = lambda *shape: nn.Parameter(torch.as_tensor(0.1 * rng.standard_normal(shape)))
        self.W, self.V = init(d_x, d_z), init(d_z, d_x)
        self.log_s2 = nn.Parameter(torch.zeros(d_z, dtype=torch.float64))
        self.b = nn.Parameter(torch.as_tensor(np.asarray(x_mean, dtype=float)).clone())
        log_sigma2 = torch.tensor(0.0 if sigma2 is None else math.log(sigma2), dtype=torch.float64)
        self.learn_sigma2 = sigma2 is None
        if self.learn_sigma2:
            self.log_sigma2 = nn.Parameter(log_sigma2)
        else:
            self.register_buffer("log_sigma2", log_sigma2)

    def elbo(self, x):
        """Exact ELBO per data point, (n_data,), for x a float64 tensor (n_data, d_x)."""
        d_x = x.shape[1]
        m = (x - self.b) @ self.V.T
        s2 = torch.exp(self.log_s2)
        sq = ((x - self.b - m @ self.W.T) ** 2).sum(-1) + (s2 * (self.W**2).sum(0)).sum()
        reconstruction = -0.5 * d_x * (LOG_2PI + self.log_sigma2) - sq / (2 * torch.exp(self.log_sigma2))
        kl = 0.5 * (s2 + m**2 - 1.0 - self.log_s2).sum(-1)
        return reconstruction - kl

    def mean_elbo_from_moments(self, x_mean, cov):
        """The mean of :meth:`elbo` over a data set, from its mean (d_x,) and covariance (d_x, d_x) (divided by n)."""
        e = x_mean - self.b
        second = cov + torch.outer(e, e)  # mean of (x - b)(x - b)^T
        A = torch.eye(self.W.shape[0], dtype=torch.float64) - self.W @ self.V
        s2 = torch.exp(self.log_s2)
        sq = torch.trace(A @ second @ A.T) + (s2 * (self.W**2).sum(0)).sum()
        reconstruction = -0.5 * self.W.shape[0] * (LOG_2PI + self.log_sigma2) - sq / (2 * torch.exp(self.log_sigma2))
        m2 = torch.diagonal(self.V @ second @ self.V.T)
        return reconstruction - 0.5 * (s2 + m2 - 1.0 - self.log_s2).sum()

    def fit(self, x, max_iter=3000, tol=1e-9):
        """Maximize the mean exact ELBO with L-BFGS (through the data's mean and covariance, so each step is cheap).

        Returns the history of the mean ELBO per data point, one entry per evaluation. Warns when L-BFGS stops
        at ``max_iter`` iterations (or its evaluation limit, 1.25 * max_iter) instead of at ``tol``.
        """
        x = torch.as_tensor(np.asarray(x, dtype=float))
        x_mean = x.mean(0)
        cov = (x - x_mean).T @ (x - x_mean) / x.shape[0]
        opt = torch.optim.LBFGS(self.parameters(), lr=1.0, max_iter=max_iter, tolerance_grad=tol,
                                tolerance_change=tol, history_size=50, line_search_fn="strong_wolfe")
        history = []

        def closure():
            opt.zero_grad()
            loss = -self.mean_elbo_from_moments(x_mean, cov)
            loss.backward()
            history.append(-loss.item())
            return loss

        uses_threads(opt.step)(closure)  # the offered cores (one when other work fills the machine)
        state = opt.state[next(iter(self.parameters()))]
        if state["n_iter"] >= max_iter or state["func_evals"] >= opt.defaults["max_eval"]:
            warnings.warn(f"LinearVAE.fit stopped after max_iter = {max_iter} iterations without converging; "
                          "raise max_iter.", stacklevel=2)
        return history

    @torch.no_grad()
    def mean_elbo(self, x):
        """Mean exact ELBO per data point (a float)."""
        return self.elbo(torch.as_tensor(np.asarray(x, dtype=float))).mean().item()

    @torch.no_grad()
    def encode(self, x):
        """mu (n_data, d_z) and log_var (n_data, d_z) of q(z|x) as numpy arrays (log_var is the same for every x)."""
        x = torch.as_tensor(np.asarray(x, dtype=float))
        mu = (x - self.b) @ self.V.T
        return mu.numpy(), self.log_s2.expand_as(mu).numpy()

    @torch.no_grad()
    def column_norms2(self):
        """||W_j||^2 for each latent direction j, numpy (d_z,): near 0 for a collapsed direction."""
        return (self.W**2).sum(0).numpy()

    @property
    def sigma2(self):
        return math.exp(self.log_sigma2.item())


# ---------------------------------------------------------------------------------------------------------------
# input checks for the public entry points (torch tensors or numpy arrays in; errors name the parameter)
# ---------------------------------------------------------------------------------------------------------------
MAX_SAMPLES = 10**6  # k, n_samples, n, batch sizes: larger counts are refused at once rather than run for hours


def _log_weights_blocked(model, x, k, generator, rows=1000):
    """``model.log_weights`` (k, n_data) without gradients, the decoder run on blocks of about ``rows`` rows.

    The same draws as ``model.log_weights``; blocks of ~1,000 rows keep the (rows, d_x) logits in cache (3 MB for
    784 pixels; 500 to 2,000 rows measured within ~4% of each other, 4,000 ~20% slower). Other decoders than the
    tanh-MLP Bernoulli :class:`Decoder` (e.g. made.ARVAE's) evaluate ``model.log_p_x_given_z`` block by block. For
    that decoder the arithmetic is rearranged so that little is left besides its two matrix products (see
    :func:`_bernoulli_mlp_log_lik`).
    """
    mu, log_var = model.encoder(x)
    z = reparameterize(mu, log_var, k, generator)
    log_p_z_minus_q = -0.5 * (LOG_2PI + z**2).sum(dim=-1) - log_normal_diag(z, mu, log_var)
    per_block = max(1, rows // x.shape[0])
    if not (isinstance(model.decoder, Decoder) and model.config.likelihood == "bernoulli"):
        return torch.cat([model.log_p_x_given_z(x, zb) for zb in z.split(per_block)]) + log_p_z_minus_q
    return _bernoulli_mlp_log_lik(model.decoder, x, z, per_block) + log_p_z_minus_q


def _bernoulli_mlp_log_lik(decoder, x, z, per_block):
    """log p(x|z) = sum_j x_j l_j - softplus(l_j) for the decoder l = W_2 tanh(W_1 z + b_1) + b_2: (k, n_data).

    x : (n_data, d_x); z : (k, n_data, d_z), decoded ``per_block`` samples at a time. Three identities keep the
    elementwise work small (torch's CPU sigmoid costs ~0.5 ns per element here, its tanh ~3.6 ns, softplus ~1.8):

    - tanh(a) = 2 sigm(2 a) - 1: with s = sigm(2 a), l = W_2 (2 s - 1) + b_2 = (2 W_2) s + c with c = b_2 - W_2 1,
      so the factors 2 and the "- 1" move into the weights and one sigmoid per hidden unit remains;
    - softplus(l) = max(l, 0) + log(1 + e^-|l|) = (l + |l|) / 2 - log sigm(|l|), so
      log p(x|z) = sum_j (x_j - 1/2) l_j - |l_j| / 2 + log sigm(|l_j|), and the linear part
      sum_j (x_j - 1/2) l_j = s . u_i + (x_i - 1/2) . c with u_i = (2 W_2)^T (x_i - 1/2), one (d_hidden,) vector
      per data point (no pass over l);
    - a sum of logs is the log of a product: each factor sigm(|l_j|) lies in [1/2, 1], so a product of up to 120 of
      them stays above 2^-120, inside float32's range (no underflow), and one log per 120 pixels replaces one per
      pixel.

    The product for l is an addmm with c as its bias: an inner dimension of d_hidden, where a column of ones appended
    to s (d_hidden + 1) made the 256-unit product ~10% slower here (one more pass of the matrix library over l).
    """
    first, last = decoder.net[0], decoder.net[2]
    w_in, b_in = 2 * first.weight.T, 2 * first.bias  # (d_z, d_hidden): s = sigm(z w_in + b_in) = sigm(2 a)
    w_out = 2 * last.weight.T  # (d_hidden, d_x)
    c = last.bias - last.weight.sum(dim=1)  # (d_x,)
    u, u_c = (x - 0.5) @ w_out.T, (x - 0.5) @ c  # (n_data, d_hidden), (n_data,): the linear part is s.u + u_c
    n, d_x = x.shape
    s = torch.empty(per_block * n, w_out.shape[0], dtype=z.dtype, device=z.device)
    logits = torch.empty(per_block * n, d_x, dtype=z.dtype, device=z.device)
    out = []
    for zb in z.split(per_block):
        m = zb.shape[0] * n
        torch.sigmoid(torch.addmm(b_in, zb.reshape(m, -1), w_in), out=s[:m])
        linear = (s[:m].view(zb.shape[0], n, -1) * u).sum(dim=-1) + u_c  # (block, n)
        block = torch.addmm(c, s[:m], w_out, out=logits[:m])  # the logits l of the block's rows
        half_abs = 0.5 * block.abs_().sum(dim=-1)
        out.append(linear - (half_abs - _sum_log(torch.sigmoid_(block))).view(zb.shape[0], n))
    return torch.cat(out)


def _sum_log(p, most=120):
    """sum_j log p_j over the last axis of p (m, d) with entries in [1/2, 1], as logs of products of <= ``most``."""
    d = p.shape[-1]
    size = -(-d // -(-d // most))  # d split into equal groups of at most ``most`` (784 -> 7 groups of 112)
    if d % size == 0:
        return torch.log(p.view(p.shape[0], -1, size).prod(dim=-1)).sum(dim=-1)
    return sum(torch.log(part.prod(dim=-1)) for part in p.split(size, dim=-1))


def _as_float_tensor(value, name):
    """A float32 tensor from a tensor or array-like; InputTypeError for text, None, complex or objects."""
    if torch.is_tensor(value):
        if value.is_complex():
            raise _checks.InputTypeError(f"{name} must be real, got a complex tensor; pass {name}.real if meant.")
        return value.detach().to(torch.float32)
    return torch.as_tensor(_checks.as_numeric(value, name), dtype=torch.float32)


def _check_generator(generator, device=None, name="generator"):
    """A ``torch.Generator`` (on ``device``'s type when given): the library never draws from the global one."""
    if not isinstance(generator, torch.Generator):
        raise _checks.InputTypeError(f"{name} must be a torch.Generator, e.g. vae.make_generator(0, model.device); "
                                     f"got {type(generator).__name__} (torch's global generator is never used).")
    if device is not None and generator.device.type != torch.device(device).type:
        raise ValueError(f"{name} lives on {generator.device} but the model on {device}; make one with "
                         "vae.make_generator(seed, model.device).")
    return generator


def _check_model(model):
    if not isinstance(model, VAE):
        raise _checks.InputTypeError(f"model must be a vae.VAE, got {type(model).__name__}.")
    return model


def _check_lr(lr):
    """A learning rate: finite, > 0 and <= 1e6 (inf gives a NaN loss, 0 never moves, 1e300 overflows float32)."""
    lr = float(_checks.positive(_checks.finite_scalar(lr, "lr"), "lr"))
    return _checks.in_range(lr, "lr", 0.0, 1e6)


def _check_q(model, x, mu, log_var):
    """mu and log_var of a Gaussian q as finite tensors (n_data, d_z) on the model's device."""
    shape = (x.shape[0], model.config.d_z)
    out = []
    for value, name in ((mu, "mu"), (log_var, "log_var")):
        t = _as_float_tensor(value, name)
        if tuple(t.shape) != shape:
            raise ValueError(f"{name} must have shape (n_data, d_z) = {shape} to match x, got {tuple(t.shape)}.")
        if not torch.all(torch.isfinite(t)):
            raise ValueError(f"{name} contains NaN or infinite values.")
        out.append(t.to(model.device))
    return out


def _check_meta(meta, where="meta"):
    """Plain values only (what ``torch.load(weights_only=True)`` reads back): None, bool, int, float, str, lists,
    tuples and dicts of them."""
    if meta is None or isinstance(meta, (bool, int, float, str)):
        return
    if isinstance(meta, (list, tuple)):
        for i, item in enumerate(meta):
            _check_meta(item, f"{where}[{i}]")
        return
    if isinstance(meta, dict):
        for key, item in meta.items():
            if not isinstance(key, str):
                raise ValueError(f"{where} keys must be strings, got {key!r}.")
            _check_meta(item, f"{where}[{key!r}]")
        return
    raise ValueError(f"{where} must be a plain number, string, list or dict (load_checkpoint could not read it "
                     f"back), got {type(meta).__name__}; convert it, e.g. with .tolist() or float().")


def _check_finite_state(state, where):
    for key, tensor in state.items():
        if torch.is_floating_point(tensor) and not torch.all(torch.isfinite(tensor)):
            raise ValueError(f"{where}: weight {key!r} contains NaN or infinite values; a diverged model cannot be "
                             "saved or loaded (lower the learning rate and retrain).")


def _read_checkpoint(path, device, sha256):
    """The checked dict inside a checkpoint file (see :func:`load_checkpoint`)."""
    import hashlib
    import pickle
    import zipfile
    from pathlib import Path

    from lvmlib import data

    if not isinstance(path, (str, Path)):
        raise _checks.InputTypeError(f"path must be a file path (str or pathlib.Path), got {type(path).__name__}.")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; check the path (save one with vae.save_checkpoint).")
    known = sha256
    if known is None and path.resolve().parent == data.DATA_DIR.resolve():
        known = data.SHA256.get(path.name)
    if known is not None:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != known:
            raise ValueError(f"{path} has sha256 {digest}, expected {known}: the file is corrupted or was changed.")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a checkpoint written by save_checkpoint (not a zip archive: truncated, "
                         "or another format).")
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ValueError(f"{path} is corrupted ({exc}); restore or re-save it.") from None
    if bad is not None:
        raise ValueError(f"{path} is corrupted: {bad} fails its CRC check; restore or re-save it.")
    try:
        blob = torch.load(path, map_location=device, weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, OSError, ValueError) as exc:
        raise ValueError(f"{path} cannot be read by torch.load(weights_only=True) ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}); re-save it with save_checkpoint.") from None
    missing = [key for key in ("config", "state_dict") if not isinstance(blob, dict) or key not in blob]
    if missing:
        raise ValueError(f"{path} has no {' or '.join(repr(k) for k in missing)}: it was not written by "
                         "vae.save_checkpoint.")
    if not isinstance(blob["config"], dict) or not isinstance(blob["state_dict"], dict):
        raise ValueError(f"{path}: 'config' and 'state_dict' must be dicts; re-save it with save_checkpoint.")
    _check_finite_state(blob["state_dict"], str(path))
    return blob


def _load_state(model, state, path):
    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(state[k].shape) != tuple(expected[k].shape))
    if missing or unexpected or wrong:
        raise ValueError(f"{path}: the weights do not fit its config (missing keys {missing}, unexpected keys "
                         f"{unexpected}, wrong shapes {wrong}); re-save it with save_checkpoint.")
    model.load_state_dict(state)


def _check_config_types(config):
    """VAEConfig's fields: whole numbers 1..1e6 for the sizes, a finite number for beta (messages name the field)."""
    for name in ("d_x", "d_z", "d_hidden"):  # values below 1 are refused by __post_init__'s own message
        setattr(config, name, _checks.positive_int(getattr(config, name), name, minimum=-MAX_SAMPLES,
                                                   maximum=MAX_SAMPLES))
    if not isinstance(config.likelihood, str):
        raise _checks.InputTypeError(f"likelihood must be one of {LIKELIHOODS}, got {config.likelihood!r}.")
    if isinstance(config.beta, bool) or _checks.as_numeric(config.beta, "beta").shape != ():
        raise _checks.InputTypeError(f"beta must be a single number > 0, got {config.beta!r}.")
    config.beta = float(config.beta)


def _check_linear_vae_args(d_x, d_z, x_mean, rng, sigma2):
    d_x = _checks.positive_int(d_x, "d_x", maximum=MAX_SAMPLES)
    _checks.positive_int(d_z, "d_z", maximum=d_x)
    if np.shape(_checks.as_float_array(x_mean, "x_mean")) != (d_x,):
        raise ValueError(f"x_mean must have shape (d_x,) = ({d_x},), got {np.shape(x_mean)}.")
    _checks.generator(rng)
    if sigma2 is not None:
        _checks.positive(_checks.finite_scalar(sigma2, "sigma2"), "sigma2")


def _check_device(device):
    """A torch.device from "cpu", "cuda", "mps" or a torch.device, with an error naming ``device`` otherwise."""
    try:
        device = torch.device(device)
        torch.empty(0, device=device)  # an absent accelerator fails here, not later
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must name an available device such as 'cpu' (see vae.select_device()), got "
                         f"{device!r} ({str(exc).splitlines()[0][:80]}).") from None
    return device


def _check_tiling(images, image_shape, n_cols, pad):
    """tile_images' arguments: images whose size is a multiple of h * w, whole numbers for the layout."""
    if not (isinstance(image_shape, (tuple, list)) and len(image_shape) == 2):
        raise _checks.InputTypeError(f"image_shape must be a tuple (h, w), got {image_shape!r}.")
    image_shape = tuple(_checks.positive_int(v, "image_shape entries", maximum=10_000) for v in image_shape)
    size = _checks.as_float_array(images, "images", allow_neg_inf=True).size  # NaN is refused, as in imshow data
    if size == 0 or size % (image_shape[0] * image_shape[1]):
        raise ValueError(f"images must hold a whole number of {image_shape} images, got {size} values.")
    n_cols = _checks.positive_int(n_cols, "n_cols", maximum=10_000)
    pad = _checks.positive_int(pad, "pad", minimum=0, maximum=1000)
    return image_shape, n_cols, pad
