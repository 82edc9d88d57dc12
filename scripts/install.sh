#!/usr/bin/env bash
# Install petclassifier into ./.venv and register the Jupyter kernel "petclassifier" inside that venv.
# Usage: bash scripts/install.sh               always (re)install (PYTHON=/path/to/python3.x chooses the interpreter)
#        bash scripts/install.sh --if-needed   install only when .venv is missing or out of date (run.sh and test.sh)
#        bash scripts/install.sh --fresh       resolve the requirements afresh from settings.ini (the newest releases
#                                              they allow) instead of installing requirements.lock
# By default the exact versions of requirements.lock are installed, each file checked against its hash (pip
# --require-hashes); scripts/lock.sh rewrites the lock. Out of date means: no .venv/bin/python, `import petclassifier`
# fails in it, or the stamp file below is missing, older than setup.py, settings.ini or requirements.lock, or names
# another way of installing (the lock's hash, or 'fresh'). A successful install writes the stamp.
# The lock is resolved for Python 3.11: with another Python, the requirements are resolved afresh, and the script says so.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.petclassifier-installed

# what the stamp says of an install: the lock it installed (by its hash), or 'fresh'
mode() { if [ "$fresh" = 1 ]; then echo fresh; else echo "lock $(sha256sum requirements.lock | cut -c1-64)"; fi; }

up_to_date() {
  [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$stamp" -nt setup.py ] && [ "$stamp" -nt settings.ini ] &&
    [ "$stamp" -nt requirements.lock ] && [ "$(cat "$stamp")" = "$(mode)" ] &&
    .venv/bin/python -I -c 'import petclassifier' >/dev/null 2>&1  # -I: not the clone's folder, the installed package
}

if_needed=0 fresh=0
for arg in "$@"; do
  case "$arg" in
    --if-needed) if_needed=1 ;;
    --fresh) fresh=1 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$arg': use --if-needed, --fresh or nothing (see bash scripts/install.sh --help)" >&2; exit 2 ;;
  esac
done
if [ "$if_needed" = 1 ] && up_to_date; then echo ".venv is up to date (bash scripts/install.sh reinstalls)"; exit 0; fi

pick_python() {
  for py in "${PYTHON:-}" python3.11 python3.12 python3.10 python3.13 python3; do
    [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then echo "$py"; return; fi
  done
  echo "error: petclassifier needs Python 3.10 or newer; install one or set PYTHON=/path/to/python3" >&2
  exit 1
}

if [ ! -x .venv/bin/python ]; then
  py=$(pick_python)
  echo "Creating .venv with $py ($("$py" --version 2>&1))"
  "$py" -m venv .venv
fi
if [ "$fresh" = 0 ] && ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "note: .venv has Python $(.venv/bin/python -c 'import platform; print(platform.python_version())'), and requirements.lock is for" \
       "3.11: resolving the requirements from settings.ini instead (--fresh). For the locked versions: rm -rf .venv," \
       "then PYTHON=python3.11 bash scripts/install.sh"
  fresh=1
  if [ "$if_needed" = 1 ] && up_to_date; then echo ".venv is up to date (bash scripts/install.sh reinstalls)"; exit 0; fi
fi
[ -s "$stamp" ] && [ "$(cat "$stamp")" != "$(mode)" ] && echo "note: .venv was installed otherwise ($(cut -c1-16 "$stamp")): installing $(mode | cut -c1-16) now"
rm -f "$stamp"
if [ "$fresh" = 1 ]; then
  echo "Installing petclassifier and the newest requirements settings.ini allows into .venv (torch is large: minutes)"
  .venv/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e ".[dev]"
else
  echo "Installing requirements.lock and petclassifier into .venv (torch is large: this takes a few minutes)"
  .venv/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
  .venv/bin/python -m pip install --quiet --no-deps -e .
fi
# --sys-prefix keeps the kernelspec inside this venv: other clones or venvs on the machine cannot hijack it.
.venv/bin/python -m ipykernel install --sys-prefix --name petclassifier --display-name "Python (petclassifier)" >/dev/null
mode > "$stamp"
echo "Installed. Kernel 'petclassifier' -> $(pwd)/.venv/bin/python"
echo "Next: bash scripts/run.sh   |   bash scripts/test.sh   |   .venv/bin/jupyter lab nbs/"
