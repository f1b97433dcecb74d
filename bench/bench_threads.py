"""Threads: why 2 threads trained slowly on a busy machine. Each configuration runs in a fresh interpreter (OpenMP
reads its wait policy once, when torch loads): the plain training loop of chapter 06's MNIST model (784 -> 256 -> 2)
on N_IMAGES random binary images, batch size 100, best of EPOCHS epochs after one warm-up epoch.
"""

import json
import os
import subprocess
import sys

from common import ROOT, load_snapshot

N_IMAGES, EPOCHS = 1000, 4

CONFIGS = [  # (label, extra environment, torch threads: a number, or "lvmlib" for lvmlib's default)
    ("1 thread", {}, 1),
    ("2 threads, OpenMP spin-waiting (GNU default)", {}, 2),
    ("2 threads, OMP_WAIT_POLICY=PASSIVE", {"OMP_WAIT_POLICY": "PASSIVE"}, 2),
    ("lvmlib's default (the offered cores)", {}, "lvmlib"),
]

SNIPPET = """
import json, sys, time
import torch
from lvmlib import _threads
want = sys.argv[1]
n_threads = _threads.resolve() if want == "lvmlib" else int(want)
torch.set_num_threads(n_threads)
nn, F = torch.nn, torch.nn.functional
torch.manual_seed(0)
x = (torch.rand(int(sys.argv[2]), 784) > 0.5).float()
enc = nn.Sequential(nn.Linear(784, 256), nn.Tanh(), nn.Linear(256, 4))
dec = nn.Sequential(nn.Linear(2, 256), nn.Tanh(), nn.Linear(256, 784))
opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-3)
def epoch():
    start = time.perf_counter()
    for xb in x.split(100):
        mu, lv = enc(xb).split(2, 1)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
        rec = F.binary_cross_entropy_with_logits(dec(z), xb, reduction="sum")
        loss = (rec - 0.5 * torch.sum(1 + lv - mu**2 - lv.exp())) / len(xb)
        opt.zero_grad(); loss.backward(); opt.step()
    return len(x) / (time.perf_counter() - start)
epoch()
print(json.dumps({"threads": n_threads, "images_per_s": max(epoch() for _ in range(int(sys.argv[3])))}))
"""


def run():
    rows = []
    base = {k: v for k, v in os.environ.items()
            if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS", "LVMLIB_THREADS")}
    base["PYTHONPATH"] = str(ROOT)
    for label, extra, threads in CONFIGS:
        before = load_snapshot()
        out = subprocess.run([sys.executable, "-c", SNIPPET, str(threads), str(N_IMAGES), str(EPOCHS)],
                             capture_output=True, text=True, env={**base, **extra}, cwd=ROOT, timeout=600)
        after = load_snapshot()
        row = {"config": label, "load": (before, after)}
        try:
            row.update(json.loads(out.stdout.strip().splitlines()[-1]))
        except (IndexError, json.JSONDecodeError):
            row["note"] = f"failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else '?'}"
        rows.append(row)
    return rows
