# One entry point for people and CI. Every target sets up what it needs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch goes in first, as a CPU build: left to resolve on its own, pip pulls a multi-GB CUDA
# build. Its version is pinned in requirements-torch.txt only. Elsewhere, point TORCH_INDEX at
# https://download.pytorch.org/whl/cpu.
TORCH ?= -r requirements-torch.txt
TORCH_INDEX ?=
PYTEST_ARGS ?=
export Q

.PHONY: setup test test-fast lint ask question build run chat bench clean translations

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements-torch.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The tests that do not load the embedding model (seconds, not minutes); make test runs all.
test-fast: setup
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

build: setup
	$(BIN)/newsbot build

ask: question build
	$(BIN)/newsbot ask "$$Q"

question:
	@test -n "$$Q" || { echo 'usage: make ask Q="your question"'; exit 2; }

# newsbot run checks the token first, then builds the index itself if there is none.
run: setup
	$(BIN)/newsbot run

chat: build
	$(BIN)/newsbot chat

bench: build
	$(BIN)/python bench/core.py

# After changing a text the bot sends: extract the template, merge it into every catalog,
# translate the new entries in bot/locale/*/LC_MESSAGES/newsbot.po, then run this again to
# compile (the .mo files are committed; tests/test_translations.py checks both).
LOCALES := bot/locale
translations: setup
	$(BIN)/pybabel extract --width 100 --no-location --project newsbot --sort-output -k mark \
		-o $(LOCALES)/newsbot.pot bot newsbot/cli
	$(BIN)/pybabel update --width 100 --ignore-obsolete --no-fuzzy-matching \
		-i $(LOCALES)/newsbot.pot -d $(LOCALES) -D newsbot
	$(BIN)/pybabel compile --statistics -d $(LOCALES) -D newsbot

clean:
	rm -rf $(VENV) var
