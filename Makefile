# neigou: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: run test test-postgres test-all lint bench-browse bench-flash-sale clean fonts
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Share posters draw Chinese names with a CJK font (Debian's fonts-wqy-microhei); without one
# they show Latin text only. Installed when this runs as root with apt-get, as on CI.
fonts:
	@test -f $(CJK_FONT) || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null) ; } || \
	  echo "note: no CJK font installed; set POSTER_FONT to one for Chinese text on posters"

run: $(STAMP) fonts
	NEIGOU_ENV=development $(BIN)/flask db upgrade
	NEIGOU_ENV=development $(BIN)/flask shop seed-demo --if-empty
	NEIGOU_ENV=development $(BIN)/flask shop demo-logins
	NEIGOU_ENV=development $(BIN)/flask run --host 127.0.0.1 --port 5000

test: $(STAMP) fonts
	$(BIN)/pytest --cov=shop --cov-report=term --cov-fail-under=90

test-postgres: $(STAMP) fonts
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest

test-all: test test-postgres

lint: $(STAMP)
	$(BIN)/ruff check shop referrals community tests bench

bench-browse: $(STAMP)
	$(BIN)/python bench/browse.py

bench-flash-sale: $(STAMP)
	$(BIN)/python bench/flash_sale.py

clean:
	rm -rf $(VENV) .pytest_cache .coverage htmlcov
