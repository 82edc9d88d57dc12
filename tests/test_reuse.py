"""`petclassifier run --reuse`: a new run copies the notebooks of an earlier run whose inputs are unchanged and executes
the rest; the new folder is complete on its own, and the earlier one is left as it was. The earlier run is the
runner tests' second tiny run (images generated inside its folder); the new runs are made by the `reused` fixture."""
import json
import pytest
from petclassifier.core import RUN_FILES
from petclassifier.params import SERIES, nbs_dir, resolve_params
from petclassifier.report import run_history
from petclassifier.reuse import notebook_keys, plan_reuse, file_sha
from helpers import cli, status, main_in_process
from conftest import TINY, no_data_env

def _lines(r) -> list: return [l for l in r.stdout.splitlines() if ' reused from ' in l or ' re-runs: ' in l]
def _metrics(run) -> dict: return json.loads((run/'metrics.json').read_text())
def _reused(run) -> list: return [bool(status(run)['notebooks'][nb].get('reused_from')) for nb in SERIES]

def test_changing_only_k_executes_only_04(reused):
    r, run, old = reused['k'], reused['k_run'], reused['old']
    assert r.returncode == 0, r.stderr[-3000:]
    lines = _lines(r)
    assert lines[0].startswith(f"00_data reused from {old.name} (its generated images: no data folder is set"), lines
    assert lines[1:] == [f"{nb} reused from {old.name}" for nb in SERIES[1:4]] + ["04_interpret re-runs: k 4 → 2"]
    assert '[5/5] 04_interpret done' in r.stdout and '[4/5]' not in r.stdout
    assert _reused(run) == [True] * 4 + [False] and status(run)['status'] == 'succeeded'
    a, b = _metrics(old), _metrics(run)
    for k in ('head_error_rate', 'final_error_rate', 'lr_lo', 'lr_hi', 'interpret_error_rate'): assert a[k] == b[k], k
    assert {nb: b['seconds'][nb] for nb in SERIES[:4]} == {nb: a['seconds'][nb] for nb in SERIES[:4]}
    injected = json.loads((run/'notebooks'/'04_interpret.ipynb').read_text())
    assert any('k = 2' in ''.join(c['source']) for c in injected['cells'] if 'injected-parameters' in c['metadata'].get('tags', []))
    assert reused['old_unchanged']  # the earlier run: not one byte changed

def test_the_new_folder_stands_on_its_own(reused):
    run, old = reused['k_run'], reused['old']
    for f in RUN_FILES.values():  # everything the earlier run's notebooks wrote is here too
        if f.producer and f.producer in SERIES and (old/f.name).exists(): assert (run/f.name).exists(), f.name
    for nb in SERIES: assert (run/'notebooks'/f'{nb}.ipynb').is_file(), nb
    data = json.loads((run/'data.json').read_text())  # the images were generated inside the earlier run's folder
    assert data['path'] == str((run/'synthetic_pets').resolve()) and (run/'synthetic_pets').is_dir()
    assert str(old.resolve()) not in (run/'inference.json').read_text()
    for rel, (size, sha) in status(run)['notebooks']['01_fit_head']['outputs'].items():  # 03 appended to history.csv
        assert file_sha(run/rel, size) == sha, rel

def test_a_reused_run_has_its_report_history_and_site(reused, tmp_path):
    run = reused['k_run']
    md = (run/'report.md').read_text()
    assert f"reused from {reused['old'].name}" in md
    assert 'Reused, not executed: 00_data, 01_fit_head, 02_lr_find, 03_discriminative_finetune' in md
    assert list(run_history(run.parent).reused) == [4]
    d = cli('docs', run, '--out', tmp_path/'site')
    assert d.returncode == 0, d.stderr[-3000:]
    for nb in SERIES: assert (tmp_path/'site'/'notebooks'/f'{nb}.html').is_file(), nb
    assert 'interp.plot_top_losses(' in (tmp_path/'site'/'notebooks'/'04_interpret.html').read_text()

def test_editing_a_cell_of_02_executes_02_to_04(reused):
    r, run, old = reused['edited'], reused['edited_run'], reused['old']
    assert r.returncode == 0, r.stderr[-3000:]
    assert _lines(r)[1:] == [f"01_fit_head reused from {old.name}", "02_lr_find re-runs: its cells changed"] + \
                        [f"{nb} re-runs: it reads what 02_lr_find writes, which re-runs" for nb in SERIES[3:]]
    assert _reused(run) == [True, True, False, False, False] and status(run)['status'] == 'succeeded'
    assert 'the range: ' in (run/'notebooks'/'02_lr_find.ipynb').read_text()
    head = lambda p: [l for l in p.read_text().splitlines() if '"head"' in l]  # the progress log: 01's lines, then 02's on
    assert head(run/'progress.jsonl') == head(old/'progress.jsonl')
    assert '"lr_find"' in (run/'progress.jsonl').read_text()
    assert _metrics(run)['head_error_rate'] == _metrics(old)['head_error_rate'] and 'final_error_rate' in _metrics(run)

def test_changed_data_executes_everything(reused, tiny, monkeypatch):
    for k, v in no_data_env(tiny).items(): monkeypatch.setenv(k, v)
    prm, per = resolve_params('tiny')
    assert plan_reuse(reused['old'], notebook_keys(prm, per, nbs_dir()))[0] == len(SERIES)  # as the command line sees it
    monkeypatch.setenv('PETCLASSIFIER_DATA', str(tiny['data']))  # the images now come from a folder
    start, lines = plan_reuse(reused['old'], notebook_keys(*resolve_params('tiny'), nbs_dir()))
    assert start == 0 and lines[0] == '00_data re-runs: the data changed', lines

def test_reuse_refusals(tiny, tmp_path):
    code, out, err = main_in_process('run', '--resume', tmp_path, '--reuse', 'latest')
    assert code == 2 and 'use one of them' in err
    code, out, err = main_in_process('run', '--resume', tmp_path, '--run-dir', tmp_path/'new')
    assert code == 2 and 'leave out --run-dir' in err and not (tmp_path/'new').exists()
    code, out, err = main_in_process('run', *TINY, '--data', tiny['data'], '--runs-dir', tmp_path/'runs', '--reuse', 'latest')
    assert code == 2 and 'there is no run in' in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path/'runs').exists()  # refused before any folder is made
