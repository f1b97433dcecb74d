import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_passes_on_library_tests_and_notebooks():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is None:
        pytest.skip("ruff is not installed in this environment; install the test extras: pip install -e '.[test]'")
    targets = [p for p in ("lvmlib", "tests", "notebooks", "tools", "bench") if (ROOT / p).exists()]
    result = subprocess.run([ruff, "check", *targets], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
