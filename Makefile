# Two entry points (see README): `make run` and `make test`.  Both create .venv and install.
PY ?= python3.11
# `make run PORT=8080 HOST=0.0.0.0` to serve elsewhere.
PORT ?= 8000
HOST ?= 127.0.0.1
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install bench clean lint oidc-provider

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/license-svc serve --host $(HOST) --port $(PORT)

test: install lint oidc-provider
	$(BIN)/python -m pytest -n 2

# ruff and mypy over the packages configured in pyproject.toml (docs/security.md "Static checks").
lint: install
	$(BIN)/ruff check formats signing verification
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/crypto.py

clean:
	rm -rf $(VENV) var build *.egg-info

# The local OpenID provider of the sign-in tests (tests/oidc/: panva's oidc-provider on Node),
# installed from its lock file; without Node the sign-in tests skip.
oidc-provider: tests/oidc/node_modules/.package-lock.json
tests/oidc/node_modules/.package-lock.json: tests/oidc/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/oidc --no-audit --no-fund; \
	else echo "node/npm not installed: the sign-in tests (tests/oidc) will skip"; fi
