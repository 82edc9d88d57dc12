#!/usr/bin/env bash
# Run the whole test suite (pytest, which also runs nbdev_test and the hygiene checks) in ./.venv.
# Usage: bash scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  echo "error: .venv is missing; run 'bash scripts/install.sh' first" >&2
  exit 1
fi
export MPLBACKEND=Agg PYTHONUNBUFFERED=1
exec .venv/bin/python -m pytest tests "$@"
