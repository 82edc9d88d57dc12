"""Fine-tuning variants from a run's saved head: a change to the fine-tuning stage for the cost of one fine-tuning.

    .venv/bin/python bench/finetune.py RUN_DIR [VARIANT ...]
    .venv/bin/python bench/finetune.py RUN_DIR base lr_hi=2e-4 epochs=4 label_smoothing=0.1 mixup=0.4,epochs=3

Each variant restores the run's head (`stage1`, saved by 01_fit_head) from a scratch copy of the run folder, seeds as
03_discriminative_finetune seeds (the run's `train_seed`), unfreezes and trains the whole network with
`fit_one_cycle(epochs, lr_max=slice(lr_lo, lr_hi))`. `base` is the run's own fine-tuning (its epochs from
params.json, its range from lr.json): on the machine that made the run it ends at the run's final error, which
checks that the variants start from where the run did. A variant changes one or more of, comma-separated:

- `epochs`, `lr_lo`, `lr_hi`: the cycle;
- `label_smoothing`: label-smoothed cross-entropy in this stage only (the head was fitted with the run's loss;
  0 is plain cross-entropy);
- `mixup`: fastai's `MixUp` callback with this alpha.

Prints, per variant, its settings (`variant=...`), then the training loss and the validation error after each epoch,
the final error and the seconds taken, as name=value lines named after the variant with `:` for `=`
(`final_error_rate.lr_hi:2e-4=0.1667`). The run folder itself is only read.
"""
import argparse, shutil, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')

# each change: its type, and the run parameter whose rule checks it (None: checked here)
KEYS = dict(epochs=(int, 'epochs_finetune'), lr_lo=(float, 'lr_lo'), lr_hi=(float, 'lr_hi'),
            label_smoothing=(float, 'label_smoothing'), mixup=(float, None))
# a run's files that restoring its head needs, and its large ones that it does not read (not copied)
NEEDED = ('params', 'data', 'model', 'lr_json', 'stage1')
SKIP = ('notebooks', 'site', 'export', 'export_sig', 'onnx', 'final')

def parse_variant(spec:str) -> dict:
    "The changes of variant `spec`: {} for `base`, else `key=value` pairs separated by commas, each checked."
    from petclassifier.core import PetError, check_value
    if spec == 'base': return {}
    out = {}
    for kv in spec.split(','):
        k, sep, v = kv.partition('=')
        if not sep or k not in KEYS:
            sys.exit(f"error: {kv!r} in variant {spec!r}: use base or key=value with a key of {', '.join(KEYS)}")
        if k in out: sys.exit(f"error: {k} is set twice in variant {spec!r}: keep one")
        kind, rule = KEYS[k]
        try: out[k] = kind(v)
        except ValueError:
            what = 'an integer' if kind is int else 'a number'
            sys.exit(f"error: {kv!r} in variant {spec!r}: {v!r} is not {what}")
        try:
            if rule: check_value(rule, out[k])
            elif not out[k] > 0: raise PetError(f"{k}={v} must be positive, e.g. 0.4 (Beta(alpha, alpha) mixing)")
        except PetError as e: sys.exit(f"error: in variant {spec!r}: {str(e).replace(f'{rule}=', f'{k}=')}")
    return out

def run_settings(run_dir:Path) -> dict:
    "The run's own fine-tuning (epochs and range) and its `train_seed`, from params.json and lr.json."
    from petclassifier.core import PetError, artefact, read_json
    from petclassifier.lr import load_lr_range
    for k in NEEDED: artefact(run_dir, k, must_exist=True)
    params = read_json(artefact(run_dir, 'params')).get('parameters', {})
    if missing := [k for k in ('epochs_finetune', 'train_seed') if k not in params]:
        raise PetError(f"{artefact(run_dir, 'params')} has no {', '.join(missing)}: pass a folder made by "
                       f"petclassifier run")
    lr_lo, lr_hi = load_lr_range(run_dir)
    return dict(epochs=params['epochs_finetune'], lr_lo=lr_lo, lr_hi=lr_hi, train_seed=params['train_seed'])

def finetune(scratch:Path, settings:dict, changes:dict) -> dict:
    "Fine-tune the head saved in `scratch`, the run's `settings` with `changes`; settings, losses, errors, seconds."
    from fastai.vision.all import CrossEntropyLossFlat, LabelSmoothingCrossEntropyFlat, MixUp
    from petclassifier.core import check_lr_order
    from petclassifier.learner import restore_learner
    c, t0 = settings | changes, time.time()
    check_lr_order(c['lr_lo'], c['lr_hi'])
    learn = restore_learner(scratch, 'stage1', stage='finetune', train_seed=c['train_seed'])
    learn.unfreeze()
    if 'label_smoothing' in c:
        eps = c['label_smoothing']
        learn.loss_func = LabelSmoothingCrossEntropyFlat(eps=eps) if eps else CrossEntropyLossFlat()
    cbs = [MixUp(c['mixup'])] if 'mixup' in c else []
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(c['epochs'], lr_max=slice(c['lr_lo'], c['lr_hi']), cbs=cbs)
    vals = learn.recorder.values
    return dict(settings=c, train_loss=[float(v[0]) for v in vals], error_rate=[float(v[2]) for v in vals],
                seconds=time.time() - t0)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('run_dir', help="a folder made by petclassifier run whose 02_lr_find finished")
    ap.add_argument('variants', nargs='*', default=['base'],
                    help="base, or key=value[,key=value...] (default: base)")
    a = ap.parse_args()
    run_dir = Path(a.run_dir).expanduser().resolve()
    variants = [(v, parse_variant(v)) for v in a.variants]
    from petclassifier.core import PetError, RUN_FILES
    fmt = lambda xs: ' '.join(f'{x:.4f}' for x in xs)
    try: settings = run_settings(run_dir)
    except PetError as e: sys.exit(f"error: {e}")
    with tempfile.TemporaryDirectory(prefix='finetune-') as tmp:
        # one copy for every variant: a variant writes its logs there, never the weights it starts from
        scratch = Path(tmp)/run_dir.name
        try: shutil.copytree(run_dir, scratch, ignore=shutil.ignore_patterns(*(RUN_FILES[k].name for k in SKIP)))
        except (OSError, shutil.Error) as e: sys.exit(f"error: cannot copy {run_dir}: {e}")
        for name, changes in variants:
            try: r = finetune(scratch, settings, changes)
            # the library's messages would name the copy, gone by the time they are read
            except PetError as e: sys.exit(f"error: {str(e).replace(str(scratch), str(run_dir))}")
            key = name.replace('=', ':')  # the lines stay name=value
            print(f"variant={key} " + ' '.join(f"{k}={v:g}" for k, v in r['settings'].items()))
            print(f"train_loss.{key}={fmt(r['train_loss'])}")
            print(f"error_rate.{key}={fmt(r['error_rate'])}")
            print(f"final_error_rate.{key}={r['error_rate'][-1]:.4f}")
            print(f"seconds.{key}={r['seconds']:.1f}", flush=True)

if __name__ == '__main__': main()
