"""environment.yml (conda, Binder) must list exactly pyproject's dependencies and install the project itself."""

import re
import subprocess
import sys
import time
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def _pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return set(project["dependencies"]).union(*(set(extras[name]) for name in ("course", "test", "site")))


def _environment_pip_requirements():
    text = (ROOT / "environment.yml").read_text()
    pip_block = text.split("- pip:", 1)[1]
    entries = [line.strip()[2:].strip() for line in pip_block.splitlines() if line.strip().startswith("- ")]
    return {e for e in entries if not e.startswith("-e")}, [e for e in entries if e.startswith("-e")]


def test_environment_yml_and_pyproject_list_the_same_packages():
    requirements, editable = _environment_pip_requirements()
    assert requirements == _pyproject_requirements()
    assert editable == ['-e ".[course,test,site]"']


def test_the_library_itself_does_not_require_jupyterlab():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(r.startswith("jupyterlab") for r in project["dependencies"])


def test_environment_yml_pins_the_python_version_the_course_is_tested_on():
    assert re.search(r"^\s*- python=3\.11\s*$", (ROOT / "environment.yml").read_text(), re.MULTILINE)


def test_torch_requirement_admits_the_cpu_wheel_used_in_ci():
    torch_req = next(r for r in _pyproject_requirements() if r.startswith("torch"))
    assert torch_req == "torch>=2.2"


def test_importing_lvmlib_does_not_import_torch_or_pyplot():
    code = "import sys, lvmlib, lvmlib.examples, lvmlib.data, lvmlib.exercises; " \
           "print('torch' in sys.modules, 'matplotlib.pyplot' in sys.modules)"
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"], out
    assert time.perf_counter() - start < 30  # a hang guard, not a benchmark (see bench/ for import times)
