"""Sphinx extension that builds the generated parts of the graphdiff site before Sphinx reads the sources.

* **API reference.** For every package in :data:`PACKAGES`, ``api/<package>.rst`` lists what the package exports in
  ``__all__`` (a package without ``__all__``: its public submodules), grouped into classes, functions and constants,
  with an ``autosummary`` table whose entries get one page each (``api/generated/<name>.rst``, written by
  ``sphinx.ext.autosummary`` from ``docs/_templates/autosummary``). A submodule listed in ``__all__`` (for example
  ``graphdiff.data.noise``) gets a section of its own with its public functions and classes (its ``__all__``, else
  the public names it defines). An object exported in two places is documented once, at the first place in
  :data:`PACKAGES` order; later places link to it.
* **Notebooks.** ``notebooks/*.ipynb`` are copied to ``docs/notebooks/`` (myst-nb reads sources under ``docs/``
  only); a copy is rewritten only when its content changed, so an incremental build re-executes only the notebooks
  that changed.
* **Cross-references to private module paths.** A docstring may name an object by the module that defines it
  (``graphdiff.erase.model.ERASE``) while the reference documents it where users import it from
  (``graphdiff.erase.ERASE``); the ``missing-reference`` handler maps the first to the second instead of leaving a
  broken link (which ``-n`` would report). A bare name (``:func:`flow_diffusion```) that no module context resolves
  links to the one documented object of that name; an ambiguous bare name stays an error.
* **scikit-learn's metadata-routing methods.** ``set_fit_request`` and the other ``set_*_request`` methods that
  scikit-learn generates on an estimator whose ``fit`` / ``predict`` take more than ``X, y`` are not graphdiff API
  (graphdiff estimators are not used inside meta-estimators' routing); their docstrings link into scikit-learn's
  glossary. The ``autodoc-skip-member`` handler leaves them off the class pages.
* **Constants.** A constant (``CLASSES``, ``INVERSE_PREDICATE``) has no docstring of its own, so autodoc would show
  the docstring of its type (``tuple``, ``numpy.ndarray``). The ``autodoc-process-docstring`` handler replaces it by
  the ``#:`` comment above the constant's definition, else by a line naming its type (and length, or dtype and
  shape).

Every file this extension writes is git-ignored (``docs/.gitignore``).
"""

from __future__ import annotations

import ast
import filecmp
import importlib
import inspect
import pkgutil
import re
import shutil
import sys
import types
from pathlib import Path

from sphinx.pycode import ModuleAnalyzer, PycodeError
from sphinx.util import logging

logger = logging.getLogger(__name__)

DOCS = Path(__file__).resolve().parent.parent
ROOT = DOCS.parent

#: The packages of the API reference, in the order of its table of contents.
PACKAGES = [
    ("graphdiff.data", "Data: loaders, noise, splits, bags, synthetic graphs, validation"),
    ("graphdiff.nn", "Building blocks: propagation, coding rate, attention, triplet GCN, diffusion"),
    ("graphdiff.base", "The estimator protocol"),
    ("graphdiff.erase", "ERASE: node classification under label noise"),
    ("graphdiff.cluster", "Local graph clustering with noisy labels"),
    ("graphdiff.llp", "Learning from label proportions by belief propagation"),
    ("graphdiff.scene", "EchoScene: scene-graph diffusion with information echo"),
]

#: Module names never documented: command-line demos (they print, they are not API).
SKIP_MODULES = {"demo"}

# id(object) -> the full name it is documented under; filled by write_api_pages
_documented: dict[int, str] = {}


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _public_members(module: types.ModuleType) -> list[str]:
    """Names a module exports: ``__all__``, else the public names it defines (functions and classes)."""
    if hasattr(module, "__all__"):
        return [n for n in module.__all__ if not n.startswith("__")]
    if hasattr(module, "__path__"):  # a package without __all__: its public submodules
        return [
            info.name
            for info in pkgutil.iter_modules(module.__path__)
            if not info.name.startswith("_") and info.name not in SKIP_MODULES
        ]
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and getattr(obj, "__module__", None) == module.__name__
    ]


def _member(module: types.ModuleType, name: str):
    """``module.name``; a submodule not imported by its package is imported."""
    if hasattr(module, name):
        return getattr(module, name)
    if hasattr(module, "__path__"):
        try:
            return importlib.import_module(f"{module.__name__}.{name}")
        except ImportError:
            return None
    return None


def _kind(obj) -> str:
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


_SECTION_TITLES = {"class": "Classes", "function": "Functions", "data": "Constants"}


def _section(modname: str, names: list[str], module: types.ModuleType, underline: str) -> list[str]:
    """Autosummary tables of ``names`` (members of ``module``), one per kind, plus links for those documented
    elsewhere."""
    lines = []
    by_kind: dict[str, list[str]] = {"class": [], "function": [], "data": []}
    elsewhere: list[tuple[str, str]] = []
    for name in names:
        obj = _member(module, name)
        if obj is None:
            logger.warning(f"{modname}.__all__ names {name!r}, which {modname} does not define", type="graphdiff")
            continue
        kind = _kind(obj)
        if kind == "module":
            continue
        full = f"{modname}.{name}"
        key = id(obj)
        # plain values (ints, strings, tuples of them) are not unique objects: never treat them as re-exports
        if kind != "data" and key in _documented and _documented[key] != full:
            elsewhere.append((name, _documented[key]))
            continue
        if kind != "data":
            _documented[key] = full
        by_kind[kind].append(name)
    for kind, members in by_kind.items():
        if not members:
            continue
        lines += [_SECTION_TITLES[kind], underline * len(_SECTION_TITLES[kind]), ""]
        lines += [".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
        lines += [f"   {m}" for m in members]
        lines.append("")
    if elsewhere:
        title = "Also exported here"
        lines += [title, underline * len(title), ""]
        lines += [f"* :py:obj:`{modname}.{name} <{target}>` (documented as ``{target}``)" for name, target in elsewhere]
        lines.append("")
    return lines


def write_api_pages() -> list[str]:
    """Write ``api/<package>.rst`` for every package; return the page names (for the API index)."""
    _documented.clear()
    pages = []
    for modname, _title in PACKAGES:
        module = importlib.import_module(modname)
        names = _public_members(module)
        lines = [modname, "=" * len(modname), "", f".. automodule:: {modname}", "", f".. currentmodule:: {modname}", ""]
        lines += _section(modname, names, module, "-")
        for name in names:
            obj = _member(module, name)
            if not inspect.ismodule(obj):
                continue
            sub = obj.__name__
            lines += [sub, "-" * len(sub), "", f".. automodule:: {sub}", "", f".. currentmodule:: {sub}", ""]
            lines += _section(sub, _public_members(obj), obj, "~")
        _write_if_changed(DOCS / "api" / f"{modname}.rst", "\n".join(lines).rstrip() + "\n")
        pages.append(modname)
    index = ["API reference", "=============", ""]
    index += [
        "Generated from the docstrings of what each package exports (its ``__all__``); one page per class and "
        "function. Every example on these pages runs in ``make test`` (``pytest --doctest-modules graphdiff``).",
        "",
        ".. toctree::",
        "   :maxdepth: 1",
        "",
    ]
    index += [f"   {modname} -- {title} <{modname}>" for modname, title in PACKAGES]
    _write_if_changed(DOCS / "api" / "index.rst", "\n".join(index) + "\n")
    return pages


def copy_notebooks() -> list[str]:
    """Copy ``notebooks/*.ipynb`` into ``docs/notebooks/`` (only those whose content changed); drop stale copies."""
    src_dir, dst_dir = ROOT / "notebooks", DOCS / "notebooks"
    dst_dir.mkdir(exist_ok=True)
    names = sorted(p.name for p in src_dir.glob("*.ipynb") if not p.name.endswith(".executed.ipynb"))
    for name in names:
        src, dst = src_dir / name, dst_dir / name
        if not dst.exists() or not filecmp.cmp(src, dst, shallow=False):
            shutil.copyfile(src, dst)
    for stale in dst_dir.glob("*.ipynb"):
        if stale.name not in names:
            stale.unlink()
    return [n[: -len(".ipynb")] for n in names]


def _lookup(target: str):
    """The object a dotted name ``graphdiff....`` points to, or None."""
    parts = target.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _canonical(target: str) -> str | None:
    """The documented name of the object ``target`` names by another path (its defining module), or by its bare
    name when exactly one documented object has that name; None otherwise."""
    if "." not in target:
        matches = {full for full in _documented.values() if full.rsplit(".", 1)[-1] == target}
        return matches.pop() if len(matches) == 1 else None
    if not target.startswith("graphdiff."):
        return None
    parts = target.split(".")
    # the longest prefix that is a documented object; the rest is an attribute of it (a method, an attribute)
    for i in range(len(parts), 1, -1):
        obj = _lookup(".".join(parts[:i]))
        if obj is not None and id(obj) in _documented:
            name = ".".join([_documented[id(obj)], *parts[i:]])
            return name if name != target else None
    return None


def _missing_reference(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = _canonical(node["reftarget"])
    if target is None:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], target, node, contnode)


def _process_bases(app, name, obj, options, bases: list) -> None:
    """ "Bases:" of a class page: a private base (one the reference does not document, such as an internal mixin) is
    replaced by its own bases, so the line names only documented or external classes; ``object`` is dropped."""
    out: list = []

    def visit(base):
        if base is object:
            return
        public = id(base) in _documented or not getattr(base, "__module__", "").startswith("graphdiff")
        if public:
            if base not in out:
                out.append(base)
        else:
            for parent in base.__bases__:
                visit(parent)

    for base in bases:
        visit(base)
    bases[:] = out


#: Methods scikit-learn's metadata routing adds to an estimator class (``set_fit_request``, ``set_score_request``).
REQUEST_METHOD = re.compile(r"set_\w+_request")


def _skip_member(app, what, name, obj, skip, options):
    """Leave scikit-learn's generated ``set_*_request`` methods off the class pages (None: autodoc decides)."""
    if what == "class" and REQUEST_METHOD.fullmatch(name):
        return True
    return None


def _doc_comment(fullname: str, obj) -> list[str]:
    """The ``#:`` comment above the definition of the constant ``fullname``, or ``[]``: looked up in the documented
    module and in those of its submodules that hold the same object (a package re-exports what its private modules
    define)."""
    modname, _, attr = fullname.rpartition(".")
    candidates = [
        name
        for name in sorted(sys.modules)
        if name.startswith(modname + ".") and getattr(sys.modules[name], attr, None) is obj
    ]
    for name in candidates:
        try:
            comment = ModuleAnalyzer.for_module(name).find_attr_docs().get(("", attr))
        except PycodeError:
            continue
        if comment:
            return list(comment)
    return []


def _describe(obj) -> str:
    """One line naming the type of a constant: ``numpy.ndarray`` of dtype and shape, or a container and its length."""
    if hasattr(obj, "dtype") and hasattr(obj, "shape"):
        return (
            f"``{type(obj).__module__}.{type(obj).__name__}`` of dtype ``{obj.dtype}``, shape ``{tuple(obj.shape)}``."
        )
    if isinstance(obj, (tuple, list, dict, set, frozenset)):
        return f"``{type(obj).__name__}`` of {len(obj)} items."
    return f"``{type(obj).__name__}``."


def _constant_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    """A constant's docstring instead of the docstring of its type (runs before numpydoc reads ``lines``)."""
    if what != "data" or inspect.ismodule(obj) or callable(obj):
        return
    own, of_type = getattr(obj, "__doc__", None), getattr(type(obj), "__doc__", None) or ""
    if own and of_type.strip() not in own:  # (numpy prefixes an array's type docstring with the signature)
        return  # the object has a docstring of its own
    modname, _, attr = name.rpartition(".")
    try:
        if ModuleAnalyzer.for_module(modname).find_attr_docs().get(("", attr)):
            return  # autodoc read the #: comment of the documented module
    except PycodeError:
        pass
    lines[:] = [*(_doc_comment(name, obj) or [_describe(obj)]), ""]


def normalize_warnings(text: str, root: Path = ROOT) -> set[str]:
    """Sphinx's warning file (``-w``) as a set of one-line keys that survive edits elsewhere in a file: paths
    relative to the repository, line numbers dropped, the items of ``{...}`` sets sorted (numpydoc prints Python
    sets), continuation lines (numpydoc's one line per check) joined to their warning with `` | ``."""
    entries: list[str] = []
    for line in text.replace(str(root) + "/", "").splitlines():
        if not line.strip():
            continue
        if line.startswith((" ", "\t")) and entries:
            entries[-1] += " | " + line.strip()
        else:
            entries.append(line.strip())
    return {_sorted_sets(re.sub(r":\d+:", ":", entry)) for entry in entries}  # "X.py:docstring of f:12:" -> "..f:"


def _sorted_sets(text: str) -> str:
    """``text`` with every printed Python set of strings (``{'b', 'a, c'}``) rewritten with its items sorted."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "{" and text[i + 1 : i + 2] in ("'", '"'):
            j, quote = i + 1, None  # find the closing brace outside quotes
            while j < len(text) and (quote or text[j] != "}"):
                if quote and text[j] == "\\":
                    j += 1
                elif text[j] in "'\"" and (quote is None or text[j] == quote):
                    quote = None if quote else text[j]
                j += 1
            try:
                items = ast.literal_eval(text[i : j + 1])
            except (SyntaxError, ValueError):
                items = None
            if isinstance(items, set):
                out.append("{" + ", ".join(repr(x) for x in sorted(items)) + "}")
                i = j + 1
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _config_inited(app, config) -> None:
    write_api_pages()
    copy_notebooks()


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")  # defines autodoc-process-bases
    # at config-inited, before Sphinx lists the source files (and autosummary reads them for its stubs)
    app.connect("config-inited", _config_inited)
    app.connect("missing-reference", _missing_reference)
    app.connect("autodoc-process-bases", _process_bases)
    app.connect("autodoc-skip-member", _skip_member)
    # before numpydoc's handler (priority 500), which parses and validates the lines this one writes
    app.connect("autodoc-process-docstring", _constant_docstring, priority=400)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str] | None = None) -> None:
    """``python docs/_ext/graphdiff_docs.py WARNINGS_FILE [--update KNOWN_WARNINGS]``: print the normalised keys of a
    build's warnings (``sphinx -w WARNINGS_FILE``), one per line, in the form of ``docs/known_warnings.txt``; with
    ``--update``, write them into that file instead, below its ``#`` header."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("warnings_file", type=Path, help="the warnings file of a build (sphinx -w)")
    parser.add_argument("--update", type=Path, metavar="KNOWN_WARNINGS", help="rewrite this list (header kept)")
    args = parser.parse_args(argv)
    keys = sorted(normalize_warnings(args.warnings_file.read_text()))
    if args.update is None:
        print("\n".join(keys))
        return
    old = args.update.read_text().splitlines() if args.update.exists() else []
    header = [line for line in old if line.startswith("#")]
    args.update.write_text("\n".join(header + keys) + "\n")
    print(f"{args.update}: {len(keys)} warning(s)")


if __name__ == "__main__":
    main()
