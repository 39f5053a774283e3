# Two commands matter: `make run` (index the sample and serve it) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# The locks (from `make lock`) are what every install uses, so a new machine gets what CI tested.
LOCK := requirements
PIP_TOOLS := pip-tools==7.6.2
COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile -q --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
          --no-emit-trusted-host $(if $(UPGRADE),--upgrade)

.PHONY: run test test-fast lock bench bench-tools browser servers clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# The locked run-time set, then polykb itself without letting pip pick any other version.
$(BIN)/kb: $(VENV)/bin/python pyproject.toml $(LOCK)/run.txt
	$(BIN)/pip install -q -r $(LOCK)/run.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.test-deps: $(BIN)/kb $(LOCK)/test.txt
	$(BIN)/pip install -q -r $(LOCK)/test.txt
	touch $@

# An empty activity log gets four months of simulated traffic (the real search over the sample's questions), so
# the insights page has charts; SIMULATE=0 skips it.
SIMULATE ?= 1
SAMPLE_TRAFFIC := --questions tests/data/sample_queries.jsonl --questions tests/data/uncovered_queries.jsonl \
                  --tickets tests/data/agent-queries.jsonl

run: $(BIN)/kb
	$(BIN)/kb index --articles articles
	@[ "$(SIMULATE)" = 0 ] || HF_HUB_OFFLINE=1 $(BIN)/kb simulate-traffic --if-empty $(SAMPLE_TRAFFIC)
	$(BIN)/kb serve --articles articles --host $(HOST) --port $(PORT)

# What `browser` and `servers` do when they cannot install (not root): warn, and those tests skip; under
# KB_REQUIRE_SERVERS=1 (.ci/run) stop here, as the tests themselves would fail rather than skip.
cannot_install = { [ "$$KB_REQUIRE_SERVERS" = 1 ] && { echo "error: $(1) missing and could not be installed (that needs root); \
KB_REQUIRE_SERVERS=1 requires them" >&2; exit 1; } || echo "warning: $(1) missing and could not be installed (that needs root); \
$(2) will be skipped"; }

# Browser tests drive Debian's chromium; CJK text needs the Noto CJK fonts.
browser:
	@command -v chromium >/dev/null && fc-list | grep -qi "Noto Sans CJK" || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; } || \
	  $(call cannot_install,chromium/fonts-noto-cjk,browser tests)

# The storage and rate-limit tests start Debian's PostgreSQL (as the postgres user) and redis-server themselves
# (tests/server_support.py), on free ports in temporary folders; the replica-kill test puts Debian's nginx, with a
# certificate made by openssl, in front of two replicas (tests/nginx_support.py).
servers:
	@{ ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && command -v redis-server >/dev/null && \
	   { command -v nginx || test -x /usr/sbin/nginx; } >/dev/null && command -v openssl >/dev/null; } || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server nginx openssl >/dev/null; } || \
	  $(call cannot_install,postgresql/redis-server/nginx/openssl,their tests)

test: $(VENV)/.test-deps browser servers
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The edit-test loop: logic only (fake embedder, no browser, no real-model indexing), under 90 s: on every core
# (pytest-xdist); FAST_WORKERS=0 runs it in this one process (a debugger, -x).
FAST_WORKERS ?= auto
test-fast: $(VENV)/.test-deps
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "not slow and not browser" --hypothesis-profile=fast \
	  -n $(FAST_WORKERS) $(PYTEST_ARGS)

# Regenerate the locks from pyproject.toml: keeps every pin that still fits; `make lock UPGRADE=1` takes
# the newest releases. test.txt (every extra) is resolved first and constrains the others, so the three agree.
lock: $(VENV)/bin/python
	$(BIN)/pip install -q $(PIP_TOOLS)
	$(COMPILE) --all-extras -o $(LOCK)/test.txt pyproject.toml
	$(COMPILE) -c $(LOCK)/test.txt -o $(LOCK)/run.txt pyproject.toml
	$(COMPILE) -c $(LOCK)/test.txt --extra sbert -o $(LOCK)/sbert.txt pyproject.toml

# The published results are 1000-query even samples of each set; QUALITY_ARGS= runs every query (hours).
QUALITY_ARGS ?= --max-queries 1000

# The speed benchmark's load generator (wrk, Debian); its peer's server (gunicorn) is in the locks.
bench-tools: $(VENV)/.test-deps
	@command -v wrk >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
	  { echo "error: the speed benchmark needs wrk (apt-get install wrk)"; exit 1; }

bench: bench-tools
	HF_HUB_OFFLINE=1 $(BIN)/python bench/quality.py $(QUALITY_ARGS)
	HF_HUB_OFFLINE=1 $(BIN)/python -m bench.speed

clean:
	rm -rf .kb-index build *.egg-info
