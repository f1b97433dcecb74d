"""The course's one entry point, on Windows, macOS and Linux alike (no make, no POSIX paths needed).

    python tools/course.py setup     create .venv (if missing) and install the course into it
    python tools/course.py lab       setup, then open the course in JupyterLab (127.0.0.1, with a token)
    python tools/course.py test      setup, then run every test (extra arguments go to pytest)

On Windows type ``py tools/course.py lab``; on macOS and Linux ``python3 tools/course.py lab``. ``make course`` and
``make test`` call this script. Set ``TORCH`` to choose the PyTorch requirement yourself, e.g.
``TORCH="torch --index-url https://download.pytorch.org/whl/cu124"``.

This file runs on the learner's own Python before anything is checked, so it keeps to syntax that Python 3.6
can parse: an older Python gets a message saying what to install, not a SyntaxError.
"""

import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
MIN_PYTHON = (3, 10)
TORCH_VERSION = "2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# Fixed thread counts for the tests: the last digits of BLAS and torch results depend on them. LVMLIB_THREADS=1 is
# the count lvmlib's training always used before it took the cores the machine offers (lvmlib/_threads.py).
TEST_ENV = {"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "LVMLIB_THREADS": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
# The course itself runs on the cores the machine offers (LVMLIB_THREADS, if the learner sets it, still applies).
LAB_ENV = {"PYDEVD_DISABLE_FILE_VALIDATION": "1"}
# JupyterLab settings for the course's own environment only (never the user's global configuration): no news
# pop-up over the chapters, no update checks (the course works offline).
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def python_problem(version_info, system):
    """None if this Python can run the course, else a message saying what to install on ``system``."""
    if tuple(version_info[:2]) >= MIN_PYTHON:
        return None
    have = ".".join(str(v) for v in version_info[:3])
    advice = {
        "Darwin": "Install Python 3.11 from https://www.python.org/downloads/macos/ (the Xcode command-line tools "
                  "ship 3.9), or `brew install python@3.11`, then run `python3.11 tools/course.py ...`.",
        "Windows": "Install Python 3.11 from https://www.python.org/downloads/windows/ or the Microsoft Store, "
                   "then run `py -3.11 tools/course.py ...`.",
    }.get(system, "Install Python 3.11 with your package manager (e.g. `sudo apt-get install python3.11 "
                  "python3.11-venv`) or from python.org, then run `python3.11 tools/course.py ...`.")
    return f"The course needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; this is Python {have}. {advice}"


def venv_python(venv, system):
    """The interpreter inside ``venv``: Scripts\\python.exe on Windows, bin/python elsewhere."""
    return Path(venv) / ("Scripts/python.exe" if system == "Windows" else "bin/python")


def torch_requirement(system, machine, override, index_reachable):
    """(pip arguments for torch, message or None). CPU wheels by default; ``override`` (the TORCH variable) wins.

    PyPI's Linux x86_64 wheel of torch is the CUDA build (several GB); PyTorch's own CPU index has the small one.
    On macOS and Windows PyPI's wheel is already CPU-only.
    """
    if override:
        return shlex.split(override), None
    spec = f"torch=={TORCH_VERSION}"
    if system != "Linux" or machine not in ("x86_64", "AMD64"):
        return [spec], None
    if index_reachable:
        return [spec, "--index-url", CPU_INDEX], None
    return [spec], (f"PyTorch's CPU index ({CPU_INDEX}) is not reachable, so torch comes from PyPI or a wheel "
                    "your pip is configured with; from PyPI on Linux that is the CUDA build (several GB). "
                    "Stop with Ctrl-C and set TORCH=... to choose another source.")


def reachable(url, timeout=5.0):
    """True if ``url`` answers within ``timeout`` seconds."""
    try:
        urllib.request.urlopen(url, timeout=timeout).close()
        return True
    except Exception:
        return False


def lab_settings_file(venv):
    """Where this environment's JupyterLab reads its setting overrides (inside ``venv``, not the user's home)."""
    return Path(venv) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def lab_command(python, root, is_root):
    """The JupyterLab command line: localhost only, a token, the course's folder, ``--allow-root`` as root."""
    notebooks = Path(root) / "notebooks"  # the file to open is resolved from the working directory: give it whole
    cmd = [str(python), "-m", "jupyterlab", "--ip=127.0.0.1", f"--ServerApp.root_dir={notebooks}",
           str(notebooks / "00_start_here.ipynb")]
    return cmd + (["--allow-root"] if is_root else [])


def _run(cmd, **kwargs):
    print("$ " + " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], **kwargs)


def _stamp_text():
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest() + " " + TORCH_VERSION


def setup():
    """Create .venv if missing and install torch (CPU by default), then the course with its test tools."""
    system = platform.system()
    python = venv_python(VENV, system)
    stamp = VENV / ".installed"
    if python.exists() and stamp.exists() and stamp.read_text() == _stamp_text():
        return python
    if not python.exists():
        if _run([sys.executable, "-m", "venv", VENV]).returncode != 0:
            sys.exit("Could not create .venv. On Debian/Ubuntu install the venv module: "
                     "`sudo apt-get install python3-venv` (or python3.11-venv).")
    _run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    has_torch = _run([python, "-c", "import torch"], capture_output=True).returncode == 0
    if not has_torch:
        override = os.environ.get("TORCH", "")
        needs_probe = not override and system == "Linux"
        args, message = torch_requirement(system, platform.machine(), override,
                                          reachable(CPU_INDEX + "/") if needs_probe else False)
        if message:
            print(message, flush=True)
        _run([python, "-m", "pip", "install", "--quiet", *args], check=True)
    _run([python, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[course,test,site]"], check=True)
    settings = lab_settings_file(VENV)
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps(LAB_OVERRIDES, indent=2))
    stamp.write_text(_stamp_text())
    return python


def lab():
    python = setup()
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return _run(lab_command(python, ROOT, is_root), env={**os.environ, **LAB_ENV}).returncode


def test(pytest_args):
    python = setup()
    _run([python, ROOT / "tools" / "ensure_browser.py"])
    return _run([python, "-m", "pytest", *pytest_args], cwd=ROOT, env={**os.environ, **TEST_ENV}).returncode


def main(argv):
    problem = python_problem(sys.version_info, platform.system())
    if problem:
        sys.exit(problem)
    if not argv or argv[0] not in ("setup", "lab", "test"):
        sys.exit(__doc__)
    if argv[0] == "setup":
        setup()
        return 0
    return lab() if argv[0] == "lab" else test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
