# The two commands of the README: `make run` and `make test`. Both install what they need.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/dagster_home

# Sample size for `make run`: about a week of product traffic.
DAYS ?= 7
EVENTS ?= 150000
SEED ?= 42

.PHONY: install run test lint format generate ui docs benchmark clean dashboard dashboard-screenshot ui-screenshots superset superset-install

install: $(INSTALLED)

# Bytecode is compiled once, here: every run, test and dbt invocation is a new Python process,
# which would otherwise compile its imports again wherever PYTHONDONTWRITEBYTECODE is set.
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	touch $@

generate: install
	$(BIN)/warehouse-generate --days $(DAYS) --events $(EVENTS) --seed $(SEED) --out raw_landing --clean

# WAREHOUSE_ENGINE=spark builds the models on Apache Spark, which needs Java (README).
run: generate
	@if [ "$$WAREHOUSE_ENGINE" = spark ]; then scripts/ensure-java; fi
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/warehouse run

# Test files run in TEST_WORKERS processes (a file's tests stay together in one): most tests
# wait on subprocesses, servers and DuckDB, so two overlap well even on two cores.
# TEST_WORKERS=0 runs them in this process, one after the other.
TEST_WORKERS ?= 2
test: install
	scripts/ensure-chromium
	scripts/ensure-java
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# The benchmark (README, Benchmark): BENCHMARK_EVENTS=1M, 10M (default) or 100M.
BENCHMARK_EVENTS ?= 10M
benchmark: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/warehouse-benchmark --events $(BENCHMARK_EVENTS)

ui: install
	@if [ "$$WAREHOUSE_ENGINE" = spark ]; then scripts/ensure-java; fi
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster dev -w workspace.yaml

# The dashboard over the published marts (after `make run`): http://127.0.0.1:$(DASHBOARD_PORT)/
DASHBOARD_PORT ?= 8501
dashboard: install
	$(BIN)/python -m dashboard --port $(DASHBOARD_PORT)

# The README's screenshot of the dashboard's overview, drawn by headless Chromium.
dashboard-screenshot: install
	scripts/ensure-chromium
	$(BIN)/python -m scripts.dashboard_screenshot --out docs/images/dashboard-overview.png

# The README's screenshots of the Dagster UI (docs/images/ui-*.png), over the warehouse of
# `make run` (built first if there is none), with one more run that has nothing new.
ui-screenshots: install
	scripts/ensure-chromium
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m scripts.ui_screenshots --out docs/images

# dbt docs of the project and the warehouse's tables (after `make run`, while no run is going:
# dbt opens the warehouse to read its catalog).
DOCS := dbt_project/target/docs
docs: install
	cd dbt_project && ../$(BIN)/dbt docs generate --static --profiles-dir . --target-path target/docs
	@echo "\ndbt docs: $(DOCS)/static_index.html (one file: open it in a browser)"
	@echo "or serve $(DOCS)/index.html: $(BIN)/python -m http.server 8080 -d $(DOCS)"
	@echo "  (or: cd dbt_project && ../$(BIN)/dbt docs serve --target-path target/docs --port 8080)"

# Superset over the published marts (superset/README.md), in a venv of its own: Superset's
# dependencies stay out of the project's.
SUPERSET_VENV := .superset-venv
SUPERSET_INSTALLED := $(SUPERSET_VENV)/.installed
superset-install: $(SUPERSET_INSTALLED)

$(SUPERSET_INSTALLED): superset/requirements.txt | $(INSTALLED)
	$(BIN)/uv venv --quiet --clear --python $(BIN)/python $(SUPERSET_VENV)
	$(BIN)/uv pip install --quiet --python $(SUPERSET_VENV)/bin/python -r superset/requirements.txt
	touch $@

superset: superset-install
	$(SUPERSET_VENV)/bin/python superset/local.py

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs
	find dagster_home -mindepth 1 ! -name dagster.yaml -exec rm -rf {} +
	find raw_landing warehouse -mindepth 1 ! -name README.md -exec rm -rf {} +
