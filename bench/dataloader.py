"""Images per second through `dls.train` (decode, item transforms, collation, batch augmentation on the CPU), for
fastai's pipeline as the tutorial writes it (`fast_data=False`) and for the fast pipeline of `10_fast_data`, on the same images.

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
from petclassifier.data import pet_dls, check_images
from petclassifier.params import PROFILES

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
        for name in ('tutorial', 'smoke'):
            kw = {k: PROFILES[name][k] for k in ('item_size', 'size', 'bs')}
            d = imgs_per_s(pet_dls(path, fast_data=False, **kw), a.batches)  # the tutorial's DataBlock, fastai's transforms
            n = imgs_per_s(pet_dls(path, fast_data=True, image_cache=False, **kw), a.batches)
            dls = pet_dls(path, fast_data=True, **kw)
            for _ in dls.train: pass  # one epoch fills the cache
            p = imgs_per_s(dls, a.batches)
            print(f"{name}.imgs_per_s_default={d:.1f}")
            print(f"{name}.imgs_per_s_project_nocache={n:.1f}")
            print(f"{name}.imgs_per_s_project={p:.1f}")
            print(f"{name}.speedup_nocache={n/d:.2f}")
            print(f"{name}.speedup={p/d:.2f}")
    finally: shutil.rmtree(cache, ignore_errors=True)

if __name__ == '__main__': main()
