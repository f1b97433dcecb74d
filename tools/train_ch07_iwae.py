"""Train chapter 07's VAEs with the bounds L_1 (the VAE), L_5 and L_50 and save data/ch07_iwae_k{k}.pt.

    python tools/train_ch07_iwae.py --k 50 [--epochs 200]      (one k per run; run the three in parallel)

Same architecture as chapter 06 (Bernoulli, d_z = 8, 128 hidden units), the course's split of the binarized 8x8
digits (``train_test_split(..., n_test=297, rng=np.random.default_rng(0))``), Adam with learning rate 1e-3,
batch 100, the same number of epochs (gradient steps) for every k and torch seed 2026 for the weights, the
minibatches and the noise. torch runs on one thread (``iwae.train``), and the same run gives the same bytes on this
CPU (the sha256 also depends on the file name, which torch.save writes into the archive). The checkpoint's meta
holds the per-digit test numbers (L_5000 and the ELBO with 100 draws, float64 tensors (297,)), computed with
generator seed 7, and the training loss per epoch (no timings: they would change the bytes).
"""

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np
import torch

from lvmlib import data, iwae, vae

CONFIG = vae.VAEConfig(d_x=64, d_z=8, d_hidden=128, likelihood="bernoulli")
SEED, EVAL_SEED, N_TEST, K_EVAL = 2026, 7, 297, 5000


@vae.one_cpu_thread  # one thread for torch, BLAS and lvmlib's own calls inside: the same bytes on a re-run
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, required=True)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    out = args.out or str(data.DATA_DIR / f"ch07_iwae_k{args.k}.pt")

    images, labels = data.load_digits()
    x_train, x_test, _, _ = vae.train_test_split(images, labels, N_TEST, np.random.default_rng(0))
    generator = vae.make_generator(SEED, "cpu")
    model = vae.VAE(CONFIG, generator, device="cpu")
    start = time.perf_counter()
    history = iwae.train(model, x_train, args.epochs, generator,
                         lambda m, xb, g, epoch: iwae.iwae_loss(m, xb, args.k, g), desc=f"L_{args.k}")
    seconds = time.perf_counter() - start
    model.eval()
    numbers = iwae.evaluate(model, x_test, vae.make_generator(EVAL_SEED, "cpu"), k=K_EVAL)
    print(f"k = {args.k}: {args.epochs} epochs in {seconds:.0f} s, train -L_k {history[-1]:.4f}; test L_5000 "
          f"{numbers['L_5000'].mean():.4f}, test ELBO {numbers['elbo'].mean():.4f} nats per image")
    iwae.save(model, out, k=args.k, n_epochs=args.epochs, seed=SEED, eval_seed=EVAL_SEED, n_test=N_TEST,
              train_loss=torch.as_tensor(history), **{f"test_{name}": v for name, v in numbers.items()})
    digest = hashlib.sha256(Path(out).read_bytes()).hexdigest()
    print(f"saved {out}, {Path(out).stat().st_size / 1e3:.0f} kB, sha256 {digest}")


if __name__ == "__main__":
    main()
