"""The floor every training recipe must beat: a linear probe on the frozen ImageNet features of a run's backbone.

    .venv/bin/python bench/probe.py [--data DIR] [--profile improved] [--size 224] [--out RUNS_DIR]
    .venv/bin/python bench/probe.py --split-seeds 0 1 2 3 4 5 6 7 8 9   # the same probe on ten other splits

The images are split as a run splits them (`RandomSplitter(valid_pct, seed)` of 00_data), each is seen the way the
validation images of a run are seen (the square centre crop, resized to the profile's `size`, normalised as the
learner normalises), and the body of the run's backbone (efficientnet_lite0 unless --arch says otherwise), in eval
mode and never trained, turns it into one vector: its last feature map averaged over the image. Training images count
twice, as they are and mirrored. The vectors are scaled to length 1 and a multinomial logistic regression
(scikit-learn) is fitted on the training ones. Its inverse regularisation C is chosen by 3-fold cross-validation on
the training images alone (an image and its mirror stay in one fold), so the validation images choose nothing.

Prints name=value lines: probe_error (validation error at the chosen C), probe_C, the validation error at every C
tried (for information only: choosing by it would tune on the validation set), and the seconds taken. With --out,
also writes probe-<arch>-<size>.json there, which `bench/quality.py --report` prints beside the recipes.

The 66 validation images of the sample are themselves a sample. `--split-seeds 0 1 2 ...` fits the same probe
(C chosen afresh by cross-validation on each split's training images) on other splits of the same photos,
`RandomSplitter(valid_pct, seed=S)`, and prints each split's error, their mean and spread, and how many of them
are harder than the run's split: how much of an error comes from which photos were held out rather than from the
recipe. The features are computed once for all splits.
"""
import argparse, inspect, json, os, statistics, sys, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')

CS = (0.5, 1, 2, 5, 10, 20, 50)

def choose_c(X, y, groups, seed:int=0) -> tuple:
    "The C of `CS` with the best 3-fold cross-validated accuracy on the training features, and every C's CV error."
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_score
    cv = StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=seed)
    errs = {c: 1 - cross_val_score(LogisticRegression(C=c, max_iter=3000), X, y, groups=groups, cv=cv).mean() for c in CS}
    return min(errs, key=errs.get), errs

def unmirror(X, n:int, bs:int) -> tuple:
    "The rows of `body_features(..., mirror=True)` over `n` images in batches of `bs`: (as they are, mirrored), per image."
    plain, mirrored = [], []
    for i in range(0, n, bs):
        b = min(bs, n - i)
        plain.append(X[2*i:2*i + b]); mirrored.append(X[2*i + b:2*i + 2*b])
    import numpy as np
    return np.concatenate(plain), np.concatenate(mirrored)

def fit_split(P, M, y, train, valid, every_c:bool=False) -> tuple:
    "The probe on one split: C chosen by CV on `train` (rows of P, their mirror images in M); (C, CV errors, validation errors)."
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    train, valid = np.asarray(train), np.asarray(valid)
    Xt, yt = np.concatenate([P[train], M[train]]), np.concatenate([y[train], y[train]])
    c, cv_errs = choose_c(Xt, yt, np.concatenate([train, train]))  # an image and its mirror stay in one fold
    val_error = lambda k: float((LogisticRegression(C=k, max_iter=3000).fit(Xt, yt).predict(P[valid]) != y[valid]).mean())
    return c, cv_errs, {k: val_error(k) for k in (CS if every_c else (c,))}

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--data', default=os.getenv('PETCLASSIFIER_SAMPLE', '../shared/data/oxford-iiit-pet-sample/images'))
    ap.add_argument('--profile', default='improved', help="the profile whose image sizes and split are used")
    ap.add_argument('--arch', default='efficientnet_lite0', help="the backbone (its ImageNet weights must be available)")
    ap.add_argument('--size', type=int, default=None, help="image size (default: the profile's)")
    ap.add_argument('--item-size', type=int, default=None, help="size of the item-level resize (default: the profile's, scaled like size)")
    ap.add_argument('--split-seeds', type=int, nargs='+', default=[], metavar='S',
                    help="also fit the probe on the splits RandomSplitter(valid_pct, seed=S) of the same photos")
    ap.add_argument('--out', default=None, help="folder to write probe-<arch>-<size>.json into (e.g. a bench/quality.py --runs-dir)")
    a = ap.parse_args()
    from petclassifier.params import PROFILES
    from petclassifier.data import pet_datablock
    run_seed = inspect.signature(pet_datablock).parameters['seed'].default
    if run_seed in a.split_seeds: sys.exit(f"error: --split-seeds {run_seed} is the run's own split: leave it out")
    if a.profile not in PROFILES: sys.exit(f"error: unknown profile {a.profile!r}: use one of {', '.join(PROFILES)}")
    if not Path(a.data).is_dir(): sys.exit(f"error: data folder {a.data} does not exist: pass --data DIR or set PETCLASSIFIER_SAMPLE")
    t0 = time.time()
    import numpy as np
    from petclassifier.core import PetError
    from fastai.vision.all import RandomSplitter
    from petclassifier.data import pet_dls, check_images, sorted_image_files
    from petclassifier.learner import pet_learner, body_features
    p = PROFILES[a.profile]
    size = a.size or p['size']
    item_size = a.item_size or round(size * p['item_size'] / p['size'])
    try:
        check_images(a.data)
        # fastai's transforms: a validation image is its centre square at item_size, then resized to size
        dls = pet_dls(Path(a.data).resolve(), bs=32, num_workers=0, item_size=item_size, size=size, fast_data=False)
        learn = pet_learner(dls, a.arch, pretrained=True, stage=None, channels_last=False, linear_head=True)  # average pooling
    except PetError as e: sys.exit(f"error: {e}")
    files = sorted_image_files(Path(a.data).resolve())
    every = learn.dls.test_dl(files, with_labels=True)  # every image with the validation transforms
    t1 = time.time()
    X, ys = (t.numpy() for t in body_features(learn, every, mirror=True))
    feat_s = time.time() - t1
    norm = lambda X: X / np.linalg.norm(X, axis=1, keepdims=True)
    P, M = (norm(x) for x in unmirror(X, len(files), every.bs))
    y = unmirror(ys, len(files), every.bs)[0]
    index = {f: i for i, f in enumerate(files)}
    train, valid = ([index[f] for f in ds.items] for ds in (dls.train_ds, dls.valid_ds))  # the run's split
    c, cv_errs, val_errs = fit_split(P, M, y, train, valid, every_c=True)
    err, n = val_errs[c], len(train)
    splits = {}
    if a.split_seeds:
        t2 = time.time()
        # drawn as 00_data draws the run's: RandomSplitter on the sorted file list
        pct = inspect.signature(pet_datablock).parameters['valid_pct'].default
        for k in a.split_seeds:
            ck, _, e = fit_split(P, M, y, *RandomSplitter(pct, seed=k)(files))
            splits[k] = e[ck]
            print(f"probe_error.split{k}={e[ck]:.4f} C={ck:g}", flush=True)
        print(f"probe_splits_s={time.time() - t2:.1f}")
    print(f"data={Path(a.data).resolve()} arch={a.arch} size={size} item_size={item_size} "
          f"train_images={n} valid_images={len(valid)} features={P.shape[1]}")
    for k in CS: print(f"probe_cv_error.C{k:g}={cv_errs[k]:.4f} probe_valid_error.C{k:g}={val_errs[k]:.4f}")
    print(f"probe_C={c:g}")
    print(f"probe_error={err:.4f}")
    if splits:
        es = list(splits.values())
        print(f"probe_error.splits.mean={statistics.mean(es):.4f}" + (f" stdev={statistics.stdev(es):.4f}" if len(es) > 1 else '')
              + f" min={min(es):.4f} max={max(es):.4f} splits={len(es)} harder_than_run_split={sum(e > err for e in es)}")
    print(f"probe_features_s={feat_s:.1f}")
    print(f"probe_seconds={time.time() - t0:.1f}")
    if a.out:
        out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
        rec = dict(arch=a.arch, size=size, item_size=item_size, probe_error=err, C=c, cv_error=cv_errs, valid_error=val_errs,
                   train_images=n, valid_images=len(valid), seconds=round(time.time() - t0, 1),
                   split_errors={str(k): e for k, e in splits.items()})
        (out/f'probe-{a.arch}-{size}.json').write_text(json.dumps(rec, indent=2))

if __name__ == '__main__': main()
