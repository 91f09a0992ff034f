# Two commands for a newcomer: `make run` and `make test`. Everything else is a step of those.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
FLASK := $(BIN)/flask --app wsgi

.PHONY: install run test lint bench backup restore load clean

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

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) node_modules consortium/static instance .pytest_cache
