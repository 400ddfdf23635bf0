# gradflow's developer entry points. Everything starts from a plain Python 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST := $(BIN)/python -m pytest
JOBS   ?= 2

.PHONY: demo test test-all zoo bench docs graphviz browser clean fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# gradflow itself, with the CPU build of TensorFlow (pyproject.toml pins tensorflow-cpu).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

# Keras 2 (tf_keras) for the tests of Keras 2 models: the release matching the installed
# TensorFlow, without its `tensorflow` requirement, which would pull the CUDA build over
# tensorflow-cpu. keras-hub likewise (it requires tensorflow-text, which requires
# `tensorflow`): --no-deps, its real dependencies are in the dev extras.
$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m pip install -q --no-deps "tf-keras~=$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("tensorflow-cpu").rsplit(".", 1)[0])').0"
	$(BIN)/python -m pip install -q --no-deps "keras-hub>=0.32"
	touch $@

graphviz:
	@scripts/ensure-graphviz.sh

# Headless Chromium for the HTML report's browser tests (Debian's package).
browser:
	@scripts/ensure-chromium.sh

demo: $(VENV)/.installed graphviz
	@mkdir -p out
	$(BIN)/gradflow inspect examples/stop_gradient.py --svg out/stop_gradient.svg
	@echo "wrote out/stop_gradient.svg"

test: $(VENV)/.installed-dev graphviz browser
	$(PYTEST) -q -m "not slow" -n $(JOBS) --dist loadfile

test-all: $(VENV)/.installed-dev graphviz browser
	$(PYTEST) -q -n $(JOBS) --dist loadfile

# The whole zoo (tests/zoo: keras.applications, recurrent and attention models) against
# TensorFlow's autodiff, one case at a time (each runs TensorFlow and gradflow side by side).
zoo: $(VENV)/.installed-dev
	$(PYTEST) -q tests/test_zoo.py --durations=0

# Random model files, gradflow vs TensorFlow's autodiff (tests/fuzz/): FUZZ_EXAMPLES
# random programs per palette (dataflow, control flow), one palette per worker.
# Failures are kept in .hypothesis/ and replayed first next time.
FUZZ_EXAMPLES ?= 2000
fuzz: $(VENV)/.installed-dev
	GRADFLOW_FUZZ_PROFILE=fuzz GRADFLOW_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(PYTEST) -q -n $(JOBS) --dist loadfile tests/test_fuzz.py tests/test_fuzz_control.py

# The pictures README.md and docs/ show (committed; deterministic, so they diff cleanly).
docs: $(VENV)/.installed graphviz
	$(BIN)/python scripts/make_docs.py

clean:
	rm -rf out .pytest_cache

# gradflow against plain TensorFlow, analysis against autodiff, scaling (time and memory),
# start-up and rendering, written to docs/performance.md (about 10 minutes on 2 cores;
# not part of `make test`).
bench: $(VENV)/.installed graphviz
	$(BIN)/python bench/bench.py
