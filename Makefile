# neigou: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: run test test-postgres test-all lint bench-browse clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	NEIGOU_ENV=development $(BIN)/flask db upgrade
	NEIGOU_ENV=development $(BIN)/flask shop seed-demo --if-empty
	NEIGOU_ENV=development $(BIN)/flask shop demo-logins
	NEIGOU_ENV=development $(BIN)/flask run --host 127.0.0.1 --port 5000

test: $(STAMP)
	$(BIN)/pytest --cov=shop --cov-report=term --cov-fail-under=90

test-postgres: $(STAMP)
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest

test-all: test test-postgres

lint: $(STAMP)
	$(BIN)/ruff check shop referrals community tests bench

bench-browse: $(STAMP)
	$(BIN)/python bench/browse.py

clean:
	rm -rf $(VENV) .pytest_cache .coverage htmlcov
