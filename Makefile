# The two commands of the README. Both run setup.sh first (fast when nothing changed).
PY := .venv/bin/python

.PHONY: setup demo test lint clean
setup:
	./setup.sh

demo: setup
	$(PY) scripts/demo.py

# The browser (Debian's chromium + playwright) is for the web UI test only; without it that test skips.
test: setup
	./scripts/install_test_browser.sh
	$(PY) -m pytest

lint: setup
	.venv/bin/ruff check src scripts tests

clean:
	rm -rf outputs
