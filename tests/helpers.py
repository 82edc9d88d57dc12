"Helpers for tests that drive the command line."
import io, json, os, subprocess, sys, contextlib
from pathlib import Path
import numpy as np
from PIL import Image

def bench_module(name:str):
    "The script `bench/<name>.py` as a module, for its functions (its `main` does not run)."
    import importlib.util
    spec = importlib.util.spec_from_file_location(f'{name}_bench', Path(__file__).resolve().parent.parent/'bench'/f'{name}.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m

def cli(*args, env=None, cwd=None, timeout=1200):
    "Run `python -m petclassifier ARGS`; returns the CompletedProcess (text)."
    e = {**os.environ, 'MPLBACKEND': 'Agg', **(env or {})}
    return subprocess.run([sys.executable, '-m', 'petclassifier', *map(str, args)], capture_output=True, text=True,
                          env=e, cwd=cwd, timeout=timeout)

def main_in_process(*argv) -> tuple:
    "`petclassifier ARGV` in this process (no interpreter start, imports paid once): (exit status, stdout, stderr)."
    from petclassifier.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()

def run_folders(runs_dir):
    return sorted(p for p in Path(runs_dir).iterdir() if (p/'status.json').exists())

def status(run): return json.loads((Path(run)/'status.json').read_text())

def assert_png_real(p):
    "The PNG decodes, has a sensible size and is not a blank canvas."
    im = np.asarray(Image.open(p).convert('L'), dtype=float)
    assert im.shape[0] > 100 and im.shape[1] > 100, (p, im.shape)
    assert im.std() > 5, f"{p} looks blank"

def snapshot(folder):
    "Bytes of every file under `folder`, by relative path."
    return {q.relative_to(folder).as_posix(): q.read_bytes() for q in sorted(Path(folder).rglob('*')) if q.is_file()}

def free_port() -> int:
    "A TCP port on the loopback address that nothing listens on now."
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def start_server(cmd:list, log:Path, env=None, cwd=None) -> subprocess.Popen:
    "Start a web server in its own process group (so that `stop_server` stops all of it), its output into `log`."
    e = {**os.environ, 'GRADIO_ANALYTICS_ENABLED': 'False', **(env or {})}
    with open(log, 'wb') as f:
        return subprocess.Popen(cmd, env=e, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)

def wait_for_http(url:str, server:subprocess.Popen, log:Path, timeout:float=180):
    "Wait until `url` answers; fail with the server's log if it ends first or does not answer in `timeout` s."
    import time, urllib.request
    t0 = time.time()
    while time.time() - t0 < timeout:
        assert server.poll() is None, f"the server ended ({server.returncode}):\n" + Path(log).read_text()[-3000:]
        try:
            with urllib.request.urlopen(url, timeout=5): return
        except OSError: time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout:.0f} s:\n" + Path(log).read_text()[-3000:])

def stop_server(server:subprocess.Popen):
    "Stop the server's whole process group: politely, then for good."
    import signal
    try: os.killpg(server.pid, signal.SIGTERM)
    except ProcessLookupError: return
    try: server.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL); server.wait(10)
