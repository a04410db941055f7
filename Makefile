# neigou: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: run test test-postgres test-all lint bench-browse bench-flash-sale bench-kpi clean fonts chromium translations translations-update
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
CHROMIUM := /usr/bin/chromium
# make run: web on PORT, the fake Stripe (localstripe, test keys) on FAKE_STRIPE_PORT, both on
# 127.0.0.1; make variables or environment variables (make run PORT=5055, PORT=5055 make run).
PORT ?= 5000
FAKE_STRIPE_PORT ?= 8420
DEMO_STRIPE := STRIPE_SECRET_KEY=sk_test_neigou_demo STRIPE_PUBLISHABLE_KEY=pk_test_neigou_demo \
	STRIPE_WEBHOOK_SECRET=whsec_neigou_demo STRIPE_API_BASE=http://127.0.0.1:$(FAKE_STRIPE_PORT)
DEMO_ENV := NEIGOU_ENV=development PUBLIC_URL=http://127.0.0.1:$(PORT) NEIGOU_WEB_PORT=$(PORT) \
	FAKE_STRIPE_PORT=$(FAKE_STRIPE_PORT) $(DEMO_STRIPE)

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Browser libraries come from the npm registry through package.json and its lock file, and are
# served from the app's own static files (never a CDN; the Content-Security-Policy allows 'self').
ECHARTS := shop/static/vendor/echarts.min.js
$(ECHARTS): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	mkdir -p $(dir $@)
	cp node_modules/echarts/dist/echarts.min.js $@

# Translations: each language's catalogue (shop/translations/<locale>/LC_MESSAGES/messages.po) is
# compiled into the .mo file the app reads; the .mo files are built here, never committed. The
# directory has Babel's full name of the locale: zh_CN is looked up as zh_Hans_CN.
# `make translations-update` extracts the marked strings (babel.cfg, and the keywords below,
# which tests/i18n/test_catalogue.py reads from this line) and merges them into every catalogue.
BABEL_KEYWORDS := -k _l -k lazy_gettext
TRANSLATIONS := shop/translations
PO_FILES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

translations: $(MO_FILES)

$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -l $* -i $< -o $@

translations-update: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output \
	  --project neigou --copyright-holder neigou -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching --ignore-obsolete
	rm $(TRANSLATIONS)/messages.pot
	@$(MAKE) --no-print-directory translations

# Share posters draw Chinese names with a CJK font (Debian's fonts-wqy-microhei); without one
# they show Latin text only. Installed when this runs as root with apt-get, as on CI.
fonts:
	@test -f $(CJK_FONT) || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null) ; } || \
	  echo "note: no CJK font installed; set POSTER_FONT to one for Chinese text on posters"

# The browser test drives Debian's chromium; installed when this runs as root with apt-get, as on CI.
chromium:
	@test -x $(CHROMIUM) || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) ; } || \
	  echo "note: no $(CHROMIUM); the browser test skips (outside CI)"

# Web, fake Stripe and worker as children of one supervisor (honcho, Procfile.dev): Ctrl-C or
# SIGTERM stops all three. Ports are checked first: one already taken stops the run, by number.
# SYNTHETIC=0 leaves out the year of synthetic chains that the KPI dashboard shows beside the demo.
SYNTHETIC ?= 1
run: $(STAMP) $(ECHARTS) fonts translations
	$(BIN)/python -m shop.devserver --web-port $(PORT) --fake-stripe-port $(FAKE_STRIPE_PORT) --check-only
	$(DEMO_ENV) $(BIN)/flask db upgrade
	$(DEMO_ENV) $(BIN)/flask shop seed-demo --if-empty
ifneq ($(SYNTHETIC),0)
	@# a year of synthetic chains beside the demo's people, so that the KPI dashboard has something to show
	$(DEMO_ENV) $(BIN)/flask shop seed-synthetic --employees 300 --contacts 1500 --events 30000 --months 12 --seed 7 --if-absent
endif
	@$(DEMO_ENV) $(BIN)/flask shop demo-logins
	@echo "Card payments go to the fake Stripe: pay with test card 4242 4242 4242 4242"
	@echo "(any future expiry, any CVC; 4000 0000 0000 0341 is declined)."
	@$(BIN)/python -m shop.devserver --web-port $(PORT) --fake-stripe-port $(FAKE_STRIPE_PORT)
	@exec env $(DEMO_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev

# The suite runs in PYTEST_WORKERS processes (pytest-xdist; "auto": one per CPU, at most 2), a test
# file to a process; each has its own database, Redis database and servers. PYTEST_WORKERS=0: one.
# At most 2: the PostgreSQL run in two processes peaks at about 66 connections, and PostgreSQL
# allows 100 by default.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --maxprocesses 2 --dist loadfile)

test: $(STAMP) $(ECHARTS) fonts chromium translations
	$(BIN)/pytest $(PYTEST_PARALLEL) --cov --cov-report=term --cov-fail-under=90

test-postgres: $(STAMP) $(ECHARTS) fonts chromium translations
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest $(PYTEST_PARALLEL)

test-all: test test-postgres

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench-browse: $(STAMP)
	$(BIN)/python bench/browse.py

# SERVERS=2: two gunicorn instances sharing PostgreSQL and Redis (bench/README.md)
bench-flash-sale: $(STAMP)
	$(BIN)/python bench/flash_sale.py $(if $(SERVERS),--servers $(SERVERS))

# The KPI dashboard at scale on a scratch PostgreSQL database (see bench/kpi.py; BENCH_KPI_ARGS to change it).
bench-kpi: $(STAMP)
	$(BIN)/python bench/kpi.py $(BENCH_KPI_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .coverage htmlcov node_modules shop/static/vendor
