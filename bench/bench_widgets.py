"""Interactivity: every explorer's full update path (update function + artist updates + PNG redraw), timed over a
sweep of slider settings, as a learner dragging a slider would produce them (consecutive steps, bouncing at the
ends). The front ends are built in this process (no kernel; ipywidgets then uses a dummy comm), and a slider value
is set exactly as the browser's comm message would set it, which runs the same observers.
"""

import json
import time

import numpy as np
from common import WORK, NotAvailable, summary_ms

N_SETTINGS = 60


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def find_slider(container, label):
    found = [w for w in _walk(container) if getattr(w, "description", None) == label and hasattr(w, "step")]
    if len(found) != 1:
        raise RuntimeError(f"expected one slider {label!r}, found {len(found)}")
    return found[0]


def sweep_values(s, n=N_SETTINGS):
    """n consecutive slider positions from the current value, one step each, bouncing at min and max."""
    grid = np.round(np.arange(s.min, s.max + s.step / 2, s.step), 10)
    i = int(np.argmin(np.abs(grid - s.value)))
    direction, out = 1, []
    for _ in range(n):
        if not 0 <= i + direction < len(grid):
            direction = -direction
        i += direction
        out.append(grid[i].item() if not isinstance(s.value, int) else int(grid[i]))
    return out


def time_slider(container, label, n=N_SETTINGS):
    s = find_slider(container, label)
    times = []
    for v in sweep_values(s, n):
        start = time.perf_counter()
        s.value = v
        times.append(time.perf_counter() - start)
    return times


def _traversal():
    try:
        from lvmlib import vae
    except ImportError as error:
        raise NotAvailable("lvmlib.vae") from error
    from lvmlib.widgets.latent_traversal import traversal_explorer

    model = vae.VAE(vae.VAEConfig(d_x=784, d_z=2, d_hidden=256), vae.make_generator(0))  # chapter 06's size
    return traversal_explorer(model.decode_numpy, 2, (28, 28))


def explorers():
    """(chapter, explorer, slider label, factory) for every explorer of the course."""

    def load(module, attr):
        def factory():
            try:
                mod = __import__(f"lvmlib.widgets.{module}", fromlist=[attr])
            except ImportError as error:
                raise NotAvailable(f"lvmlib.widgets.{module}") from error
            return getattr(mod, attr)()
        return factory

    return [
        ("01", "DLVM explorer", "a₁", load("dlvm_explorer", "dlvm_explorer")),
        ("02", "EM stepper", "iteration", load("em_stepper", "em_stepper")),
        ("03", "grid explorer", "m (grid points)", load("grid_explorer", "grid_explorer")),
        ("03", "grid explorer", "x", load("grid_explorer", "grid_explorer")),
        ("04", "proposal explorer", "μ_q", load("proposal_explorer", "proposal_explorer")),
        ("04", "proposal explorer", "k", load("proposal_explorer", "proposal_explorer")),
        ("05", "Jensen explorer", "w", load("jensen", "jensen_explorer")),
        ("05", "discrete ELBO explorer", "weight of A", load("elbo_explorer", "discrete_explorer")),
        ("05", "continuous ELBO explorer", "μ_q", load("elbo_explorer", "continuous_explorer")),
        ("05", "continuous ELBO explorer", "log σ_q", load("elbo_explorer", "continuous_explorer")),
        ("06", "latent traversal (untrained decoder, 784-256-2)", "z1", _traversal),
    ]


def run():
    """Rows: chapter, explorer, slider, n, median ms, p95 ms (or a note)."""
    import matplotlib

    matplotlib.use("Agg")
    rows = []
    for chapter, name, label, factory in explorers():
        try:
            container = factory()
            times = time_slider(container, label)
            on_release = not find_slider(container, label).continuous_update
            rows.append({"chapter": chapter, "explorer": name, "slider": label, "n": len(times),
                         "on_release": on_release,
                         "median_ms": summary_ms(times)[0], "p95_ms": summary_ms(times)[1]})
        except NotAvailable as what:
            rows.append({"chapter": chapter, "explorer": name, "slider": label, "note": f"not available yet ({what})"})
        except Exception as error:  # a broken explorer is reported, not fatal to the benchmark
            rows.append({"chapter": chapter, "explorer": name, "slider": label,
                         "note": f"failed: {type(error).__name__}: {error}"})
    return rows


def browser_latency(path=None):
    """Key-press-to-redrawn-figure times recorded by the browser tests (tests/browser), if they ran.

    ``path`` defaults to bench/_work/browser_latency.json (written by the browser suite in this checkout).
    """
    path = WORK / "browser_latency.json" if path is None else path
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    rows, all_ms, floor = [], [], None
    for name, values in data.get("explorers", {}).items():
        row = {"explorer": name, "n": len(values), "median_ms": float(np.median(values)),
               "p95_ms": float(np.percentile(values, 95))}
        if name.startswith("baseline"):  # the no-op slider: the stack's own share, not an explorer
            floor = row
            continue
        rows.append(row)
        all_ms += values
    return {"recorded": data.get("recorded", "?"), "rows": rows, "floor": floor, "load": data.get("load"),
            "windowing": data.get("windowing"),
            "path": str(path),
            "median_ms": float(np.median(all_ms)) if all_ms else float("nan"),
            "p95_ms": float(np.percentile(all_ms, 95)) if all_ms else float("nan"), "n": len(all_ms)}
