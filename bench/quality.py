"""Validation error of the tutorial recipe against the `improved` profile, on the same split of the real sample and
the same epoch budget, over several training seeds (one run on ~66 validation images is noise).

    .venv/bin/python bench/quality.py [--size 224] [--seeds 0 1 2] [--num-it 100]

Both recipes use efficientnet_lite0 (the ImageNet weights that exist offline; resnet34's do not) and the learning-rate
range from lr_find (valley rule of 02_lr_find). `improved` adds what PROFILES['improved'] adds: its batch size,
head learning rate, label smoothing and test-time augmentation. Prints name=value lines, ending with error_ratio=improved/tutorial.
"""
import argparse, os, statistics, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
from fastai.vision.all import *
from petclassifier.data import pet_dls, check_images
from petclassifier.learner import pet_learner
from petclassifier.lr import find_lrs, lr_range
from petclassifier.interpret import tta_error_rate
from petclassifier.run import PROFILES

def train(path, recipe, seed, size, item_size, num_it, epochs_head, epochs_finetune):
    p = PROFILES[recipe]
    dls = pet_dls(path, item_size=item_size, size=size, bs=p['bs'])
    set_seed(seed)
    learn = pet_learner(dls, 'efficientnet_lite0', label_smoothing=p.get('label_smoothing', 0.))
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(epochs_head, lr_max=p.get('lr_head'))  # None: fastai's default, as the tutorial
        learn.save('bench_stage1', with_opt=False)
        learn.unfreeze()
        lo, hi = lr_range(find_lrs(learn, num_it))
        learn.load('bench_stage1', with_opt=False)
        learn.unfreeze()
        learn.fit_one_cycle(epochs_finetune, lr_max=slice(lo, hi))
    err = float(learn.validate()[1])
    if p.get('tta'): err = tta_error_rate(learn)
    return err, len(dls.valid_ds)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.getenv('PETCLASSIFIER_SAMPLE', '../shared/data/oxford-iiit-pet-sample/images'))
    ap.add_argument('--size', type=int, default=224); ap.add_argument('--item-size', type=int, default=None)
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2]); ap.add_argument('--num-it', type=int, default=100)
    ap.add_argument('--epochs-head', type=int, default=4); ap.add_argument('--epochs-finetune', type=int, default=4)
    a = ap.parse_args()
    path = Path(a.data); check_images(path)
    item_size = a.item_size or round(a.size * 460 / 224)
    os.chdir(tempfile.mkdtemp(prefix='bench-quality-'))
    print(f"data={path} size={a.size} item_size={item_size} epochs={a.epochs_head}+{a.epochs_finetune} num_it={a.num_it} seeds={a.seeds}")
    means = {}
    for recipe in ('tutorial', 'improved'):
        errs = []
        for s in a.seeds:
            t0 = time.time()
            e, n = train(path, recipe, s, a.size, item_size, a.num_it, a.epochs_head, a.epochs_finetune)
            errs.append(e)
            print(f"{recipe}.seed{s}.error_rate={e:.4f} valid_images={n} seconds={time.time()-t0:.0f}", flush=True)
        means[recipe] = statistics.mean(errs)
        print(f"{recipe}.mean_error_rate={means[recipe]:.4f}")
        print(f"{recipe}.spread={max(errs) - min(errs):.4f}")
        if len(errs) > 1: print(f"{recipe}.stdev={statistics.stdev(errs):.4f}")
    print(f"error_ratio={means['improved'] / means['tutorial']:.3f}")

if __name__ == '__main__': main()
