# The two commands of the README. Both run setup.sh first (fast when nothing changed).
PY := .venv/bin/python

.PHONY: setup demo test lint clean
setup:
	./setup.sh

demo: setup
	$(PY) scripts/demo.py

# --test adds the browser (Debian's chromium + playwright) for the web UI test; without it that test skips.
test:
	./setup.sh --test
	$(PY) -m pytest

lint: setup
	.venv/bin/ruff check src scripts tests

clean:
	rm -rf outputs
