# Two commands matter: `make run` (index the sample and serve it) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test bench bench-tools browser clean

$(BIN)/kb: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-deps: $(BIN)/kb
	$(BIN)/pip install -q -e '.[test,sbert]'
	touch $@

run: $(BIN)/kb
	$(BIN)/kb index --articles articles
	$(BIN)/kb serve --articles articles --host $(HOST) --port $(PORT)

# Browser tests drive Debian's chromium; CJK text needs the Noto CJK fonts.
browser:
	@command -v chromium >/dev/null && fc-list | grep -qi "Noto Sans CJK" || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; } || \
	  echo "warning: chromium/fonts-noto-cjk missing and cannot install (not root); browser tests will be skipped"

test: $(VENV)/.test-deps browser
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The published results are 1000-query even samples of each set; QUALITY_ARGS= runs every query (hours).
QUALITY_ARGS ?= --max-queries 1000

# The speed benchmark's load generator (wrk, Debian) and its peer's server (gunicorn).
bench-tools: $(VENV)/.test-deps
	@command -v wrk >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
	  { echo "error: the speed benchmark needs wrk (apt-get install wrk)"; exit 1; }
	@test -x $(BIN)/gunicorn || $(BIN)/pip install -q gunicorn

bench: bench-tools
	HF_HUB_OFFLINE=1 $(BIN)/python bench/quality.py $(QUALITY_ARGS)
	HF_HUB_OFFLINE=1 $(BIN)/python bench/speed.py

clean:
	rm -rf .kb-index build *.egg-info
