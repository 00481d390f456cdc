# The two commands the README starts with: `make local` and `make test`.
# The suite runs on Lambda's runtime (python3.13, pyenv's too) when the machine has one, else on
# python3 (3.11+). A venv made by another Python is made again (the stamp names the Python).
LAMBDA_PYTHON := $(shell scripts/lambda-python)
PYTHON ?= $(or $(LAMBDA_PYTHON),python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(notdir $(PYTHON))

.PHONY: help setup local test lint template demo sandbox bench load openapi run-job clean

## Create .venv with the pinned packages (every other target does it first).
setup: $(STAMP)

# uv installs the same pinned packages as pip does (the same resolution, compared with pip freeze)
# in half the time; its bytecode is compiled at install, as pip's (docs/benchmarks.md#ci-time).
UV_VERSION := 0.13.8
$(STAMP): pyproject.toml layers/fincert/requirements.txt
	scripts/ensure-system-packages
	$(PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e '.[dev]'
	touch $(STAMP)

## Run the whole service locally: moto server + gateway serving template.yaml's routes, on
## ports of your choice: `make local PORT=3000 MOTO_PORT=5000` (the demo bank site: PORT + 1,
## or BANK_PORT=...).
PORT      ?= 3000
MOTO_PORT ?= 5000
local: setup
	$(PY) -m fincert_local up --port $(PORT) --moto-port $(MOTO_PORT) $(if $(BANK_PORT),--bank-port $(BANK_PORT))

## Run every test: lint, unit, integration, end-to-end; in parallel (pytest-xdist): one worker
## per core, each test file on one worker, each worker with its own local stack. Serially:
## `make test XDIST=`; one test: `.venv/bin/python -m pytest tests/unit/test_pin_policy.py::test_runs_do_not_wrap_around`.
XDIST ?= -n auto --dist loadfile
test: setup lint template
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

## Style, the template, and types: mypy holds every adapter to the ports it is wired into.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/mypy layers/fincert/fincert
	@# One run per handler: every function's module is named app.
	@for handler in functions/*/app.py; do $(VENV)/bin/mypy --no-error-summary "$$handler" || exit 1; done

## template.yaml as AWS takes it: `sam validate --lint`, `sam build` (Lambda's python3.13 on the
## PATH, arm64 wheels; into .aws-sam/, where `sam deploy` looks) and checkov (.checkov.yaml). Each
## tool has its own venv: aws-sam-cli and checkov each pin a boto3 older than the layer's.
SAM_CLI_VERSION := 1.170.0
CHECKOV_VERSION := 3.3.30
SAM_VENV        := .venv-sam
CHECKOV_VENV    := .venv-checkov
SAM             := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
$(SAM_VENV)/.installed-$(SAM_CLI_VERSION): | $(STAMP)
	$(VENV)/bin/uv venv --quiet --clear --python $(PYTHON) $(SAM_VENV)
	$(VENV)/bin/uv pip install --quiet --python $(SAM_VENV)/bin/python aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@
$(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION): | $(STAMP)
	$(VENV)/bin/uv venv --quiet --clear --python $(PYTHON) $(CHECKOV_VENV)
	$(VENV)/bin/uv pip install --quiet --python $(CHECKOV_VENV)/bin/python checkov==$(CHECKOV_VERSION)
	touch $@
template: $(SAM_VENV)/.installed-$(SAM_CLI_VERSION) $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
	$(SAM) validate --lint --region ap-northeast-2
	@# And as rendered with SnapStart=Enabled (docs/snapstart.md): sam validate takes no parameter
	@# values, so a copy whose default is the other one.
	$(PY) -c "import pathlib; t = pathlib.Path('template.yaml').read_text(); e = t.replace('Default: Disabled # SnapStart', 'Default: Enabled # SnapStart'); assert e != t; pathlib.Path('.aws-sam').mkdir(exist_ok=True); pathlib.Path('.aws-sam/template-snapstart.yaml').write_text(e)"
	$(SAM) validate --lint --region ap-northeast-2 --template .aws-sam/template-snapstart.yaml
ifneq ($(LAMBDA_PYTHON),)
	PATH="$(dir $(LAMBDA_PYTHON)):$$PATH" $(SAM) build
else
	@echo "SKIPPED sam build: no python3.13 on this machine (PATH, pyenv); sam build needs Lambda's runtime"
endif
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml

## Scripted enrollment + issuance against a running `make local`, checked with openssl.
demo: setup
	$(PY) -m fincert_local demo

## Seed a demo customer in the running local stack; prints the CSC client settings as JSON.
sandbox: setup
	$(PY) -m fincert_local sandbox

## Measure the budgets of docs/design.md (cold start, round trips, CPU per signature, jobs).
bench: setup
	$(PY) -m fincert_local bench

## N customers signing against a local stack it starts: signatures/s, latency, 5xx, memory, and
## the floor of the same AWS calls straight to moto: `make load CLIENTS=16 SECONDS=300`.
## Customers doing everything at once, invariants checked after: `make load LOAD_ARGS=--mixed`.
CLIENTS ?= 4
SECONDS ?= 60
LOAD_ARGS ?=
load: setup
	$(PY) -m fincert_local load --clients $(CLIENTS) --seconds $(SECONDS) $(LOAD_ARGS)

## Fire a daily job in the running `make local` as EventBridge would, then drain its SQS queue
## into its worker: `make run-job JOB=renewal` or `make run-job JOB=purge`.
JOB ?= renewal
run-job: setup
	$(PY) -m fincert_local run-job $(JOB)

## Regenerate docs/openapi.json from the code.
openapi: setup
	$(PY) -m fincert_local openapi --write docs/openapi.json
	$(PY) -m fincert_local errors --write docs/errors.md

## Remove the venv, the caches and a local stack's state.
clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .ruff_cache .local-stack

## List every target with what it does (this list).
help:
	@awk '/^## / { text = text (text == "" ? "" : " ") substr($$0, 4); next } \
	      /^[a-z][a-z-]*:/ { name = $$1; sub(/:.*/, "", name); printf "  %-9s %s\n", name, text; text = ""; next } \
	      /^$$/ { text = "" }' $(firstword $(MAKEFILE_LIST))
