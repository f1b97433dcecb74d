"""Execute notebooks top to bottom in a fresh kernel and store their outputs and widget state in place.

    python tools/execute_notebooks.py notebooks/01_latent_variables.ipynb [more.ipynb ...]

Execution counts come out as 1..n; the widget state is saved so explorers still show without a kernel.
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path, timeout=600):
    """Run one notebook in place; return the wall time in seconds."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(Path(path).parent)}},
        store_widget_state=True,
    )
    client.execute()
    elapsed = time.perf_counter() - start
    nbformat.write(nb, path)
    return elapsed


if __name__ == "__main__":
    for p in sys.argv[1:]:
        print(f"{p}: {execute(p):.1f} s", flush=True)
