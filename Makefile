# Set-up and main jobs of lerendtransformeren. Everything installs into a local virtual
# environment (.venv) with the tested versions from requirements/constraints.txt.
#
#   make report        reports for all five transformation goals from the synthetic study
#   make test          every test: unit tests, doctests, notebooks under nbval, the docs build
#   make docs          the documentation site (Sphinx) into docs/_build/html
#   make test-floors   the unit tests against the lowest versions pyproject.toml allows

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-test
RUN    := $(VENV)/.installed
PIP    := $(BIN)/python -m pip
DOCS   := $(VENV)/.installed-docs

# The floors environment: its own venv, pinned to requirements/floors.txt.
PYTHON_FLOORS ?= python3.11
FLOORS        := .venv-floors
FLOORS_STAMP  := $(FLOORS)/.installed

.PHONY: install test report data notebooks benchmark docs test-floors lock clean

# The main job needs only the package and its run-time dependencies.
$(RUN): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c requirements/constraints.txt -e .
	touch $(RUN)

# The tests add the test extra (pytest, nbval, hypothesis, ipykernel, dask, and the docs
# extra, since a test builds the documentation).
$(STAMP): $(RUN)
	$(PIP) install --quiet -c requirements/constraints.txt -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest --nbval --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg tests src/lerendtransformeren notebooks

# Reports for all five goals from the bundled synthetic study, read through its study.yaml.
report: $(RUN)
	$(BIN)/lerendtransformeren report --study data/synthetic/study.yaml

# Re-make the bundled synthetic study (a test checks that the committed files equal it).
data: $(STAMP)
	$(BIN)/lerendtransformeren generate --out data/synthetic --force

# Re-execute the notebooks and store their outputs (after a change that moves a number).
notebooks: $(STAMP)
	$(PIP) install --quiet -c requirements/constraints.txt -e ".[notebooks]"
	$(BIN)/python tools/execute_notebooks.py

# The documentation site: API reference from the docstrings, the Markdown pages through
# MyST. Every warning is an error (tests/test_docs.py builds it the same way).
$(DOCS): $(RUN)
	$(PIP) install --quiet -c requirements/constraints.txt -e ".[docs]"
	touch $(DOCS)

docs: $(DOCS)
	$(BIN)/python -m sphinx -W --keep-going -b html -d docs/_build/doctrees docs docs/_build/html

# The unit tests (not the notebooks) against the lowest allowed versions of the direct
# dependencies: requirements/floors.txt pins each floor of pyproject.toml exactly (a test
# keeps the two equal). The test tools themselves are not pinned.
$(FLOORS_STAMP): pyproject.toml requirements/floors.txt
	rm -rf $(FLOORS)
	$(PYTHON_FLOORS) -m venv $(FLOORS)
	echo '*' > $(FLOORS)/.gitignore  # git ignores the whole environment (as venv does from 3.13)
	$(FLOORS)/bin/python -m pip install --quiet --upgrade pip
	$(FLOORS)/bin/python -m pip install --quiet -c requirements/floors.txt -e ".[test]"
	touch $(FLOORS_STAMP)

test-floors: $(FLOORS_STAMP)
	$(FLOORS)/bin/python -m pytest -q tests src/lerendtransformeren --ignore=tests/test_notebooks.py

benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_scales.py
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_power.py
	$(BIN)/python benchmarks/bench_glmm.py
	$(BIN)/python benchmarks/bench_io.py
	$(BIN)/python benchmarks/bench_reliability.py
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_impute.py

# Refresh the constraints after changing dependencies (review the diff before committing).
lock: $(STAMP)
	$(PIP) freeze --exclude-editable --exclude lerendtransformeren | sort > requirements/constraints.txt

clean:
	rm -rf $(VENV) $(FLOORS) reports .pytest_cache docs/_build
