"Training runs: the papermill template, the run store, the runner, publish-if-better and the model-trained event."
import http.server, json, os, shutil, threading, time
from pathlib import Path
import pytest
from conftest import mini_utterances

pytestmark = pytest.mark.filterwarnings('ignore::DeprecationWarning')

@pytest.fixture(scope='module')
def env(tmp_path_factory):
    "A CHATBOT_HOME, the mini app as a JSONL snapshot folder, a run store, a local registry and SQLite queues."
    from chatbot.nlu.formats import utterances_to_jsonl
    from chatbot.admin.runs import RunStore
    from chatbot.nlu.registry import open_registry
    from chatbot.backends.queues import open_queues
    root = tmp_path_factory.mktemp('runs')
    old = os.environ.get('CHATBOT_HOME')
    os.environ['CHATBOT_HOME'] = str(root/'home')
    data = root/'mini'; data.mkdir()
    (data/'train.jsonl').write_text(utterances_to_jsonl(mini_utterances()), encoding='utf-8')
    yield dict(root=root, data=data, store=RunStore(f"sqlite:///{root/'home'/'runs.db'}"), registry=open_registry(root/'reg'),
               queues=open_queues(f"sqlite:///{root/'queues.db'}"))
    if old is None: os.environ.pop('CHATBOT_HOME', None)
    else: os.environ['CHATBOT_HOME'] = old

@pytest.fixture(scope='module')
def webhook():
    "A local HTTP server that records the JSON bodies POSTed to it."
    got = []
    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers['Content-Length']))))
            self.send_response(204); self.end_headers()
        def log_message(self, *a): pass
    srv = http.server.HTTPServer(('127.0.0.1', 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_port}/events', got
    srv.shutdown()

@pytest.fixture(scope='module')
def done_run(env, webhook):
    "One successful 2-epoch run of the mini app through the runner, registry, queue and webhook."
    from chatbot.admin.runs import run_one
    rid = env['store'].submit('mini', env['data'], {'epochs': 2})
    assert env['store'].get(rid).state == 'queued'
    run = run_one(env['store'], env['registry'], env['queues'], webhook_url=webhook[0], poll=0.2)
    assert run.id == rid
    return run

def test_successful_run_record(done_run):
    import nbformat
    r = done_run
    assert r.state == 'succeeded', r.error
    assert r.progress == 1.0 and r.started_at and r.finished_at >= r.started_at
    art = Path(r.artifact)
    for f in ('manifest.json', 'weights.h5', 'vocab.txt', 'metrics.json', 'evaluation.jsonl', 'run.ipynb'): assert (art/f).exists(), f
    assert r.notebook == str(art/'run.ipynb')
    nb = nbformat.read(art/'run.ipynb', as_version=4)
    injected = [c for c in nb.cells if 'injected-parameters' in c.metadata.get('tags', [])]
    assert injected and 'epochs = 2' in injected[0].source and 'app = "mini"' in injected[0].source
    printed = ''.join(o.get('text', '') for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', []))
    assert 'trained in' in printed and 'sentences with other values of their entities swapped in' in printed
    m = json.loads((art/'metrics.json').read_text())
    assert m == r.metrics and 0 <= m['intent_accuracy'] <= 1 and 'confusion' in m
    from chatbot.nlu.predict import Predictor
    assert Predictor.load(art).predict('hello').top_intent
    try: import nbconvert  # noqa: F401
    except ImportError: pytest.skip('nbconvert is not installed: no report.html')
    html = (art/'report.html').read_text(encoding='utf-8')
    assert 'Per intent' in html and 'Lowest confidence' in html
    assert Path(r.log_path).read_text().count('Executing Cell') >= 5

def test_publish_and_event(env, done_run, webhook):
    r, reg = done_run, env['registry']
    assert r.version == '1' and r.published_to == 'staging'          # production empty: publish
    assert reg.slots('mini')['staging'] == '1' and reg.slots('mini')['production'] is None
    msgs = env['queues'].queue('model-events').receive(10)
    assert len(msgs) == 1
    body = msgs[0].json()
    assert body['event'] == 'model-trained' and body['app'] == 'mini' and body['run_id'] == r.id and body['version'] == '1'
    assert body['published_to'] == 'staging' and body['metrics']['intent_accuracy'] == r.metrics['intent_accuracy']
    assert webhook[1] and webhook[1][-1] == body

def test_publish_if_better_against_production(env, done_run):
    from chatbot.admin.runs import production_metrics, publish_to_staging_if_better
    reg, art, m = env['registry'], Path(done_run.artifact), done_run.metrics
    reg.publish('mini', '1', 'production')
    reg.publish('mini', '1', 'staging')
    prod = production_metrics(reg, 'mini', art)                   # production scored on the new run's evaluation data
    assert prod['intent_accuracy'] == m['intent_accuracy'] and prod['n'] == m['n']
    assert publish_to_staging_if_better(reg, 'mini', art, '1', m) is None          # a tie does not publish
    worse = dict(m, intent_accuracy=m['intent_accuracy'] - 0.01)
    assert publish_to_staging_if_better(reg, 'mini', art, '1', worse) is None
    tie_better_f1 = dict(m, entity=dict(m['entity'], f1=m['entity']['f1'] + 0.01))
    assert publish_to_staging_if_better(reg, 'mini', art, '1', tie_better_f1) == 'staging'

def test_failed_run_keeps_previous_model(env, done_run):
    from chatbot.admin.runs import run_one
    keep = env['root']/'keep'/'model'
    shutil.copytree(done_run.artifact, keep)
    before = {f.name: f.read_bytes() for f in keep.iterdir()}
    rid = env['store'].submit('mini', env['root']/'no-such-data', {'epochs': 2, 'output_dir': str(keep)})
    run = run_one(env['store'], env['registry'], env['queues'], poll=0.2)
    assert run.id == rid and run.state == 'failed'
    assert 'no-such-data' in run.error and 'is not a file' in run.error and 'cell 5' in run.error and "section 'Data'" in run.error
    assert run.notebook and Path(run.notebook).exists() and run.artifact is None   # the executed notebook is kept for diagnosis
    assert {f.name: f.read_bytes() for f in keep.iterdir()} == before
    assert not [p for p in keep.parent.iterdir() if p.name.startswith('.')]   # no temporary folders left
    assert env['registry'].versions('mini')[-1].version == '1'
    assert env['queues'].queue('model-events').receive(10) == []   # no event for a failed run

def test_one_running_run_per_app(tmp_path):
    from chatbot.admin.runs import RunStore
    s = RunStore(f"sqlite:///{tmp_path/'runs.db'}")
    a1, a2, b1 = s.submit('a', 'demo'), s.submit('a', 'demo'), s.submit('b', 'demo')
    assert s.claim_next().id == a1 and s.claim_next().id == b1 and s.claim_next() is None
    s.update(a1, state='succeeded')
    assert s.claim_next().id == a2
    # many claimers at once (each call its own connection): exactly one wins an app's next run
    others = [s.submit('c', 'demo') for _ in range(4)]
    got, threads = [], [threading.Thread(target=lambda: got.append(RunStore(s.url).claim_next('c'))) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert [r.id for r in got if r] == [others[0]]
    assert [r.state for r in s.list('c')] == ['queued'] * 3 + ['running']

def test_cancel_queued_run(tmp_path):
    from chatbot.admin.runs import RunStore, run_one
    s = RunStore(f"sqlite:///{tmp_path/'runs.db'}")
    rid = s.submit('a', 'demo')
    r = s.cancel(rid)
    assert r.state == 'cancelled' and r.finished_at
    assert run_one(s) is None and s.claim_next() is None
    with pytest.raises(KeyError): s.get('nope')

def _live_in_group(pgid: int) -> list[int]:
    "Pids of processes (not zombies) in process group `pgid`."
    out = []
    for p in Path('/proc').iterdir():
        if not p.name.isdigit(): continue
        try: st = (p/'stat').read_text().rsplit(')', 1)[1].split()
        except OSError: continue
        if int(st[2]) == pgid and st[0] != 'Z': out.append(int(p.name))
    return out

def test_cancel_running_run_kills_it(env):
    from chatbot.admin.runs import run_one
    s = env['store']
    rid = s.submit('slow', env['data'], {'epochs': 200, 'hparams': {'patience': 200, 'min_lr_fraction': 0}})
    out = {}
    t = threading.Thread(target=lambda: out.update(run=run_one(s, poll=0.2)))
    t.start()
    deadline = time.time() + 120
    while time.time() < deadline and s.get(rid).progress < 0.05: time.sleep(0.2)
    assert s.get(rid).state == 'running' and s.get(rid).progress >= 0.05   # progress written by the notebook
    pid = s.get(rid).pid
    s.cancel(rid)
    t.join(60)
    assert out['run'].state == 'cancelled' and out['run'].error == 'cancelled by request'
    time.sleep(1)
    assert not _live_in_group(pid)                                # the child and its kernel are gone
    assert out['run'].artifact is None and not list(Path(s.runs_dir/rid).glob('*model*'))

def test_runs_command_line(tmp_path, mini_app):
    "`chatbot runs submit|list|show|log|cancel` on a store app: a snapshot is queued, listed, shown and cancelled; unknown ids get one line."
    import subprocess, sys
    from chatbot.admin.store import open_store
    home = tmp_path/'home'
    open_store(f"sqlite:///{home/'apps.db'}").create_app(mini_app)
    def run(*args, check=True):
        r = subprocess.run([sys.executable, '-m', 'chatbot.cli', 'runs', *args], capture_output=True, text=True, timeout=120,
                           env={**os.environ, 'CHATBOT_HOME': str(home)})
        assert not check or r.returncode == 0, r.stderr
        return r
    rid = run('submit', 'mini', '--epochs', '3').stdout.strip()
    assert rid and rid in run('list').stdout and 'queued' in run('list', '--app', 'mini').stdout
    shown = json.loads(run('show', rid).stdout)
    assert shown['state'] == 'queued' and shown['parameters'] == {'epochs': 3} and Path(shown['data_spec']).exists()
    assert json.loads(Path(shown['data_spec']).read_text())['name'] == 'mini'          # the snapshot of the store app
    assert run('log', rid).stdout == ''
    assert 'cancelled' in run('cancel', rid).stdout and json.loads(run('show', rid).stdout)['state'] == 'cancelled'
    for args, message in ((('show', 'nope'), "unknown run 'nope'"), (('submit', 'no-such-app'), "no app named 'no-such-app'")):
        r = run(*args, check=False)
        assert r.returncode == 2 and message in r.stderr and 'Traceback' not in r.stderr
