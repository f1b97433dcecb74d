"""The course's benchmarks, in one run: ``make bench`` (or ``python bench/run.py [--only SECTION ...]``).

Writes bench/RESULTS.md: the machine and versions, then each measurement beside its target (met / missed).
Sections: notebooks, widgets, em, vae, imports (the browser latency is read from bench/_work/browser_latency.json,
written by the browser tests, ``make test``). Not part of the tests. A section whose module has not landed yet
reports "not available yet".
"""

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_em  # noqa: E402
import bench_imports  # noqa: E402
import bench_notebooks  # noqa: E402
import bench_vae  # noqa: E402
import bench_widgets  # noqa: E402
from common import ROOT, NotAvailable, chromium_version, machine, versions  # noqa: E402

SECTIONS = ("notebooks", "widgets", "em", "vae", "imports")
RESULTS = ROOT / "bench" / "RESULTS.md"
NOTEBOOK_LIMIT_S = {"06": 90.0}  # the VAE chapter may take up to 90 s (aim 60 s); the others 60 s


def verdict(ok):
    return "met" if ok else "**missed**"


def run_section(name, fn):
    print(f"[bench] {name} ...", flush=True)
    start = time.perf_counter()
    try:
        out = fn()
    except NotAvailable as what:
        out = {"unavailable": f"not available yet ({what})"}
    except Exception as error:
        traceback.print_exc()
        out = {"unavailable": f"failed: {type(error).__name__}: {error}"}
    print(f"[bench] {name} done in {time.perf_counter() - start:.1f} s", flush=True)
    return out


def notebooks_md(rows, targets):
    lines = ["## 1. Course execution (headless, fresh kernel, full mode)", "",
             "| notebook | wall time (s) | limit (s) | |", "|---|---:|---:|---|"]
    total, ok_all = 0.0, True
    for r in rows:
        limit = NOTEBOOK_LIMIT_S.get(r["notebook"][:2], 60.0)
        if "seconds" in r:
            ok = r["seconds"] < limit
            ok_all &= ok
            total += r["seconds"]
            lines.append(f"| {r['notebook']} | {r['seconds']:.1f} | {limit:.0f} | {verdict(ok)} |")
        else:
            ok_all = False
            lines.append(f"| {r['notebook']} | {r['note']} | {limit:.0f} | **missed** |")
    lines.append(f"| **total** | **{total:.1f}** | 120 | {verdict(total < 120)} |")
    targets.append(("Whole course under 120 s", f"{total:.1f} s", total < 120 and all('seconds' in r for r in rows)))
    targets.append(("No notebook over 60 s (chapter 06: 90 s)", "see section 1", ok_all))
    return lines


def widgets_md(rows, browser, targets):
    lines = ["## 2. Interactivity", "",
             f"Kernel side: the full update path (update function, artist updates, PNG redraw) of every explorer, "
             f"over a sweep of {bench_widgets.N_SETTINGS} consecutive slider settings (one step each, bouncing at "
             "the ends).", "",
             "| chapter | explorer | slider | settings | median (ms) | p95 (ms) | < 50 ms median |",
             "|---|---|---|---:|---:|---:|---|"]
    medians = []
    for r in rows:
        if "median_ms" in r:
            ok = r["median_ms"] < 50
            medians.append((r, ok))
            release = " (on release)" if r.get("on_release") else ""
            lines.append(f"| {r['chapter']} | {r['explorer']} | {r['slider']}{release} | {r['n']} | "
                         f"{r['median_ms']:.1f} | {r['p95_ms']:.1f} | {verdict(ok)} |")
        else:
            lines.append(f"| {r['chapter']} | {r['explorer']} | {r['slider']} | | {r['note']} | | |")
    slow = [f"{r['explorer']} ({r['slider']})" for r, ok in medians if not ok]
    targets.append(("Every widget update under 50 ms median (kernel)",
                    "slowest: " + (max(medians, key=lambda m: m[0]["median_ms"])[0]["explorer"] + " "
                                   + f"{max(m[0]['median_ms'] for m in medians):.1f} ms" if medians else "n/a"),
                    medians and not slow))
    lines += ["", "Browser side: key press on a slider to the redrawn figure's `load` event in headless Chromium, "
              "recorded by the browser tests (tests/browser, run by `make test`)."]
    if browser is None:
        lines += ["", "Not available yet: run the browser tests first (`make test`), then `make bench`."]
        targets.append(("Key press to redrawn figure under 100 ms median (Chromium)", "not measured", False))
    else:
        lines += [f"Recorded {browser['recorded']}.", "",
                  "| explorer (slider) | key presses | median (ms) | p95 (ms) |", "|---|---:|---:|---:|"]
        lines += [f"| {r['explorer']} | {r['n']} | {r['median_ms']:.0f} | {r['p95_ms']:.0f} |" for r in browser["rows"]]
        lines.append(f"| **all** | **{browser['n']}** | **{browser['median_ms']:.0f}** | |")
        slow = [f"{r['explorer']}: {r['median_ms']:.0f} ms" for r in browser["rows"] if r["median_ms"] >= 100]
        targets.append(("Key press to redrawn figure under 100 ms median (Chromium)",
                        f"{browser['median_ms']:.0f} ms over {browser['n']} presses"
                        + (f" (over 100 ms alone: {'; '.join(slow)})" if slow else ""), browser["median_ms"] < 100))
    return lines


def em_md(r, targets):
    lines = ["## 3. EM: lvmlib vs scikit-learn", ""]
    if "unavailable" in r:
        targets.append(("EM time ratio vs scikit-learn <= 1.0", r["unavailable"], False))
        return lines + [r["unavailable"]]
    doc = " ".join(bench_em.__doc__.split()).replace("N_ITER", str(bench_em.N_ITER))
    lines += [doc.replace("REPEATS", str(bench_em.REPEATS)), "",
              "| | lvmlib.mixtures.fit_em | sklearn GaussianMixture |", "|---|---:|---:|",
              f"| iterations | {r['iterations'][0]} | {r['iterations'][1]} |",
              f"| time per iteration (ms) | {r['ms_per_iter_lvmlib']:.2f} | {r['ms_per_iter_sklearn']:.2f} |",
              f"| final mean log-likelihood per sample (nats) | {r['log_lik_lvmlib']:.10f} | "
              f"{r['log_lik_sklearn']:.10f} |", "",
              f"Time ratio lvmlib / sklearn: **{r['ratio']:.2f}**. |difference in log-likelihood| = "
              f"{r['log_lik_diff']:.2e} nats per sample; largest difference in a mean: {r['max_abs_mean_diff']:.1e}. "
              "(sklearn's time includes its initialisation and final E-step, about one extra iteration's work.)"]
    targets.append(("EM time ratio vs scikit-learn <= 1.0", f"{r['ratio']:.2f}", r["ratio"] <= 1.0))
    targets.append(("EM log-likelihoods equal to 1e-6 per sample", f"{r['log_lik_diff']:.1e}",
                    r["log_lik_diff"] <= 1e-6))
    return lines


def vae_md(r, targets):
    lines = ["## 4. VAE: lvmlib vs a plain PyTorch loop; importance-sampling estimate", ""]
    if "unavailable" in r:
        targets.append(("VAE throughput ratio vs plain loop >= 0.95", r["unavailable"], False))
        targets.append(("IS estimate k = 5,000 on 1,000 images under 15 s", r["unavailable"], False))
        return lines + [r["unavailable"]]
    lines += [" ".join(bench_vae.__doc__.split()).replace("ROUNDS", str(bench_vae.ROUNDS)), "",
              f"| {r['n_train']} images of {r['d_x']} pixels | lvmlib.vae.train ({r['threads']} thread) | "
              f"plain loop ({r['threads']} thread) | plain loop (2 threads) |", "|---|---:|---:|---:|",
              f"| best epoch (images/s) | {r['lvmlib_images_per_s']:,.0f} | {r['plain_images_per_s']:,.0f} | "
              f"{r['plain2_images_per_s']:,.0f} |",
              f"| median epoch (images/s) | {r['lvmlib_median_images_per_s']:,.0f} | "
              f"{r['plain_median_images_per_s']:,.0f} | {r['plain2_median_images_per_s']:,.0f} |", "",
              f"Throughput ratio lvmlib / plain at the same thread count (best epochs): **{r['ratio']:.2f}**; "
              f"against the plain loop on 2 threads: {r['lvmlib_images_per_s'] / r['plain2_images_per_s']:.2f}.", "",
              f"Importance-sampling estimate of log p(x), k = {r['is_k']:,}, {r['is_n']:,} images: "
              f"**{r['is_seconds']:.1f} s** for the 28x28 MNIST model (mean estimate {r['is_mean_log_px']:.2f} nats "
              f"per image, after a few epochs), **{r['is_seconds_digits']:.1f} s** for the 8x8 digits model."]
    targets.append(("VAE throughput ratio vs plain loop >= 0.95", f"{r['ratio']:.2f}", r["ratio"] >= 0.95))
    targets.append(("IS estimate k = 5,000 on 1,000 images under 15 s",
                    f"{r['is_seconds']:.1f} s (MNIST 784-d); {r['is_seconds_digits']:.1f} s (8x8 digits)",
                    r["is_seconds"] < 15))
    return lines


def imports_md(rows, targets):
    lines = ["## 5. Import time (fresh interpreter, best of 5, measured around the import)", "",
             "| import | time (s) | torch loaded |", "|---|---:|---|"]
    for r in rows:
        if "seconds" in r:
            lines.append(f"| {r['what']} | {r['seconds']:.3f} | {'yes' if r['torch'] else 'no'} |")
        else:
            lines.append(f"| {r['what']} | {r['note']} | |")
    base = next((r for r in rows if r["what"] == "import lvmlib" and "seconds" in r), None)
    full = next((r for r in rows if "without torch" in r["what"] and "seconds" in r), None)
    if base:
        ok = base["seconds"] < 0.5 and (full is None or (full["seconds"] < 0.5 and not full["torch"]))
        shown = f"{base['seconds']:.3f} s" + (f" ({full['seconds']:.3f} s with every torch-free module)"
                                             if full else "")
        targets.append(("import lvmlib under 0.5 s", shown, ok))
    return lines


def why_missed(missed, results):
    """A sentence or two per missed target, computed from the measurements."""
    notes = []
    rows = results.get("widgets") if isinstance(results.get("widgets"), list) else []
    if any(m.startswith("Every widget update") for m in missed):
        slow = [r for r in rows if r.get("median_ms", 0) >= 50]
        for r in slow:
            how = ("it already redraws only on release (continuous_update=False), as COURSE.md prescribes for "
                   "updates over ~50 ms, so dragging stays smooth" if r.get("on_release") else
                   "it updates while dragging, so it lags behind the hand")
            notes.append(f"- {r['explorer']} ({r['slider']}): {r['median_ms']:.0f} ms median; {how}. What would "
                         "close it: cache what does not depend on the slider and blit only the changed artists "
                         "(the EM stepper does this and needs ~12 ms).")
    vae = results.get("vae", {})
    if any(m.startswith("IS estimate") for m in missed) and "is_seconds" in vae:
        d_h, d_z, d_x = 256, 2, vae["d_x"]
        flops = vae["is_k"] * vae["is_n"] * 2 * (d_z * d_h + d_h * d_x)  # the decoder's two matrix products
        notes.append(f"- IS estimate: k x n = {vae['is_k'] * vae['is_n']:,} decoder passes of the 784-pixel "
                     f"model are {flops / 1e12:.1f} TFLOP, done at {flops / vae['is_seconds'] / 1e9:.0f} GFLOP/s: "
                     "the estimate is bound by arithmetic, not by overhead, so 15 s is out of reach on 2 cores "
                     "for this model. Chapter 06 computes its L_k on the 8x8 digits model, where the same "
                     f"k = 5,000 on 1,000 images takes {vae['is_seconds_digits']:.1f} s. What would close it for "
                     "MNIST: fewer images, a smaller k, or a GPU.")
    return notes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS, help="run only these sections")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    info = machine()
    start = time.perf_counter()
    results = {}
    fns = {"notebooks": bench_notebooks.run, "widgets": bench_widgets.run, "em": bench_em.run,
           "vae": bench_vae.run, "imports": bench_imports.run}
    for name in SECTIONS:
        if name in args.only:
            results[name] = run_section(name, fns[name])

    targets, body = [], []
    if "notebooks" in results:
        body += notebooks_md(results["notebooks"] if isinstance(results["notebooks"], list) else [], targets)
    if "widgets" in results:
        rows = results["widgets"] if isinstance(results["widgets"], list) else []
        body += [""] + widgets_md(rows, bench_widgets.browser_latency(), targets)
    if "em" in results:
        body += [""] + em_md(results["em"], targets)
    if "vae" in results:
        body += [""] + vae_md(results["vae"], targets)
    if "imports" in results:
        body += [""] + imports_md(results["imports"] if isinstance(results["imports"], list) else [], targets)

    vers = versions("numpy", "scipy", "matplotlib", "ipywidgets", "torch", "scikit-learn", "jupyterlab",
                    "playwright", "nbclient")
    head = ["# Benchmark results", "",
            "Written by `make bench` (bench/run.py). Absolute times depend on the machine and on what else runs "
            "on it; the ratios against scikit-learn and plain PyTorch are measured side by side in the same run.", "",
            "## Machine", ""]
    head += [f"- {k}: {v}" for k, v in info.items()]
    head += [f"- versions: {', '.join(f'{k} {v}' for k, v in vers.items())}, chromium {chromium_version()}",
             f"- benchmark wall time: {time.perf_counter() - start:.0f} s", "",
             "## Targets (2-core CPU)", "", "| target | measured | |", "|---|---|---|"]
    head += [f"| {name} | {shown} | {verdict(bool(ok))} |" for name, shown, ok in targets]
    missed = [name for name, _, ok in targets if not ok]
    head += ["", f"{len(targets) - len(missed)} of {len(targets)} targets met."
             + (f" Missed: {'; '.join(missed)}." if missed else ""), ""]
    notes = why_missed(missed, results)
    if notes:
        head += ["### Why the missed targets are missed, and what would close them", ""] + notes + [""]
    args.output.write_text("\n".join(head + body) + "\n")
    print(f"[bench] wrote {args.output}")
    for name, shown, ok in targets:
        print(f"  {'ok    ' if ok else 'MISSED'} {name}: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
