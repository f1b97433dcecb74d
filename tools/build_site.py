"""Build the course's website from the stored notebooks, offline: ``make site`` -> build/site/index.html.

    python tools/build_site.py [--out build/site]

Nothing is executed: each chapter page shows the outputs stored in its notebook. An explorer's saved widget state
becomes its first frame (the PNG of its figure, its readout and caption) with a note that the sliders move in
JupyterLab, so the pages need no widget manager. MathJax ships in docs/site/vendor and is copied into
the site, so the pages show their math without network, from any static host or from disk.
"""

import argparse
import base64
import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SITE_SRC = ROOT / "docs" / "site"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
STATIC_NOTE = ("<p class='lvm-static-note'><i>A static first frame of the explorer: open the chapter in "
               "JupyterLab to move its sliders.</i></p>")


def _children(state, model_id):
    """The model ids below ``model_id`` in a saved widget tree (boxes list theirs as 'IPY_MODEL_<id>')."""
    model = state.get(model_id, {})
    kids = model.get("state", {}).get("children", [])
    return [k.removeprefix("IPY_MODEL_") for k in kids if isinstance(k, str)]


def _walk(state, model_id):
    yield model_id
    for child in _children(state, model_id):
        yield from _walk(state, child)


def widget_html(state, model_id):
    """Static HTML for a displayed widget: its images (PNG) and HTML texts in order; '' if it shows nothing."""
    parts = []
    for mid in _walk(state, model_id):
        model = state.get(mid, {})
        name, values = model.get("model_name"), model.get("state", {})
        if name == "ImageModel":
            buffers = {tuple(b["path"]): b for b in model.get("buffers", [])}
            data = buffers.get(("value",), {}).get("data", "")
            if data:
                base64.b64decode(data, validate=True)  # a corrupt buffer fails the build, not the reader
                parts.append(f"<img src='data:image/png;base64,{data}' alt='explorer figure' "
                             "style='max-width:100%;height:auto'>")
        elif name in ("HTMLModel", "HTMLMathModel") and values.get("value"):
            parts.append(f"<div>{values['value']}</div>")
        elif name == "LabelModel" and values.get("value"):
            parts.append(f"<div>{html.escape(values['value'])}</div>")
    has_image = any(p.startswith("<img") for p in parts)
    return "".join(parts) + STATIC_NOTE if has_image else ""


def staticize(nb):
    """Replace widget views in ``nb`` by static HTML from the saved state; drop views that show nothing
    (closed progress bars). Returns how many explorers became pictures."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    pictures = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data:
                static = widget_html(state, data[WIDGET_VIEW]["model_id"])
                if not static:
                    continue
                pictures += 1
                out = nbformat.v4.new_output("display_data", data={"text/html": static})
            kept.append(out)
        cell.outputs = kept
    nb.metadata.pop("widgets", None)
    return pictures


def readme_body():
    """The README without its title (the site's home page has its own), with links pointing into the site."""
    text = (ROOT / "README.md").read_text()
    text = text.split("\n", 1)[1] if text.startswith("# ") else text
    text = text.replace("](notebooks/", "](").replace('src="docs/figures/', 'src="_static/figures/')
    text = re.sub(r"\]\((docs/)?summary\.md\)", "](summary.md)", text)
    # Links to repository files that are not pages of the site (LICENSE, data/README.md ...) keep their text only.
    return re.sub(r"\[([^\]]+)\]\((?!https?://|#|summary\.md|[0-9]{2}_[a-z0-9_]+\.ipynb)[^)]+\)", r"\1", text)


def stage(staging):
    """Write the Sphinx source folder: config, home page, summary, chapters (with static explorers), assets."""
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "_static").mkdir(parents=True)
    for name in ("conf.py", "favicon.svg"):
        shutil.copy(SITE_SRC / name, staging / name)
    chapters = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    index = (SITE_SRC / "index.md").read_text().replace("CHAPTERS", "\n".join(p.stem for p in chapters))
    (staging / "index.md").write_text(index)
    (staging / "readme_body.md").write_text(readme_body())
    summary = (ROOT / "docs" / "summary.md").read_text().replace("](../notebooks/", "](")
    (staging / "summary.md").write_text(summary)
    shutil.copytree(ROOT / "docs" / "figures", staging / "_static" / "figures")
    shutil.copytree(SITE_SRC / "vendor" / "mathjax", staging / "_static" / "mathjax")
    pictures = 0
    for path in chapters:
        nb = nbformat.read(path, as_version=4)
        pictures += staticize(nb)
        for cell in nb.cells:  # pictures the chapters show from docs/figures live in the site's _static/figures
            if cell.cell_type == "markdown":
                cell.source = cell.source.replace("../docs/figures/", "_static/figures/")
        nbformat.write(nb, staging / path.name)
    return chapters, pictures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "site"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    staging = out.parent / (out.name + "-src")
    chapters, pictures = stage(staging)
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "--keep-going", str(staging), str(out)]
    if subprocess.run(cmd).returncode != 0:
        sys.exit("sphinx-build failed (see above)")
    (out / ".nojekyll").touch()  # GitHub Pages: serve _static as is
    print(f"site: {len(chapters)} chapters, {pictures} explorers as first frames -> {out / 'index.html'}")


if __name__ == "__main__":
    main()
