"""The documentation site: its API reference is complete, and the built site
works in headless Chromium.

The browser tests run after ``make -C doc html`` (``.ci/doc`` does both); they
are skipped when the site has not been built or when Chromium, its driver or
selenium is missing. The site is served over HTTP on 127.0.0.1, as a reader's
browser gets it.
"""

import functools
import http.server
import os
import shutil
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[1] / "doc" / "_build" / "html"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

DOC = Path(__file__).resolve().parents[1] / "doc"
# .ci/doc sets it: there, a missing site, browser or selenium is an error.
REQUIRED = os.environ.get("SKLEARN_POS_DOC_REQUIRE_BROWSER", "") == "1"


def _skip_unless(condition, reason):
    if REQUIRED:
        return pytest.mark.skipif(False, reason="")
    return pytest.mark.skipif(not condition, reason=reason)


needs_site = [
    _skip_unless(
        (SITE / "index.html").is_file(), "the site is not built (make -C doc html)"
    ),
    _skip_unless(
        CHROMIUM is not None and DRIVER is not None,
        "Chromium and chromedriver are not installed",
    ),
]


@pytest.fixture
def api_check(monkeypatch):
    pytest.importorskip("sphinx")
    monkeypatch.syspath_prepend(str(DOC / "sphinxext"))
    sys.modules.pop("api_check", None)
    import api_check

    return api_check


def test_api_reference_lists_every_public_name(api_check):
    assert api_check.missing_names(DOC / "api.rst") == []


def test_api_check_reports_a_name_missing_from_the_reference(api_check, tmp_path):
    text = (DOC / "api.rst").read_text(encoding="utf-8")
    # Take one exported name out of its autosummary table.
    assert "\n   PartOfSpeechComponentAnalysis\n" in text
    trimmed = tmp_path / "api.rst"
    trimmed.write_text(
        text.replace("\n   PartOfSpeechComponentAnalysis\n", "\n"), encoding="utf-8"
    )
    assert api_check.missing_names(trimmed) == [
        "sklearn_pos.PartOfSpeechComponentAnalysis"
    ]

# One page of each kind a reader lands on.
PAGES = {
    "home": "index.html",
    "maths": "user_guide/method.html",
    "api": "generated/sklearn_pos.PartOfSpeechComponentAnalysis.html",
    "gallery": "auto_examples/plot_class_invariance.html",
}


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").is_file():
        if REQUIRED:
            pytest.fail("the site is not built (make -C doc html)")
        pytest.skip("the site is not built (make -C doc html)")
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(SITE)
    )

    class QuietHandler(handler.func):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(SITE))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    if REQUIRED:
        from selenium import webdriver
    else:
        webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    service = webdriver.ChromeService(executable_path=DRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _internal_links(driver, base):
    hrefs = driver.execute_script(
        "return Array.from(document.querySelectorAll('a[href]'), a => a.href);"
    )
    links = set()
    for href in hrefs:
        url, _, _ = href.partition("#")
        if url.startswith(base):
            links.add(url)
    return sorted(links)


@pytest.mark.parametrize("name", sorted(PAGES))
@needs_site[0]
@needs_site[1]
def test_page_renders_with_working_links_and_images(server, browser, name, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(server + PAGES[name])
    assert "sklearn_pos" in browser.title
    main = browser.find_element(By.CSS_SELECTOR, "main")
    assert len(main.text) > 200, f"{PAGES[name]}: main content is nearly empty"
    if name == "gallery":
        # The example ran at build time: its output and figure are on the page,
        # and an output of the tiny random model says it is not a result.
        assert browser.find_elements(By.CSS_SELECTOR, "div.sphx-glr-script-out")
        if "sklearn-pos-tiny" in main.text:
            assert "random weights — not a result" in main.text
        assert browser.find_elements(By.CSS_SELECTOR, "img.sphx-glr-single-img, "
                                     "img.sphx-glr-multi-img")
    if name == "maths" and (SITE / "_static" / "mathjax" / "MathJax.js").is_file():
        # The site ships MathJax (.ci/doc installs it): the equations are typeset.
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(browser, 30).until(
            lambda driver: driver.execute_script(
                "return document.querySelectorAll('.MJXc-display').length"
            )
            >= 5
        )
    # Every image has loaded: a broken one has naturalWidth 0.
    broken = browser.execute_script(
        "return Array.from(document.images)"
        ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);"
    )
    assert broken == [], f"{PAGES[name]}: broken images {broken}"
    # Every internal link answers.
    bad = []
    for url in _internal_links(browser, server):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                if response.status != 200:
                    bad.append((url, response.status))
        except urllib.error.URLError as error:
            bad.append((url, str(error)))
    assert bad == [], f"{PAGES[name]}: broken links {bad}"
    browser.save_screenshot(str(tmp_path / f"{name}.png"))
    shots = SITE.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    browser.save_screenshot(str(shots / f"{name}.png"))


@needs_site[0]
@needs_site[1]
def test_search_finds_the_subspace_pages(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "search.html?q=subspace")
    # The search index (searchindex.js) loads and the results are listed.
    results = WebDriverWait(browser, 30).until(
        expected_conditions.presence_of_all_elements_located(
            (By.CSS_SELECTOR, "#search-results ul.search li")
        )
    )
    assert len(results) >= 3
    titles = " ".join(result.text for result in results)
    assert "PartOfSpeechComponentAnalysis" in titles or "method" in titles.lower()
    browser.save_screenshot(str(SITE.parent / "screenshots" / "search.png"))
