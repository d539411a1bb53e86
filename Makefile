# Guichet — the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
AXE_VERSION := 4.14.1
AXE := node_modules/axe-core/axe.min.js
CHROMIUM := /usr/bin/chromium

.PHONY: run test install messages lint browser benchmark mutation

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) messages

# Compiled translations are build products, made from the committed .po files.
messages: $(STAMP)
	cd guichet && ../$(BIN)/guichet compilemessages --ignore=.venv -v0

run: install
	$(BIN)/guichet migrate --noinput
	$(BIN)/guichet loadcall calls/deffinum.toml --demo
	$(BIN)/guichet seeddemo
	$(BIN)/guichet runserver 127.0.0.1:8000

lint: $(STAMP)
	$(BIN)/ruff check .

# Browser tests drive Debian's Chromium (a test tool's own browser download cannot work
# here) and inject axe-core from npm.
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(AXE):
	npm install --no-save --no-audit --no-fund axe-core@$(AXE_VERSION)

browser: $(CHROMIUM) $(AXE)

test: install lint browser
	$(BIN)/pytest

benchmark: install
	$(BIN)/python benchmarks/rules_core.py
	$(BIN)/python benchmarks/portal.py
	$(BIN)/python benchmarks/instruction_list.py
	$(BIN)/python benchmarks/assignment.py
	$(BIN)/python benchmarks/selection.py

# Mutation score of the rules core (not part of `make test`): mutmut over guichet/rules/ with
# tests/rules, one module after another, one worker under `nice -n 19`; a few hours on a
# shared 2-core machine. Report: benchmarks/results/mutation.md and .json.
mutation: install
	$(BIN)/python benchmarks/mutation.py
