# The two commands of the README. Both run setup.sh first (fast when nothing changed).
PY := .venv/bin/python

.PHONY: setup demo test lint clean
setup:
	./setup.sh

demo: setup
	$(PY) scripts/demo.py

# --test adds the browser (Debian's chromium + playwright) for the web UI test; without it that test skips.
# Test files run in parallel (pytest-xdist, one file per worker: a file's tests share its fixtures and folders);
# Measured 2026-12-02 on 2 cores: 867 tests in 13.2 minutes (22.9 CPU-minutes of work, the time one after another).
test:
	./setup.sh --test
	$(PY) -m pytest -n auto --maxprocesses 4 --dist loadfile

lint: setup
	.venv/bin/ruff check src scripts tests

clean:
	rm -rf outputs
