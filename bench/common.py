"""Shared helpers for the benchmarks: robust timing, summaries, the machine description."""

import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "_work"


class NotAvailable(Exception):
    """A benchmarked module or artefact does not exist yet (the section reports "not available yet")."""


def timed(fn, *args, **kwargs):
    """(result, seconds) of one call."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def summary_ms(times_s):
    """median and 95th percentile in ms of a list of durations in seconds."""
    t = 1e3 * np.asarray(times_s, dtype=float)
    return float(np.median(t)), float(np.percentile(t, 95))


def versions(*names):
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def chromium_version():
    import shutil

    path = shutil.which("chromium")
    if path is None:
        return "not installed"
    try:
        text = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20).stdout
        return text.strip().splitlines()[-1] if text.strip() else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def machine():
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        load = "unknown"
    threads = {k: os.environ.get(k, "unset") for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load average at start (1, 5, 15 min)": load,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "threads": ", ".join(f"{k}={v}" for k, v in threads.items()),
    }
