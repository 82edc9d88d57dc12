"Shared fixtures: generated data that works everywhere, and the real offline sample where it exists."
import os
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
                   second_run='runner-tiny', tracked='track')

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
