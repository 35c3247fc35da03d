# k8smodel: every target creates .venv and installs what it needs, so a fresh clone needs only
# Python >= 3.11, make and git.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= build
PYTEST_ARGS ?=

.PHONY: help reproduce reproduce-quick test test-fast lint bench validate clean install-test install-notebooks install-bench

help:
	@echo "make reproduce   set up .venv, execute every notebook, write pages and figures to $(OUT)/"
	@echo "make test        set up .venv, run lint, unit tests and every notebook in quick mode"
	@echo "make test-fast   the same without tests marked slow"
	@echo "make lint        ruff check and ruff format --check"
	@echo "make bench       side-by-side benchmarks against peer libraries (prints ratios)"
	@echo "make validate    real nginx and HAProxy on 127.0.0.1 vs the lb model (rewrites data/lab_validation.csv)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# One stamp per extra, remade when pyproject.toml changes.
$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	@touch $@

install-test: $(VENV)/.installed-test
install-notebooks: $(VENV)/.installed-notebooks
install-bench: $(VENV)/.installed-bench

reproduce: $(VENV)/.installed-notebooks
	$(BIN)/k8smodel reproduce --out $(OUT)

reproduce-quick: $(VENV)/.installed-notebooks
	$(BIN)/k8smodel reproduce --quick --out $(OUT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: lint
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

bench: $(VENV)/.installed-bench
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Installs nginx and HAProxy through apt when missing and run as root (services are kept from
# starting); otherwise says what to install. Then about 12 minutes of loopback traffic.
validate: $(VENV)/.installed-test
	@missing=""; for b in nginx haproxy; do \
	  command -v $$b >/dev/null 2>&1 || [ -x /usr/sbin/$$b ] || missing="$$missing $$b"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing$$missing through apt"; \
	    guard=0; [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; guard=1; }; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing </dev/null; st=$$?; \
	    [ $$guard = 1 ] && rm -f /usr/sbin/policy-rc.d; \
	    for b in $$missing; do service $$b stop >/dev/null 2>&1 || true; done; \
	    [ $$st = 0 ] || exit $$st; \
	  else \
	    echo "make validate needs$$missing: as root run  apt-get install -y nginx haproxy  (Debian/Ubuntu)" >&2; exit 2; \
	  fi; \
	fi
	$(BIN)/k8smodel validate

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache .hypothesis
