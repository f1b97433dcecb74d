"""Driving a JupyterLab page from Playwright: open a notebook, run it, inspect widgets, press keys on sliders.

JupyterLab runs with ``expose_app_in_browser``, so ``window.jupyterapp`` gives the notebook model and the
kernel status directly (no guessing from the DOM); what the learner *sees* is then read from the DOM.
"""

import contextlib
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = Path(os.environ.get("LVM_BROWSER_NOTEBOOKS", ROOT / "notebooks"))
SCREENSHOT_DIR = ROOT / "screenshots"
LATENCY_FILE = ROOT / "bench" / "_work" / "browser_latency.json"

# Text that means a widget did not render: the placeholder ipywidgets shows while a view loads, its error
# message, and the plain-text repr a notebook shows when the widget extension is missing.
NOT_RENDERED = re.compile(
    r"Loading widget|Error displaying widget|Error rendering widget|"
    r"\b(?:Int|Float)(?:Range)?Slider\(|\b[HV]Box\(children=|\bImage\(value=b'|\bHTML\(value="
)

_CURRENT = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  return w && w.content && w.sessionContext ? w : null;
}"""

_READY = f"""(name) => {{
  const w = ({_CURRENT})();
  if (!w || !w.context || !w.context.path.endsWith(name) || !w.context.isReady) return false;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!(k && w.sessionContext.isReady && k.status === 'idle' && k.connectionStatus === 'connected');
}}"""

_WATCH_KERNEL = f"""() => {{
  const w = ({_CURRENT})();
  window.__lvmKernelErrors = [];
  w.sessionContext.iopubMessage.connect((_, msg) => {{
    const t = msg.header.msg_type, c = msg.content;
    if (t === 'error') window.__lvmKernelErrors.push(c.ename + ': ' + c.evalue);
    else if (t === 'stream' && c.name === 'stderr' && /Traceback|Exception in /.test(c.text))
      window.__lvmKernelErrors.push(c.text.slice(0, 2000));
  }});
}}"""

_RUN_ALL = f"""async () => {{
  const w = ({_CURRENT})();
  await window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs');
  window.jupyterapp.commands.execute('notebook:run-all-cells');
}}"""

_STATE = f"""() => {{
  const w = ({_CURRENT})();
  const cells = w.content.model.cells;
  let pending = 0, errors = [], widgetOutputs = 0, firstPending = null;
  for (let i = 0; i < cells.length; i++) {{
    const c = cells.get(i);
    if (c.type !== 'code' || c.sharedModel.getSource().trim() === '') continue;
    if (c.executionCount === null && pending++ === 0) firstPending = c.sharedModel.getSource().slice(0, 300);
    for (let j = 0; j < c.outputs.length; j++) {{
      const o = c.outputs.get(j);
      if (o.type === 'error') errors.push(`cell ${{i}}: ${{o.toJSON().ename}}: ${{o.toJSON().evalue}}`);
      if (o.data && o.data['application/vnd.jupyter.widget-view+json']) widgetOutputs++;
    }}
  }}
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return {{pending, firstPending, errors, widgetOutputs, kernel: k ? k.status : 'none',
           kernelErrors: window.__lvmKernelErrors || []}};
}}"""

_DOM_REPORT = """() => {
  const outs = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output')];
  const widgetViews = outs.filter(o => o.querySelector('.jupyter-widgets, .widget-box, .widget-image, .widget-slider'));
  // The widget renderer's output is a Lumino panel without a data-mime-type (a fallback repr has text/plain).
  const widgetMime = outs.filter(o => !o.dataset.mimeType && o.classList.contains('lm-Panel'));
  return {text: outs.map(o => o.innerText).join('\\n'), widgetViews: widgetViews.length,
          widgetMime: widgetMime.length,
          images: outs.reduce((n, o) => n + o.querySelectorAll('img').length, 0),
          stderr: outs.filter(o => o.dataset.mimeType === 'application/vnd.jupyter.stderr')
                      .map(o => o.innerText.slice(0, 500))};
}"""


def open_notebook(page, lab, name, timeout_s=90):
    """Open ``name`` (relative to the served notebooks folder) in a reset workspace; wait for an idle kernel."""
    page.goto(lab.url(f"lab/tree/notebooks/{name}", "reset"))
    page.wait_for_function(_READY, arg=name, timeout=timeout_s * 1e3, polling=200)
    page.evaluate(_WATCH_KERNEL)


def run_all(page, timeout_s=150):
    """Clear outputs, run every cell, wait until each code cell has run and the kernel is idle; return the state."""
    start = time.monotonic()
    page.evaluate(_RUN_ALL)
    # Run All stops at the first error, so an error output also ends the wait.
    try:
        page.wait_for_function(f"""() => {{ const s = ({_STATE})();
                                    return s.kernel === 'idle' && (s.pending === 0 || s.errors.length > 0); }}""",
                               timeout=timeout_s * 1e3, polling=250)
    except Exception as error:
        st = page.evaluate(_STATE)
        raise AssertionError(f"Run All did not finish within {timeout_s} s: {st['pending']} code cells still "
                             f"pending, first: {st['firstPending']!r}; kernel {st['kernel']}") from error
    elapsed = time.monotonic() - start
    # Widget views render asynchronously after their output arrives: give them a moment, then report.
    try:
        page.wait_for_function(f"""() => {{ const d = ({_DOM_REPORT})();
                                    return d.widgetMime >= ({_STATE})().widgetOutputs && d.widgetViews > 0; }}""",
                               timeout=15e3, polling=200)
    except Exception:  # reported (and failed) by rendering_problems below
        pass
    page.wait_for_timeout(300)
    return elapsed


def state(page):
    return page.evaluate(_STATE)


def rendering_problems(page):
    """Everything that shows the learner a broken notebook: errors, unrendered widgets, kernel tracebacks."""
    st, dom = page.evaluate(_STATE), page.evaluate(_DOM_REPORT)
    problems = [f"error output: {e}" for e in st["errors"]]
    problems += [f"kernel error outside a cell: {e}" for e in st["kernelErrors"]]
    problems += [f"traceback on stderr: {s}" for s in dom["stderr"] if "Traceback" in s]
    for match in NOT_RENDERED.finditer(dom["text"]):
        snippet = dom["text"][max(0, match.start() - 40):match.end() + 60].replace("\n", " ")
        problems.append(f"widget not rendered: ...{snippet}...")
    # Every widget output must be handled by the widget renderer (a fallback repr means the extension is
    # missing); closed widgets (finished progress bars) legitimately leave an empty view, so count live views
    # only as "at least one".
    if dom["widgetMime"] < st["widgetOutputs"]:
        problems.append(f"{st['widgetOutputs']} widget outputs but only {dom['widgetMime']} shown as widgets")
    if st["widgetOutputs"] and not dom["widgetViews"]:
        problems.append(f"{st['widgetOutputs']} widget outputs but no rendered widget view")
    return problems


def shutdown_kernel(page):
    page.evaluate(f"async () => {{ const w = ({_CURRENT})(); if (w) await w.sessionContext.shutdown(); }}")


# ---- explorers -----------------------------------------------------------------------------------------------

def slider(page, label):
    """The (unique) slider whose description is exactly ``label``, as a Playwright locator."""
    sliders = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .widget-slider").filter(
        has=page.locator(".widget-label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")))
    count = sliders.count()
    assert count == 1, f"expected one slider labelled {label!r}, found {count}"
    return sliders.first


def explorer_of(slider_locator):
    """The output area holding a slider: the explorer with its readouts and figure."""
    return slider_locator.locator("xpath=ancestor::div[contains(@class, 'jp-OutputArea-output')][1]")


def readouts(scope):
    """{data-name: text} of every ``span.lvm-readout`` inside ``scope``."""
    return scope.evaluate("""el => Object.fromEntries([...el.querySelectorAll('span.lvm-readout')]
                                     .map(s => [s.dataset.name, s.textContent.trim()]))""")


def slider_readout(slider_locator):
    # textContent, not innerText: the latter is empty while the browser skips an off-screen cell's rendering
    return slider_locator.locator(".widget-readout").text_content().strip()


def press(slider_locator, key, scope, timeout_s=10):
    """Press ``key`` on the slider handle; wait for every figure in ``scope`` to be redrawn (new PNG loaded).

    Returns the time in ms from the key press to the last figure's ``load`` event, measured in the page.
    """
    handle = slider_locator.locator(".noUi-handle").first
    handle.focus()
    scope.evaluate("""el => {
      const p = window.__lvmPress = {t0: null, loaded: []};
      p.done = new Promise(resolve => { p.resolve = resolve; });
      const imgs = [...el.querySelectorAll('img')];
      imgs.forEach((img, i) => {
        const seen = img.src;
        img.addEventListener('load', function onload() {
          if (img.src !== seen && p.t0 !== null) {
            p.loaded[i] = performance.now() - p.t0;
            img.removeEventListener('load', onload);
            p.resolve();
          }
        });
      });
      document.addEventListener('keydown', () => { p.t0 = performance.now(); }, {once: true, capture: true});
    }""")
    handle.press(key)
    # One promise, resolved by the first redrawn figure's load event: no polling, which would take CPU from the
    # kernel, the server and Chromium while they work (a 5-ms poll is ~200 calls into the page per second).
    outcome = scope.page.evaluate("""ms => Promise.race([
        window.__lvmPress.done.then(() => 'loaded'),
        new Promise(resolve => setTimeout(() => resolve('timeout'), ms))])""", timeout_s * 1e3)
    if outcome != "loaded":
        errors = scope.page.evaluate("() => window.__lvmKernelErrors || []")
        raise AssertionError(f"no figure was redrawn within {timeout_s} s of pressing {key}; errors the kernel "
                             f"reported: {errors or 'none'}")
    # Other figures of the same explorer (if any) may be redrawn a little later.
    scope.page.wait_for_timeout(100)
    loaded = [x for x in scope.page.evaluate("() => window.__lvmPress.loaded") if x is not None]
    return max(loaded)


def wait_for_readouts(scope, expected, timeout_s=10):
    """Wait until the readouts in ``scope`` show exactly ``expected`` ({name: text}); return what they show."""
    deadline = time.monotonic() + timeout_s
    while True:
        shown = readouts(scope)
        if all(shown.get(k) == v for k, v in expected.items()) or time.monotonic() > deadline:
            return shown
        time.sleep(0.02)


def figure_digests(scope):
    """SHA-1 of the PNG bytes of every figure (img) in ``scope``: equal digests mean an unchanged picture."""
    return scope.evaluate("""async el => Promise.all([...el.querySelectorAll('img')].map(async img => {
        const bytes = await (await fetch(img.src)).arrayBuffer();
        const hash = new Uint8Array(await crypto.subtle.digest('SHA-1', bytes));
        return [...hash].map(b => b.toString(16).padStart(2, '0')).join('');
    }))""")


# ---- the learner's windowing while timing key presses --------------------------------------------------------------

def default_windowing():
    """JupyterLab's default notebook windowing mode, from the schema of the JupyterLab the suite runs; None if the
    schema is not where this environment keeps it, or if the default detaches cells. In JupyterLab 4.6 it is
    'contentVisibility': every cell is attached, and the browser skips rendering the ones off screen."""
    schema = (Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas" / "@jupyterlab" / "notebook-extension"
              / "tracker.json")
    try:
        mode = json.loads(schema.read_text())["properties"]["windowingMode"]["default"]
    except (OSError, ValueError, KeyError):
        return None
    # 'full' and 'defer' detach or delay off-screen cells, so the checks could not find their sliders: keep 'none'
    return mode if mode in ("contentVisibility", "none") else None


_SET_WINDOWING = f"""(mode) => {{
  const nb = ({_CURRENT})().content;
  const before = nb.notebookConfig.windowingMode;
  nb.notebookConfig = {{...nb.notebookConfig, windowingMode: mode}};
  return before;
}}"""

# contentVisibility mode marks each cell visible or auto once its IntersectionObserver has reported; other modes
# leave the property unset
_WINDOWING_APPLIED = f"""(mode) => {{
  const nb = ({_CURRENT})().content;
  const marked = nb.widgets.filter(c => c.node.style.contentVisibility !== '').length;
  return nb.notebookConfig.windowingMode === mode &&
         (mode === 'contentVisibility' ? marked === nb.widgets.length : marked === 0);
}}"""


@contextlib.contextmanager
def windowing(page, mode):
    """Run the block with the open notebook's windowing ``mode`` (None: unchanged), then restore the previous one.

    The suite attaches every cell ('none') so that its text checks see the whole notebook (innerText is empty in
    cells whose rendering the browser skips); key presses are timed in the mode a learner has by default.
    """
    if mode is None:
        yield
        return
    before = page.evaluate(_SET_WINDOWING, mode)
    _wait_for_windowing(page, mode)
    try:
        yield
    finally:
        page.evaluate(_SET_WINDOWING, before)
        _wait_for_windowing(page, before)


def _wait_for_windowing(page, mode, timeout_s=10):
    try:
        page.wait_for_function(_WINDOWING_APPLIED, arg=mode, timeout=timeout_s * 1e3, polling=100)
    except Exception as error:
        raise AssertionError(f"the notebook's windowing did not switch to {mode!r} within {timeout_s} s") from error


# ---- fitting a laptop's screen ---------------------------------------------------------------------------------

LAPTOP = {"width": 1280, "height": 1000}

_OVERFLOW = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const outs = [...panel.querySelectorAll('.jp-OutputArea-output')]
      .filter(o => o.querySelector('.widget-image, .widget-slider'));
  const bad = [];
  outs.forEach((o, i) => {
    const box = o.getBoundingClientRect();
    let right = box.left;
    o.querySelectorAll('img, .widget-slider, .widget-html, .widget-button, .widget-toggle-buttons')
      .forEach(e => { const r = e.getBoundingClientRect(); if (r.width > 0) right = Math.max(right, r.right); });
    const scroll = o.scrollWidth - o.clientWidth;
    if (scroll > 1 || right > box.right + 1)
      bad.push(`explorer ${i + 1}: content reaches ${Math.round(right)} px, ` +
               `its cell ends at ${Math.round(box.right)} px` +
               (scroll > 1 ? `, ${scroll} px of horizontal scrolling` : ''));
  });
  const notebook = panel.querySelector('.jp-WindowedPanel-outer') || panel.querySelector('.jp-Notebook');
  if (notebook && notebook.scrollWidth > notebook.clientWidth + 1)
    bad.push(`the notebook scrolls horizontally by ${notebook.scrollWidth - notebook.clientWidth} px`);
  return {bad, explorers: outs.length, width: Math.round(panel.getBoundingClientRect().width)};
}"""


def laptop_overflow(page):
    """At 1280x1000 with the file browser open (JupyterLab's default on a laptop), what sticks out of its cell.

    Returns (problems, number of explorers seen, notebook panel width in px); restores nothing (call last).
    """
    page.set_viewport_size(LAPTOP)
    page.evaluate("async () => { await window.jupyterapp.commands.execute('filebrowser:activate'); }")
    page.wait_for_timeout(800)  # the layout settles, the images rescale
    report = page.evaluate(_OVERFLOW)
    return report["bad"], report["explorers"], report["width"]
