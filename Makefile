# The two commands the README starts with: `make local` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup local test lint demo sandbox bench load openapi run-job clean

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

## Run the whole service locally: moto server + gateway serving template.yaml's routes.
local: setup
	$(PY) -m fincert_local up

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

openapi: setup
	$(PY) -m fincert_local openapi --write docs/openapi.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .local-stack
