# Two entry points for a fresh machine: `make up` (set up, train the demo app if needed, talk to it) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEMO_MODEL := .chatbot/models/demo
INSTALLED := $(VENV)/.installed

.PHONY: up install test check-export nbtest pytest bench demo-model clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --disable-pip-version-check -U pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[train,dev,bench]"
	touch $@

install: $(INSTALLED)

demo-model: $(INSTALLED)
	@test -f $(DEMO_MODEL)/manifest.json || $(BIN)/chatbot train demo --out $(DEMO_MODEL)

up: demo-model
	$(BIN)/chatbot shell $(DEMO_MODEL)

# The exported package must be exactly what the notebooks produce.
check-export: $(INSTALLED)
	$(BIN)/nbdev-export
	@if [ -n "$$(git status --porcelain -- chatbot)" ]; then \
	  echo "nbdev-export changed chatbot/ (edit nbs/*.ipynb, run nbdev-export, commit both):"; \
	  git status --short -- chatbot; git --no-pager diff --stat -- chatbot; exit 1; fi

nbtest: $(INSTALLED)
	$(BIN)/nbdev-test --n-workers 2

pytest: $(INSTALLED)
	$(BIN)/python -m pytest -q -ra

test: check-export nbtest pytest

bench: $(INSTALLED)
	$(BIN)/python bench/run.py --write BENCHMARKS.md

clean:
	rm -rf $(VENV) .chatbot build dist *.egg-info
