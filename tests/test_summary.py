"""docs/summary.md, the one-page summary: every entry links to a chapter section that exists and asserts."""

import re
from pathlib import Path

import nbformat
import pytest
from myst_parser.slugs import github_slugify

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = ROOT / "docs" / "summary.md"
LINK = re.compile(r"\]\(\.\./notebooks/([0-9]{2}_[a-z0-9_]+\.ipynb)(?:#([^)]+))?\)")


def slugify(heading):
    """The anchor the website gives a heading: MyST drops inline math, then slugifies like GitHub."""
    return github_slugify(re.sub(r"\$[^$]*\$", "", heading.strip()))


def sections(nb):
    """{slug: code sources under that heading, up to the next heading of the same or a higher level}."""
    out, stack = {}, []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                m = re.match(r"^(#{1,4})\s+(.*)$", line)
                if m:
                    level = len(m.group(1))
                    stack = [(lv, s) for lv, s in stack if lv < level]
                    slug = slugify(m.group(2))
                    out.setdefault(slug, [])
                    stack.append((level, slug))
        elif cell.cell_type == "code":
            for _, slug in stack:
                out[slug].append(cell.source)
    return out


LINKS = LINK.findall(SUMMARY.read_text())


def test_the_summary_links_every_chapter():
    linked = {name[:2] for name, _ in LINKS}
    assert {"01", "02", "03", "04", "05", "06"} <= linked, linked


@pytest.mark.parametrize("name, anchor", [link for link in LINKS if link[1]])
def test_each_entry_points_at_a_section_that_asserts(name, anchor):
    path = ROOT / "notebooks" / name
    assert path.is_file(), f"{name} does not exist"
    found = sections(nbformat.read(path, as_version=4))
    assert anchor in found, f"{name} has no heading with the anchor #{anchor}; headings: {sorted(found)}"
    assert any(re.search(r"^\s*assert\b", src, re.MULTILINE) for src in found[anchor]) or \
        any(".check(" in src for src in found[anchor]), f"{name}#{anchor}: no cell in that section asserts"
