"""`petclassifier sweep` on Ray, for real: on a cluster of two nodes started here the way a user starts one
(`ray start --head`, then `ray start --address` for the worker), with a failing configuration that a resume corrects and
a worker node stopped mid-sweep, and on the local Ray instance a sweep starts by itself.
Tiny runs on generated images; each test takes minutes."""
import json, os, secrets, shutil, socket, subprocess, sys, tempfile
from pathlib import Path
import psutil, pytest
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

def _ray_start(args:list, env:dict):
    "`ray start ARGS`; on a loaded machine a node may time out while starting: what it left is stopped, and it tries again."
    temp = args[args.index('--temp-dir') + 1]
    for attempt in range(3):
        r = subprocess.run([str(RAY), 'start', *args, '--disable-usage-stats'], capture_output=True, text=True, timeout=300,
                           env={**os.environ, **env, 'RAY_USAGE_STATS_ENABLED': '0'})
        if r.returncode == 0 or 'timed out during startup' not in r.stdout + r.stderr: break
        ray_leftovers(temp, kill=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]

def _node_id(temp:str) -> str:
    "Ray's id of the node whose processes use the temp folder `temp` (its raylet is started with --node_id=...)."
    for pid in ray_leftovers(temp):
        try: cmd = psutil.Process(pid).cmdline()
        except psutil.Error: continue
        ids = [a.split('=', 1)[1] for a in cmd if a.startswith('--node_id=')]
        if ids: return ids[0]
    raise AssertionError(f'no raylet uses {temp}')

@pytest.fixture
def cluster(ray_tmp):
    """`(address, environment, head, worker)` of a cluster of two nodes on this machine, one CPU each, as a user starts
    one (a head, then a worker that joins it); token authentication with a token of its own (not ~/.ray's). `head`
    and `worker` are `(node id, temp folder)`: each node keeps its own temp folder, so that one can be stopped alone."""
    auth = dict(RAY_AUTH_MODE='token', RAY_AUTH_TOKEN=secrets.token_hex(32))
    port, head, worker = _free_port(), f'{ray_tmp}/h', f'{ray_tmp}/w'  # short: socket paths must fit in 107 characters
    _ray_start(['--head', '--node-ip-address', '127.0.0.1', '--port', str(port), '--num-cpus', '1',
                '--include-dashboard', 'false', '--temp-dir', head], auth)
    _ray_start(['--address', f'127.0.0.1:{port}', '--node-ip-address', '127.0.0.1', '--num-cpus', '1',
                '--temp-dir', worker], auth)
    return f'127.0.0.1:{port}', auth, (_node_id(head), head), (_node_id(worker), worker)

def _sweep_folder(out):
    return Path(next(l for l in out.splitlines() if l.startswith('sweep folder:')).split(':', 1)[1].strip())

def _stop_in_second_run(p, runs, node:str, temp:str, timeout:float=1200) -> str:
    """Wait until `node` (one CPU) has started its second run of the sweep that `p` runs in `runs`, and that run has its
    run folder; then stop the node (every process of it, its tasks' runners too) and return the run's id."""
    import time
    t0 = time.time()
    while time.time() - t0 < timeout:
        assert p.poll() is None, 'the sweep ended before the worker node had a second run'
        notes = sorted(runs.glob('*-sweep-tiny/logs/*.node.json'))
        mine = [n for n in notes if json.loads(n.read_text()).get('node') == node]
        if len(mine) == 2:
            sweep, rid = mine[0].parents[1], max(n.name.split('.')[0] for n in mine)
            rec = next(x for x in load_sweep(sweep)[1] if x['id'] == rid)
            if rec['run_dir'] and (sweep/rec['run_dir']/'status.json').exists():
                assert ray_leftovers(temp, kill=True), f'no process of the node in {temp}'
                return rid
        time.sleep(0.5)
    raise AssertionError(f'the worker node had no second run within {timeout:.0f} s')

def test_sweep_on_two_nodes_and_resume(data, cluster, tmp_path):
    """Two configurations x seeds 0 1 on a head and a worker node, one run at a time on each: lr_lo=0.5 passes
    validation (no lr_hi to compare with) but 02_lr_find refuses it, so the first configuration's runs (001, 002)
    fail within seconds, one on each node, and each node then takes one run of the second (003, 004), which take
    longer: so the worker always has a second run. The worker node is stopped during it: that run fails with its
    node, and the resume (correcting lr_hi) completes it and the refused ones on the head."""
    (address, auth, (head, _), (worker, worker_tmp)), runs = cluster, tmp_path/'shared'
    args = ['sweep', '--profile', 'tiny', '--data', data, '--seeds', '0', '1', '--grid', 'lr_lo=0.5,None',
            '--address', address, '--runs-dir', runs]
    with open(tmp_path/'out', 'w+') as out, open(tmp_path/'err', 'w+') as err:
        p = subprocess.Popen([sys.executable, '-m', 'petclassifier', *map(str, args)], stdout=out, stderr=err,
                             env={**os.environ, 'MPLBACKEND': 'Agg', **auth})
        try: lost = _stop_in_second_run(p, runs, worker, worker_tmp)
        except BaseException:
            p.kill(); p.wait(60); out.seek(0); err.seek(0)
            print(f'sweep stdout:\n{out.read()[-3000:]}\nsweep stderr:\n{err.read()[-3000:]}')  # shown with the failure
            raise
        p.wait(timeout=1800)
        out.seek(0); err.seek(0); r = subprocess.CompletedProcess(args, p.returncode, out.read(), err.read())
    assert r.returncode == FAILED, r.stdout[-3000:] + r.stderr[-3000:]
    sweep = _sweep_folder(r.stdout)
    assert sweep.parent == runs and r.stdout.strip().splitlines()[-1] == f"report: {sweep/'sweep.html'}", r.stdout + r.stderr
    assert 'cluster 127.0.0.1' in r.stdout and '2 CPU(s)' in r.stdout and '2 at a time' in r.stdout, r.stdout
    d, recs = load_sweep(sweep)
    assert d['grid'] == {'lr_lo': [0.5, None]} and d['seeds'] == [0, 1]
    assert lost in ('003', '004')
    assert [(x['config']['lr_lo'], x['seed'], x['status']) for x in recs] == \
           [(0.5, 0, 'failed'), (0.5, 1, 'failed')] + [(None, s, 'failed' if x['id'] == lost else 'succeeded')
                                                      for s, x in zip((0, 1), recs[2:])]
    # the runs went to both nodes, one of each configuration on the worker: the refused one, then the lost one
    assert {x['node'] for x in recs} == {head, worker} and {x['node'] for x in recs[:2]} == {head, worker}, recs
    assert [x['id'] == lost for x in recs if x['node'] == worker] == [False, True], recs
    gone = next(x for x in recs if x['id'] == lost)
    assert gone['error'].startswith('the Ray task failed: '), gone
    assert all('02_lr_find' in x['error'] and 'lr_lo=0.5' in x['error'] for x in recs[:2]), recs
    assert f"run {lost} seed {gone['seed']} failed: the Ray task failed" in r.stderr and f'--resume {sweep}' in r.stderr
    # every run folder arrived in the shared folder, the worker's too, and says what its record says
    folders = run_folders(sweep/'runs')
    assert len(folders) == 4 and {sweep/x['run_dir'] for x in recs} == set(folders)
    assert all(x['run_dir'].endswith(f"-tiny-{x['id']}") for x in recs), recs  # the folders the sweep named
    assert all(status(sweep/x['run_dir'])['status'] == x['status'] for x in recs if x is not gone)
    assert status(sweep/gone['run_dir'])['status'] != 'succeeded'  # its runner was stopped, killed or failed
    assert [json.loads((sweep/x['run_dir']/'params.json').read_text())['parameters']['train_seed'] for x in recs] == [0, 1, 0, 1]
    md = (sweep/'sweep.md').read_text()
    assert '| lr_lo=None | 0 1 | 1/2 |' in md and '| lr_lo=0.5 | 0 1 | 0/2 |' in md, md
    kept = next(x for x in recs[2:] if x is not gone)
    assert f"[report]({kept['run_dir']}/report.html)" in md and f"node {worker[:8]})" in md
    assert f'href="{kept["run_dir"]}/report.html"' in (sweep/'sweep.html').read_text()
    assert_png_real(sweep/'sweep.png')
    done = {kept['run_dir']: snapshot(sweep/kept['run_dir'])}

    # a correction for every failed run, on what is left of the cluster; the succeeded run is not touched
    r = cli('sweep', '--resume', sweep, '--set', 'lr_hi=0.6', '--address', address, env=auth)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    d, recs = load_sweep(sweep)
    again = [x for x in recs if x['id'] != kept['id']]
    assert d['resumes'][0]['runs'] == ['001', '002', lost] and d['resumes'][0]['corrections'] == {'lr_hi': 0.6}
    assert all(x['status'] == 'succeeded' for x in recs) and all(x['node'] == head for x in again), recs
    assert all(x['attempts'][0]['status'] == 'failed' and x['corrections'] == {'lr_hi': 0.6} for x in again)
    assert next(x for x in recs if x['id'] == lost)['attempts'][0]['node'] == worker
    assert len(run_folders(sweep/'runs')) == 4  # resumed in their own folders (the runner's --resume)
    for x in again:
        prm = json.loads((sweep/x['run_dir']/'params.json').read_text())
        assert prm['parameters']['lr_hi'] == 0.6 and len(prm['resumes']) == 1
        assert x['id'] == lost or prm['resumes'][0]['from_notebook'] == '02_lr_find'
    assert {k: snapshot(sweep/k) for k in done} == done
    md = (sweep/'sweep.md').read_text()
    assert '| lr_lo=0.5 | 0 1 | 2/2 |' in md and '| lr_lo=None | 0 1 | 2/2 |' in md, md

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
