#!/usr/bin/env bash
# The series in one command: install into ./.venv when needed (scripts/install.sh --if-needed), then
# `python -m petclassifier run`, whose last line is the path of the run's report.html.
# Usage: bash scripts/run.sh [options of petclassifier run, e.g. --set epochs_head=2, --profile tutorial, --data DIR]
# Without --profile, --data or --resume it runs the smoke profile on the best data it finds: $PETCLASSIFIER_SAMPLE,
# else ../shared/data/oxford-iiit-pet-sample/images beside the clone, else what 00_data finds on its own
# ($PETCLASSIFIER_DATA, fastai's copy, a download, else generated images with a loud banner).
set -euo pipefail
cd "$(dirname "$0")/.."

given() {  # given PATTERN ARGS...: is one of ARGS matched by the glob PATTERN?
  local pat=$1; shift
  for a in "$@"; do case "$a" in $pat) return 0;; esac; done
  return 1
}

if given '-h' "$@" || given '--help' "$@"; then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
  if [ -x .venv/bin/python ]; then echo; exec .venv/bin/python -m petclassifier run --help; fi
  exit 0
fi

defaults=()
if ! given '--resume*' "$@" && ! given '--profile*' "$@"; then
  defaults=(--profile smoke)
  if ! given '--data*' "$@" && ! given '*data_path=*' "$@"; then
    if [ -n "${PETCLASSIFIER_SAMPLE:-}" ]; then
      [ -d "$PETCLASSIFIER_SAMPLE" ] || { echo "error: PETCLASSIFIER_SAMPLE=$PETCLASSIFIER_SAMPLE is not a folder: fix or unset it" >&2; exit 2; }
      defaults+=(--data "$PETCLASSIFIER_SAMPLE")
    elif [ -d ../shared/data/oxford-iiit-pet-sample/images ]; then
      defaults+=(--data "$(cd ../shared/data/oxford-iiit-pet-sample/images && pwd)")
    fi
  fi
fi

bash scripts/install.sh --if-needed
echo "petclassifier run" "${defaults[@]}" "$@"
export PYTHONUNBUFFERED=1
exec .venv/bin/python -m petclassifier run "${defaults[@]}" "$@"  # its last line is the path of report.html
