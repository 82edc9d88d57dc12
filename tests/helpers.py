"Helpers for tests that drive the command line."
import io, json, os, subprocess, sys, contextlib
from pathlib import Path
import numpy as np
from PIL import Image

def cli(*args, env=None, cwd=None, timeout=1200):
    "Run `python -m petclassifier ARGS`; returns the CompletedProcess (text)."
    e = {**os.environ, 'MPLBACKEND': 'Agg', **(env or {})}
    return subprocess.run([sys.executable, '-m', 'petclassifier', *map(str, args)], capture_output=True, text=True,
                          env=e, cwd=cwd, timeout=timeout)

def main_in_process(*argv) -> tuple:
    "`petclassifier ARGV` in this process (no interpreter start, imports paid once): (exit status, stdout, stderr)."
    from petclassifier.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()

def run_folders(runs_dir):
    return sorted(p for p in Path(runs_dir).iterdir() if (p/'status.json').exists())

def status(run): return json.loads((Path(run)/'status.json').read_text())

def assert_png_real(p):
    "The PNG decodes, has a sensible size and is not a blank canvas."
    im = np.asarray(Image.open(p).convert('L'), dtype=float)
    assert im.shape[0] > 100 and im.shape[1] > 100, (p, im.shape)
    assert im.std() > 5, f"{p} looks blank"

def snapshot(folder):
    "Bytes of every file under `folder`, by relative path."
    return {q.relative_to(folder).as_posix(): q.read_bytes() for q in sorted(Path(folder).rglob('*')) if q.is_file()}
