"""What `petclassifier run --track mlflow` adds to a run: seconds to log a small stand-in run folder into a new local
store, into the same store again, and to give up on stores that fail.

    .venv/bin/python bench/track.py

Prints name=value lines: import_s (importing MLflow), first_log_s (a new SQLite store: MLflow creates its tables),
again_log_s (a second run into that store), unwritable_s (a store under a file), refused_s (a server address where
nothing listens), blackhole_s (a server address that never answers; bounded by the 15 s request timeout, or quicker
where the network says at once that it cannot be reached). Everything is written to a temporary folder, removed at
the end.
"""
import contextlib, io, shutil, tempfile, time
from pathlib import Path
from petclassifier.core import artefact, write_json, update_metrics
from petclassifier.track import log_run

def stand_in(run):
    "A run folder with records, two epochs of history and a 1 MB export."
    write_json(artefact(run, 'params'), dict(profile='tiny', parameters=dict(bs=8, size=32)))
    write_json(artefact(run, 'status'), dict(status='succeeded', profile='tiny'))
    update_metrics(run, head_error_rate=0.5, seconds={'00_data': 1.0})
    artefact(run, 'history').write_text('stage,epoch,train_loss,valid_loss,error_rate,seconds\nhead,1,2,1.5,.5,1\nhead,2,1,1,.4,1\n')
    artefact(run, 'export').write_bytes(b'\0' * 2**20)
    return run

def timed(f):
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()): f()
    return time.perf_counter() - t0

tmp = Path(tempfile.mkdtemp())
try:
    print(f"import_s={timed(lambda: __import__('mlflow')):.2f}")
    print(f"first_log_s={timed(lambda: log_run(stand_in(tmp/'runs'/'a'))):.2f}")
    print(f"again_log_s={timed(lambda: log_run(stand_in(tmp/'runs'/'b'))):.2f}")
    (tmp/'file').write_text('')
    print(f"unwritable_s={timed(lambda: log_run(tmp/'runs'/'a', f'sqlite:///{tmp}/file/mlflow.db')):.2f}")
    print(f"refused_s={timed(lambda: log_run(tmp/'runs'/'a', 'http://127.0.0.1:9')):.2f}")
    print(f"blackhole_s={timed(lambda: log_run(tmp/'runs'/'a', 'http://10.255.255.1:5000')):.2f}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
