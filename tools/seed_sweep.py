"""Run chapters with their seed replaced, over many seeds, and record which assert cells fail.

    python tools/seed_sweep.py --chapters 01 02 03 04 05 --seeds 50 --workers 2 [--budget S] [--out FILE]

Each chapter sets its one seed in its import cell, as ``rng = np.random.default_rng(<n>)`` (or a ``SEED = <n>``
constant feeding it, chapter 06). A run replaces that number by the sweep's seed (1000 + j for j = 0, 1, ...: the
stored notebooks' own seeds are not among them), executes the whole notebook top to bottom in a fresh kernel in
its own subprocess (``nice``d; errors allowed, so one failing cell does not hide the next), and records every cell
that raised: AssertionError in a cell with an ``assert`` is a failed claim, anything else an error. Figures are not
rendered (``%matplotlib inline`` becomes ``%matplotlib agg`` in the copy): the notebooks on disk are never changed.
Runs go round-robin (seed j of every chapter before seed j + 1), so with ``--budget`` (seconds) every chapter gets
the same number of seeds when time runs out. The table goes to ``--out`` (Markdown).
"""

import argparse
import concurrent.futures as cf
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_PATTERNS = [re.compile(r"^(SEED\s*=\s*)(\d+)", re.MULTILINE),
                 re.compile(r"^(rng\s*=\s*np\.random\.default_rng\()(\d+)(\))", re.MULTILINE)]
FIRST_SEED = 1000


def notebook_of(chapter):
    (path,) = sorted((ROOT / "notebooks").glob(f"{chapter}_*.ipynb"))
    return path


def with_seed(nb, seed):
    """A copy of ``nb`` (nbformat node) with the chapter's seed constant set to ``seed``; raises if none is found."""
    import copy

    nb = copy.deepcopy(nb)
    for pattern in SEED_PATTERNS:
        for cell in nb.cells:
            if cell.cell_type == "code" and pattern.search(cell.source):
                cell.source = pattern.sub(lambda m: m.group(1) + str(seed) + (m.group(3) if m.lastindex == 3 else ""),
                                          cell.source, count=1)
                for c in nb.cells:
                    if c.cell_type == "code":
                        c.source = c.source.replace("%matplotlib inline", "%matplotlib agg")
                return nb
    raise ValueError("no seed constant found (rng = np.random.default_rng(<n>) or SEED = <n>)")


def run_one(chapter, seed, timeout=900):
    """Execute chapter ``chapter`` with ``seed`` in this process; return a JSON-able record."""
    import nbformat
    from nbclient import NotebookClient

    path = notebook_of(chapter)
    nb = with_seed(nbformat.read(path, as_version=4), seed)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    failures, errors = [], []
    code_index = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        code_index += 1
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                first = (out.get("evalue") or "").splitlines()[:1]
                item = {"cell": i, "code_cell": code_index, "ename": out["ename"], "evalue": " ".join(first)[:160]}
                (failures if out["ename"] == "AssertionError" and "assert" in cell.source else errors).append(item)
    return {"chapter": chapter, "seed": seed, "seconds": round(time.perf_counter() - start, 1),
            "failures": failures, "errors": errors}


def run_in_subprocess(chapter, seed):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    cmd = ["nice", "-n", "10", sys.executable, __file__, "--one", chapter, str(seed)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"chapter": chapter, "seed": seed, "seconds": None, "failures": [],
                "errors": [{"cell": None, "ename": "RunFailed", "evalue": proc.stderr[-300:]}]}


def sweep(chapters, n_seeds, workers, budget=None, log=None):
    jobs = [(ch, FIRST_SEED + j) for j in range(n_seeds) for ch in chapters]
    start = time.perf_counter()
    records = []
    with cf.ThreadPoolExecutor(workers) as pool:
        pending, queue = set(), list(jobs)
        while queue or pending:
            while queue and len(pending) < workers and (budget is None or time.perf_counter() - start < budget):
                ch, seed = queue.pop(0)
                pending.add(pool.submit(run_in_subprocess, ch, seed))
            if not pending:
                break
            done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                rec = fut.result()
                records.append(rec)
                if log:
                    with open(log, "a") as f:
                        f.write(json.dumps(rec) + "\n")
                print(f"ch {rec['chapter']} seed {rec['seed']}: {rec['seconds']} s, {len(rec['failures'])} failed "
                      f"asserts, {len(rec['errors'])} errors", flush=True)
    return records, time.perf_counter() - start


def table(records, wall, workers, note=""):
    lines = ["# Seed sweep: the chapters' asserts over many seeds", "",
             "Generated by `python tools/seed_sweep.py` (see its docstring for the method): each chapter executed top "
             "to bottom in a fresh kernel with its seed constant replaced by 1000, 1001, ...; a *failed assert* is an "
             "AssertionError raised by a cell containing an `assert`, an *error* any other exception.", ""]
    if note:
        lines += [note, ""]
    lines += ["| chapter | seeds run | runs with a failed assert | failed asserts (cell: count) | runs with another "
              "error | mean s / run |", "|---|---|---|---|---|---|"]
    for ch in sorted({r["chapter"] for r in records}):
        rs = [r for r in records if r["chapter"] == ch]
        cells = {}
        for r in rs:
            for f in r["failures"]:
                cells[f["cell"]] = cells.get(f["cell"], 0) + 1
        secs = [r["seconds"] for r in rs if r["seconds"] is not None]
        lines.append(f"| {ch} | {len(rs)} | {sum(bool(r['failures']) for r in rs)} | "
                     f"{', '.join(f'{c}: {n}' for c, n in sorted(cells.items())) or 'none'} | "
                     f"{sum(bool(r['errors']) for r in rs)} | {sum(secs) / max(len(secs), 1):.0f} |")
    lines += ["", f"Wall time {wall / 60:.1f} min with {workers} workers (`nice`, one thread each) on a 2-core machine "
              "shared with other jobs: pessimistic.", ""]
    details = [f"- chapter {r['chapter']}, seed {r['seed']}: " + "; ".join(
        f"cell {e['cell']} {e['ename']}: {e['evalue']}" for e in r["failures"] + r["errors"])
        for r in sorted(records, key=lambda r: (r["chapter"], r["seed"])) if r["failures"] or r["errors"]]
    if details:
        lines += ["## Every failure and error", "", *details, ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--one", nargs=2, metavar=("CHAPTER", "SEED"), help=argparse.SUPPRESS)
    parser.add_argument("--chapters", nargs="+", default=["01", "02", "03", "04", "05"])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--budget", type=float, default=None, help="stop starting runs after this many seconds")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "seed_sweep.md")
    parser.add_argument("--log", type=Path, default=None, help="append each run's record (JSON lines) here")
    parser.add_argument("--note", default="")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]))))
        return
    records, wall = sweep(args.chapters, args.seeds, args.workers, args.budget, args.log)
    args.out.write_text(table(records, wall, args.workers, args.note))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
