# Two commands do all set-up: `make run` (the app on the sample data) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8501

.PHONY: run test test-fast bench sample geodata clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

run: $(BIN)/.installed  ## Run the dashboard (builds the sample database on first start)
	$(BIN)/streamlit run app.py --server.port $(PORT)

test: $(BIN)/.installed  ## Unit, AppTest and browser tests (installs Debian chromium if missing)
	scripts/ensure-chromium
	$(BIN)/pytest

test-fast: $(BIN)/.installed  ## Everything except the browser tests
	$(BIN)/pytest -m "not browser"

bench: $(BIN)/.installed  ## Benchmarks at regional and national scale (not part of the tests)
	$(BIN)/python -m benchmarks.run

sample: $(BIN)/.installed  ## Regenerate sample_data/ from the generator (deterministic)
	$(BIN)/python -c "from audit.sample.generate import write_sample; from audit.paths import SAMPLE_DATA; write_sample(SAMPLE_DATA)"

geodata: $(BIN)/.installed  ## Rebuild geodata/ from the ONS Postcode Directory package
	$(BIN)/audit build-geodata

clean:
	rm -rf $(VENV) data .pytest_cache
