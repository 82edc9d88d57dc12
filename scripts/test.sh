#!/usr/bin/env bash
# Run the whole test suite (pytest, which also runs nbdev_test and the hygiene checks) in ./.venv.
# Usage: bash scripts/test.sh [pytest arguments, e.g. tests/test_data.py -x]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  echo "error: .venv is missing; run 'bash scripts/install.sh' first" >&2
  exit 1
fi
export MPLBACKEND=Agg PYTHONUNBUFFERED=1
has_path=0
for a in "$@"; do case "$a" in tests*|*.py|*::*) has_path=1;; esac; done
[ "$has_path" = 1 ] || set -- tests "$@"
exec .venv/bin/python -m pytest "$@"
