# The two commands the README starts with: `make local` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: help setup local test lint demo sandbox bench load openapi run-job clean

## Create .venv with the pinned packages (every other target does it first).
setup: $(STAMP)

# uv installs the same pinned packages as pip does (the same resolution, compared with pip freeze)
# in half the time; its bytecode is compiled at install, as pip's (docs/benchmarks.md#ci-time).
UV_VERSION := 0.13.8
$(STAMP): pyproject.toml layers/fincert/requirements.txt
	scripts/ensure-system-packages
	$(PYTHON) -m venv $(VENV)
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
test: setup lint
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

## Style, the template, and types: mypy holds every adapter to the ports it is wired into.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/mypy layers/fincert/fincert
	@# One run per handler: every function's module is named app.
	@for handler in functions/*/app.py; do $(VENV)/bin/mypy --no-error-summary "$$handler" || exit 1; done

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
CLIENTS ?= 4
SECONDS ?= 60
load: setup
	$(PY) -m fincert_local load --clients $(CLIENTS) --seconds $(SECONDS)

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
	rm -rf $(VENV) .pytest_cache .ruff_cache .local-stack

## List every target with what it does (this list).
help:
	@awk '/^## / { text = text (text == "" ? "" : " ") substr($$0, 4); next } \
	      /^[a-z][a-z-]*:/ { name = $$1; sub(/:.*/, "", name); printf "  %-9s %s\n", name, text; text = ""; next } \
	      /^$$/ { text = "" }' $(firstword $(MAKEFILE_LIST))
