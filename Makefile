# The course's two commands:
#   make course   set up .venv if needed, then open the course in JupyterLab (localhost, with a token)
#   make test     set up .venv if needed, then run every test: lvmlib, notebooks (nbval) and the browser suite
# Also: make notebooks (re-execute every notebook in place, refresh the README figures),
#       make bench (benchmarks -> bench/RESULTS.md), make lint

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# The CPU build of PyTorch is installed first so that pip does not pull a multi-GB CUDA build.
# Elsewhere, e.g.: make course TORCH="torch --index-url https://download.pytorch.org/whl/cpu"
TORCH  ?= torch==2.13.0
# Fixed thread counts: the last digits of BLAS and torch results depend on them.
THREADS := OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 PYDEVD_DISABLE_FILE_VALIDATION=1
STAMP  := $(VENV)/.installed

.PHONY: setup course test lint notebooks bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $@

course: setup
	$(THREADS) $(VENV)/bin/jupyter lab --ip=127.0.0.1 --ServerApp.root_dir=notebooks \
		$$( [ "$$(id -u)" = 0 ] && echo --allow-root ) notebooks/00_start_here.ipynb

test: setup
	$(PY) tools/ensure_browser.py
	$(THREADS) $(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check lvmlib tests notebooks tools bench

notebooks: setup
	$(THREADS) $(PY) tools/execute_notebooks.py notebooks/*.ipynb
	$(PY) tools/readme_figures.py

bench: setup
	$(THREADS) $(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache screenshots
