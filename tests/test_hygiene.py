"Notebook hygiene: clean notebooks, one parameters cell each, no drift between notebooks and library."
import json, shutil, subprocess, sys
from pathlib import Path
import pytest
from conftest import ROOT

NBS = sorted((ROOT/'nbs').glob('*.ipynb'))
BIN = Path(sys.executable).parent

def test_the_series_is_there():
    names = [p.stem for p in NBS]
    for nb in ['00_data', '01_fit_head', '02_lr_find', '03_discriminative_finetune', '04_interpret']: assert nb in names

@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_notebook_is_clean(nb):
    d = json.loads(nb.read_text())
    for c in d['cells']:
        if c['cell_type'] != 'code': continue
        assert c.get('outputs') == [] and c.get('execution_count') is None, f"{nb.name}: run nbdev_clean"
        assert set(c.get('metadata', {})) <= {'tags'}, f"{nb.name}: stray cell metadata {c['metadata']}"

@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_one_parameters_cell(nb):
    d = json.loads(nb.read_text())
    tagged = [c for c in d['cells'] if 'parameters' in c.get('metadata', {}).get('tags', [])]
    assert len(tagged) == 1, f"{nb.name} has {len(tagged)} cells tagged 'parameters'"
    assert tagged[0]['cell_type'] == 'code'

def _copy_project(dst):
    for name in ['settings.ini', 'setup.py', 'README.md']: shutil.copy(ROOT/name, dst/name)
    for name in ['nbs', 'petclassifier']:
        shutil.copytree(ROOT/name, dst/name, ignore=shutil.ignore_patterns('__pycache__', '.ipynb_checkpoints'))

def _snapshot(d):
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob('*'))
            if p.is_file() and '__pycache__' not in p.parts}

@pytest.mark.parametrize('cmd', ['nbdev_export', 'nbdev_clean'])
def test_no_drift(tmp_path, cmd):
    _copy_project(tmp_path)
    before = _snapshot(tmp_path)
    subprocess.run([str(BIN/cmd)], cwd=tmp_path, check=True, capture_output=True)
    after = _snapshot(tmp_path)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"{cmd} changes {changed}: run it and commit the result"
