# leadml — run `make` or `make help` to see the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo
DEMO_LEADS ?= 20000
DEMO_AS_OF ?= 2026-01-01
export MLFLOW_TRACKING_URI ?= sqlite:///mlflow.db

.DEFAULT_GOAL := help

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install leadml (editable) with dev extras

chromium: ## Install Debian's Chromium for the browser tests, when missing
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian chromium (browser tests)" >&2; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

postgresql: ## Install Debian's PostgreSQL server binaries for the database tests, when missing
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing Debian postgresql (database tests)" >&2; \
		flock /tmp/leadml-apt.lock sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null'; \
	fi

demo: install ## Synthetic CRM → validate → train sql & won → promote → score → lead cards
	$(BIN)/leadml demo-data --out $(DEMO_DIR)/data --leads $(DEMO_LEADS) --seed 7
	$(BIN)/leadml validate --data $(DEMO_DIR)/data --report $(DEMO_DIR)/validation.json
	$(BIN)/leadml train --data $(DEMO_DIR)/data --config training/sql.yaml --report $(DEMO_DIR)/train_sql.json
	$(BIN)/leadml train --data $(DEMO_DIR)/data --config training/won.yaml --report $(DEMO_DIR)/train_won.json
	$(BIN)/leadml promote --model leadml-sql --config training/sql.yaml
	$(BIN)/leadml promote --model leadml-won --config training/won.yaml
	$(BIN)/leadml score --data $(DEMO_DIR)/data --model models:/leadml-sql@champion \
		--also models:/leadml-won@champion --as-of $(DEMO_AS_OF) --out $(DEMO_DIR)/scores --format both
	$(BIN)/leadml report --scores $(DEMO_DIR)/scores --data $(DEMO_DIR)/data --out $(DEMO_DIR)/lead_cards.html
	$(BIN)/leadml summarize $(DEMO_DIR)/train_sql.json $(DEMO_DIR)/train_won.json --scores $(DEMO_DIR)/scores
	@echo "MLflow UI: $(BIN)/mlflow ui --backend-store-uri $(MLFLOW_TRACKING_URI)"
	@echo "Lead cards: $(abspath $(DEMO_DIR))/lead_cards.html"

serve: install ## Serve the sql champion over REST (mlflow models serve, port 5001)
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/mlflow models serve -m models:/leadml-sql@champion --env-manager local --host 127.0.0.1 --port $(or $(PORT),5001)

# Two workers (TEST_JOBS=1 for one): the tests that share the session's demo CRM and
# champion run on one worker, every other test file stays whole on one worker. Idle OpenMP
# threads sleep rather than spin (two workers' LightGBM teams share 2 cores: measured 22 s ->
# 16 s for one training test beside a busy worker).
test: install chromium postgresql ## Run the test suite
	OMP_WAIT_POLICY=PASSIVE $(BIN)/pytest -q -n $(or $(TEST_JOBS),2) --dist loadgroup --durations=30

lint: install ## Ruff lint and format check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# A fresh run each time over the core's functions (tests/mutation_report.py SCOPE), so the
# rates match today's source and tests; ONLY='leadml.split.*' re-runs one module's mutants
# in the last run's mutants/ folder (measure module by module on a busy machine).
# tests/mutmut_run.py is mutmut with SIGTERM ignored by the run and the per-mutant processes:
# a clean-up elsewhere on a shared machine that kills by name ended mutants mid-test (exit -15,
# counted "suspicious"). Stop a run with Ctrl-C, or SIGKILL its mutmut process by pid.
# OMP_THREAD_LIMIT=1: LightGBM's `num_threads: 2` (the configs, DEFAULT_PARAMS) overrides
# OMP_NUM_THREADS, and an OpenMP team started in mutmut's stats run hangs every forked mutant
# run in libgomp (measured: _score_event_tables' mutants at 0 % CPU); the limit caps it at one.
mutate: install ## Mutation testing of the core (mutmut, ~40 min on 2 shared cores): kill rate per module, survivors
	$(if $(ONLY),,rm -rf mutants)
	OMP_THREAD_LIMIT=1 OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 nice -n 10 $(BIN)/python tests/mutmut_run.py \
		run --max-children $(or $(MUTATE_JOBS),2) \
		$(or $(ONLY),$(shell $(BIN)/python tests/mutation_report.py --scope))
	$(BIN)/python tests/mutation_report.py $(if $(MUTATE_JSON),--json $(MUTATE_JSON))

bench: install ## Run the benchmarks (prints figures; slow, on demand)
	$(BIN)/pip install --quiet -e '.[bench]'
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean: ## Remove generated data, MLflow stores and exports
	rm -rf $(DEMO_DIR) mlflow.db mlruns mlartifacts out .leadml-cache mutants

.PHONY: help install chromium postgresql demo serve test lint bench mutate clean
