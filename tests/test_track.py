"""`petclassifier run --track mlflow`: a tiny run logged to the local MLflow store and read back with MLflow's own
client; a tracking failure that leaves the run's exit status alone; a missing MLflow refused before the run starts."""
import contextlib, csv, io, json, subprocess, sys
from pathlib import Path
import pytest
from mlflow.tracking import MlflowClient
import petclassifier.cli as pcli
from petclassifier.core import artefact, write_json, update_metrics
from petclassifier.data import make_synthetic_pets
from petclassifier.params import SERIES
from petclassifier.run import RunFailure
from petclassifier.track import INSTALL_HINT, TRACKING_ENV, DEFAULT_EXPERIMENT, default_tracking_uri, log_run
from helpers import cli, run_folders

# --- a real tiny run, tracked ---

@pytest.fixture(scope='session')
def tracked(tmp_path_factory):
    base = tmp_path_factory.mktemp('track')
    data = make_synthetic_pets(base/'pets', n_breeds=4, n_per_breed=8, size=64)
    runs = base/'runs'
    r = cli('run', '--profile', 'tiny', '--data', data, '--runs-dir', runs, '--track', 'mlflow', env={TRACKING_ENV: ''})
    assert r.returncode == 0, r.stderr[-3000:]
    (run,) = run_folders(runs)
    uri = default_tracking_uri(runs)
    rid = json.loads(artefact(run, 'metrics').read_text())['tracking']['run_id']
    return dict(r=r, run=run, runs=runs, uri=uri, client=MlflowClient(tracking_uri=uri), rid=rid)

def test_the_run_is_in_the_local_store(tracked):
    r, run, runs, rid = tracked['r'], tracked['run'], tracked['runs'], tracked['rid']
    assert (runs/'mlruns'/'mlflow.db').is_file()
    out = r.stdout.strip().splitlines()
    assert out[-1].startswith('report: ') and any(l.startswith(f'mlflow: run {rid}') for l in out), out[-4:]
    assert 'warning' not in r.stderr
    mr = tracked['client'].get_run(rid)
    assert mr.info.status == 'FINISHED' and mr.info.run_name == run.name
    assert tracked['client'].get_experiment(mr.info.experiment_id).name == DEFAULT_EXPERIMENT
    assert mr.data.tags['petclassifier.status'] == 'succeeded' and mr.data.tags['petclassifier.profile'] == 'tiny'
    assert json.loads(artefact(run, 'metrics').read_text())['tracking']['uri'] == tracked['uri']
    from petclassifier.report import run_history
    assert len(run_history(runs)) == 1  # the store's folder is not taken for a run

def test_parameters_are_the_resolved_ones(tracked):
    prm = json.loads(artefact(tracked['run'], 'params').read_text())['parameters']
    assert tracked['client'].get_run(tracked['rid']).data.params == {k: str(v) for k, v in prm.items()}

def test_every_epoch_of_both_stages(tracked):
    c, rid = tracked['client'], tracked['rid']
    with open(artefact(tracked['run'], 'history'), newline='') as f: rows = list(csv.DictReader(f))
    assert {r['stage'] for r in rows} == {'head', 'finetune'}
    for stage in ('head', 'finetune'):
        want = [(int(r['epoch']), float(r['valid_loss'])) for r in rows if r['stage'] == stage]
        for col in ('valid_loss', 'train_loss', 'error_rate'):
            got = sorted((m.step, m.value) for m in c.get_metric_history(rid, f'{stage}/{col}'))
            assert [s for s, _ in got] == [e for e, _ in want], (stage, col, got)
        got = sorted((m.step, m.value) for m in c.get_metric_history(rid, f'{stage}/valid_loss'))
        assert [v for _, v in got] == pytest.approx([v for _, v in want])
    m = json.loads(artefact(tracked['run'], 'metrics').read_text())
    logged = c.get_run(rid).data.metrics
    for k in ('head_error_rate', 'final_error_rate', 'species_error_rate'):
        if k in m: assert logged[k] == pytest.approx(m[k])
    assert 'final_error_rate' in logged
    assert set(SERIES) == {k.split('/', 1)[1] for k in logged if k.startswith('seconds/')}

def test_artefacts_and_the_model(tracked):
    c, rid, run = tracked['client'], tracked['rid'], tracked['run']
    files = {f.path: f.file_size for f in c.list_artifacts(rid)}
    for key in ('export', 'confusion', 'loss_png', 'top_losses', 'lr_png', 'history', 'per_breed', 'report_md', 'report_html', 'params'):
        assert artefact(run, key).name in files, (key, sorted(files))
    assert files['export.pkl'] == artefact(run, 'export').stat().st_size
    assert 'stage1.pth' not in files and 'perfecto.pth' not in files
    local = Path(c.download_artifacts(rid, 'confusion_matrix.png', str(tracked['runs'].parent)))
    assert local.read_bytes() == artefact(run, 'confusion').read_bytes()

# --- without training: the runner replaced by a stand-in that leaves a small run folder ---

def _stand_in(status='succeeded'):
    "A `run_series` that writes a minimal run folder, then returns it or fails like a notebook would."
    def fake(profile, overrides=None, runs_dir='runs', **kw):
        run = Path(runs_dir)/'2026-01-01T000000Z-tiny'
        write_json(artefact(run, 'params'), dict(profile=profile, overrides={}, parameters=dict(bs=8, size=32)))
        info = dict(notebook='01_fit_head', cell=3, type='RuntimeError', message='boom')
        write_json(artefact(run, 'status'), dict(status=status, profile=profile, error=None if status == 'succeeded' else info,
                                                 notebooks={nb: dict(status='succeeded', seconds=1.0) for nb in SERIES}))
        update_metrics(run, head_error_rate=0.5, seconds={nb: 1.0 for nb in SERIES})
        artefact(run, 'history').write_text('stage,epoch,train_loss,valid_loss,error_rate,seconds\nhead,1,2.0,1.5,0.5,1.0\n')
        if status == 'failed':
            e = RunFailure(info); e.run = run; raise e
        return run
    return fake

def _main(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = pcli.main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()

@pytest.fixture
def no_training(monkeypatch):
    monkeypatch.delenv(TRACKING_ENV, raising=False)
    return monkeypatch

@pytest.mark.parametrize('status,code', [('succeeded', 0), ('failed', 1)])
def test_an_unwritable_store_warns_once_and_keeps_the_exit_status(tmp_path, no_training, status, code):
    no_training.setattr(pcli, 'run_series', _stand_in(status))
    blocker = tmp_path/'not-a-folder'; blocker.write_text('a file where the store should go')
    bad = f'sqlite:///{blocker}/mlruns/mlflow.db'
    got, out, err = _main('run', '--profile', 'tiny', '--runs-dir', tmp_path/'runs', '--track', 'mlflow', '--tracking-uri', bad)
    assert got == code, err
    warnings = [l for l in err.splitlines() if 'tracking' in l]
    assert len(warnings) == 1 and warnings[0].startswith(f'warning: MLflow tracking to {bad} failed'), err
    assert out.strip().splitlines()[-1].startswith('report: ')
    assert 'tracking' not in json.loads((tmp_path/'runs'/'2026-01-01T000000Z-tiny'/'metrics.json').read_text())

def test_an_unreachable_server_warns_once(tmp_path):
    run = _stand_in()('tiny', runs_dir=tmp_path/'runs')
    err = io.StringIO()
    with contextlib.redirect_stderr(err): assert log_run(run, 'http://127.0.0.1:9') is None  # nothing listens on port 9
    assert len(err.getvalue().splitlines()) == 1 and err.getvalue().startswith('warning: MLflow tracking to http://127.0.0.1:9 failed')

def test_the_environment_variable_switches_tracking_on(tmp_path, no_training):
    no_training.setattr(pcli, 'run_series', _stand_in('failed'))
    store = f"sqlite:///{tmp_path/'elsewhere'/'mlflow.db'}"
    no_training.setenv(TRACKING_ENV, store)
    got, out, err = _main('run', '--profile', 'tiny', '--runs-dir', tmp_path/'runs', '--experiment', 'sweep-1')
    assert got == 1 and 'warning' not in err, err
    rid = json.loads((tmp_path/'runs'/'2026-01-01T000000Z-tiny'/'metrics.json').read_text())['tracking']['run_id']
    c = MlflowClient(tracking_uri=store)
    mr = c.get_run(rid)
    assert mr.info.status == 'FAILED' and mr.data.tags['petclassifier.failed_notebook'] == '01_fit_head'
    assert c.get_experiment(mr.info.experiment_id).name == 'sweep-1'
    assert not (tmp_path/'runs'/'mlruns').exists()  # the variable's store, not the default one

def test_missing_mlflow_is_one_line_before_the_run(tmp_path, no_training):
    def must_not_run(*a, **k): raise AssertionError('the run started')
    no_training.setattr(pcli, 'run_series', must_not_run)
    for k in [k for k in sys.modules if k == 'mlflow' or k.startswith('mlflow.')]: no_training.delitem(sys.modules, k)
    no_training.setitem(sys.modules, 'mlflow', None)  # `import mlflow` now fails as if it were not installed
    got, out, err = _main('run', '--profile', 'tiny', '--runs-dir', tmp_path/'runs', '--track', 'mlflow')
    assert got == 2 and len(err.splitlines()) == 1, err
    assert err.startswith('error: --track mlflow needs MLflow') and INSTALL_HINT in err
    assert not (tmp_path/'runs').exists()

def test_help_does_not_import_mlflow():
    code = "import sys; from petclassifier.cli import parser; parser().format_help(); print('mlflow' in sys.modules)"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.stdout.strip() == 'False', r.stderr
