# membership-bot: the commands that matter on a fresh machine.
#   make run    install, migrate, and serve the bot on its embedded defaults (SQLite, loopback)
#   make test   install what the tests need, then run the whole suite
#   make test-clock   the whole suite at two other wall-clock times (CI runs it too)
#   make bench  measure the turn path against a bare handler and the stock SDK wiring

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WEBCHAT_VERSION := 4.18.1
WEBCHAT_JS := var/webchat/webchat.js
APP_MANIFEST_VERSION := 1.1.2
TEAMS_SCHEMAS := var/app-manifest/teams

.PHONY: run test test-clock bench lint messages webchat teams-schemas system-deps clean

$(BIN)/python:
	scripts/build-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# One stamp per set of extras, redone whenever pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	scripts/build-deps.sh
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	scripts/build-deps.sh
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $@ $(VENV)/.installed-run

# Bot Framework Web Chat for the local chat page, from the npm registry (not committed).
$(WEBCHAT_JS):
	mkdir -p var/webchat/pkg
	cd var/webchat/pkg && npm pack --silent botframework-webchat@$(WEBCHAT_VERSION) >/dev/null
	tar -xzf var/webchat/pkg/botframework-webchat-$(WEBCHAT_VERSION).tgz -C var/webchat/pkg package/dist/webchat.js
	mv var/webchat/pkg/package/dist/webchat.js $@
	rm -rf var/webchat/pkg

webchat: $(WEBCHAT_JS)

# The Teams app manifest schemas (v1.0 to v1.30, from npm @microsoft/app-manifest) that the
# tests validate the app package against (not committed).
$(TEAMS_SCHEMAS)/.version-$(APP_MANIFEST_VERSION):
	rm -rf var/app-manifest && mkdir -p var/app-manifest/pkg
	cd var/app-manifest/pkg && npm pack --silent @microsoft/app-manifest@$(APP_MANIFEST_VERSION) >/dev/null
	tar -xzf var/app-manifest/pkg/microsoft-app-manifest-$(APP_MANIFEST_VERSION).tgz -C var/app-manifest/pkg package/build/json-schemas/teams
	mv var/app-manifest/pkg/package/build/json-schemas/teams $(TEAMS_SCHEMAS)
	rm -rf var/app-manifest/pkg
	touch $@

teams-schemas: $(TEAMS_SCHEMAS)/.version-$(APP_MANIFEST_VERSION)

run: $(VENV)/.installed-run $(WEBCHAT_JS)
	$(BIN)/membership-bot db upgrade
	$(BIN)/membership-bot demo load
	$(BIN)/membership-bot serve

# Chromium (browser tests) and PostgreSQL (storage tests) come from Debian's packages.
system-deps:
	scripts/system-deps.sh

test: $(VENV)/.installed-test $(WEBCHAT_JS) $(TEAMS_SCHEMAS)/.version-$(APP_MANIFEST_VERSION) system-deps
	$(BIN)/pytest

# The whole suite again at two other wall-clock times (tests/conftest.py, --fake-now): a test
# that depends on the day or the hour fails here whenever the real time happens to suit it.
test-clock: $(VENV)/.installed-test $(WEBCHAT_JS) $(TEAMS_SCHEMAS)/.version-$(APP_MANIFEST_VERSION) system-deps
	$(BIN)/pytest --fake-now=weekday-noon
	$(BIN)/pytest --fake-now=sunday-night

bench: $(VENV)/.installed-test system-deps
	$(BIN)/python -m bench

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Re-extract the user-facing strings and merge them into the zh-TW catalog.
messages: $(VENV)/.installed-test
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k gettext --no-location --sort-output \
		--project membership-bot -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d services/locales -l zh_TW \
		--no-fuzzy-matching --ignore-obsolete --omit-header --width 100

clean:
	rm -rf $(VENV) var/webchat var/app-manifest
