"""tools/course.py, the cross-platform entry point: its decisions for every platform, tested on this machine."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path, PureWindowsPath

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("course", ROOT / "tools" / "course.py")
course = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(course)


def test_old_pythons_get_a_message_naming_what_to_install():
    assert course.python_problem((3, 10, 0), "Linux") is None
    assert course.python_problem((3, 13, 1), "Windows") is None
    mac = course.python_problem((3, 9, 6), "Darwin")
    assert "3.10 or newer" in mac and "3.9.6" in mac and "Xcode" in mac
    assert "py -3.11" in course.python_problem((3, 8, 10), "Windows")
    assert "apt-get" in course.python_problem((3, 9, 2), "Linux")


def test_an_old_python_is_refused_before_anything_runs():
    code = ("import runpy, sys; sys.version_info = (3, 9, 6, 'final', 0); sys.argv = ['course.py', 'setup'];"
            f"runpy.run_path({str(ROOT / 'tools' / 'course.py')!r}, run_name='__main__')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 1 and "needs Python 3.10" in out.stderr


def test_the_course_file_parses_on_old_pythons():
    import ast

    ast.parse((ROOT / "tools" / "course.py").read_text(), feature_version=(3, 6))


def test_venv_paths_follow_the_platform():
    assert course.venv_python(Path(".venv"), "Linux") == Path(".venv/bin/python")
    assert course.venv_python(Path(".venv"), "Darwin") == Path(".venv/bin/python")
    windows = course.venv_python(Path(".venv"), "Windows")
    assert PureWindowsPath(windows).parts[-2:] == ("Scripts", "python.exe")


def test_torch_defaults_to_cpu_wheels_and_falls_back_with_a_message():
    args, msg = course.torch_requirement("Linux", "x86_64", "", index_reachable=True)
    assert args == ["torch==2.13.0", "--index-url", course.CPU_INDEX] and msg is None
    args, msg = course.torch_requirement("Linux", "x86_64", "", index_reachable=False)
    assert args == ["torch==2.13.0"] and "not reachable" in msg and "TORCH" in msg
    assert course.torch_requirement("Darwin", "arm64", "", False) == (["torch==2.13.0"], None)
    assert course.torch_requirement("Windows", "AMD64", "", False) == (["torch==2.13.0"], None)
    args, msg = course.torch_requirement("Linux", "x86_64", "torch --index-url https://x/cu124", True)
    assert args == ["torch", "--index-url", "https://x/cu124"] and msg is None


def test_reachable_answers_false_for_a_closed_port_quickly():
    assert course.reachable("http://127.0.0.1:9/", timeout=2) is False


def test_lab_command_is_local_with_allow_root_only_as_root():
    cmd = course.lab_command(Path("py"), Path("/r"), is_root=False)
    assert "--ip=127.0.0.1" in cmd and "--allow-root" not in cmd
    assert course.lab_command(Path("py"), Path("/r"), is_root=True)[-1] == "--allow-root"
    opened = Path(cmd[5])  # the first chapter, as an absolute path: JupyterLab resolves it from the working dir
    assert opened.is_absolute() and opened == Path("/r/notebooks/00_start_here.ipynb")


def test_news_popups_are_off_in_the_course_environment_only():
    path = course.lab_settings_file(Path("/some/venv"))
    assert path == Path("/some/venv/share/jupyter/lab/settings/overrides.json")
    settings = course.LAB_OVERRIDES["@jupyterlab/apputils-extension:notification"]
    assert settings == {"fetchNews": "false", "checkForUpdates": False}
    installed = course.lab_settings_file(Path(sys.prefix))
    if installed.exists():  # written by `python tools/course.py setup` into this environment
        assert json.loads(installed.read_text()) == course.LAB_OVERRIDES


def test_usage_is_printed_for_an_unknown_command():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "course.py"), "frobnicate"], capture_output=True,
                         text=True)
    assert out.returncode == 1 and "python tools/course.py lab" in out.stderr
