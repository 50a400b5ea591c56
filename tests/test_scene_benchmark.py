"""The scene benchmark's ``--flip-ceiling`` diagnostic, whose numbers docs/scene_generation.md quotes."""

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))


def test_flip_edit_is_satisfiable_once_conflicting_relations_are_dropped():
    """With ``drop_conflicts=True`` some position of the edited node satisfies the flipped triple together with all
    of its other directional triples; without it the flip contradicts the node's other relations in some graphs."""
    bench = importlib.import_module("scene_generation")
    shares = bench.flip_ceiling(num_graphs=20, grid=25)
    kept, dropped = shares[False], shares[True]
    assert kept["graphs"] == dropped["graphs"] > 0
    assert dropped["satisfiable"] == 1.0 and dropped["best_placements_flip"] == 1.0
    assert kept["satisfiable"] < 1.0
    assert 0.0 <= kept["best_placements_flip"] < 1.0
