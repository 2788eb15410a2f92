# cloudops.ecr — every command a user or CI needs. `make demo`, `make test`, `make bench`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
BIN       := $(VENV)/bin
PY        := $(BIN)/python
STAMP     := $(VENV)/.installed
LINK      := .collections/ansible_collections/cloudops/ecr
# The compat gate's venv: the oldest ansible-core that meta/runtime.yml claims (requires_ansible),
# inside .venv/ so that it is ignored, excluded and cleaned with it.
COMPAT    := $(VENV)/compat
COMPAT_STAMP := $(COMPAT)/.installed
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Some machines (this project's CI among them) set PYTHONDONTWRITEBYTECODE=1: every Python process
# then compiles boto3, botocore and Ansible from source again (import boto3: 1.0 s instead of 0.4 s,
# in each of the thousands of module processes the tests start). Let Python cache what it imports.
unexport PYTHONDONTWRITEBYTECODE
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup compat-setup demo demo-accounts drift localaws test units integration sanity compat molecule lint bench bench-scale test-scale clean

help:
	@echo "make demo   - set up, converge the dev registry on a local AWS endpoint (moto), print it (ENV=pro: pro)"
	@echo "make demo-accounts - the registry, dev and pro in three accounts (assume-role profiles) on one local endpoint"
	@echo "make drift ENV=dev - the drift report of an environment and the registry (exit 0 none, 3 drift, 1 error)"
	@echo "make localaws - a local AWS endpoint (moto) that keeps running; prints the variables to export"
	@echo "make test   - set up and run every gate: lint sanity units integration compat docs packaging ee runner molecule"
	@echo "make lint   - static gates only (ruff check, ruff format --check, ansible-lint)"
	@echo "make units  - pytest over tests/unit (rules, modules on moto in-process)"
	@echo "make integration - pytest over tests/integration (site, role and faults on a moto server)"
	@echo "make sanity - ansible-test sanity (--local, Python 3.12)"
	@echo "make compat - module and site tests on the oldest ansible-core meta/runtime.yml claims"
	@echo "make bench  - benchmark against the community.aws.ecs_ecr baseline, then make bench-scale"
	@echo "make bench-scale - 1,000 repositories: registry only and the whole site with per-repository CI roles"
	@echo "make test-scale - 1,000 per-repository CI roles through 35 % IAM throttling, then a rerun that writes nothing"

setup: $(STAMP) $(LINK)

# requirements.txt: what the collection needs at run time; test-requirements.txt: every other pin.
$(STAMP): requirements.txt test-requirements.txt
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	# --no-compile: the `ansible` package holds tens of thousands of modules we never import;
	# byte-compiling them all doubles the set-up time (Python compiles what it imports, once).
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile \
	  -r requirements.txt -r test-requirements.txt
	@touch $@

# The compat venv: tests/integration/gates/compat-requirements.txt's ansible-core, every other
# package at test-requirements.txt's pin, and amazon.aws linked from the dev venv's `ansible`
# package (one copy, the version the dev venv tests; amazon.aws 11 supports ansible-core 2.17+).
compat-setup: $(COMPAT_STAMP)

$(COMPAT_STAMP): $(STAMP) tests/integration/gates/compat-requirements.txt
	rm -rf $(COMPAT)
	$(PY) -m venv --without-pip $(COMPAT)
	grep -Ev '^ansible(-core)?==' test-requirements.txt >$(COMPAT)/constraints.txt
	$(PY) -m pip --python $(COMPAT)/bin/python install --quiet --disable-pip-version-check --no-compile \
	  -c $(COMPAT)/constraints.txt -r requirements.txt -r tests/integration/gates/compat-requirements.txt
	dev=$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))') && \
	  compat=$$($(COMPAT)/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))') && \
	  test -d "$$dev/ansible_collections/amazon/aws" && mkdir -p "$$compat/ansible_collections" && \
	  ln -sfn "$$dev/ansible_collections/amazon" "$$compat/ansible_collections/amazon"
	@touch $@

$(LINK):
	@mkdir -p $(dir $(LINK))
	@ln -sfn $(CURDIR) $(LINK)

# ENV names the inventory (inventories/$(ENV)): `make demo ENV=pro`.
ENV ?= dev
demo: setup
	DEMO_ENV=$(ENV) $(PY) scripts/demo.py

# Three accounts on one local endpoint: a temporary AWS config with an assume-role profile per account.
demo-accounts: setup
	$(PY) scripts/demo_accounts.py

# How AWS differs from the inventories (check and diff mode, 0 writes): outputs/drift-$(ENV).{json,md}.
drift: setup
	DRIFT_ENV=$(ENV) $(PY) scripts/drift.py

# A local AWS endpoint that keeps running until Ctrl-C; prints the environment to export.
localaws: setup
	$(PY) scripts/localaws.py run $(PORT)

# The gates live in scripts/gates.sh (one definition each); these targets run one of them.
units: setup
	@bash scripts/gates.sh units

integration: setup
	@bash scripts/gates.sh integration

sanity: setup
	@bash scripts/gates.sh sanity

compat: setup
	@bash scripts/gates.sh compat

molecule: setup
	cd extensions && $(CURDIR)/$(BIN)/molecule test -s default

lint: setup
	@bash scripts/gates.sh lint

test: setup
	@bash scripts/gates.sh

bench: setup
	$(PY) bench/run.py
	$(PY) bench/scale.py

# N=1,000 repositories (bench/scale.py --sizes), the ecs_ecr loop extrapolated from N=1 and 20: bench/scale-results.md.
bench-scale: setup
	$(PY) bench/scale.py

# The throttled scale test with 1,000 per-repository CI roles (make test runs it with 100): about five minutes.
test-scale: setup
	CLOUDOPS_SCALE_ROLES=1000 $(BIN)/pytest -q -p no:cacheprovider tests/integration/reliability/test_scale.py -k throttling

clean:
	rm -rf $(VENV) .collections outputs tests/output
