#!/usr/bin/env bash
# Run the whole test suite (pytest, which also runs nbdev_test and the hygiene checks) in ./.venv,
# installing into .venv first when it is missing or out of date (scripts/install.sh --if-needed).
# Usage: bash scripts/test.sh [pytest arguments, e.g. tests/test_hygiene.py -x]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --if-needed
export MPLBACKEND=Agg PYTHONUNBUFFERED=1
has_path=0
for a in "$@"; do case "$a" in tests*|*.py|*::*) has_path=1;; esac; done
[ "$has_path" = 1 ] || set -- tests "$@"
exec .venv/bin/python -m pytest "$@"
