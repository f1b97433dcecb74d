"""The thread setting (threads=, LVMLIB_THREADS, the offered cores) reaches torch and BLAS and is restored after."""

import inspect

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info

from lvmlib import _threads, vae


def _blas_threads():
    """Thread counts of the BLAS pools threadpoolctl sees (numpy's OpenBLAS among them), by library file."""
    return {pool["filepath"]: pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.fixture
def two_threads(monkeypatch):
    """The caller's setting, 2 threads everywhere, different from the 1 thread the calls below ask for."""
    monkeypatch.delenv("LVMLIB_THREADS", raising=False)
    before = torch.get_num_threads()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=2):
        torch.set_num_threads(2)
        yield
    torch.set_num_threads(before)


def test_blas_pools_are_visible():
    assert _blas_threads(), "numpy's BLAS must be visible to threadpoolctl, or the BLAS half of the test is void"


def test_limit_reaches_torch_and_blas_and_restores(two_threads):
    blas_before = _blas_threads()
    assert set(blas_before.values()) == {2}
    with _threads.limit(1) as n:
        assert n == 1
        assert torch.get_num_threads() == 1
        assert set(_blas_threads().values()) == {1}
    assert torch.get_num_threads() == 2
    assert _blas_threads() == blas_before


def test_restored_after_an_exception(two_threads):
    blas_before = _blas_threads()
    with pytest.raises(ZeroDivisionError):
        with _threads.limit(1):
            raise ZeroDivisionError("inside the block")
    assert torch.get_num_threads() == 2
    assert _blas_threads() == blas_before


def test_decorated_training_sees_the_parameter_and_the_environment(two_threads, monkeypatch):
    seen = []

    @vae.uses_threads
    def spy():
        seen.append((torch.get_num_threads(), set(_blas_threads().values())))
        raise RuntimeError("inside")

    with pytest.raises(RuntimeError, match="inside"):
        spy(threads=1)
    monkeypatch.setenv("LVMLIB_THREADS", "1")
    with pytest.raises(RuntimeError):
        spy()
    assert seen == [(1, {1}), (1, {1})]
    assert torch.get_num_threads() == 2 and set(_blas_threads().values()) == {2}


def test_vae_train_runs_on_the_requested_threads(two_threads, monkeypatch):
    seen = []
    step = vae.train_step

    def spy_step(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return step(*args, **kwargs)

    monkeypatch.setattr(vae, "train_step", spy_step)
    model = vae.VAE(vae.VAEConfig(d_x=4, d_z=2, d_hidden=3), vae.make_generator(0, "cpu"), device="cpu")
    x = np.random.default_rng(0).integers(0, 2, (20, 4)).astype(np.float32)
    vae.train(model, x, 1, vae.make_generator(1, "cpu"), batch_size=10, progress=False, threads=1)
    assert seen == [1, 1]
    assert torch.get_num_threads() == 2
    assert "threads" in str(inspect.signature(vae.train))


def test_default_is_the_offered_cores(two_threads, monkeypatch):
    monkeypatch.setattr(_threads, "_STARTUP_THREADS", 2)
    monkeypatch.setattr(_threads.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(_threads, "busy_cores", lambda: 0)
    assert _threads.resolve() == 2  # a quiet machine: every core
    monkeypatch.setattr(_threads, "busy_cores", lambda: 1)
    assert _threads.resolve() == 1  # one core busy with other work
    monkeypatch.setattr(_threads, "busy_cores", lambda: 12)
    assert _threads.resolve() == 1  # an oversubscribed machine: never fewer than one
    monkeypatch.setenv("LVMLIB_THREADS", "2")
    assert _threads.resolve() == 2  # the environment wins over the measurement
    assert _threads.resolve(1) == 1  # and the parameter over the environment


def test_busy_cores_reads_the_run_queue():
    busy = _threads.busy_cores()
    assert isinstance(busy, int) and busy >= 0


def test_busy_cores_does_not_count_this_process(monkeypatch):
    """torch's own spinning OpenMP threads are runnable after each operation: they are not other programs' work.

    Before this was counted, the default picked 1 thread of 2 on an idle machine right after any torch call, and
    lvmlib.vae.train ran at 0.83 of a plain loop (bench/RESULTS.md).
    """
    import io

    real_open = open

    def fake_open(path, *args, **kwargs):
        if path == "/proc/loadavg":
            return io.StringIO("0.50 0.40 0.30 3/120 4242\n")  # 3 runnable tasks on the machine
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(_threads, "open", fake_open, raising=False)
    monkeypatch.setattr(_threads, "_own_running", lambda: 3)  # all three are this process's threads
    assert _threads.busy_cores(n_samples=1) == 0
    monkeypatch.setattr(_threads, "_own_running", lambda: 1)  # only the caller: two tasks are other work
    assert _threads.busy_cores(n_samples=1) == 2


def test_own_running_counts_this_process_runnable_threads(monkeypatch):
    """The state is the field after the last ')' of /proc/self/task/<id>/stat (a thread's name may hold ')')."""
    import io

    stats = {"1": "1 (python3) R 0 1", "2": "2 (pt_main_thread) S 0 1", "3": "3 (omp) worker) R 0 1"}
    real_open = open

    def fake_open(path, *args, **kwargs):
        if path.startswith("/proc/self/task/"):
            return io.StringIO(stats[path.split("/")[4]])
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(_threads.os, "listdir", lambda path: list(stats))
    monkeypatch.setattr(_threads, "open", fake_open, raising=False)
    assert _threads._own_running() == 2


@pytest.mark.parametrize("value, error, message", [
    (0, ValueError, "threads must be a whole number of threads between 1 and 1024, got 0"),
    (2.5, ValueError, "threads must be a whole number of threads between 1 and 1024, got 2.5"),
    ("two", ValueError, "threads must be a whole number of threads between 1 and 1024, got 'two'"),
    (True, TypeError, "threads must be a whole number of threads >= 1, got True"),
])
def test_bad_thread_counts_are_refused(value, error, message):
    with pytest.raises(error, match=message):
        _threads.resolve(value)


def test_bad_environment_variable_names_itself(monkeypatch):
    monkeypatch.setenv("LVMLIB_THREADS", "many")
    with pytest.raises(ValueError, match="LVMLIB_THREADS must be a whole number .* got 'many'; leave it unset"):
        _threads.resolve()


# ---- the device switch (issue 20) -----------------------------------------------------------------------------
def test_device_defaults_to_the_cpu(monkeypatch):
    monkeypatch.delenv("LVMLIB_DEVICE", raising=False)
    assert vae.select_device() == torch.device("cpu")
    assert vae.make_generator(0).device.type == "cpu"


def test_device_from_parameter_and_environment(monkeypatch):
    monkeypatch.setenv("LVMLIB_DEVICE", "CPU")
    assert vae.select_device() == torch.device("cpu")
    monkeypatch.setenv("LVMLIB_DEVICE", "tpu")
    with pytest.raises(ValueError, match="LVMLIB_DEVICE must be one of cpu, cuda, mps, got 'tpu'"):
        vae.select_device()
    with pytest.raises(ValueError, match="LVMLIB_DEVICE must be one of"):
        vae.VAE(vae.VAEConfig(d_x=4, d_z=2))
    assert vae.select_device("cpu") == torch.device("cpu")  # the parameter wins over the environment
    with pytest.raises(ValueError, match="device must be one of cpu, cuda, mps, got 'gpu'"):
        vae.select_device("gpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_a_missing_device_says_what_exists(monkeypatch):
    monkeypatch.setenv("LVMLIB_DEVICE", "cuda")
    with pytest.raises(ValueError, match="LVMLIB_DEVICE asks for 'cuda', which this machine does not have; "
                                         "available: cpu"):
        vae.make_generator(0)


def test_lvmlib_calls_inside_a_limit_keep_its_count(two_threads, monkeypatch):
    """vae.one_cpu_thread (a limit(1) block) pins lvmlib's own decorated calls inside it too, although each would
    otherwise take the offered cores; an explicit threads= inside still wins, and the count is gone afterwards."""
    monkeypatch.delenv("LVMLIB_THREADS", raising=False)
    monkeypatch.setattr(_threads, "offered_threads", lambda: 2)
    inner = _threads.uses_threads(lambda: torch.get_num_threads())
    assert vae.one_cpu_thread(inner)() == 1
    assert vae.one_cpu_thread(lambda: inner(threads=2))() == 2
    assert inner() == 2 and _threads._ENCLOSING == []
