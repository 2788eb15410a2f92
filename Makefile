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

.PHONY: help setup demo test units integration sanity molecule lint bench clean

help:
	@echo "make demo   - set up, converge the dev registry on a local AWS endpoint (moto), print it"
	@echo "make test   - set up and run every gate: lint sanity units docs packaging ee runner molecule"
	@echo "make lint   - static gates only (ruff check, ruff format --check, ansible-lint)"
	@echo "make units  - pytest over tests/unit (rules, modules on moto in-process)"
	@echo "make integration - pytest over tests/integration (site, role and faults on a moto server)"
	@echo "make sanity - ansible-test sanity (--local, Python 3.12)"
	@echo "make bench  - benchmark against the community.aws.ecs_ecr baseline"

setup: $(STAMP) $(LINK)

$(STAMP): requirements.txt
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	# --no-compile: the `ansible` package holds tens of thousands of modules we never import;
	# byte-compiling them all doubles the set-up time (Python compiles what it imports, once).
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile -r requirements.txt
	@touch $@

$(LINK):
	@mkdir -p $(dir $(LINK))
	@ln -sfn $(CURDIR) $(LINK)

demo: setup
	$(PY) scripts/demo.py

# The gates live in scripts/gates.sh (one definition each); these targets run one of them.
units: setup
	@bash scripts/gates.sh units

integration: setup
	@bash scripts/gates.sh integration

sanity: setup
	@bash scripts/gates.sh sanity

molecule: setup
	cd extensions && $(CURDIR)/$(BIN)/molecule test -s default

lint: setup
	@bash scripts/gates.sh lint

test: setup
	@bash scripts/gates.sh

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .collections outputs tests/output
