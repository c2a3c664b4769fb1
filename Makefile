# Two commands matter: `make lab` and `make test`. Each builds .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test bench serve notebooks screenshots lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/python -m ollama_nb.lab

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
