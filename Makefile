# Atelier: `make run` serves everything on the embedded default; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast install clean

$(STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py sync_catalog
	$(PY) manage.py ensure_demo_account
	$(PY) manage.py runall

# The whole suite: on SQLite, then the money and job tests again on PostgreSQL + Redis.
test: $(STAMP)
	$(PY) -m pytest
	$(PY) -m pytest --postgres -m pg

test-fast: $(STAMP)
	$(PY) -m pytest -m "not worker and not browser"

clean:
	rm -rf var .pytest_cache
