# The README's commands. `make run` installs and runs the main job; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test lint bench eval-webshop clean

$(BIN)/kcnguard $(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/kcnguard run

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/pytest -q -ra

bench: $(VENV)/.installed
	$(BIN)/python -m bench.pipeline

eval-webshop: $(VENV)/.installed
	$(BIN)/python -m crawler.offline.evaluate_webshop

clean:
	rm -rf $(VENV) .kcnguard .pytest_cache .ruff_cache
