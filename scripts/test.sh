#!/usr/bin/env bash
# Run the whole test suite (pytest, which also runs nbdev_test and the hygiene checks) in ./.venv,
# installing into .venv first when it is missing or out of date (scripts/install.sh --if-needed).
# Usage: bash scripts/test.sh [pytest arguments, e.g. tests/test_hygiene.py -x]
set -euo pipefail
cd "$(dirname "$0")/.."
# Every temporary file of the suite (the install's, the notebooks' checks, the kernels, Ray's local instance,
# pytest's own folders) goes into one folder made for this run and removed after it, whatever the outcome: a suite
# leaves nothing in /tmp. PETCLASSIFIER_KEEP_TEST_FILES=1 keeps it, to look into a failure. The path is short: Ray's
# socket paths must fit in 107 characters.
tmp_root=$(mktemp -d /tmp/pct-XXXXXX)
export TMPDIR="$tmp_root"
finish() {
  local rc=$?
  if [ "${PETCLASSIFIER_KEEP_TEST_FILES:-0}" = 1 ]; then
    echo "The suite's temporary files are kept in $tmp_root (PETCLASSIFIER_KEEP_TEST_FILES=1): remove it when done"
  else
    rm -rf "$tmp_root"
    [ "$rc" = 0 ] || echo "The suite's temporary files were removed;" \
      "PETCLASSIFIER_KEEP_TEST_FILES=1 keeps them to look into a failure"
  fi
}
trap finish EXIT
bash scripts/install.sh --if-needed
export MPLBACKEND=Agg PYTHONUNBUFFERED=1
has_path=0 has_workers=0
for a in "$@"; do case "$a" in tests*|*.py|*::*) has_path=1;; -n|-n*|--numprocesses*) has_workers=1;; esac; done
[ "$has_path" = 1 ] || set -- tests "$@"
# pytest-xdist workers: one per core, at most 4 ($PETCLASSIFIER_TEST_WORKERS to choose; 0: none). Much of the suite
# waits on kernels starting and notebooks being written, so even 2 cores run 2 tests at once to good effect; the
# tests that share a run of the series stay together on one worker (SHARED_RUNS in tests/conftest.py).
cores=$(nproc 2>/dev/null || echo 1)
workers=${PETCLASSIFIER_TEST_WORKERS:-$(( cores < 4 ? cores : 4 ))}
if [ "$has_workers" = 0 ] && [ "$workers" -gt 0 ]; then set -- -n "$workers" --dist loadgroup "$@"; fi
# Each worker trains with its share of the cores (as a sweep's runs do): two workers each running a thread per core on
# 2 cores took 185 s for 01_fit_head's smoke run instead of 73 s. $OMP_NUM_THREADS, when set, is kept.
if [ "$has_workers" = 0 ] && [ "$workers" -gt 1 ] && [ -z "${OMP_NUM_THREADS:-}" ]; then
  export OMP_NUM_THREADS=$(( cores / workers > 1 ? cores / workers : 1 ))
fi
# pytest's status is the script's (set -e), and `finish` removes the folder either way
.venv/bin/python -m pytest --basetemp="$tmp_root/pytest" "$@"
