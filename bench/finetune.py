"""Fine-tuning variants from a run's saved head: a change to the fine-tuning stage for the cost of one fine-tuning.

    .venv/bin/python bench/finetune.py RUN_DIR [VARIANT ...]
    .venv/bin/python bench/finetune.py RUN_DIR base lr_hi=2e-4 epochs=4 label_smoothing=0.1 mixup=0.4,epochs=3

Each variant restores the run's head (`stage1`, saved by 01_fit_head) into a scratch copy of the run folder, seeds as
03_discriminative_finetune seeds (the run's `train_seed`), unfreezes and trains the whole network with
`fit_one_cycle(epochs, lr_max=slice(lr_lo, lr_hi))`. `base` is the run's own fine-tuning (its epochs from
params.json, its range from lr.json): on the machine that made the run it ends at the run's final error, which
checks that the variants start from where the run did. A variant changes one or more of, comma-separated:

- `epochs`, `lr_lo`, `lr_hi`: the cycle;
- `label_smoothing`: label-smoothed cross-entropy in this stage only (the head was fitted with the run's loss);
- `mixup`: fastai's `MixUp` callback with this alpha.

Prints, per variant, the training loss and the validation error after each epoch, the final error and the seconds
taken, as name=value lines named after the variant with `:` for `=` (`final_error_rate.lr_hi:2e-4=0.1667`).
The run folder itself is only read.
"""
import argparse, shutil, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')

KEYS = dict(epochs=int, lr_lo=float, lr_hi=float, label_smoothing=float, mixup=float)
SKIP = ('notebooks', 'export.pkl*', 'model.onnx', 'perfecto.pth', '*.png')  # what restoring the head does not read

def parse_variant(spec:str) -> dict:
    "The changes of variant `spec`: {} for `base`, else `key=value` pairs separated by commas."
    if spec == 'base': return {}
    out = {}
    for kv in spec.split(','):
        k, sep, v = kv.partition('=')
        if not sep or k not in KEYS:
            sys.exit(f"error: {kv!r} in variant {spec!r}: use base or key=value with a key of {', '.join(KEYS)}")
        try: out[k] = KEYS[k](v)
        except ValueError: sys.exit(f"error: {kv!r} in variant {spec!r}: {v!r} is not a {KEYS[k].__name__}")
    return out

def finetune(run_dir:Path, changes:dict) -> dict:
    "Fine-tune the head of `run_dir` with `changes` in a scratch copy; the losses, errors and seconds."
    from fastai.vision.all import LabelSmoothingCrossEntropyFlat, MixUp
    from petclassifier.core import read_json
    from petclassifier.learner import restore_learner
    from petclassifier.lr import load_lr_range
    params = read_json(run_dir/'params.json')['parameters']
    lr_lo, lr_hi = load_lr_range(run_dir)
    c = dict(epochs=params['epochs_finetune'], lr_lo=lr_lo, lr_hi=lr_hi) | changes
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix='finetune-') as tmp:
        scratch = Path(tmp)/run_dir.name
        shutil.copytree(run_dir, scratch, ignore=shutil.ignore_patterns(*SKIP))
        learn = restore_learner(scratch, 'stage1', stage='finetune', train_seed=params['train_seed'])
        learn.unfreeze()
        if c.get('label_smoothing'): learn.loss_func = LabelSmoothingCrossEntropyFlat(eps=c['label_smoothing'])
        cbs = [MixUp(c['mixup'])] if c.get('mixup') else []
        with learn.no_bar(), learn.no_logging():
            learn.fit_one_cycle(c['epochs'], lr_max=slice(c['lr_lo'], c['lr_hi']), cbs=cbs)
        vals = learn.recorder.values
    return dict(settings=c, train_loss=[float(v[0]) for v in vals], error_rate=[float(v[2]) for v in vals],
                seconds=time.time() - t0)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('run_dir', help="a run folder whose 01_fit_head saved stage1 (any finished run)")
    ap.add_argument('variants', nargs='*', default=['base'],
                    help="base, or key=value[,key=value...] (default: base)")
    a = ap.parse_args()
    run_dir = Path(a.run_dir).expanduser().resolve()
    needed = ('params.json', 'data.json', 'model.json', 'lr.json', 'stage1.pth')
    if missing := [f for f in needed if not (run_dir/f).exists()]:
        sys.exit(f"error: {run_dir} lacks {', '.join(missing)}: pass a run folder whose 00-02 notebooks finished")
    variants = [(v, parse_variant(v)) for v in a.variants]
    from petclassifier.core import PetError
    for name, changes in variants:
        try: r = finetune(run_dir, changes)
        except PetError as e: sys.exit(f"error: {e}")
        fmt, key = (lambda xs: ' '.join(f'{x:.4f}' for x in xs)), name.replace('=', ':')  # lines stay name=value
        c = r['settings']
        print(f"variant={key} epochs={c['epochs']} lr_lo={c['lr_lo']:g} lr_hi={c['lr_hi']:g}")
        print(f"train_loss.{key}={fmt(r['train_loss'])}")
        print(f"error_rate.{key}={fmt(r['error_rate'])}")
        print(f"final_error_rate.{key}={r['error_rate'][-1]:.4f}")
        print(f"seconds.{key}={r['seconds']:.1f}", flush=True)

if __name__ == '__main__': main()
