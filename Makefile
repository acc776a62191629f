# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PORT ?= 8000
export ORDERSYNC_DATABASE_URL ?= sqlite:///./ordersync.db

.PHONY: install run run-rtp serve migrate demo-data lint format test unit bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

migrate: install
	$(BIN)/ordersync migrate

demo-data: migrate
	$(BIN)/ordersync load data/demo-bundle.json

## make run: virtualenv, install, migrate, load the demo bundle, serve on 127.0.0.1:$(PORT)
run: demo-data
	@sed -e 's/8000/$(PORT)/g' scripts/try-it.txt
	$(BIN)/ordersync serve --port $(PORT)

## make run-rtp: the same demo in real-time pricing mode (RTP), on its own SQLite file so the
## STANDARD demo is never touched, with the pricing (8101) and CPQ (8102) simulators started
## in the background and stopped with the server (Ctrl-C)
RTP_DATABASE_URL ?= sqlite:///./ordersync-rtp.db
run-rtp: export ORDERSYNC_DATABASE_URL = $(RTP_DATABASE_URL)
run-rtp: install
	$(BIN)/ordersync migrate
	$(BIN)/ordersync load data/demo-bundle.json
	$(BIN)/ordersync load data/rtp-settings.json
	@sed -e 's/8000/$(PORT)/g' scripts/try-it-rtp.txt
	@pids=; trap 'kill $$pids 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	$(BIN)/ordersync simulate pricing --port 8101 & pids="$$pids $$!"; \
	$(BIN)/ordersync simulate cpq --port 8102 & pids="$$pids $$!"; \
	$(BIN)/ordersync serve --port $(PORT)

lint: install
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

## make test: lint, then the whole suite (unit, integration on SQLite and PostgreSQL, e2e)
test: lint
	$(BIN)/python -m pytest -ra

unit: install
	$(BIN)/python -m pytest tests/unit -q

## make bench: every benchmark against the local PostgreSQL (long: the import alone takes minutes)
bench: install
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/sync.py
	$(BIN)/python benchmarks/ab_sync.py
	$(BIN)/python benchmarks/order_read.py
	$(BIN)/python benchmarks/profile_server.py
	$(BIN)/python benchmarks/rtp.py
	$(BIN)/python benchmarks/list.py
	$(BIN)/python benchmarks/bundle_load.py
	$(BIN)/python benchmarks/import.py

clean:
	rm -rf $(VENV) ordersync.db ordersync.db-wal ordersync.db-shm \
		ordersync-rtp.db ordersync-rtp.db-wal ordersync-rtp.db-shm
