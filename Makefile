# The targets here are the scripts both people and CI run.
VENV := .venv
BIN := $(VENV)/bin
# Two installs into the same .venv, both editable: what running needs, and that plus the development tools
# (ruff, mypy, pytest, schemathesis, playwright), which `make run` does not wait for.
RUNTIME_STAMP := $(VENV)/.runtime-stamp
STAMP := $(VENV)/.installed-stamp
# The Raspberry Pi's production install: a venv of its own holding a built (non-editable) vialguard and its
# runtime dependencies only; the systemd units in deploy/systemd run $(PI_VENV)/bin/vialguard.
PI_VENV ?= /opt/vialguard/venv
ARGS ?=

.PHONY: install install-runtime install-pi system-deps run test lint typecheck pytest bench bench-smoke clean schema

$(BIN)/python:
	./scripts/bootstrap-venv.sh $(VENV)

# --no-compile: Python compiles what `vialguard run` imports at its first start, not all of numpy and
# fontTools now (half of the install's time here).
$(RUNTIME_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --no-compile -e .
	touch $(RUNTIME_STAMP)

# The development install includes the runtime one, so it marks both.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(RUNTIME_STAMP) $(STAMP)

install-runtime: $(RUNTIME_STAMP)

install: $(STAMP)

run: install-runtime
	$(BIN)/vialguard run --simulate $(ARGS)

# `sudo make install-pi`: build vialguard from this tree and install it with its runtime dependencies into
# $(PI_VENV); run again after a `git pull` to upgrade. Nothing in $(PI_VENV) points back to this tree.
install-pi:
	./scripts/bootstrap-venv.sh $(PI_VENV)
	$(PI_VENV)/bin/python -m pip install --quiet --no-cache-dir --upgrade .
	$(PI_VENV)/bin/vialguard --version

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# Debian packages the tests use: Chromium (browser test), poppler-utils (PDF reports), prometheus
# (promtool and a real server for the metrics tests), and the fleet's mosquitto and postgresql; only if
# missing.
system-deps:
	./scripts/system-deps.sh

# The tests run in two worker processes (pytest-xdist), one per core of CI's machine: every test starts its
# own servers on free loopback ports in its own temporary directory, and each worker its own PostgreSQL
# cluster, so nothing they hold is shared. Two, not -n auto: auto counts physical cores (one on a pair of
# hyperthreads) or every core a container can see (more than its CPU quota). PYTEST_WORKERS=auto or N on
# a bigger machine; PYTEST_WORKERS=0 runs them one after another in this process, as plain pytest does
# (for pdb, or to rule out an interaction between tests).
# worksteal: an idle worker takes tests queued for the other, so a long test near the end waits for none.
PYTEST_WORKERS ?= 2
pytest: install system-deps
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal

test: lint typecheck pytest

# After adding a migration: write monitor/store/schema.sql again (tests/monitor/test_schema.py compares).
schema: install-runtime
	$(BIN)/python -m monitor.store.schema_sql

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
