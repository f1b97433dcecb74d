"""Move nbval's comment markers (``# NBVAL_CHECK_OUTPUT`` ...) out of the cell source into cell tags.

    python tools/nbval_tags.py notebooks/01_latent_variables.ipynb [more.ipynb ...]

nbval reads the tags ``nbval-check-output``, ``nbval-ignore-output``, ``nbval-skip`` and
``nbval-raises-exception`` exactly as it reads the comments, so the learner sees clean code and the tests check
the same cells. Idempotent: a notebook without markers is left as it is.
"""

import sys

import nbformat

MARKERS = {
    "NBVAL_CHECK_OUTPUT": "nbval-check-output",
    "NBVAL_IGNORE_OUTPUT": "nbval-ignore-output",
    "NBVAL_SKIP": "nbval-skip",
    "NBVAL_RAISES_EXCEPTION": "nbval-raises-exception",
}


def move_markers(nb):
    """Strip marker comment lines from code cells and add the matching tags; return how many were moved."""
    moved = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for line in cell.source.splitlines():
            comment = line.strip().lstrip("#").strip() if line.strip().startswith("#") else None
            if comment in MARKERS:
                tags = cell.metadata.setdefault("tags", [])
                if MARKERS[comment] not in tags:
                    tags.append(MARKERS[comment])
                moved += 1
            else:
                kept.append(line)
        cell.source = "\n".join(kept)
    return moved


if __name__ == "__main__":
    for path in sys.argv[1:]:
        nb = nbformat.read(path, as_version=4)
        n = move_markers(nb)
        if n:
            nbformat.write(nb, path)
        print(f"{path}: {n} marker(s) moved to tags")
