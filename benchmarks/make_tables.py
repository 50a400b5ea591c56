"""Regenerate every result table from ``benchmarks/results/*.json``: the full tables of the documentation and the
headline tables of README.md.

* ``docs/results/<name>.md`` (one page per results file, part of the documentation site): the commands that
  regenerate the file, as it records them, then one table per metric -- one line per (dataset, setting), one column
  per method, ``mean ± std (n)`` -- and a cost table of ``time_s`` / ``peak_mem_mb`` where rows carry them.
* README.md, between ``<!-- results:<name> -->`` and ``<!-- /results:<name> -->``: one headline table per results
  file, chosen by :data:`HEADLINES` (a metric, the rows that match a setting, named columns), with a link to the
  full page.

Nothing in those pages or blocks is typed by hand: edit the JSON's producer, rerun the benchmark, and rerun
``python benchmarks/make_tables.py``. ``tests/test_cli_tables.py`` fails when either is out of date.

Usage: ``python benchmarks/make_tables.py [--check]`` (``--check`` writes nothing and exits 1 if a page or a README
block is out of date).
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
DOCS_RESULTS = ROOT / "docs" / "results"

# Page titles and the narrative page of each benchmark (relative to docs/).
TITLES = {
    "erase_label_noise": ("ERASE under label noise", "erase.md"),
    "erase_scale": ("ERASE at scale", "erase.md"),
    "local_clustering": ("Local graph clustering with noisy labels", "local_clustering.md"),
    "label_proportions": ("Learning from label proportions", "label_proportions.md"),
    "scene_generation": ("EchoScene scene generation", "scene_generation.md"),
    "device_check": ("Device check: every method on the accelerator against CPU", None),
}

# Metrics shown first on a full page, in this order; the others follow in the order of the JSON.
METRIC_ORDER = {
    "erase_label_noise": ["test_accuracy", "gain_over_gcn", "test_accuracy_direct", "fit_cpu_s", "peak_mem_mb"],
    "erase_scale": ["epoch_time_s", "epoch_ratio_to_gcn", "epoch_wall_s", "nodes_per_s", "peak_mem_mb"],
    "local_clustering": ["f1", "precision", "recall", "ms_per_seed", "touched_nodes"],
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

# The README's headline table per benchmark. ``metrics``: one or more metrics (several make ``metric`` a row key);
# ``datasets``: the datasets shown, in this order (default: every dataset); ``where``: setting values every row must
# have (``None``: the key must be absent; a tuple: any of its values, ``None`` among them for "or absent");
# ``rows``: the setting keys that make the lines of the table (after the dataset when there are several);
# ``columns``: header -> the method (and setting values, ``None`` = absent) of the rows in that column.
# Two rows that fall into one cell are an error, never a silent choice.
HEADLINES = {
    "erase_label_noise": {
        "metrics": ["test_accuracy"],
        "datasets": ["cora", "citeseer", "amazon_photo", "amazon_computers"],
        "where": {"rate": 0.3, "validation": "noisy", "noise_draw": "per_seed", "epochs": None},
        "rows": ["noise"],
        "columns": {
            "ERASE": {"method": "erase", "encoder": None},
            "ERASE, encoder selected": {"method": "erase", "encoder": "selected"},
            "GCN": {"method": "gcn"},
            "GAT": {"method": "gat"},
            "GCE": {"method": "gce"},
        },
    },
    "local_clustering": {
        "metrics": ["f1"],
        "datasets": ["mean_5_datasets"],
        "where": {},
        "rows": ["labels", "a0", "m"],
        "columns": {
            "weighted flow diffusion": {"method": "weighted_flow_diffusion"},
            "flow diffusion": {"method": "flow_diffusion"},
            "labels only": {"method": "labels_only"},
            "ACL PageRank": {"method": "acl_pagerank"},
            "weighted ACL PageRank": {"method": "weighted_acl_pagerank"},
        },
    },
    "label_proportions": {
        "metrics": ["test_auc"],
        "datasets": [
            "bank_marketing",
            "adult",
            "amazon_computers",
            "tolokers",
            "coauthor_cs",
            "facebook_pagepage",
            "coauthor_physics",
            "amazon_photo",
        ],
        "where": {},
        "rows": ["bag_size"],
        "columns": {
            "BP-LLP default": {"method": "bp_default"},
            "BP-LLP exact": {"method": "bp_exact", "preset": None},
            "BP-LLP gaussian": {"method": "bp_gaussian"},
            "BP-LLP pairwise": {"method": "bp_pairwise", "preset": None},
            "DLLP": {"method": "dllp"},
            "EasyLLP": {"method": "easyllp"},
        },
    },
    "scene_generation": {
        "metrics": ["acc_left_right", "acc_front_behind", "acc_directional", "acc_mean", "scenes_per_s"],
        # the unguided rows of the library's DDIM at 50 steps (the scheduler and guidance rows are on the page)
        "where": {
            "relations": "all",
            "edit": None,
            "sampler": (None, "ddim"),
            "sample_steps": (None, 50),
            "guidance": (None, 0.0),
        },
        "rows": [],
        "columns": {
            "echo": {"method": "echo"},
            "no echo": {"method": "no_echo"},
            "ground truth": {"method": "ground_truth"},
        },
    },
}


def render_device_table(doc: dict, source: str, page: str | None = None) -> str:
    """The tables of a device-check file (``benchmarks/device_check.py``).

    With ``page`` (the README block): one line per checked method and dataset -- how many of its comparisons are
    within tolerance (or why it was skipped) and the time of both sides. Without it (the top of the full page): one
    line per comparison row (those with a ``tolerance``) with its value, tolerance and verdict, then the skipped
    checks with their reason."""
    env = doc.get("environment", {})
    device = env.get("device", "?")
    where = f" Every comparison: [{page}]({page})." if page else ""
    lines = [f"{_provenance(doc, source)}; checked device `{device}` against CPU.{where}", ""]
    compared = [r for r in doc["rows"] if "tolerance" in r]
    skipped = [r for r in doc["rows"] if "skipped" in r]
    if page:
        lines.append("| method | dataset | comparisons within tolerance | time, checked device (s) | time, CPU (s) |")
        lines.append("|---|---|---|---|---|")
        groups: dict[tuple[str, str], list[dict]] = {}
        for r in compared:
            groups.setdefault((r["method"], r["dataset"]), []).append(r)
        for (method, dataset), rows in groups.items():
            ok = sum(bool(r["passed"]) for r in rows)
            verdict = f"{ok} of {len(rows)}" if ok == len(rows) else f"**{ok} of {len(rows)}**"
            t_dev = max(r["time_s"] for r in rows)
            t_cpu = max(r["cpu_time_s"] for r in rows)
            lines.append(f"| {method} | {dataset} | {verdict} | {_fmt(t_dev, 'time_s')} | {_fmt(t_cpu, 'time_s')} |")
        for r in skipped:
            lines.append(f"| {r['method']} ({_setting_str(r['setting'])}) | {r['dataset']} | skipped | | |")
        return "\n".join(lines) + "\n"
    lines.append(
        "| method | dataset | part | metric | value | tolerance | passed | time, checked device (s) | time, CPU (s) |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for r in compared:
        part = r["setting"].get("part", "-")
        lines.append(
            f"| {r['method']} | {r['dataset']} | {part} | `{r['metric']}` | {r['mean']:.6g} | {r['tolerance']:g} | "
            f"{'yes' if r['passed'] else '**no**'} | {_fmt(r['time_s'], 'time_s')} | "
            f"{_fmt(r['cpu_time_s'], 'time_s')} |"
        )
    for r in skipped:
        lines += ["", f"Skipped: {r['method']} on {r['dataset']} ({_setting_str(r['setting'])}): {r['skipped']}."]
    return "\n".join(lines) + "\n"


#: results files whose README block is a table of their own instead of a :data:`HEADLINES` pivot
CUSTOM_HEADLINES = {"device_check": render_device_table}

#: results files of a method that already has its headline table, and the device check (a CPU-against-CPU run until
#: a GPU is lent): only their docs/results page, which the README links to in its text (README.md stays under 250
#: lines, one headline table per method)
PAGE_ONLY = {"erase_scale", "device_check"}


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


def _commands(doc: dict) -> list[str]:
    # a results file assembled by several invocations (sharing a run cache) lists them joined by " ; " or " && "
    return [c.strip() for c in re.split(r" ; | && ", doc.get("command", "?")) if c.strip()]


def _provenance(doc: dict, source: str) -> str:
    env = doc.get("environment", {})
    return (
        f"From `{source}` (created {doc.get('created', '?')}, device {env.get('device', '?')}, "
        f"{env.get('threads', '?')} threads, commit {env.get('git_commit', '?')})"
    )


def _metrics_in_order(doc: dict) -> list[str]:
    metrics: list[str] = []
    for r in doc["rows"]:
        if r["metric"] not in metrics:
            metrics.append(r["metric"])
    preferred = [m for m in METRIC_ORDER.get(doc.get("benchmark"), []) if m in metrics]
    return preferred + [m for m in metrics if m not in preferred]


def render(doc: dict, source: str) -> str:
    """Every table of one results file: one per metric (knobs shared by all its rows stated once above it), then
    the cost table. Markdown (MyST) with a level-2 heading per table."""
    rows = doc["rows"]
    commands = _commands(doc)
    lines = [_provenance(doc, source) + ".", "", "## Reproduce", ""]
    lines.append(
        "The command that wrote the file:"
        if len(commands) == 1
        else f"The {len(commands)} invocations that wrote the file, in this order:"
    )
    lines += ["", "```bash", *commands, "```", "", "then `python benchmarks/make_tables.py` for these tables.", ""]
    for metric in _metrics_in_order(doc):
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
        lines += [f"## {metric}", ""]
        if common:
            lines += [f"All rows: {_setting_str(common)}.", ""]
        lines.append("| dataset | setting | " + " | ".join(methods) + " |")
        lines.append("|---|---|" + "---|" * len(methods))
        for ds, st in keys:
            lines.append(f"| {ds} | {st} | " + " | ".join(cells.get((ds, st, m), "") for m in methods) + " |")
        lines.append("")
    cost = {}
    for r in rows:
        if "time_s" in r or "peak_mem_mb" in r:
            key = (r["dataset"], r["method"], _setting_str(r["setting"]))
            cost.setdefault(key, r)
    if cost:
        lines += ["## cost", ""]
        lines.append("`time_s`: wall time per run, mean over seeds; `peak_mem_mb`: peak resident memory of the run.")
        lines.append("")
        lines.append("| dataset | method | setting | time_s | peak_mem_mb |")
        lines.append("|---|---|---|---|---|")
        for (ds, m, st), r in cost.items():
            t = _fmt(r["time_s"], "time_s") if "time_s" in r else ""
            mem = _fmt(r["peak_mem_mb"], "peak_mem_mb") if "peak_mem_mb" in r else ""
            lines.append(f"| {ds} | {m} | {st} | {t} | {mem} |")
        lines.append("")
    lines.append("Per-seed values and the other fields of each row are in the JSON.")
    return "\n".join(lines).rstrip() + "\n"


def render_page(doc: dict, name: str) -> str:
    """The documentation page ``docs/results/<name>.md`` of one results file."""
    title, narrative = TITLES.get(name, (name, None))
    head = [f"# {title}: all results", "", "<!-- generated by benchmarks/make_tables.py; do not edit -->", ""]
    if narrative:
        head += [f"What the numbers mean, and how they compare with the paper: [{title}](../{narrative}).", ""]
    source = f"benchmarks/results/{name}.json"
    if name in CUSTOM_HEADLINES:
        head += ["## Comparisons", "", CUSTOM_HEADLINES[name](doc, source), ""]
    return "\n".join(head) + render(doc, source)


def _matches(setting: dict, wanted: dict) -> bool:
    """Every wanted key: ``None`` -> absent, a tuple -> any of its values (``None`` among them: or absent), else
    equal."""

    def one(k, v):
        if isinstance(v, tuple):
            return any(one(k, x) for x in v)
        return (k not in setting) if v is None else (k in setting and setting[k] == v)

    return all(one(k, v) for k, v in wanted.items())


def _sort_value(value):
    # numbers before strings, each in natural order; absent (None) last
    if value is None:
        return (2, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def render_headline(doc: dict, source: str, spec: dict, page: str) -> str:
    """The README's headline table of one results file (see :data:`HEADLINES`); ``page`` is the full page's path."""
    metrics = spec["metrics"]
    datasets = spec.get("datasets")
    picked = []  # (row, column header)
    for r in doc["rows"]:
        if r["metric"] not in metrics or (datasets is not None and r["dataset"] not in datasets):
            continue
        if not _matches(r["setting"], spec.get("where", {})):
            continue
        setting = dict(r["setting"], method=r["method"])
        headers = [h for h, want in spec["columns"].items() if _matches(setting, want)]
        if len(headers) > 1:
            raise ValueError(f"{source}: a row of {r['method']} {r['setting']} matches columns {headers}")
        if headers:
            picked.append((r, headers[0]))
    if not picked:
        raise ValueError(f"{source}: no row matches the headline table {spec}")
    many_ds = len({r["dataset"] for r, _ in picked}) > 1
    many_metrics = len(metrics) > 1

    def key(r):
        k = (r["dataset"],) if many_ds else ()
        k += (r["metric"],) if many_metrics else ()
        return k + tuple(r["setting"].get(s) for s in spec["rows"])

    cells: dict[tuple, dict[str, dict]] = {}
    for r, header in picked:
        line = cells.setdefault(key(r), {})
        if header in line:
            raise ValueError(
                f"{source}: two rows for one cell of the headline table ({header}, {key(r)}): "
                f"{line[header]['setting']} and {r['setting']}; add the key that tells them apart to 'rows' or "
                f"'where'"
            )
        line[header] = r
    order_ds = {d: i for i, d in enumerate(datasets or [])}
    order_m = {m: i for i, m in enumerate(metrics)}

    def sort_key(k):
        i = 0
        out = []
        if many_ds:
            out.append((order_ds.get(k[0], len(order_ds)), k[0]))
            i += 1
        if many_metrics:
            out.append((order_m[k[i]], k[i]))
            i += 1
        return tuple(out) + tuple(_sort_value(v) for v in k[i:])

    # knobs shared by every row shown are stated once, above the table
    shown = [r for r, _ in picked]
    common = {k: v for k, v in shown[0]["setting"].items() if all(r["setting"].get(k, object()) == v for r in shown)}
    # a row key that is absent in some lines (for example ``m`` only for classifier labels) shows as "-"
    row_keys = [k for k in spec["rows"] if any(k in r["setting"] for r in shown)]
    label_cols = (["dataset"] if many_ds else []) + (["metric"] if many_metrics else []) + row_keys
    columns = [h for h in spec["columns"] if any(h == c for _, c in picked)]
    commands = _commands(doc)
    what = "command" if len(commands) == 1 else f"{len(commands)} commands"
    lines = [
        f"{_provenance(doc, source)}. Every table, and the {what} that regenerate the file: [{page}]({page}).",
        "",
    ]
    caption = " / ".join(f"`{m}`" for m in metrics) if not many_metrics else "metrics"
    note = f", all rows {_setting_str(common)}" if common else ""
    lines += [f"Headline: {caption}{note}.", ""]
    lines.append("| " + " | ".join(label_cols + columns) + " |")
    lines.append("|" + "---|" * (len(label_cols) + len(columns)))
    for k in sorted(cells, key=sort_key):
        labels = [str(v) for v in k[: len(k) - len(spec["rows"])]]
        values = dict(zip(spec["rows"], k[len(k) - len(spec["rows"]) :]))
        labels += ["-" if values[rk] is None else str(values[rk]) for rk in row_keys]
        line = cells[k]
        lines.append("| " + " | ".join(labels + [_cell(line[h]) if h in line else "" for h in columns]) + " |")
    return "\n".join(lines) + "\n"


def _results_files():
    return [p for p in sorted(RESULTS.glob("*.json")) if not p.name.endswith(".quick.json")]


def update_readme(text: str) -> tuple[str, list[str]]:
    """README.md text with every ``results:<name>`` block regenerated; notes on files without a block or spec."""
    notes = []
    for path in _results_files():
        name = path.stem
        begin, end = f"<!-- results:{name} -->", f"<!-- /results:{name} -->"
        if name in PAGE_ONLY:
            if begin in text:
                notes.append(f"README.md has a {begin} block, but {path.name} is in make_tables.PAGE_ONLY")
            continue
        if begin not in text or end not in text:
            notes.append(f"README.md has no {begin} block for {path.name}")
            continue
        if name not in HEADLINES and name not in CUSTOM_HEADLINES:
            notes.append(f"make_tables.HEADLINES has no headline table for {path.name}")
            continue
        doc = json.loads(path.read_text())
        source, page = f"benchmarks/results/{path.name}", f"docs/results/{name}.md"
        if name in CUSTOM_HEADLINES:
            table = CUSTOM_HEADLINES[name](doc, source, page)
        else:
            table = render_headline(doc, source, HEADLINES[name], page)
        pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
        text = pattern.sub(lambda _: f"{begin}\n{table}{end}", text)  # noqa: B023 (used at once)
    return text, notes


def docs_pages() -> dict[Path, str]:
    """``docs/results/<name>.md`` -> its generated text, for every results file."""
    return {DOCS_RESULTS / f"{p.stem}.md": render_page(json.loads(p.read_text()), p.stem) for p in _results_files()}


def stale_docs_pages() -> list[Path]:
    """Generated pages that are missing or differ from what the results files give, and pages without a file."""
    pages = docs_pages()
    stale = [p for p, text in pages.items() if not p.exists() or p.read_text() != text]
    generated = {p for p in DOCS_RESULTS.glob("*.md") if p.name != "index.md"}
    return stale + sorted(generated - set(pages))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md or docs/results is not up to date")
    args = parser.parse_args(argv)
    old = README.read_text()
    new, notes = update_readme(old)
    for note in notes:
        print("note:", note, file=sys.stderr)
    stale = stale_docs_pages()
    if args.check:
        bad = (["README.md"] if new != old else []) + [str(p.relative_to(ROOT)) for p in stale]
        if bad:
            print(f"out of date: {', '.join(bad)}; run python benchmarks/make_tables.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new)
    DOCS_RESULTS.mkdir(parents=True, exist_ok=True)
    pages = docs_pages()
    for path in stale:
        if path in pages:
            path.write_text(pages[path])
        else:
            path.unlink()  # its results file is gone
    print(f"README.md {'regenerated' if new != old else 'up to date'}; {len(stale)} of {len(pages)} pages rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
