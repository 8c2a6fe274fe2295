# shelfsense: the two quick-start commands are `make demo` and `make test`.
# Each creates or updates the virtual environment .venv with the extras it needs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_ARGS ?= --cameras 3 --port 8080

.PHONY: demo test lint format schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Runtime only: the camera node and gateway, no torch.
$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[gateway]'
	touch $@

# Everything: runtime, training (torch, ultralytics) and test tools.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@ $(VENV)/.installed-demo

demo: $(VENV)/.installed-demo
	$(BIN)/shelf-gateway demo $(DEMO_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/shelf-node schema --check
	$(BIN)/pytest

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: $(VENV)/.installed-dev
	$(BIN)/shelf-node schema --write

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
