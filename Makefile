# dfws — every entry point. `make test` and `make demo` set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat setup.cfg | sha1sum | cut -c1-12)
CHROMIUM ?= /usr/bin/chromium
NGINX ?= /usr/sbin/nginx
JS := dfws_web/static/js/df_websockets.min.js

.PHONY: test test-fast lint pytest coverage docs docs-serve frontend frontend-test frontend-check wire-check chromium nginx cluster demo demo-redis demo-venv test-matrix bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

# side-by-side ratios against raw Celery, raw Channels and df-websockets 1.2.6, written to
# bench/RESULTS.md (~20-25 min, S6-S8 capacity first on a private redis-server); BENCH_QUICK=1
# for a smoke run of ~5 min, BENCH_LAYER=list for the list-based channel layer,
# BENCH_ONLY=capacity|classic for one part. Redis 127.0.0.1:6379, DB 14
bench: $(STAMP) nginx
	$(PY) -m bench.run

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

frontend: frontend/node_modules/.package-lock.json

# rebuild in memory; fail when the committed bundle is stale (exit 1) or esbuild fails (exit 2,
# said as such). The browser tests run the same check (tests/browser/conftest.py)
frontend-check: frontend
	cd frontend && node build.mjs --check

# fail when frontend/src/wire.generated.ts is stale against dfws_celery/wire.py and errors.py
wire-check: $(STAMP)
	$(PY) -m scripts.wire_ts --check

frontend-test: frontend
	cd frontend && npm run --silent typecheck && npm test --silent

chromium:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; }

# the cluster tests (tests/test_cluster.py) and `make cluster` run a private nginx of their own
# (config, pid and logs in a temp dir, a loopback port); Debian's service is not used
nginx:
	@test -x $(NGINX) || { echo "installing Debian's nginx"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx) >/dev/null; }

# ruff, mypy strict, and the import contract of .importlinter (`python -m scripts.deps`
# draws the graph)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check dfws_celery dfws_web scripts
	$(VENV)/bin/mypy dfws_celery dfws_web
	$(VENV)/bin/lint-imports --no-cache

# the unit tier alone (tests/unit): no Redis, broker, daphne or browser. Redis and broker
# URLs point at a closed port, so a unit test that reaches for a service fails
test-fast: $(STAMP)
	DFWS_TEST_REDIS=redis://127.0.0.1:1/10 DFWS_TEST_BROKER=redis://127.0.0.1:1/10 \
	  $(VENV)/bin/pytest -q tests/unit

# everything on the recommended Redis Pub/Sub channel layer, then the real-stack tests that
# cross the layer once more on channels_redis' list-based RedisChannelLayer
LAYER_TESTS := tests/test_websocket.py tests/test_relay.py tests/test_publisher.py \
  tests/test_pubsub.py tests/test_worker.py tests/test_trigger.py tests/test_recovery.py \
  tests/test_cluster.py
pytest: $(STAMP) chromium nginx
	$(VENV)/bin/pytest
	DFWS_TEST_LAYER=list $(VENV)/bin/pytest -q $(LAYER_TESTS)

test: $(STAMP) wire-check frontend-check frontend-test lint docs pytest

# the documentation site (mkdocs.yml, docs/) into site/, --strict: a broken link, a missing
# page or an unknown generated marker fails (the reference pages are read from the code by
# scripts/docs_hooks.py); docs-serve rebuilds on each edit, on DOCS_ADDR
DOCS_ADDR ?= 127.0.0.1:8001
MKDOCS := NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs
docs: $(STAMP)
	$(MKDOCS) build --strict --quiet

docs-serve: $(STAMP)
	$(MKDOCS) serve --strict --dev-addr $(DOCS_ADDR)

# line coverage of dfws_celery and dfws_web over the `make pytest` run (both layers), including
# the daphne, celery worker, runworker and manage.py subprocesses and their forked children
# (.coveragerc: patch = subprocess, fork, _exit); a report per module, data in .coverage-data/.
# Not part of `make test`; a failing test does not stop the report
COV := COVERAGE_FILE=$(CURDIR)/.coverage-data/data $(PY) -m coverage
coverage: $(STAMP) chromium nginx
	rm -rf .coverage-data && mkdir -p .coverage-data
	-$(COV) run -m pytest -q
	-DFWS_TEST_LAYER=list $(COV) run -m pytest -q $(LAYER_TESTS)
	$(COV) combine -q
	$(COV) report

# the version matrix (noxfile.py, not part of `make test`): the unit tier on the oldest and
# the newest of each range setup.cfg supports, each in a fresh virtualenv under .nox/ (~10 min);
# the Pythons come from pyenv (PYENV_ROOT). `make test-matrix NOX_ARGS="-s newest"` for one
PYENV_ROOT ?= $(HOME)/.pyenv
NOX_ARGS ?=
test-matrix: $(STAMP)
	PATH="$(subst $(eval) ,:,$(wildcard $(PYENV_ROOT)/versions/3.1[1-9]*/bin)):$$PATH" \
	  $(VENV)/bin/nox $(NOX_ARGS)

# ---- the sample project (sample_project/) ----
DEMO_ADDR ?= 127.0.0.1:8000
DFWS_REDIS_URL ?= redis://127.0.0.1:6379/0
FLOWER_PORT ?= 5555

# the demos' own virtualenv: dfws with the extras each mode uses, none of the dev tools
# (sample_project/manage.py puts this checkout first on the path, so edits show at once)
DEMO_VENV := .venv-demo
DEMO_PY := $(DEMO_VENV)/bin/python
SETUP_HASH := $(shell cat setup.cfg pyproject.toml | sha1sum | cut -c1-12)
DEMO_STAMP := $(DEMO_VENV)/.memory-$(SETUP_HASH)
DEMO_REDIS_STAMP := $(DEMO_VENV)/.redis-$(SETUP_HASH)

$(DEMO_STAMP): setup.cfg pyproject.toml
	test -x $(DEMO_PY) || $(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_PY) -m pip install -q --upgrade pip
	$(DEMO_PY) -m pip install -q '.[results]'
	rm -f $(DEMO_VENV)/.memory-* && touch $@

# Redis, Prometheus and Flower for `make demo-redis`
$(DEMO_REDIS_STAMP): $(DEMO_STAMP)
	$(DEMO_PY) -m pip install -q '.[redis,results,metrics]' 'flower>=2.0'
	rm -f $(DEMO_VENV)/.redis-* && touch $@

demo-venv: $(DEMO_STAMP) $(DEMO_REDIS_STAMP)

DEMO := env -u DFWS_REDIS_URL $(DEMO_PY) sample_project/manage.py

# no external service: in-memory broker, channel layer and cache; `runserver` starts a
# Celery worker (every dfws queue) and Celery beat inside the server process
demo: $(DEMO_STAMP)
	$(DEMO) migrate --noinput -v0
	$(DEMO) demo_setup
	@echo ""
	@echo "  dfws demo: http://$(DEMO_ADDR)/   login: demo / demo   (Ctrl-C stops it)"
	@echo ""
	$(DEMO) runserver $(DEMO_ADDR)

# Redis broker, channel layer and cache; web server, one worker per queue, beat and Flower
# as separate processes, all stopped by Ctrl-C
demo-redis: $(DEMO_REDIS_STAMP)
	DFWS_REDIS_URL=$(DFWS_REDIS_URL) $(DEMO_PY) sample_project/redis_demo.py \
	  --addr $(DEMO_ADDR) --flower-port $(FLOWER_PORT)

# the distributed shape on loopback ports, by hand (tests/cluster.py): nginx in front of two daphne
# processes, the channel layer sharded over two private redis-servers, one worker per queue
# (celery, slow), a private Redis for the cache; prints the URL, Ctrl-C stops every process
cluster: $(STAMP) nginx
	$(PY) -m tests.cluster

clean:
	rm -rf $(VENV) $(DEMO_VENV) .nox frontend/node_modules .mypy_cache .ruff_cache .pytest_cache site
