"""VAE: lvmlib.vae.train against a plain PyTorch loop; the importance-sampling estimate against its floor.

Throughput: chapter 06's MNIST model (784 -> 256 -> 2, Bernoulli decoder), the 5,000-image MNIST subset binarized
at 0.5 (N_TRAIN for training), batch size 100, Adam with lr 1e-3. Each at its default thread count:
lvmlib.vae.train takes the cores the machine offers (lvmlib/_threads.py: torch's start-up count minus the cores
other work keeps busy), the plain loop torch's default (all cores, spinning OpenMP threads). lvmlib's Adam update
is torch's fused kernel where torch has it (vae.make_optimizer), the plain loop's torch.optim.Adam's default
per-tensor update, as a learner writes it. For information the plain loop also runs on one thread. The loops alternate
one epoch at a time for ROUNDS rounds; the ratio is the median over the rounds of lvmlib's epoch throughput over
the plain loop's epoch in the same round (a pair shares the machine's state; epochs last ~0.15 s, so single epochs
are noisy), and each side's best epoch is shown too. The plain loop is the textbook one (as in PyTorch's VAE
example): two small nn.Sequential networks, binary cross entropy with logits, the closed-form KL, global random
state.

IS estimate: ``VAE.iwae_bound(x, k=K_IS, threads=n)`` on N_IS test images (the MNIST model above, briefly
trained; the cost does not depend on the weights), against the floor: the decoder's two matrix products alone
(z (rows, 2) @ (2, 256), then (rows, 256) @ (256, 784)) over the same k x n rows, in blocks of 2,000 or 20,000
rows (the faster counts), at the same thread count n, measured in the same run. Estimate and floor alternate for
IS_ROUNDS rounds; the ratio is the median of the rounds' ratios (each side's best is shown too; a round's ratio
scatters by about +-10% on a shared 2-core machine, hence the many rounds).
"""

import os
import time

import numpy as np
from common import NotAvailable, load_snapshot, timed

ROUNDS, BATCH, LR, K_IS, N_IS, N_TRAIN, IS_ROUNDS = 15, 100, 1e-3, 5000, 100, 3000, 15


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


def matmul_floor(torch, decoder, rows_total, block):
    """Seconds for the decoder's two matrix products over ``rows_total`` rows of z, ``block`` rows at a time."""
    w1 = decoder.net[0].weight.detach().T.contiguous()  # (d_z, d_hidden)
    w2 = decoder.net[2].weight.detach().T.contiguous()  # (d_hidden, d_x)
    z = torch.randn(block, w1.shape[0])
    h, out = torch.empty(block, w1.shape[1]), torch.empty(block, w2.shape[1])
    n_blocks, rest = divmod(rows_total, block)
    start = time.perf_counter()
    for _ in range(n_blocks):
        torch.mm(z, w1, out=h)
        torch.mm(h, w2, out=out)
    if rest:
        torch.mm(torch.mm(z[:rest], w1), w2)
    return time.perf_counter() - start


def run():
    try:
        import torch

        from lvmlib import _threads, vae
    except ImportError as error:
        raise NotAvailable("lvmlib.vae") from error
    from lvmlib.data import load_mnist_subset

    torch_default = torch.get_num_threads()
    images, _ = load_mnist_subset()  # (5000, 28, 28) grey levels in [0, 1]
    x_all = (np.asarray(images, dtype=np.float32).reshape(len(images), -1) > 0.5).astype(np.float32)
    x_train, x_test = x_all[-N_TRAIN:], x_all[:N_IS]
    d_x = x_train.shape[1]
    config = vae.VAEConfig(d_x=d_x, d_z=2, d_hidden=256)

    gen = vae.make_generator(0, "cpu")
    model = vae.VAE(config, gen)
    plain = PlainVAE(torch, d_x, 256, 2, seed=0)
    plain1 = PlainVAE(torch, d_x, 256, 2, seed=0)
    xt = torch.as_tensor(x_train)
    ours, theirs, theirs1, lvmlib_threads = [], [], [], []
    load_train = load_snapshot()
    for _ in range(ROUNDS):
        lvmlib_threads.append(_threads.resolve())  # what the default picks now (train resolves it again itself)
        ours += vae.train(model, x_train, 1, gen, batch_size=BATCH, lr=LR, progress=False)["images_per_s"]
        theirs.append(plain.epoch(xt))  # torch's default thread count
        torch.set_num_threads(1)
        theirs1.append(plain1.epoch(xt))
        torch.set_num_threads(torch_default)
    load_train_after = load_snapshot()

    n = _threads.resolve()  # one thread count for both sides of the IS comparison
    rows = K_IS * N_IS
    estimate_s, floor_s, estimate = [], [], None
    load_is = load_snapshot()
    for _ in range(IS_ROUNDS):
        with torch.no_grad():
            estimate, seconds = timed(model.iwae_bound, x_test, K_IS, gen, threads=n)
        estimate_s.append(seconds)
        with _threads.limit(n), torch.no_grad():
            floor_s.append(min(matmul_floor(torch, model.decoder, rows, block) for block in (2000, 20000)))
    load_is_after = load_snapshot()
    flops = rows * 2 * (2 * 256 + 256 * d_x)
    return {
        "n_train": len(x_train), "d_x": d_x, "rounds": ROUNDS, "torch_default_threads": torch_default,
        "lvmlib_threads": lvmlib_threads, "cpu_count": os.cpu_count(),
        "lvmlib_images_per_s": max(ours), "plain_images_per_s": max(theirs),
        "ratio": float(np.median(np.divide(ours, theirs))),
        "ratio_best": max(ours) / max(theirs),
        "lvmlib_median_images_per_s": float(np.median(ours)), "plain_median_images_per_s": float(np.median(theirs)),
        "plain1_images_per_s": max(theirs1), "plain1_median_images_per_s": float(np.median(theirs1)),
        "load_train": (load_train, load_train_after),
        "is_threads": n, "is_k": K_IS, "is_n": N_IS, "is_seconds": min(estimate_s), "floor_seconds": min(floor_s),
        "is_ratio": float(np.median(np.divide(estimate_s, floor_s))), "is_ratio_best": min(estimate_s) / min(floor_s),
        "is_gflops_floor": flops / min(floor_s) / 1e9,
        "is_mean_log_px": float(np.mean(estimate)), "load_is": (load_is, load_is_after),
    }
