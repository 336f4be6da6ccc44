# Xinjiang Trade Monitor: the two commands a newcomer needs are `make build` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

LOCK    = requirements.lock

.PHONY: setup build test test-fast notebooks benchmark system-deps clean lock

# Python environment with the package and its test tools, at the versions of the lock file (every
# package pinned with its sha256, so a fresh clone installs the same files); re-done when the lock
# file or pyproject.toml changes.  `make lock` updates the lock (see README, "Dependencies").
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# Re-resolve the lock file from pyproject.toml's ranges (the newest versions they allow, with hashes),
# with pip-tools, keeping the pinned versions that still fit (`make lock LOCK_FLAGS=--upgrade` moves every
# package to the newest allowed); then `make setup` installs it.  Commit requirements.lock with the change.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet $(LOCK_FLAGS) --generate-hashes --extra test --strip-extras --no-emit-index-url \
	    --no-emit-find-links --output-file $(LOCK) pyproject.toml

# System packages for the browser and PDF tests (headless Chromium, pdftoppm), installed when
# running as root on Debian/Ubuntu; elsewhere those tests skip with a reason (never in CI).
system-deps:
	@if command -v chromium >/dev/null && command -v pdftoppm >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver poppler-utils >/dev/null; \
	else echo "note: chromium / poppler-utils missing and not root: browser tests will be skipped"; fi

# The main job: data, notebooks and the published report (reports/default/)
build: setup
	$(BIN)/xjtrade build

# The whole test suite: package tests, notebooks re-run by nbval, browser and PDF checks; on 2
# pytest-xdist workers, each test file (so each notebook's cells) kept on one worker
test: setup system-deps
	$(BIN)/ruff check src tests tools benchmarks
	$(BIN)/mypy
	$(BIN)/xjtrade data build
	$(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider -n 2 --dist loadfile

# The package tests that run no notebook and render nothing (a few seconds)
test-fast: setup
	$(BIN)/python -m pytest tests -m "not slow" -p no:cacheprovider

# Refresh the outputs stored in the committed notebooks (default parameters, run in place)
notebooks: setup
	$(BIN)/xjtrade data build
	cd notebooks && for nb in [0-9][0-9]-*.ipynb; do \
	  ../$(BIN)/papermill --cwd . "$$nb" "$$nb" --no-progress-bar || exit 1; \
	  ../$(BIN)/python -c "import sys; from pathlib import Path; from xjtrade.report.run import normalise; normalise(Path(sys.argv[1]))" "$$nb" || exit 1; done

benchmark: setup
	$(BIN)/python benchmarks/build.py

clean:
	rm -rf data/processed reports/runs reports/default .xjtrade-cache
