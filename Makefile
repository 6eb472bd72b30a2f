# riskwatch developer entry points. From a fresh clone: `make test` (creates .venv, starts Kafka and
# PostgreSQL with scripts/, runs every test) and `make demo`. Services keep running: `make stop`.
SHELL := /bin/bash

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
RW := $(VENV)/bin/riskwatch
# Touched after a successful install: pip runs again only when pyproject.toml or constraints.txt is newer.
STAMP := $(VENV)/.installed

KAFKA_BOOTSTRAP ?= 127.0.0.1:9092
TEST_PG_URL ?= postgresql+psycopg://riskwatch:riskwatch@127.0.0.1:5432/riskwatch
# CI logs show where the time goes; locally pass your own, e.g. PYTEST_ARGS='-x -k kafka'.
PYTEST_ARGS ?= $(if $(CI),--durations=15,)

.DEFAULT_GOAL := help
.PHONY: help venv install services test lint lock stop demo kafka pg

help:
	@echo "make test      install, start Kafka + PostgreSQL, run all tests (CI: .ci/run)"
	@echo "make demo      install, start Kafka, simulate a week, run the stream worker on it, show top risks and alerts, import the week's hazard ledger"
	@echo "make services  start Kafka (127.0.0.1:9092) and PostgreSQL (127.0.0.1:5432)"
	@echo "make stop      stop the services this tree started"
	@echo "make install   create .venv and install the project with its dev extras (versions from constraints.txt)"
	@echo "make lint      ruff and mypy (make test runs them first)"
	@echo "make lock      rewrite constraints.txt from what .venv holds (after a deliberate upgrade)"

venv: $(PY)

$(PY):
	@test -n "$(PYTHON)" || { echo "python3.11 not found: install Python 3.11 (pyenv install 3.11)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# OS packages the exports need: a CJK font (pipeline/fonts.py) and pdftotext (export tests).
APT_NEEDS := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc:fonts-wqy-zenhei /usr/bin/pdftotext:poppler-utils

# The alert page's browser tests (tests/integration/test_alert_page_browser.py): Debian's Chromium,
# driven by playwright-core from npm (pinned in tests/browser/package-lock.json; it downloads no browser).
# Both are installed only when missing; without root (or npm) the browser tests skip, and fail under CI.
BROWSER_DIR := tests/browser
BROWSER_STAMP := $(BROWSER_DIR)/node_modules/.package-lock.json

install: $(STAMP) $(BROWSER_STAMP)
	@scripts/apt-ensure.sh $(APT_NEEDS)
	@scripts/apt-ensure.sh --optional /usr/bin/chromium:chromium

$(BROWSER_STAMP): $(BROWSER_DIR)/package.json $(BROWSER_DIR)/package-lock.json
	@if command -v npm >/dev/null; then \
		cd $(BROWSER_DIR) && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.package-lock.json; \
	else echo "make: npm not found: the browser tests will be skipped (CI: fail)" >&2; fi

# constraints.txt pins every package to the version the tests last passed with, so a fresh machine
# installs exactly those; pyproject.toml keeps the ranges the code supports.
$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

lock: | $(PY)
	@{ echo "# Every package's version the test suite passed with (make lock writes it; make install uses it)."; \
	   $(PY) -m pip freeze --exclude-editable --disable-pip-version-check | LC_ALL=C sort -f; } > constraints.txt

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

services:
	scripts/services-up.sh

kafka:
	scripts/kafka-start.sh

pg:
	scripts/pg-start.sh

stop:
	scripts/services-down.sh

# In CI a service that does not start fails the run; on a developer's machine the unit tests still
# run and the integration tests report themselves skipped, with the reason.
test: install lint
	@scripts/services-up.sh || { test -z "$$CI" && echo "make: services not started: integration tests will be skipped" >&2; }
	RISKWATCH_KAFKA_BOOTSTRAP=$(KAFKA_BOOTSTRAP) RISKWATCH_TEST_PG_URL=$(TEST_PG_URL) \
		$(PY) -m pytest tests $(PYTEST_ARGS)

# The real pipeline on a simulated week: Kafka -> `riskwatch worker` (clock: event) -> SQLite, then the
# top risks and alerts from the database. Its own topics (demo.*) and consumer group, reset each run.
demo: export RISKWATCH_DB_URL ?= sqlite:///$(CURDIR)/var/demo.db
demo: export RISKWATCH_KAFKA_BOOTSTRAP ?= $(KAFKA_BOOTSTRAP)
demo: export RISKWATCH_TOPIC_PREFIX ?= demo.
demo: export RISKWATCH_APP_ID ?= riskwatch-demo
demo: export RISKWATCH_CLOCK = event
demo: install kafka
	@mkdir -p var
	$(RW) simulate --days 7 --seed 7 --malformed-rate 0.05 --to var/demo-week.jsonl
	@rm -f var/demo.db var/demo.db-wal var/demo.db-shm
	$(RW) db upgrade
	$(PY) -m streams.demo reset
	$(RW) produce var/demo-week.jsonl --topic $${RISKWATCH_TOPIC_PREFIX}events.raw
	@echo "worker running until the input is drained (JSON log: var/demo-worker.log)"
	$(RW) worker --until-drained 2> var/demo-worker.log
	$(PY) -m streams.demo report
	@echo "the street office's hazard ledger of the same week, as an .xlsx the simulator writes: checked, then imported"
	$(PY) -m pipeline.simulate.ledgers var/demo-week.jsonl var/demo-hazards.xlsx
	$(RW) import ledger var/demo-hazards.xlsx --kind hazards --dry-run
	$(RW) import ledger var/demo-hazards.xlsx --kind hazards
