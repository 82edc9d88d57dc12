"nbdev_test: every notebook's tests pass offline (cells marked slow or cuda are skipped)."
import os, subprocess, sys
from pathlib import Path
from conftest import ROOT

def test_nbdev_test():
    env = {**os.environ, 'MPLBACKEND': 'Agg'}
    r = subprocess.run([str(Path(sys.executable).parent/'nbdev_test'), '--timing'], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=1200)
    print(r.stdout)
    assert r.returncode == 0, r.stderr[-5000:]
