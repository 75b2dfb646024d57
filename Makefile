# make demo: set up, train the default model if missing, score examples/ (main job)
# make test: set up and run the test suite (what CI runs)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MODEL := models/default/stancewatch.json
SHARED_SEED := ../shared/examples/seed_article.txt
export HF_HUB_OFFLINE := 1

.PHONY: setup test model demo lint browser

setup: $(STAMP)

# torch first and pinned: the CPU wheel on disk; unpinned, pip would fetch a CUDA build.
# The onnx and ray extras are optional for users, but their tests run in CI.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet torch==2.13.0
	$(VENV)/bin/pip install --quiet -e '.[dev,onnx,ray]'
	touch $(STAMP)

# Debian's Chromium, for the headless check of report.html.
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: setup browser
	$(PY) -m pytest -q

TRAIN_DEFAULT := $(PY) scripts/train.py experiment=default export_dir=models/default

$(MODEL): | $(STAMP)
	$(TRAIN_DEFAULT)

model: setup
	$(TRAIN_DEFAULT)

demo: setup $(MODEL)
	$(VENV)/bin/stancewatch score input=examples output_dir=outputs/demo
	$(VENV)/bin/stancewatch score input=examples/elva_dam_dispute.jsonl output_dir=outputs/demo-dated
	@if [ -f $(SHARED_SEED) ]; then $(VENV)/bin/stancewatch score input=$(SHARED_SEED) output_dir=outputs/demo-seed; fi

lint: setup
	$(VENV)/bin/ruff check src scripts tests
