# Every target sets itself up on a fresh machine: a .venv with the pinned dependencies.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEV := $(VENV)/.dev-installed

.PHONY: demo test slow lint unit integration e2e image-test bench day clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(DEV): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(DEV)

demo: $(DEV)
	$(PY) -m scripts.demo

lint: $(DEV)
	$(VENV)/bin/ruff check source_aircall_salescaling aircall_sandbox unit_tests tests scripts
	$(VENV)/bin/mypy --strict source_aircall_salescaling aircall_sandbox

# Syncs run in the test process (tests/harness.py says when a test runs the connector as
# a process), so no test waits for an interpreter to start and import airbyte-cdk; what
# is left waits as much as it computes (the connector's pacing, the CDK's backoff, the
# sandbox), so four pytest-xdist workers share the two cores (4 min 35 s here under a
# load of 5 to 8, against 7 min with two workers under a load of 4 to 5; 3 min 8 s
# under a load of 1 to 2). `worksteal`:
# a worker that runs out of tests takes some of another's. The tests marked `slow`
# (processes paced at Aircall's real rates, the CDK's CLI running its own pytest) are
# left to `make slow`; the ten slowest of the rest are listed at the end.
PYTEST := $(PY) -m pytest -q -p no:cacheprovider -n 4 --dist worksteal --durations=10
test: lint
	$(PYTEST) -m "not slow"

# The slow checks, run by CI (.ci/run) after `make test`.
slow: $(DEV)
	$(PYTEST) -m slow

unit: $(DEV)
	$(PY) -m pytest -q unit_tests

e2e: $(DEV)
	bash scripts/e2e_pyairbyte.sh

# Not part of `test` (it builds an image: minutes). Installs and starts a Docker engine
# when none answers; skips with the reason only where none can be started.
image-test: $(DEV)
	bash scripts/image_test.sh

bench: $(DEV)
	$(PY) -m scripts.bench

# The simulated day (tests/day): 96 syncs with the connector's clock moved by libfaketime,
# which Debian's faketime package brings; installed here when missing (CI is a fresh machine).
FAKETIME_LIB = $(firstword $(wildcard /usr/lib/*/faketime/libfaketime.so.1))
day: $(DEV)
	@if [ -z "$(FAKETIME_LIB)" ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		flock /tmp/source-aircall-apt.lock sh -c "$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq faketime"; \
	fi
	AIRCALL_DAY=1 $(PY) -m pytest -q -p no:cacheprovider tests/day

clean:
	rm -rf $(VENV) .venv-pyairbyte .demo .bench build *.egg-info
