# Two commands do all the set-up: `make chat` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chat test lint bench setup openblas

chat: setup
	$(BIN)/tokenopt

# Tests run with OpenBLAS preloaded when it is installed, as `tokenopt` itself does.
test: setup
	LD_PRELOAD="$$(ls /usr/lib/*-linux-gnu/openblas-pthread/libblas.so.3 2>/dev/null | head -n 1)" \
		$(BIN)/python -m pytest

# Style, types and the layer contract (docs/architecture.md); CI runs this before the tests.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@$(MAKE) --no-print-directory openblas
	touch $@

# Optional speed-up for the local model on Linux (docs/benchmarks.md, "Local model"): Debian's OpenBLAS.
# Installed when we can (root with apt-get); otherwise a hint, never a failure.
openblas:
	@if ls /usr/lib/*-linux-gnu/openblas-pthread/libblas.so.3 >/dev/null 2>&1; then \
		echo "OpenBLAS present: the local model will use it."; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas0-pthread >/dev/null) \
		|| echo "Could not install libopenblas0-pthread; the local model will be slower."; \
	else \
		echo "Hint: 'sudo apt-get install libopenblas0-pthread' makes the local model much faster."; \
	fi

# Every benchmark in turn; each prints its figures (docs/benchmarks.md, docs/routing.md).
bench: setup
	for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done
