# One entry point for people and schedulers. Each target sets up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# The git filter that keeps notebook outputs out of git (src/report_helpers/hygiene.py); idempotent.
GIT_FILTER = $(BIN)/python -m report_helpers.hygiene install
# VENV=DIR on the command line: that environment is used as it is (never created or reinstalled
# here); the notebook filter is still set up.
ifeq ($(origin VENV),command line)
STAMP  := given-venv
endif

.PHONY: report test check venv lab clean bench given-venv

report: $(STAMP)
	$(BIN)/briefing build $(ARGS)

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fast loop (under 2 minutes): lint, committed notebooks clean, tests that build no edition.
check: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/python -m report_helpers.hygiene check
	$(BIN)/python -m pytest -q -m "not e2e and not slow" $(PYTEST_ARGS)

venv: $(STAMP)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (frenemies .venv)" >/dev/null
	$(GIT_FILTER)
	touch $@

# VENV=DIR given on the command line: an environment made elsewhere, used as it is.
given-venv:
	@test -x $(BIN)/python || { echo "VENV=$(VENV): no $(BIN)/python" >&2; exit 2; }
	@$(GIT_FILTER)

# HTML validators for the accessibility tests (axe-core, vnu.jar), pinned by package-lock.json.
# --ignore-scripts: vnu-jar's postinstall would download a Java runtime; Debian's Java runs it.
$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NODE_STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/compare.py

# Everything builds wrote in reports/ (editions, builds/, latest*, index.html, feed.xml, .cache/,
# .failed/, .interactive/, leftovers), under the build lock; reports/README.md and .venv stay.
clean:
	mkdir -p reports
	$(if $(shell command -v flock),flock -w 60 reports/.build.lock) find reports -mindepth 1 -maxdepth 1 \
	    ! -name README.md ! -name .build.lock -exec rm -rf {} +
