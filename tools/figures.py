"""Render every notebook figure at slide resolution into build/figures/, without touching the notebooks.

    python tools/figures.py                       # every chapter
    python tools/figures.py --chapters 02 05 --dpi 300 --out build/figures

The stored notebooks hold figures as ~90-dpi PNGs, too coarse for slides, and re-scaling them cannot add detail, so
each notebook is executed again, in memory (the file on disk is never written), with a first cell injected that
makes the inline backend emit every figure twice: a PNG at ``--dpi`` (200 by default) and an SVG. The figures are
written as ``build/figures/NN/cellCCC_K.png`` (and ``.svg``), numbered by the cell's position in the notebook; the
SVG is kept only where it is suitable for slides (below ``--max-svg-kb``, i.e. line plots and diagrams rather than
scatter clouds of thousands of points or images). An index (``index.md``) lists them with the first line of the
cell that drew them. Explorer (widget) frames are not notebook figures and are not included.
"""

import argparse
import base64
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def inject(nb, dpi):
    nb = nbformat.from_dict(nb)
    first = nbformat.v4.new_code_cell(
        "%matplotlib inline\n"
        "%config InlineBackend.figure_formats = ['png', 'svg']\n"
        f"%config InlineBackend.print_figure_kwargs = {{'bbox_inches': 'tight', 'dpi': {dpi}}}")
    nb.cells.insert(0, first)
    return nb


def render(path, out, dpi=200, max_svg_kb=1500, timeout=900):
    nb = inject(nbformat.read(path, as_version=4), dpi)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i, cell in enumerate(nb.cells[1:]):  # numbering as in the notebook on disk
        if cell.cell_type != "code":
            continue
        k = 0
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" not in data:
                continue
            k += 1
            stem = out / f"cell{i:03d}_{k}"
            stem.with_suffix(".png").write_bytes(base64.b64decode(data["image/png"]))
            svg = data.get("image/svg+xml")
            svg_ok = svg is not None and len(svg.encode()) <= max_svg_kb * 1024
            if svg_ok:
                stem.with_suffix(".svg").write_text(svg if isinstance(svg, str) else "".join(svg))
            first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
            written.append((stem.name, svg_ok, first_line[:80]))
    errors = [c for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    return written, len(errors)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chapters", nargs="*", help="two-digit chapter numbers (default: every notebook)")
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--max-svg-kb", type=int, default=1500)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "figures")
    args = parser.parse_args(argv)
    if args.dpi < 200:
        parser.error("--dpi must be at least 200 (slide resolution)")
    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.chapters:
        paths = [p for p in paths if p.name[:2] in args.chapters]
    index = [f"# Figures at {args.dpi} dpi", "", "Rendered by `make figures` (tools/figures.py).", ""]
    for path in paths:
        start = time.perf_counter()
        written, n_errors = render(path, args.out / path.name[:2], args.dpi, args.max_svg_kb)
        print(f"{path.name}: {len(written)} figures ({sum(s for _, s, _ in written)} with SVG), "
              f"{n_errors} cell errors, {time.perf_counter() - start:.0f} s", flush=True)
        index += [f"## {path.stem}", ""]
        index += [f"- `{path.name[:2]}/{n}.png`{' + `.svg`' if svg else ''}: `{line}`" for n, svg, line in written]
        index.append("")
    (args.out / "index.md").write_text("\n".join(index))


if __name__ == "__main__":
    main()
