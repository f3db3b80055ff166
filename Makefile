# Labelops: `make run` (venv, deps, migrate, demo, web + worker) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1:8000

.PHONY: run setup test lint fmt bench fuzz worker clean

# Re-install only when the dependency declarations change.
$(VENV)/.installed: pyproject.toml client/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]' -e ./client
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

setup: $(VENV)/.installed node_modules/.installed

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo --with-demo-users
	@echo "Labelops on http://$(HOST)/ (demo users: see README.md). Ctrl-C stops the web server and the worker."
	$(PY) manage.py serve $(HOST)

worker: setup
	$(PY) manage.py qcluster

test: setup
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

fmt: setup
	$(VENV)/bin/ruff format .

# The long fuzzing run (≥ 5,000 requests): the same test with 100 examples per operation.
fuzz: setup
	FUZZ_EXAMPLES=100 FUZZ_PHASES=examples,coverage,fuzzing FUZZ_TIMEOUT=7200 $(VENV)/bin/pytest tests/security/test_fuzz.py -q -s

bench: setup
	for f in bench/bench_*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) node_modules staticfiles .test-db.sqlite3* db.sqlite3*
