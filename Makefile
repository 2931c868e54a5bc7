# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# The environment lives in .venv/ and is rebuilt only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= var/demo

.PHONY: demo test lint venv system clean bench eval

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Debian packages pip cannot bring (tesseract-ocr for photo text); installed when run as root.
system:
	@bash .ci/system-packages

demo: $(STAMP) system
	LOOKALIKE_DATA_DIR=$(DEMO_DIR) $(BIN)/lookalike demo

test: $(STAMP) system lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

eval: $(STAMP)
	LOOKALIKE_DATA_DIR=$(DEMO_DIR) $(BIN)/lookalike eval

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
