# Two commands: `make demo` (the main job) and `make test` (the whole suite). `make lint` is ruff (CI runs both).
# Each creates .venv if missing and installs graphdiff into it; re-running is fast once installed.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.graphdiff-installed

.PHONY: demo test lint format install bench-tables clean

# constraints.txt pins the CPU build of torch for development and CI; the library itself accepts a range.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/graphdiff demo

test: $(STAMP)
	$(PY) -m pytest -n 2 -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench-tables: $(STAMP)
	$(PY) benchmarks/make_tables.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
