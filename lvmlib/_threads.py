"""How many CPU threads torch and BLAS use for training and evaluation (used by the torch modules).

The thread count of a call is, in this order: the ``threads=`` argument, the environment variable
``LVMLIB_THREADS``, else the cores the machine offers: the threads torch starts with (all cores, or
``OMP_NUM_THREADS``), minus the cores that other programs keep busy right now.

Why "minus the busy cores": torch's CPU kernels run on an OpenMP team whose threads meet at a barrier after every
operation, and the team's idle threads spin-wait there (GNU OpenMP's default). When other programs fill the cores,
a thread of the team is often descheduled while the others spin away their time slices waiting for it, so every
small operation costs a scheduler round. Measured on a 2-core machine with a load average of 13 (bench/RESULTS.md):
2 threads trained chapter 06's VAE at ~150 images/s, 1 thread at ~3,000-5,000, 2 threads with passive waiting
(``OMP_WAIT_POLICY=PASSIVE``) at ~2,400. On the same machine with the cores to itself, 2 spinning threads reached
~25,000 images/s, passive ones ~14,000 and one thread ~17,000: no wait policy is best in both cases, but counting
only the idle cores is.
"""

import contextlib
import functools
import inspect
import os
import statistics
import time

import torch
from threadpoolctl import threadpool_limits

MAX_THREADS = 1024
_STARTUP_THREADS = torch.get_num_threads()  # the cores torch was given: all of them, or OMP_NUM_THREADS


def _parse(value, where):
    """A thread count from an argument or an environment variable: an int >= 1."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, bool):
        raise TypeError(f"{where} must be a whole number of threads >= 1, got {value!r}.")
    try:
        n = int(text)
        ok = n == float(text)
    except (TypeError, ValueError):
        ok = False
    if not ok or not 1 <= n <= MAX_THREADS:
        raise ValueError(f"{where} must be a whole number of threads between 1 and {MAX_THREADS}, got {value!r}; "
                         "leave it unset to use the cores the machine offers.")
    return n


def _own_running():
    """Threads of this process that are runnable now ('R' in /proc/self/task/*/stat), at least 1 (the caller).

    torch's OpenMP threads keep spinning (runnable) for a while after each operation; they are this program's own
    work, not other programs', so :func:`busy_cores` must not count them. Returns None where /proc is missing.
    """
    count = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return None
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/stat") as f:
                count += f.read().rsplit(")", 1)[1].split()[0] == "R"
        except (OSError, IndexError):
            continue  # the thread ended meanwhile
    return max(1, count)


def busy_cores(n_samples=5, interval_s=0.002):
    """Cores other programs keep busy now: runnable tasks in /proc/loadavg minus this process's own runnable
    threads (the caller and torch's spinning OpenMP team), the median of ``n_samples`` readings.

    Returns 0 where /proc/loadavg does not exist (macOS, Windows): there every core counts as offered.
    """
    counts = []
    for i in range(n_samples):
        try:
            own_before = _own_running()
            with open("/proc/loadavg") as f:
                running = int(f.read().split()[3].split("/")[0])
            own = max(own_before or 1, _own_running() or 1)  # this process's threads, read around the system's count
        except (OSError, ValueError, IndexError):
            return 0
        counts.append(max(0, running - own))
        if i + 1 < n_samples:
            time.sleep(interval_s)
    return int(statistics.median(counts))


def offered_threads():
    """The cores the machine offers now: torch's start-up thread count minus the cores busy with other work (>= 1)."""
    cores = os.cpu_count() or 1
    idle = cores - busy_cores()
    return max(1, min(_STARTUP_THREADS, idle))


_ENCLOSING = []  # thread counts of the limit() blocks being run, innermost last


def resolve(threads=None):
    """The thread count for a call: ``threads``, else the enclosing :func:`limit` block's count (so that lvmlib's
    calls inside ``vae.one_cpu_thread`` or inside one another keep it, and the machine is sampled once), else
    ``LVMLIB_THREADS``, else :func:`offered_threads`."""
    if threads is not None:
        return _parse(threads, "threads")
    if _ENCLOSING:
        return _ENCLOSING[-1]
    if os.environ.get("LVMLIB_THREADS", "").strip():
        return _parse(os.environ["LVMLIB_THREADS"], "LVMLIB_THREADS")
    return offered_threads()


@contextlib.contextmanager
def limit(threads=None):
    """Run the block with ``resolve(threads)`` threads for torch and for every BLAS/OpenMP pool (threadpoolctl).

    The caller's settings come back afterwards, also when the block raises. Yields the thread count used.
    """
    n = resolve(threads)
    before = torch.get_num_threads()
    _ENCLOSING.append(n)
    try:
        with threadpool_limits(limits=n):
            torch.set_num_threads(n)
            yield n
    finally:
        _ENCLOSING.pop()
        torch.set_num_threads(before)


def uses_threads(function):
    """Decorator: ``function`` runs under :func:`limit` and gains a keyword argument ``threads=None``."""

    @functools.wraps(function)
    def wrapper(*args, threads=None, **kwargs):
        with limit(threads):
            return function(*args, **kwargs)

    signature = inspect.signature(function)
    extra = inspect.Parameter("threads", inspect.Parameter.KEYWORD_ONLY, default=None)
    params = list(signature.parameters.values())
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        wrapper.__signature__ = signature.replace(parameters=[*params, extra])
    wrapper.__doc__ = (function.__doc__ or "") + (
        "\n\n    threads : CPU threads for torch and BLAS during the call (default: ``LVMLIB_THREADS``, else the "
        "cores the machine offers; see lvmlib._threads).")
    return wrapper
