"""`petclassifier run` on tiny generated data: failure and resume, a second run (on generated data, no data given)
into the same runs folder, history, the offline-weights error, and papermill's literal-only parameters."""
import json
from pathlib import Path
import pytest
import pandas as pd
from petclassifier.data import make_synthetic_pets
from petclassifier.run import execute_notebook, RunFailure
from petclassifier.report import error_interval, validation_counts, load_run
from helpers import cli, run_folders, status, snapshot
from conftest import TINY  # the tiny runs these tests share: tiny, failed_then_resumed, second_run (conftest.py)

def test_failure_is_one_clear_line(failed_then_resumed):
    r1, st1 = failed_then_resumed['r1'], failed_then_resumed['st1']
    assert r1.returncode == 2  # a PetError: something the user can fix
    assert '02_lr_find failed in cell' in r1.stderr and 'larger than lr_hi' in r1.stderr
    assert 'Traceback' not in r1.stderr and '--resume' in r1.stderr
    assert st1['status'] == 'failed' and st1['error']['notebook'] == '02_lr_find'
    assert [st1['notebooks'][nb]['status'] for nb in ['00_data', '01_fit_head', '02_lr_find', '03_discriminative_finetune', '04_interpret']] \
        == ['succeeded', 'succeeded', 'failed', 'pending', 'pending']
    assert not failed_then_resumed['card_after_failure']  # a failed run gets no model card

def test_failed_run_report_puts_the_failure_first(failed_then_resumed):
    md, html = failed_then_resumed['reports_after_failure']
    assert md.index('Run FAILED in 02_lr_find') < md.index('## Results')
    assert 'Run FAILED' in html

def test_partial_notebook_kept_with_papermill_banner(failed_then_resumed):
    nb = json.loads(failed_then_resumed['partial'])
    text = json.dumps(nb)
    assert 'An Exception was encountered' in text and 'larger than lr_hi' in text

def test_resume_completes_and_keeps_the_failed_attempt(failed_then_resumed):
    r2, run = failed_then_resumed['r2'], failed_then_resumed['run']
    assert r2.returncode == 0, r2.stderr[-2000:]
    st = status(run)
    assert st['status'] == 'succeeded' and all(v['status'] == 'succeeded' for v in st['notebooks'].values())
    assert (run/'notebooks'/'02_lr_find.attempt-1.ipynb').exists()
    prm = json.loads((run/'params.json').read_text())
    assert prm['resumes'][0]['from_notebook'] == '02_lr_find' and prm['parameters']['lr_lo'] == 1e-5
    assert json.loads((run/'lr.json').read_text())['lr_lo'] == 1e-5
    assert prm['parameters']['lr_hi'] == 1e-3
    assert 'Run FAILED' not in (run/'report.md').read_text()
    card = (run/'model_card.md').read_text()
    errors, n = validation_counts(load_run(run))
    lo, hi = error_interval(errors, n)
    assert n >= 1 and f"{errors}/{n}" in card and f"95% interval {lo:.3f} to {hi:.3f}" in card, card
    assert 'SYNTHETIC DATA' in card and 'resnet18' in card and 'random initial weights' in card
    assert '## Model card' in (run/'report.md').read_text()
    again = cli('run', '--resume', run)
    assert again.returncode == 2 and 'already succeeded' in again.stderr

def test_two_runs_two_folders_and_history(tiny, failed_then_resumed, second_run):
    runs = run_folders(tiny['runs'])
    assert len(runs) == 2
    assert snapshot(failed_then_resumed['run']) == second_run['first_before']  # the earlier run is untouched
    h = cli('history', '--runs-dir', tiny['runs'])
    assert h.returncode == 0, h.stderr
    for run in runs: assert run.name in h.stdout
    assert 'SYNTHETIC' in h.stdout and (tiny['runs']/'history.png').exists()

def test_synthetic_fallback_is_loud(second_run):
    # no --data, no PETCLASSIFIER_DATA, no fastai copy and no network (second_run)
    r, run = second_run['r'], second_run['run']
    assert 'SYNTHETIC DATA' in r.stdout
    assert 'SYNTHETIC DATA' in (run/'report.html').read_text()
    assert json.loads((run/'data.json').read_text())['synthetic'] is True

def test_resnet34_offline_is_refused_clearly(tiny, tmp_path):
    env = dict(TORCH_HOME=str(tmp_path/'torch'), HTTPS_PROXY='http://127.0.0.1:9', https_proxy='http://127.0.0.1:9')
    r = cli('run', *TINY, '--data', tiny['data'], '--runs-dir', tmp_path/'runs', '--set', 'arch=resnet34',
            '--set', 'pretrained=True', env=env)
    assert r.returncode == 2
    line = [l for l in r.stderr.splitlines() if l.startswith('error:')][0]
    assert "01_fit_head failed" in line and "pretrained weights for 'resnet34' cannot be downloaded" in line
    assert 'efficientnet_lite0' in line and 'pretrained=False' in line and 'Traceback' not in r.stderr

def test_parameters_stay_literals(tiny, tmp_path):
    "A value that looks like code stays a string, on the command line and in papermill's injected cell."
    evil = "__import__('os').system('touch PWNED')"
    r = cli('run', *TINY, '--runs-dir', tmp_path/'runs', '--set', f'data_path={evil}', cwd=tmp_path)
    assert r.returncode == 2 and 'does not exist' in r.stderr and evil in r.stderr
    run = tmp_path/'direct'; run.mkdir()
    with pytest.raises(RunFailure) as e: execute_notebook('00_data', run, dict(data_path=evil))
    assert e.value.info['type'] == 'PetError' and evil in e.value.info['message']
    injected = json.loads((run/'notebooks'/'00_data.ipynb').read_text())
    src = next(''.join(c['source']) for c in injected['cells'] if 'injected-parameters' in c['metadata'].get('tags', []))
    assert f'data_path = {evil!r}' in src or f'data_path = "{evil}"' in src, src
    assert not list(tmp_path.rglob('PWNED')) and not Path('PWNED').exists()

def test_an_empty_cache_gives_the_same_numbers(tiny, tmp_path):
    """The first run on a machine converts the efficientnet_lite0 weights (and fills the image cache); a later run finds
    both ready. Same seed, same data: the same metrics (test-time augmentation's included), epoch by epoch, and the same
    per-breed table, either way."""
    cache = tmp_path/'cache'  # empty: the first run converts the weights into it
    runs = []
    for i in range(2):
        r = cli('run', *TINY, '--data', tiny['data'], '--runs-dir', tmp_path/f'runs{i}', '--set', "arch='efficientnet_lite0'",
                '--set', 'pretrained=True', '--set', 'probe_epochs=3', '--set', 'tta=True', env=dict(PETCLASSIFIER_CACHE=str(cache)))
        assert r.returncode == 0, r.stderr
        runs.append(run_folders(tmp_path/f'runs{i}')[0])
        if i == 0: assert (cache/'weights'/'tf_efficientnet_lite0.imagenet.pth').exists()
    m0, m1 = (json.loads((run/'metrics.json').read_text()) for run in runs)
    for k in ('head_error_rate', 'final_error_rate', 'interpret_error_rate', 'tta_error_rate', 'lr_lo', 'lr_hi'):
        assert m0[k] == m1[k], (k, m0[k], m1[k])
    for f in ('per_breed.csv', 'history.csv', 'lr.json'):
        read = (lambda run: pd.read_csv(run/f).drop(columns='seconds').to_csv()) if f == 'history.csv' else (lambda run: (run/f).read_text())
        assert read(runs[0]) == read(runs[1]), f
