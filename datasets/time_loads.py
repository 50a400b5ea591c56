"""Time the first load of every dataset in a fresh process (checksums included), single-threaded.

Usage: ``GRAPHDIFF_DATA=../shared/datasets OMP_NUM_THREADS=1 python datasets/time_loads.py [--fingerprint]``

``--fingerprint`` adds a column with the SHA-256 (first 16 hex digits) of everything a load returns: every tensor
attribute (dtype, shape and bytes), every list of tensors (``communities``) and the other attributes by ``repr``,
in sorted key order; for tabular datasets the six arrays, the feature names and ``info``. Two runs print the same
fingerprints exactly when the loaders return the same data, so a refactoring of the loaders is checked by
comparing the output before and after.
"""

import argparse
import hashlib
import time
import warnings

import numpy as np
import torch

import graphdiff.data as gd


def _update(h, value) -> None:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().contiguous()
        h.update(f"tensor {value.dtype} {tuple(value.shape)}".encode())
        h.update(value.numpy().tobytes() if value.dtype != torch.bfloat16 else value.float().numpy().tobytes())
    elif isinstance(value, np.ndarray):
        h.update(f"array {value.dtype} {value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (list, tuple)) and value and all(isinstance(v, torch.Tensor) for v in value):
        h.update(f"tensors {len(value)}".encode())
        for v in value:
            _update(h, v)
    else:
        h.update(repr(value).encode())


def fingerprint_graph(data) -> str:
    h = hashlib.sha256()
    for key in sorted(data.keys()):
        h.update(key.encode())
        _update(h, data[key])
    return h.hexdigest()[:16]


def fingerprint_tabular(ds) -> str:
    h = hashlib.sha256()
    for key in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test", "feature_names", "name", "info"):
        h.update(key.encode())
        _update(h, getattr(ds, key))
    return h.hexdigest()[:16]


# Non-default options, fingerprinted with --fingerprint after the default loads.
VARIANTS = [
    ("cora", {"normalize_features": True}),
    ("cora", {"features": False}),
    ("amazon_photo", {"normalize_features": True}),
    ("wisconsin", {"split": 3}),
    ("geom_film", {"split": 9, "normalize_features": True}),
    ("astral", {"inf_weight": 100.0}),
    ("sfld", {"weight_key": "weights"}),
    ("facebook_ego_0", {"normalize_features": True}),
]
TABULAR_VARIANTS = [("adult", {"val_fraction": 0.3, "seed": 5})]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fingerprint", action="store_true", help="add a SHA-256 of everything each load returns")
    args = parser.parse_args()
    torch.set_num_threads(1)
    extra = " fingerprint |" if args.fingerprint else ""
    print("| dataset | load time (s) | nodes / rows | edges (directed) / features |" + extra)
    print("|---|---|---|---|" + ("---|" if args.fingerprint else ""))
    for name in gd.available("graph"):
        options = {"features": False} if name == "pubmed" else {}  # the staged PubMed lacks ind.pubmed.allx
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # astral's infinite-weight warning
            start = time.perf_counter()
            data = gd.load(name, **options)
            elapsed = time.perf_counter() - start
        fp = f" `{fingerprint_graph(data)}` |" if args.fingerprint else ""
        print(f"| `{name}` | {elapsed:.2f} | {data.num_nodes:,} | {data.num_edges:,} |" + fp, flush=True)
        del data
    for name in gd.available("tabular"):
        start = time.perf_counter()
        ds = gd.load_tabular(name)
        elapsed = time.perf_counter() - start
        rows = len(ds.y_train) + len(ds.y_val) + len(ds.y_test)
        fp = f" `{fingerprint_tabular(ds)}` |" if args.fingerprint else ""
        print(f"| `{name}` | {elapsed:.2f} | {rows:,} | {ds.num_features} features |" + fp, flush=True)
    if not args.fingerprint:
        return
    for name, options in VARIANTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = gd.load(name, **options)
        print(f"| `{name}` {options} | - | {data.num_nodes:,} | {data.num_edges:,} | `{fingerprint_graph(data)}` |")
    for name, options in TABULAR_VARIANTS:
        ds = gd.load_tabular(name, **options)
        rows = len(ds.y_train) + len(ds.y_val) + len(ds.y_test)
        print(f"| `{name}` {options} | - | {rows:,} | {ds.num_features} features | `{fingerprint_tabular(ds)}` |")


if __name__ == "__main__":
    main()
