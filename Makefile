# One entry point for people and schedulers. Each target sets up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: report test venv lab clean bench

report: $(STAMP)
	$(BIN)/briefing build $(ARGS)

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (frenemies .venv)" >/dev/null
	touch $(STAMP)

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

clean:
	rm -rf $(VENV) reports/*/ reports/latest
