# Two entry points: `make demo` (set up + main job) and `make test` (set up + lint + tests).
PY ?= python3
VENV ?= .venv
# CPU build from this machine's disk; override e.g. TORCH=torch for a CUDA build.
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
# Test workers (pytest-xdist): one per core, at most 4 (each imports its own torch); WORKERS=
# runs the tests in one process.
WORKERS ?= -n auto --maxprocesses 4

.PHONY: setup demo test faults bench latest constraints
setup: $(VENV)/.installed

# The versions CI tested (constraints.txt), so a fresh machine gets what passed.
$(VENV)/.installed: pyproject.toml constraints.txt Makefile
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/superpose reproduce --quick --out report

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest $(WORKERS)

# Fault tests: kill -9 during start-up, mid-run and during writes; corrupt and symlinked stores;
# the command line under bad usage and bad files (a couple of minutes).
faults: setup
	$(BIN)/pytest $(WORKERS) -m "faults and not slow" tests/faults

bench: setup
	$(BIN)/superpose bench

# Scheduled-style check (not run in CI): the newest release of every dependency, upper bounds
# ignored, in a separate venv, then the tests: finds the next API break before users do. torch is
# TORCH as in setup (PyPI's newest torch is a multi-GB CUDA build: `make latest TORCH=torch`).
LATEST ?= .venv-latest
latest:
	rm -rf $(LATEST)
	$(PY) -m venv $(LATEST)
	$(LATEST)/bin/pip install -q -U pip
	$(LATEST)/bin/pip install -q "$(TORCH)"
	$(LATEST)/bin/pip install -q -U $$($(PY) -c "import re, tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; names = (re.split(r'[<>=!~ ;\[]', r)[0] for r in p['dependencies'] + p['optional-dependencies']['dev']); print(' '.join(n for n in names if n != 'torch'))")
	$(LATEST)/bin/pip install -q --no-deps -e .
	$(LATEST)/bin/pip freeze | grep -v -e '^-e ' -e '^torch==' > $(LATEST)/tested-versions.txt
	$(LATEST)/bin/pytest $(WORKERS)
	$(LATEST)/bin/pytest $(WORKERS) -m "not slow" tests/faults/test_cli.py

# Record the venv's versions as the tested ones (after `make test` passed in it).
constraints: setup
	$(BIN)/pip freeze | grep -v -e '^-e ' -e '^# Editable' -e '^torch==' > constraints.txt.new
	{ sed -n '1,3p' constraints.txt; cat constraints.txt.new; } > constraints.txt.tmp
	rm constraints.txt.new && mv constraints.txt.tmp constraints.txt
