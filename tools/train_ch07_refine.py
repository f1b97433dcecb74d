"""Refine q per test digit for chapter 06's fixed decoder, diagonal Gaussian vs IAF: data/ch07_refine.pt.

    python tools/train_ch07_refine.py [--n-digits 100] [--steps 600]

The decoder is chapter 06's shipped VAE (data/vae_digits_8x8.pt). For the first ``--n-digits`` test digits of
the course's split, q_i starts at the encoder's Gaussian and takes the same budget (``--steps`` Adam steps, learning
rate 0.02, 16 reparameterized draws per step) as (a) a diagonal Gaussian, (b) the Gaussian followed by 2 IAF layers
(each a MADE with 16 hidden units, its own weights per digit). Per digit it stores, as float64 tensors: the ELBO of
the encoder's q, of the refined Gaussian and of the refined flow (2,000 draws each, with their Monte Carlo standard
errors), and L_5000 with the encoder's q and with the refined flow as the proposal; and the mean -ELBO per step of
each refinement. No weights are stored (the per-digit flows would take ~340 kB); the numbers are what the notebook
needs. Generator seed 2026 for the refinement, 7 for the evaluation; one thread; the same run gives the same bytes.
"""

import argparse
import hashlib
import math
import time
from pathlib import Path

import numpy as np
import torch

from lvmlib import data, flows, vae

SEED, EVAL_SEED, N_TEST, N_LAYERS, LR, N_SAMPLES, N_ELBO, K = 2026, 7, 297, 2, 0.02, 16, 2000, 5000


def mean_and_se(log_w):
    """Per-digit mean of log w (k, n) and its Monte Carlo standard error: two float64 tensors (n,)."""
    log_w = log_w.double()
    return log_w.mean(0), log_w.std(0) / math.sqrt(log_w.shape[0])


def log_mean_exp(log_w):
    return (torch.logsumexp(log_w.double(), 0) - math.log(log_w.shape[0]))


@vae.one_cpu_thread  # one thread for torch, BLAS and lvmlib's own calls inside: the same bytes on a re-run
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-digits", type=int, default=100)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--out", default=str(data.DATA_DIR / "ch07_refine.pt"))
    args = parser.parse_args()

    images, labels = data.load_digits()
    _, x_test, _, _ = vae.train_test_split(images, labels, N_TEST, np.random.default_rng(0))
    model, _ = vae.load_checkpoint(data.data_path("vae_digits_8x8.pt"), device="cpu")
    x = model.as_x(x_test[:args.n_digits])
    start, cpu = time.perf_counter(), time.process_time()
    out = {}
    fitted = {}
    for name, n_layers in (("gauss", 0), ("iaf", N_LAYERS)):
        generator = vae.make_generator(SEED, "cpu")
        fitted[name], history = flows.refine_flow_q(model, x, n_layers, generator, n_steps=args.steps, lr=LR,
                                                    n_samples=N_SAMPLES)
        out[f"history_{name}"] = torch.as_tensor(history)
    eval_gen = vae.make_generator(EVAL_SEED, "cpu")
    with torch.no_grad():
        out["elbo_encoder"], out["elbo_encoder_se"] = mean_and_se(model.log_weights(x, N_ELBO, eval_gen))
        for name, flow in fitted.items():
            out[f"elbo_{name}"], out[f"elbo_{name}_se"] = mean_and_se(
                flows.flow_log_weights(model, x, flow, N_ELBO, eval_gen))
        out["L5000_encoder"] = torch.as_tensor(model.iwae_bound(x, K, eval_gen))
        out["L5000_iaf"] = log_mean_exp(flows.flow_log_weights(model, x, fitted["iaf"], K, eval_gen))
    print(f"{args.n_digits} digits, {args.steps} steps: {time.perf_counter() - start:.0f} s "
          f"({time.process_time() - cpu:.0f} s of CPU)")
    for key, value in out.items():
        if not key.startswith("history") and not key.endswith("_se"):
            print(f"  {key:>14}: {value.mean():.4f} nats per digit")
    torch.save({"n_digits": args.n_digits, "n_steps": args.steps, "n_layers": N_LAYERS, "lr": LR,
                "n_samples": N_SAMPLES, "seed": SEED, "eval_seed": EVAL_SEED, **out}, args.out)
    print(f"saved {args.out}, {Path(args.out).stat().st_size / 1e3:.0f} kB, "
          f"sha256 {hashlib.sha256(Path(args.out).read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
