"The data module: labels, species, validation errors and their messages, the deterministic split."
import shutil
from pathlib import Path
import pytest, torch
from PIL import Image
from petclassifier.data import *

@pytest.mark.parametrize('name,breed', [
    ('Abyssinian_101.jpg', 'Abyssinian'), ('great_pyrenees_173.jpg', 'great_pyrenees'),
    ('american_pit_bull_terrier_2.jpg', 'american_pit_bull_terrier'), ('British_Shorthair_7.png', 'British_Shorthair'),
    ('/x/y/pug_12.jpeg', 'pug'), ('holiday.jpg', None), ('pug.jpg', None), ('pug_1', None), ('pug_x.jpg', None)])
def test_breed_of(name, breed):
    assert breed_of(name) == breed

def test_species():
    assert species_of('Bombay') == 'cat' and species_of('Maine_Coon') == 'cat'
    assert species_of('beagle') == 'dog' and species_of('staffordshire_bull_terrier') == 'dog'

def _problem(folder):
    with pytest.raises(PetError) as e: check_images(folder)
    return str(e.value)

def test_check_ok(pets):
    files = check_images(pets)
    assert len(files) == 32 and files == sorted(files)

def test_misnamed_and_corrupt_named_together(pets):
    (pets/'IMG-0001.jpg').write_bytes((pets/'pug_1.jpg').read_bytes())
    (pets/'beagle_50.jpg').write_bytes(b'\xff\xd8\xff\xe0' + b'\x00' * 100)
    msg = _problem(pets)
    assert '2 problem(s)' in msg and 'IMG-0001.jpg' in msg and 'beagle_50.jpg' in msg
    assert 'do not match <breed>_<number>.<ext>' in msg and 'not readable images' in msg

@pytest.mark.parametrize('content', [b'', b'just some text, not a picture\n'])
def test_unreadable(pets, content):
    (pets/'pug_99.jpg').write_bytes(content)
    assert 'pug_99.jpg' in _problem(pets)

def test_examples_are_capped_at_ten(pets):
    for i in range(15): (pets/f'photo{i}.jpg').write_bytes((pets/'pug_1.jpg').read_bytes())
    msg = _problem(pets)
    assert '15 file name(s)' in msg and '... and 5 more' in msg

def test_breed_with_one_image(pets):
    shutil.copy(pets/'pug_1.jpg', pets/'Sphynx_1.jpg')
    assert 'Sphynx: 1 image(s)' in _problem(pets)

def test_single_breed(tmp_path):
    p = make_synthetic_pets(tmp_path/'one', n_breeds=1)
    assert 'only 1 breed' in _problem(p)

def test_empty_folder(tmp_path):
    assert 'no images' in _problem(tmp_path)

def test_find_data_errors(tmp_path, pets):
    with pytest.raises(PetError, match='does not exist'): find_data(tmp_path/'nope')
    with pytest.raises(PetError, match='is a file'): find_data(pets/'pug_1.jpg')
    (tmp_path/'root').mkdir(); shutil.copytree(pets, tmp_path/'root'/'images')
    assert find_data(tmp_path/'root') == tmp_path/'root'/'images'

def test_offline_without_data_names_the_three_ways(monkeypatch, tmp_path):
    monkeypatch.delenv('PETCLASSIFIER_DATA', raising=False)
    monkeypatch.setenv('FASTAI_HOME', str(tmp_path/'fastai'))
    import petclassifier.data as d
    def offline(*a, **k): raise OSError('network is unreachable')
    monkeypatch.setattr(d, 'untar_data', offline)
    with pytest.raises(PetError) as e: find_data()
    msg = str(e.value)
    assert 'data_path=' in msg and 'PETCLASSIFIER_DATA' in msg and 'untar_data' in msg and '\n' not in msg
    assert is_synthetic(find_data(allow_synthetic=True, synthetic_dir=tmp_path/'syn'))

def test_split_is_deterministic(pets):
    kw = dict(item_size=64, size=32, bs=4, num_workers=0)
    a, b = pet_dls(pets, **kw), pet_dls(pets, **kw)
    assert list(a.valid.items) == list(b.valid.items) and len(a.valid.items) == round(32 * 0.2)
    assert set(a.valid.items).isdisjoint(a.train.items)

def test_split_does_not_depend_on_listing_order(pets, tmp_path):
    # the same files, created in another order, give the same validation set
    other = tmp_path/'other'; other.mkdir()
    for f in sorted(pets.glob('*.jpg'), reverse=True): shutil.copy(f, other/f.name)
    kw = dict(item_size=64, size=32, bs=4, num_workers=0)
    assert [f.name for f in pet_dls(pets, **kw).valid.items] == [f.name for f in pet_dls(other, **kw).valid.items]

def test_sample_split_is_deterministic(sample):
    kw = dict(item_size=64, size=32, bs=16, num_workers=0)
    assert list(pet_dls(sample, **kw).valid.items) == list(pet_dls(sample, **kw).valid.items)

def test_breed_table_on_sample(sample):
    t = breed_table(check_images(sample))
    assert len(t) == 37 and set(t.images) == {9} and (t.species == 'cat').sum() == 12

def test_bad_parameters(pets):
    with pytest.raises(PetError, match='valid_pct=1.5'): pet_dls(pets, valid_pct=1.5)
    with pytest.raises(PetError, match='size=0'): pet_dls(pets, size=0)
    with pytest.raises(PetError, match='bs=0'): pet_dls(pets, bs=0)

def test_data_record_roundtrip(pets, tmp_path):
    files = check_images(pets)
    save_data_record(tmp_path, pets, files, valid_pct=0.2, seed=100, item_size=64, size=32, min_scale=0.75,
                     bs=4, num_workers=0)
    dls = load_dls(tmp_path)
    assert list(dls.valid.items) == list(pet_dls(pets, item_size=64, size=32, bs=4, num_workers=0).valid.items)
    (tmp_path/'data.json').write_text('{"path": ')
    with pytest.raises(PetError, match='not valid JSON'): load_dls(tmp_path)

# --- the project's pipeline (training images sampled once in the workers, image cache) ---

def _files(folder): return sorted(p.relative_to(folder) for p in Path(folder).rglob('*'))

def test_pipeline_keeps_split_labels_and_validation_batches_on_sample(sample):
    "Split, labels and validation batches are fastai's, with or without the cache."
    kw = dict(item_size=160, size=128, bs=32, num_workers=0)
    ref = pet_dls(sample, fused_aug=False, **kw)
    for cache in (False, True):
        fast = pet_dls(sample, image_cache=cache, **kw)
        assert list(fast.train.items) == list(ref.train.items) and list(fast.valid.items) == list(ref.valid.items)
        assert list(fast.vocab) == list(ref.vocab)
        for (xf, yf), (xr, yr) in zip(fast.valid, ref.valid):
            assert torch.equal(yf, yr)
            assert (xf - xr).abs().max() < 1e-4
        xb, yb = fast.train.one_batch()
        assert xb.shape == (32, 3, 128, 128) and 0 <= xb.min() and xb.max() <= 1

def test_cache_lives_outside_the_data_folder(pets, image_cache):
    before = _files(pets)
    n0 = len(list(image_cache.glob('*.npy')))
    dls = pet_dls(pets, item_size=48, size=32, bs=8, num_workers=0)
    for _ in dls.train: pass
    assert _files(pets) == before  # nothing written beside the images
    assert len(list(image_cache.glob('*.npy'))) - n0 == len(dls.train.items)
    assert not list(image_cache.glob('*.tmp'))

def test_cache_follows_changed_images(pets, tmp_path, monkeypatch):
    monkeypatch.setenv('PETCLASSIFIER_CACHE', str(tmp_path/'cache'))
    f = sorted(pets.glob('*.jpg'))[0]
    a = presized_image(f, 48, tmp_path/'cache')
    Image.new('RGB', (64, 64), (255, 0, 0)).save(f)  # the file is replaced: new mtime and size
    b = presized_image(f, 48, tmp_path/'cache')
    assert not torch.equal(a, b) and b[0].float().mean() > 200 and b[1].float().mean() < 50
    assert len(list((tmp_path/'cache').glob('*.npy'))) == 2

def test_damaged_cache_entry_is_decoded_again(pets, tmp_path):
    f = sorted(pets.glob('*.jpg'))[0]
    a = presized_image(f, 48, tmp_path)
    entry = tmp_path/cache_key(f, 48)
    entry.write_bytes(b'half an entry')
    assert torch.equal(presized_image(f, 48, tmp_path), a)
    assert torch.equal(presized_image(f, 48, tmp_path), a)  # and the entry was replaced

def test_unwritable_cache_warns_once_and_goes_on(pets, tmp_path, monkeypatch):
    import petclassifier.data as d
    monkeypatch.setattr(d, '_cache_warned', False)
    blocker = tmp_path/'a-file'; blocker.write_text('x')
    f = sorted(pets.glob('*.jpg'))[0]
    with pytest.warns(UserWarning, match='cannot be written'):
        a = presized_image(f, 48, blocker/'cache')
    assert torch.equal(a, presized_image(f, 48))

def test_image_cache_false_writes_nothing(pets, tmp_path, monkeypatch):
    monkeypatch.setenv('PETCLASSIFIER_CACHE', str(tmp_path/'cache'))
    dls = pet_dls(pets, item_size=48, size=32, bs=8, num_workers=0, image_cache=False)
    for _ in dls.train: pass
    assert not (tmp_path/'cache').exists()
