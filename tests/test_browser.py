"""What a reader sees, in headless Chromium (Playwright, with the system's chromium; `playwright install` is never
needed): 00_data run from JupyterLab with the project's kernel, the documentation site opened from disk, and the app.
Screenshots go to $PETCLASSIFIER_SCREENSHOTS, else a temporary folder; the tests print where."""
import json, os, secrets, shutil, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest
from conftest import ROOT, sample_dir
from helpers import free_port, start_server, wait_for_http, stop_server, main_in_process
from petclassifier.data import make_synthetic_pets
from petclassifier.params import PROFILES, notebook_params

def _chromium():
    for p in [os.getenv('PETCLASSIFIER_CHROMIUM'), shutil.which('chromium'), shutil.which('chromium-browser'), '/usr/bin/chromium']:
        if p and Path(p).is_file() and os.access(p, os.X_OK): return p
    return None

CHROMIUM = _chromium()
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="no chromium here: install Debian's (apt-get install chromium; "
                                                          ".ci/run does) or set PETCLASSIFIER_CHROMIUM=/path/to/chromium")]
BIN = Path(sys.executable).parent
KERNEL_NAME = 'Python (petclassifier)'

@pytest.fixture(scope='session')
def shots(tmp_path_factory):
    d = Path(os.getenv('PETCLASSIFIER_SCREENSHOTS') or tmp_path_factory.mktemp('screenshots'))
    d.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {d}")
    return d

@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try: yield b
        finally: b.close()

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _get(url, token, timeout=5):
    req = urllib.request.Request(url, headers={'Authorization': f'token {token}'})
    with urllib.request.urlopen(req, timeout=timeout) as r: return json.loads(r.read())

def _lab_copy(tmp:Path) -> Path:
    "A clone-like copy of the notebooks (settings.ini beside them, as nbdev expects) with 00_data set to the smoke profile's sizes."
    import nbformat
    shutil.copytree(ROOT/'nbs', tmp/'nbs', ignore=shutil.ignore_patterns('.ipynb_checkpoints', 'runs', '_docs'))
    shutil.copy(ROOT/'settings.ini', tmp/'settings.ini')
    p = tmp/'nbs'/'00_data.ipynb'
    light = {k: v for k, v in PROFILES['smoke'].items() if k in notebook_params(ROOT/'nbs')['00_data']}
    nb = nbformat.read(p, as_version=4)
    i = next(i for i, c in enumerate(nb.cells) if 'parameters' in c.metadata.get('tags', []))
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell('# the smoke profile\'s sizes: a quick run\n' + '\n'.join(f'{k} = {v!r}' for k, v in light.items())))
    nbformat.write(nb, p)
    return tmp/'nbs'

def _lab_settings(d:Path) -> Path:
    "JupyterLab user settings for the test: every cell kept in the page, no news or update checks."
    for name, value in [('notebook-extension/tracker', dict(windowingMode='none')),
                        ('apputils-extension/notification', dict(fetchNews='false', checkForUpdates=False))]:
        f = d/'@jupyterlab'/f'{name}.jupyterlab-settings'
        f.parent.mkdir(parents=True, exist_ok=True); f.write_text(json.dumps(value))
    return d

def test_00_data_runs_in_jupyterlab(browser, shots, tmp_path):
    nbs = _lab_copy(tmp_path)
    data = sample_dir() or make_synthetic_pets(tmp_path/'synthetic', n_breeds=4, n_per_breed=12, size=96)
    token, port = secrets.token_hex(16), _free_port()
    env = {k: v for k, v in os.environ.items() if k != 'MPLBACKEND'}  # figures inline, as for a reader
    env.update(PETCLASSIFIER_DATA=str(data), JUPYTERLAB_SETTINGS_DIR=str(_lab_settings(tmp_path/'lab-settings')),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path/'lab-workspaces'), JUPYTER_RUNTIME_DIR=str(tmp_path/'jupyter-runtime'))
    log = open(tmp_path/'jupyterlab.log', 'wb')
    server = subprocess.Popen([str(BIN/'jupyter'), 'lab', '--no-browser', f'--ServerApp.token={token}', '--port', str(port),
                               '--ServerApp.ip=127.0.0.1', f'--ServerApp.root_dir={nbs}', '--ServerApp.port_retries=0',
                               *(['--allow-root'] if os.geteuid() == 0 else [])],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f'http://127.0.0.1:{port}'
    page = None
    try:
        for _ in range(120):
            assert server.poll() is None, (tmp_path/'jupyterlab.log').read_text()[-3000:]
            try: _get(f'{base}/api/status', token); break
            except OSError: time.sleep(0.5)
        else: raise AssertionError('JupyterLab did not answer within 60 s')
        specs = _get(f'{base}/api/kernelspecs', token)['kernelspecs']
        assert specs['petclassifier']['spec']['display_name'] == KERNEL_NAME, sorted(specs)  # offered

        page = browser.new_page(viewport=dict(width=1400, height=1000))
        page.goto(f'{base}/lab/tree/00_data.ipynb?token={token}')
        page.locator('.jp-NotebookPanel .jp-Notebook').first.wait_for(timeout=120_000)
        kernel = page.locator('.jp-NotebookPanel .jp-Toolbar-kernelName').first
        page.wait_for_function(f"() => [...document.querySelectorAll('.jp-NotebookPanel .jp-Toolbar-kernelName')]"
                               f".some(e => e.textContent.trim() == {json.dumps(KERNEL_NAME)})", timeout=120_000)  # selected
        assert kernel.inner_text().strip() == KERNEL_NAME
        page.wait_for_selector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=180_000)

        page.locator('.lm-MenuBar-itemLabel', has_text='Run').first.click()
        page.locator('.lm-Menu-itemLabel').get_by_text('Run All Cells', exact=True).click()
        # done: something ran, nothing is queued or running any more, and the kernel is idle
        page.wait_for_function("""() => {
            const ps = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')].map(e => e.textContent.trim());
            const idle = document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status="idle"]');
            return idle && ps.some(t => /\\[\\d+\\]/.test(t)) && !ps.some(t => t.includes('*'));
        }""", timeout=900_000, polling=1000)

        shown = page.locator('.jp-CodeCell', has=page.locator('.jp-InputArea', has_text='dls.show_batch')).locator('.jp-OutputArea-output img')
        assert shown.count() == 1, 'the show_batch figure is not displayed'
        shown.first.scroll_into_view_if_needed()
        assert page.evaluate('(img) => img.complete && img.naturalWidth > 100', shown.first.element_handle())
        shot = shots/'jupyterlab-00_data-show_batch.png'
        page.screenshot(path=str(shot))
        print(f"screenshot: {shot}")

        page.locator('.jp-NotebookPanel .jp-Notebook').first.click()
        page.keyboard.press('Control+s')
        saved = nbs/'00_data.ipynb'
        for _ in range(60):
            nb = json.loads(saved.read_text())
            if any(c.get('outputs') for c in nb['cells'] if c['cell_type'] == 'code'): break
            time.sleep(0.5)
        code = [c for c in nb['cells'] if c['cell_type'] == 'code']
        errors = [(i, o.get('ename'), o.get('evalue')) for i, c in enumerate(code) for o in c.get('outputs', []) if o['output_type'] == 'error']
        assert not errors, errors
        assert all(c.get('execution_count') for c in code), 'some cells did not run'
        assert nb['metadata']['kernelspec']['name'] == 'petclassifier'
    finally:
        if page is not None: page.close()
        try: os.killpg(server.pid, signal.SIGTERM)
        except ProcessLookupError: pass
        try: server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL); server.wait(10)
        log.close()

def test_the_site_opens_from_disk(browser, chain_site, shots):
    page = browser.new_page(viewport=dict(width=1400, height=1000))
    problems = []
    page.on('console', lambda m: problems.append(f'console {m.type}: {m.text}') if m.type == 'error' else None)
    page.on('pageerror', lambda e: problems.append(f'page error: {e}'))
    page.on('requestfailed', lambda r: problems.append(f'failed request: {r.url}'))
    try:
        page.goto((chain_site/'notebooks/04_interpret.html').as_uri(), wait_until='load')
        imgs = page.evaluate('() => [...document.images].map(i => [i.complete, i.naturalWidth, i.src.slice(0, 30)])')
        assert len(imgs) >= 2 and all(ok and w > 0 for ok, w, _ in imgs), imgs
        assert 'Confusion' in page.inner_text('body') or 'confusion' in page.inner_text('body')
        shot = shots/'site-04_interpret.png'
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        page.goto((chain_site/'index.html').as_uri(), wait_until='load')
        page.screenshot(path=str(shots/'site-index.png'), full_page=True)
        assert not problems, problems
    finally: page.close()

def test_the_app_shows_what_predict_says(browser, chain, shots, tmp_path):
    from petclassifier.predict import predict
    photos = sorted(Path(chain['data']).glob('*.jpg'))  # the real sample's photos, else the generated images
    photo = photos[len(photos) // 2]
    want = predict(chain['run'], [photo], top=5)[0]
    port, log = free_port(), tmp_path/'app.log'
    server = start_server([sys.executable, '-m', 'petclassifier', 'app', str(chain['run']), '--port', str(port)], log)
    page, problems = None, []
    try:
        wait_for_http(f'http://127.0.0.1:{port}/', server, log)
        page = browser.new_page(viewport=dict(width=1300, height=1000))
        page.on('pageerror', lambda e: problems.append(f'page error: {e}'))
        base = f'http://127.0.0.1:{port}/'
        # the page must need nothing from elsewhere (it runs offline); its own event stream ends when an answer is in
        page.on('requestfailed', lambda r: None if r.url.startswith(base) else problems.append(f'failed request: {r.url}'))
        page.goto(base, wait_until='load')
        page.locator('#photo input[type=file]').set_input_files(str(photo))
        shown = page.locator('#breeds [data-testid="label-output-value"]')
        shown.wait_for(timeout=120_000)
        assert shown.inner_text().strip() == want['breed'], (shown.inner_text(), want)
        page.wait_for_function("() => document.querySelector('#species').innerText.includes('Most likely breed')", timeout=30_000)
        assert 'validation photos of its run' in page.inner_text('body')  # the run's error rate
        card = page.request.get(base + page.get_by_role('link', name='the model card').get_attribute('href'))
        assert card.ok and 'Model card' in card.text(), card.status
        shot = shots/'app.png'
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}: {photo.name} -> {want['breed']} ({want['probability']:.2f})")
        assert not problems, problems
        # a file that is not a photo: the page says so, in the app's words (Gradio opens the upload before the app does)
        (tmp_path/'notes.jpg').write_text('not a photo')
        other = browser.new_page(viewport=dict(width=1300, height=1000))
        try:
            other.goto(base, wait_until='load')
            other.locator('#photo input[type=file]').set_input_files(str(tmp_path/'notes.jpg'))
            other.wait_for_function("() => document.body.innerText.includes('notes.jpg is not an image the app can read')",
                                    timeout=60_000)
        finally: other.close()
    finally:
        if page is not None: page.close()
        stop_server(server)

def test_the_diff_page_shows_both_runs(browser, tiny, failed_then_resumed, shots, tmp_path):
    """`petclassifier diff` of two tiny runs with different training seeds, opened from disk: the confusion matrices of
    both runs side by side (with their difference when a pixel differs), and every breed's validation errors in both."""
    from helpers import cli, run_folders
    r = cli('run', '--profile', 'tiny', '--data', tiny['data'], '--runs-dir', tmp_path/'runs', '--set', 'train_seed=7')
    assert r.returncode == 0, r.stderr[-2000:]
    (other,) = run_folders(tmp_path/'runs')
    base = failed_then_resumed['run']
    page_file = tmp_path/'diff.html'
    code, out, err = main_in_process('diff', base, other, '--out', page_file)
    assert code == 0, err
    assert out.splitlines()[-1] == f"diff: {page_file}" and out.count('cells,') == 5, out
    page, problems = browser.new_page(viewport=dict(width=1400, height=1000)), []
    page.on('pageerror', lambda e: problems.append(f'page error: {e}'))
    page.on('request', lambda q: None if q.url.startswith(('file:', 'data:')) else problems.append(f'request: {q.url}'))
    try:
        page.goto(page_file.as_uri(), wait_until='load')
        body = page.inner_text('body')
        assert 'train_seed' in body and 'relative tolerance' in body
        breeds = page.locator('#per-breed tr')
        assert breeds.count() == 1 + len(_per_breed(base)), breeds.count()  # a header, then every breed
        matrix = page.locator('section#nb-04_interpret .cell', has_text='plot_confusion_matrix')
        assert matrix.count() == 1
        pictures = matrix.locator('img').evaluate_all('imgs => imgs.map(i => [i.className, i.complete && i.naturalWidth > 0])')
        kinds = sorted(k for k, ok in pictures if ok)
        assert kinds in (['fig-base', 'fig-diff', 'fig-new'], ['fig-base', 'fig-new']) and len(pictures) == len(kinds), pictures
        page.screenshot(path=str(shots/'diff-top.png'))
        matrix.screenshot(path=str(shots/'diff-confusion-matrix.png'))
        print(f"screenshots: {shots/'diff-top.png'}, {shots/'diff-confusion-matrix.png'} ({', '.join(kinds)})")
        assert not problems, problems
    finally: page.close()

def _per_breed(run) -> list:
    return [l for l in (Path(run)/'per_breed.csv').read_text().splitlines()[1:] if l]
