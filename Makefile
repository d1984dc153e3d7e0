# The two commands of the README. Both run setup.sh first (fast when nothing changed).
PY := .venv/bin/python

.PHONY: setup demo test lint clean
setup:
	./setup.sh

demo: setup
	$(PY) scripts/demo.py

test: setup
	$(PY) -m pytest

lint: setup
	.venv/bin/ruff check src scripts tests

clean:
	rm -rf outputs
