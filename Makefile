# The backbone's two commands: `make up` (run it) and `make test` (prove it).
# Everything is installed by the project's own scripts, idempotently.
SHELL := /bin/bash
S := deploy/scripts
PYTEST_ARGS ?=
# Some machines set PYTHONDONTWRITEBYTECODE: every process then compiles every module
# it imports from source. A service start cost 3.1 s of CPU that way, 1.3 s with the
# bytecode kept (dependencies compiled by `uv sync --compile-bytecode`, the project's
# own modules cached by the first process that imports them); the test suite starts
# ~4 service processes per stack, many stacks.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: up down status test deps infra postgres kafka migrate stack-env services tools \
        unit lint typecheck bench chaos soak clean

up: infra services ## install everything, run Kafka, Postgres and the four services
	@set -a; source .local/stack.env; set +a; \
	echo; echo "The backbone is up:"; \
	echo "  initiator  $$INITIATOR_URL   (OpenAPI: $$INITIATOR_URL/docs)"; \
	echo "  responder  $$RESPONDER_URL"; \
	echo "  ledger     $$LEDGER_URL"; \
	echo "  notifier   $$NOTIFIER_URL"; \
	echo "  kafka      $$KAFKA_BOOTSTRAP_SERVERS"; \
	echo "  postgres   127.0.0.1:$${JSB_PG_PORT:-55432} (database jsb)"; \
	echo "  tokens     .local/tokens.json; environment .local/stack.env"

down: ## stop exactly what `make up` started (by pid)
	@$(S)/services.sh stop; $(S)/kafka.sh stop; $(S)/postgres.sh stop

status:
	@$(S)/postgres.sh status; $(S)/kafka.sh status; $(S)/services.sh status

# The domain's coverage gate: tests/unit alone must cover every line and branch of
# shared/domain (pyproject.toml [tool.coverage.*]: source, branch, fail_under = 100, and
# the report names each file below it with its missing lines and branches). Only the
# unit run is measured: the integration and e2e tests neither count nor pay for it.
DOMAIN_COVERAGE := --cov

test: infra tools ## the whole suite: unit (and the domain's coverage gate), integration, e2e
	@set -a; source .local/stack.env; set +a; \
	.venv/bin/pytest tests/unit $(DOMAIN_COVERAGE) $(PYTEST_ARGS); unit=$$?; \
	.venv/bin/pytest --ignore=tests/unit $(PYTEST_ARGS); rest=$$?; \
	exit $$(( unit ? unit : rest ))

unit: deps ## the pure tests and the domain's coverage gate (add --no-cov to PYTEST_ARGS for a subset)
	.venv/bin/pytest tests/unit $(DOMAIN_COVERAGE) $(PYTEST_ARGS)

bench: infra tools ## benchmarks (ratios against a baseline in the same run): bench/results/<date>.{json,md}
	@set -a; source .local/stack.env; set +a; started=$$(date +%s); \
	.venv/bin/pytest -m bench -p no:randomly -s tests/bench $(PYTEST_ARGS) && \
	.venv/bin/python -m bench.summary --since $$started

chaos: infra tools ## the long crash and fault runs (docs/reliability.md); JSB_CHAOS_SEED to repeat one
	@set -a; source .local/stack.env; set +a; \
	.venv/bin/pytest -m chaos -p no:randomly -s tests/reliability $(PYTEST_ARGS)

soak: infra tools ## 10 minutes of mixed load (JSB_SOAK_SECONDS): no error, no growing lag, RSS < +10 %
	@set -a; source .local/stack.env; set +a; \
	.venv/bin/pytest -m soak -p no:randomly -s tests/reliability $(PYTEST_ARGS)

infra: deps postgres kafka stack-env migrate

deps:
	@$(S)/python-env.sh && $(S)/frontend.sh

postgres: deps
	@$(S)/postgres.sh start

kafka: deps
	@$(S)/kafka.sh start

migrate: postgres stack-env
	@set -a; source .local/stack.env; set +a; .venv/bin/jsb db migrate >/dev/null

stack-env: deps
	@$(S)/stack-env.sh

services: infra
	@$(S)/services.sh start

tools:
	@$(S)/tools.sh

lint: deps ## ruff (rules and format) and the import contracts (which way imports run)
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports --no-cache

typecheck: deps ## mypy, strict for shared/ and services/ (pyproject.toml)
	.venv/bin/mypy shared services

clean: down
	rm -rf .local/pg .local/kafka/data .local/logs .local/run
