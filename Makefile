# Two commands: `make demo` (the main job) and `make test` (the whole suite).
# Each creates .venv if missing and installs graphdiff into it; re-running is fast once installed.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.graphdiff-installed

.PHONY: demo test install bench-tables clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/graphdiff demo

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup -q

bench-tables: $(STAMP)
	$(PY) benchmarks/make_tables.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
