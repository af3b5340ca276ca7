# The two commands: `make run` (set up everything and serve on http://127.0.0.1:8000/) and `make test`.
# Development defaults (DEBUG=true, SQLite, eager Celery) apply unless the environment says otherwise.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
export DEBUG ?= true
PYTEST_ARGS ?=

.PHONY: run test install lint format migrate seed messages check-deploy secrets clean

$(BIN)/activate:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when the dependencies change, so a second `make run` starts at once.
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

# Links in emails point at the address this serves, unless SITE_URL says otherwise.
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: seed
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Translations are committed compiled, so `make run` needs no gettext; run this after editing .po files.
messages: install
	$(PY) manage.py makemessages -l vi --no-obsolete --ignore '.venv/*' --ignore 'tests/*' --ignore 'bench/*'
	$(PY) manage.py compilemessages -l vi --ignore '.venv/*'

# Files docker-compose reads its secrets from (never committed).
secrets: install
	@mkdir -p secrets
	@test -s secrets/secret_key || $(PY) -c 'import secrets; print(secrets.token_urlsafe(64))' > secrets/secret_key
	@test -s secrets/audit_signing_key.pem || DEBUG=true $(PY) manage.py audit_keygen --out secrets/audit_signing_key.pem
	@test -s secrets/postgres_password || $(PY) -c 'import secrets; print(secrets.token_urlsafe(32))' > secrets/postgres_password
	@test -s secrets/app_db_password || $(PY) -c 'import secrets; print(secrets.token_urlsafe(32))' > secrets/app_db_password
	@echo "secrets/ ready"

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
