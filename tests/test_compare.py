"`petclassifier compare`: exit status and one-line reasons, on run folders written by hand (no training)."
import contextlib, io, json, subprocess, sys
import pytest
from petclassifier.core import artefact, write_json, atomic_write
from petclassifier.params import SERIES
from petclassifier.cli import main
from helpers import cli

def make_run(folder, final=0.1212, head=0.1515, secs=(10.0, 40.0, 20.0, 30.0, 15.0), seed=42, fingerprint='0123456789abcdef',
             breeds=(('pug', 0.5), ('Birman', 0.0), ('beagle', 1.0))):
    "A finished run folder holding just what `compare` reads (what `is_run_dir` and `report.load_run` look for)."
    folder.mkdir(parents=True)
    write_json(artefact(folder, 'status'), dict(status='succeeded', profile='smoke', started='2026-11-29T10:00:00Z',
               notebooks={nb: dict(status='succeeded', seconds=s) for nb, s in zip(SERIES, secs)}))
    write_json(artefact(folder, 'params'), dict(profile='smoke', overrides={}, parameters=dict(arch='efficientnet_lite0', seed=seed)))
    write_json(artefact(folder, 'metrics'), dict(head_error_rate=head, final_error_rate=final, species_error_rate=0.0152,
                                                 valid_images=66))
    write_json(artefact(folder, 'data'), dict(path='/data/pets', n_images=333, n_breeds=37, fingerprint=fingerprint,
                                              synthetic=False, params=dict(valid_pct=0.2, seed=seed, size=128)))
    write_json(artefact(folder, 'environment'), dict(device='CPU'))
    rows = ''.join(f"{b},dog,2,{round(e*2)},{e}\n" for b, e in breeds)
    atomic_write(artefact(folder, 'per_breed'), lambda tmp: tmp.write_text('breed,species,images,errors,error_rate\n' + rows))
    return folder

def run_main(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = main(['compare', *map(str, argv)])
    return code, out.getvalue(), err.getvalue()

@pytest.fixture
def base(tmp_path): return make_run(tmp_path/'base')

def test_identical_runs_pass(base, tmp_path):
    same = make_run(tmp_path/'same')
    code, out, err = run_main(base, same)
    assert (code, err) == (0, ''), err
    assert out.splitlines()[-1].startswith('verdict: OK') and '(none moved)' in out

def test_higher_error_fails_with_the_reason(base, tmp_path):
    worse = make_run(tmp_path/'worse', final=0.1212 + 2/66, breeds=(('pug', 1.0), ('Birman', 0.0), ('beagle', 0.5)))
    code, out, err = run_main(base, worse, '--max-error-increase', '0.02')
    assert code == 1
    assert err == 'regression: final_error_rate rose by 0.0303 (0.1212 -> 0.1515), more than 0.02\n', err
    assert 'verdict: REGRESSION' in out and 'pug' in out and 'beagle' in out and 'Birman' not in out
    assert run_main(base, worse, '--max-error-increase', '0.05')[0] == 0
    code, out, err = run_main(base, worse)  # by default: two images of 66 are within chance, and the verdict says why
    assert (code, err) == (0, ''), err
    assert "verdict: OK: no error rose beyond chance (one-sided Fisher's exact test, p < 0.05, 66 validation images" in out, out

def test_a_rise_beyond_chance_fails_with_its_p_value(base, tmp_path):
    worse = make_run(tmp_path/'worse', final=26/66)
    code, out, err = run_main(base, worse)
    assert code == 1 and err.startswith('regression: final_error_rate rose by 0.2727 (0.1212 -> 0.3939): p = ') and \
        err.endswith(" < 0.05 (one-sided Fisher's exact test on 66 validation images)\n"), err

def test_one_image_is_within_the_default(base, tmp_path):
    one = make_run(tmp_path/'one', final=0.1212 + 1/66)
    assert run_main(base, one)[0] == 0

def test_slowdown_fails(base, tmp_path):
    slow = make_run(tmp_path/'slow', secs=(20.0, 60.0, 30.0, 45.0, 25.0))  # 180 s against 115 s: 1.57x
    code, out, err = run_main(base, slow)
    assert code == 1 and err.count('\n') == 1 and 'the series took 1.57x the time (115.0 s -> 180.0 s), more than 1.5x' in err, err
    assert run_main(base, slow, '--max-slowdown', '2')[0] == 0

def test_unusable_input_exits_2(base, tmp_path):
    code, out, err = run_main(base, tmp_path)
    assert code == 2 and err.startswith('error: ') and 'is not a run folder' in err and err.count('\n') == 1, err
    other = make_run(tmp_path/'other', fingerprint='fedcba9876543210')
    code, _, err = run_main(base, other)
    assert code == 2 and 'did not validate on the same images (fingerprint 0123456789abcdef vs fedcba9876543210)' in err, err
    code, out, _ = run_main(base, other, '--allow-different-data')
    assert code == 0 and 'note: different data or validation sets' in out
    nometric = make_run(tmp_path/'nometric'); write_json(artefact(nometric, 'metrics'), dict(head_error_rate=0.1))
    code, _, err = run_main(base, nometric)
    assert code == 2 and 'no final_error_rate' in err, err

def test_json(base, tmp_path):
    worse = make_run(tmp_path/'worse', head=0.25)
    code, out, _ = run_main(base, worse, '--json', '--max-error-increase', '0.02')
    c = json.loads(out)
    assert code == 1 and c['regressions'] == ['head_error_rate rose by 0.0985 (0.1515 -> 0.2500), more than 0.02']
    assert [r['metric'] for r in c['metrics']] == ['head_error_rate', 'final_error_rate', 'species_error_rate']

def test_exit_status_end_to_end(base, tmp_path):
    worse = make_run(tmp_path/'worse', final=23/66)  # 8 errors of 66 to 23: beyond chance
    r = cli('compare', base, worse, timeout=120)
    assert r.returncode == 1 and r.stderr.startswith('regression: final_error_rate rose by') and r.stderr.count('\n') == 1, r.stderr
    assert cli('compare', base, base, timeout=120).returncode == 0
    assert cli('compare', base, tmp_path/'missing', timeout=120).returncode == 2

def test_help_imports_nothing_heavy():
    code = ("import sys, contextlib, io\nfrom petclassifier.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try: main(['compare', '--help'])\n    except SystemExit: pass\n"
            "print([m for m in ('torch', 'fastai', 'pandas') if m in sys.modules])")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == '[]', r.stdout + r.stderr

def make_sweep(folder, errors:dict):
    "A sweep folder whose configuration `lr_hi=K` ran once per error in `errors[K]` (what `compare` reads of a sweep)."
    from petclassifier.sweep import save_status, sweep_file
    folder.mkdir(parents=True)
    write_json(sweep_file(folder, 'definition'), dict(profile='smoke'))
    save_status(folder, [dict(id=f'{k}-{s}', config=dict(lr_hi=k), seed=s, status='succeeded', metrics=dict(final_error_rate=e))
                         for k, es in errors.items() for s, e in enumerate(es)])
    return folder

def test_two_sweeps_are_judged_by_the_seeds_spread(base, tmp_path):
    a = make_sweep(tmp_path/'a', {0.001: [13/66, 14/66, 12/66]})
    steady = make_sweep(tmp_path/'steady', {0.001: [16/66, 17/66, 16/66]})  # 3 images more on every seed
    shaky = make_sweep(tmp_path/'shaky', {0.001: [8/66, 24/66, 17/66]})  # 3 images more on average, but scattered
    code, out, err = run_main(a, steady)
    assert code == 1 and "p = " in err and "one-sided Welch's t-test over the seeds" in err, err
    assert 'lr_hi=0.001' in out and out.strip().splitlines()[-1].startswith('verdict: REGRESSION'), out
    code, out, _ = run_main(a, shaky)
    assert code == 0 and out.strip().splitlines()[-1].startswith('verdict: OK'), out
    code, out, _ = run_main(a, shaky, '--max-error-increase', '0.02', '--json')
    assert code == 1 and json.loads(out)['limits']['error_rule'] == 'fixed limit 0.02'
    code, _, err = run_main(a, base)
    assert code == 2 and 'compare two runs or two sweeps' in err and err.count('\n') == 1, err
