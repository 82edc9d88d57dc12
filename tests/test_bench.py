"The benchmarks' own arithmetic: what `bench/quality.py --report` prints over several folders of runs."
import importlib.util, subprocess, sys
import pytest
from conftest import ROOT
from petclassifier.core import PetError

def _bench(name):
    spec = importlib.util.spec_from_file_location(f'{name}_bench', ROOT/'bench'/f'{name}.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m

def _run(e): return {'head_error_rate': e, 'final_error_rate': e}

def test_a_recipe_is_the_same_on_every_split():
    q = _bench('quality')
    assert q.without_split('improved,seed:3') == 'improved'
    assert q.without_split('improved,lr_hi:0.0002,seed:3') == 'improved,lr_hi:0.0002'
    assert q.without_split('tutorial') == 'tutorial'

def test_pooled_ratio_is_over_matched_runs(capsys):
    "Two folders, one split each: the pooled ratio is over every (folder, training seed) both recipes ran, not a mean of ratios."
    q = _bench('quality')
    reports = [{'improved,seed:0': {0: _run(0.1), 1: _run(0.1)}, 'tutorial,seed:0': {0: _run(0.5), 1: _run(0.5)}},
               {'improved,seed:1': {0: _run(0.3), 1: _run(0.3), 2: _run(0.9)}, 'tutorial,seed:1': {0: _run(0.5), 1: _run(0.5)}}]
    runs = q.pool(reports)
    assert sorted(runs) == ['improved', 'tutorial'] and sorted(runs['improved']) == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    q.pooled_report(reports)
    out = dict(l.split('=', 1) for l in capsys.readouterr().out.splitlines())
    assert out['pooled.runs_dirs'] == '2'
    assert out['pooled.improved.final_error_rate.mean'] == f"{(0.1 * 2 + 0.3 * 2 + 0.9) / 5:.4f} runs=5"
    # seed 2 of the second folder has no tutorial run: left out of the ratio
    assert out['pooled.error_ratio.improved.final_error_rate'] == '0.400 runs=4 per_dir=0.200/0.600 (against tutorial)'

def test_one_split_a_folder():
    q = _bench('quality')
    with pytest.raises(PetError, match='one split'):
        q.pool([{'improved,seed:0': {0: _run(0.1)}, 'improved,seed:1': {0: _run(0.2)}}])

@pytest.mark.parametrize('args,words', [(['--report', 'nope'], 'is not a folder'),
                                        (['--report', '.', './'], 'given twice')])
def test_report_errors(args, words):
    r = subprocess.run([sys.executable, ROOT/'bench'/'quality.py', *args], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1 and words in r.stderr and 'Traceback' not in r.stderr, r.stderr
