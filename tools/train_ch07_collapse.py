"""Train chapter 07's VAEs with an autoregressive (MADE) decoder and save data/ch07_collapse_{variant}.pt.

    python tools/train_ch07_collapse.py --variant elbo|warmup|free_bits|no_z [--epochs 200]

Variants: "elbo" maximizes the plain ELBO; "warmup" multiplies the KL by beta rising linearly from 0 to 1 over
the first half of the epochs; "free_bits" floors each latent unit's batch-averaged KL at 0.5 nats (Kingma et al.
2016); "no_z" cuts z out of the decoder (a plain MADE, whose log p(x) is exact). Bernoulli, d_z = 8, 128 hidden
units in the encoder and the MADE, the course's split of the binarized 8x8 digits, Adam 1e-3, batch 100, torch
seed 2026, one thread; the same run gives the same bytes on this CPU. The meta holds the per-digit test numbers
(L_5000, ELBO, rate and distortion, float64 tensors (297,), generator seed 7) and the loss per epoch.
"""

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np
import torch

from lvmlib import data, iwae, made, vae

CONFIG = vae.VAEConfig(d_x=64, d_z=8, d_hidden=128, likelihood="bernoulli")
SEED, EVAL_SEED, N_TEST, K_EVAL, FREE_BITS = 2026, 7, 297, 5000, 0.5


def objective(variant, n_epochs):
    beta = iwae.warmup(n_epochs // 2) if variant == "warmup" else (lambda epoch: 1.0)
    free_bits = FREE_BITS if variant == "free_bits" else 0.0
    return lambda m, xb, g, epoch: iwae.collapse_loss(m, xb, g, beta=beta(epoch), free_bits=free_bits)


@vae.one_cpu_thread  # one thread for torch, BLAS and lvmlib's own calls inside: the same bytes on a re-run
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=("elbo", "warmup", "free_bits", "no_z"), required=True)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    out = args.out or str(data.DATA_DIR / f"ch07_collapse_{args.variant}.pt")

    images, labels = data.load_digits()
    x_train, x_test, _, _ = vae.train_test_split(images, labels, N_TEST, np.random.default_rng(0))
    generator = vae.make_generator(SEED, "cpu")
    model = made.ARVAE(CONFIG, generator, z_to_decoder=args.variant != "no_z")
    start = time.perf_counter()
    history = iwae.train(model, x_train, args.epochs, generator, objective(args.variant, args.epochs),
                         desc=args.variant)
    seconds = time.perf_counter() - start
    model.eval()
    numbers = iwae.evaluate(model, x_test, vae.make_generator(EVAL_SEED, "cpu"), k=K_EVAL)
    print(f"{args.variant}: {args.epochs} epochs in {seconds:.0f} s; test L_5000 {numbers['L_5000'].mean():.4f}, "
          f"ELBO {numbers['elbo'].mean():.4f}, rate {numbers['rate'].mean():.4f}, "
          f"distortion {numbers['distortion'].mean():.4f} nats per image")
    iwae.save(model, out, variant=args.variant, n_epochs=args.epochs, seed=SEED, eval_seed=EVAL_SEED,
              n_test=N_TEST, free_bits=FREE_BITS if args.variant == "free_bits" else 0.0,
              train_loss=torch.as_tensor(history), **{f"test_{name}": v for name, v in numbers.items()})
    digest = hashlib.sha256(Path(out).read_bytes()).hexdigest()
    print(f"saved {out}, {Path(out).stat().st_size / 1e3:.0f} kB, sha256 {digest}")


if __name__ == "__main__":
    main()
