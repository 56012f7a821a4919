# The targets here are the scripts both people and CI run.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ARGS ?=

.PHONY: install system-deps run test lint typecheck pytest bench bench-smoke clean

$(BIN)/python:
	./scripts/bootstrap-venv.sh $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/vialguard run --simulate $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# Debian packages the tests use: Chromium (browser test), poppler-utils (PDF reports) and prometheus
# (promtool and a real server for the metrics tests); only if missing.
system-deps:
	./scripts/system-deps.sh

pytest: install system-deps
	$(BIN)/pytest

test: lint typecheck pytest

# Benchmarks: never part of `make test`, which runs only their smoke mode (tests/bench). The API figure
# drives the server with wrk from Debian's packages.
bench: install system-deps
	./scripts/system-deps.sh
	$(BIN)/python -m bench --output BENCHMARKS.md

bench-smoke: install system-deps
	./scripts/system-deps.sh
	$(BIN)/python -m bench --smoke --output var/BENCHMARKS-smoke.md

clean:
	rm -rf $(VENV) var build *.egg-info
