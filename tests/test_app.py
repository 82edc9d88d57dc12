"""The app's bundle as a Hugging Face Space runs it: `python app.py` in its own folder, in a fresh interpreter that can
import nothing of this project (no petclassifier, PyTorch or fastai), answering as `predict` does."""
import sys
from pathlib import Path
from helpers import main_in_process, free_port, start_server, wait_for_http, stop_server
from petclassifier.core import read_json

# runs app.py as `python app.py` would, with the project's own packages made unimportable
ALONE = r'''
import sys, runpy, importlib.abc
PROJECT = {'petclassifier', 'torch', 'torchvision', 'fastai', 'fastcore', 'timm', 'nbdev'}
class NotARequirement(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in PROJECT: raise ImportError(f"app.py imported {name}, which is not in requirements.txt")
sys.meta_path.insert(0, NotARequirement())
sys.argv = ['app.py']
runpy.run_path('app.py', run_name='__main__')
'''

def test_the_bundle_runs_alone_and_answers_as_predict(second_run, tmp_path):
    run, bundle = second_run['run'], tmp_path/'space'
    code, out, err = main_in_process('app', run, '--bundle', bundle)
    assert code == 0, err
    assert f"bundle: {bundle}" in out
    reqs = (bundle/'requirements.txt').read_text().split()
    assert all('==' in r for r in reqs) and {r.split('==')[0] for r in reqs} == {'gradio', 'onnxruntime', 'numpy', 'pillow'}
    photo = bundle/read_json(bundle/'inference.json')['examples'][0]
    port, log = free_port(), tmp_path/'app.log'
    server = start_server([sys.executable, '-I', '-c', ALONE], log, cwd=bundle, env=dict(GRADIO_SERVER_PORT=str(port)))
    try:
        wait_for_http(f'http://127.0.0.1:{port}/', server, log)
        from gradio_client import Client, handle_file
        top, line = Client(f'http://127.0.0.1:{port}/', verbose=False).predict(handle_file(str(photo)), api_name='/classify')
    finally: stop_server(server)
    from petclassifier.predict import predict
    want = predict(run, [photo], top=5)[0]
    assert top['label'] == want['breed'], (top, want)
    assert [c['label'] for c in top['confidences']] == [b for b, _ in want['top']]
    assert 'Most likely breed: ' in line
    assert 'is not in requirements.txt' not in log.read_text()
