# The commands a newcomer runs. Each installs the project into .venv first if needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# Dagster instance config (the duckdb_writer pool limit) lives in dagster_home/dagster.yaml.
export DAGSTER_HOME := $(CURDIR)/dagster_home
# The simulated company's fake APIs accept any token; the config still names an env var, like a real source.
export TECHLEDGER_SIM_TOKEN ?= simulated-token-not-a-secret

.PHONY: install demo test dev bench lint format clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/techledger demo

test: install lint
	$(BIN)/python -m pytest -q

dev: install
	$(BIN)/techledger simulate serve --port 8765 & SIM_PID=$$!; \
	trap 'kill $$SIM_PID 2>/dev/null' EXIT INT TERM; \
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: install
	$(BIN)/techledger bench --scale 3 --output .bench/results.json

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf data .bench dbt_project/target dbt_project/logs
