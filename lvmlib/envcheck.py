"""Check that a learner's environment can run the course, and say plainly what to fix."""

import importlib
import importlib.metadata as metadata
import sys

REQUIRED = {
    "numpy": "1.26",
    "scipy": "1.11",
    "matplotlib": "3.8",
    "ipywidgets": "8.1",
    "jupyterlab_widgets": "3.0",
    "tqdm": "4.66",
    "torch": "2.2",
}


def _version_tuple(text):
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def check_environment(required=None):
    """Return a list of (package, ok, message), one per required package and one for Python itself."""
    report = [("python", sys.version_info >= (3, 10), f"Python {sys.version.split()[0]} (3.10 or newer needed)")]
    for name, minimum in (required or REQUIRED).items():
        try:
            version = metadata.version(name.replace("_", "-"))
        except metadata.PackageNotFoundError:
            fix = "widgets will show as plain text" if name == "jupyterlab_widgets" else "the course cannot run"
            report.append((name, False, f"missing ({fix}): run `make setup`, or `pip install '{name}>={minimum}'`"))
            continue
        ok = _version_tuple(version) >= _version_tuple(minimum)
        hint = "" if ok else f": too old, run `pip install -U '{name}>={minimum}'`"
        report.append((name, ok, f"{version} (>= {minimum} needed){hint}"))
    return report


def print_environment_report(required=None):
    """Print one line per check and a verdict; return True when everything is ready."""
    report = check_environment(required)
    for name, ok, message in report:
        print(f"{'ok     ' if ok else 'PROBLEM'}  {name:<20} {message}")
    ready = all(ok for _, ok, _ in report)
    verdict = "Everything the course needs is installed." if ready else "Fix the PROBLEM lines, restart the kernel."
    print("\n" + verdict)
    return ready


def module_available(name):
    """True when ``name`` can be imported (without importing it if it is already loaded)."""
    return name in sys.modules or importlib.util.find_spec(name) is not None
