"""Time the first load of every dataset in a fresh process (checksums included), single-threaded.

Usage: ``GRAPHDIFF_DATA=../shared/datasets OMP_NUM_THREADS=1 python datasets/time_loads.py``
"""

import time
import warnings

import torch

import graphdiff.data as gd

torch.set_num_threads(1)
print("| dataset | load time (s) | nodes / rows | edges (directed) / features |")
print("|---|---|---|---|")
for name in gd.available("graph"):
    options = {"features": False} if name == "pubmed" else {}  # the staged PubMed lacks ind.pubmed.allx
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # astral's infinite-weight warning
        start = time.perf_counter()
        data = gd.load(name, **options)
        elapsed = time.perf_counter() - start
    print(f"| `{name}` | {elapsed:.2f} | {data.num_nodes:,} | {data.num_edges:,} |", flush=True)
for name in gd.available("tabular"):
    start = time.perf_counter()
    ds = gd.load_tabular(name)
    elapsed = time.perf_counter() - start
    rows = len(ds.y_train) + len(ds.y_val) + len(ds.y_test)
    print(f"| `{name}` | {elapsed:.2f} | {rows:,} | {ds.num_features} features |", flush=True)
