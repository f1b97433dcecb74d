"""Import times, each in a fresh interpreter (best of REPEATS), measured inside it around the import statement."""

import subprocess
import sys

from common import ROOT

REPEATS = 5
NO_TORCH = ("lvmlib.logspace", "lvmlib.distributions", "lvmlib.examples", "lvmlib.data", "lvmlib.plotting",
            "lvmlib.widgets", "lvmlib.mixtures", "lvmlib.elbo", "lvmlib.estimators", "lvmlib.marginal")

SNIPPET = """
import importlib, sys, time
names = sys.argv[1].split(",")
start = time.perf_counter()
for name in names:
    try:
        importlib.import_module(name)
    except ImportError:
        if name == names[0]:
            raise
print(time.perf_counter() - start, "torch" in sys.modules)
"""


def import_time(names):
    """(best seconds, whether torch got imported) for importing ``names`` in a fresh interpreter."""
    best, torch_loaded = float("inf"), None
    for _ in range(REPEATS):
        out = subprocess.run([sys.executable, "-c", SNIPPET, ",".join(names)], capture_output=True, text=True,
                             cwd=ROOT, check=True).stdout.split()
        best, torch_loaded = min(best, float(out[0])), out[1] == "True"
    return best, torch_loaded


def run():
    rows = []
    for label, names in [("import lvmlib", ["lvmlib"]),
                         ("import lvmlib + every module without torch", ["lvmlib", *NO_TORCH]),
                         ("import lvmlib.vae (with torch)", ["lvmlib.vae"])]:
        try:
            seconds, torch_loaded = import_time(names)
            rows.append({"what": label, "seconds": seconds, "torch": torch_loaded})
        except subprocess.CalledProcessError as error:
            rows.append({"what": label, "note": f"not available yet ({error.stderr.strip().splitlines()[-1]})"})
    return rows
