"""Sphinx configuration of the sklearn_pos documentation.

Build with ``make -C doc html`` (warnings are errors, cross-references are
checked). The build needs no network: the examples run on the bundled tiny
model, and the intersphinx inventories are used only where they can be had.
"""

import os
import shutil
import sys
import urllib.request
from pathlib import Path

DOC = Path(__file__).resolve().parent
ROOT = DOC.parent
# Document (and run the examples against) the package of this source tree,
# whatever else is installed.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOC / "sphinxext"))

# The Array API example needs SciPy's Array API support, which is read when
# SciPy is first imported (by sklearn_pos, just below).
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import sklearn_pos  # noqa: E402

project = "sklearn_pos"
author = "sklearn_pos developers"
copyright = "sklearn_pos developers, BSD-3-Clause"
release = sklearn_pos.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx_design",
    "sphinx_copybutton",
    "myst_parser",
    "api_check",
    # docstring fix pending: attribute names ending in "_" in type lines
    # (e.g. "ndarray of shape (n_features_in_,)") need backquotes in
    # sklearn_pos's docstrings; until then they are escaped at build time.
    "docstring_types",
    "resolve_aliases",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
default_role = "literal"

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
# The maths of MyST pages is rendered like that of the reStructuredText pages
# (MyST's own MathJax settings are for MathJax 3 and would override the
# MathJax 2 configuration below).
myst_update_mathjax = False

# -- API reference ------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"
# "On this page" lists methods as "fit", not "PartOfSpeechComponentAnalysis.fit".
toc_object_entries_show_parents = "hide"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# numpydoc's own checks of the docstrings run in the test suite's doctests;
# here only the rendering is needed.
numpydoc_validation_checks = set()

# -- Cross-references to other projects ----------------------------------------
# Sphinx fetches intersphinx inventories over the network, and an inventory it
# cannot fetch is a warning (an error under -W) that no setting can silence.
# So an inventory is listed only where it can be had: a copy under
# doc/_intersphinx/<name>.inv (kept out of git; put one there to build offline
# with links), or its URL when that answers within a few seconds. Without
# either, references into that project are left as plain text (see
# nitpick_ignore_regex below) and the build still passes.
_INVENTORIES = {
    "python": "https://docs.python.org/3",
    "numpy": "https://numpy.org/doc/stable",
    "scipy": "https://docs.scipy.org/doc/scipy",
    "sklearn": "https://scikit-learn.org/stable",
    "pandas": "https://pandas.pydata.org/docs",
    "torch": "https://docs.pytorch.org/docs/stable",
    "dask": "https://docs.dask.org/en/stable",
    "distributed": "https://distributed.dask.org/en/stable",
    "joblib": "https://joblib.readthedocs.io/en/stable",
    "matplotlib": "https://matplotlib.org/stable",
    "pyarrow": "https://arrow.apache.org/docs",
}


def _reachable(url, timeout):
    try:
        with urllib.request.urlopen(url + "/objects.inv", timeout=timeout) as response:
            return response.status == 200
    except Exception:  # offline, DNS failure, timeout, HTTP error: not reachable
        return False


_offline = os.environ.get("SKLEARN_POS_DOC_OFFLINE", "") == "1"
intersphinx_mapping = {}
for _name, _url in _INVENTORIES.items():
    _local = DOC / "_intersphinx" / f"{_name}.inv"
    if _local.is_file():
        intersphinx_mapping[_name] = (_url, str(_local))
    elif not _offline and _reachable(_url, timeout=3):
        intersphinx_mapping[_name] = (_url, None)
intersphinx_timeout = 10
print(
    "intersphinx inventories used: "
    + (", ".join(sorted(intersphinx_mapping)) or "none (offline)"),
    file=sys.stderr,
)

# References into other projects resolve through intersphinx when their
# inventory is there; without it (offline) they are plain text instead of a
# nitpicky error. Only names of those projects are ignored: a broken reference
# to sklearn_pos itself still fails the build.
_EXTERNAL = (
    r"(sklearn|numpy|np|scipy|pandas|pd|torch|dask|distributed|pyarrow|pa|"
    r"joblib|matplotlib|mpl|PIL|open_clip|tqdm|threadpoolctl|os|pathlib|"
    r"collections|typing|io|argparse|concurrent|json)"
)
nitpick_ignore_regex = [
    # Fitted attributes (ending in "_") are described in each class's
    # Attributes section, which numpydoc renders as a list, not as targets.
    (r"py:attr", r".*_"),
    (r"py:.*", _EXTERNAL + r"(\..*)?"),
    # Python's built-in types and constants, resolved by the "python" inventory.
    (
        r"py:.*",
        r"(str|int|float|bool|bytes|list|tuple|dict|set|None|True|False|object|"
        r"callable|Exception|ValueError|TypeError|RuntimeError|OSError|"
        r"UserWarning|Warning|PathLike|Path|Sequence|Mapping|Iterable)",
    ),
]

nitpick_ignore = [
    # docstring fix pending: EmbeddingStore.get refers to item_key, which
    # sklearn_pos.store does not export (add it to sklearn_pos.store.__all__,
    # or write ``item_key`` as code).
    ("py:func", "item_key"),
]

# -- Gallery ---------------------------------------------------------------------
# sphinx-gallery runs the scripts of examples/ as they are. Without weights in
# the local cache they fall back to the bundled tiny model by themselves
# (sklearn_pos.caveats.choose_clip_weights); SKLEARN_POS_EXAMPLE_TINY=1 (the
# default here) asks for the tiny model without trying any weights, so the
# build never waits on a download. Run `SKLEARN_POS_EXAMPLE_TINY=0 make -C doc
# html` for a gallery of real weights.
os.environ.setdefault("SKLEARN_POS_EXAMPLE_TINY", "1")

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    # The figures the examples leave open are collected by matplotlib's
    # scraper, the default.
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "doc_module": ("sklearn_pos",),
    "backreferences_dir": "generated/backreferences",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "show_memory": False,
    "min_reported_time": 1,
}

# -- Maths -------------------------------------------------------------------------
# Sphinx loads MathJax from a CDN. Where a copy of MathJax 2 is installed
# (Debian's libjs-mathjax, or a folder named by SKLEARN_POS_DOC_MATHJAX), the
# files the pages need (about 1.5 MB) are shipped with the site instead, so
# its maths renders without a network, as when it is opened from a file.
_MATHJAX = Path(
    os.environ.get("SKLEARN_POS_DOC_MATHJAX", "/usr/share/javascript/mathjax")
)
_MATHJAX_PARTS = (
    "MathJax.js",
    "extensions",
    "jax/element",
    "jax/input/TeX",
    "jax/output/CommonHTML",
    "fonts/HTML-CSS/TeX/woff",
)
html_static_path = []
if (_MATHJAX / "MathJax.js").is_file():
    _mathjax_static = DOC / "_build" / "mathjax_static"
    for _part in _MATHJAX_PARTS:
        _source, _target = _MATHJAX / _part, _mathjax_static / "mathjax" / _part
        if _source.is_dir():
            shutil.copytree(_source, _target, dirs_exist_ok=True)
        elif _source.is_file():
            _target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_source, _target)
    html_static_path.append(str(_mathjax_static))
    mathjax_path = "mathjax/MathJax.js"
    mathjax2_config = {
        "jax": ["input/TeX", "output/CommonHTML"],
        "extensions": ["tex2jax.js"],
        "TeX": {"extensions": ["AMSmath.js", "AMSsymbols.js"]},
        "tex2jax": {
            "inlineMath": [["\\(", "\\)"]],
            "displayMath": [["\\[", "\\]"]],
            "processEscapes": True,
        },
        "CommonHTML": {"linebreaks": {"automatic": True}},
        # No "Loading ..." box in the corner of every page.
        "messageStyle": "none",
    }

# -- HTML ------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn_pos {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # The rest goes under "More", so that the navbar stays on one line.
    "header_links_before_dropdown": 5,
    "icon_links": [],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# Pages without sections of their own get no (empty) navigation sidebar.
html_sidebars = {
    page: []
    for page in ("index", "install", "getting_started", "benchmarks",
                 "development", "changelog", "citation", "api")
}
# Unlabelled code blocks (the printed tables of the benchmarks and the CLI)
# are text, not Python to colour.
highlight_language = "text"
html_show_sourcelink = False
