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
        "benchmark": "x", "created": "2026-01-01T00:00:00Z", "command": "python benchmarks/x.py",
        "environment": {"device": "cpu", "threads": 1, "git_commit": "abc"},
        "rows": [
            {"dataset": "cora", "method": "erase", "setting": {"rate": 0.3}, "metric": "test_accuracy",
             "mean": 0.8, "std": 0.01, "n": 10, "seeds": list(range(10)), "time_s": 12.0, "peak_mem_mb": 500.0},
            {"dataset": "cora", "method": "gcn", "setting": {"rate": 0.3}, "metric": "test_accuracy",
             "mean": 0.7, "std": 0.02, "n": 10, "seeds": list(range(10))},
            {"dataset": "cora", "method": "gcn", "setting": {"rate": 0.3, "noise": "pair"}, "metric": "f1",
             "mean": 0.5, "std": 0.0, "n": 1},
            {"dataset": "cora", "method": "gcn", "setting": {"rate": 0.3, "noise": "uniform"}, "metric": "f1",
             "mean": 0.6, "std": 0.0, "n": 1},
        ],
    }
    text = make_tables.render(doc, "benchmarks/results/x.json")
    assert "| dataset | setting | erase | gcn |" in text
    # a knob shared by every row of a table is stated once above it
    assert "**test_accuracy** (all rows: rate=0.3)" in text
    assert "| cora | - | 0.800 ± 0.010 (10) | 0.700 ± 0.020 (10) |" in text
    assert "| cora | noise=pair | 0.500 |" in text and "| cora | noise=uniform | 0.600 |" in text
    assert "| cora | erase | rate=0.3 | 12 | 500 |" in text and "**cost**" in text
    assert "python benchmarks/x.py" in text


def test_readme_tables_are_up_to_date():
    new, notes = make_tables.update_readme(make_tables.README.read_text())
    assert not notes, notes
    assert new == make_tables.README.read_text(), "run python benchmarks/make_tables.py"
