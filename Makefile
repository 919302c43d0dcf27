# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
export PORT

.PHONY: run test setup redis db lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

redis: setup ## make sure a Redis answers at REDIS_URL (start a local one if possible)
	@$(BIN)/python -m sms.devserver ensure-redis

db: setup ## migrate and load the catalogue
	$(BIN)/flask --app app init-db
	$(BIN)/flask --app app import-catalogue

run: setup redis db ## set up and run web + worker in the foreground (Ctrl-C stops both)
	@echo "Action Line on http://127.0.0.1:$(PORT)  (simulate a text: $(BIN)/flask --app app simulate +15555550123 MENU --url http://127.0.0.1:$(PORT))"
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -f Procfile

test: setup redis ## set up and run the whole test suite
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .

bench: setup redis
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache
