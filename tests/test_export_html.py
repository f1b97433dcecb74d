"""Every notebook reads well without a kernel: exported to HTML from its stored outputs (as GitHub, nbviewer or a
learner's "File > Save and Export" would), with its figures embedded and its explorers' widget state saved.
"""

import re
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield from ((cell, out) for out in cell.get("outputs", []))


@pytest.fixture(scope="module")
def exporter():
    return HTMLExporter()  # the default lab template; stored outputs only, nothing is executed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_exports_to_html_with_its_figures(path, exporter):
    nb = nbformat.read(path, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code_cells and all(c.execution_count is not None for c in code_cells), \
        f"{path.name} is stored unexecuted (run tools/execute_notebooks.py on it)"
    errors = [o for _, o in outputs(nb) if o.output_type == "error"]
    assert not errors, f"{path.name} stores an error output: {errors[0].ename}: {errors[0].evalue}"

    html, _ = exporter.from_notebook_node(nb)
    n_png = sum("image/png" in o.get("data", {}) for _, o in outputs(nb))
    embedded = len(re.findall(r'<img[^>]+src="data:image/png;base64,', html))
    assert embedded >= n_png, f"{path.name}: {n_png} stored figures but {embedded} embedded in the HTML"
    assert "Traceback" not in html

    tagged = [c for c in nb.cells if "readme-figure" in c.get("metadata", {}).get("tags", [])]
    if tagged:  # the README shows this figure: it must be stored as a picture
        assert any("image/png" in o.get("data", {}) for o in tagged[0].get("outputs", [])), \
            f"{path.name}: the cell tagged readme-figure has no stored PNG"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_explorers_keep_their_widget_state(path, exporter):
    """Each displayed widget's model (and its figure, an Image widget holding PNG bytes) is saved in the notebook,
    so an HTML export or a viewer with widget support shows the explorer as it was, not a bare repr."""
    nb = nbformat.read(path, as_version=4)
    views = [o["data"][WIDGET_VIEW]["model_id"] for _, o in outputs(nb) if WIDGET_VIEW in o.get("data", {})]
    if not views:
        pytest.skip(f"{path.name} has no widgets")
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    missing = [m for m in views if m not in state]
    assert not missing, f"{path.name}: widget models {missing} are displayed but their state is not saved"
    images = [m for m in state.values() if m.get("model_name") == "ImageModel"]
    if not path.name.startswith("00"):  # every chapter has an explorer with a LiveFigure
        assert images, f"{path.name}: no explorer figure (ipywidgets.Image) in the saved widget state"
    for model in images:  # the PNG bytes travel as a base64 buffer at path ["value"]
        buffers = {tuple(b["path"]): b for b in model.get("buffers", [])}
        assert len(buffers.get(("value",), {}).get("data", "")) > 1000, f"{path.name}: an explorer figure is empty"
    html, _ = exporter.from_notebook_node(nb)
    assert WIDGET_STATE in html and all(m in html for m in views), \
        f"{path.name}: the HTML export lost the widget state"
