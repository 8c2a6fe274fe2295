# shelfsense: the two quick-start commands are `make demo` and `make test`.
# Each creates or updates the one virtual environment .venv with the extras it needs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_ARGS ?= --cameras 3 --port 8080
HQ_DEMO_ARGS ?= --stores 50 --port 8090
PYTEST_ARGS ?=

.PHONY: demo hq-demo test lint format schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Runtime only: the camera node and gateway, no torch.
$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[gateway]'
	touch $@

# Lint tools only (ruff, import-linter). The project is installed editable with no extra, so
# import-linter finds its packages; nothing of the runtime or training stack is needed.
$(VENV)/.installed-lint: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[lint]'
	touch $@

# Everything: runtime, training (torch, ultralytics), lint and test tools.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@ $(VENV)/.installed-demo $(VENV)/.installed-lint

demo: $(VENV)/.installed-demo
	$(BIN)/shelf-gateway demo $(DEMO_ARGS)

# The head office fed by simulated stores, in one process (same runtime extra as the demo).
hq-demo: $(VENV)/.installed-demo
	$(BIN)/shelf-hq demo $(HQ_DEMO_ARGS)

# Style, formatting and the import rules in pyproject.toml ([tool.importlinter]); all three run
# even when one fails, so one pass shows everything to fix.
lint: $(VENV)/.installed-lint
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/lint-imports --no-logo || status=1; \
	exit $$status

# Lint, the published JSON Schemas and the tests. The tests run even when lint fails, and the
# last line says which part failed.
test: $(VENV)/.installed-dev
	@lint=0; schema=0; tests=0; \
	$(MAKE) --no-print-directory lint || lint=1; \
	$(BIN)/shelf-node schema --check || schema=1; \
	$(BIN)/pytest $(PYTEST_ARGS) || tests=1; \
	failed=""; \
	[ $$lint -eq 0 ] || failed="$$failed lint"; \
	[ $$schema -eq 0 ] || failed="$$failed schema"; \
	[ $$tests -eq 0 ] || failed="$$failed tests"; \
	if [ -n "$$failed" ]; then echo "make test: failed:$$failed"; exit 1; fi

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: $(VENV)/.installed-dev
	$(BIN)/shelf-node schema --write

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .import_linter_cache
