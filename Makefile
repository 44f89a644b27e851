# Vanishing Gradients Lab: `make book` builds the book, `make test` runs every test.
# Each target creates .venv if missing and installs what it needs from pinned versions
# (requirements/constraints.txt), so a fresh clone needs nothing but Python 3.11+.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt
JOBS   ?= 2
BUILD  := $(BIN)/jupyter-book build . --builder html -W -n --keep-going

# Figures as static images, explorers as static grids, no progress bars in the build and tests.
export VGLAB_STATIC := 1
# MPLBACKEND=Agg in the environment silently drops every figure from the book.
unexport MPLBACKEND
# One BLAS thread per process: the chapters' matrices are small, and two xdist workers with
# two OpenBLAS threads each on two cores run 10x slower than with one (measured).
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: book test unit notebooks html browser lab bench gpu lock ipynb clean help

help:
	@echo "make book   execute every chapter and build the HTML book in _build/html"
	@echo "make test   unit tests, every chapter under nbval, the -W -n build, the browser test"
	@echo "make lab    open the chapters in JupyterLab"
	@echo "make bench  vglab against PyTorch on the CPU (ratios)"
	@echo "make gpu    the unit tests on torch-CUDA, then vglab-on-CUDA against torch-CUDA and NumPy"
	@echo "make ipynb  regenerate the Colab copies chapters/*.ipynb from chapters/*.md"
	@echo "make clean  remove _build, caches and .venv"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.book: pyproject.toml requirements/constraints.txt | $(BIN)/python
	$(PIP) -e ".[book,torch]"
	@touch $@

$(VENV)/.test: pyproject.toml requirements/constraints.txt | $(BIN)/python
	$(PIP) -e ".[test]"
	@touch $@ $(VENV)/.book

book: $(VENV)/.book
	$(BUILD)
	@echo
	@echo "The book is at $(CURDIR)/_build/html/index.html"

test: $(VENV)/.test
	$(MAKE) --no-print-directory unit notebooks html browser

unit: $(VENV)/.test
	$(BIN)/pytest -n $(JOBS) -p no:cacheprovider tests --ignore=tests/test_book.py

notebooks: $(VENV)/.test
	$(BIN)/pytest -n $(JOBS) -p no:cacheprovider --nbval-lax chapters

html: $(VENV)/.test
	$(BUILD)

browser: $(VENV)/.test
	$(BIN)/pytest -p no:cacheprovider tests/test_book.py

lab: $(VENV)/.book
	$(PIP) -e ".[book,torch]" jupyterlab
	VGLAB_STATIC=0 $(BIN)/jupyter lab chapters

bench: $(VENV)/.test
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/run.py --growth

# On a machine with an NVIDIA GPU (and PyTorch's CUDA build): every backend-parametrised unit test on
# torch-CUDA, then the benchmark on the GPU. Without CUDA the tests are skipped with a message.
gpu: $(VENV)/.test
	$(BIN)/pytest -n $(JOBS) -p no:cacheprovider tests --ignore=tests/test_book.py --backend torch --device cuda
	$(BIN)/python benchmarks/run.py --device cuda --json _build/bench-gpu.json mlp lstm gru conv adam mlp-w1024-b1024

# Colab opens .ipynb files only: keep an output-free copy of each chapter beside it.
ipynb: $(VENV)/.book
	$(BIN)/jupytext --to ipynb chapters/*.md

lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]" jupyterlab
	{ echo "# Exact versions of every package make installs (pip -c): the test, book and lab extras."; \
	  echo "# Regenerate with \`make lock\` after changing a dependency in pyproject.toml."; \
	  $(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu/torch==\1/' \
	  | grep -viE '^(hatchling|trove-classifiers|pathspec|setuptools|wheel)=='; } > requirements/constraints.txt

clean:
	rm -rf _build $(VENV) .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
