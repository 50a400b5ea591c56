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
