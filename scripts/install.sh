#!/usr/bin/env bash
# Install petclassifier into ./.venv and register the Jupyter kernel "petclassifier" inside that venv.
# Usage: bash scripts/install.sh        (PYTHON=/path/to/python3.x to choose the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."

pick_python() {
  for py in "${PYTHON:-}" python3.11 python3.12 python3.10 python3.13 python3; do
    [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then echo "$py"; return; fi
  done
  echo "error: petclassifier needs Python 3.10 or newer; install one or set PYTHON=/path/to/python3" >&2
  exit 1
}

py=$(pick_python)
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $py ($("$py" --version 2>&1))"
  "$py" -m venv .venv
fi
echo "Installing petclassifier and its requirements into .venv (torch is large: this takes a few minutes)"
.venv/bin/python -m pip install --quiet -e ".[dev]"
# --sys-prefix keeps the kernelspec inside this venv: other clones or venvs on the machine cannot hijack it.
.venv/bin/python -m ipykernel install --sys-prefix --name petclassifier --display-name "Python (petclassifier)" >/dev/null
echo "Installed. Kernel 'petclassifier' -> $(pwd)/.venv/bin/python"
echo "Next: bash scripts/test.sh   |   .venv/bin/jupyter lab nbs/   |   .venv/bin/petclassifier run --help"
