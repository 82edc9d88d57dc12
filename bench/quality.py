"""Validation error of the tutorial recipe against the `improved` profile, on the same split of the real sample and
the same epoch budget, over several training seeds (one run on ~66 validation images is noise).

    .venv/bin/python bench/quality.py [--size 224] [--seeds 0 1 2] [--num-it 100]
    .venv/bin/python bench/quality.py --size 160 --num-it 30 --recipes tutorial improved improved:bs=16

A recipe is a profile name, optionally with overrides after a colon (`improved:bs=16,lr_head=0.002`), to try a change
against the same tutorial runs before putting it in the profile (`improved:epochs_head=2,epochs_finetune=6`
moves epochs between the stages; every recipe must keep the reference's epoch budget).

Both recipes use efficientnet_lite0 (the ImageNet weights that exist offline; resnet34's do not). Each recipe brings
its own data pipeline (fast_data), batch size, head learning rate, label smoothing, fine-tuning range (the tutorial's
slice(6e-5, 2e-4), or 02_lr_find's valley rule where lr_lo/lr_hi are None), epoch split and test-time augmentation,
all from PROFILES. Prints name=value lines, ending with error_ratio=improved/tutorial.
"""
import argparse, ast, os, statistics, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
from fastai.vision.all import *
from petclassifier.data import pet_dls, check_images
from petclassifier.learner import pet_learner
from petclassifier.lr import suggestion_funcs, lr_range
from petclassifier.interpret import tta_error_rate
from petclassifier.run import PROFILES

def parse_recipe(spec:str) -> dict:
    "The settings of recipe `spec`: a profile name, optionally followed by ':key=value,key=value' overrides."
    name, _, over = spec.partition(':')
    if name not in PROFILES: sys.exit(f"error: unknown profile {name!r} in --recipes (choose from {', '.join(PROFILES)})")
    p = dict(PROFILES[name])
    for kv in filter(None, over.split(',')):
        k, sep, v = kv.partition('=')
        if not sep: sys.exit(f"error: override {kv!r} in --recipes is not key=value")
        try: p[k] = ast.literal_eval(v)
        except (ValueError, SyntaxError): p[k] = v
    return p

def train(path, p, seed, size, item_size, num_it, epochs_head, epochs_finetune):
    "Train recipe `p` once with training seed `seed`; its validation error rate and the number of validation images."
    dls = pet_dls(path, item_size=item_size, size=size, bs=p['bs'], fast_data=p.get('fast_data', False))
    set_seed(seed)
    learn = pet_learner(dls, 'efficientnet_lite0', label_smoothing=p.get('label_smoothing', 0.))
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(epochs_head, lr_max=p.get('lr_head'))  # None: fastai's default, as the tutorial
        learn.save('bench_stage1', with_opt=False)
        learn.unfreeze()
        sugg = learn.lr_find(num_it=num_it, suggest_funcs=suggestion_funcs(learn), show_plot=False)
        lo, hi = lr_range(sugg, p.get('lr_lo'), p.get('lr_hi'), spread=p.get('lr_spread', 10))
        learn.load('bench_stage1', with_opt=False)
        learn.unfreeze()
        learn.fit_one_cycle(epochs_finetune, lr_max=slice(lo, hi))
        err = tta_error_rate(learn) if p.get('tta') else float(learn.validate()[1])
    return err, len(dls.valid_ds)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.getenv('PETCLASSIFIER_SAMPLE', '../shared/data/oxford-iiit-pet-sample/images'))
    ap.add_argument('--size', type=int, default=224); ap.add_argument('--item-size', type=int, default=None)
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2]); ap.add_argument('--num-it', type=int, default=100)
    ap.add_argument('--epochs-head', type=int, default=None, help="for every recipe; default: each recipe's own")
    ap.add_argument('--epochs-finetune', type=int, default=None, help="for every recipe; default: each recipe's own")
    ap.add_argument('--recipes', nargs='+', default=['tutorial', 'improved'], help="the first is the reference of error_ratio")
    a = ap.parse_args()
    recipes = {r: parse_recipe(r) for r in a.recipes}
    path = Path(a.data); check_images(path)
    item_size = a.item_size or round(a.size * 460 / 224)
    os.chdir(tempfile.mkdtemp(prefix='bench-quality-'))
    epochs = {r: (a.epochs_head or p['epochs_head'], a.epochs_finetune or p['epochs_finetune']) for r, p in recipes.items()}
    budget = sum(epochs[a.recipes[0]])
    for r, e in epochs.items():
        if sum(e) != budget: sys.exit(f"error: recipe {r!r} trains {sum(e)} epochs, the reference {budget}: "
                                      "give every recipe the same epoch budget")
    print(f"data={path} size={a.size} item_size={item_size} epoch_budget={budget} num_it={a.num_it} seeds={a.seeds}")
    means = {}
    for recipe, p in recipes.items():
        errs = []
        print(f"{recipe}.epochs={epochs[recipe][0]}+{epochs[recipe][1]}", flush=True)
        for s in a.seeds:
            t0 = time.time()
            e, n = train(path, p, s, a.size, item_size, a.num_it, *epochs[recipe])
            errs.append(e)
            print(f"{recipe}.seed{s}.error_rate={e:.4f} valid_images={n} seconds={time.time()-t0:.0f}", flush=True)
        means[recipe] = statistics.mean(errs)
        print(f"{recipe}.mean_error_rate={means[recipe]:.4f}")
        print(f"{recipe}.spread={max(errs) - min(errs):.4f}")
        if len(errs) > 1: print(f"{recipe}.stdev={statistics.stdev(errs):.4f}")
    ref, *others = recipes
    for r in others:
        print(f"error_ratio{'' if r == 'improved' else '.' + r}={means[r] / means[ref]:.3f}")

if __name__ == '__main__': main()
