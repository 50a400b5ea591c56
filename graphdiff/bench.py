"""Benchmark results in one format for every benchmark, and isolated runs that measure their own cost.

Every script in ``benchmarks/`` builds a :class:`Results`, adds one row per (dataset, method, setting, metric), and
writes ``benchmarks/results/<benchmark>.json`` (``<benchmark>.quick.json`` with ``--quick``). README tables are
generated from these files by ``benchmarks/make_tables.py``; nothing in them is typed by hand. A results file is a
JSON object with ``benchmark``, ``created`` (UTC), ``command`` (what regenerates it), ``environment`` (versions,
device, threads, git commit; see :func:`environment`) and ``rows``; each row has ``dataset``, ``method``,
``setting`` (every knob that distinguishes rows), ``metric``, ``mean``, ``std`` (population), ``n``, ``seeds`` and,
where measured, ``time_s`` and ``peak_mem_mb``.

:func:`run_isolated` runs one measured run in a fresh process (``spawn``), so that the peak resident memory it
reports is the run's own: a process's peak never goes down, so runs sharing a process would inherit each other's.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import multiprocessing as mp
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["Results", "environment", "run_isolated", "peak_rss_mb", "results_dir", "row_key"]


def results_dir() -> Path:
    """``benchmarks/results`` of the repository this package is installed from (editable installs).

    Examples
    --------
    >>> results_dir().parts[-2:]
    ('benchmarks', 'results')
    """
    return Path(__file__).resolve().parent.parent / "benchmarks" / "results"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def environment(device: str = "cpu") -> dict[str, Any]:
    """The ``environment`` block of a results file: versions, device, thread count and git commit.

    Parameters
    ----------
    device : str, default "cpu"
        The device the runs used; the GPU name is added for a CUDA device.

    Returns
    -------
    dict
        ``python``, ``torch``, ``torch_geometric``, ``device``, ``threads``, ``git_commit`` (``None`` outside a git
        checkout), ``machine``, ``cpu_count`` (and ``gpu``).

    Examples
    --------
    >>> sorted(environment())[:4]
    ['cpu_count', 'device', 'git_commit', 'machine']
    """
    import torch
    import torch_geometric

    env = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "git_commit": _git_commit(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    if str(device).startswith("cuda") and torch.cuda.is_available():
        env["gpu"] = torch.cuda.get_device_name(0)
    return env


def peak_rss_mb() -> float:
    """Peak resident memory of the current process in MiB.

    On Linux this is ``VmHWM`` of ``/proc/self/status``: the high-water mark of this process's own address space.
    ``ru_maxrss`` is not used there because Linux carries it across ``exec``, so a child started by ``spawn`` would
    report at least the parent's resident size at fork time. Elsewhere ``ru_maxrss`` is the fallback.

    Examples
    --------
    >>> peak_rss_mb() > 0
    True
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # reported in kB
    except OSError:
        pass
    scale = 1024.0 if sys.platform != "darwin" else 1024.0 * 1024.0  # KiB on Linux, bytes on macOS
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def row_key(row: dict[str, Any]) -> tuple[str, str, str, str]:
    """The identity of a results row: ``(dataset, method, setting as sorted JSON, metric)``; one row per key.

    Examples
    --------
    >>> row_key({"dataset": "cora", "method": "gcn", "setting": {"rate": 0.3, "noise": "pair"}, "metric": "f1"})
    ('cora', 'gcn', '{"noise": "pair", "rate": 0.3}', 'f1')
    """
    return (row["dataset"], row["method"], json.dumps(row["setting"], sort_keys=True), row["metric"])


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError("a results row needs at least one value")
    mean = sum(vals) / len(vals)
    # Population std (ddof=0), the convention of the reference codes the rows are compared with.
    var = sum((v - mean) ** 2 for v in vals) / len(vals)
    return mean, math.sqrt(var)


class Results:
    """Collects the rows of one benchmark and writes its results file.

    Parameters
    ----------
    benchmark : str
        The benchmark's name: the file is ``<benchmark>.json`` (``<benchmark>.quick.json`` with ``quick``).
    quick : bool, default False
        A ``--quick`` run.
    command : str, optional
        The command that regenerates the file (default: this process's command line, script path relative).
    device : str, default "cpu"
        Recorded in the ``environment`` block.

    Examples
    --------
    >>> import tempfile
    >>> res = Results("erase_label_noise", quick=True, command="python benchmarks/erase_label_noise.py --quick")
    >>> row = res.add("cora", "erase", {"noise": "uniform", "rate": 0.3, "validation": "noisy"},
    ...               "test_accuracy", [0.80, 0.82], seeds=[0, 1], time_s=12.0, peak_mem_mb=800.0)
    >>> round(row["mean"], 3), round(row["std"], 3), row["n"]
    (0.81, 0.01, 2)
    >>> res.write(tempfile.mkdtemp()).name
    'erase_label_noise.quick.json'
    """

    def __init__(self, benchmark: str, *, quick: bool = False, command: str | None = None, device: str = "cpu"):
        from graphdiff.data.validation import check_str

        self.benchmark = check_str(benchmark, "benchmark")
        self.quick = quick
        self.command = command or "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
        self.device = device
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        dataset: str,
        method: str,
        setting: dict[str, Any],
        metric: str,
        values: Iterable[float] | float,
        *,
        seeds: Sequence[int] | None = None,
        time_s: float | None = None,
        peak_mem_mb: float | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Add one row: the mean and population std of ``values`` for (dataset, method, setting, metric).

        Parameters
        ----------
        dataset, method, metric : str
            Lower-case names (loader names for datasets).
        setting : dict
            Every knob that distinguishes this row from others (JSON-serialisable).
        values : float or iterable of float
            One value per seed.
        seeds : sequence of int, optional
            The seeds behind ``values``.
        time_s, peak_mem_mb : float, optional
            Wall time per run and peak resident memory, where the cost is measured.
        **extra
            Further fields of the row.

        Returns
        -------
        dict
            The row.

        Raises
        ------
        ValueError
            For a second row with the same key, no values, or a NaN / infinite value or cost.
        """
        if isinstance(values, (int, float, bool)):
            values = [float(values)]
        where = f"results row ({dataset}, {method}, {setting}, {metric})"
        try:
            values = [float(v) for v in values]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: every value must be a number ({exc})") from None
        bad = [v for v in values if not math.isfinite(v)]
        if bad:
            # json.dumps would write NaN / Infinity, which is not JSON: refuse here, where the row is known.
            raise ValueError(f"{where}: {len(bad)} of its {len(values)} values are NaN or infinite ({bad[0]})")
        for label, cost in (("time_s", time_s), ("peak_mem_mb", peak_mem_mb)):
            if cost is not None and not math.isfinite(float(cost)):
                raise ValueError(f"{where}: `{label}` must be finite, got {cost}")
        mean, std = _mean_std(values)
        key = row_key({"dataset": dataset, "method": method, "setting": setting, "metric": metric})
        for row in self.rows:
            if row_key(row) == key:
                raise ValueError(f"duplicate results row {key}: one row per (dataset, method, setting, metric)")
        row: dict[str, Any] = {
            "dataset": dataset,
            "method": method,
            "setting": dict(setting),
            "metric": metric,
            "mean": mean,
            "std": std,
            "n": len(values),
            "seeds": list(seeds) if seeds is not None else None,
        }
        if time_s is not None:
            row["time_s"] = float(time_s)
        if peak_mem_mb is not None:
            row["peak_mem_mb"] = float(peak_mem_mb)
        row.update(extra)
        self.rows.append(row)
        return row

    def to_dict(self) -> dict[str, Any]:
        """The results file's content: ``benchmark``, ``created``, ``command``, ``environment`` and ``rows``."""
        return {
            "benchmark": self.benchmark,
            "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": self.command,
            "environment": environment(self.device),
            "rows": self.rows,
        }

    def write(self, directory: str | os.PathLike | None = None, *, merge: bool = False) -> Path:
        """Write the file (atomically, through a temporary file) into ``directory`` (default :func:`results_dir`)
        and return its path.

        With ``merge``, an existing file's rows that this object does not hold (by :func:`row_key`) are kept
        before this object's rows, and its ``command`` (invocations joined by ``" ; "``) is followed by this one's,
        each invocation once; so a results file can be built by several invocations. This object is not changed.
        """
        directory = Path(directory) if directory is not None else results_dir()
        directory.mkdir(parents=True, exist_ok=True)
        suffix = ".quick.json" if self.quick else ".json"
        path = directory / f"{self.benchmark}{suffix}"
        doc = self.to_dict()
        if merge and path.exists():
            old = json.loads(path.read_text())
            mine = {row_key(r) for r in self.rows}
            kept = [r for r in old["rows"] if row_key(r) not in mine]
            doc["rows"] = kept + doc["rows"]
            if kept:
                commands = old["command"].split(" ; ") + self.command.split(" ; ")
                doc["command"] = " ; ".join(dict.fromkeys(commands))
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(doc, indent=1) + "\n")
        tmp.replace(path)
        return path


def _isolated_target(queue, fn, args, kwargs, threads):
    try:
        limits = contextlib.nullcontext()
        if threads is not None:
            import torch
            from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

            torch.set_num_threads(threads)
            # the BLAS / OpenMP pools of numpy, scipy and scikit-learn too (a probe's lbfgs, a kNN search)
            limits = threadpool_limits(threads)
        with limits:
            start = time.perf_counter()
            result = fn(*args, **kwargs)
            elapsed = time.perf_counter() - start
        queue.put(("ok", result, elapsed, peak_rss_mb()))
    except BaseException as exc:  # report, then let the parent raise
        import traceback

        queue.put(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}", None, None))


def run_isolated(fn: Callable, *args, threads: int | None = None, **kwargs) -> tuple[Any, float, float]:
    """Run ``fn(*args, **kwargs)`` in a fresh process and return ``(result, time_s, peak_mem_mb)``.

    ``fn`` must be importable (a module-level function) and its result picklable. ``time_s`` is the wall time of
    the call itself, not of the process start-up; ``peak_mem_mb`` is the child's peak resident memory.

    Parameters
    ----------
    fn : callable
        A module-level function.
    *args, **kwargs
        Its arguments (picklable).
    threads : int, optional
        ``torch.set_num_threads`` in the child, and the same limit on the thread pools of numpy, scipy and
        scikit-learn (``threadpoolctl``) while ``fn`` runs.

    Returns
    -------
    tuple
        ``(result, time_s, peak_mem_mb)``.

    Raises
    ------
    RuntimeError
        When ``fn`` raises in the child (the child's traceback is in the message).
    """
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_isolated_target, args=(queue, fn, args, kwargs, threads))
    proc.start()
    status, payload, elapsed, peak = queue.get()
    proc.join()
    if status != "ok":
        raise RuntimeError(f"isolated run of {getattr(fn, '__name__', fn)} failed:\n{payload}")
    return payload, elapsed, peak
