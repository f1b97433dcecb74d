"""Copy the figure of each notebook's cell tagged `readme-figure` to docs/figures/ for the README.

    python tools/readme_figures.py    # after `make notebooks`
"""

import base64
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def extract(notebook, out_dir):
    """Write the first PNG output of the tagged cell to out_dir/<notebook stem>.png; return the path or None."""
    cells = json.loads(notebook.read_text())["cells"]
    for cell in cells:
        if "readme-figure" in cell.get("metadata", {}).get("tags", []):
            for output in cell.get("outputs", []):
                png = output.get("data", {}).get("image/png")
                if png:
                    path = out_dir / f"{notebook.stem}.png"
                    path.write_bytes(base64.b64decode(png))
                    return path
    return None


if __name__ == "__main__":
    out = ROOT / "docs" / "figures"
    out.mkdir(parents=True, exist_ok=True)
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        print(nb.name, "->", extract(nb, out))
