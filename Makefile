# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
export PORT

.PHONY: run test setup redis port db lint bench bench-report clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

redis: setup ## make sure a Redis answers at REDIS_URL (start a local one if possible)
	@$(BIN)/python -m sms.devserver ensure-redis

port: setup ## fail early, saying what to do, if PORT is taken (another `make run`?)
	@$(BIN)/python -m sms.devserver ensure-port $(PORT)

db: setup ## migrate and load the catalogue and the call targets (shipped data/, idempotent)
	$(BIN)/flask --app app init-db
	$(BIN)/flask --app app import-catalogue --if-empty
	$(BIN)/flask --app app import-legislators
	$(BIN)/flask --app app import-zips
	$(BIN)/flask --app app import-state-districts
	$(BIN)/flask --app app import-state-legislators
	$(BIN)/flask --app app import-targets --if-empty

# The Procfile (production's web + worker) plus a process that prints what to do first once both are up.
# The port is written in: honcho gives each process after the first its own PORT (web's + 100, + 200).
run: setup port redis db ## set up and run web + worker in the foreground (Ctrl-C stops both)
	@mkdir -p var
	@{ awk 1 Procfile; echo "banner: python -u -m sms.devserver banner --port $(PORT)"; } > var/Procfile.dev
	@PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -f var/Procfile.dev

# Browser tests drive Debian's Chromium through Playwright (which never downloads a browser of its own).
chromium: ## install Debian's chromium if it is missing (root, or passwordless sudo; no prompts)
	@command -v chromium >/dev/null 2>&1 || { \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo "sudo -n" ); \
	  echo "installing Debian's chromium for the browser tests"; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq </dev/null && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium </dev/null >/dev/null; }

test: setup redis chromium ## set up and run the whole test suite
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadgroup

lint: setup
	$(BIN)/ruff check .

bench: setup redis ## every benchmark on SQLite and PostgreSQL (a table and a line of ratios each; ~6 min)
	$(BIN)/python -m benchmarks

bench-report: setup redis ## the same, also written to BENCHMARKS.md with the machine and each method
	$(BIN)/python -m benchmarks --report BENCHMARKS.md

clean:
	rm -rf $(VENV) var .pytest_cache
