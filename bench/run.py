"""The course's benchmarks, in one run: ``make bench`` (or ``python bench/run.py [--only SECTION ...]``).

Writes bench/RESULTS.md: the machine and versions, then each measurement beside its target (met / missed).
Sections: notebooks, widgets, em, vae, imports (the browser latency is read from bench/_work/browser_latency.json,
written by the browser tests, ``make test``). Not part of the tests. A section whose module has not landed yet
reports "not available yet".
"""

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_em  # noqa: E402
import bench_imports  # noqa: E402
import bench_notebooks  # noqa: E402
import bench_threads  # noqa: E402
import bench_vae  # noqa: E402
import bench_widgets  # noqa: E402
from common import ROOT, NotAvailable, chromium_version, load_snapshot, machine, versions  # noqa: E402

SECTIONS = ("notebooks", "widgets", "em", "threads", "vae", "imports")
RESULTS = ROOT / "bench" / "RESULTS.md"
NOTEBOOK_LIMIT_S = 60.0  # per chapter (the chapter issues)


def verdict(ok):
    return "met" if ok else "**missed**"


LOADS = {}  # section -> (snapshot before, snapshot after): the machine's load during each measurement


def load_md(name):
    """One line: the load during a section (1-minute load average before/after, runnable tasks, other work)."""
    if name not in LOADS:
        return ""
    before, after = LOADS[name]
    return (f"Load during this measurement: 1-minute load average {before['load1']:.1f} -> {after['load1']:.1f} on "
            f"{os.cpu_count()} cores (runnable/all tasks {before['running']} -> {after['running']}); other work: "
            f"{before['top']}.")


def run_section(name, fn):
    print(f"[bench] {name} ...", flush=True)
    before = load_snapshot()
    start = time.perf_counter()
    try:
        out = fn()
    except NotAvailable as what:
        out = {"unavailable": f"not available yet ({what})"}
    except Exception as error:
        traceback.print_exc()
        out = {"unavailable": f"failed: {type(error).__name__}: {error}"}
    LOADS[name] = (before, load_snapshot())
    print(f"[bench] {name} done in {time.perf_counter() - start:.1f} s", flush=True)
    return out


def notebooks_md(rows, targets):
    lines = ["## 1. Course execution (headless, fresh kernel, full mode)", "", load_md("notebooks"), "",
             "| notebook | wall time (s) | limit (s) | |", "|---|---:|---:|---|"]
    total, timed_rows = 0.0, [r for r in rows if "seconds" in r]
    for r in rows:
        if "seconds" in r:
            total += r["seconds"]
            lines.append(f"| {r['notebook']} | {r['seconds']:.1f} | {NOTEBOOK_LIMIT_S:.0f} | "
                         f"{verdict(r['seconds'] < NOTEBOOK_LIMIT_S)} |")
        else:
            lines.append(f"| {r['notebook']} | {r['note']} | {NOTEBOOK_LIMIT_S:.0f} | **missed** |")
    lines.append(f"| **total ({len(rows)} chapters)** | **{total:.1f}** | | |")
    slowest = max(timed_rows, key=lambda r: r["seconds"]) if timed_rows else None
    targets.append(("Whole course: every chapter executes, total time", f"{total:.1f} s for {len(rows)} chapters",
                    bool(rows) and len(timed_rows) == len(rows)))
    targets.append((f"Slowest chapter under {NOTEBOOK_LIMIT_S:.0f} s",
                    f"{slowest['notebook']}: {slowest['seconds']:.1f} s" if slowest else "n/a",
                    slowest is not None and slowest["seconds"] < NOTEBOOK_LIMIT_S and len(timed_rows) == len(rows)))
    return lines


def widgets_md(rows, browser, targets):
    lines = ["## 2. Interactivity", "",
             f"Kernel side: the full update path (update function, artist updates, PNG redraw) of every explorer, "
             f"over a sweep of {bench_widgets.N_SETTINGS} consecutive slider settings (one step each, bouncing at "
             "the ends).", "", load_md("widgets"), "",
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
        targets.append(("Key press to redrawn figure (Chromium): median <= 50 ms, p95 <= 100 ms", "not measured",
                        False))
    else:
        lines += [f"Recorded {browser['recorded']} ({browser['path']})."
                  + (f" Windowing: {browser['windowing']}." if browser.get("windowing") else
                     " Windowing: every cell attached ('none'; the log predates the windowing note)."), "",
                  "| explorer (slider) | key presses | median (ms) | p95 (ms) |", "|---|---:|---:|---:|"]
        lines += [f"| {r['explorer']} | {r['n']} | {r['median_ms']:.0f} | {r['p95_ms']:.0f} |" for r in browser["rows"]]
        lines.append(f"| **all** | **{browser['n']}** | **{browser['median_ms']:.0f}** | **{browser['p95_ms']:.0f}** |")
        if browser.get("floor"):
            f = browser["floor"]
            lines += ["", f"The floor, measured by the same suite: {f['explorer']}, {f['n']} presses, median "
                      f"{f['median_ms']:.0f} ms, p95 {f['p95_ms']:.0f} ms. That much of every press is JupyterLab, "
                      "ipywidgets and Chromium (the slider's message to the kernel, the image back, its decoding), "
                      "whatever the explorer computes."]
        if browser.get("load"):
            lines += ["", f"Load when the browser suite ran: {browser['load']}."]
        else:
            lines += ["", "The browser suite's log does not record the machine's load."]
        slow = [f"{r['explorer']}: {r['median_ms']:.0f} ms" for r in browser["rows"] if r["median_ms"] > 50]
        targets.append(("Key press to redrawn figure (Chromium): median <= 50 ms",
                        f"{browser['median_ms']:.0f} ms over {browser['n']} presses"
                        + (f" (over 50 ms: {'; '.join(slow)})" if slow else ""), browser["median_ms"] <= 50))
        targets.append(("Key press to redrawn figure (Chromium): p95 <= 100 ms", f"{browser['p95_ms']:.0f} ms",
                        browser["p95_ms"] <= 100))
    return lines


def em_md(r, targets):
    lines = ["## 3. EM: lvmlib vs scikit-learn", "", load_md("em"), ""]
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


def threads_md(rows):
    lines = ["## 4a. Threads on a busy machine: the cause of the old one-thread pin", "",
             " ".join(bench_threads.__doc__.split()).replace("N_IMAGES", f"{bench_threads.N_IMAGES:,}")
             .replace("EPOCHS", str(bench_threads.EPOCHS)), "",
             "| configuration | threads | images/s (best epoch) | load average before -> after | runnable tasks |",
             "|---|---:|---:|---|---|"]
    for r in rows:
        before, after = r["load"]
        shown = f"{r['images_per_s']:,.0f}" if "images_per_s" in r else r["note"]
        lines.append(f"| {r['config']} | {r.get('threads', '')} | {shown} | {before['load1']:.1f} -> "
                     f"{after['load1']:.1f} | {before['running']} |")
    lines += ["", "On an idle machine 2 spinning threads are the fastest; when other work fills the cores, a thread "
              "of the team is often descheduled while the other spins at the barrier after every small operation, "
              "and throughput collapses (measured at load 13 during development: ~150 images/s on 2 spinning "
              "threads, ~2,400 passive, ~3,000-5,000 on 1 thread; with the cores to itself: ~25,000 spinning, "
              "~14,000 passive, ~17,000 on 1 thread). Passive waiting costs ~45 % of the idle-machine speed, so lvmlib "
              "keeps OpenMP's default and instead uses only the cores other work leaves idle (lvmlib/_threads.py)."]
    return lines


def _load_pair(pair):
    before, after = pair
    return f"load average {before['load1']:.1f} -> {after['load1']:.1f}, runnable tasks {before['running']}"


def vae_md(r, targets):
    lines = ["## 4. VAE: lvmlib vs a plain PyTorch loop; importance-sampling estimate vs its floor", "",
             load_md("vae"), ""]
    if "unavailable" in r:
        targets.append(("VAE throughput ratio vs plain loop (each at its default threads) >= 0.95",
                        r["unavailable"], False))
        targets.append(("IS estimate within 1.25x of the matrix-multiply floor", r["unavailable"], False))
        return lines + [r["unavailable"]]
    doc = " ".join(bench_vae.__doc__.split())
    for name in ("IS_ROUNDS", "ROUNDS", "N_TRAIN", "K_IS", "N_IS"):
        doc = doc.replace(name, f"{getattr(bench_vae, name):,}")
    picked = sorted(set(r["lvmlib_threads"]))
    lines += [doc, "",
              f"| {r['n_train']} images of {r['d_x']} pixels | lvmlib.vae.train (default: "
              f"{'/'.join(map(str, picked))} thread(s)) | plain loop (torch default: {r['torch_default_threads']} "
              "threads) | plain loop (1 thread) |", "|---|---:|---:|---:|",
              f"| best epoch (images/s) | {r['lvmlib_images_per_s']:,.0f} | {r['plain_images_per_s']:,.0f} | "
              f"{r['plain1_images_per_s']:,.0f} |",
              f"| median epoch (images/s) | {r['lvmlib_median_images_per_s']:,.0f} | "
              f"{r['plain_median_images_per_s']:,.0f} | {r['plain1_median_images_per_s']:,.0f} |", "",
              f"Threads lvmlib's default picked, epoch by epoch: {r['lvmlib_threads']} (of {r['cpu_count']} cores). "
              f"Load during training: {_load_pair(r['load_train'])}.", "",
              f"Throughput ratio lvmlib / plain loop, each at its default thread count (median over the "
              f"{r['rounds']} rounds of the paired epochs' ratio): **{r['ratio']:.3f}** (best epochs: "
              f"{r['ratio_best']:.2f}); against the plain loop on one thread (best epochs): "
              f"{r['lvmlib_images_per_s'] / r['plain1_images_per_s']:.2f}.", "",
              f"| L_k, k = {r['is_k']:,}, {r['is_n']:,} images, {r['is_threads']} thread(s) | seconds (best of "
              f"{bench_vae.IS_ROUNDS}) |", "|---|---:|",
              f"| vae.VAE.iwae_bound | {r['is_seconds']:.2f} |",
              f"| floor: the decoder's two matrix products over the same {r['is_k'] * r['is_n']:,} rows | "
              f"{r['floor_seconds']:.2f} ({r['is_gflops_floor']:.0f} GFLOP/s) |", "",
              f"Ratio estimate / floor, median of the {bench_vae.IS_ROUNDS} rounds' ratios: **{r['is_ratio']:.3f}** "
              f"(best against best: {r['is_ratio_best']:.2f}; mean estimate {r['is_mean_log_px']:.2f} nats per "
              f"image, after {bench_vae.ROUNDS} epochs). Load during the IS measurement: {_load_pair(r['load_is'])}."]
    targets.append(("VAE throughput ratio vs plain loop (each at its default threads) >= 0.95", f"{r['ratio']:.3f}",
                    r["ratio"] >= 0.95))
    targets.append(("IS estimate (k = 5,000, MNIST) within 1.25x of the matrix-multiply floor",
                    f"{r['is_ratio']:.3f}x (best {r['is_seconds']:.2f} s vs {r['floor_seconds']:.2f} s)",
                    r["is_ratio"] <= 1.25))
    return lines


def imports_md(rows, targets):
    lines = ["## 5. Import time (fresh interpreter, best of 5, measured around the import)", "", load_md("imports"), "",
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
            how = ("it redraws only on release (continuous_update=False), as COURSE.md prescribes for updates over "
                   "~50 ms, so dragging stays smooth" if r.get("on_release") else
                   "it updates while dragging, so it lags behind the hand")
            notes.append(f"- {r['explorer']} ({r['slider']}): {r['median_ms']:.0f} ms median; {how}. The slider "
                         "changes an axis' limits and its title, so that panel is drawn again over a background "
                         "cached without it (LiveFigure.refresh(axes=True)), and most of that is text (tick "
                         "labels, axis labels, legend, title): with matplotlib 3.11 each string costs ~0.27 ms "
                         "to shape and each glyph ~0.05 ms to render (profiled). What would close it: fixed "
                         "axis limits for that panel.")
    vae = results.get("vae", {})
    if any(m.startswith("IS estimate") for m in missed) and "is_seconds" in vae:
        notes.append(f"- IS estimate: {vae['is_ratio']:.3f}x its floor (median of the rounds' ratios). Besides the "
                     "two matrix products, every decoder row needs one sigmoid per hidden unit and, per pixel, an "
                     "absolute value, a sigmoid and a product (the rearrangement in vae._bernoulli_mlp_log_lik; "
                     "before it, a tanh and a softplus per element cost 1.95x on a quiet machine). Each is a "
                     "separate pass of torch's eager CPU kernels; profiled per 1,000-row block at 2 threads (torch "
                     "profiler, 300 blocks, 2026-12-02): the two products with their bias copies ~2.2 ms, the rest "
                     "~0.59 ms: the logits' sigmoid 0.18, the three sums 0.08, the grouped products 0.07, the "
                     "hidden units' sigmoid 0.07, the linear part's product 0.05, |l| 0.04, the logs 0.02. At 1 "
                     "thread the same path is 1.18-1.19x its 1-thread floor (40 paired rounds), at 2 threads "
                     "1.26-1.28x: the short passes gain less from the second thread than the products do. Tried, "
                     "no gain: the blocks split over 2 Python threads of 1 torch thread each (1.19 against 1.15 in "
                     "the same run), bmm or einsum for the linear part (3.7-4.3x slower than its product and sum), "
                     "2,000-row blocks (within noise). What would close the rest: one fused kernel for the "
                     "per-pixel work (torch.compile, which needs a C++ compiler and tens of seconds of compilation "
                     "on a learner's machine), or a GPU.")
    if any(m.startswith("VAE throughput") for m in missed) and "ratio" in vae:
        notes.append(f"- VAE throughput: lvmlib picked {sorted(set(vae['lvmlib_threads']))} thread(s), the plain "
                     f"loop used {vae['torch_default_threads']}. The arithmetic is the same but for the encoder's "
                     "two heads (lvmlib computes mu and log sigma^2 with two small products where the plain loop uses "
                     "one; fusing them was no faster when tried) and the Adam update (lvmlib uses torch's fused "
                     "kernel: 1.11 against 0.97 of the plain loop without it, medians of 30 paired epochs on "
                     "2026-12-02), so a miss is run-to-run scatter of the shared machine.")
    if any(m.startswith("Key press") for m in missed):
        browser = results.get("browser")
        floor = browser.get("floor") if browser else None
        live = [r["median_ms"] for r in rows if "median_ms" in r and not r.get("on_release")]
        notes.append("- Key press to redrawn figure: "
                     + (f"a slider that does no work at all takes {floor['median_ms']:.0f} ms median "
                        f"(p95 {floor['p95_ms']:.0f} ms) in the same suite, so an explorer has ~"
                        f"{max(0, 50 - floor['median_ms']):.0f} ms of its own for a 50-ms median; "
                        if floor else "")
                     + (f"the kernel-side updates of section 2 (update function, drawing, PNG) take "
                        f"{min(live):.0f}-{max(live):.0f} ms median for the sliders that update while dragging. "
                        if live else "")
                     + "That in-process time is not what a press costs in JupyterLab: there the kernel shares the 2 "
                     "cores with headless Chromium, which renders in software. Traced by hand on 2026-12-02 "
                     "(chapter 03's grid explorer, slider m): in 4 traced presses with the suite's settings, "
                     "Chromium's renderer thread was busy 78-92 ms of the 100 ms after the press (style, layout "
                     "and paint of a page of ~29,000 layout objects, three frames per press: the slider, the "
                     "readouts, the image); over 12 presses with the default windowing, the kernel's drawing took "
                     "7-27 ms of wall time for 5-11 ms of its own CPU time, waiting for a core; CPU per press "
                     "cycle over 30 presses (the press, its checks, a 150-ms pause): renderer 120-130 ms, browser "
                     "process ~35, GPU ~14, kernel ~14, Jupyter server ~10. The suite times its presses with "
                     "JupyterLab's default windowing ('contentVisibility': the browser skips rendering cells off "
                     "screen, as on a learner's page); with every cell rendered ('none', the mode of its text "
                     "checks) presses take ~10 ms longer: 30 presses on chapter 05's ELBO explorer, switched at "
                     "run time, 49.5 ms median against 59 ms, and on chapter 03's grid explorer 47-55 ms in four "
                     "runs against 62-65 ms in two. What would close it: less work per press in the kernel, where "
                     "matplotlib's drawing is most of it (each changed title costs 3-4 ms of text rendering): "
                     "drawing in the browser (a JavaScript plotting widget) instead of sending PNGs would leave "
                     "about the no-op slider's floor inside a chapter's page (30-36 ms, see the notes), but the "
                     "course's stored-output design (figures visible without a kernel) does not use it.")
    imports = results.get("imports") if isinstance(results.get("imports"), list) else []
    if any(m.startswith("import lvmlib") for m in missed) and imports:
        notes.append("- Import time: the imports run in fresh interpreters, so they read every module from disk and "
                     "compile nothing; under load they wait for CPU like everything else (see the load in section "
                     "5). `import lvmlib` itself imports nothing heavy.")
    if any(m.startswith("Slowest chapter") or m.startswith("Whole course") for m in missed):
        rows = results.get("notebooks") if isinstance(results.get("notebooks"), list) else []
        slow = [f"{r['notebook']} ({r['seconds']:.0f} s)" for r in rows if r.get("seconds", 0) >= NOTEBOOK_LIMIT_S]
        failed = [r["notebook"] for r in rows if "seconds" not in r]
        notes.append("- Course execution: " + "; ".join(
            ([f"over {NOTEBOOK_LIMIT_S:.0f} s: {', '.join(slow)}"] if slow else [])
            + ([f"did not execute: {', '.join(failed)}"] if failed else []))
            + ". Chapter times scale with the load during section 1 (shown there).")
    return notes


def _with_load(browser, note):
    if browser is not None and note and not browser.get("load"):
        browser["load"] = note
    return browser


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS, help="run only these sections")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--browser-latency", type=Path, default=None,
                        help="the browser suite's latency log (default bench/_work/browser_latency.json)")
    parser.add_argument("--browser-load", default=None,
                        help="the machine's load when the browser suite ran, if its log does not record it")
    args = parser.parse_args(argv)
    info = machine()
    start = time.perf_counter()
    results = {}
    fns = {"notebooks": bench_notebooks.run, "widgets": bench_widgets.run, "em": bench_em.run,
           "threads": bench_threads.run,
           "vae": bench_vae.run, "imports": bench_imports.run}
    for name in SECTIONS:
        if name in args.only:
            results[name] = run_section(name, fns[name])

    targets, body = [], []
    if "notebooks" in results:
        body += notebooks_md(results["notebooks"] if isinstance(results["notebooks"], list) else [], targets)
    if "widgets" in results:
        rows = results["widgets"] if isinstance(results["widgets"], list) else []
        browser = _with_load(bench_widgets.browser_latency(args.browser_latency), args.browser_load)
        results["browser"] = browser
        body += [""] + widgets_md(rows, browser, targets)
    if "em" in results:
        body += [""] + em_md(results["em"], targets)
    if "threads" in results:
        body += [""] + threads_md(results["threads"] if isinstance(results["threads"], list) else [])
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
