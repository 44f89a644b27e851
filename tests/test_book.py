"""Open every page of the built book in headless Chromium and check what a reader would see.

Needs the HTML build (`make book` or `make html`: _build/html), Debian's chromium
(`apt-get install -y chromium`; never `playwright install`) and the playwright package. Without
them the tests are skipped, except when the environment variable CI is set: then they fail.

Per page: no request leaves 127.0.0.1, no console error or uncaught exception (apart from the
known harmless noise below), every <img> loaded, maths typeset by MathJax where the page has
maths, and chapter pages show at least their minimum number of figures (MPLBACKEND=Agg, for one,
silently drops every figure). Set BOOK_SCREENSHOTS=/some/dir to save a screenshot of each page.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))  # BOOK_HTML: another build
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")

# Pages that are not content: the redirect at the root, Sphinx's generated pages, vendored files.
SKIP_PAGES = {"index.html", "genindex.html", "search.html", "py-modindex.html"}
SKIP_DIRS = {"_static", "_sources", "_images", "mathjax"}

# Minimum number of images in a page's article. Chapter pages default to DEFAULT_CHAPTER_IMAGES;
# add an entry here for a page that needs a different minimum.
DEFAULT_CHAPTER_IMAGES = 3
MIN_IMAGES: dict[str, int] = {
    "chapters/00_why_gradients_vanish.html": 9,      # with the chain diagram and the sigmoid's derivative
    "chapters/01_gradient_descent.html": 3,
    "chapters/02_lr_schedules.html": 6,
    "chapters/03_activations.html": 9,
    "chapters/04_initialisation.html": 5,      # its PyTorch-hooks figure moved to chapter 9
    "chapters/08_optimisers.html": 7,
}

# No console noise is tolerated: the theme's two errors (THEBE_JS_URL declared twice, "invalid theme
# mode") are fixed in the build (book/_ext/book_fixes.py, _config.yml), not filtered here. The one
# thing a fresh Chromium itself asks for is the favicon, which the book does not ship.
ALLOWED_FAILED_URLS = [re.compile(r"/favicon\.ico$")]

MATH_MARKUP = re.compile(r'class="[^"]*\bmath\b')


def find_pages() -> list[str]:
    """Relative paths of the content pages in the HTML build, found from the files."""
    if not HTML.is_dir():
        return []
    pages = []
    for path in sorted(HTML.rglob("*.html")):
        rel = path.relative_to(HTML)
        if rel.parts[0] in SKIP_DIRS or rel.as_posix() in SKIP_PAGES:
            continue
        pages.append(rel.as_posix())
    return pages


def min_images(page: str) -> int:
    if page in MIN_IMAGES:
        return MIN_IMAGES[page]
    return DEFAULT_CHAPTER_IMAGES if page.startswith("chapters/") else 0


def unavailable(reason: str):
    """Skip locally; fail under CI, where a missing browser or build is a broken pipeline."""
    if CI:
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)")
    pytest.skip(reason)


PAGES = find_pages()


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").is_file():
        unavailable(f"no HTML build at {HTML}: run `make book` first")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def context(server):
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(20_000)
        ctx.foreign_requests = []  # every request to a host other than 127.0.0.1

        def route(r):
            url = r.request.url
            parts = urlsplit(url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != "127.0.0.1":
                ctx.foreign_requests.append(url)
                r.abort()
            else:
                r.continue_()

        ctx.route("**/*", route)
        yield ctx
        ctx.close()
        browser.close()


def open_page(context, url):
    """Load url; return the page and the lists of errors and failed requests it produced."""
    page = context.new_page()
    errors, failed = [], []

    def on_console(msg):
        if msg.type == "error":
            where = (msg.location or {}).get("url", "")
            if not any(p.search(where) for p in ALLOWED_FAILED_URLS):
                errors.append(f"console: {msg.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("requestfailed", lambda req: failed.append(f"{req.url}: {req.failure}"))

    def on_response(resp):
        if resp.status >= 400 and not any(p.search(resp.url) for p in ALLOWED_FAILED_URLS):
            failed.append(f"{resp.url}: HTTP {resp.status}")

    page.on("response", on_response)
    page.goto(url, wait_until="load")
    return page, errors, failed


@pytest.mark.parametrize("page_path", PAGES or ["<no pages: _build/html missing or empty>"])
def test_page(context, server, page_path):
    if page_path not in PAGES:
        unavailable(f"no pages found in {HTML}")
    html = (HTML / page_path).read_text(encoding="utf-8")
    has_maths = bool(MATH_MARKUP.search(html))
    foreign_before = len(context.foreign_requests)

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page, errors, failed = open_page(context, f"{server}/{page_path}")
    try:
        if has_maths:
            # MathJax loads, then typesets asynchronously (fetching extensions on demand).
            try:
                page.wait_for_function(
                    "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                    timeout=10_000,
                )
            except PlaywrightTimeout:
                pytest.fail(f"{page_path}: MathJax did not start (errors: {errors}, {failed})")
            page.evaluate("() => MathJax.startup.promise")
        # Force lazy images to load, then wait until each one is decoded (or has failed).
        page.evaluate(
            """() => Promise.all(Array.from(document.images).map(img => {
                   img.loading = "eager";
                   return img.decode().catch(() => null);
               }))"""
        )
        page.wait_for_load_state("networkidle")
        images = page.evaluate(
            """() => {
                   const body = document.querySelector("article.bd-article")
                       || document.querySelector("main") || document.body;
                   return Array.from(document.images).map(img => ({
                       src: img.currentSrc || img.src,
                       width: img.naturalWidth,
                       inArticle: body.contains(img),  // not the header's launch-button icons
                   }));
               }"""
        )
        n_maths = page.locator("mjx-container").count()
        n_merror = page.locator("mjx-merror").count()
        if os.environ.get("BOOK_SCREENSHOTS"):
            out = Path(os.environ["BOOK_SCREENSHOTS"]) / (page_path.replace("/", "__") + ".png")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=True)
    finally:
        page.close()

    foreign = context.foreign_requests[foreign_before:]
    assert not foreign, f"{page_path} requested non-local resources: {foreign}"
    assert not errors, f"{page_path} logged errors: {errors}"
    assert not failed, f"{page_path} had failed requests: {failed}"
    broken = [img["src"] for img in images if img["width"] == 0]
    assert not broken, f"{page_path} has images that did not load: {broken}"
    if has_maths:
        assert n_maths > 0, f"{page_path} has maths markup but MathJax typeset nothing"
        assert n_merror == 0, f"{page_path} has {n_merror} formulas MathJax could not parse"
    n_article = sum(img["inArticle"] for img in images)
    assert n_article >= min_images(page_path), (
        f"{page_path} shows {n_article} images, expected at least {min_images(page_path)} "
        "(figures dropped? MPLBACKEND=Agg in the build environment drops them)"
    )


# ----------------------------------------------------------------- figures at their design size

# A figure is drawn for a design width (matplotlib: inches x 100 dpi; a retina PNG has twice the
# pixels and a width attribute of half). Shrunk much below it, its text gets too small to read.
MIN_FIGURE_SCALE = 0.8
DESKTOP = {"width": 1366, "height": 900}
CHAPTER_PAGES = [p for p in PAGES if p.startswith("chapters/")]


def figure_scales(page) -> list[dict]:
    """Every visible image of the article: its displayed width against its design width."""
    return page.evaluate(
        """() => {
               const body = document.querySelector("article.bd-article")
                   || document.querySelector("main") || document.body;
               return Array.from(body.querySelectorAll("img")).filter(img => {
                   const r = img.getBoundingClientRect();
                   return img.naturalWidth > 0 && r.width > 0 && img.offsetParent !== null;
               }).map(img => {
                   // a retina (2x) PNG is shown at half its pixels: myst-nb writes that size as a
                   // width attribute (cell outputs) or an inline style (glued figures); a glued
                   // figure's <picture> (book/_ext/phone_figures.py) gives it for its phone version
                   // on that version's <source>, which the browser shows below 600 px
                   const picture = img.parentElement.tagName === "PICTURE" ? img.parentElement : null;
                   const source = picture && Array.from(picture.querySelectorAll("source")).find(
                       s => new URL(s.getAttribute("srcset"), document.baseURI).href === img.currentSrc);
                   const attr = source ? parseFloat(source.getAttribute("width"))
                       : parseFloat(img.style.width) || parseFloat(img.getAttribute("width"));
                   const design = attr > 0 ? attr : img.naturalWidth;
                   return {
                       src: source ? source.getAttribute("srcset") : img.getAttribute("src"),
                       phone: Boolean(source),
                       caption: (img.closest("figure")?.querySelector("figcaption")?.innerText || "").trim(),
                       design: design,
                       natural: img.naturalWidth,
                       shown: img.getBoundingClientRect().width,
                       aspect: img.getBoundingClientRect().height / img.getBoundingClientRect().width,
                       naturalAspect: img.naturalHeight / img.naturalWidth,
                   };
               });
           }"""
    )


def distorted(figures) -> list[str]:
    return [f"{f['src']}: height/width {f['aspect']:.3f}, drawn as {f['naturalAspect']:.3f}"
            for f in figures if abs(f["aspect"] / f["naturalAspect"] - 1) > 0.02]


def figures_at(context, server, page_path, viewport) -> tuple[list[dict], list, list]:
    """Open a chapter page at ``viewport``, load every image (none lazily) and measure its figures
    (not icons: design width >= 100 px). Returns (figures, console errors, failed requests)."""
    if page_path not in CHAPTER_PAGES:
        unavailable(f"no chapter pages found in {HTML}")
    page, errors, failed = open_page(context, f"{server}/{page_path}")
    try:
        page.set_viewport_size(viewport)
        page.evaluate(
            """() => Promise.all(Array.from(document.images).map(img => {
                   img.loading = "eager";
                   return img.decode().catch(() => null);
               }))"""
        )
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(200)
        figures = [f for f in figure_scales(page) if f["design"] >= 100]
    finally:
        page.close()
    assert figures, f"{page_path}: no figures measured"
    return figures, errors, failed


@pytest.mark.parametrize("page_path", CHAPTER_PAGES or ["<no chapter pages>"])
def test_figures_are_not_shrunk_below_a_readable_scale(context, server, page_path):
    """At 1366 px, no article figure is shown at less than MIN_FIGURE_SCALE of its design width
    (a 1,300-px figure squeezed into the ~757-px column shrinks its 10-pt text to 6 pt), and
    every figure is sharp: a retina PNG, twice as many pixels as its design width."""
    figures, _, _ = figures_at(context, server, page_path, DESKTOP)
    shrunk = [f"{f['src']}: shown {f['shown']:.0f} px of {f['design']:.0f} ({f['shown'] / f['design']:.2f})"
              for f in figures if f["shown"] / f["design"] < MIN_FIGURE_SCALE]
    assert not shrunk, f"{page_path}: figures shrunk below {MIN_FIGURE_SCALE} of their design width: {shrunk}"
    blurry = [f"{f['src']}: {f['natural']} px for a design width of {f['design']:.0f}"
              for f in figures if f["natural"] < 1.9 * f["design"]]
    assert not blurry, f"{page_path}: figures without a retina (2x) image: {blurry}"
    assert not distorted(figures), f"{page_path}: figures stretched at 1366 px: {distorted(figures)}"


# On a phone the text of a figure must read at 9 pt or more. A figure is drawn at 100 px to the inch
# and a CSS pixel is 1/96 inch, so text of F points in a figure shown at `scale` of its design
# width reads at F * scale * 100 / 96 points. The smallest text in the book's figures is 9 pt
# (legends and annotations; tick and axis labels are 10 pt), so every figure needs a scale of at
# least 9 / (9 * 100 / 96) = 0.96. The full-width figures used to show at 0.45 (their 10-pt text
# at 4.7 pt); each glued figure now has a phone version 350 px wide (vg.book.phone_layout) that
# the page fits to the 358-px column: 1.02.
PHONE = {"width": 390, "height": 844}
MIN_TEXT_PT = 9
SMALLEST_FIGURE_FONT_PT = 9
MIN_PHONE_SCALE = MIN_TEXT_PT / (SMALLEST_FIGURE_FONT_PT * 100 / 96)


@pytest.mark.parametrize("page_path", CHAPTER_PAGES or ["<no chapter pages>"])
def test_figures_are_legible_on_a_phone(context, server, page_path):
    """At 390 px every article figure is shown at no less than MIN_PHONE_SCALE of its design width
    (its phone version, when it has one) and no wider than the screen, sharp (a 2x image), not
    stretched, and keeps its numbered caption."""
    figures, errors, failed = figures_at(context, server, page_path, PHONE)
    small = [f"{f['src']}: shown {f['shown']:.0f} px of {f['design']:.0f} ({f['shown'] / f['design']:.2f}, "
             f"its {SMALLEST_FIGURE_FONT_PT}-pt text at {SMALLEST_FIGURE_FONT_PT * f['shown'] / f['design'] * 100 / 96:.1f} pt)"
             for f in figures if f["shown"] / f["design"] < MIN_PHONE_SCALE]
    assert not small, f"{page_path}: figures too small to read at 390 px: {small}"
    blurry = [f"{f['src']}: {f['natural']} px for a design width of {f['design']:.0f}"
              for f in figures if f["natural"] < 1.9 * f["design"]]
    assert not blurry, f"{page_path}: figures without a retina (2x) image at 390 px: {blurry}"
    wider = [f"{f['src']}: {f['shown']:.0f} px" for f in figures if f["shown"] > PHONE["width"]]
    assert not wider, f"{page_path}: figures wider than the 390-px screen: {wider}"
    assert not distorted(figures), f"{page_path}: figures stretched at 390 px: {distorted(figures)}"
    glued = [f for f in figures if f["caption"]]
    assert all(re.match(r"Fig\. \d+\.\d+", f["caption"]) for f in glued), [f["caption"] for f in glued]
    assert not errors and not failed, (errors, failed)


OVERFLOWING = """() => {
    // code, outputs, tables and display maths wider than their box must scroll, not be cut off
    const out = [];
    for (const el of document.querySelectorAll(
            'article pre, article table, article .cell_output, article mjx-container[display="true"]')) {
        if (el.offsetParent === null || el.scrollWidth <= el.clientWidth + 1) continue;
        let e = el, scrolls = false;
        while (e && e.tagName !== "ARTICLE") {
            const o = getComputedStyle(e).overflowX;
            if (o === "auto" || o === "scroll") { scrolls = true; break; }
            e = e.parentElement;
        }
        if (!scrolls) out.push(`${el.tagName}.${el.className}: ${el.scrollWidth} px in ${el.clientWidth}`);
    }
    return out;
}"""


@pytest.mark.parametrize("page_path", CHAPTER_PAGES or ["<no chapter pages>"])
def test_wide_code_and_tables_scroll_on_a_phone(context, server, page_path):
    if page_path not in CHAPTER_PAGES:
        unavailable(f"no chapter pages found in {HTML}")
    page, errors, failed = open_page(context, f"{server}/{page_path}")
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        clipped = page.evaluate(OVERFLOWING)
    finally:
        page.close()
    assert not clipped, f"{page_path}: content cut off on the right at 390 px: {clipped}"


def test_index_redirects_to_first_page(context, server):
    page, errors, failed = open_page(context, f"{server}/index.html")
    try:
        page.wait_for_url(re.compile(r"/book/intro\.html$"))
        assert page.locator("h1").first.inner_text().strip().startswith("Vanishing Gradients Lab")
    finally:
        page.close()
    assert not errors and not failed, (errors, failed)


# ----------------------------------------------------------------- navigation at phone and desktop widths

NAV_PAGE = "chapters/03_activations.html"


def open_at_width(context, server, width):
    page, errors, failed = open_page(context, f"{server}/{NAV_PAGE}")
    page.set_viewport_size({"width": width, "height": 844})
    page.wait_for_timeout(300)
    return page, errors, failed


def dialog_open(page, selector) -> bool:
    dialog = page.locator(selector)
    return dialog.count() == 1 and dialog.evaluate("d => d.open")


def test_one_header_and_one_menu_button(context, server):
    """A second (hidden) header with copies of the menu buttons made the visible ones dead."""
    page, errors, failed = open_at_width(context, server, 1366)
    try:
        assert page.locator("header.bd-header").count() == 1
        assert page.locator(".primary-toggle").count() == 1
        assert page.locator(".secondary-toggle").count() == 1
    finally:
        page.close()
    assert not errors and not failed, (errors, failed)


def test_phone_menu_opens_the_contents_and_closes(context, server):
    page, errors, failed = open_at_width(context, server, 390)
    try:
        assert not page.locator("#pst-primary-sidebar").is_visible()  # no room for it on a phone
        page.locator(".primary-toggle").click()
        page.wait_for_timeout(300)
        assert dialog_open(page, "dialog#pst-primary-sidebar-modal"), "the menu button opened nothing"
        links = page.locator("dialog#pst-primary-sidebar-modal a.reference.internal")
        assert links.count() >= 8 and links.filter(has_text="Weight initialisation").count() == 1
        page.keyboard.press("Escape")
        page.wait_for_timeout(300)
        assert not dialog_open(page, "dialog#pst-primary-sidebar-modal")
        page.locator(".secondary-toggle").click()  # "page contents"
        page.wait_for_timeout(300)
        assert dialog_open(page, "dialog#pst-secondary-sidebar-modal")
        assert page.locator("dialog#pst-secondary-sidebar-modal a").count() >= 3
    finally:
        page.close()
    assert not errors and not failed, (errors, failed)


def test_desktop_menu_hides_and_shows_the_sidebar(context, server):
    page, errors, failed = open_at_width(context, server, 1366)
    try:
        sidebar = page.locator("#pst-primary-sidebar")
        assert sidebar.is_visible()
        page.locator(".primary-toggle").click()
        page.wait_for_timeout(300)
        assert not sidebar.is_visible()
        page.locator(".primary-toggle").click()
        page.wait_for_timeout(300)
        assert sidebar.is_visible()
    finally:
        page.close()
    assert not errors and not failed, (errors, failed)
