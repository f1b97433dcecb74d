"""Chapter 06 exercises: the Bernoulli log-likelihood from logits, then the capstone, a VAE's loss and training by hand.

- ``ex1`` (numpy): log p(x | logits) summed over the pixels, stable for logits of +-1000 (where exp overflows
  even in float64, so ``x * l - log1p(exp(l))`` fails and ``logaddexp`` does not);
- ``capstone`` (PyTorch), three steps, each checked on its own:
  ``negative_elbo(encoder, decoder, x, eps)``: the one-sample negative ELBO averaged over the batch, checked
  against :func:`lvmlib.vae.negative_elbo_loss`; ``training_step(encoder, decoder, optimizer, x, eps)``: one
  gradient step, checked by the parameters after two steps; ``train(encoder, decoder, x, n_epochs, generator)``:
  the loop, checked against :func:`lvmlib.vae.train` from the same weights and the same generator seed (the same
  batches and the same noise).

The encoder and the decoder are given (:class:`lvmlib.vae.Encoder`, :class:`lvmlib.vae.Decoder`). The references
are lvmlib's; the cases are built once, at import, in forked random states.
"""

import copy

import numpy as np
import torch
from torch.nn import functional as F

from lvmlib import data, vae
from lvmlib.distributions import log_bernoulli
from lvmlib.exercises import Capstone, Case, Exercise, Mistake, NotAttempted

# ---------------------------------------------------------------------------------------------------------------
# exercise 1: the Bernoulli log-likelihood from logits (numpy)
# ---------------------------------------------------------------------------------------------------------------
_rng = np.random.default_rng(606)  # fixed test cases, drawn once at import (no effect on any other generator)
_X = (_rng.random((4, 6)) < 0.5).astype(float)
_LOGITS = np.array([[-1000.0, 1000.0, 0.0, 3.0, -2.5, 40.0]]) + _rng.normal(size=(4, 6))
_X_EDGE, _LOGITS_EDGE = np.array([[1.0, 0.0, 1.0, 0.0]]), np.array([[1000.0, -1000.0, -1000.0, 1000.0]])

ex1 = Exercise(
    "Exercise 1 (Bernoulli log-likelihood from logits)",
    log_bernoulli,
    cases=[
        Case((_X, _LOGITS), "4 binary images of 6 pixels, logits between -1000 and 1000"),
        Case((_X_EDGE, _LOGITS_EDGE), "x = (1, 0, 1, 0), logits (1000, -1000, -1000, 1000): exp(1000) overflows"),
        Case((_X[:1], np.zeros((1, 6))), "logits 0 (every pixel p = 1/2): the answer is 6 log(1/2)"),
    ],
    hints=[
        "Write log p_j and log(1 - p_j) in terms of the logit l_j, not of p_j = sigm(l_j): a probability of "
        "exactly 0 or 1 makes a log infinite.",
        "log sigm(l) = l - softplus(l) and log(1 - sigm(l)) = -softplus(l), with softplus(l) = log(1 + e^l). "
        "So the sum is sum_j x_j l_j - softplus(l_j). But log(1 + e^l) overflows for l = 1000.",
        "softplus(l) = np.logaddexp(0, l) stays finite for any l: "
        "(x * logits - np.logaddexp(0.0, logits)).sum(axis=-1).",
    ],
    solution="def log_p_x_given_logits(x, logits):\n"
             "    return (x * logits - np.logaddexp(0.0, logits)).sum(axis=-1)",
    explanation="With p = 1 / (1 + e^{-l}): log p = -log(1 + e^{-l}) = l - log(1 + e^l) and log(1 - p) = "
                "-log(1 + e^l). So x log p + (1 - x) log(1 - p) = x l - softplus(l), summed over the pixels. "
                "np.logaddexp(0, l) = log(e^0 + e^l) computes softplus as max(0, l) + log1p(e^{-|l|}), which "
                "never overflows; log1p(exp(l)) is the same formula but overflows to inf once e^l exceeds "
                "1.8e308, at l > 709.",
    mistakes=[
        Mistake("averaged over the pixels", lambda x, logits: log_bernoulli(x, logits) / x.shape[-1],
                "You averaged over the pixels. log p(x|z) of an image is the log of a product over its pixels, "
                "so it is a sum over the last axis, not a mean."),
    ],
    rtol=1e-10,
)


# ---------------------------------------------------------------------------------------------------------------
# the capstone: a VAE's loss, training step and loop (PyTorch)
# ---------------------------------------------------------------------------------------------------------------
CONFIG = vae.VAEConfig(d_x=64, d_z=2, d_hidden=32)  # small, so each check runs in milliseconds


def _networks(seed, config=CONFIG):
    """A fresh (encoder, decoder) pair with weights from ``seed`` (on the CPU)."""
    model = vae.VAE(config, torch.Generator().manual_seed(seed), device="cpu")
    return model.encoder, model.decoder


def _digits(n):
    images, _ = data.load_digits(binarized=True)
    return torch.as_tensor(images[:n].reshape(n, -1), dtype=torch.float32)


def _extreme_decoder(seed):
    """Networks whose decoder outputs logits of size ~1000: naive log(sigm(l)) and log1p(exp(l)) break."""
    encoder, decoder = _networks(seed)
    with torch.no_grad():
        decoder.net[-1].weight.mul_(1000.0)
        decoder.net[-1].bias.mul_(1000.0)
    return encoder, decoder


def _loss_cases():
    g = torch.Generator().manual_seed(61)
    x = _digits(20)
    eps = torch.randn((20, CONFIG.d_z), generator=g)
    enc, dec = _networks(1)
    enc_big, dec_big = _extreme_decoder(2)
    return [
        Case((enc, dec, x, eps), "20 binarized 8x8 digits, untrained networks, eps given"),
        Case((enc_big, dec_big, x[:5], eps[:5]), "a decoder whose logits reach about +-1000 (5 digits)"),
        Case((enc, dec, x[:1], torch.zeros((1, CONFIG.d_z))), "one digit, eps = 0 (so z = mu)"),
    ]


def _parts(encoder, decoder, x, eps):
    mu, log_var = encoder(x)
    return mu, log_var, decoder(mu + torch.exp(0.5 * log_var) * eps)


def _log_p(x, logits):
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none")  # per pixel, (n, D)


def _kl(mu, log_var):
    return 0.5 * (torch.exp(log_var) + mu**2 - 1.0 - log_var)  # per unit, (n, d_z)


@torch.no_grad()
def _kl_sign_flipped(encoder, decoder, x, eps):
    mu, log_var, logits = _parts(encoder, decoder, x, eps)
    return (-_kl(mu, log_var).sum(-1) - _log_p(x, logits).sum(-1)).mean()


@torch.no_grad()
def _log_var_as_log_sigma_in_z(encoder, decoder, x, eps):
    mu, log_var = encoder(x)
    logits = decoder(mu + torch.exp(log_var) * eps)  # sigma = exp(log_var): the log-variance read as log sigma
    return (_kl(mu, log_var).sum(-1) - _log_p(x, logits).sum(-1)).mean()


@torch.no_grad()
def _log_var_as_log_sigma_in_kl(encoder, decoder, x, eps):
    mu, log_var, logits = _parts(encoder, decoder, x, eps)
    kl = 0.5 * (torch.exp(2 * log_var) + mu**2 - 1.0 - 2 * log_var)  # sigma^2 = exp(2 log_var)
    return (kl.sum(-1) - _log_p(x, logits).sum(-1)).mean()


@torch.no_grad()
def _mean_over_pixels(encoder, decoder, x, eps):
    mu, log_var, logits = _parts(encoder, decoder, x, eps)
    return (_kl(mu, log_var).sum(-1) - _log_p(x, logits).mean(-1)).mean()


@torch.no_grad()
def _sum_over_batch(encoder, decoder, x, eps):
    mu, log_var, logits = _parts(encoder, decoder, x, eps)
    return (_kl(mu, log_var).sum(-1) - _log_p(x, logits).sum(-1)).sum()


@torch.no_grad()
def _probabilities_as_logits(encoder, decoder, x, eps):
    mu, log_var, logits = _parts(encoder, decoder, x, eps)
    return (_kl(mu, log_var).sum(-1) - _log_p(x, torch.sigmoid(logits)).sum(-1)).mean()


@torch.no_grad()
def _reference_loss(encoder, decoder, x, eps):
    return vae.negative_elbo_loss(encoder, decoder, x, eps)


step_loss = Exercise(
    "Capstone step 1 (the negative ELBO)",
    _reference_loss,
    cases=_loss_cases(),
    hints=[
        "Three lines of the model and two terms of the loss: the encoder gives (mu, log_var); z = mu + sigma * eps "
        "with sigma = exp(log_var / 2); the decoder turns z into logits. Then -ELBO = -log p(x|z) + KL, per image, "
        "averaged over the batch.",
        "Per image: log p(x|z) = sum over the D pixels of x * l - softplus(l); KL = 0.5 * sum over the d_z units of "
        "(exp(log_var) + mu^2 - 1 - log_var). The loss is mean(KL - log p(x|z)) over the batch.",
        "mu, log_var = encoder(x); logits = decoder(mu + torch.exp(0.5 * log_var) * eps); "
        "log_p = (x * logits - F.softplus(logits)).sum(-1); "
        "kl = 0.5 * (log_var.exp() + mu**2 - 1 - log_var).sum(-1); return (kl - log_p).mean()",
    ],
    solution="def negative_elbo(encoder, decoder, x, eps):\n"
             "    mu, log_var = encoder(x)\n"
             "    z = mu + torch.exp(0.5 * log_var) * eps\n"
             "    logits = decoder(z)\n"
             "    log_p_x_given_z = (x * logits - F.softplus(logits)).sum(dim=-1)\n"
             "    kl = 0.5 * (torch.exp(log_var) + mu**2 - 1.0 - log_var).sum(dim=-1)\n"
             "    return (kl - log_p_x_given_z).mean()",
    explanation="ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z)). The expectation is estimated with one sample "
                "z = mu + sigma * eps, which is differentiable in mu and sigma (the reparameterization); "
                "sigma = exp(log_var / 2) because the encoder outputs the log-variance. The Bernoulli term is a "
                "sum over independent pixels, x l - softplus(l) from the logits (finite for any l; F.softplus "
                "is stable). The KL between N(mu, diag sigma^2) and N(0, I) has the closed form "
                "0.5 sum_k (sigma_k^2 + mu_k^2 - 1 - log sigma_k^2). The loss is -ELBO averaged over the batch, so "
                "its scale does not change with the batch size.",
    mistakes=[
        Mistake("KL sign", _kl_sign_flipped,
                "The KL term has the wrong sign: -ELBO = -log p(x|z) + KL(q || p(z)), and the KL is >= 0, so it "
                "adds to the loss."),
        Mistake("log_var as log sigma in z", _log_var_as_log_sigma_in_z,
                "Your z uses sigma = exp(log_var). The encoder gives the log of the *variance*; the standard "
                "deviation is exp(log_var / 2)."),
        Mistake("log_var as log sigma in the KL", _log_var_as_log_sigma_in_kl,
                "Your KL reads log_var as log sigma (sigma^2 = exp(2 log_var)). log_var already is log sigma^2: "
                "use exp(log_var) and log_var as they are."),
        Mistake("mean over pixels", _mean_over_pixels,
                "You averaged log p(x|z) over the pixels. The pixels are independent given z, so the image's "
                "log-likelihood is their sum; average only over the images of the batch."),
        Mistake("sum over the batch", _sum_over_batch,
                "You summed over the batch. The loss is the average -ELBO per image, a mean over the batch "
                "(sums stay sums within an image: over its pixels and its latent units)."),
        Mistake("probabilities as logits", _probabilities_as_logits,
                "You passed probabilities sigm(l) where logits are expected: the decoder's output already is the "
                "logit, so use it as it is in x * l - softplus(l) (or binary_cross_entropy_with_logits)."),
    ],
    rtol=1e-5, atol=1e-5,
)


def _call_step(training_step, seed, n_steps, lr=0.1):
    """Run the learner's step n_steps times with SGD on fresh networks; return the losses and the parameters."""
    encoder, decoder = _networks(seed)
    optimizer = torch.optim.SGD([*encoder.parameters(), *decoder.parameters()], lr=lr)
    x, eps = _digits(16), torch.randn((16, CONFIG.d_z), generator=torch.Generator().manual_seed(seed))
    losses = [training_step(encoder, decoder, optimizer, x, eps) for _ in range(n_steps)]
    return losses, [p.detach().clone() for p in (*encoder.parameters(), *decoder.parameters())]


def _same(params_a, params_b, tol=1e-5):
    return all(torch.allclose(a, b, rtol=tol, atol=tol) for a, b in zip(params_a, params_b, strict=True))


def _check_training_step(answer):
    if answer is None or answer is Ellipsis:
        raise NotAttempted
    if not callable(answer):
        return False, f"expected a function training_step(encoder, decoder, optimizer, x, eps), got {type(answer)}."
    try:
        losses, params = _call_step(answer, 7, 2)
    except NotImplementedError:
        raise NotAttempted from None
    except Exception as exc:  # report, never raise
        return False, f"your training_step raised {type(exc).__name__}: {exc}"
    if losses[0] is None:
        raise NotAttempted
    ref_losses, ref_params = _call_step(lambda *a: vae.train_step(*a).item(), 7, 2)
    start = [p.detach().clone() for p in (*_networks(7)[0].parameters(), *_networks(7)[1].parameters())]
    try:
        got_loss = float(losses[0])
    except (TypeError, ValueError):
        return False, f"training_step should return the loss as a number, got {type(losses[0]).__name__}."
    if not np.isclose(got_loss, ref_losses[0], rtol=1e-5):
        return False, (f"on 16 digits with fresh networks the returned loss is {got_loss:.4f}; it should be the "
                       "negative ELBO before the step. Check step 1 first.")
    if _same(params, start, tol=0.0):
        return False, ("the parameters did not move after two steps: call loss.backward() and then "
                       "optimizer.step().")
    if _same(params, ref_params):
        return True, ""
    # no zero_grad: the second step uses the sum of both steps' gradients
    _, accumulated = _call_step(_step_without_zero_grad, 7, 2)
    if _same(params, accumulated):
        return False, ("the first step is right, the second is not: PyTorch adds new gradients to the old ones. "
                       "Clear them every step with optimizer.zero_grad() before loss.backward().")
    return False, ("after two SGD steps (lr 0.1, 16 digits) your parameters differ from the expected ones: take "
                   "exactly one optimizer.step() per call, on the negative ELBO of step 1.")


def _step_without_zero_grad(encoder, decoder, optimizer, x, eps):
    loss = vae.negative_elbo_loss(encoder, decoder, x, eps)
    loss.backward()
    optimizer.step()
    return loss.item()


def _reference_step(encoder, decoder, optimizer, x, eps):
    return vae.train_step(encoder, decoder, optimizer, x, eps).item()


step_train_step = Exercise(
    "Capstone step 2 (one training step)",
    _reference_step,
    checker=_check_training_step,
    hints=[
        "A step has four parts: compute the loss (your step 1), clear the old gradients, backpropagate, update.",
        "optimizer.zero_grad(); loss.backward(); optimizer.step(); return loss.item(). The order matters: "
        "zero_grad before backward.",
        "loss = negative_elbo(encoder, decoder, x, eps); optimizer.zero_grad(); loss.backward(); "
        "optimizer.step(); return loss.item()",
    ],
    solution="def training_step(encoder, decoder, optimizer, x, eps):\n"
             "    loss = negative_elbo(encoder, decoder, x, eps)\n"
             "    optimizer.zero_grad()\n"
             "    loss.backward()\n"
             "    optimizer.step()\n"
             "    return loss.item()",
    explanation="loss.backward() adds d loss / d parameter into each parameter's .grad, through z = mu + sigma * "
                "eps into the encoder as well as the decoder; optimizer.step() moves every parameter along its "
                ".grad. PyTorch accumulates .grad across backward calls (useful for gradients over several "
                "batches), so each step starts with optimizer.zero_grad(); without it, step t uses the sum of "
                "the gradients of steps 1..t.",
)


N_CHECK_EPOCHS, N_CHECK_DIGITS = 2, 300


def _check_train(answer):
    if answer is None or answer is Ellipsis:
        raise NotAttempted
    if not callable(answer):
        return False, f"expected a function train(encoder, decoder, x, n_epochs, generator), got {type(answer)}."
    encoder, decoder = _networks(11)
    x = _digits(N_CHECK_DIGITS)
    try:
        history = answer(encoder, decoder, x, N_CHECK_EPOCHS, torch.Generator().manual_seed(12))
    except NotImplementedError:
        raise NotAttempted from None
    except Exception as exc:  # report, never raise
        return False, f"your train raised {type(exc).__name__}: {exc}"
    if history is None:
        raise NotAttempted
    try:
        history = np.asarray([float(h) for h in history])
    except (TypeError, ValueError):
        return False, "train should return a list with one number per epoch (the epoch's average -ELBO per image)."
    model = vae.VAE(CONFIG, torch.Generator().manual_seed(11), device="cpu")
    reference = vae.train(model, x, N_CHECK_EPOCHS, torch.Generator().manual_seed(12), progress=False)["train"]
    if history.shape != (N_CHECK_EPOCHS,):
        return False, f"train returned {history.size} values for {N_CHECK_EPOCHS} epochs: one value per epoch."
    if np.allclose(history, reference, rtol=1e-4):
        return True, ""
    if np.isclose(history[0], reference[0], rtol=1e-3):
        return False, (f"epoch 1 matches ({history[0]:.4f}), epoch 2 does not ({history[1]:.4f} vs "
                       f"{reference[1]:.4f}): draw a new order with torch.randperm at the start of every epoch.")
    return False, (f"on {N_CHECK_DIGITS} digits, {N_CHECK_EPOCHS} epochs, your per-epoch losses are "
                   f"{np.round(history, 4)}, lvmlib's from the same weights and seed {np.round(reference, 4)}. "
                   "Check the order of the random draws (randperm once per epoch, then one randn per batch of "
                   "100), Adam with lr 1e-3 over the parameters of both networks, and that each epoch reports the "
                   "average over images (weight each batch's loss by its size).")


def _reference_train(encoder, decoder, x, n_epochs, generator):
    model = vae.VAE(CONFIG, device="cpu")
    model.encoder, model.decoder = copy.deepcopy(encoder), copy.deepcopy(decoder)
    return vae.train(model, x, n_epochs, generator, progress=False)["train"]


step_train = Exercise(
    "Capstone step 3 (the training loop)",
    _reference_train,
    checker=_check_train,
    hints=[
        "Per epoch: shuffle the images, cut them into batches of 100, and call your training_step on each with a "
        "fresh eps. The random draws must come from `generator`, in this order: one torch.randperm per epoch, "
        "then one torch.randn per batch.",
        "optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-3) once, before the "
        "epochs. In an epoch: for xb in x[torch.randperm(len(x), generator=generator)].split(100): "
        "eps = torch.randn((len(xb), d_z), generator=generator).",
        "Sum training_step(...) * len(xb) over the batches and divide by len(x): that is the epoch's average "
        "-ELBO per image; append it to a list and return the list.",
    ],
    solution="def train(encoder, decoder, x, n_epochs, generator, batch_size=100, lr=1e-3):\n"
             "    optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=lr)\n"
             "    d_z = encoder.mu.out_features\n"
             "    history = []\n"
             "    for _ in range(n_epochs):\n"
             "        total = 0.0\n"
             "        for xb in x[torch.randperm(len(x), generator=generator)].split(batch_size):\n"
             "            eps = torch.randn((len(xb), d_z), generator=generator)\n"
             "            total += training_step(encoder, decoder, optimizer, xb, eps) * len(xb)\n"
             "        history.append(total / len(x))\n"
             "    return history",
    explanation="Minibatch stochastic gradient descent on the average -ELBO: each epoch visits every image once "
                "in a new random order, and each batch's gradient is an unbiased estimate of the full one (random "
                "batch, random eps). Drawing the order and the noise from one generator, in a fixed order, makes "
                "the run reproducible, which is how this check replays lvmlib.vae.train batch for batch.",
)

capstone = Capstone(
    "Capstone: a VAE's loss and training, by hand",
    [("negative_elbo", step_loss), ("training_step", step_train_step), ("train", step_train)],
    intro="You write the three pieces that train a VAE: the negative ELBO of a batch with one reparameterized "
          "sample, one gradient step, and the loop over epochs. The encoder and decoder are given. Each piece is "
          "checked on its own; at the end your loop trains the chapter's model and its losses match lvmlib's, "
          "batch for batch, from the same weights and the same random seed.",
)
