"""The course's website (`make site`): built offline from the stored notebooks, every page opened in Chromium.

Each page must show its math rendered by the vendored MathJax (no raw `$` left outside code), load every image,
request nothing it does not ship, and log no console error; the search page must find a chapter. It shares the
browser suite's Chromium (one Playwright session per test run).
"""

import functools
import http.server
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "html"
    build = subprocess.run([sys.executable, str(ROOT / "tools" / "build_site.py"), "--out", str(out)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    broken = [line for line in build.stderr.splitlines() if "xref_missing" in line or "not found in doc" in line]
    assert not broken, "links that point nowhere in the site:\n" + "\n".join(broken)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield out, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(browser_context):
    """Pages at a laptop's 1280 px from the browser suite's Chromium (see conftest.py)."""

    class Pages:
        def new_page(self, viewport=None):
            page = browser_context.new_page()
            page.set_viewport_size(viewport or {"width": 1280, "height": 900})
            return page

    return Pages()


def test_the_build_has_every_chapter_the_summary_and_no_external_reference(site):
    out, _ = site
    for name in [*CHAPTERS, "index", "summary", "search"]:
        assert (out / f"{name}.html").is_file(), name
    for page in out.glob("*.html"):
        external = re.findall(r'(?:src|href)="(https?://[^"]+\.(?:js|css|woff2?))"', page.read_text())
        assert not external, f"{page.name} loads {external[:3]} from the network"


@pytest.mark.parametrize("name", ["index", "summary", *CHAPTERS])
def test_page_renders_offline(site, browser, name):
    out, base = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, failed = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(f"{base}/{name}.html")
    page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)", timeout=30_000)
    page.evaluate("() => window.MathJax ? MathJax.startup.promise : null")
    # Every image settled (loaded or failed): what the checks below need. Not "networkidle" (no request for
    # 500 ms), which once waited out its 30 s on chapter 07 in a full run and passed alone: a wait on the page's
    # own state cannot hang on traffic the checks do not look at.
    page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30_000)
    n_math = page.evaluate("document.querySelectorAll('span.math, div.math').length")
    n_rendered = page.evaluate("document.querySelectorAll('.math mjx-container, mjx-container.MathJax').length")
    assert n_rendered >= n_math, f"{name}: {n_math} formulas, {n_rendered} rendered by MathJax"
    raw = page.evaluate("""() => { const c = document.querySelector('main').cloneNode(true);
        c.querySelectorAll('pre, code, mjx-container, script, .output').forEach(e => e.remove());
        return (c.innerText.match(/\\$[^$\\n]{1,40}\\$?/g) || []).slice(0, 3); }""")
    assert not raw, f"{name}: raw TeX left on the page: {raw}"
    broken = page.evaluate("[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert not broken, f"{name}: images that did not load: {[b[:80] for b in broken]}"
    assert not failed, f"{name}: failed requests {failed[:3]}"
    assert not errors, f"{name}: console errors {errors[:3]}"
    if name[:2] not in ("00",) and name in CHAPTERS:
        frames = page.locator("img[alt='explorer figure']").count()
        assert frames >= 1, f"{name}: no explorer first frame"
    page.close()


def test_search_finds_a_chapter_offline(site, browser):
    _, base = site
    page = browser.new_page()
    page.goto(f"{base}/search.html?q=importance")
    page.wait_for_selector("#search-results li", timeout=30_000)
    assert "04_monte_carlo_importance_sampling" in page.inner_html("#search-results")
    page.close()
