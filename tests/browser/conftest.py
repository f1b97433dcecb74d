"""Fixtures for the end-to-end browser tests: a private JupyterLab server and a headless Debian Chromium.

The server runs from this project's environment on 127.0.0.1, on a free port, with a generated token, over a
temporary copy of ``notebooks/`` (so nothing a test does can be saved over the committed notebooks), and is always
stopped at the end of the session. Chromium is the system's ``chromium`` (Debian package), driven by Playwright;
no browser is ever downloaded. Without Chromium every browser test is skipped with the reason.

Environment knobs (for development): ``LVM_BROWSER_NOTEBOOKS`` points the suite at another notebook folder.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import labpage
import pytest
from labpage import LATENCY_FILE, NOTEBOOK_DIR, ROOT

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions",
    "--disable-dev-shm-usage", "--mute-audio",
]
# Lab settings for the private server: no news or update checks (no network), no autosave, and every cell
# rendered (windowing 'none'), so that the text checks see the whole notebook (innerText is empty in cells the
# browser skips). Key presses are timed with JupyterLab's default windowing instead (labpage.windowing), as
# a learner's JupyterLab renders the page.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """A running JupyterLab: ``url(path)`` gives an authenticated address, ``root`` the served folder."""

    def __init__(self, root, port, token, proc, log_path):
        self.root, self.port, self.token, self.proc, self.log_path = root, port, token, proc, log_path
        self.base = f"http://127.0.0.1:{port}"

    def url(self, path, query=""):
        return f"{self.base}/{path.lstrip('/')}?token={self.token}" + (f"&{query}" if query else "")

    def log_tail(self, n=4000):
        return self.log_path.read_text(errors="replace")[-n:]


def _wait_for_status(server, proc, timeout=90):
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(f"{server.base}/api/status",
                                     headers={"Authorization": f"token {server.token}"})
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(request, timeout=2) as reply:
                json.load(reply)
                return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"JupyterLab did not answer /api/status within {timeout} s:\n{server.log_tail()}")


def _stop(proc):
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def chromium_executable():
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("Debian's `chromium` is not on PATH (install it with `apt-get install chromium`, "
                    "or run tools/ensure_browser.py as root); the browser tests need a real browser.")
    return path


@pytest.fixture(scope="session")
def lab(tmp_path_factory, chromium_executable):
    """JupyterLab over a temporary copy of the notebooks; stopped (process group) when the session ends."""
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "root"
    shutil.copytree(NOTEBOOK_DIR, root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    if (ROOT / "data").is_dir():
        (root / "data").symlink_to(ROOT / "data")
    settings = tmp / "settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = _free_port(), secrets.token_hex(24)
    jupyter = Path(sys.executable).parent / "jupyter"
    cmd = [
        str(jupyter), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True", f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    env = {**os.environ, "LVMLIB_QUICK": "1", "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2",
           "OPENBLAS_NUM_THREADS": "2", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "PYTHONUNBUFFERED": "1"}
    log_path = tmp / "jupyterlab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
                                start_new_session=True)
    server = LabServer(root / "notebooks", port, token, proc, log_path)
    try:
        _wait_for_status(server, proc)
        yield server
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory, chromium_executable):
    """A headless Chromium with a fresh profile, closed at the end of the session."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


def windowing_note():
    mode = labpage.default_windowing()
    if mode is None:
        return ("presses timed with every cell rendered (windowing 'none'; JupyterLab's default was not found, "
                "or it detaches cells, which the checks need)")
    return (f"presses timed with JupyterLab's default notebook windowing ('{mode}', what a learner has); the "
            "suite's other checks attach every cell ('none')")


@pytest.fixture(scope="session")
def latency_log():
    """Collects key-press-to-redrawn-figure times (ms) per explorer; written for bench/run.py at the end."""
    records = {}
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    yield records
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    if records:  # merged by explorer, so a partial run (-k) refreshes only what it measured
        LATENCY_FILE.parent.mkdir(parents=True, exist_ok=True)
        try:
            explorers = json.loads(LATENCY_FILE.read_text())["explorers"]
        except (OSError, ValueError, KeyError):
            explorers = {}
        explorers.update(records)
        LATENCY_FILE.write_text(json.dumps(
            {"recorded": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "unit": "ms",
             "load": f"1-minute load average {load_before:.2f} at the start of the browser suite, {load_after:.2f} "
                     f"at its end, on {os.cpu_count()} cores",
             "windowing": windowing_note(), "explorers": explorers}, indent=1, ensure_ascii=False))
