"The lessons' setup cell for Colab, Kaggle and Paperspace: the same in every lesson, run in a real kernel."
import json, os, sys
from pathlib import Path
import nbformat, papermill as pm, pytest
from conftest import ROOT
from petclassifier.run import KERNEL

LESSONS = ['00_data', '01_fit_head', '02_lr_find', '03_discriminative_finetune', '04_interpret']
# the editable install's import hook, taken out before the kernel's first import: petclassifier is not importable there
HIDE = ("import sys\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if 'petclassifier' not in getattr(f, '__module__', '')]\n")

def setup_cell(nb:str) -> str:
    "The code cell of lesson `nb` that installs the project on a hosted notebook service."
    cells = [''.join(c['source']) for c in json.loads((ROOT/'nbs'/f'{nb}.ipynb').read_text())['cells'] if c['cell_type'] == 'code']
    found = [s for s in cells if 'find_spec(' in s and 'pip' in s]
    assert len(found) == 1, f"{nb}: {len(found)} setup cells"
    return found[0]

def test_every_lesson_has_the_same_setup_cell_before_its_imports():
    first = setup_cell(LESSONS[0])
    for nb in LESSONS:
        assert setup_cell(nb) == first, f"{nb}'s setup cell differs from {LESSONS[0]}'s"
        code = [''.join(c['source']) for c in json.loads((ROOT/'nbs'/f'{nb}.ipynb').read_text())['cells'] if c['cell_type'] == 'code']
        i = code.index(first)
        assert 'import' in code[i + 1] and 'petclassifier' in code[i + 1], f"{nb}: the setup cell must come right before the imports"
        assert all('petclassifier' not in s or 'parameters' in s or s.startswith('#| default_exp') for s in code[:i]), nb

def run_cell(tmp_path, monkeypatch, host_env:dict, hide:bool=True) -> tuple:
    "Run the setup cell in the project's kernel, from an empty folder; returns (printed text, recorded install commands)."
    site = tmp_path/'site'; site.mkdir()
    if hide: (site/'sitecustomize.py').write_text(HIDE)
    log = tmp_path/'pip.log'
    for k in ['COLAB_RELEASE_TAG', 'KAGGLE_KERNEL_RUN_TYPE', 'PAPERSPACE_NOTEBOOK_REPO_ID']: monkeypatch.delenv(k, raising=False)
    for k, v in host_env.items(): monkeypatch.setenv(k, v)
    monkeypatch.setenv('PYTHONPATH', str(site))
    monkeypatch.setenv('PETCLASSIFIER_INSTALL_LOG', str(log))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(setup_cell('00_data')),
                                         nbformat.v4.new_code_cell("print('importable:', importlib.util.find_spec('petclassifier') is not None)")])
    src, out = tmp_path/'setup.ipynb', tmp_path/'setup-out.ipynb'
    nbformat.write(nb, src)
    pm.execute_notebook(str(src), str(out), kernel_name=KERNEL, cwd=str(tmp_path), progress_bar=False, log_output=False)
    text = ''.join(o.get('text', '') for c in nbformat.read(out, as_version=4).cells for o in c.get('outputs', []))
    return text, (log.read_text().splitlines() if log.exists() else [])

@pytest.mark.parametrize('host,env,keep', [('Kaggle', {'KAGGLE_KERNEL_RUN_TYPE': 'Interactive'}, '/kaggle/working'),
                                           ('Colab', {'COLAB_RELEASE_TAG': 'release-colab'}, 'drive.mount'),
                                           ('Paperspace', {'PAPERSPACE_NOTEBOOK_REPO_ID': 'x'}, '/storage')])
def test_a_hosted_kernel_without_the_project_gets_the_install_command(tmp_path, monkeypatch, host, env, keep):
    text, cmds = run_cell(tmp_path, monkeypatch, env)
    assert 'importable: False' in text, f"the kernel could still import petclassifier, the test proves nothing:\n{text}"
    assert len(cmds) == 1 and ' -m pip install ' in cmds[0] and 'git+https://github.com/petclassifier/petclassifier' in cmds[0], cmds
    assert f"{host}: petclassifier installed" in text and keep in text and str(tmp_path/'runs') in text, text

def test_the_cell_does_nothing_where_the_project_is_installed_or_no_host_is_detected(tmp_path, monkeypatch):
    (tmp_path/'installed').mkdir(); (tmp_path/'plain').mkdir()
    text, cmds = run_cell(tmp_path/'installed', monkeypatch, {'KAGGLE_KERNEL_RUN_TYPE': 'Interactive'}, hide=False)
    assert cmds == [] and text.strip() == 'importable: True', (text, cmds)
    text, cmds = run_cell(tmp_path/'plain', monkeypatch, {})
    assert cmds == [] and text.strip() == 'importable: False', (text, cmds)  # no host: the imports then say what to do
