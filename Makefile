# Guichet — the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
AXE_VERSION := 4.14.1
AXE := node_modules/axe-core/axe.min.js
OIDC_PROVIDER_VERSION := 9.13.3
OIDC_PROVIDER := node_modules/oidc-provider/package.json
CHROMIUM := /usr/bin/chromium
# `make run PORT=8301`: the server listens there and links in mails point there, unless
# SITE_URL is set (e.g. the public address behind a proxy).
PORT ?= 8000
SITE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test install messages lint browser benchmark deploy-check mutation

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
	$(BIN)/guichet loadcall calls/deffinov-exemple.toml --demo
	SITE_URL=$(SITE_URL) $(BIN)/guichet seeddemo
	SITE_URL=$(SITE_URL) $(BIN)/guichet runserver 127.0.0.1:$(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/djlint guichet --check --quiet
	$(BIN)/djlint guichet --lint --quiet

# Django's deployment checklist on the production settings (`guichet check` is ours, so
# Django's runs through django-admin): any warning fails. The key is a throwaway one.
deploy-check: $(STAMP)
	GUICHET_ENV=production ALLOWED_HOSTS=guichet.example.org \
	SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	$(BIN)/django-admin check --deploy --settings=guichet.settings --fail-level WARNING

# Browser tests drive Debian's Chromium (a test tool's own browser download cannot work
# here) and inject axe-core from npm.
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# One npm install for both: a later `--no-save` install would remove the other package.
$(AXE) $(OIDC_PROVIDER):
	npm install --no-save --no-audit --no-fund axe-core@$(AXE_VERSION) \
		oidc-provider@$(OIDC_PROVIDER_VERSION)

# The browser tests: Chromium, axe-core, and a local OpenID Connect provider standing in for
# ProConnect (tests/oidc/provider.mjs, panva's oidc-provider).
browser: $(CHROMIUM) $(AXE) $(OIDC_PROVIDER)

# The suite on two workers (pytest-xdist), the machine's two cores: each worker has its own
# test database (PostgreSQL: test_<name>_gw0, _gw1), live-server port and media folder.
# `make test PYTEST_WORKERS=0` runs it in one process.
PYTEST_WORKERS ?= 2
test: install lint browser
	$(BIN)/pytest -n $(PYTEST_WORKERS)

benchmark: install
	$(BIN)/python benchmarks/rules_core.py
	$(BIN)/python benchmarks/portal.py
	$(BIN)/python benchmarks/instruction_list.py
	$(BIN)/python benchmarks/assignment.py
	$(BIN)/python benchmarks/selection.py
	$(BIN)/python benchmarks/hostile_annex.py

# Mutation score of the rules core (not part of `make test`): mutmut over guichet/rules/ with
# tests/rules, one module after another, one worker under `nice -n 19`; a few hours on a
# shared 2-core machine. Report: benchmarks/results/mutation.md and .json.
mutation: install
	$(BIN)/python benchmarks/mutation.py
