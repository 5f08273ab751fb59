# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run serve test demo lint bench-ingest screenshots

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	touch $@

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(VENV)/.installed-dev
	$(PY) -m pytest $(PYTEST_ARGS)

# Re-takes docs/screenshots/<role>/*.png (the README shows some) through the browser suite.
screenshots: $(VENV)/.installed-dev
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q tests/browser/test_every_page.py

demo: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo_data

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Benchmarks are run by hand (see bench/README.md); this one needs import_csv.
bench-ingest: $(VENV)/.installed
	$(PY) -m bench.ingest $(BENCH_ARGS)

# Production server (docs/operations.md): DEBUG off, collectstatic, migrate, gunicorn.
serve: $(VENV)/.installed
	PORT=$(PORT) $(PY) -m marketing_os.serve
