"""Wall time of `petclassifier predict RUN <images> --json` as a user runs it (a new Python process), with each engine:
`onnx` (model.onnx through ONNX Runtime, no PyTorch) and `fastai` (export.pkl), their agreement, and where each
engine's time goes: for fastai importing, loading export.pkl, checking the images and the inference; for ONNX the
imports, opening the model, decoding the photos on one thread and the network itself (`python_start_s`: an empty
interpreter). Prints name=value lines;
on a shared machine, compare the CPU seconds (and the load average printed last) as well as the wall time.

    .venv/bin/python bench/predict.py --run runs/<a run folder>   # a run you have
    .venv/bin/python bench/predict.py                             # makes one first: smoke on the sample, else tiny on generated images

The images are 46 photographs of the real sample ($PETCLASSIFIER_SAMPLE, else ../shared beside the checkout; in a
git worktree set the variable), else generated 64 px images, which decode much faster than photographs (the line
`from=` says which). The petclassifier imported is the one on PYTHONPATH, so the same script measures an older checkout too
(PYTHONPATH=/path/to/old/checkout); the breakdown's batch figures need a version that has `predict_batch`.
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time
from pathlib import Path

ENV = {**os.environ, 'MPLBACKEND': 'Agg', 'PYTHONWARNINGS': 'ignore'}

# runs in a fresh interpreter, so that the import figure is what a command pays
BREAKDOWN = r'''
import sys, time, json
t0 = time.time()
import petclassifier.cli as cli
t1 = time.time()
import fastai.vision.all, petclassifier.fast_data  # what unpickling export.pkl imports anyway
t2 = time.time()
from fastai.learner import load_learner
from PIL import Image
run, images = sys.argv[1], sys.argv[2:]
learn = load_learner(f"{run}/export.pkl", cpu=True)
t3 = time.time()
for i in images:
    with Image.open(i) as im: im.verify()
t4 = time.time()
out = dict(petclassifier=cli.__file__, import_cli_s=t1-t0, import_libs_s=t2-t1, import_s=t2-t0, load_s=t3-t2, check_s=t4-t3)
if hasattr(cli, 'predict_batch'):
    t = time.time(); cli.predict_batch(learn, images); out['infer_s'] = time.time() - t
    nw = learn.dls.valid.num_workers
    if nw:
        t = time.time(); cli.predict_batch(learn, images, num_workers=nw); out[f'infer_workers{nw}_s'] = time.time() - t
with learn.no_bar():
    t = time.time()
    for i in images[:5]: learn.predict(i)
    out['infer_per_image_predict_s'] = (time.time() - t) / min(5, len(images))
print(json.dumps(out))
'''

# the ONNX engine's parts, in a fresh interpreter: imports, opening the model, decoding (one thread), the network
ONNX_BREAKDOWN = r'''
import sys, time, json
t0 = time.time()
import petclassifier.cli, onnxruntime
from petclassifier.deploy import OnnxClassifier, load_item
import numpy as np
t1 = time.time()
run, images = sys.argv[1], sys.argv[2:]
c = OnnxClassifier(run); c.session
t2 = time.time()
x = np.stack([load_item(f, c.meta['item_size']) for f in images])
t3 = time.time()
for _ in range(2): c.session.run(None, {'image': x})
t4 = time.time()
print(json.dumps(dict(onnx_import_s=t1-t0, onnx_open_s=t2-t1, onnx_decode_one_thread_s=t3-t2, onnx_network_s=(t4-t3)/2)))
'''

def sample_dir():
    "The real Oxford-IIIT Pet sample, as the tests find it: $PETCLASSIFIER_SAMPLE, else ../shared beside the checkout."
    root = Path(__file__).resolve().parent.parent
    for p in (os.getenv('PETCLASSIFIER_SAMPLE'), root.parent/'shared/data/oxford-iiit-pet-sample/images'):
        if p and Path(p).is_dir(): return Path(p).resolve()
    return None

def make_run(tmp:Path, sample) -> Path:
    "A finished run folder: the smoke profile on the sample, else the tiny profile on generated images."
    if sample is not None: args = ['--profile', 'smoke', '--data', str(sample)]
    else:
        from petclassifier.data import make_synthetic_pets
        args = ['--profile', 'tiny', '--data', str(make_synthetic_pets(tmp/'pets', n_breeds=4, n_per_breed=12, size=64))]
    r = subprocess.run([sys.executable, '-m', 'petclassifier', 'run', *args, '--runs-dir', str(tmp/'runs'), '--quiet'],
                       capture_output=True, text=True, env=ENV, cwd=tmp)
    if r.returncode: sys.exit(f"could not make a run folder:\n{r.stderr[-3000:]}")
    return next(p for p in (tmp/'runs').iterdir() if (p/'export.pkl').exists())

def pick_images(n:int, sample, tmp:Path) -> list:
    "`n` images spread over the sample's breeds (sorted names, every k-th), else generated ones."
    if sample is None:
        from petclassifier.data import make_synthetic_pets
        sample = make_synthetic_pets(tmp/'pets', n_breeds=4, n_per_breed=12, size=64)
    files = sorted(Path(sample).glob('*.jpg'))
    if len(files) < n: sys.exit(f"{sample} has {len(files)} images, fewer than --n {n}")
    return [str(f) for f in files[::len(files) // n][:n]]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--run', help='a finished run folder (with export.pkl); default: make one')
    ap.add_argument('--n', type=int, default=46, help='how many images (default 46)')
    ap.add_argument('--repeat', type=int, default=1, help='end-to-end repetitions; the fastest is reported')
    a = ap.parse_args()
    tmp, sample = Path(tempfile.mkdtemp(prefix='bench-predict-')), sample_dir()
    run = Path(a.run).resolve() if a.run else make_run(tmp, sample)
    images = pick_images(a.n, sample, tmp)
    engines = ['onnx', 'fastai'] if (run/'model.onnx').is_file() else ['fastai']  # runs made before the export: fastai only
    walls, cpus, recs = {e: [] for e in engines}, {e: [] for e in engines}, {}
    for _ in range(a.repeat):
        for e in engines:
            t0, c0 = time.time(), resource.getrusage(resource.RUSAGE_CHILDREN)
            r = subprocess.run([sys.executable, '-m', 'petclassifier', 'predict', str(run), *images, '--json', '--engine', e],
                               capture_output=True, text=True, env=ENV, cwd=tmp)  # not the checkout: `-m` would import it from there
            c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            walls[e].append(time.time() - t0); cpus[e].append(c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime)
            if r.returncode: sys.exit(f"predict --engine {e} failed:\n{r.stderr[-3000:]}")
            recs[e] = [json.loads(l) for l in r.stdout.splitlines()]
            if [x['path'] for x in recs[e]] != images: sys.exit("predict did not answer one line per image, in order")
    b = subprocess.run([sys.executable, '-c', BREAKDOWN, str(run), *images], capture_output=True, text=True, env=ENV, cwd=tmp)
    if b.returncode: sys.exit(f"breakdown failed:\n{b.stderr[-3000:]}")
    bd = json.loads(b.stdout.splitlines()[-1])
    if 'onnx' in engines:
        o = subprocess.run([sys.executable, '-c', ONNX_BREAKDOWN, str(run), *images], capture_output=True, text=True, env=ENV, cwd=tmp)
        if o.returncode: sys.exit(f"ONNX breakdown failed:\n{o.stderr[-3000:]}")
        bd.update(json.loads(o.stdout.splitlines()[-1]))
    t = time.time(); subprocess.run([sys.executable, '-c', 'pass'], env=ENV, cwd=tmp); bd['python_start_s'] = time.time() - t
    print(f"run={run} images={len(images)} from={Path(images[0]).parent} petclassifier={Path(bd.pop('petclassifier')).parent}")
    for e in engines:
        print(f"{e}_wall_s={min(walls[e]):.2f}")
        print(f"{e}_cpu_s={min(cpus[e]):.2f}")  # user + system time of the command: less sensitive to a busy machine
    if len(engines) == 2:
        same = sum(o['breed'] == f['breed'] for o, f in zip(recs['onnx'], recs['fastai']))
        print(f"engines_same_breed={same}/{len(images)}")
        print(f"engines_max_prob_diff={max(abs(o['probability'] - f['probability']) for o, f in zip(recs['onnx'], recs['fastai'])):.5f}")
    for k, v in bd.items(): print(f"{k}={v:.3f}")
    try: print(f"load_avg_1min={os.getloadavg()[0]:.2f} cpus={os.cpu_count()}")
    except OSError: pass

if __name__ == '__main__': main()
