#!/usr/bin/env bash
# Download, as wheels, every package of ./.venv except PyTorch, torchvision, timm, matplotlib and the CUDA libraries
# (a GPU machine has those), into .gpu-wheels/ for bench/gpu.py on a machine without network. See bench/gpu.py.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "error: .venv is missing: run bash scripts/install.sh first" >&2; exit 1; }
mkdir -p .gpu-wheels
.venv/bin/pip freeze --exclude-editable | grep -v -i -E '^(torch|torchvision|timm|matplotlib|numpy|triton|nvidia-)' > .gpu-wheels/requirements.txt
.venv/bin/pip download --quiet --no-deps --only-binary=:all: -d .gpu-wheels -r .gpu-wheels/requirements.txt
echo "$(ls .gpu-wheels/*.whl | wc -l) wheels in .gpu-wheels/ (python $(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])'): the GPU machine's python must match)"
