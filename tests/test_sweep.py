"""`petclassifier sweep` on Ray, for real: on a cluster started here the way a user starts one (`ray start --head`),
with a failing configuration that a resume corrects, and on the local Ray instance a sweep starts by itself.
Tiny runs on generated images; each test takes minutes."""
import json, os, secrets, shutil, socket, subprocess, sys, tempfile
from pathlib import Path
import pytest
from petclassifier.data import make_synthetic_pets
from petclassifier.sweep import load_sweep, sweep_file, ray_leftovers
from helpers import cli, run_folders, status, snapshot, assert_png_real

RAY = Path(sys.executable).parent/'ray'
FAILED = 1

@pytest.fixture(scope='session')
def data(tmp_path_factory):
    return make_synthetic_pets(tmp_path_factory.mktemp('sweep-data')/'pets')

@pytest.fixture
def ray_tmp():
    "A Ray temp folder of this test only; every process that names it is stopped at the end, whatever happened."
    d = tempfile.mkdtemp(prefix='rs-', dir='/tmp')  # short: Ray's socket paths must fit in 107 characters
    yield d
    ray_leftovers(d, kill=True)  # by the processes' ids: `ray stop` would stop every Ray cluster of this machine
    shutil.rmtree(d, ignore_errors=True)

def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture
def cluster(ray_tmp):
    "`(address, environment)` of a 2-CPU cluster; token authentication with a token of its own (not ~/.ray's)."
    auth = dict(RAY_AUTH_MODE='token', RAY_AUTH_TOKEN=secrets.token_hex(32))
    for attempt in range(3):  # on a loaded machine Ray's head may time out while starting: stop what it left, try again
        port = _free_port()
        r = subprocess.run([str(RAY), 'start', '--head', '--node-ip-address', '127.0.0.1', '--port', str(port),
                            '--num-cpus', '2', '--include-dashboard', 'false', '--temp-dir', ray_tmp, '--disable-usage-stats'],
                           capture_output=True, text=True, timeout=300, env={**os.environ, **auth, 'RAY_USAGE_STATS_ENABLED': '0'})
        if r.returncode == 0 or 'timed out during startup' not in r.stdout + r.stderr: break
        ray_leftovers(ray_tmp, kill=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return f'127.0.0.1:{port}', auth

def _sweep_folder(out):
    return Path(next(l for l in out.splitlines() if l.startswith('sweep folder:')).split(':', 1)[1].strip())

def test_sweep_on_a_cluster_and_resume(data, cluster, tmp_path):
    "lr_lo=0.5 passes validation (no lr_hi to compare with) but 02_lr_find refuses it: that configuration fails."
    (address, auth), runs = cluster, tmp_path/'shared'
    r = cli('sweep', '--profile', 'tiny', '--data', data, '--seeds', '0', '1', '--grid', 'lr_lo=None,0.5',
            '--address', address, '--runs-dir', runs, env=auth)
    assert r.returncode == FAILED, r.stdout[-3000:] + r.stderr[-3000:]
    sweep = _sweep_folder(r.stdout)
    assert sweep.parent == runs and r.stdout.strip().splitlines()[-1] == f"report: {sweep/'sweep.html'}", r.stdout + r.stderr
    d, recs = load_sweep(sweep)
    assert d['grid'] == {'lr_lo': [None, 0.5]} and d['seeds'] == [0, 1]
    assert [(x['config']['lr_lo'], x['seed'], x['status']) for x in recs] == \
           [(None, 0, 'succeeded'), (None, 1, 'succeeded'), (0.5, 0, 'failed'), (0.5, 1, 'failed')]
    assert all('02_lr_find' in x['error'] and 'lr_lo=0.5' in x['error'] for x in recs[2:]), recs
    assert 'run 003 seed 0 failed' in r.stderr and f'--resume {sweep}' in r.stderr
    folders = run_folders(sweep/'runs')
    assert len(folders) == 4 and {sweep/x['run_dir'] for x in recs} == set(folders)
    assert all(x['run_dir'].endswith(f"-tiny-{x['id']}") for x in recs), recs  # the folders the sweep named
    assert all(status(sweep/x['run_dir'])['status'] == x['status'] for x in recs)
    assert [json.loads((sweep/x['run_dir']/'params.json').read_text())['parameters']['train_seed'] for x in recs] == [0, 1, 0, 1]
    md = (sweep/'sweep.md').read_text()
    assert '| lr_lo=None | 0 1 | 2/2 |' in md and '| lr_lo=0.5 | 0 1 | 0/2 |' in md, md
    assert f"[report]({recs[0]['run_dir']}/report.html)" in md
    assert f'href="{recs[1]["run_dir"]}/report.html"' in (sweep/'sweep.html').read_text()
    assert_png_real(sweep/'sweep.png')
    done = {x['run_dir']: snapshot(sweep/x['run_dir']) for x in recs[:2]}

    # a correction for the failed configuration only; the succeeded runs are not touched
    r = cli('sweep', '--resume', sweep, '--set', 'lr_hi=0.6', '--address', address, env=auth)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    d, recs = load_sweep(sweep)
    assert d['resumes'][0]['runs'] == ['003', '004'] and d['resumes'][0]['corrections'] == {'lr_hi': 0.6}
    assert all(x['status'] == 'succeeded' for x in recs)
    assert all(x['attempts'][0]['status'] == 'failed' and x['corrections'] == {'lr_hi': 0.6} for x in recs[2:])
    assert len(run_folders(sweep/'runs')) == 4  # resumed in their own folders (the runner's --resume)
    for x in recs[2:]:
        prm = json.loads((sweep/x['run_dir']/'params.json').read_text())
        assert prm['resumes'][0]['from_notebook'] == '02_lr_find' and prm['parameters']['lr_hi'] == 0.6
    assert {k: snapshot(sweep/k) for k in done} == done
    assert '| lr_lo=0.5 | 0 1 | 2/2 |' in (sweep/'sweep.md').read_text()

    r = cli('sweep', '--resume', sweep, '--address', address, env=auth)
    assert r.returncode == 2 and 'nothing to resume' in r.stderr

def test_sweep_on_its_own_local_instance(data, ray_tmp, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != 'RAY_ADDRESS'}
    env['RAY_TMPDIR'] = ray_tmp
    p = subprocess.run([sys.executable, '-m', 'petclassifier', 'sweep', '--profile', 'tiny', '--data', str(data), '--seeds', '3', '4',
                        '--runs-dir', str(tmp_path/'runs')], capture_output=True, text=True, timeout=1800, env={**env, 'MPLBACKEND': 'Agg'})
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert 'a local instance' in p.stdout
    sweep = _sweep_folder(p.stdout)
    _, recs = load_sweep(sweep)
    assert [x['status'] for x in recs] == ['succeeded'] * 2 and all(x['metrics'].get('final_error_rate') is not None for x in recs)
    assert (sweep/'sweep.html').is_file() and '| profile values | 3 4 | 2/2 |' in (sweep/'sweep.md').read_text()
    assert list(Path(ray_tmp).glob('ray/session_*')), 'the local instance did not use RAY_TMPDIR'
    assert ray_leftovers(ray_tmp) == [], 'Ray processes of the local instance outlived the sweep'
