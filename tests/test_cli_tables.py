import importlib
import sys
import types
from pathlib import Path

import pytest

from graphdiff import cli

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
make_tables = importlib.import_module("make_tables")


def test_parser_requires_a_command():
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args([])
    args = cli.build_parser().parse_args(["demo", "--only", "erase", "llp"])
    assert args.only == ["erase", "llp"]


def test_demo_runs_every_method_and_reports_failures(monkeypatch, capsys):
    calls = []

    def fake_module(name, fail=False):
        mod = types.ModuleType(name)

        def run_demo(verbose=True):
            calls.append(name)
            if fail:
                raise RuntimeError("boom")

        mod.run_demo = run_demo
        return mod

    real_import = importlib.import_module

    def fake_import(name, *a, **k):
        if name.startswith("graphdiff.") and name.endswith(".demo"):
            return fake_module(name, fail=name == "graphdiff.llp.demo")
        return real_import(name, *a, **k)

    monkeypatch.setattr(cli.importlib, "import_module", fake_import)
    code = cli.main(["demo"])
    out = capsys.readouterr().out
    assert calls == [f"graphdiff.{m}.demo" for m in cli.METHODS]
    assert code == 1 and "[llp] FAILED: RuntimeError: boom" in out
    assert "contextual_sbm" in out and "planted_partition" in out
    calls.clear()
    assert cli.main(["demo", "--only", "erase"]) == 0 and calls == ["graphdiff.erase.demo"]


def test_render_pivots_metrics_and_costs():
    doc = {
        "benchmark": "x",
        "created": "2026-01-01T00:00:00Z",
        "command": "python benchmarks/x.py",
        "environment": {"device": "cpu", "threads": 1, "git_commit": "abc"},
        "rows": [
            {
                "dataset": "cora",
                "method": "erase",
                "setting": {"rate": 0.3},
                "metric": "test_accuracy",
                "mean": 0.8,
                "std": 0.01,
                "n": 10,
                "seeds": list(range(10)),
                "time_s": 12.0,
                "peak_mem_mb": 500.0,
            },
            {
                "dataset": "cora",
                "method": "gcn",
                "setting": {"rate": 0.3},
                "metric": "test_accuracy",
                "mean": 0.7,
                "std": 0.02,
                "n": 10,
                "seeds": list(range(10)),
            },
            {
                "dataset": "cora",
                "method": "gcn",
                "setting": {"rate": 0.3, "noise": "pair"},
                "metric": "f1",
                "mean": 0.5,
                "std": 0.0,
                "n": 1,
            },
            {
                "dataset": "cora",
                "method": "gcn",
                "setting": {"rate": 0.3, "noise": "uniform"},
                "metric": "f1",
                "mean": 0.6,
                "std": 0.0,
                "n": 1,
            },
        ],
    }
    text = make_tables.render(doc, "benchmarks/results/x.json")
    assert "| dataset | setting | erase | gcn |" in text
    # a knob shared by every row of a table is stated once above it
    assert "## test_accuracy\n\nAll rows: rate=0.3." in text
    assert "| cora | - | 0.800 ± 0.010 (10) | 0.700 ± 0.020 (10) |" in text
    assert "| cora | noise=pair | 0.500 |" in text and "| cora | noise=uniform | 0.600 |" in text
    assert "| cora | erase | rate=0.3 | 12 | 500 |" in text and "## cost" in text
    assert "```bash\npython benchmarks/x.py\n```" in text


def _doc(rows, command="python benchmarks/x.py --a && python benchmarks/x.py --b"):
    return {"benchmark": "x", "created": "2026-01-01T00:00:00Z", "command": command, "rows": rows}


def _row(method, setting, mean, metric="f1", dataset="cora", n=1):
    return {
        "dataset": dataset,
        "method": method,
        "setting": setting,
        "metric": metric,
        "mean": mean,
        "std": 0.0,
        "n": n,
    }


def test_headline_picks_rows_by_setting_and_names_columns():
    rows = [
        _row("wfd", {"a": 0.9, "eps": 0.05}, 0.7),
        _row("wfd", {"a": 0.8, "eps": 0.05}, 0.6),
        _row("fd", {"a": 0.8, "eps": 0.05}, 0.5),
        _row("wfd", {"a": 0.8, "eps": 0.05, "extra": 1}, 0.1),  # excluded by where={"extra": None}
        _row("wfd", {"a": 0.8, "eps": 0.05}, 0.2, metric="precision"),  # another metric
        _row("wfd", {"a": 0.8, "eps": 0.05}, 0.3, dataset="citeseer"),  # another dataset
    ]
    spec = {
        "metrics": ["f1"],
        "datasets": ["cora"],
        "where": {"extra": None},
        "rows": ["a"],
        "columns": {"weighted": {"method": "wfd"}, "plain": {"method": "fd"}},
    }
    text = make_tables.render_headline(_doc(rows), "benchmarks/results/x.json", spec, "docs/results/x.md")
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert lines == ["| a | weighted | plain |", "|---|---|---|", "| 0.8 | 0.600 | 0.500 |", "| 0.9 | 0.700 |  |"]
    assert "all rows eps=0.05" in text and "`f1`" in text
    assert "2 commands that regenerate the file: [docs/results/x.md](docs/results/x.md)" in text


def test_headline_refuses_two_rows_in_one_cell_and_an_empty_table():
    rows = [_row("wfd", {"a": 0.8, "eps": 0.05}, 0.6), _row("wfd", {"a": 0.8, "eps": 0.01}, 0.4)]
    spec = {"metrics": ["f1"], "rows": ["a"], "columns": {"weighted": {"method": "wfd"}}}
    with pytest.raises(ValueError, match="two rows for one cell"):
        make_tables.render_headline(_doc(rows), "x.json", spec, "x.md")
    spec["rows"] = ["a", "eps"]  # the key that tells them apart
    assert "| 0.8 | 0.01 | 0.400 |" in make_tables.render_headline(_doc(rows), "x.json", spec, "x.md")
    spec["where"] = {"eps": 0.5}
    with pytest.raises(ValueError, match="no row matches"):
        make_tables.render_headline(_doc(rows), "x.json", spec, "x.md")


def test_headline_with_several_metrics_has_a_metric_column():
    rows = [_row("echo", {}, 0.9, metric="acc_a"), _row("echo", {}, 0.8, metric="acc_b"), _row("gt", {}, 1.0, "acc_a")]
    spec = {"metrics": ["acc_b", "acc_a"], "rows": [], "columns": {"echo": {"method": "echo"}, "gt": {"method": "gt"}}}
    lines = [x for x in make_tables.render_headline(_doc(rows), "x.json", spec, "x.md").splitlines() if x[:1] == "|"]
    assert lines[0] == "| metric | echo | gt |"
    assert lines[2:] == ["| acc_b | 0.800 |  |", "| acc_a | 0.900 | 1.000 |"]  # in the order of the spec


def test_readme_tables_are_up_to_date():
    new, notes = make_tables.update_readme(make_tables.README.read_text())
    assert not notes, notes
    assert new == make_tables.README.read_text(), "run python benchmarks/make_tables.py"


def test_docs_results_pages_are_up_to_date():
    assert make_tables.stale_docs_pages() == [], "run python benchmarks/make_tables.py"
    names = {p.stem for p in make_tables.RESULTS.glob("*.json") if not p.name.endswith(".quick.json")}
    assert {p.stem for p in make_tables.DOCS_RESULTS.glob("*.md")} == names | {"index"}


def test_every_results_file_has_a_readme_headline_and_a_page():
    readme = make_tables.README.read_text()
    for path in make_tables.RESULTS.glob("*.json"):
        if path.name.endswith(".quick.json"):
            continue
        assert f"(docs/results/{path.stem}.md)" in readme, path.name
        if path.stem in make_tables.PAGE_ONLY:  # linked from the text, no table of its own
            assert f"<!-- results:{path.stem} -->" not in readme
            continue
        assert path.stem in make_tables.HEADLINES or path.stem in make_tables.CUSTOM_HEADLINES, path.name
        assert f"<!-- results:{path.stem} -->\nFrom `benchmarks/results/{path.name}`" in readme


def test_readme_is_short():
    assert len(make_tables.README.read_text().splitlines()) < 250


def test_erase_benchmark_gain_rows_pair_erase_and_gcn_by_seed():
    """``gain_over_gcn`` is the per-seed ERASE - GCN difference on the seeds both ran, one row per validation."""
    bench = importlib.import_module("erase_label_noise")

    def rec(method, seed, noisy, clean, epochs=None):
        cfg = {
            "dataset": "cora",
            "method": method,
            "noise": "pair",
            "rate": 0.3,
            "seed": seed,
            "init_seed": seed,
            "protocol": "default",
            "epochs": epochs,
            "pair_target": "cyclic",
            "device": "cpu",
        }
        out = {
            "test_noisy": noisy,
            "test_clean": clean,
            "epoch_noisy": 1,
            "epoch_clean": 1,
            "epochs_run": 2,
            "selected_epoch": 1,
            "test_selected": noisy,
            "realised_rate": 0.3,
            "fit_time_s": 1.0,
            "fit_cpu_s": 1.0,
        }
        if method == "erase":
            out.update(test_direct_noisy=noisy, test_direct_clean=clean)
        return {"cfg": cfg, "out": out, "time_s": 1.0, "peak_mem_mb": 1.0, "command": "x"}

    records = [
        rec("erase", 0, 0.80, 0.82),
        rec("erase", 1, 0.70, 0.71),
        rec("erase", 2, 0.75, 0.75),
        rec("gcn", 0, 0.60, 0.62),
        rec("gcn", 1, 0.65, 0.70),  # GCN lacks seed 2
        rec("erase", 0, 0.50, 0.50, epochs=100),
    ]  # other schedule, same GCN
    res = bench.build_results(records, quick=False, command="x", device="cpu")
    gains = {
        (r["setting"]["validation"], r["setting"].get("epochs")): r for r in res.rows if r["metric"] == "gain_over_gcn"
    }
    assert set(gains) == {("noisy", None), ("clean", None), ("noisy", 100), ("clean", 100)}
    noisy = gains[("noisy", None)]
    assert noisy["seeds"] == [0, 1] and noisy["n"] == 2
    assert noisy["per_seed"] == pytest.approx([0.20, 0.05])
    assert noisy["mean"] == pytest.approx(0.125)
    assert gains[("clean", None)]["per_seed"] == pytest.approx([0.20, 0.01])
    assert gains[("noisy", 100)]["per_seed"] == pytest.approx([-0.10])
    assert not [r for r in res.rows if r["metric"] == "gain_over_gcn" and r["method"] != "erase"]


def test_erase_benchmark_selects_the_encoder_per_seed_on_validation_accuracy():
    """``encoder=selected`` rows take, per seed, the ERASE run (GAT or GCN encoder) with the higher validation score
    of the protocol (ties keep the GAT), and report its test accuracy and its gain over GCN; seeds where a run lacks
    a validation score, or has no partner, are left out."""
    bench = importlib.import_module("erase_label_noise")

    def rec(method, seed, test, val, encoder=None):
        cfg = {
            "dataset": "cora",
            "method": method,
            "noise": "pair",
            "rate": 0.3,
            "seed": seed,
            "init_seed": seed,
            "protocol": "default",
            "epochs": None,
            "pair_target": "cyclic",
            "device": "cpu",
        }
        if encoder:
            cfg["encoder"] = encoder
        out = {
            "test_noisy": test[0],
            "test_clean": test[1],
            "epoch_noisy": 1,
            "epoch_clean": 1,
            "epochs_run": 2,
            "selected_epoch": 1,
            "test_selected": test[0],
            "realised_rate": 0.3,
            "fit_time_s": 1.0,
            "fit_cpu_s": 1.0,
            "test_direct_noisy": test[0],
            "test_direct_clean": test[1],
        }
        if val is not None:
            out.update(val_noisy=val[0], val_clean=val[1])
        return {"cfg": cfg, "out": out, "time_s": 1.0, "peak_mem_mb": 1.0, "command": "x"}

    records = [
        rec("erase", 0, (0.70, 0.71), (0.60, 0.80)),
        rec("erase", 0, (0.75, 0.74), (0.65, 0.70), encoder="gcn"),
        rec("erase", 1, (0.72, 0.73), (0.62, 0.80)),
        rec("erase", 1, (0.68, 0.79), (0.62, 0.85), encoder="gcn"),
        rec("erase", 2, (0.50, 0.50), None),
        rec("erase", 2, (0.90, 0.90), (0.9, 0.9), encoder="gcn"),
        rec("erase", 3, (0.50, 0.50), (0.5, 0.5)),  # no GCN-encoder run for seed 3
        rec("gcn", 0, (0.60, 0.60), None),
        rec("gcn", 1, (0.62, 0.70), None),
    ]
    res = bench.build_results(records, quick=False, command="x", device="cpu")
    rows = {
        (r["metric"], r["setting"]["validation"], r["setting"].get("encoder")): r
        for r in res.rows
        if r["method"] == "erase"
    }
    noisy = rows[("test_accuracy", "noisy", "selected")]
    assert noisy["seeds"] == [0, 1]
    assert noisy["per_seed"] == pytest.approx([0.75, 0.72])  # seed 1: a tie keeps the GAT
    assert noisy["encoder_per_seed"] == ["gcn", "gat"]
    assert noisy["time_s"] == pytest.approx(2.0)  # choosing costs both fits
    clean = rows[("test_accuracy", "clean", "selected")]
    assert clean["per_seed"] == pytest.approx([0.71, 0.79]) and clean["encoder_per_seed"] == ["gat", "gcn"]
    assert rows[("gain_over_gcn", "noisy", "selected")]["per_seed"] == pytest.approx([0.15, 0.10])
    assert rows[("gain_over_gcn", "clean", "selected")]["per_seed"] == pytest.approx([0.11, 0.09])
    # the GCN-encoder runs keep rows of their own, compared with the same GCN baseline
    assert rows[("gain_over_gcn", "noisy", "gcn")]["per_seed"] == pytest.approx([0.15, 0.06])
    assert rows[("test_accuracy", "noisy", None)]["seeds"] == [0, 1, 2, 3]
