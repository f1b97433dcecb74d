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


def load_snapshot():
    """The machine's load now: 1-minute load average, runnable tasks, and the other processes using the most CPU
    (ps: CPU time over each process's life, summed by command name)."""
    try:
        load1 = os.getloadavg()[0]
        running = Path("/proc/loadavg").read_text().split()[3]
    except (OSError, IndexError):
        return {"load1": float("nan"), "running": "?", "top": "unknown"}
    try:
        out = subprocess.run(["ps", "-eo", "pid,ppid,pcpu,comm", "--no-headers"], capture_output=True, text=True,
                             timeout=10).stdout.splitlines()
        mine, by_name = {os.getpid()}, {}
        for line in out:
            pid, ppid, cpu, name = line.split(None, 3)
            if int(pid) in mine or int(ppid) in mine:  # the benchmark and its kernels are not "else"
                continue
            count, total = by_name.get(name, (0, 0.0))
            by_name[name] = (count + 1, total + float(cpu))
        busiest = sorted(by_name.items(), key=lambda item: -item[1][1])[:4]
        top = [f"{name} x{count} ({total:.0f}% CPU)" for name, (count, total) in busiest if total >= 5]
    except (OSError, ValueError, subprocess.TimeoutExpired):
        top = []
    return {"load1": load1, "running": running, "top": ", ".join(top) or "nothing notable"}


def with_load(fn):
    """Run ``fn()``; returns (result, {"before": snapshot, "after": snapshot})."""
    before = load_snapshot()
    result = fn()
    return result, {"before": before, "after": load_snapshot()}
