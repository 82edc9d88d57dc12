"""Images per second through `dls.train` (decode, item transforms, collation, batch augmentation on the CPU), for
fastai's default pipeline as the tutorial writes it and for the project's pipeline, on the same images.

    .venv/bin/python bench/dataloader.py [--data DIR] [--batches 12]

Prints name=value lines for the tutorial's transforms (Resize(460), aug_transforms(size=224, min_scale=0.75)) and
for the smoke profile's sizes: imgs_per_s_default (fastai as the tutorial writes it), imgs_per_s_project (the
project's pipeline once its image cache is filled, i.e. every epoch after the first), imgs_per_s_project_nocache
(image_cache=False: what the first epoch sees), speedup (project / default) and speedup_nocache. The cache goes to a
temporary folder that is removed at the end.
"""
import argparse, os, time, warnings, tempfile, shutil
from pathlib import Path
warnings.filterwarnings('ignore')
from fastai.vision.all import *
from petclassifier.data import pet_dls, PAT, check_images
from petclassifier.run import PROFILES

def tutorial_dls(path, item_size, size, bs):
    "The tutorial's DataBlock, verbatim, with fastai's defaults."
    pets = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files,
                     splitter=RandomSplitter(0.2, seed=100), get_y=using_attr(RegexLabeller(PAT), 'name'),
                     item_tfms=Resize(item_size), batch_tfms=aug_transforms(size=size, min_scale=0.75))
    return pets.dataloaders(path, bs=bs)

def imgs_per_s(dls, n_batches):
    "Images per second over `n_batches` training batches, after one warm-up batch."
    it = iter(dls.train)
    next(it)
    t0, n = time.perf_counter(), 0
    for _ in range(n_batches):
        try: xb, yb = next(it)
        except StopIteration:
            it = iter(dls.train); xb, yb = next(it)
        n += len(xb)
    return n / (time.perf_counter() - t0)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.getenv('PETCLASSIFIER_SAMPLE', '../shared/data/oxford-iiit-pet-sample/images'))
    ap.add_argument('--batches', type=int, default=12)
    a = ap.parse_args()
    path = Path(a.data)
    check_images(path)
    cache = tempfile.mkdtemp(prefix='petclassifier-bench-cache-')
    os.environ['PETCLASSIFIER_CACHE'] = cache
    print(f"data={path} images={len(get_image_files(path))} cpus={os.cpu_count()} torch_threads={torch.get_num_threads()}")
    try:
        for name, item_size, size, bs in [('tutorial', 460, 224, 64), ('smoke', PROFILES['smoke']['item_size'], PROFILES['smoke']['size'], PROFILES['smoke']['bs'])]:
            d = imgs_per_s(tutorial_dls(path, item_size, size, bs), a.batches)
            n = imgs_per_s(pet_dls(path, item_size=item_size, size=size, bs=bs, image_cache=False), a.batches)
            dls = pet_dls(path, item_size=item_size, size=size, bs=bs)
            for _ in dls.train: pass  # one epoch fills the cache
            p = imgs_per_s(dls, a.batches)
            print(f"{name}.imgs_per_s_default={d:.1f}")
            print(f"{name}.imgs_per_s_project_nocache={n:.1f}")
            print(f"{name}.imgs_per_s_project={p:.1f}")
            print(f"{name}.speedup_nocache={n/d:.2f}")
            print(f"{name}.speedup={p/d:.2f}")
    finally: shutil.rmtree(cache, ignore_errors=True)

if __name__ == '__main__': main()
