"""Shared test fixtures."""

import os
from pathlib import Path

import pytest


@pytest.fixture
def real_data_root() -> Path:
    """The real data root named by ``GRAPHDIFF_DATA``.

    Tests that read real files use this fixture: they are skipped when ``GRAPHDIFF_DATA`` is unset, and when it is
    set they run and FAIL if a file is missing (the loaders raise ``MissingDataError``), never skip.
    """
    env = os.environ.get("GRAPHDIFF_DATA")
    if not env:
        pytest.skip("GRAPHDIFF_DATA is not set: real-data test skipped")
    root = Path(env)
    assert root.is_dir(), f"GRAPHDIFF_DATA={env} is not a directory"
    return root


# -- p1-docs: the documentation build, shared by tests/test_docs.py and tests/test_notebooks.py ----------------------
# Both files mark their tests xdist_group("docs") and `make test` runs pytest with --dist loadgroup, so one worker
# builds the site (and executes each notebook) once per run.
import dataclasses  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

DOCS_BUILD_TIMEOUT_S = 1800


@dataclasses.dataclass
class DocsBuild:
    """One Sphinx build of ``docs/`` into a temporary folder: ``html`` (the site), ``executed`` (myst-nb's executed
    notebooks, ``jupyter_execute/notebooks/<name>.ipynb``), ``warnings`` (Sphinx's warning file), ``returncode``
    and ``log`` (its output)."""

    html: Path
    executed: Path
    warnings: str
    returncode: int
    log: str


@pytest.fixture(scope="session")
def docs_build(tmp_path_factory) -> DocsBuild:
    root = Path(__file__).resolve().parent.parent
    out = tmp_path_factory.mktemp("docs_build")
    warnings_file = out / "warnings.txt"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p))
    env.update(GRAPHDIFF_FAST="1", GRAPHDIFF_DOCS_EXECUTE="force")  # the notebooks' fast setting, always executed
    env.pop("GRAPHDIFF_DOCS_INTERSPHINX", None)  # offline, as in CI
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-n", "--keep-going", "-q", "-w", str(warnings_file)]
    cmd += ["-d", str(out / "doctrees"), str(root / "docs"), str(out / "html")]
    proc = subprocess.run(
        cmd, cwd=root, env=env, capture_output=True, text=True, timeout=DOCS_BUILD_TIMEOUT_S, check=False
    )
    return DocsBuild(
        html=out / "html",
        executed=out / "jupyter_execute" / "notebooks",
        warnings=warnings_file.read_text() if warnings_file.exists() else "",
        returncode=proc.returncode,
        log=proc.stdout + proc.stderr,
    )
