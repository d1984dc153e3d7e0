#!/usr/bin/env bash
# For tests only: installs what tests/test_webui.py needs to drive LLaMA-Factory's web UI in a real browser.
# Nothing in the recipes needs a browser, so this is deliberately not part of setup.sh or requirements.txt.
#
#   - Debian's chromium (apt-get, as root), because `playwright install` downloads browsers from a CDN that
#     offline machines cannot reach; the test points Playwright at /usr/bin/chromium instead.
#   - the playwright Python package (exact pin) into .venv.
#
# Idempotent and fast on a second run: each step is skipped when its result is already there. A step that
# cannot run (no apt, not root, no network) prints one line saying why and the script still exits 0, so the
# test skips instead of the set-up failing.
set -u

# The README promises --help for every entry point in scripts/: print the comment block above.
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
    sed -n '2,/^set -u/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
    exit 0
fi

cd "$(dirname "$0")/.." || exit 0

PLAYWRIGHT_PIN="playwright==1.65.2"
CHROMIUM=/usr/bin/chromium
PY=.venv/bin/python

# --- chromium --------------------------------------------------------------------------------------------
if [ -x "$CHROMIUM" ]; then
    echo "chromium: already installed ($("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM"))"
elif ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium: not installed (apt-get not available; install a chromium at $CHROMIUM yourself); browser tests will skip"
elif [ "$(id -u)" -ne 0 ]; then
    echo "chromium: not installed (apt-get needs root; run: sudo $0); browser tests will skip"
else
    echo "chromium: installing with apt-get ..."
    export DEBIAN_FRONTEND=noninteractive
    # `update` only when the package is unknown, so a machine with fresh lists does not refetch them.
    if ! apt-cache show chromium >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1 || true
    fi
    if apt-get install -y -qq --no-install-recommends chromium >/tmp/install_test_browser.apt.log 2>&1 \
        && [ -x "$CHROMIUM" ]; then
        echo "chromium: installed ($("$CHROMIUM" --version 2>/dev/null))"
    else
        echo "chromium: apt-get install failed (see /tmp/install_test_browser.apt.log); browser tests will skip"
    fi
fi

# --- playwright (Python package only; never `playwright install`) ------------------------------------------
if [ ! -x "$PY" ]; then
    echo "playwright: not installed ($PY missing; run ./setup.sh first); browser tests will skip"
elif "$PY" -c "import playwright" >/dev/null 2>&1; then
    echo "playwright: already installed ($("$PY" -m pip show playwright 2>/dev/null | sed -n 's/^Version: //p'))"
elif "$PY" -m pip install -q "$PLAYWRIGHT_PIN"; then
    echo "playwright: installed $PLAYWRIGHT_PIN into .venv"
else
    echo "playwright: pip install $PLAYWRIGHT_PIN failed; browser tests will skip"
fi

exit 0
