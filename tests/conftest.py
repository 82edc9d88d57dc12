"Shared fixtures: generated data that works everywhere, and the real offline sample where it exists."
import os, json
from pathlib import Path
import pytest
from petclassifier.data import make_synthetic_pets

ROOT = Path(__file__).resolve().parent.parent

def sample_dir():
    "The real Oxford-IIIT Pet sample: $PETCLASSIFIER_SAMPLE, else ../shared beside the repository, else None."
    for p in (os.getenv('PETCLASSIFIER_SAMPLE'), ROOT.parent/'shared/data/oxford-iiit-pet-sample/images'):
        if p and Path(p).is_dir(): return Path(p)
    return None

@pytest.fixture(scope='session')
def sample():
    p = sample_dir()
    if p is None: pytest.skip('the real Oxford-IIIT Pet sample is not available here')
    return p

@pytest.fixture
def pets(tmp_path):
    "A small synthetic image folder (4 breeds x 8 images, 64 px)."
    return make_synthetic_pets(tmp_path/'pets')

def _own_folder(tmp_path_factory, var:str, name:str):
    "Point $`var` at a fresh folder for the whole session, then put the user's value back."
    d, old = tmp_path_factory.mktemp(name), os.environ.get(var)
    os.environ[var] = str(d)
    yield d
    if old is None: os.environ.pop(var, None)
    else: os.environ[var] = old

@pytest.fixture(scope='session', autouse=True)
def image_cache(tmp_path_factory):
    "Every test (and every notebook a test runs) uses a fresh image cache, never the user's."
    yield from _own_folder(tmp_path_factory, 'PETCLASSIFIER_CACHE', 'image-cache')

@pytest.fixture(scope='session', autouse=True)
def config_folder(tmp_path_factory):
    "Every test (and every notebook a test runs) signs and verifies models with a key of its own, never the user's."
    yield from _own_folder(tmp_path_factory, 'PETCLASSIFIER_CONFIG', 'config')

def pytest_configure(config):
    config.addinivalue_line('markers', 'browser: drives headless Chromium (skipped where no chromium is installed)')

# Fixtures that run the series (minutes each) -> the group of tests that share them. scripts/test.sh runs the suite
# on several pytest-xdist workers with `--dist loadgroup`: the tests of one group go to one worker, so each of these
# fixtures runs once, and its tests run in file order (a test that checks nothing changed the runs comes last).
# These fixtures are session-scoped: a worker may run other modules' tests between two tests of a group, and pytest
# would tear a module-scoped fixture down (and make it again) at each such switch.
SHARED_RUNS = dict(chain='chain', chain_site='chain', earlier='reliability-earlier', failed_then_resumed='runner-tiny',
                   second_run='runner-tiny', reused='runner-tiny', tracked='track')

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        groups = {SHARED_RUNS[f] for f in getattr(item, 'fixturenames', ()) if f in SHARED_RUNS}
        assert len(groups) <= 1, f"{item.nodeid} uses the shared runs of {groups}: one group per test"
        for g in groups: item.add_marker(pytest.mark.xdist_group(g))

# the series as a new user first runs it: the smoke profile (EfficientNet-Lite0 with offline ImageNet weights)
CHAIN = ['--profile', 'smoke']

@pytest.fixture(scope='session')
def chain(tmp_path_factory):
    "One run of the whole series (a few minutes), shared by every test module that needs a run folder."
    from helpers import cli, run_folders
    base = tmp_path_factory.mktemp('chain')
    real = sample_dir()
    data = real or make_synthetic_pets(base/'synthetic', n_breeds=4, n_per_breed=12, size=96)
    r = cli('run', *CHAIN, '--data', data, '--runs-dir', base/'runs')
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (run,) = run_folders(base/'runs')
    return dict(run=run, data=data, real=real is not None, out=r.stdout)

@pytest.fixture(scope='session')
def chain_site(chain):
    "The documentation site of the shared run, built by `petclassifier docs` into its default place, RUN/site."
    from helpers import cli
    r = cli('docs', chain['run'])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    site = chain['run']/'site'
    assert r.stdout.strip().splitlines()[-1] == f"site: {site/'index.html'}", r.stdout
    return site

# the runner's tests on tiny generated data (test_runner.py, and the app's bundle in test_app.py)
TINY = ['--profile', 'tiny']

@pytest.fixture(scope='session')
def tiny(tmp_path_factory):
    base = tmp_path_factory.mktemp('tiny')
    return dict(base=base, data=make_synthetic_pets(base/'pets', n_breeds=4, n_per_breed=8, size=64), runs=base/'runs')

@pytest.fixture(scope='session')
def failed_then_resumed(tiny):
    "A run made to fail in 02 (lr_lo above the head's rate, the finder's valley), then resumed with a correction."
    from helpers import cli, run_folders, status
    r1 = cli('run', *TINY, '--data', tiny['data'], '--runs-dir', tiny['runs'], '--set', 'lr_lo=0.5')
    (run,) = run_folders(tiny['runs'])
    st1 = status(run)
    partial = (run/'notebooks'/'02_lr_find.ipynb').read_text()
    card_after_failure = (run/'model_card.md').exists()
    reports_after_failure = (run/'report.md').read_text(), (run/'report.html').read_text()
    # both ends given: on random images the finder's valley can land anywhere, even below 1e-5
    r2 = cli('run', '--resume', run, '--set', 'lr_lo=1e-5', '--set', 'lr_hi=1e-3')
    return dict(r1=r1, st1=st1, partial=partial, r2=r2, run=run, card_after_failure=card_after_failure,
                reports_after_failure=reports_after_failure)

def no_data_env(tiny) -> dict:
    "An environment where no images can be found or downloaded: the tiny profile generates them in the run folder."
    proxy = 'http://127.0.0.1:9'
    return dict(PETCLASSIFIER_DATA='', FASTAI_HOME=str(tiny['base']/'fastai'), HTTPS_PROXY=proxy, HTTP_PROXY=proxy,
                https_proxy=proxy, http_proxy=proxy)

@pytest.fixture(scope='session')
def second_run(tiny, failed_then_resumed):
    "A second run into the same runs folder, with no data anywhere: the tiny profile generates images, and says so."
    from helpers import cli, run_folders, snapshot
    first = snapshot(failed_then_resumed['run'])
    r = cli('run', *TINY, '--runs-dir', tiny['runs'], env=no_data_env(tiny))
    assert r.returncode == 0, r.stderr[-2000:]
    (run,) = [p for p in run_folders(tiny['runs']) if p != failed_then_resumed['run']]
    return dict(r=r, run=run, first_before=first)

@pytest.fixture(scope='session')
def reused(tiny, second_run, tmp_path_factory):
    """Two new runs from the second run with --reuse: one with 04_interpret's k changed, one with a cell of 02_lr_find
    edited (in a copy of the notebooks), each into a runs folder of its own."""
    import shutil, hashlib
    from helpers import cli, run_folders
    from petclassifier.params import nbs_dir
    base, old = tmp_path_factory.mktemp('reuse'), second_run['run']
    sums = lambda run: {p.relative_to(run).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(run.rglob('*')) if p.is_file()}
    before = sums(old)
    k = cli('run', *TINY, '--runs-dir', base/'k', '--reuse', old, '--set', 'k=2', env=no_data_env(tiny))
    nbs = shutil.copytree(nbs_dir(), base/'nbs')
    nb = json.loads((nbs/'02_lr_find.ipynb').read_text())
    cell = next(c for c in nb['cells'] if 'lo, hi = pick_lr_range(' in ''.join(c['source']))
    cell['source'] = ''.join(cell['source']) + "\nprint(f'the range: {lo:.2e} to {hi:.2e}')"
    (nbs/'02_lr_find.ipynb').write_text(json.dumps(nb))
    edited = cli('run', *TINY, '--runs-dir', base/'edited', '--reuse', old, env=dict(no_data_env(tiny), PETCLASSIFIER_NBS=str(nbs)))
    return dict(old=old, k=k, edited=edited, k_run=run_folders(base/'k')[0] if k.returncode == 0 else None,
                edited_run=run_folders(base/'edited')[0] if edited.returncode == 0 else None, old_unchanged=sums(old) == before)
