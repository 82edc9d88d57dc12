"The benchmarks' own arithmetic: what `bench/quality.py --report` prints over several folders of runs."
import subprocess, sys
import pytest
from conftest import ROOT
from helpers import bench_module
from petclassifier.core import PetError

def _run(e): return {'head_error_rate': e + 0.05, 'final_error_rate': e}

def test_a_recipe_is_the_same_on_every_split():
    q = bench_module('quality')
    assert q.without_split('improved,seed:3') == 'improved'
    assert q.without_split('improved,lr_hi:0.0002,seed:3') == 'improved,lr_hi:0.0002'
    assert q.without_split('improved,seed:3,lr_hi:0.0002') == 'improved,lr_hi:0.0002'
    assert q.without_split('improved,stage_seed:1') == 'improved,stage_seed:1'  # not the split
    assert q.without_split('tutorial') == 'tutorial'
    assert [q.split_of(n) for n in ('improved,lr_hi:0.0002,seed:3', 'tutorial')] == ['seed:3', '']

def test_pooled_ratio_is_over_matched_runs(capsys):
    "Two folders, one split each: the ratio of the pooled final errors over the runs both recipes made, not a mean of ratios."
    q = bench_module('quality')
    reports = [{'improved,seed:0': {0: _run(0.1), 1: _run(0.1)}, 'tutorial,seed:0': {0: _run(0.5), 1: _run(0.5)}},
               {'improved,seed:1': {0: _run(0.3), 1: _run(0.3), 2: _run(0.9)}, 'tutorial,seed:1': {0: _run(0.25), 1: _run(0.25)}}]
    runs = q.pool(['a', 'b'], reports)
    assert sorted(runs) == ['improved', 'tutorial'] and sorted(runs['improved']) == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    q.pooled_report(['a', 'b'], reports)
    out = dict(l.split('=', 1) for l in capsys.readouterr().out.splitlines())
    assert out['pooled.runs_dirs'] == '2'
    assert out['pooled.improved.final_error_rate.mean'] == f"{(0.1 * 2 + 0.3 * 2 + 0.9) / 5:.4f} runs=5"
    # seed 2 of the second folder has no tutorial run: left out of the ratio (0.2 / 0.375; the mean of ratios is 0.7)
    assert out['pooled.error_ratio.improved.final_error_rate'] == ('0.533 runs=4 matched_means=0.2000/0.3750 '
                                                                   'per_dir=0.200/1.200 (against tutorial)')

def test_a_folder_without_matched_runs_says_so(capsys):
    q = bench_module('quality')
    q.pooled_report(['a', 'b'], [{'improved,seed:0': {0: _run(0.1)}, 'tutorial,seed:0': {0: _run(0.5)}},
                                 {'improved,seed:1': {1: _run(0.2)}, 'tutorial,seed:1': {2: _run(0.4)}}])
    assert 'per_dir=0.200/none' in capsys.readouterr().out

def test_one_split_a_folder():
    q = bench_module('quality')
    with pytest.raises(PetError, match=r'runs/x holds runs of several splits \(seed:0, the default\)'):
        q.pool(['runs/x'], [{'improved,seed:0': {0: _run(0.1)}, 'tutorial': {1: _run(0.2)}}])

def test_one_folders_ratio_stays_within_a_split(capsys, tmp_path):
    "In one folder, no ratio across two splits, nor over training seeds that only one recipe ran."
    q = bench_module('quality')
    m = dict(_run(0.2), tta_error_rate=0.2)
    runs = [('tutorial,seed:3', 0, 'succeeded', _run(0.5), 1), ('improved,seed:3', 0, 'succeeded', m, 1),
            ('improved,seed:4', 0, 'succeeded', m, 1), ('improved,lr_hi:0.001,seed:3', 1, 'succeeded', m, 1)]
    q._records = lambda d: iter(runs)
    q.report(tmp_path)
    out = dict(l.split('=', 1) for l in capsys.readouterr().out.splitlines() if l.startswith('error_ratio'))
    assert out == {'error_ratio.improved,seed:3.head_error_rate': '0.455 seeds=0 (against tutorial,seed:3)',
                   'error_ratio.improved,seed:3.final_error_rate': '0.400 seeds=0 (against tutorial,seed:3)',
                   'error_ratio.improved,seed:3.tta_vs_final': "0.400 seeds=0 (its TTA error against tutorial,seed:3's final)",
                   'error_ratio.improved,seed:4': 'none (validated on another split than tutorial,seed:3)',
                   'error_ratio.improved,lr_hi:0.001,seed:3': 'none (no training seed that tutorial,seed:3 ran too)'}

def _sweep_without_status(tmp_path):
    (tmp_path/'broken'/'s').mkdir(parents=True); (tmp_path/'broken'/'s'/'sweep.json').write_text('{}')
    return tmp_path/'broken'

@pytest.mark.parametrize('args,words', [(lambda t: ['nope'], 'is not a folder'),
                                        (lambda t: ['.', './'], 'given twice'),
                                        (lambda t: [t], 'no finished run under'),
                                        (lambda t: [_sweep_without_status(t)], 'is not a sweep folder')])
def test_report_errors(args, words, tmp_path):
    r = subprocess.run([sys.executable, ROOT/'bench'/'quality.py', '--report', *args(tmp_path)], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 1 and words in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
