"""The whole series end to end with papermill, through the runner: every artefact real, the error on the real
sample at most 0.30 (chance: 0.97), reports, predict. Offline, in a few minutes on 2 CPU cores."""
import json, shutil
from pathlib import Path
import pandas as pd
import pytest
from petclassifier.core import RUN_FILES
from petclassifier.params import PROFILES
from helpers import cli, main_in_process, run_folders, status, assert_png_real

def test_every_artefact(chain):
    run = chain['run']
    for key, f in RUN_FILES.items():
        if f.producer == 'petclassifier docs': continue  # the site is built on demand (test_docs.py)
        assert (run/f.name).exists(), f"{f.name} ({f.producer or 'the runner'}) missing"
    for nb in ['00_data', '01_fit_head', '02_lr_find', '03_discriminative_finetune', '04_interpret']:
        assert (run/'notebooks'/f'{nb}.ipynb').exists()
    for png in run.glob('*.png'): assert_png_real(png)

def test_json_and_csv_content(chain):
    run = chain['run']
    m = json.loads((run/'metrics.json').read_text())
    for k in ['head_error_rate', 'final_error_rate', 'species_error_rate', 'epochs_head', 'epochs_finetune', 'lr_lo', 'lr_hi', 'seconds']:
        assert k in m, k
    lr = json.loads((run/'lr.json').read_text())
    for k in ['valley', 'slide', 'minimum', 'steep', 'lr_lo', 'lr_hi']: assert k in lr, k
    assert 0 < lr['lr_lo'] <= lr['lr_hi']
    h = pd.read_csv(run/'history.csv')
    eh, ef = PROFILES['smoke']['epochs_head'], PROFILES['smoke']['epochs_finetune']
    assert list(h.stage) == ['head'] * eh + ['finetune'] * ef and list(h.epoch) == [*range(1, eh + 1), *range(1, ef + 1)]
    assert h[['train_loss', 'valid_loss', 'error_rate', 'seconds']].notna().all().all()
    breeds = pd.read_csv(run/'breeds.csv')
    per_breed = pd.read_csv(run/'per_breed.csv')
    assert len(per_breed) == len(breeds) and set(per_breed.breed) == set(breeds.breed)
    assert list(pd.read_csv(run/'most_confused.csv').columns) == ['actual', 'predicted', 'count']
    env = json.loads((run/'environment.json').read_text())
    assert env['versions']['fastai'] == '2.8.7' and env['device']
    data = json.loads((run/'data.json').read_text())
    assert data['n_images'] == sum(breeds.images) and len(data['fingerprint']) == 16

def test_learning_happened(chain):
    run = chain['run']
    m = json.loads((run/'metrics.json').read_text())
    if chain['real']:
        breeds = pd.read_csv(run/'breeds.csv')
        assert len(breeds) == 37 and set(breeds.images) == {9} and (breeds.species == 'cat').sum() == 12
        # the smoke profile's goal is 0.25 in the mean over seeds (0.242 with this seed here); one image is 0.015
        assert m['final_error_rate'] <= 0.30, m
        assert m['head_error_rate'] <= 0.30, m  # the probe on the frozen features alone
    else:
        breeds = pd.read_csv(run/'breeds.csv')
        assert m['head_error_rate'] < 1 - 1 / len(breeds), m  # the probe beats chance on the generated breeds

def test_summary_and_reports(chain):
    out, run = chain['out'], chain['run']
    for nb in ['00_data', '04_interpret']: assert nb in out
    assert 'final_error_rate=' in out and 'report:' in out
    html = (run/'report.html').read_text()
    assert html.count('data:image/png;base64,') == 6
    md = (run/'report.md').read_text()
    assert '0.058' in md and 'tutorial_reference' in md
    assert ('SYNTHETIC' in md) != chain['real']

def test_predict_prints_a_breed(chain):
    run, data = chain['run'], Path(chain['data'])
    img = sorted(data.glob('*.jpg'))[0]
    r = cli('predict', run, img)
    assert r.returncode == 0, r.stderr
    path, breed, prob = r.stdout.strip().split('\t')
    vocab = set(pd.read_csv(run/'breeds.csv').breed)
    assert path == str(img) and breed in vocab and 0 < float(prob) <= 1
    r = cli('predict', run/'export.pkl', img, '--json', '--top', '3')
    rec = json.loads(r.stdout)
    assert len(rec['top']) == 3 and all(b in vocab for b, _ in rec['top'])

def test_predict_refuses_a_pickle_from_elsewhere(chain, tmp_path):
    loose = tmp_path/'export.pkl'
    loose.write_bytes((chain['run']/'export.pkl').read_bytes())
    img = sorted(Path(chain['data']).glob('*.jpg'))[0]
    r = cli('predict', loose, img)
    assert r.returncode == 2 and 'was not written by your runs' in r.stderr and '--trust' in r.stderr
    assert main_in_process('predict', loose, img, '--trust')[0] == 0
    shutil.copy(chain['run']/'export.pkl.sig', tmp_path)  # with its signature, the file is known to be this user's
    assert main_in_process('predict', loose, img)[0] == 0

def test_onnx_export_agrees_and_predicts_without_trust(chain, tmp_path):
    "Every run exports model.onnx checked against fastai; predict gives the same breeds with either engine."
    run, data = chain['run'], Path(chain['data'])
    meta = json.loads((run/'inference.json').read_text())
    assert meta['parity']['top1_agreement'] == 1.0 and meta['parity']['max_prob_diff'] < 1e-3, meta['parity']
    assert meta['labels'] == json.loads((run/'model.json').read_text())['vocab']
    imgs = sorted(data.glob('*.jpg'))[::7][:12]
    got = {}
    for engine in ('onnx', 'fastai'):  # in this process: the command's start is tested above
        code, out, err = main_in_process('predict', run, *imgs, '--json', '--top', '3', '--engine', engine)
        assert code == 0, err
        got[engine] = [json.loads(l) for l in out.splitlines()]
    assert [g['breed'] for g in got['onnx']] == [g['breed'] for g in got['fastai']]
    assert max(abs(a['probability'] - b['probability']) for a, b in zip(got['onnx'], got['fastai'])) <= 1e-3
    loose = tmp_path/'handed-over'; loose.mkdir()  # an ONNX model from someone else is data, not code: no --trust
    for f in ('model.onnx', 'inference.json'): shutil.copy(run/f, loose/f)
    r = cli('predict', loose, imgs[0])
    assert r.returncode == 0 and r.stdout.split('\t')[1] == got['onnx'][0]['breed'], r.stderr
    code, out, err = main_in_process('export', run, '--out', tmp_path/'again')
    assert code == 0 and 'top-1 agreement 100.00%' in out, out + err
    assert (tmp_path/'again'/'model.onnx').is_file()
