"Notebook hygiene: clean notebooks, one parameters cell each, no drift between notebooks and library."
import json, shutil, subprocess, sys
from pathlib import Path
import pytest
from configparser import ConfigParser
from conftest import ROOT
from helpers import bench_module
from petclassifier.params import SERIES
from petclassifier.run import _load_for_run

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
    "Every notebook of the series has exactly one parameters cell (papermill's); no notebook has two."
    d = json.loads(nb.read_text())
    tagged = [c for c in d['cells'] if 'parameters' in c.get('metadata', {}).get('tags', [])]
    assert len(tagged) == (1 if nb.stem in SERIES else len(tagged)) <= 1, f"{nb.name} has {len(tagged)} cells tagged 'parameters'"
    assert all(c['cell_type'] == 'code' for c in tagged)

# --- what a run executes: the cells marked `#| step` (and the parameters cell), nothing else ---

def _cells(nb):
    return [(''.join(c['source']), c) for c in json.loads((ROOT/'nbs'/f'{nb}.ipynb').read_text())['cells'] if c['cell_type'] == 'code']

def _directives(src):
    return {l[2:].strip().split(' ')[0].rstrip(':') for l in src.splitlines() if l.startswith('#|')}

@pytest.mark.parametrize('nb', SERIES)
def test_run_executes_the_steps_and_only_them(nb):
    ran = [c.source for c in _load_for_run(ROOT/'nbs'/f'{nb}.ipynb').cells if c.cell_type == 'code']
    steps = [src for src, c in _cells(nb) if 'step' in _directives(src)]
    assert len(steps) >= 2, f"{nb} has no run steps beyond its imports"
    params = [src for src, c in _cells(nb) if 'parameters' in c.get('metadata', {}).get('tags', [])]
    assert ran == params + steps
    hidden_tests = [src for src, c in _cells(nb) if {'hide'} <= _directives(src) and not _directives(src) & {'step', 'export'}]
    assert hidden_tests and not set(hidden_tests) & set(ran), f"{nb}: a hidden cell is executed by a run"

@pytest.mark.parametrize('nb', SERIES)
def test_nbdev_test_skips_the_heavy_steps(nb):
    "Every step but the imports carries `#| slow` (a tst_flag), so nbdev_test never trains on real data."
    cfg = ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini')
    flags = set(cfg['DEFAULT']['tst_flags'].split())
    for src, c in _cells(nb):
        d = _directives(src)
        if 'step' not in d or d & flags: continue
        body = [l for l in src.splitlines() if l.strip() and not l.startswith('#|')]
        assert all(l.startswith(('from ', 'import ')) or l == 'quiet_pet_errors()' for l in body), f"{nb}: a step without #| slow:\n{src}"

def test_lessons_show_the_tutorials_calls():
    "The run steps of each lesson hold the fastai calls the tutorial teaches, the literal ones runnable."
    calls = {'00_data': ['DataBlock(blocks=(ImageBlock, CategoryBlock)', 'pets.dataloaders(path, bs=', 'show_batch('],
             '01_fit_head': ['pet_learner(', 'vision_learner(dls, resolve_arch(arch), metrics=error_rate', '.fit_one_cycle(epochs_head', '.unfreeze()'],
             '02_lr_find': ['.unfreeze()', '.lr_find(num_it=num_it'],
             '03_discriminative_finetune': ['.fit_one_cycle(epochs_finetune, lr_max=slice(lr_lo, lr_hi))', '.recorder.plot_loss()',
                                            "learn.save('perfecto'", "learn.load('perfecto'"],
             '04_interpret': ['ClassificationInterpretation.from_learner(learn)', '.plot_confusion_matrix(figsize=(figsize, figsize), dpi=dpi)',
                              '.most_confused(min_val=min_val)', '.plot_top_losses(']}
    for nb, want in calls.items():
        steps = '\n'.join(src for src, c in _cells(nb) if 'step' in _directives(src))
        for w in want: assert w in steps, (nb, w)
    first = json.loads((ROOT/'nbs'/'00_data.ipynb').read_text())['cells'][:20]  # after a look at the folder and the names
    assert any('DataBlock(blocks=' in ''.join(c['source']) for c in first), 'the DataBlock is not among the first 20 cells of 00_data'

def _block_args(src:str) -> str:
    "The arguments of the first `DataBlock(...)` call in `src`, without whitespace."
    body, depth, out = src[src.index('DataBlock(') + len('DataBlock('):], 1, ''
    for ch in body:
        depth += (ch == '(') - (ch == ')')
        if depth == 0: return ''.join(out.split())
        out += ch

def test_the_lessons_block_is_the_librarys():
    "The DataBlock the reader runs in 00_data and the one `pet_datablock` builds for the next notebooks are the same."
    lesson = next(src for src, c in _cells('00_data') if 'step' in _directives(src) and 'DataBlock(blocks=' in src and 'summary' not in src)
    library = next(src for src, c in _cells('00_data') if 'def pet_datablock' in src)
    assert _block_args(lesson) == _block_args(library[library.index('return DataBlock('):])

@pytest.mark.parametrize('nb', ['00_data', '01_fit_head', '02_lr_find', '03_discriminative_finetune', '04_interpret'])
def test_step_cells_are_the_tutorial_not_the_plumbing(nb):
    """Every step cell holds at most one line of the project's plumbing (recording, restoring, seeding), one import cell
    opens the lesson, and one markdown cell says what the cell directives mean (the same words in every lesson)."""
    b = bench_module('lessons')
    for cell in b.step_cells(nb):
        lines = [l for l in cell if any(p in l for p in b.PLUMBING)]
        assert len(lines) <= 1, f"{nb}: a step cell with {len(lines)} lines of plumbing:\n" + '\n'.join(cell)
    imports = [src for src, c in _cells(nb) if 'step' in _directives(src) and 'import' in src]
    assert len(imports) == 1, f"{nb}: {len(imports)} import cells among the steps"
    explain = [''.join(c['source']) for c in json.loads((ROOT/'nbs'/f'{nb}.ipynb').read_text())['cells']
               if c['cell_type'] == 'markdown' and '`#| step`' in ''.join(c['source'])]
    first = [''.join(c['source']) for c in json.loads((ROOT/'nbs'/'00_data.ipynb').read_text())['cells']
             if c['cell_type'] == 'markdown' and '`#| step`' in ''.join(c['source'])]
    assert len(explain) == 1 and explain == first and all(f'`#| {d}`' in explain[0] for d in ('step', 'slow', 'export')), nb

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

def test_no_exported_name_is_also_fastais():
    "Run All imports fastai again after the library (the export cells' imports): a name both define would become fastai's."
    import importlib, fastai.vision.all as fa
    for m in ['core', 'data', 'fast_data', 'learner', 'lr', 'finetune', 'interpret']:
        mod = importlib.import_module(f'petclassifier.{m}')
        clash = [n for n in mod.__all__ if hasattr(fa, n) and getattr(fa, n) is not getattr(mod, n)]
        assert not clash, f"petclassifier.{m} exports {clash}, which fastai.vision.all defines too"

# --- README.md is generated from nbs/index.ipynb (python -m petclassifier.readme) ---

def test_readme_is_generated():
    from petclassifier.readme import render_readme, REGENERATE
    assert (ROOT/'README.md').read_text() == render_readme(ROOT), f"README.md is stale: run {REGENERATE} and commit it"

def test_a_changed_profile_makes_the_readme_stale(monkeypatch):
    import petclassifier.params as params
    from petclassifier.readme import render_readme
    committed = (ROOT/'README.md').read_text()
    changed = {**params.PROFILES['smoke'], 'bs': params.PROFILES['smoke']['bs'] + 1}
    monkeypatch.setitem(params.PROFILES, 'smoke', changed)
    assert render_readme(ROOT) != committed

def test_a_changed_run_file_makes_the_readme_stale(monkeypatch):
    import petclassifier.core as core
    from petclassifier.readme import render_readme
    committed = (ROOT/'README.md').read_text()
    monkeypatch.setitem(core.RUN_FILES, 'export', core.RUN_FILES['export']._replace(name='model.pkl'))
    assert render_readme(ROOT) != committed

def test_readme_check_names_the_command(tmp_path):
    shutil.copy(ROOT/'settings.ini', tmp_path/'settings.ini')
    shutil.copytree(ROOT/'nbs', tmp_path/'nbs', ignore=shutil.ignore_patterns('.ipynb_checkpoints', 'runs'))
    (tmp_path/'README.md').write_text((ROOT/'README.md').read_text().replace('## Troubleshooting', '## Trouble'))
    check = lambda: subprocess.run([sys.executable, '-m', 'petclassifier.readme', '--check', '--root', str(tmp_path)],
                                   capture_output=True, text=True)
    r = check()
    assert (r.returncode, r.stderr) == (1, 'README.md is stale: run python -m petclassifier.readme\n'), r.stderr
    assert '## Trouble\n' in (tmp_path/'README.md').read_text()  # --check writes nothing
    assert subprocess.run([sys.executable, '-m', 'petclassifier.readme', '--root', str(tmp_path)], capture_output=True).returncode == 0
    assert check().returncode == 0

def test_the_front_page_is_not_a_lesson():
    "nbs/index.ipynb is the README's source: no parameters cell, no export, not part of the series."
    d = json.loads((ROOT/'nbs'/'index.ipynb').read_text())
    assert 'index' not in SERIES
    assert not any('parameters' in c.get('metadata', {}).get('tags', []) for c in d['cells'])
    assert not any('default_exp' in ''.join(c['source']) for c in d['cells'] if c['cell_type'] == 'code')

def test_the_lock_holds_what_settings_ini_asks_for():
    "requirements.lock (scripts/lock.sh) pins every requirement of settings.ini, the extras' too, at a version it allows."
    from packaging.requirements import Requirement
    from petclassifier.environment import LOCK, lock_pins, _dist_name
    cfg = ConfigParser(); cfg.read(ROOT/'settings.ini')
    c = cfg['DEFAULT']
    reqs = [Requirement(r) for k in c if k == 'requirements' or k.endswith('_requirements') for r in c[k].split()]
    pins = lock_pins(ROOT/LOCK)
    assert len(pins) > len(reqs), f"{LOCK} is missing or holds too little: run bash scripts/lock.sh"
    bad = [f"{r} (locked: {pins.get(_dist_name(r.name))})" for r in reqs
           if not r.specifier.contains(pins.get(_dist_name(r.name)) or '0.0.0.dev0', prereleases=True) or _dist_name(r.name) not in pins]
    assert not bad, f"{LOCK} disagrees with settings.ini on {bad}: run bash scripts/lock.sh"
    fixed = [Requirement(l) for l in (ROOT/'scripts/lock-constraints.txt').read_text().splitlines() if l and not l.startswith('#')]
    assert fixed and all(r.specifier.contains(pins.get(_dist_name(r.name), '0.0.0.dev0')) for r in fixed), fixed
    lines = (ROOT/LOCK).read_text().splitlines()
    entries = [l for l in lines if l[:1].isalnum()]
    assert all(l.endswith('\\') for l in entries), 'a lock entry without hashes: run bash scripts/lock.sh'
