# eihlab: the two commands of the README's quick start are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench calibrate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## run: install, run every bundled experiment (results/report.html) and the evidence suite
## (results/evidence/report.html)
run: $(STAMP)
	$(BIN)/eihlab suite --out results
	$(BIN)/eihlab evidence run --workers 0 --out results/evidence

## test: install, lint, type-check and run the test suite
test: $(STAMP) lint
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/crossover_1000.py
	$(BIN)/python benchmarks/engine.py

## calibrate: re-run the recorded calibration commands in order from the declared defaults (~1 h)
calibrate: $(STAMP)
	$(BIN)/python -m eihlab.evidence.calibrate

clean:
	rm -rf $(VENV) results
