"""Build hook: copy the shipped datasets and checkpoints from data/ into the package (lvmlib/_data) of a wheel.

data/ stays their documented source (data/README.md); an editable install reads them from there.
Everything else about the build is declared in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("*.csv", "*.npz", "*.pt")


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        source = Path(__file__).resolve().parent / "data"
        target = Path(self.build_lib) / "lvmlib" / "_data"
        shutil.rmtree(target, ignore_errors=True)  # never ship a stale copy left in build/ by an earlier build
        target.mkdir(parents=True)
        for pattern in SHIPPED:
            for path in sorted(source.glob(pattern)):
                shutil.copy2(path, target / path.name)


setup(cmdclass={"build_py": BuildPyWithData})
