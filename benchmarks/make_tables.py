"""Regenerate the README result tables from ``benchmarks/results/*.json``.

Each results file ``<name>.json`` fills the block between ``<!-- results:<name> -->`` and ``<!-- /results:<name> -->``
in README.md. Tables are pivoted: one table per metric, one line per (dataset, setting), one column per method,
``mean ± std (n)``; a cost table lists ``time_s`` and ``peak_mem_mb`` where rows carry them. Nothing in those blocks
is typed by hand: edit the JSON's producer, rerun the benchmark, and rerun ``python benchmarks/make_tables.py``.

Usage: ``python benchmarks/make_tables.py [--check]`` (``--check`` exits 1 if README.md is out of date).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"

# Metrics shown in the README per benchmark (in this order); the others stay in the JSON and are named under the
# tables. A benchmark not listed here shows every metric.
README_METRICS = {
    "erase_label_noise": ["test_accuracy", "gain_over_gcn", "test_accuracy_direct", "fit_cpu_s", "peak_mem_mb"],
    "local_clustering": ["f1", "ms_per_seed", "touched_nodes"],
    "label_proportions": ["test_auc", "bp_converged", "bp_iterations", "bp_time_s", "knn_time_s"],
    "scene_generation": [
        "acc_left_right",
        "acc_front_behind",
        "acc_directional",
        "acc_bigger_smaller",
        "acc_taller_shorter",
        "acc_standing_on",
        "acc_close_by",
        "acc_symmetrical",
        "acc_mean",
        "layout_mmd",
        "shape_mmd_cd",
        "shape_cov_cd",
        "shape_1nna_cd",
        "shape_consistency_cd",
        "acc_flipped",
        "acc_directional_unchanged",
        "scenes_per_s",
    ],
}


def _setting_str(setting: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in setting.items()) or "-"


def _fmt(value: float, metric: str) -> str:
    if metric.endswith("_mb"):
        return f"{value:.0f}"
    if metric.endswith("_s") or metric.startswith("ms_"):
        return f"{value:.3g}"
    if abs(value) >= 1000:
        return f"{value:.0f}"
    return f"{value:.3f}"


def _cell(row: dict) -> str:
    text = _fmt(row["mean"], row["metric"])
    if row.get("n", 1) > 1:
        text += f" ± {_fmt(row['std'], row['metric'])} ({row['n']})"
    return text


def render(doc: dict, source: str) -> str:
    rows = doc["rows"]
    env = doc.get("environment", {})
    head = (
        f"From `{source}` ({doc.get('created', '?')}, device {env.get('device', '?')}, "
        f"{env.get('threads', '?')} threads, commit {env.get('git_commit', '?')}); "
    )
    # a results file assembled by several invocations (sharing a run cache) lists them joined by " ; " or " && "
    commands = [c.strip() for c in re.split(r" ; | && ", doc.get("command", "?")) if c.strip()]
    if len(commands) == 1:
        lines = [head + f"reproduce with `{commands[0]}`.", ""]
    else:
        lines = [head + f"reproduce with these {len(commands)} invocations, in this order:", "", "```"]
        lines += commands + ["```", ""]
    metrics: list[str] = []
    for r in rows:
        if r["metric"] not in metrics:
            metrics.append(r["metric"])
    shown = README_METRICS.get(doc.get("benchmark"), metrics)
    hidden = [m for m in metrics if m not in shown]
    for metric in [m for m in shown if m in metrics]:
        mrows = [r for r in rows if r["metric"] == metric]
        # knobs equal in every row of this table are stated once above it instead of in every line
        common = (
            {
                k: v
                for k, v in mrows[0]["setting"].items()
                if all(k in r["setting"] and r["setting"][k] == v for r in mrows)
            }
            if len(mrows) > 1
            else {}
        )
        methods: list[str] = []
        keys: list[tuple[str, str]] = []
        cells: dict[tuple[str, str, str], str] = {}
        for r in mrows:
            varying = {k: v for k, v in r["setting"].items() if k not in common}
            key = (r["dataset"], _setting_str(varying))
            if r["method"] not in methods:
                methods.append(r["method"])
            if key not in keys:
                keys.append(key)
            cells[(key[0], key[1], r["method"])] = _cell(r)
        lines.append(f"**{metric}**" + (f" (all rows: {_setting_str(common)})" if common else ""))
        lines.append("")
        lines.append("| dataset | setting | " + " | ".join(methods) + " |")
        lines.append("|---|---|" + "---|" * len(methods))
        for ds, st in keys:
            lines.append(f"| {ds} | {st} | " + " | ".join(cells.get((ds, st, m), "") for m in methods) + " |")
        lines.append("")
    if hidden:
        lines.append(f"Also in the JSON: {', '.join(hidden)}.")
        lines.append("")
    cost = {}
    for r in rows:
        if "time_s" in r or "peak_mem_mb" in r:
            key = (r["dataset"], r["method"], _setting_str(r["setting"]))
            cost.setdefault(key, r)
    if cost:
        lines.append(
            "**cost** (`time_s`: wall time per run, mean over seeds; `peak_mem_mb`: peak resident memory of the run)"
        )
        lines.append("")
        lines.append("| dataset | method | setting | time_s | peak_mem_mb |")
        lines.append("|---|---|---|---|---|")
        for (ds, m, st), r in cost.items():
            t = _fmt(r["time_s"], "time_s") if "time_s" in r else ""
            mem = _fmt(r["peak_mem_mb"], "peak_mem_mb") if "peak_mem_mb" in r else ""
            lines.append(f"| {ds} | {m} | {st} | {t} | {mem} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def update_readme(text: str) -> tuple[str, list[str]]:
    notes = []
    for path in sorted(RESULTS.glob("*.json")):
        if path.name.endswith(".quick.json"):
            continue
        name = path.stem
        begin, end = f"<!-- results:{name} -->", f"<!-- /results:{name} -->"
        if begin not in text or end not in text:
            notes.append(f"README.md has no {begin} block for {path.name}")
            continue
        doc = json.loads(path.read_text())
        table = render(doc, f"benchmarks/results/{path.name}")
        pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
        text = pattern.sub(lambda _: f"{begin}\n{table}{end}", text)  # noqa: B023 (used at once)
    return text, notes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is not up to date")
    args = parser.parse_args(argv)
    old = README.read_text()
    new, notes = update_readme(old)
    for note in notes:
        print("note:", note, file=sys.stderr)
    if args.check:
        if new != old:
            print("README.md tables are out of date: run python benchmarks/make_tables.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new)
    print("README.md tables regenerated" if new != old else "README.md tables already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
