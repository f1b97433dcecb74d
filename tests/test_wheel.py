"""lvmlib as a wheel: built from this checkout, installed without -e into a fresh environment, it loads its own
datasets and checkpoint (package data, checksummed) and runs chapter 02 from a folder outside the repository.

The fresh environment borrows the course environment's dependencies through a .pth line (a full install of
torch and the rest measured 3 min 47 s here; lvmlib itself comes from the wheel, first on the path).
"""

import json
import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"  # the files git would commit, so no build/ left over from an earlier build can leak in
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split("\n")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp / "dist"),
                    str(source)], check=True, capture_output=True)
    wheel = next((tmp / "dist").glob("lvmlib-*.whl"))
    venv.create(tmp / "env", with_pip=True)
    python = tmp / "env" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)], check=True,
                   capture_output=True)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "borrowed_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return python, env, tmp


def test_the_wheel_loads_its_data_outside_the_checkout(wheel_env):
    python, env, tmp = wheel_env
    code = ("import json, lvmlib, lvmlib.data as d; x = d.load_faithful(); "
            "print(json.dumps([lvmlib.__file__, str(d.DATA_DIR), x.shape[0], str(d.data_path('vae_digits_8x8.pt'))]))")
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env, cwd=tmp, check=True)
    where, data_dir, n, checkpoint = json.loads(out.stdout)
    assert Path(where).is_relative_to(tmp / "env") and Path(data_dir).name == "_data"
    assert n == 272 and Path(checkpoint).is_relative_to(tmp / "env")


def test_chapter_02_runs_from_a_folder_outside_the_repository(wheel_env):
    python, env, tmp = wheel_env
    work = tmp / "elsewhere"
    work.mkdir()
    shutil.copy(ROOT / "notebooks" / "02_gaussian_mixtures_em.ipynb", work / "ch02.ipynb")
    code = ("import nbformat; from nbclient import NotebookClient; nb = nbformat.read('ch02.ipynb', 4); "
            "NotebookClient(nb, timeout=300, kernel_name='python3').execute(); print('ran', len(nb.cells))")
    env = {**env, "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env, cwd=work)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("ran")
