# Two commands a fresh machine needs (see README):
#   make demo   set up, ingest, transcribe and score the demo calls, start the app
#   make test   set up, run the whole test suite (CI runs this via .ci/run)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= demo/work/demo.db
PORT   ?= 8501

.PHONY: setup model demo demo-data test test-quick lint chromium bench-tools clean

$(BIN)/qa-review: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(BIN)/qa-review

model: setup
	$(BIN)/qa-review models install base
	$(BIN)/qa-review models install voice-encoder

demo-data: model
	@# demo accounts first (password = "demo-" + user name; never use these in production):
	@# calls are scored as they are transcribed, and greetings are checked against the
	@# operators' spoken names
	@for u in "admin admin" "svetlana supervisor --team registry" "trainer trainer" \
	          "anna operator --team registry --operator-id anna.smirnova --spoken-name Анна" \
	          "ivan operator --team registry --operator-id ivan.petrov --spoken-name Иван" \
	          "petr operator --team registry --operator-id petr.volkov --spoken-name Пётр" \
	          "olga operator --team registry --operator-id olga.sokolova --spoken-name Ольга"; do \
	  set -- $$u; name=$$1; role=$$2; shift 2; \
	  $(BIN)/qa-review --db $(DB) users add $$name --role $$role $$@ --password demo-$$name --exist-ok --demo; \
	done
	$(BIN)/qa-review --db $(DB) ingest demo/calls --manifest demo/manifest.csv
	$(BIN)/qa-review --db $(DB) ingest demo/chats
	@# three months of history as transcripts (no audio; see scripts/make_demo_history.py)
	$(BIN)/python scripts/make_demo_history.py demo/work/history
	$(BIN)/qa-review --db $(DB) ingest demo/work/history
	$(BIN)/qa-review --db $(DB) cdr import demo/call-log.csv
	$(BIN)/qa-review --db $(DB) transcribe
	$(BIN)/python scripts/demo_reviews.py $(DB)

demo: demo-data
	$(BIN)/qa-review --db $(DB) serve --port $(PORT)

# Headless Chromium for the end-to-end tests (Debian's package; root or sudo).
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Synthesizers and codecs for benchmarks/conditions.py (not needed by the tests).
bench-tools:
	@command -v text2wave >/dev/null && command -v espeak-ng >/dev/null && command -v sox >/dev/null \
	  && command -v ffmpeg >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    festival festvox-ru espeak-ng sox libsox-fmt-all ffmpeg >/dev/null; }

# Style, likely bugs, formatting, and the layers' import contracts (pyproject.toml).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: model chromium lint
	$(BIN)/python -m pytest

test-quick: setup
	$(BIN)/python -m pytest -m "not model and not e2e"

clean:
	rm -rf $(VENV) demo/work
