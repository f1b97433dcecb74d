"""Fit planar flows q(z) to chapter 05's bimodal posterior (NonlinearModel1D at x = 2): data/ch07_flows_1d_K{K}.pt.

    python tools/train_ch07_flows1d.py --layers 4 [--restarts 4] [--steps 4000]

An affine (Gaussian) layer followed by K planar layers, fitted by Adam on the reparameterized Monte Carlo ELBO
(256 draws per step) with annealing (the likelihood's weight rises from 0 to 1 over the first 40% of the steps)
and a learning rate decaying from 0.02 to 0.002 after that. The ELBO of KL(q || p) has local optima (a q that
covers one mode), so each K is fitted from ``--restarts`` random initial layers at once (one flow whose layers
carry that many independent models, torch seed 0) and the restart with the highest ELBO is kept; the ELBO of every
restart (exact, by quadrature in eps) is stored too, so the notebook can show how often a restart gets stuck.
One thread; the same run gives the same bytes.
"""

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np
import torch

from lvmlib import data, flows, vae
from lvmlib.examples import NonlinearModel1D

X_OBS, SEED = 2.0, 0


@vae.one_cpu_thread  # one thread for torch, BLAS and lvmlib's own calls inside: the same bytes on a re-run
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, required=True)
    parser.add_argument("--restarts", type=int, default=8)
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    out = args.out or str(data.DATA_DIR / f"ch07_flows_1d_K{args.layers}.pt")
    log_joint = flows.nonlinear_1d_log_joint(NonlinearModel1D(), X_OBS)
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(SEED)
    flow = flows.planar_flow(args.layers, n_models=args.restarts, generator=generator)
    flows.fit_flow_1d(flow, log_joint, generator, n_steps=args.steps, n_samples=256, lr=0.02,
                      n_anneal=args.steps * 2 // 5, lr_final=0.002, desc=f"K = {args.layers}")
    elbos = flows.elbo_by_quadrature_1d(flow, log_joint)
    best = int(np.argmax(elbos))
    log_p_x = NonlinearModel1D().log_p_x(np.array([[X_OBS]]))[0]
    print(f"K = {args.layers}: {time.perf_counter() - start:.0f} s; gaps of the restarts "
          f"{np.round(log_p_x - np.array(elbos), 4)} nats")
    state = {k: v.detach().contiguous() for k, v in flows.one_model(flow, best).state_dict().items()}
    torch.save({"n_layers": args.layers, "state_dict": state, "best_restart": best, "x": X_OBS,
                "n_steps": args.steps, "elbo_of_restarts": torch.tensor(elbos, dtype=torch.float64)}, out)
    digest = hashlib.sha256(Path(out).read_bytes()).hexdigest()
    print(f"saved {out}, {Path(out).stat().st_size / 1e3:.1f} kB, sha256 {digest}")


if __name__ == "__main__":
    main()
