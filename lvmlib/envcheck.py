"""Check that a learner's environment can run the course, and say plainly what to fix."""

import importlib.metadata as metadata
import re
import sys

# Besides lvmlib's own requirements (read from its installed metadata, i.e. pyproject.toml), the JupyterLab
# extension that draws widgets: without it sliders show up as plain text.
EXTRA = {"jupyterlab_widgets": "3.0"}
FALLBACK = {"numpy": "2.0", "scipy": "1.11", "matplotlib": "3.8", "ipywidgets": "8.1", "tqdm": "4.66", "torch": "2.2"}


def course_requirements():
    """{package: minimum version} for the course: lvmlib's runtime requirements plus the widget extension."""
    try:
        lines = metadata.requires("lvmlib") or []
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return FALLBACK | EXTRA
    found = {}
    for line in lines:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", line.strip())
        if match:  # extras (``; extra == "test"``) do not match and are skipped
            found[match.group(1)] = match.group(2)
    return found | EXTRA


def _version_tuple(text):
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _check_required(required):
    """``required`` as a {package name: minimum version like "2.0"} dict, or a ValueError/TypeError saying why."""
    if not isinstance(required, dict):
        raise TypeError(f"required must be a dict {{package: minimum version}}, e.g. {{'numpy': '2.0'}}, "
                        f"got {type(required).__name__}.")
    for name, minimum in required.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError(f"required has a bad package name {name!r}; use names like 'numpy'.")
        if not isinstance(minimum, str) or not re.fullmatch(r"[0-9]+(\.[0-9]+)*", minimum):
            raise ValueError(f"required[{name!r}] must be a version string like '2.0', got {minimum!r}.")
    return required


def check_environment(required=None):
    """Return a list of (package, ok, message), one per required package and one for Python itself.

    required : None (the course's own requirements) or a dict {package: minimum version string}.
    """
    required = course_requirements() if required is None else _check_required(required)
    report = [("python", sys.version_info >= (3, 10), f"Python {sys.version.split()[0]} (3.10 or newer needed)")]
    for name, minimum in required.items():
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
