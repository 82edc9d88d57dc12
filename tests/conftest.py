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

@pytest.fixture(scope='session', autouse=True)
def image_cache(tmp_path_factory):
    "Every test (and every notebook a test runs) uses a fresh image cache, never the user's."
    d = tmp_path_factory.mktemp('image-cache')
    old = os.environ.get('PETCLASSIFIER_CACHE')
    os.environ['PETCLASSIFIER_CACHE'] = str(d)
    yield d
    if old is None: os.environ.pop('PETCLASSIFIER_CACHE', None)
    else: os.environ['PETCLASSIFIER_CACHE'] = old
