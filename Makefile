# Set-up and main jobs of lerendtransformeren. Everything installs into a local virtual
# environment (.venv) with the tested versions from requirements/constraints.txt.
#
#   make report   reports for all five transformation goals from the synthetic study
#   make test     every test: unit tests, doctests, notebooks under nbval

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-test
RUN    := $(VENV)/.installed
PIP    := $(BIN)/python -m pip

.PHONY: install test report data notebooks benchmark lock clean

# The main job needs only the package and its run-time dependencies.
$(RUN): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c requirements/constraints.txt -e .
	touch $(RUN)

# The tests add the test extra (pytest, nbval, hypothesis, ipykernel, dask).
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

benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_scales.py
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_power.py
	$(BIN)/python benchmarks/bench_glmm.py
	$(BIN)/python benchmarks/bench_io.py
	$(BIN)/python benchmarks/bench_reliability.py

# Refresh the constraints after changing dependencies (review the diff before committing).
lock: $(STAMP)
	$(PIP) freeze --exclude-editable --exclude lerendtransformeren | sort > requirements/constraints.txt

clean:
	rm -rf $(VENV) reports .pytest_cache
