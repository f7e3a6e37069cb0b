# Tubelet. The two commands a newcomer needs:
#   make run    set up this machine and start the platform on its embedded default, with demo data
#   make test   set up this machine and run the whole test suite (what CI runs)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
HOST ?= 127.0.0.1
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test setup setup-test frontend serve demo lint bench clean help

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

run: setup frontend demo serve ## set up, seed demo data and start web + worker + beat

test: setup-test ## set up and run every check and test (CI runs this)
	bash deploy/scripts/test.sh

setup: $(VENV)/.stamp-run ## system packages and the Python environment for the platform
setup-test: $(VENV)/.stamp-test ## everything for tests, incl. torch/sam2 (CPU), Chromium, PostgreSQL, Redis

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.stamp-run: requirements.txt | $(VENV)/bin/python
	bash deploy/scripts/system-deps.sh run
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.stamp-test: requirements.txt requirements-dev.txt requirements-gpu.txt | $(VENV)/bin/python
	bash deploy/scripts/system-deps.sh test
	$(PIP) install -q -r requirements-dev.txt
	$(PIP) install -q -r requirements-gpu.txt
	$(PY) -c "import sam2" 2>/dev/null || SAM2_BUILD_CUDA=0 $(PIP) install -q --no-build-isolation sam2==1.1.0
	touch $@ $(VENV)/.stamp-run

frontend: frontend/dist/index.html ## build the web app (frontend/dist)

frontend/dist/index.html: frontend/package-lock.json $(shell find frontend/src frontend/index.html frontend/*.ts frontend/*.json -type f 2>/dev/null)
	bash deploy/scripts/system-deps.sh run
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run build

demo: setup ## migrate and (re)seed the demo projects, users, videos and the complete verified dataset
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py seed_demo --complete

serve: ## start web, worker and beat (embedded default unless the environment says otherwise)
	@echo "==> Tubelet on http://$(HOST):$(PORT)/  (Ctrl-C stops everything)"
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH HOST=$(HOST) PORT=$(PORT) honcho -f deploy/Procfile.embedded start

lint: setup-test ## ruff, migrations check, mypy
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	TUBELET_DATA_DIR=$$(mktemp -d) $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/mypy

bench: setup-test ## run every benchmark and print the ratios
	for b in bench/*.py; do [ "$$b" = bench/__init__.py ] || $(PY) -m bench.$$(basename $$b .py); done

clean: ## remove the data folder (database, media, broker) and build outputs
	rm -rf var frontend/dist test-artifacts
