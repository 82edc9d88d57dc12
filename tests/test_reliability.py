"""Every bad input gets one clear line, the right exit status and no traceback; faults during a run leave a
resumable run folder; nothing an earlier run produced changes. One row of CASES per mistake a user can make."""
import json, os, shutil, signal, subprocess, sys, threading, time
from pathlib import Path
import nbformat
import pytest
from PIL import Image
from petclassifier.data import make_synthetic_pets
from petclassifier.run import execute_notebook, RunFailure
from helpers import cli, main_in_process, run_folders, status, snapshot

TINY = ['--profile', 'tiny']
USAGE, FAILED, INTERRUPTED = 2, 1, 130

@pytest.fixture(scope='session')
def w(tmp_path_factory):
    "A workspace: good data (4 breeds x 8 generated images) and a folder for the cases."
    base = tmp_path_factory.mktemp('rel')
    return dict(base=base, good=make_synthetic_pets(base/'good', n_breeds=4, n_per_breed=8, size=64))

@pytest.fixture(scope='session')
def earlier(w):
    "Two runs started at the same moment into one runs folder (they must not collide); they are then never to change."
    runs = w['base']/'earlier'
    ps = [_start([*TINY, '--data', w['good']], runs) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in ps]
    for p, (out, err) in zip(ps, outs): assert p.returncode == 0, err[-2000:]
    runs_made = run_folders(runs)
    return dict(runs=runs, run=runs_made[0], all=runs_made, outs=outs, before={r.name: snapshot(r) for r in runs_made})

def _variant(w, name, make):
    "A copy of the good data with a change made by `make(folder)`."
    d = w['base']/'data'/name
    if not d.exists():
        shutil.copytree(w['good'], d)
        make(d)
    return d

def _misnamed_some(d): shutil.copy(d/'pug_1.jpg', d/'holiday photo.jpg')
def _misnamed_all(d):
    for i, f in enumerate(sorted(d.glob('*.jpg'))): f.rename(d/f'photo-{i}.jpg')
def _corrupt(d): (d/'beagle_50.jpg').write_bytes(b'\xff\xd8\xff\xe0\x00\x10JFIF' + os.urandom(200))
def _zero(d): (d/'beagle_51.jpg').write_bytes(b'')
def _text(d): (d/'beagle_52.jpg').write_text('this is a text file\n')
def _single_image_breed(d): shutil.copy(d/'pug_1.jpg', d/'Sphynx_1.jpg')
def _one_breed(d):
    for f in d.glob('*.jpg'):
        if not f.name.startswith('pug'): f.unlink()
def _empty(d):
    for f in d.glob('*.jpg'): f.unlink()

# (id, extra arguments (callables receive the workspace), exit status, words the message must contain)
CASES = [
    ('data-missing', lambda w: ['--data', w['base']/'nope'], USAGE, ['does not exist']),
    ('data-is-a-file', lambda w: ['--data', w['good']/'pug_1.jpg'], USAGE, ['is a file']),
    ('data-no-images', lambda w: ['--data', _variant(w, 'empty', _empty)], USAGE, ['no images']),
    ('names-some-wrong', lambda w: ['--data', _variant(w, 'some', _misnamed_some)], USAGE, ['do not match', 'holiday photo.jpg']),
    ('names-all-wrong', lambda w: ['--data', _variant(w, 'all', _misnamed_all)], USAGE, ['32 file name(s) do not match']),
    ('corrupt-jpeg', lambda w: ['--data', _variant(w, 'corrupt', _corrupt)], USAGE, ['not readable', 'beagle_50.jpg']),
    ('zero-byte', lambda w: ['--data', _variant(w, 'zero', _zero)], USAGE, ['not readable', 'beagle_51.jpg']),
    ('text-as-jpg', lambda w: ['--data', _variant(w, 'text', _text)], USAGE, ['not readable', 'beagle_52.jpg']),
    ('breed-with-one-image', lambda w: ['--data', _variant(w, 'single', _single_image_breed)], USAGE, ['Sphynx: 1 image']),
    ('only-one-breed', lambda w: ['--data', _variant(w, 'onebreed', _one_breed)], USAGE, ['only 1 breed']),
    ('set-unknown-name', lambda w: ['--data', w['good'], '--set', 'epoch_head=2'], USAGE, ['unknown parameter', 'epochs_head']),
    ('set-no-equals', lambda w: ['--data', w['good'], '--set', 'epochs_head'], USAGE, ['name=value']),
    ('set-wrong-type', lambda w: ['--data', w['good'], '--set', 'epochs_head=abc'], USAGE, ['wrong type', 'int']),
    ('set-valid-pct', lambda w: ['--data', w['good'], '--set', 'valid_pct=1.5'], USAGE, ['valid_pct=1.5', 'out of range']),
    ('set-size-zero', lambda w: ['--data', w['good'], '--set', 'size=0'], USAGE, ['size=0', 'out of range']),
    ('set-bs-zero', lambda w: ['--data', w['good'], '--set', 'bs=0'], USAGE, ['bs=0']),
    ('set-negative-epochs', lambda w: ['--data', w['good'], '--set', 'epochs_finetune=-2'], USAGE, ['epochs_finetune=-2']),
    ('unknown-arch', lambda w: ['--data', w['good'], '--set', 'arch=resnet43'], USAGE, ['unknown architecture', 'resnet34']),
    ('weights-offline', lambda w: ['--data', w['good'], '--set', 'arch=resnet34', '--set', 'pretrained=True'], USAGE,
     ['cannot be downloaded', 'efficientnet_lite0']),
    ('lr-swapped', lambda w: ['--data', w['good'], '--set', 'lr_lo=1e-3', '--set', 'lr_hi=1e-5'], USAGE, ['swap them']),
    ('lr-zero', lambda w: ['--data', w['good'], '--set', 'lr_lo=0'], USAGE, ['lr_lo=0', 'out of range']),
    ('lr-negative', lambda w: ['--data', w['good'], '--set', 'lr_hi=-1e-3'], USAGE, ['lr_hi=-0.001']),
    ('unknown-profile', lambda w: ['--profile', 'fast'], USAGE, ['unknown profile', 'smoke']),
    ('kernel-missing', lambda w: ['--data', w['good'], '--kernel', 'no-such-kernel'], USAGE, ['kernel', 'not registered']),
    ('runs-dir-unwritable', lambda w: ['--data', w['good'], '--runs-dir', w['good']/'pug_1.jpg'/'runs'], USAGE,
     ['cannot create the runs folder']),
    ('resume-not-a-run', lambda w: ['--resume', w['good']], USAGE, ['not a run folder']),
    ('resume-missing', lambda w: ['--resume', w['base']/'nope'], USAGE, ['does not exist']),
]

CAUGHT_IN_A_NOTEBOOK = {'weights-offline'}  # only a download attempt in 01_fit_head can tell
OFFLINE = dict(TORCH_HOME='', HTTPS_PROXY='http://127.0.0.1:9', https_proxy='http://127.0.0.1:9')

@pytest.mark.parametrize('name,args,code,words', CASES, ids=[c[0] for c in CASES])
def test_run_case(w, name, args, code, words, monkeypatch):
    "In this process, as `petclassifier run ...` (the command's own start is tested by test_debug_shows_the_traceback)."
    a = [x for x in args(w)]
    base = [] if '--resume' in a else [*TINY] if '--profile' not in a else []
    runs = [] if any(x == '--runs-dir' for x in a) or '--resume' in a else ['--runs-dir', w['base']/'cases'/name]
    for k, v in dict(OFFLINE, TORCH_HOME=str(w['base']/'torch')).items(): monkeypatch.setenv(k, v)
    got, _, err = main_in_process('run', *base, *a, *runs)
    assert got == code, (got, err[-1500:])
    line = [l for l in err.splitlines() if l.startswith('error:')]
    assert line, err
    for word in words: assert word in err, (word, err)
    assert 'Traceback' not in err
    if name not in CAUGHT_IN_A_NOTEBOOK:  # refused before a run folder is made
        folder = w['base']/'cases'/name
        assert not folder.exists() or not run_folders(folder), name

def test_resume_of_a_succeeded_run_is_refused(earlier):
    r = cli('run', '--resume', earlier['run'])
    assert r.returncode == USAGE and 'already succeeded' in r.stderr and 'Traceback' not in r.stderr, r.stderr

def test_debug_shows_the_traceback(w):
    r = cli('--debug', 'run', *TINY, '--data', w['base']/'nope', '--runs-dir', w['base']/'cases'/'debug')
    assert r.returncode == USAGE and 'Traceback' in r.stderr

def test_huge_image_is_accepted_with_a_warning(w, tmp_path):
    d = _variant(w, 'huge', lambda d: Image.new('RGB', (12000, 12000), (120, 90, 60)).save(d/'pug_99.jpg', quality=50))
    from petclassifier.data import check_images
    with pytest.warns(UserWarning, match='pug_99.jpg'): files = check_images(d)
    assert d/'pug_99.jpg' in files

# predict
def test_predict_cases(w, earlier, tmp_path):
    run = earlier['run']
    img = w['good']/'pug_1.jpg'
    cases = [
        (['predict', run, tmp_path/'missing.jpg'], 'not found'),
        (['predict', run, run/'params.json'], 'not readable'),
        (['predict', tmp_path/'nope.pkl', img], 'does not exist'),
    ]
    fake = tmp_path/'fakerun'; shutil.copytree(run, fake, ignore=shutil.ignore_patterns('*.pkl'))
    (fake/'export.pkl').write_bytes(b'this is not a pickle')
    cases.append((['predict', fake, img, '--engine', 'fastai'], 'it changed after it was signed'))
    loose = tmp_path/'loose'; loose.mkdir(); shutil.copy(run/'export.pkl', loose/'export.pkl')
    cases.append((['predict', loose/'export.pkl', img], 'it has no signature'))
    (fake/'model.onnx').unlink()
    cases.append((['predict', fake, img, '--engine', 'onnx'], 'has no exported model'))
    for args, words in cases:
        r = cli(*args)
        assert r.returncode == USAGE and words in r.stderr and 'Traceback' not in r.stderr, (args, r.stderr)

def test_predict_runs_no_code_from_a_forged_run_folder(w, tmp_path):
    "Two empty files make a folder look like a run; its pickle is still refused, and nothing in it runs."
    forged, marker = tmp_path/'forged', tmp_path/'PWNED'
    forged.mkdir(); (forged/'status.json').write_text(''); (forged/'params.json').write_text('')
    class Evil:
        def __reduce__(self): return (os.system, (f'touch {marker}',))
    import pickle
    (forged/'export.pkl').write_bytes(pickle.dumps(Evil()))
    r = cli('predict', forged, w['good']/'pug_1.jpg')
    assert r.returncode == USAGE and 'was not written by your runs: it has no signature' in r.stderr, r.stderr
    (forged/'export.pkl.sig').write_text('{"algorithm": "hmac-sha256", "digest": "00", "key_id": "forged"}')
    r = cli('predict', forged, w['good']/'pug_1.jpg')
    assert r.returncode == USAGE and 'signed with another key' in r.stderr, r.stderr
    assert not marker.exists()

# a notebook run alone in a folder whose upstream artefacts are missing or damaged
def _alone(nb, run):
    with pytest.raises(RunFailure) as e: execute_notebook(nb, run, {})
    assert e.value.info['type'] == 'PetError'
    return str(e.value)

def test_notebooks_alone_name_what_is_missing(earlier, tmp_path):
    run = tmp_path/'partial'; shutil.copytree(earlier['run'], run)
    (run/'stage1.pth').unlink()
    assert 'run 01_fit_head' in _alone('02_lr_find', run)
    (run/'stage1.pth').write_bytes((earlier['run']/'stage1.pth').read_bytes()[:5000])
    assert 'cannot be loaded' in _alone('03_discriminative_finetune', run)
    shutil.copy(earlier['run']/'stage1.pth', run/'stage1.pth')
    (run/'lr.json').write_text('{"lr_lo": 1e-5,')
    assert 'not valid JSON' in _alone('03_discriminative_finetune', run)
    (run/'perfecto.pth').write_bytes(b'')
    assert 'run 03_discriminative_finetune again' in _alone('04_interpret', run)
    empty = tmp_path/'empty'; empty.mkdir()
    assert 'run 00_data' in _alone('01_fit_head', empty)

def test_checkpoints_are_not_pickles(earlier, tmp_path):
    "A stage file that would run code when unpickled is refused (weights_only) and runs nothing."
    run = tmp_path/'evil'; shutil.copytree(earlier['run'], run)
    marker = tmp_path/'PWNED'
    class Evil:
        def __reduce__(self): return (os.system, (f'touch {marker}',))
    import torch
    torch.save({'model': Evil()}, run/'perfecto.pth')
    assert 'cannot be loaded' in _alone('04_interpret', run)
    assert not marker.exists()

def test_disk_full_while_saving(w, tmp_path):
    "A runs folder on a 3 MiB file system: 00_data fits, the checkpoint of 01 does not."
    small = tmp_path/'small'; small.mkdir()
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', str(small)], capture_output=True).returncode:
        pytest.skip('cannot mount a small tmpfs here (needs root)')
    try:
        r = cli('run', *TINY, '--data', w['good'], '--runs-dir', small)
        assert r.returncode in (USAGE, FAILED), r.stderr[-2000:]
        assert '01_fit_head failed' in r.stderr and 'the disk is full' in r.stderr and '--resume' in r.stderr
        assert 'Traceback' not in r.stderr
        (run,) = run_folders(small)
        assert status(run)['status'] == 'failed' and not list(run.glob('*.partial*'))
    finally:
        subprocess.run(['umount', str(small)])

# faults during a run
def _start(args, runs):
    return subprocess.Popen([sys.executable, '-m', 'petclassifier', 'run', *map(str, args), '--runs-dir', str(runs)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, 'MPLBACKEND': 'Agg'})

# SIGTERM with DataLoader worker processes (the default outside the tiny profile), SIGINT without
@pytest.mark.parametrize('sig,workers', [(signal.SIGTERM, 2), (signal.SIGINT, 0)], ids=['SIGTERM', 'SIGINT'])
def test_interrupted_run_is_marked_and_resumable(w, tmp_path, sig, workers):
    "Also: the epochs of 01 are printed while 01 runs (live progress), and the kernels' chatter is not."
    runs, lines = tmp_path/'runs', []
    p = subprocess.Popen([sys.executable, '-m', 'petclassifier', 'run', *TINY, '--data', str(w['good']), '--set',
                          'epochs_head=30', '--set', f'num_workers={workers}', '--runs-dir', str(runs)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, env={**os.environ, 'MPLBACKEND': 'Agg'})
    def read():
        for l in iter(p.stdout.readline, ''): lines.append(l)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    t0 = time.time()
    while not any('01_fit_head  head epoch 2/30' in l for l in lines):
        assert time.time() - t0 < 300 and p.poll() is None, ''.join(lines)[-2000:]
        time.sleep(0.2)
    (run,) = run_folders(runs)
    assert status(run)['notebooks']['01_fit_head']['status'] == 'running'  # seen while 01 was still training
    p.send_signal(sig)
    p.wait(timeout=120); reader.join(timeout=10)
    err = ''.join(lines)
    assert p.returncode == INTERRUPTED, err[-2000:]
    assert 'IPKernelApp' not in err and 'error_rate' in err
    st = status(run)
    assert st['status'] == 'interrupted' and st['notebooks']['01_fit_head']['status'] == 'interrupted'
    assert (run/'notebooks'/'01_fit_head.ipynb').exists() and '--resume' in err
    if sig != signal.SIGTERM: return  # one resume is enough: both signals take the same path (05_run tests each point)
    r = cli('run', '--resume', run, '--set', 'epochs_head=1')
    assert r.returncode == 0, r.stderr[-2000:]
    assert status(run)['status'] == 'succeeded'

def test_concurrent_runs_do_not_collide(earlier):
    for out, err in earlier['outs']:
        assert 'IPKernelApp' not in out + err, "the kernels' launcher chatter belongs in kernels.log"
    rs = earlier['all']
    assert len(rs) == 2 and all(status(r)['status'] == 'succeeded' for r in rs)
    assert not list(earlier['runs'].rglob('_tmp.pth'))
    assert all((r/'kernels.log').is_file() for r in rs)

def test_history_of_two_runs(earlier):
    h = cli('history', '--runs-dir', earlier['runs'])
    assert h.returncode == 0, h.stderr
    for run in earlier['all']: assert run.name in h.stdout
    assert 'SYNTHETIC' in h.stdout and (earlier['runs']/'history.png').exists()

def _fake_series(tmp_path, nb, source):
    "A copy of the notebooks in which notebook `nb` is replaced by one code cell."
    d = tmp_path/'nbs'
    shutil.copytree(Path(__file__).resolve().parent.parent/'nbs', d, ignore=shutil.ignore_patterns('*.ipynb_checkpoints'))
    cell = nbformat.v4.new_code_cell("run_dir = 'x'"); cell.metadata['tags'] = ['parameters']
    nbformat.write(nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_code_cell('#| step\n#| slow\n' + source)],
                   metadata={'kernelspec': {'name': 'python3', 'language': 'python', 'display_name': 'python3'}}), d/f'{nb}.ipynb')
    return d

def test_dead_kernel_is_reported(w, tmp_path):
    nbs = _fake_series(tmp_path, '01_fit_head', 'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)')
    t0 = time.time()
    r = cli('run', *TINY, '--data', w['good'], '--runs-dir', tmp_path/'runs', env=dict(PETCLASSIFIER_NBS=str(nbs)), timeout=300)
    assert r.returncode == FAILED and 'kernel died' in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]
    assert time.time() - t0 < 240
    (run,) = run_folders(tmp_path/'runs')
    assert status(run)['error']['type'] == 'DeadKernel'

def test_hung_cell_times_out(w, tmp_path):
    nbs = _fake_series(tmp_path, '01_fit_head', 'import time\ntime.sleep(600)')
    r = cli('run', *TINY, '--data', w['good'], '--runs-dir', tmp_path/'runs', '--cell-timeout', '5',
            env=dict(PETCLASSIFIER_NBS=str(nbs)), timeout=300)
    assert r.returncode == FAILED and 'longer than 5 s' in r.stderr and '--cell-timeout' in r.stderr, r.stderr[-2000:]

def test_zz_earlier_runs_are_untouched(earlier):
    assert {r.name: snapshot(r) for r in run_folders(earlier['runs'])} == earlier['before']
