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

# Every figure of docs/performance.md, in the order of its sections (about 45 min on 2 cores; the crawl
# generates the seed-7 demo world in a temporary folder). Ratios are against baselines of the same run.
bench: $(STAMP)
	$(BIN)/python -m bench.cli
	LOOKALIKE_SIGNATURE_OCR=false $(BIN)/python -m bench.crawl --seed 7 --repeat 2
	$(BIN)/python -m bench.memory
	$(BIN)/python -m bench.hashing
	$(BIN)/python -m bench.ocr
	$(BIN)/python -m bench.matching 1000 10000 100000
	LOOKALIKE_SIGNATURE_OCR=false $(BIN)/python -m bench.scale --listings 10000 --match-sample 2000
	$(BIN)/python -m bench.browser --pages 500
	$(BIN)/python -m bench.augly
	$(BIN)/python -m bench.grocery
	$(BIN)/python -m bench.discovery
	$(BIN)/python -m bench.webapp --matches 20000 --requests 10

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
