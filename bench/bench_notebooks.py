"""Course execution: each notebook run top to bottom, headless, in a fresh kernel (tools/execute_notebooks.py),
on a temporary copy, so the committed notebooks are never touched. Full mode: LVMLIB_QUICK is unset."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

from common import ROOT

sys.path.insert(0, str(ROOT / "tools"))


def run(progress=print):
    from execute_notebooks import execute

    os.environ.pop("LVMLIB_QUICK", None)  # the kernels inherit this environment
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "notebooks"
        shutil.copytree(ROOT / "notebooks", copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        for path in sorted(copy.glob("[0-9][0-9]_*.ipynb")):
            try:
                seconds = execute(str(path))
                rows.append({"notebook": path.name, "seconds": seconds})
            except Exception as error:  # reported in the results, not fatal
                rows.append({"notebook": path.name, "note": f"failed: {type(error).__name__}: "
                             f"{str(error).strip().splitlines()[-1][:200] if str(error).strip() else ''}"})
            progress(f"  {rows[-1]}")
    return rows
