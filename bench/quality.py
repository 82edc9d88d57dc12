"""Validation error of the tutorial recipe against the `improved` profile, on the same split of the real sample, over
several training seeds (one run on ~66 validation images is noise), beside the linear probe of `bench/probe.py`.

    .venv/bin/python bench/quality.py [--size 224] [--seeds 0 1 2] [--num-it 100]
    .venv/bin/python bench/quality.py --size 160 --num-it 30 --recipes tutorial improved improved:bs=16

A recipe is a profile name, optionally with overrides after a colon (`improved:bs=16,lr_head=0.002`), to try a change
against the same tutorial runs before putting it in the profile (`improved:epochs_head=2,epochs_finetune=6`
moves epochs between the stages). Recipes need not train the same epochs: `improved` fits its head on features
computed once and trains fewer epochs on images; compare them by error and by seconds per run.

Recipes may also run side by side, one bench per recipe (e.g. `--recipes tutorial` and `--recipes improved` in two
terminals, each with `--max-parallel 1` and the same --runs-dir), so that stopping early leaves matched seeds;
`--report RUNS_DIR` then prints the same summary over every sweep in that folder (and over plain run folders one
level down, e.g. `RUNS_DIR/plain/<run>` made by `petclassifier run --runs-dir RUNS_DIR/plain`), beside the linear
probe of `bench/probe.py --out RUNS_DIR` when it is there, without running anything:

    .venv/bin/python bench/quality.py --report /path/to/runs-dir

`--report` takes several folders too, e.g. one per split of the sample (`--recipes improved:seed=3 tutorial:seed=3`,
where `seed` is 00_data's split; a folder holds one split): each is summarised as above, then the recipes are pooled
over all of them (a recipe's `seed` override left out of its name), with the ratio of final errors over the runs both
recipes made (same folder, same training seed) and per folder. Plain run folders are named by their profile alone.

    .venv/bin/python bench/quality.py --report runs/split0 runs/split1 runs/split2

Each recipe is one `petclassifier sweep` (petclassifier.sweep.start_sweep): its seeds are ordinary runs of the series,
executed on Ray (a local instance, or --address), under --runs-dir (default: a temporary folder). Both recipes use
efficientnet_lite0 (the ImageNet weights that exist offline; resnet34's do not); everything else (data pipeline,
batch size, head learning rate, label smoothing, fine-tuning range, epoch split, test-time augmentation) comes from
PROFILES. Prints name=value lines, ending with error_ratio=improved/tutorial.
"""
import argparse, os, re, statistics, sys, tempfile
from pathlib import Path
from petclassifier.core import PetError, artefact, read_json
from petclassifier.params import PROFILES, parse_value
from petclassifier.run import Interrupted
from petclassifier.sweep import start_sweep

def parse_recipe(spec:str) -> tuple:
    "`(profile, overrides)` of recipe `spec`: a profile name, optionally followed by ':key=value,key=value'."
    name, _, over = spec.partition(':')
    if name not in PROFILES: sys.exit(f"error: unknown profile {name!r} in --recipes (choose from {', '.join(PROFILES)})")
    sets = {}
    for kv in filter(None, over.split(',')):
        k, sep, v = kv.partition('=')
        if not sep: sys.exit(f"error: override {kv!r} in --recipes is not key=value")
        sets[k] = parse_value(v)
    return name, sets

METRICS = ('head_error_rate', 'final_error_rate', 'tta_error_rate')
BENCH_SETS = ('data_path', 'arch', 'pretrained', 'size', 'item_size', 'num_it')  # what main() sets for every recipe

def reference(names) -> str:
    "The recipe the error ratios are taken against: the first of the `tutorial` profile (overrides or not), else the first."
    names = list(names)
    # a recipe is named profile:overrides on the command line, profile,overrides in a report
    return next((n for n in names if re.split('[:,]', n)[0] == 'tutorial'), names[0])

def _records(runs_dir:Path):
    "`(recipe name, seed, status, metrics, seconds)` of every run under `runs_dir`: the runs of each sweep, and plain run folders."
    from petclassifier.sweep import load_sweep
    from petclassifier.records import is_run_dir
    for sweep in sorted(p for p in runs_dir.iterdir() if (p/'sweep.json').exists()):
        d, recs = load_sweep(sweep)
        # a recipe's own overrides: the sweep's settings that differ from its profile, other than the bench's
        own = {k: v for k, v in d.get('sets', {}).items() if k not in BENCH_SETS and PROFILES[d['profile']].get(k) != v}
        for x in recs:
            # key:value, so that the printed lines stay name=value
            name = d['profile'] + ''.join(f",{k}:{v}" for k, v in sorted({**own, **x['config']}.items()))
            yield name, x['seed'], x['status'], x['metrics'], x['seconds']
    for run in sorted(p for p in runs_dir.glob('*/*') if is_run_dir(p) and not (p.parent.parent/'sweep.json').exists()):
        prm, st, m = (read_json(artefact(run, k)) for k in ('params', 'status', 'metrics'))
        yield prm['profile'], prm['parameters']['train_seed'], st['status'], m, sum(m.get('seconds', {}).values())

def report(runs_dir:Path) -> dict:
    "name=value lines over every run under `runs_dir`: the probe, per seed, per recipe, and error ratios against `tutorial` (else the first recipe); returns recipe -> seed -> metrics."
    errs, secs = {}, {}
    for f in sorted(runs_dir.glob('probe-*.json')):
        p = read_json(f)
        print(f"probe.{p['arch']}.size{p['size']}.probe_error={p['probe_error']:.4f} C={p['C']:g} seconds={p['seconds']:.0f}")
        if es := list(p.get('split_errors', {}).values()):  # probe.py --split-seeds: other splits of the same photos
            print(f"probe.{p['arch']}.size{p['size']}.other_splits.probe_error.mean={statistics.mean(es):.4f}"
                  + (f" stdev={statistics.stdev(es):.4f}" if len(es) > 1 else '') + f" min={min(es):.4f} max={max(es):.4f} "
                  f"splits={len(es)} harder_than_run_split={sum(e > p['probe_error'] for e in es)}")
    for name, seed, status, m, seconds in _records(runs_dir):
        if status != 'succeeded':
            print(f"{name}.seed{seed}.status={status}"); continue
        errs.setdefault(name, {})[seed] = m; secs.setdefault(name, []).append(seconds)
        print(f"{name}.seed{seed}." + ' '.join(f"{k}={m[k]:.4f}" for k in METRICS if k in m) + f" seconds={seconds:.0f}")
    for name, by_seed in errs.items():
        print(f"{name}.runs={len(by_seed)} seconds_mean={statistics.mean(secs[name]):.0f}")
        for k in METRICS:
            v = [m[k] for m in by_seed.values() if k in m]
            if not v: continue
            sd = f" stdev={statistics.stdev(v):.4f}" if len(v) > 1 else ''
            print(f"{name}.{k}.mean={statistics.mean(v):.4f}{sd} min={min(v):.4f} max={max(v):.4f}")
    if len(errs) < 2: return errs
    ref = reference(errs)
    others = [n for n in errs if n != ref]
    for name in others:
        if split_of(name) != split_of(ref):
            print(f"error_ratio.{name}=none (validated on another split than {ref})"); continue
        seeds = sorted(set(errs[ref]) & set(errs[name]))
        if not seeds:
            print(f"error_ratio.{name}=none (no training seed that {ref} ran too)"); continue
        for k in METRICS[:2]:
            ratio = statistics.mean(errs[name][s][k] for s in seeds) / statistics.mean(errs[ref][s][k] for s in seeds)
            print(f"error_ratio.{name}.{k}={ratio:.3f} seeds={' '.join(map(str, seeds))} (against {ref})")
        if all('tta_error_rate' in errs[name][s] for s in seeds):
            ratio = statistics.mean(errs[name][s]['tta_error_rate'] for s in seeds) / statistics.mean(errs[ref][s]['final_error_rate'] for s in seeds)
            print(f"error_ratio.{name}.tta_vs_final={ratio:.3f} seeds={' '.join(map(str, seeds))} (its TTA error against {ref}'s final)")
    return errs

def without_split(name:str) -> str:
    "A reported recipe name without its `seed` override (00_data's split): the same recipe on every split."
    return ','.join(p for p in name.split(',') if not p.startswith('seed:'))

def split_of(name:str) -> str:
    "The split part of a reported recipe name ('seed:3'), or '' for the notebooks' own split."
    return next((p for p in name.split(',')[1:] if p.startswith('seed:')), '')

def pool(dirs:list, reports:list) -> dict:
    "The runs of `report`s of `dirs`, one split each, as recipe (split left out) -> (folder index, training seed) -> metrics."
    out = {}
    for i, (d, errs) in enumerate(zip(dirs, reports)):
        if len(splits := {split_of(n) for n in errs}) > 1:
            raise PetError(f"{d} holds runs of several splits ({', '.join(sorted(x or 'the default' for x in splits))}): "
                           f"give each split its own --runs-dir")
        for name, by_seed in errs.items():
            out.setdefault(without_split(name), {}).update({(i, s): m for s, m in by_seed.items()})
    return out

def pooled_report(dirs:list, reports:list, k:str='final_error_rate'):
    "name=value lines for the recipes pooled over `dirs`: means of `k`, and its ratio to the reference over matched runs."
    runs = pool(dirs, reports)
    print(f"pooled.runs_dirs={len(reports)}")
    for name, r in runs.items():
        if v := [m[k] for m in r.values() if k in m]: print(f"pooled.{name}.{k}.mean={statistics.mean(v):.4f} runs={len(v)}")
    if len(runs) < 2: return
    ref = reference(runs)
    mean = lambda r, keys: statistics.mean(r[x][k] for x in keys)
    for name in (n for n in runs if n != ref):
        both = sorted(x for x in set(runs[ref]) & set(runs[name]) if k in runs[ref][x] and k in runs[name][x])
        if not both:
            print(f"pooled.error_ratio.{name}.{k}=none (no {ref} run with the same folder and training seed)"); continue
        per_dir = [f"{mean(runs[name], ks) / mean(runs[ref], ks):.3f}" if ks else 'none'
                   for i in range(len(dirs)) for ks in [[x for x in both if x[0] == i]]]
        print(f"pooled.error_ratio.{name}.{k}={mean(runs[name], both) / mean(runs[ref], both):.3f} runs={len(both)} "
              f"matched_means={mean(runs[name], both):.4f}/{mean(runs[ref], both):.4f} per_dir={'/'.join(per_dir)} "
              f"(against {ref})")

def main_report(dirs:list):
    "`--report`: each folder's summary, then, for several, the recipes pooled over them."
    for d in dirs:
        if not d.is_dir(): sys.exit(f"error: {d} is not a folder: pass the --runs-dir of earlier quality.py runs")
    if len({d.resolve() for d in dirs}) < len(dirs): sys.exit("error: a folder is given twice to --report: name each once")
    reports = []
    try:
        for d in dirs:
            if len(dirs) > 1: print(f"# {d}")
            reports.append(report(d))
            if not reports[-1] and (len(dirs) > 1 or not any(d.glob('probe-*.json'))):
                raise PetError(f"no finished run under {d}: pass the --runs-dir of earlier quality.py runs")
        if len(dirs) > 1: pooled_report(dirs, reports)
    except PetError as e: sys.exit(f"error: {e}")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.getenv('PETCLASSIFIER_SAMPLE', '../shared/data/oxford-iiit-pet-sample/images'))
    ap.add_argument('--size', type=int, default=224); ap.add_argument('--item-size', type=int, default=None)
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2]); ap.add_argument('--num-it', type=int, default=100)
    ap.add_argument('--epochs-head', type=int, default=None, help="for every recipe; default: each recipe's own")
    ap.add_argument('--epochs-finetune', type=int, default=None, help="for every recipe; default: each recipe's own")
    ap.add_argument('--recipes', nargs='+', default=['tutorial', 'improved'], help="the reference of error_ratio is tutorial when run, else the first")
    ap.add_argument('--runs-dir', default=None, help='where the sweep folders go (default: a temporary folder)')
    ap.add_argument('--address', default=None, help='Ray cluster (default: a local Ray instance per recipe)')
    ap.add_argument('--max-parallel', type=int, default=None, help='runs at once (default: what the cores allow)')
    ap.add_argument('--report', metavar='RUNS_DIR', nargs='+', default=None,
                    help='summarise the sweeps already in RUNS_DIR; several: each, then pooled; runs nothing')
    a = ap.parse_args()
    if a.report: return main_report([Path(d) for d in a.report])
    recipes = {r: parse_recipe(r) for r in a.recipes}
    path = Path(a.data).resolve()
    item_size = a.item_size or round(a.size * 460 / 224)
    epochs = {r: (a.epochs_head or sets.get('epochs_head', PROFILES[p]['epochs_head']),
                  a.epochs_finetune or sets.get('epochs_finetune', PROFILES[p]['epochs_finetune'])) for r, (p, sets) in recipes.items()}
    runs_dir = Path(a.runs_dir or tempfile.mkdtemp(prefix='bench-quality-')).absolute()
    print(f"data={path} size={a.size} item_size={item_size} num_it={a.num_it} seeds={a.seeds} "
          f"runs_dir={runs_dir}", flush=True)
    bench = dict(data_path=str(path), arch='efficientnet_lite0', pretrained=True, size=a.size, item_size=item_size,
                 num_it=a.num_it)
    assert tuple(bench) == BENCH_SETS  # --report tells a recipe's own overrides from these by name
    means = {}
    for recipe, (profile, sets) in recipes.items():
        label = recipe.replace('=', ':')  # the printed lines stay name=value
        sets = dict(sets, **bench, epochs_head=epochs[recipe][0], epochs_finetune=epochs[recipe][1])
        print(f"{label}.epochs={epochs[recipe][0]}+{epochs[recipe][1]}", flush=True)
        try: sweep, recs = start_sweep(profile, {}, a.seeds, sets, runs_dir, a.address, say=lambda m: print('#', m, flush=True),
                                       max_parallel=a.max_parallel)
        except PetError as e: sys.exit(f"error: {e}")
        except Interrupted as e: sys.exit(f"interrupted ({e}): the finished runs stay under {runs_dir}")
        print(f"{label}.sweep={sweep}", flush=True)
        errs = []
        for x in recs:
            if x['status'] != 'succeeded': sys.exit(f"error: {recipe} seed {x['seed']} {x['status']}: {x['error']}")
            d = read_json(artefact(sweep/x['run_dir'], 'data'))
            errs.append(x['metrics']['final_error_rate'])
            print(f"{label}.seed{x['seed']}.error_rate={errs[-1]:.4f} valid_images={int(d['n_images'] * d['params']['valid_pct'])} "
                  f"seconds={x['seconds']:.0f}", flush=True)
        means[recipe] = statistics.mean(errs)
        print(f"{label}.mean_error_rate={means[recipe]:.4f}")
        print(f"{label}.spread={max(errs) - min(errs):.4f}")
        if len(errs) > 1: print(f"{label}.stdev={statistics.stdev(errs):.4f}")
    ref = reference(recipes)
    for r in (r for r in recipes if r != ref):
        print(f"error_ratio{'' if r == 'improved' else '.' + r.replace('=', ':')}={means[r] / means[ref]:.3f}")

if __name__ == '__main__': main()
