"""nbval's markers are cell tags, out of the learner's sight, and at least as many cells are output-checked as in
the first edition (where they were `# NBVAL_CHECK_OUTPUT` comments: 1, 8, 11, 8, 11, 13 and 3 cells)."""

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
FIRST_EDITION_CHECKED = {"00": 1, "01": 8, "02": 11, "03": 8, "04": 11, "05": 13, "06": 3}
TAGS = {"nbval-check-output", "nbval-ignore-output", "nbval-skip", "nbval-raises-exception"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_markers_are_tags_not_comments(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    comments = [c.source.splitlines()[0] for c in code if "NBVAL_" in c.source]
    assert not comments, f"{path.name}: nbval comments the learner sees: {comments[:3]} (run tools/nbval_tags.py)"
    checked = sum("nbval-check-output" in c.metadata.get("tags", []) for c in code)
    assert checked >= FIRST_EDITION_CHECKED.get(path.name[:2], 1), f"{path.name}: only {checked} output-checked cells"
    unknown = {t for c in code for t in c.metadata.get("tags", []) if t.startswith("nbval") and t not in TAGS}
    assert not unknown, f"{path.name}: tags nbval does not know: {unknown}"
