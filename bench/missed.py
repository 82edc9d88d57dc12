"""Which validation photographs a set of runs gets wrong: the ones every run misses are the data's hard cases, not
a recipe's bad luck.

    .venv/bin/python bench/missed.py RUN_DIR [RUN_DIR ...]
    .venv/bin/python bench/missed.py /tmp/q/*-sweep-improved/runs/*      # every seed of a bench/quality.py sweep

Each run's fine-tuned model (`perfecto.pth`, saved by 03_discriminative_finetune) is rebuilt from its run folder and
shown the run's validation images (no test-time augmentation), as 04_interpret shows them. The runs must share their
validation images (same data, same split); their training seeds and recipes may differ.

Prints name=value lines: each run's error and the photographs it misses (`missed.<run>=a.jpg,b.jpg`), then
`missed_by_all` (how many photographs every run misses) with each one's true breed and the breed the runs give it
most often, and `missed_by_some` (missed by at least one run, not by all). The run folders are only read.
"""
import argparse, collections, sys, warnings
from pathlib import Path
warnings.filterwarnings('ignore')

def misses(run_dir:Path) -> tuple:
    "`run_dir`'s validation images its final model gets wrong (file name -> (actual, predicted) breed), and all their names."
    from petclassifier.learner import restore_learner
    learn = restore_learner(run_dir, 'final', stage=None)
    with learn.no_bar(), learn.no_logging(): preds, targs = learn.get_preds(dl=learn.dls.valid)
    items, vocab = learn.dls.valid_ds.items, learn.dls.vocab
    return {Path(items[i]).name: (vocab[t], vocab[p]) for i, (p, t) in enumerate(zip(preds.argmax(1).tolist(), targs.tolist()))
            if p != t}, [Path(f).name for f in items]

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('runs', nargs='+', help="run folders whose 03_discriminative_finetune finished")
    a = ap.parse_args()
    from petclassifier.core import PetError
    out, valid = {}, None
    for r in map(Path, a.runs):
        if r.name in out: sys.exit(f"error: two runs named {r.name}: pass each run folder once")
        try: wrong, names = misses(r)
        except PetError as e: sys.exit(f"error: {e}")
        if valid is not None and names != valid:
            sys.exit(f"error: {r} has other validation images than {a.runs[0]}: pass runs of the same data and split")
        valid, out[r.name] = names, wrong
        print(f"error.{r.name}={len(wrong) / len(names):.4f} wrong={len(wrong)} valid={len(names)}")
        print(f"missed.{r.name}={','.join(sorted(wrong))}", flush=True)
    every = set.intersection(*(set(w) for w in out.values()))
    some = set.union(*(set(w) for w in out.values())) - every
    print(f"missed_by_all={len(every)} valid={len(valid)} runs={len(out)}")
    for f in sorted(every):
        actual = next(iter(out.values()))[f][0]
        said = collections.Counter(w[f][1] for w in out.values()).most_common(1)[0][0]
        print(f"missed_by_all.{f}={actual} taken_for={said}")
    print(f"missed_by_some={len(some)}" + (f" photographs={','.join(sorted(some))}" if some else ''))

if __name__ == '__main__': main()
