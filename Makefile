# k8smodel: every target creates .venv and installs what it needs, so a fresh clone needs only
# Python >= 3.11, make and git.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= build
PYTEST_ARGS ?=

.PHONY: help reproduce reproduce-quick docs test test-fast lint bench validate clean install-test install-notebooks install-bench install-docs

help:
	@echo "make reproduce   set up .venv, execute every notebook, build the site into $(OUT)/site/"
	@echo "make docs        rebuild $(OUT)/site/ from the executed notebooks without running them"
	@echo "make test        set up .venv, run lint, unit tests and every notebook in quick mode"
	@echo "make test-fast   the same without tests marked slow"
	@echo "make lint        ruff check, ruff format --check and mypy over the package"
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
install-docs: $(VENV)/.installed-docs

# The README's figure is the one this run made.
reproduce: $(VENV)/.installed-notebooks
	$(BIN)/k8smodel reproduce --out $(OUT)
	cp $(OUT)/figures/00_quickstart/quickstart_jain.png docs/quickstart_jain.png

docs: $(VENV)/.installed-docs
	$(BIN)/k8smodel reproduce --site-only --out $(OUT)

reproduce-quick: $(VENV)/.installed-notebooks
	$(BIN)/k8smodel reproduce --quick --out $(OUT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: lint
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

bench: $(VENV)/.installed-bench
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Installs nginx and HAProxy through apt when missing and run as root (scripts/install-balancers),
# otherwise says what to install; then about 12 minutes of loopback traffic.
# INGRESS_NGINX=PATH (a kubernetes/ingress-nginx checkout) also runs its real balancer/ewma.lua
# (about 2 more minutes; needs nginx's Lua module, which the script installs too).
INGRESS_NGINX ?=
validate: $(VENV)/.installed-test
	scripts/install-balancers
	$(BIN)/k8smodel validate $(if $(INGRESS_NGINX),--ingress-nginx $(INGRESS_NGINX))

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache .hypothesis
