"""scripts/install.sh --if-needed, scripts/run.sh's defaults and scripts/test.sh's temporary folder, in a copy of the scripts whose .venv python is a
stand-in: it records pip, ipykernel and petclassifier calls instead of making them (no install, no training)."""
import os, shutil, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import ROOT

FAKE = """#!/bin/bash
log="$(dirname "$0")/../calls.log"
case "$1 $2" in
  "-m pip"|"-m ipykernel") echo "$*" >> "$log"; exit 0;;
  "-m pytest") echo "$* OMP=${OMP_NUM_THREADS:-} TMPDIR=$TMPDIR" >> "$log"; touch "$TMPDIR/left-behind"; exit ${FAKE_RC:-0};;
  "-m petclassifier") echo "$*" >> "$log"; echo "run folder: /r"; echo "report: /r/report.html"; exit ${FAKE_RC:-0};;
esac
if [ -n "$FAKE_VERSION" ] && [ "$1" = -c ]; then  # another Python than the one running the tests
  case "$2" in *version_info*) exit 1;; *python_version*) echo "$FAKE_VERSION"; exit 0;; esac
fi
exec %s "$@"
"""

@pytest.fixture
def proj(tmp_path):
    p = tmp_path/'clone'
    (p/'scripts').mkdir(parents=True)
    for f in ['install.sh', 'run.sh', 'test.sh']: shutil.copy(ROOT/'scripts'/f, p/'scripts'/f)
    for f in ['setup.py', 'settings.ini', 'requirements.lock']: shutil.copy(ROOT/f, p/f)
    (p/'.venv'/'bin').mkdir(parents=True)
    py = p/'.venv'/'bin'/'python'
    py.write_text(FAKE % sys.executable); py.chmod(0o755)
    return p

def sh(proj, script, *args, **env):
    e = {k: v for k, v in os.environ.items() if k not in ('PETCLASSIFIER_SAMPLE', 'OMP_NUM_THREADS')}
    r = subprocess.run(['bash', f'scripts/{script}', *args], cwd=proj, env={**e, **env}, capture_output=True, text=True)
    log = proj/'.venv'/'calls.log'
    calls = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return r, calls

LOCKED = ['-m pip install --quiet --require-hashes --no-deps -r requirements.lock', '-m pip install --quiet --no-deps -e .']
FRESH = '-m pip install --quiet --upgrade --upgrade-strategy eager -e .[dev]'

def test_install_if_needed(proj):
    r, calls = sh(proj, 'install.sh', '--if-needed')  # no stamp yet: installs the lock, then the project
    assert r.returncode == 0 and calls[:2] == LOCKED and calls[2].startswith('-m ipykernel install'), (calls, r.stderr)
    assert (proj/'.venv'/'.petclassifier-installed').exists()
    r, calls = sh(proj, 'install.sh', '--if-needed')
    assert r.returncode == 0 and calls == [] and 'up to date' in r.stdout
    for i, f in enumerate(['settings.ini', 'requirements.lock']):  # the requirements changed, or the lock did
        later = time.time() + 5 * (i + 1)
        os.utime(proj/f, (later, later))
        r, calls = sh(proj, 'install.sh', '--if-needed')
        assert len(calls) == 3, (f, calls)
    r, calls = sh(proj, 'install.sh')  # without --if-needed: always
    assert len(calls) == 3
    r, calls = sh(proj, 'install.sh', '--fresh')  # resolved afresh from settings.ini, not the lock
    assert calls[0] == FRESH and len(calls) == 2, calls
    assert (proj/'.venv'/'.petclassifier-installed').read_text().strip() == 'fresh'
    r, calls = sh(proj, 'install.sh', '--if-needed')  # a fresh .venv is not the lock: installed again, and said
    assert calls[:2] == LOCKED and 'installed otherwise (fresh)' in r.stdout, (calls, r.stdout)
    r, calls = sh(proj, 'install.sh', FAKE_VERSION='3.12.1')  # the lock is for 3.11: resolved afresh, and said
    assert r.returncode == 0 and calls[0] == FRESH and 'Python 3.12.1, and requirements.lock is for 3.11' in r.stdout, (calls, r.stdout)
    r, _ = sh(proj, 'install.sh', '--ifneeded')
    assert r.returncode == 2 and 'unknown argument' in r.stderr

def test_run_defaults(proj, tmp_path):
    sh(proj, 'install.sh')
    sample = tmp_path/'sample'; sample.mkdir()
    r, calls = sh(proj, 'run.sh', '--set', 'bs=8', PETCLASSIFIER_SAMPLE=str(sample))
    assert r.returncode == 0 and calls == [f'-m petclassifier run --profile smoke --data {sample} --set bs=8'], (calls, r.stderr)
    assert r.stdout.splitlines()[-1] == 'report: /r/report.html'
    _, calls = sh(proj, 'run.sh', '--profile', 'tutorial', PETCLASSIFIER_SAMPLE=str(sample))
    assert calls == ['-m petclassifier run --profile tutorial']
    _, calls = sh(proj, 'run.sh', '--resume', 'runs/x', PETCLASSIFIER_SAMPLE=str(sample))
    assert calls == ['-m petclassifier run --resume runs/x']
    _, calls = sh(proj, 'run.sh', '--data', 'pets')  # no sample anywhere, data given
    assert calls == ['-m petclassifier run --profile smoke --data pets']
    r, calls = sh(proj, 'run.sh', FAKE_RC='1')
    assert r.returncode == 1 and calls == ['-m petclassifier run --profile smoke']  # the runner's status is the script's
    r, calls = sh(proj, 'run.sh', PETCLASSIFIER_SAMPLE=str(tmp_path/'nope'))
    assert r.returncode == 2 and 'PETCLASSIFIER_SAMPLE' in r.stderr and calls == []

def test_suite_temporary_files(proj):
    "The suite's temporary files (TMPDIR, pytest's basetemp) lie in one folder that is removed after it, pass or fail."
    sh(proj, 'install.sh')
    run = lambda **env: sh(proj, 'test.sh', 'tests/test_x.py', PETCLASSIFIER_TEST_WORKERS='0', **env)
    r, (call,) = run()
    tmp = Path(call.split('TMPDIR=')[1])
    assert r.returncode == 0 and call.startswith(f'-m pytest --basetemp={tmp}/pytest tests/test_x.py'), call
    assert tmp.parent == Path('/tmp') and not tmp.exists()
    r, (call,) = run(FAKE_RC='1')
    assert r.returncode == 1 and not Path(call.split('TMPDIR=')[1]).exists()
    assert 'PETCLASSIFIER_KEEP_TEST_FILES=1 keeps them' in r.stdout, r.stdout
    r, (call,) = run(FAKE_RC='1', PETCLASSIFIER_KEEP_TEST_FILES='1')
    tmp = Path(call.split('TMPDIR=')[1])
    try: assert r.returncode == 1 and (tmp/'left-behind').exists() and f'kept in {tmp}' in r.stdout, r.stdout
    finally: shutil.rmtree(tmp, ignore_errors=True)

def test_suite_threads(proj):
    "With several pytest-xdist workers each gets its share of the cores for training; a value the user set is kept."
    sh(proj, 'install.sh')
    share = max(1, (os.cpu_count() or 1) // 2)
    _, (call,) = sh(proj, 'test.sh', 'tests/test_x.py', PETCLASSIFIER_TEST_WORKERS='2')
    assert call.startswith('-m pytest --basetemp=') and '-n 2 --dist loadgroup tests/test_x.py' in call and f'OMP={share} ' in call, call
    _, (call,) = sh(proj, 'test.sh', 'tests/test_x.py', PETCLASSIFIER_TEST_WORKERS='2', OMP_NUM_THREADS='3')
    assert 'OMP=3 ' in call, call
    _, (call,) = sh(proj, 'test.sh', 'tests/test_x.py', PETCLASSIFIER_TEST_WORKERS='0')
    assert 'OMP= ' in call and ' -n ' not in call, call
