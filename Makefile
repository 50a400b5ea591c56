# Two commands: `make demo` (the main job) and `make test` (the whole suite, the docs build and its notebooks included).
# `make lint` is ruff (CI runs it and `make test`); `make docs` builds the documentation site, warnings as errors.
# Each creates .venv if missing and installs graphdiff into it; re-running is fast once installed.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.graphdiff-installed

.PHONY: demo test lint format install docs bench-tables device-check clean

# constraints.txt pins the CPU build of torch for development and CI; the library itself accepts a range.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/graphdiff demo

# --dist loadgroup: the tests marked xdist_group("docs") (tests/test_docs.py, tests/test_notebooks.py) share one
# worker, so the site is built, and each notebook executed, once per run.
test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# nitpicky (-n): every cross-reference must resolve; the notebooks run in their fast setting (GRAPHDIFF_FAST=1)
docs: $(STAMP)
	$(PY) -m sphinx -b html -W --keep-going -n docs docs/_build/html
	@echo "open docs/_build/html/index.html"

bench-tables: $(STAMP)
	$(PY) benchmarks/make_tables.py

# every method's accelerator path against CPU (benchmarks/device_check.py; under 8 minutes on one GPU), then the
# tables; `make device-check DEVICE=cpu` compares CPU with CPU. Needs GRAPHDIFF_DATA (Cora, Coauthor CS); exits 1 when
# a comparison fails, 2 when DEVICE is not available. The quick CPU mode runs inside `make test`.
DEVICE ?= cuda
device-check: $(STAMP)
	$(PY) benchmarks/device_check.py --device $(DEVICE)
	$(PY) benchmarks/make_tables.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache docs/_build docs/api docs/notebooks
