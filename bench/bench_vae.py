"""VAE: lvmlib.vae.train against a plain PyTorch loop written here, and the importance-sampling estimate of log p(x).

Throughput: chapter 06's MNIST model (784 -> 256 -> 2, Bernoulli decoder), the 5,000-image MNIST subset
binarized at 0.5, batch size 100, Adam with lr 1e-3, the same torch thread count: lvmlib.vae.train always trains
on one CPU thread (its own choice, see vae.one_cpu_thread), so the plain loop is timed on one thread too; for
information it is also timed on 2 threads. The two loops alternate one
epoch at a time for ROUNDS rounds; each reports its best epoch (the least disturbed by other work on the machine).
The plain loop is the textbook one (as in PyTorch's VAE example): two small nn.Sequential networks, binary cross
entropy with logits, the closed-form KL, global random state.

IS estimate: ``VAE.iwae_bound(x, k=5000)`` on 1,000 test images (the MNIST model above, briefly trained; the cost
does not depend on the weights), i.e. 5 million decoder evaluations; and the same for chapter 06's 8x8 digits
model (64 -> 128 -> 8) on 1,000 digits.
"""

import time

import numpy as np
from common import NotAvailable, timed

ROUNDS, BATCH, LR, K_IS, N_IS = 6, 100, 1e-3, 5000, 1000
LVMLIB_THREADS = 1  # lvmlib.vae.train runs on one CPU thread (vae.one_cpu_thread), whatever the caller set


class PlainVAE:
    """The plain loop: encoder and decoder as nn.Sequential, one training epoch per call."""

    def __init__(self, torch, d_x, d_h, d_z, seed):
        nn = torch.nn
        torch.manual_seed(seed)
        self.torch = torch
        self.enc = nn.Sequential(nn.Linear(d_x, d_h), nn.Tanh(), nn.Linear(d_h, 2 * d_z))
        self.dec = nn.Sequential(nn.Linear(d_z, d_h), nn.Tanh(), nn.Linear(d_h, d_x))
        self.opt = torch.optim.Adam([*self.enc.parameters(), *self.dec.parameters()], lr=LR)
        self.d_z = d_z

    def epoch(self, x):
        torch, F = self.torch, self.torch.nn.functional
        start = time.perf_counter()
        for xb in x[torch.randperm(len(x))].split(BATCH):
            mu, log_var = self.enc(xb).split(self.d_z, dim=1)
            z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
            rec = F.binary_cross_entropy_with_logits(self.dec(z), xb, reduction="sum")
            kl = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())
            loss = (rec + kl) / len(xb)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        return len(x) / (time.perf_counter() - start)


def run():
    try:
        import torch

        from lvmlib import vae
    except ImportError as error:
        raise NotAvailable("lvmlib.vae") from error
    from lvmlib.data import load_digits, load_mnist_subset

    torch.set_num_threads(2)
    images, _ = load_mnist_subset()  # (5000, 28, 28) grey levels in [0, 1]
    x_all = (np.asarray(images, dtype=np.float32).reshape(len(images), -1) > 0.5).astype(np.float32)
    n_test = N_IS
    x_train, x_test = x_all[n_test:], x_all[:n_test]
    d_x = x_train.shape[1]
    config = vae.VAEConfig(d_x=d_x, d_z=2, d_hidden=256)

    gen = vae.make_generator(0)
    model = vae.VAE(config, gen)
    plain = PlainVAE(torch, d_x, 256, 2, seed=0)
    plain2 = PlainVAE(torch, d_x, 256, 2, seed=0)
    xt = torch.as_tensor(x_train)
    ours, theirs, theirs2 = [], [], []
    for _ in range(ROUNDS):
        ours += vae.train(model, x_train, 1, gen, batch_size=BATCH, lr=LR, progress=False)["images_per_s"]
        torch.set_num_threads(LVMLIB_THREADS)  # the same thread count as lvmlib's loop
        theirs.append(plain.epoch(xt))
        torch.set_num_threads(2)
        theirs2.append(plain2.epoch(xt))
    best_ours, best_plain = max(ours), max(theirs)

    with torch.no_grad():
        estimate, seconds = timed(model.iwae_bound, x_test, K_IS, gen)
    # The same estimate for chapter 06's 8x8 digits model (64 -> 128 -> 8), whose L_k the chapter computes.
    digits, _ = load_digits(binarized=True)
    x_digits = digits.reshape(len(digits), -1)[:N_IS].astype(np.float32)
    small = vae.VAE(vae.VAEConfig(d_x=64, d_z=8, d_hidden=128), gen)
    vae.train(small, x_digits, 2, gen, progress=False)
    with torch.no_grad():
        _, seconds_digits = timed(small.iwae_bound, x_digits, K_IS, gen)
    return {
        "n_train": len(x_train), "d_x": d_x, "threads": LVMLIB_THREADS, "rounds": ROUNDS,
        "lvmlib_images_per_s": best_ours, "plain_images_per_s": best_plain, "ratio": best_ours / best_plain,
        "lvmlib_median_images_per_s": float(np.median(ours)), "plain_median_images_per_s": float(np.median(theirs)),
        "plain2_images_per_s": max(theirs2), "plain2_median_images_per_s": float(np.median(theirs2)),
        "is_seconds": seconds, "is_k": K_IS, "is_n": len(x_test), "is_mean_log_px": float(np.mean(estimate)),
        "is_seconds_digits": seconds_digits,
    }
