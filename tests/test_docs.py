"""`petclassifier docs`: the static site of a real run (the shared `chain` run) has the figures, the numbers and
links that resolve, works offline (no CDN), and the command refuses folders it must not touch."""
import base64, io, json, re, shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit, unquote
import numpy as np
from PIL import Image
from petclassifier.core import METRIC_KEYS, artefact
from petclassifier.docs import SITE_STAMP
from petclassifier.params import SERIES
from helpers import cli

class _Refs(HTMLParser):
    "Every <a href>, <img src>, <script src> and <link href> of a page."
    def __init__(self):
        super().__init__(); self.refs = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for t, k in [('a', 'href'), ('img', 'src'), ('script', 'src'), ('link', 'href')]:
            if tag == t and a.get(k) is not None: self.refs.append((tag, a[k]))

def refs(page:Path) -> list:
    p = _Refs(); p.feed(page.read_text()); return p.refs

def pages(site): return sorted(Path(site).rglob('*.html'))

def _cell_images(html:str, call:str) -> list:
    "The PNG images in the outputs of the code cell whose source (text, tags stripped) contains `call`."
    cells = [c for c in html.split('class="jp-Cell ')[1:] if call in re.sub(r'<[^>]+>', '', c)]
    assert len(cells) == 1, f"{len(cells)} cells call {call}"
    return [Image.open(io.BytesIO(base64.b64decode(b))) for b in re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', cells[0])]

def test_the_site_has_every_page(chain_site):
    assert (chain_site/SITE_STAMP).is_file()
    for nb in SERIES: assert (chain_site/'notebooks'/f'{nb}.html').is_file(), nb
    for p in ['index.html', 'report.html', 'api/core.html', 'api/docs.html']: assert (chain_site/p).is_file(), p

def test_interpret_page_shows_the_figures(chain_site):
    html = (chain_site/'notebooks/04_interpret.html').read_text()
    for call in ['interp.plot_confusion_matrix(', 'interp.plot_top_losses(']:
        imgs = _cell_images(html, call)
        assert len(imgs) == 1, f"{call}: {len(imgs)} images in its output"
        im = np.asarray(imgs[0].convert('L'), dtype=float)
        assert min(im.shape) > 100 and im.std() > 5, (call, im.shape)

def test_index_shows_the_run_metrics(chain, chain_site):
    html = (chain_site/'index.html').read_text()
    m = json.loads(artefact(chain['run'], 'metrics').read_text())
    for k in [k for k in METRIC_KEYS if k in m]: assert re.search(rf'<td>{k}</td>\s*<td>{m[k]:.4f}</td>', html), k  # TTA: only when measured
    assert ('tta_error_rate' in m) == ('<td>tta_error_rate</td>' in html)  # no empty row for what the run did not measure
    assert re.search(r'<td>best_finetune_error_rate</td>\s*<td>[0-9.]+</td>\s*<td>0.0580</td>', html)
    for nb in SERIES: assert f'href="notebooks/{nb}.html"' in html, nb

def test_every_internal_link_resolves(chain_site):
    checked = 0
    for page in pages(chain_site):
        for tag, ref in refs(page):
            u = urlsplit(ref)
            if u.scheme or u.netloc or not u.path: continue  # http(s), data:, mailto:, same-page anchors
            target = (page.parent/unquote(u.path)).resolve()
            assert target.exists(), f"{page.relative_to(chain_site)}: <{tag}> {ref} -> {target} is missing"
            assert chain_site.resolve() in target.parents, f"{page.relative_to(chain_site)}: {ref} leaves the site"
            checked += 1
    assert checked > 100, checked

def test_no_cdn(chain_site):
    for page in pages(chain_site):
        for tag, ref in refs(page):
            if tag in ('script', 'link'): assert not re.match(r'(https?:)?//', ref), f"{page.name}: <{tag}> {ref}"

def test_refuses_folders_it_must_not_touch(chain, chain_site, tmp_path):
    mine = tmp_path/'mine'; mine.mkdir(); (mine/'notes.md').write_text('mine')
    r = cli('docs', chain['run'], '--out', mine)
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and 'did not write' in r.stderr, r.stderr
    assert [p.name for p in mine.iterdir()] == ['notes.md']
    r = cli('docs', tmp_path)
    assert r.returncode == 2 and 'is not a run folder' in r.stderr and r.stderr.count('\n') == 1, r.stderr
    half = tmp_path/'half'
    shutil.copytree(chain['run'], half, ignore=shutil.ignore_patterns('*.pth', '*.pkl', 'site'))
    (half/'notebooks'/'04_interpret.ipynb').unlink()
    r = cli('docs', half)
    assert r.returncode == 2 and 'lacks the executed notebook(s) 04_interpret' in r.stderr, r.stderr
    assert not (half/'site').exists()

def test_quarto_sidebar_lists_every_notebook():
    "nbs/_quarto.yml and sidebar.yml stay usable for nbdev_preview (Quarto): every notebook but the front page is listed."
    import yaml
    from conftest import ROOT
    listed = yaml.safe_load((ROOT/'nbs/sidebar.yml').read_text())['website']['sidebar']['contents']
    assert sorted(listed) == sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb') if p.stem != 'index')
