# cloudops.ecr — every command a user or CI needs. `make demo`, `make test`, `make bench`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
BIN       := $(VENV)/bin
PY        := $(BIN)/python
STAMP     := $(VENV)/.installed
LINK      := .collections/ansible_collections/cloudops/ecr
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup demo test units molecule lint bench clean

help:
	@echo "make demo   - set up, converge the dev registry on a local AWS endpoint (moto), print it"
	@echo "make test   - set up and run every test and quality gate"
	@echo "make lint   - static gates only (ruff, ansible-lint)"
	@echo "make bench  - benchmark against the community.aws.ecs_ecr baseline"

setup: $(STAMP) $(LINK)

$(STAMP): requirements.txt
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(LINK):
	@mkdir -p $(dir $(LINK))
	@ln -sfn $(CURDIR) $(LINK)

demo: setup
	$(PY) scripts/demo.py

units: setup
	$(BIN)/pytest -q -p no:cacheprovider tests/unit

molecule: setup
	cd extensions && $(CURDIR)/$(BIN)/molecule test -s default

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup
	@bash tests/run-all.sh

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .collections outputs tests/output
