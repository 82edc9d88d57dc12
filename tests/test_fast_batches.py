"""Training batches of the fast pipeline (augmentation in the DataLoader workers): what seeds them.

A learner shown, bit for bit, the augmented batches it was trained on gets a tiny loss on them; the learning-rate
finder then sees its loss jump when fresh batches come and stops early. Every stage after the head used to get
exactly that: building the `DataLoaders` re-seeded torch's global generator (the split's seed), and 02/03 seeded
with the head's `train_seed`, so their first epoch was the head's first epoch again. These tests run real worker
processes, which the notebooks' own checks (num_workers=0) do not."""
import json, re, shutil
import pytest, torch
from fastai.vision.all import set_seed
import petclassifier.core as core
from petclassifier.data import make_synthetic_pets, pet_dls
from conftest import ROOT

KW = dict(item_size=48, size=32, bs=8, fast_data=True)

def first_epoch(path, num_workers):
    "The first epoch of training images, after building the DataLoaders as the stages do: {item index: image}."
    dls = pet_dls(path, num_workers=num_workers, **KW)
    xs = torch.cat([xb.as_subclass(torch.Tensor) for xb, _ in dls.train])
    return dict(zip(dls.train._DataLoader__idxs, xs))

@pytest.fixture
def twins(tmp_path):
    "Synthetic pets that are all the same picture: the n-th image drawn is the same whichever item the shuffle picks."
    p = make_synthetic_pets(tmp_path/'twins', n_breeds=4, n_per_breed=8, size=64)
    files = sorted(p.glob('*.jpg'))
    for f in files[1:]: shutil.copy(files[0], f)
    return p

@pytest.mark.parametrize('num_workers', [0, 2])
def test_the_seed_reaches_the_augmentation(twins, num_workers):
    "Same seed: the same batches; another seed: other crops, flips, rotations (all images are alike, only augmentation differs)."
    def run(s): set_seed(s); return torch.stack(list(first_epoch(twins, num_workers).values()))
    a, again, b = run(1), run(1), run(2)
    assert torch.equal(a, again)
    same = sum(torch.equal(x, y) for x, y in zip(a, b))
    assert same == 0, f"{same}/{len(a)} training images augmented identically under set_seed(1) and set_seed(2)"

def _stage_seed(nb, train_seed=42):
    "The seed the training step of notebook `nb` sets: `load_dls(..., seed=train_seed)` in 01, the stage seed of `restore_learner` after it."
    steps = '\n'.join(c for c in (''.join(c['source']) for c in json.loads((ROOT/'nbs'/nb).read_text())['cells']) if c.startswith('#| step'))
    if re.search(r"load_dls\(run_dir, train_seed=train_seed\)", steps): return train_seed
    (stage,) = re.findall(r"restore_learner\(run_dir, 'stage1', stage='(\w+)', train_seed=train_seed\)", steps)
    return core.stage_seed(train_seed, stage)

def test_stages_do_not_replay_the_heads_first_epoch(pets):
    "Each stage seeds as its notebook does, then builds the DataLoaders: no training image may come back bit for bit."
    nbs = ['01_fit_head.ipynb', '02_lr_find.ipynb', '03_discriminative_finetune.ipynb']
    seeds = {nb: _stage_seed(nb) for nb in nbs}
    epochs = {}
    for nb, s in seeds.items():
        set_seed(s); epochs[nb] = first_epoch(pets, num_workers=2)
    set_seed(seeds[nbs[0]]); again = first_epoch(pets, num_workers=2)
    assert all(torch.equal(again[i], x) for i, x in epochs[nbs[0]].items()), "same seed, same run"
    for i, a in enumerate(nbs):
        for b in nbs[i+1:]:
            common = set(epochs[a]) & set(epochs[b])
            replayed = sum(torch.equal(epochs[a][k], epochs[b][k]) for k in common)
            assert replayed == 0, f"{b} replays {replayed}/{len(common)} of {a}'s first-epoch images (seeds {seeds[a]}, {seeds[b]})"
