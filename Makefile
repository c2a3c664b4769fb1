# Two commands matter: `make lab` and `make test`. Each builds .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test bench serve notebooks screenshots lint clean

# Set-up prints one line per step; pip stays quiet unless something fails (-qq keeps errors).
PIP := $(BIN)/python -m pip install -qq --disable-pip-version-check --no-input

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
	  || { echo "Python 3.10 or newer is needed (found: $$($(PYTHON) --version 2>&1))."; exit 1; }
	@echo "set-up 1/2: a Python environment in $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(PIP) --upgrade pip
	@echo "set-up 2/2: installing ollama-notebooks and the libraries it uses (first time: a few minutes)"
	@$(PIP) -e '.[test]'
	@touch $(STAMP)

lab: $(STAMP)
	@$(BIN)/python -m ollama_nb.lab

test: $(STAMP)
	$(BIN)/python -m pytest tests notebooks --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

bench: $(STAMP)
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m benchmarks

serve: $(STAMP)
	$(BIN)/python -m ollama_nb.server --host 127.0.0.1 --port 11434

notebooks: $(STAMP)
	$(BIN)/python -m ollama_nb.tools.run_notebooks

screenshots: $(STAMP)
	$(BIN)/python -m pytest tests/browser --screenshots docs/images -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV)
