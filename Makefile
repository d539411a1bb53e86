# Guichet — the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: run test install lint test-postgres benchmark

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: install
	mkdir -p var
	$(BIN)/guichet migrate --noinput
	$(BIN)/guichet loadcall calls/deffinum.toml --demo
	$(BIN)/guichet seeddemo
	$(BIN)/guichet runserver 127.0.0.1:8000

lint: install
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest

benchmark: install
	$(BIN)/python benchmarks/rules_core.py
