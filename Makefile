# Two entry points: `make demo` (set up + main job) and `make test` (set up + lint + tests).
PY ?= python3
VENV ?= .venv
# CPU build from this machine's disk; override e.g. TORCH=torch for a CUDA build.
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin

.PHONY: setup demo test bench
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/superpose reproduce --quick --out report

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

bench: setup
	$(BIN)/superpose bench
