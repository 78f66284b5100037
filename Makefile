# tariffcost: two commands on a fresh machine with Python 3.11+ and make.
#   make run   install everything into .venv, then run the monthly job on the embedded sample
#   make test  install everything into .venv, then lint (ruff) and run the test suite
#   make test-fast  the suite without the slow real-cluster and Prefect-boot tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint compare install lock sample bench clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m compileall -q -j 0 flows transforms schemas >/dev/null
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/tariffcost backfill --from 2025-01 --to 2026-10 --scenario no_japan_deal --scenario pre_2025 --scenario ieepa_upheld

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

test-fast: lint
	$(BIN)/python -m pytest -m "not slow"

# After `make run`: the published tables and exports against a golden copy
# (GOLDEN=dir holding warehouse.duckdb and exports/; GOLDEN_REPO=the checkout it was made in,
# when not this one).
compare: $(STAMP)
	@test -n "$(GOLDEN)" || { echo "make compare: give the golden copy, e.g. make compare GOLDEN=/path/to/golden (a folder holding warehouse.duckdb and exports/)" >&2; exit 2; }
	$(BIN)/python scripts/compare_outputs.py --golden "$(GOLDEN)" $(if $(GOLDEN_REPO),--golden-repo "$(GOLDEN_REPO)")

# Regenerate the lock file from pyproject.toml (needs the package registry).
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet --upgrade pip
	.lockenv/bin/python -m pip install --quiet -e '.[test]'
	.lockenv/bin/python -m pip install --quiet setuptools wheel && .lockenv/bin/python -m pip freeze --all --exclude-editable | grep -vE "^(tariffcost|pip)==" > requirements.lock
	rm -rf .lockenv

# Rebuild the synthetic sample inputs (deterministic) from the reference Census mix.
sample: $(STAMP)
	$(BIN)/python scripts/make_sample.py

bench: $(STAMP)
	$(BIN)/python bench/run_bench.py

clean:
	rm -rf data/warehouse.duckdb* data/exports data/runs
