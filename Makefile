# The course's two commands:
#   make course   set up .venv if needed, then open the course in JupyterLab (localhost, with a token)
#   make test     set up .venv if needed, then run every test: lvmlib, notebooks (nbval) and the browser suite
# Also: make notebooks (re-execute every notebook in place, refresh the README figures),
#       make bench (benchmarks -> bench/RESULTS.md), make lint

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# tools/course.py does the work (it also runs without make, on Windows too); TORCH, if set, overrides the
# PyTorch requirement, e.g. make course TORCH="torch --index-url https://download.pytorch.org/whl/cpu"
export TORCH
# Fixed thread counts: the last digits of BLAS and torch results depend on them.
THREADS := OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 LVMLIB_THREADS=1 PYDEVD_DISABLE_FILE_VALIDATION=1

.PHONY: setup course test lint notebooks bench site clean grading figures seed-sweep

setup:
	$(PYTHON) tools/course.py setup

course:
	$(PYTHON) tools/course.py lab

test:
	$(PYTHON) tools/course.py test $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check lvmlib tests notebooks tools bench

notebooks: setup
	$(THREADS) $(PY) tools/execute_notebooks.py notebooks/*.ipynb
	$(PY) tools/readme_figures.py

site: setup
	$(PY) tools/build_site.py

bench: setup  # default thread counts: the benchmark compares lvmlib and plain PyTorch at each one's default
	PYDEVD_DISABLE_FILE_VALIDATION=1 $(PY) bench/run.py

# Graded versions of the exercises: student notebooks and Otter-Grader bundles -> build/grading/
grading: setup
	$(PY) tools/grading/build.py

# Every notebook figure at slide resolution (PNG at 200 dpi and SVG) -> build/figures/; notebooks untouched
figures: setup
	$(THREADS) $(PY) tools/figures.py

# The statistical asserts over 50 seeds (chapters 01-05) -> docs/seed_sweep.md
seed-sweep: setup
	$(PY) tools/seed_sweep.py --chapters 01 02 03 04 05 --seeds 50 --workers 2

clean:
	rm -rf $(VENV) .pytest_cache screenshots build dist
