"""Sphinx configuration of the graphdiff documentation (``make docs``; ``tests/test_docs.py`` builds it too).

The site: the narrative pages of ``docs/`` (MyST markdown), the API reference generated from the docstrings
(numpydoc + autodoc + autosummary, pages written by ``docs/_ext/graphdiff_docs.py``), the full benchmark tables
(``docs/results/*.md``, written by ``benchmarks/make_tables.py`` from ``benchmarks/results/*.json``) and the four
notebooks, which myst-nb executes during the build in their fast setting (``GRAPHDIFF_FAST=1``) and writes, executed,
to ``<build>/jupyter_execute/notebooks/`` (``tests/test_notebooks.py`` checks those copies).

Environment switches (all optional):

* ``GRAPHDIFF_FAST=0`` executes the notebooks in their full setting (minutes each) instead of the fast one.
* ``GRAPHDIFF_DOCS_EXECUTE=off`` renders the notebooks as stored, without running them (quick local iteration).
* ``GRAPHDIFF_DOCS_INTERSPHINX=1`` links types of torch, PyG, numpy, scipy and scikit-learn to their documentation;
  it downloads their inventories, so it needs network access. Without it (CI and ``make test`` build offline) such
  names are rendered as text, and only they are exempt from the nitpicky reference check.
"""

from __future__ import annotations

import builtins
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

# The notebooks run in a kernel (a subprocess): it must import graphdiff from this checkout, run in the fast setting
# on one thread, and draw with matplotlib's inline backend (a non-interactive MPLBACKEND would swallow the figures).
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
os.environ.setdefault("GRAPHDIFF_FAST", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.pop("MPLBACKEND", None)

import graphdiff  # noqa: E402

project = "graphdiff"
author = "graphdiff developers"
copyright = "graphdiff developers"
release = graphdiff.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "graphdiff_docs",  # first: writes the API pages and notebook copies before autosummary reads them
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_nb",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# -- references: every cross-reference must resolve (-n) ---------------------------------------------------------
nitpicky = True
_EXTERNAL = (
    "torch",
    "torch_geometric",
    "numpy",
    "np",
    "scipy",
    "sklearn",
    "networkx",
    "nx",
    "pandas",
    "faiss",
    "numba",
    "matplotlib",
    "diffusers",
    "dask",
    "distributed",
    "tqdm",
    "dgl",
    "typing",
    "collections",
    "dataclasses",
    "pathlib",
    "os",
    "enum",
    "warnings",
    "concurrent",
    "contextlib",
    "functools",
    "itertools",
    "json",
    "math",
    "urllib",
)
# Python's own names (int, float, ValueError, ...) have no target without intersphinx either.
_BUILTINS = sorted(n for n in dir(builtins) if not n.startswith("_"))
if os.environ.get("GRAPHDIFF_DOCS_INTERSPHINX") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "torch": ("https://pytorch.org/docs/stable", None),
        "torch_geometric": ("https://pytorch-geometric.readthedocs.io/en/latest", None),
        "networkx": ("https://networkx.org/documentation/stable", None),
    }
    nitpick_ignore_regex = []
else:
    nitpick_ignore_regex = [(r"py:.*", rf"({'|'.join(_EXTERNAL)})(\..*)?")]
    nitpick_ignore_regex += [(r"py:.*", rf"({'|'.join(_BUILTINS)})")]
    # numpydoc links None, True, str, ... into Python's inventory (python:...) and the types "array-like",
    # "sequence", "iterable", "scalar" into the glossaries of Python and numpy (:term:`numpy:array_like`,
    # :term:`python:sequence`, ...): absent offline, they are rendered as text
    nitpick_ignore_regex += [(r"py:.*", r"python:.*"), (r"(std:)?(ref|term)", r"(python|numpy):.*")]

# -- autodoc / autosummary / numpydoc ------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autosummary_ignore_module_all = False
autodoc_member_order = "bysource"
# types come from the numpydoc Parameters / Returns sections (with shapes), as in scikit-learn and PyG
autodoc_typehints = "none"
autodoc_inherit_docstrings = True
numpydoc_show_class_members = False  # the class template lists members with autodoc
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"  # link only the names below; free text in a type ("of shape (n, d)") stays text
numpydoc_xref_aliases = {
    "Tensor": "torch.Tensor",
    "LongTensor": "torch.Tensor",
    "BoolTensor": "torch.Tensor",
    "FloatTensor": "torch.Tensor",
    "Data": "torch_geometric.data.Data",
    "ndarray": "numpy.ndarray",
    "Generator": "torch.Generator",
    "Estimator": "graphdiff.base.Estimator",
}
if os.environ.get("GRAPHDIFF_DOCS_INTERSPHINX") != "1":
    # numpydoc's own aliases link None, list, str, array-like, sequence, ... into the inventories of Python and numpy
    # (:class:`python:list`, :term:`numpy:array_like`); unresolved offline, they would read "python:list": render
    # those types as written instead
    from numpydoc.xref import DEFAULT_LINKS

    numpydoc_xref_aliases.update(
        {name: name for name, link in DEFAULT_LINKS.items() if "python:" in link or "numpy:" in link}
    )
# numpydoc checks that fail the build: an undocumented public object, a parameter missing from (or unknown to) the
# Parameters section, a section numpydoc does not know. (The full numpydoc list is in CONTRIBUTING.md's docs part.)
numpydoc_validation_checks = {"GL08", "PR01", "PR02", "GL06", "GL07"}
# dunder methods and members inherited from torch.nn.Module / scikit-learn carry their own docstrings
numpydoc_validation_exclude = {r"\.__\w+__$", r"\.forward$", r"\.extra_repr$"}

# -- MyST and notebooks ---------------------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 4
nb_execution_mode = os.environ.get("GRAPHDIFF_DOCS_EXECUTE", "force")
nb_execution_timeout = 600  # seconds per cell; the fast setting takes a minute or two per notebook
nb_execution_raise_on_error = False  # an error is a warning (an error under -W), so --keep-going reports all of them
nb_execution_show_tb = True
# not nb_merge_streams: myst-nb 1.4 merges the streams of a cell in place and writes the executed copy with the
# merged text *and* the later originals, so tests/test_notebooks.py would read every line after the first twice
nb_merge_streams = False

# -- HTML ------------------------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"graphdiff {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_static_path: list[str] = []
html_show_sourcelink = False
