# JACAMENO: `make run` starts the product on embedded defaults, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
HAVE_NODE := $(shell command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && echo yes)
PACKAGES := api collab docs_model audio_services

.PHONY: run serve install install-dev web web-test node-deps browser-deps deploy-deps synth-deps check lint typecheck test bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Re-install only when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The browser client: installed from its lock file (again only when the lock changes),
# then built into web/dist, which `jacameno serve` serves at /.
web:
ifeq ($(HAVE_NODE),yes)
	@if [ ! -f web/node_modules/.package-lock.json -o web/package-lock.json -nt web/node_modules/.package-lock.json ]; then \
		cd web && npm ci --no-audit --no-fund; fi
	cd web && npm run build
else
	@echo "Node.js not found: the web client is not built"
endif

# The client's own unit tests (Vitest).
web-test: web
ifeq ($(HAVE_NODE),yes)
	cd web && npm test
endif

# The real yjs / y-websocket clients used by interop tests and benchmarks.
node-deps:
ifeq ($(HAVE_NODE),yes)
	@if [ -f tests/node/package-lock.json ] && [ ! -f tests/node/node_modules/.package-lock.json -o tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]; then \
		cd tests/node && npm ci --no-audit --no-fund; fi
else
	@echo "Node.js not found: interop tests will skip"
endif

# Chromium from Debian's packages, only when browser tests exist.
browser-deps:
	@if [ -d tests/browser ] && ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
		else echo "install Debian's chromium package for the browser tests"; fi; fi

# Caddy from Debian's packages: tests/test_deploy.py validates deploy/Caddyfile with it.
deploy-deps:
	@if ! command -v caddy >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq caddy; \
		else echo "install Debian's caddy package for the deployment tests"; fi; fi

# FluidSynth and a General MIDI SoundFont from Debian's packages: MIDI tracks are heard
# through them (audio_services/midi_render.py); the browser plays the same SoundFont.
synth-deps:
	@if [ ! -f /usr/share/sounds/sf2/TimGM6mb.sf2 ] || ! ldconfig -p | grep -q libfluidsynth; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq libfluidsynth3 timgm6mb-soundfont; \
		else echo "install Debian's libfluidsynth3 and timgm6mb-soundfont packages for MIDI tracks"; fi; fi

run: install synth-deps web
	@mkdir -p var
	@$(VENV)/bin/jacameno demo
	$(VENV)/bin/jacameno serve

serve: run

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install-dev
	@mkdir -p build/typecheck/jacameno
	@for p in $(PACKAGES); do ln -sfn ../../../$$p build/typecheck/jacameno/$$p; done
	$(VENV)/bin/mypy

check: lint typecheck

test: install-dev node-deps browser-deps deploy-deps synth-deps web-test check
	$(VENV)/bin/pytest

# Collaboration: the reference y-websocket server, Hocuspocus and our server in the same
# run (figures as ratios to the reference, latency also to the best Node server); then
# audio. Add `--target bench.jacameno_target:jacameno_deflate` for permessage-deflate on.
$(VENV)/.installed-bench: pyproject.toml | $(VENV)/.installed-dev
	$(PIP) install --quiet -e '.[dev,bench]'
	touch $@

bench: install-dev $(VENV)/.installed-bench node-deps
	$(PY) bench/collab_bench.py --repeat 3 --target bench.node_targets:hocuspocus \
		--target bench.jacameno_target:jacameno --json-out var/bench-collab.json
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
