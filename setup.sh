#!/usr/bin/env bash
# Create .venv with the exact pins of requirements.txt (every transitive version fixed by constraints.txt)
# and install this project into it, editable. Idempotent: a second run with unchanged pins only checks.
#
#   ./setup.sh          CPU or GPU machine: everything the demo, the tests and the recipes need
#   ./setup.sh --gpu    also DeepSpeed and Liger kernels (multi-GPU and speed recipes)
#   ./setup.sh --test   also what the web UI test needs: Debian's chromium and playwright (make test uses this)
#
# PYTHON=python3.11 ./setup.sh picks the interpreter (3.10 or newer).
set -euo pipefail
cd "$(dirname "$0")"

say() { printf 'setup.sh: %s\n' "$*"; }
fail() { printf 'setup.sh: FAILED: %s\n' "$*" >&2; exit 1; }

gpu=0
browser=0
for arg in "$@"; do
  case "$arg" in
    --gpu) gpu=1 ;;
    --test) browser=1 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown option '$arg' (see ./setup.sh --help)" ;;
  esac
done

py=${PYTHON:-python3}
command -v "$py" >/dev/null || fail "no '$py' on PATH: install Python 3.10+ or set PYTHON=/path/to/python"
"$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || fail "$("$py" --version 2>&1) is too old: Python 3.10 or newer is needed (set PYTHON=...)"

inputs=(requirements.txt constraints.txt pyproject.toml)
[ "$gpu" = 1 ] && inputs+=(requirements-gpu.txt)
want=$(cat "${inputs[@]}" | sha256sum | cut -c1-16)
stamp=.venv/.setup-stamp
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
   && .venv/bin/python -c 'import qwen_recipes, llamafactory' 2>/dev/null; then
  say ".venv is up to date with ${inputs[*]} (nothing to do)"
  .venv/bin/python scripts/make_qwen_tokenizer.py >/dev/null || fail "cannot build the Qwen tokenizer (see above)"
  [ "$browser" = 1 ] && ./scripts/install_test_browser.sh
  exit 0
fi

if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $("$py" --version 2>&1)"
  "$py" -m venv .venv || fail "cannot create a virtual environment (on Debian/Ubuntu: apt-get install python3-venv)"
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check)
"${pip[@]}" install -q --upgrade pip || fail "cannot upgrade pip (no access to the package index?)"

# torch 2.9.1 from PyPI is the CUDA 12.8 build on x86_64 (several GB the first time; pip's cache keeps it).
say "installing requirements.txt (exact pins; first run downloads torch and LLaMA-Factory)"
"${pip[@]}" install -q -r requirements.txt -c constraints.txt \
  || fail "pip could not install requirements.txt: see pip's message above (network, disk space, or Python version)"
"${pip[@]}" install -q -e . --no-deps || fail "cannot install this project (pyproject.toml) in editable mode"
if [ "$gpu" = 1 ]; then
  say "installing requirements-gpu.txt (DeepSpeed without prebuilt ops, Liger kernels)"
  # DeepSpeed's source build runs against the installed torch (no build isolation) and needs wheel for that.
  "${pip[@]}" install -q wheel==0.45.1 || fail "cannot install wheel (needed to build DeepSpeed)"
  DS_BUILD_OPS=0 "${pip[@]}" install --no-build-isolation -r requirements-gpu.txt -c constraints.txt \
    || fail "pip could not install requirements-gpu.txt: see pip's message above"
fi
"${pip[@]}" check || fail "installed packages have conflicting requirements (pip check above)"

# Qwen2 / Qwen2.5's real tokenizer, built offline from the BPE ranks in the dashscope wheel (into ~/.cache/qwen_recipes).
say "building the Qwen2 / Qwen2.5 tokenizers (first time: a 2.5 MB file from PyPI, ~20 s)"
.venv/bin/python scripts/make_qwen_tokenizer.py >/dev/null || fail "cannot build the Qwen tokenizer (see above)"
echo "$want" > "$stamp"
[ "$browser" = 1 ] && ./scripts/install_test_browser.sh
.venv/bin/python - <<'PY'
import importlib.metadata as md
names = ["torch", "transformers", "llamafactory", "peft", "trl", "bitsandbytes", "datasets"]
print("setup.sh: ready: " + ", ".join(f"{n} {md.version(n)}" for n in names))
PY
