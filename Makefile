# Relevé — every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
CODE := src tests $(wildcard bench)

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the make targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

.PHONY: install
install: $(STAMP) ## Create .venv with Relevé and its dev tools (idempotent)

.PHONY: run
run: install ## Migrate, seed a demo on first start, serve on 127.0.0.1:8000
	$(BIN)/releve migrate
	RELEVE_PUBLIC_URL=http://$(HOST):$(PORT) $(BIN)/releve demo --if-empty
	$(BIN)/releve serve --host $(HOST) --port $(PORT)

.PHONY: lint
lint: install ## ruff, mypy on the domain, import contracts
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy
	$(BIN)/lint-imports

.PHONY: test
test: install lint ## Install, lint, and run the whole suite (SQLite; PostgreSQL with RELEVE_TEST_DATABASE_URL)
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

.PHONY: test-pg
test-pg: install ## Run the store, service and API tests against PostgreSQL (RELEVE_TEST_DATABASE_URL)
	RELEVE_TEST_DATABASE_URL=$${RELEVE_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
	  $(BIN)/pytest -n 2 -m store $(PYTEST_ARGS)

.PHONY: bench
bench: install ## Benchmarks (bench/README.md); `make bench ARGS=--quick` for a one-minute run
	$(BIN)/python -m bench $(ARGS)

.PHONY: bench-quick
bench-quick: install ## The benchmark table in under a minute
	$(BIN)/python -m bench --quick --runs 1

.PHONY: format
format: install ## Format the code
	$(BIN)/ruff format $(CODE)
	$(BIN)/ruff check --fix $(CODE)

.PHONY: clean
clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
