# xConnector: `make run` starts the embedded demo, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BIND ?= 127.0.0.1:8000

.PHONY: install run test lint format check lock vendor clean bench-audit bench-otcs bench bench-full bench-flow bench-shape bench-inbox bench-pages bench-big-document fuzz

install: $(STAMP)

# Re-install only when the pinned dependencies change: a second `make run` is quick.
$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

run: install
	@$(BIN)/python manage.py migrate --noinput -v 0
	@XCONNECTOR_BIND=$(BIND) $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  xConnector is starting at http://$(BIND)/  (Ctrl-C stops web, worker and beat)"
	@echo ""
	@XCONNECTOR_BIND=$(BIND) exec $(BIN)/honcho -f Procfile start

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

# Audit ledger benchmark on PostgreSQL (BENCH_PG_URL; ~20 min at full size).
bench-audit: install
	$(BIN)/python bench/audit_bench.py

# Reviewers' inbox: 100,000 tasks, p50/p95 of the page (BENCH_PG_URL).
bench-inbox: install
	$(BIN)/python bench/inbox_bench.py

# 1 GiB through the Content Server connector and emulator: time and memory.
bench-otcs: install
	$(BIN)/python bench/otcs_transfer_bench.py

# 1 GiB through a flow (webhook, download, upload into Content Server, one
# worker process on PostgreSQL + Redis): time and peak memory growth.
bench-big-document: install
	$(BIN)/python bench/big_document_bench.py

# Flow engine: webhook-to-uploaded-document runs/s with one worker process on
# PostgreSQL + Redis, and the overhead against plain connector calls.
bench-flow: install
	$(BIN)/python bench/flow_bench.py

# Webhook intake and the common workflow shape (webhook, 5 mapped fields,
# done) at concurrency 8 and 32: runs/s, p95, peak memory.
bench-shape: install
	$(BIN)/python bench/shape_bench.py

# The busiest pages with 1M runs, 100,000 tasks and 10M audit events: server
# p95 and query count of each (about 15 minutes, most of it seeding).
bench-pages: install
	$(BIN)/python bench/pages_bench.py

# The suite: one JSON document of every figure with its target (bench/suite.py;
# PostgreSQL + Redis, each part creates and drops its own database).
bench: install
	$(BIN)/python bench/suite.py

# The suite plus the long runs: 1 GiB document, 100,000 tasks, 10M audit events,
# the pages at 1M runs.
bench-full: install
	$(BIN)/python bench/suite.py --full

# Property-based fuzzing of every API operation (Schemathesis) against a
# running xConnector (`make run` in another terminal; URL=... for another
# one), as FUZZ_USER (default admin) with a one-day token made here.
# Fails on any server error or any answer that does not match the schema.
# Revoking tokens is left out: the fuzzer finds its own token in the list
# and would revoke it, leaving every later operation a 401.
FUZZ_CHECKS := not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
fuzz: install
	@$(BIN)/schemathesis run "$(or $(URL),http://$(BIND))/api/schema/" \
	  -H "Authorization: Token $$($(BIN)/python manage.py api_token $(or $(FUZZ_USER),admin) --name "make fuzz" --days 1)" \
	  --checks $(FUZZ_CHECKS) --phases examples,coverage,fuzzing \
	  --max-examples $(or $(EXAMPLES),20) --workers 1 --no-color \
	  --exclude-operation-id tokens_destroy \
	  --report junit --report-dir var/fuzz $(FUZZ_ARGS)

# Re-pin every dependency from pyproject.toml into requirements.lock.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --disable-pip-version-check '.[dev]'
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^xconnector' > requirements.lock
	rm -rf .venv-lock build *.egg-info

# Re-fetch the front-end assets from the npm registry into static/vendor/.
vendor:
	$(PYTHON) scripts/vendor_assets.py

clean:
	rm -rf $(VENV) .venv-interop var .pytest_cache .ruff_cache
