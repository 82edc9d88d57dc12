#!/usr/bin/env bash
# Write requirements.lock: every distribution that `pip install -e '.[dev]'` installs, pinned, with its hashes, for
# the platform this project is installed and tested on (Linux x86_64, Python 3.11). scripts/install.sh installs from it.
# Usage: bash scripts/lock.sh                  keep the locked versions that still satisfy settings.ini, add what is new
#        bash scripts/lock.sh --upgrade        the newest releases settings.ini and scripts/lock-constraints.txt allow
#        bash scripts/lock.sh --upgrade-package NAME   only NAME (and what it needs) to its newest release
# Needs uv (pip install uv): it resolves from PyPI in seconds and reads hashes from the index without downloading.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
uv=$(command -v uv || true)
[ -n "$uv" ] || { [ -x .venv/bin/uv ] && uv=.venv/bin/uv; } || true
if [ -z "$uv" ]; then echo "error: scripts/lock.sh needs uv: pip install uv (into .venv or anywhere on PATH)" >&2; exit 2; fi
# the existing lock is uv's preference: a version moves only when settings.ini or an --upgrade asks for it
"$uv" pip compile setup.py --extra dev --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
  -c scripts/lock-constraints.txt -o requirements.lock --no-progress "$@"
echo "requirements.lock: $(grep -c '^[A-Za-z0-9].*==' requirements.lock) distributions; install them with bash scripts/install.sh"
