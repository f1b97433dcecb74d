"""Reuse and hosted-use files (issue 20): citation metadata, the content licence, Binder, the seed sweep's seeds."""

import datetime
import sys
from pathlib import Path

import nbformat
import pytest

yaml = pytest.importorskip("yaml")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import seed_sweep  # noqa: E402


def test_citation_cff_names_the_contributors_as_an_entity():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert cff["authors"] == [{"name": "The latent variable models course contributors"}]
    assert {"message", "title"} <= set(cff) and set(cff["license"]) == {"MIT", "CC-BY-4.0"}
    assert datetime.date.fromisoformat(str(cff["date-released"]))


def test_content_licence_names_cc_by_4_and_its_url():
    text = (ROOT / "LICENSE-CONTENT.md").read_text()
    assert "CC BY 4.0" in text and "https://creativecommons.org/licenses/by/4.0/" in text
    assert "How to attribute" in text


def test_binder_installs_the_cpu_torch_and_the_course_extra():
    req = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in req and "-e .[course]" in req
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


@pytest.mark.parametrize("chapter", ["01", "02", "03", "04", "05", "06"])
def test_the_seed_sweep_finds_each_chapters_seed(chapter):
    nb = nbformat.read(seed_sweep.notebook_of(chapter), as_version=4)
    swept = seed_sweep.with_seed(nb, 987654)
    changed = [(a.source, b.source) for a, b in zip(nb.cells, swept.cells, strict=True) if a.source != b.source]
    assert any("987654" in new for _, new in changed)
    assert sum(new.count("987654") for _, new in changed) == 1
    assert all("987654" in new or "%matplotlib agg" in new for _, new in changed)  # nothing else is touched


def test_the_seed_sweep_refuses_a_notebook_without_a_seed():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    with pytest.raises(ValueError, match="no seed constant"):
        seed_sweep.with_seed(nb, 1)
