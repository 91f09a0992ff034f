# Two commands for a newcomer: `make run` and `make test`. Everything else is a step of those.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
FLASK := $(BIN)/flask --app wsgi

.PHONY: install chromium run test lint bench backup restore load clean

install: $(VENV)/.installed consortium/static/app.css

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

consortium/static/app.css: node_modules/.installed assets/app.scss assets/app.mjs assets/build.mjs
	npm run --silent build

run: install
	$(FLASK) db upgrade
	$(FLASK) demo seed
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install chromium
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The browser tests drive Debian's Chromium (never a downloaded browser): installed here when it
# is missing and this user can, otherwise the exact command is printed and nothing runs.
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "== installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Debian's Chromium at /usr/bin/chromium. Install it with:" >&2; \
	    echo "    sudo apt-get install chromium" >&2; exit 1; \
	  fi; }

bench: install
	$(BIN)/python bench/run.py

# The database in DATABASE_URL (or the SQLite default) to a file: `make backup [BACKUP=path]`
# (by default a new file in instance/backups/), and back: `make restore BACKUP=path [FORCE=1]`.
backup: install
	$(FLASK) backup create $(BACKUP)

restore: install
	@test -n "$(BACKUP)" || { echo "Say which backup: make restore BACKUP=path [FORCE=1]" >&2; exit 2; }
	$(FLASK) backup restore $(if $(FORCE),--force) $(BACKUP)

# 50 users of every role for 60 s against gunicorn and a PostgreSQL database of its own (made,
# seeded and dropped; LOAD_ADMIN_URL says which server, by default 127.0.0.1:5432). Not a test.
load: install
	$(BIN)/python bench/load.py $(LOAD_ARGS)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) node_modules consortium/static instance .pytest_cache
