"""The ``graphdiff`` command.

``graphdiff datasets``  lists every dataset of the manifest: whether its files are under the data root, their size
                        and their source.
``graphdiff demo``      the main job: summaries of the embedded synthetic graphs and of a real dataset when present,
                        then a short run of each method (ERASE, local clustering, LLP, EchoScene).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

METHODS = ("erase", "cluster", "llp", "scene")


def _summary(name: str, data) -> str:
    parts = [f"{data.num_nodes} nodes", f"{data.edge_index.size(1)} directed edges"]
    if getattr(data, "x", None) is not None:
        parts.append(f"{data.x.size(1)} features")
    if getattr(data, "num_classes", None) is not None:
        parts.append(f"{data.num_classes} classes")
    if getattr(data, "train_mask", None) is not None:
        parts.append(f"split {int(data.train_mask.sum())}/{int(data.val_mask.sum())}/{int(data.test_mask.sum())}")
    return f"  {name:<22s} " + ", ".join(parts)


def _format_size(num_bytes) -> str:
    if num_bytes is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if num_bytes < 1024 or unit == "GB":
            return f"{num_bytes:.0f} {unit}" if unit == "B" else f"{num_bytes:.1f} {unit}"
        num_bytes /= 1024.0
    return str(num_bytes)


def _root_line(root) -> str:
    """``data root: <path>``, saying so when the path is not a directory (then nothing can be found under it)."""
    from graphdiff.data.loaders import _blocking_path

    blocked = _blocking_path(root)
    if blocked is None:
        return f"data root: {root}" + ("" if root.is_dir() else " (does not exist)")
    path, what = blocked
    if path == root:
        return f"data root: {root} is {what}, not a directory: no dataset can be found under it"
    return f"data root: {root} cannot exist: {path} is {what}, not a directory"


def cmd_datasets(args) -> int:
    """``graphdiff datasets``: one line per dataset of the manifest (present, size, source)."""
    from graphdiff import data as gd

    root = gd.data_root(args.root)
    rows = gd.datasets_status(args.root)
    print(_root_line(root))
    width = max(len(r["name"]) for r in rows)
    print(f"{'name':<{width}s}  {'present':<8s} {'size':>9s}  source")
    for r in rows:
        present = "yes" if r["present"] else "MISSING"
        absent_optional = [f["name"] for f in r.get("files", []) if f.get("optional") and not f.get("present")]
        if r["present"] and absent_optional:
            present = "partial"
        line = f"{r['name']:<{width}s}  {present:<8s} {_format_size(r.get('size_bytes')):>9s}  {r.get('url', '')}"
        if present == "partial":
            line += f"  (without {', '.join(absent_optional)})"
        print(line)
    missing = [r["name"] for r in rows if not r["present"]]
    from graphdiff.data.loaders import _blocking_path

    if _blocking_path(root) is not None:
        print(f"\nNo dataset can be under {root}: set GRAPHDIFF_DATA (or --root) to a directory.")
    elif missing:
        print(
            f"\n{len(missing)} dataset(s) missing under {root}; `graphdiff.data.load(name)` says which file goes where."
        )
    return 0


def cmd_demo(args) -> int:
    """``graphdiff demo``: data summaries, then each method's ``run_demo``; exit status 1 if one failed."""
    from graphdiff import data as gd
    from graphdiff.data import synthetic

    print("graphdiff demo")
    print("Embedded synthetic graphs (no files needed):")
    print(_summary("contextual_sbm", synthetic.contextual_sbm(seed=0)))
    pp = synthetic.planted_partition(seed=0)
    print(_summary("planted_partition", pp) + f", target cluster of {pp.target.numel()} nodes")
    root = gd.data_root(None)
    print(f"Real datasets under {root}:")
    shown = False
    for name in ("cora", "citeseer"):
        try:
            print(_summary(name, gd.load(name)))
            shown = True
        except (OSError, ValueError) as exc:  # missing (MissingDataError), corrupt (ChecksumError) or unreadable
            kind = "corrupt" if isinstance(exc, gd.ChecksumError) else "not available"
            print(f"  {name:<22s} {kind}: {str(exc).splitlines()[0]}")
    if not shown:
        print("  (set GRAPHDIFF_DATA to the folder holding planetoid/, amazon_photo/, ... to use real data)")
    methods = args.only or METHODS
    failures = 0
    for method in methods:
        try:
            module = importlib.import_module(f"graphdiff.{method}.demo")
        except ModuleNotFoundError:
            print(f"\n[{method}] no demo available in this build")
            continue
        print(f"\n[{method}]")
        start = time.perf_counter()
        try:
            module.run_demo(verbose=True)
        except Exception as exc:  # one method failing must not hide the others; the exit code reports it
            failures += 1
            print(f"[{method}] FAILED: {type(exc).__name__}: {exc}")
        print(f"[{method}] done in {time.perf_counter() - start:.1f} s")
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    """The ``graphdiff`` argument parser (sub-commands ``datasets`` and ``demo``)."""
    parser = argparse.ArgumentParser(prog="graphdiff", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_data = sub.add_parser("datasets", help="list datasets and whether they are present under the data root")
    p_data.add_argument("--root", default=None, help="data root (default: $GRAPHDIFF_DATA, else the user cache)")
    p_data.set_defaults(func=cmd_datasets)
    p_demo = sub.add_parser("demo", help="the main job: data summaries and a short run of every method")
    p_demo.add_argument("--only", nargs="+", choices=METHODS, help="run only these methods' demos")
    p_demo.set_defaults(func=cmd_demo)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``graphdiff`` command; returns the exit status.

    Examples
    --------
    >>> build_parser().parse_args(["demo", "--only", "erase"]).only
    ['erase']
    """
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
