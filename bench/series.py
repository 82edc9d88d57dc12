"""Wall time of the tutorial's code as one plain script (a) against `petclassifier run` (b), on the same data with
the same settings, in one invocation. Prints name=value lines, ending with overhead_ratio=b/a. The runner starts
with an empty image cache (in the temporary folder), so its first epoch pays for filling it, as a first run would.

    .venv/bin/python bench/series.py --workload smoke      # smoke profile settings (minutes)
    .venv/bin/python bench/series.py --workload tutorial   # 224 px, 4 + 4 epochs, lr_find 100 (about an hour here)
    .venv/bin/python bench/series.py --workload reuse      # a full smoke run, then --reuse latest with 04's k changed

The reuse workload prints reuse_ratio=b/a: the wall time of the rerun (only 04_interpret executes) over the full run's.
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path

from petclassifier.params import PROFILES

# workload -> (profile, overrides): the tutorial profile with the ImageNet weights that exist offline
WORKLOADS = dict(smoke=('smoke', {}), tutorial=('tutorial', dict(arch='efficientnet_lite0')), reuse=('smoke', {}))
SCRIPT_ARGS = ('arch', 'size', 'item_size', 'bs', 'epochs_head', 'lr_head', 'num_it', 'epochs_finetune', 'lr_lo', 'lr_hi',
               'probe_epochs', 'linear_head', 'freeze_bn')

def timed(cmd):
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'MPLBACKEND': 'Agg', 'PYTHONWARNINGS': 'ignore'})
    if r.returncode: sys.exit(f"failed: {' '.join(map(str, cmd))}\n{r.stderr[-3000:]}")
    return time.time() - t0, r.stdout

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--workload', choices=list(WORKLOADS), default='smoke')
    ap.add_argument('--seed', type=int, default=None, help="train_seed of both sides (default: the runner's own, none for the script)")
    ap.add_argument('--skip-script', action='store_true', help='time the runner alone (e.g. for more seeds)')
    ap.add_argument('--data', default=os.getenv('PETCLASSIFIER_SAMPLE', '../shared/data/oxford-iiit-pet-sample/images'))
    a = ap.parse_args()
    profile, over = WORKLOADS[a.workload]
    if a.seed is not None: over = dict(over, train_seed=a.seed)
    w, data = {k: v for k, v in {**PROFILES[profile], **over}.items() if k in SCRIPT_ARGS}, str(Path(a.data).resolve())
    tmp = Path(tempfile.mkdtemp(prefix='bench-series-'))
    os.environ['PETCLASSIFIER_CACHE'] = str(tmp/'image-cache')  # the runner starts with an empty image cache, as on a first run
    here = Path(__file__).resolve().parent
    script = [sys.executable, str(here/'tutorial_script.py'), data, str(tmp/'script'),
              *[x for k, v in w.items() if v is not None for x in (f"--{k.replace('_', '-')}", str(int(v) if isinstance(v, bool) else v))],
              *(['--seed', str(a.seed)] if a.seed is not None else [])]
    sets = [x for k, v in over.items() for x in ('--set', f'{k}={v!r}' if isinstance(v, str) else f'{k}={v}')]
    runner = [sys.executable, '-m', 'petclassifier', 'run', '--profile', profile, '--data', data,
              '--runs-dir', str(tmp/'runs'), '--quiet', *sets]
    if a.workload == 'reuse': return reuse(runner, tmp)
    ta, out_a = (None, '') if a.skip_script else timed(script)
    tb, out_b = timed(runner)
    run = next((tmp/'runs').iterdir())
    m = json.loads((run/'metrics.json').read_text())
    print(f"workload={a.workload} data={data}")
    if ta is not None:
        print(f"script_wall_s={ta:.1f}")
        print(f"script_" + [l for l in out_a.splitlines() if l.startswith('final_error_rate=')][0])
    print(f"runner_wall_s={tb:.1f}")
    print(f"runner_head_error_rate={m['head_error_rate']:.4f}")
    print(f"runner_final_error_rate={m['final_error_rate']:.4f}")
    for nb, s in m['seconds'].items(): print(f"runner_seconds.{nb}={s}")
    if ta is not None: print(f"overhead_ratio={tb/ta:.3f}")

def reuse(runner, tmp):
    "A full run, then the same run with `--reuse latest` and one parameter of 04_interpret changed."
    full, _ = timed(runner)
    again, out = timed([*runner, '--reuse', 'latest', '--set', 'k=4'])
    first, second = sorted((tmp/'runs').iterdir())
    st = json.loads((second/'status.json').read_text())
    reused = [nb for nb, s in st['notebooks'].items() if s.get('reused_from')]
    m1, m2 = (json.loads((r/'metrics.json').read_text()) for r in (first, second))
    print(f"full_wall_s={full:.1f}")
    print(f"reuse_wall_s={again:.1f}")
    print(f"reused_notebooks={len(reused)}")
    print(f"reuse_04_seconds={st['notebooks']['04_interpret']['seconds']}")
    print(f"same_final_error_rate={m1['final_error_rate'] == m2['final_error_rate']}")
    print(f"reuse_ratio={again/full:.3f}")

if __name__ == '__main__': main()
