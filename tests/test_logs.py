"Integration tests of the prediction log store and its background writer: real SQLite files, threads and processes."
import json, logging, multiprocessing as mp, os, signal, sqlite3, subprocess, sys, textwrap, threading, time
from datetime import datetime, timedelta, timezone
from pathlib import Path
import pytest
from chatbot.backends.logs import (LOG_FIELDS, LOG_SCHEMA_V1, LOG_SCHEMA_VERSION, LOG_APPLICATION_ID, LogStore, SQLiteLogStore, BackgroundLogWriter, LogSchemaError, open_log_store,
                          LOG_STORES, log_requested)
from chatbot.config import Settings

ROOT = Path(__file__).resolve().parents[1]
T0 = 1_700_000_000 // 3600 * 3600                 # an hour boundary
ENTS = [{'entity': 'product', 'type': 'product', 'text': '운동화', 'startIndex': 0, 'length': 3, 'score': 0.97,
         'resolution': {'values': ['운동화', 'sneakers']}},
        {'entity': 'store', 'text': '강남점', 'startIndex': 5, 'length': 3, 'role': None}]

@pytest.fixture
def path(tmp_path): return tmp_path/'logs.db'

@pytest.fixture
def store(path):
    with SQLiteLogStore(path) as s: yield s

def rec(i, **kw):
    "A complete record for request `i`."
    return dict(dict(ts=T0 + i, request_id=f'r{i}', app='shop', slot='production', model_version='v1', route='luis.v3',
                     query=f'query {i}', top_intent='Order', score=0.9, entities=[], latency_ms=10.0, client='127.0.0.1', status=200), **kw)

# ---------------------------------------------------------------- the store

def test_append_query_filters_and_order(store):
    recs = [rec(0, query='Buy SHOES', score=0.95), rec(1, query='운동화 주문할게요', entities=ENTS, score=0.4),
            rec(2, top_intent='FindStore', score=0.3), rec(3, app='other', top_intent='Greeting'),
            rec(4, top_intent=None, score=0.1, status=500), rec(4, request_id='r4b', score=0.5)]   # same ts as r4: insertion order breaks the tie
    assert store.append(recs) == 6 and store.count() == 6 and store.count('shop') == 5 and store.count('nope') == 0
    got = store.query()
    assert [r['request_id'] for r in got] == ['r4b', 'r4', 'r3', 'r2', 'r1', 'r0']          # newest first
    assert list(got[0]) == list(LOG_FIELDS) and got[-1] == dict(recs[0], ts=float(T0), details=None)
    ids = lambda **kw: [r['request_id'] for r in store.query(**kw)]
    assert ids(app='other') == ['r3']
    assert ids(app='shop', since=T0 + 1, until=T0 + 4) == ['r2', 'r1']                     # since inclusive, until exclusive
    assert ids(since=datetime.fromtimestamp(T0 + 3, timezone.utc)) == ['r4b', 'r4', 'r3']
    assert ids(intent='FindStore') == ['r2'] and ids(intent='Order', app='shop') == ['r4b', 'r1', 'r0']
    assert ids(max_score=0.4) == ['r4', 'r2', 'r1'] and ids(app='shop', max_score=0.5, intent='Order') == ['r4b', 'r1']   # inclusive
    assert ids(text='shoes') == ['r0'] and ids(text='주문') == ['r1'] and ids(text='QUERY') == ['r4b', 'r4', 'r3', 'r2']
    assert ids(limit=2) == ['r4b', 'r4'] and ids(limit=2, offset=2) == ['r3', 'r2'] and ids(limit=None, offset=5) == ['r0'] and ids(limit=0) == []
    for bad in (dict(limit=-1), dict(offset='x'), dict(since='yesterday'), dict(max_score='low')):
        with pytest.raises(ValueError): store.query(**bad)

def test_defaults_and_validation(store):
    before = time.time()
    assert store.append([{'app': 'shop', 'query': 'hi'}]) == 1
    [r] = store.query()
    assert before - 1 <= r['ts'] <= time.time() + 1 and r['entities'] == [] and r['score'] is None and r['slot'] is None
    with pytest.raises(ValueError, match=r"log record 2: unknown log field\(s\) 'latency'"):
        store.append([rec(1), dict(rec(2), latency=3)])
    with pytest.raises(ValueError, match='list of records'): store.append(rec(1))
    for bad, msg in [(dict(score='0.9'), 'finite number'), (dict(status=200.0), 'int HTTP status'), (dict(app=['shop']), 'must be a string'),
                     (dict(entities={'product': []}), 'must be a list')]:
        with pytest.raises(ValueError, match=msg): store.append([rec(9, **bad)])
    assert store.count() == 1                                                               # all or nothing

def test_entities_json_round_trip_korean(store, path):
    import numpy as np
    ents = ENTS + [{'entity': 'number', 'resolution': {'value': np.float32(2.5), 'values': np.array([1, 2])}}]
    store.append([rec(1, query='강남점에서 운동화 주문할게요', entities=ents)])
    [r] = store.query(text='운동화')
    assert r['query'] == '강남점에서 운동화 주문할게요' and r['entities'][:2] == ENTS
    assert r['entities'][2] == {'entity': 'number', 'resolution': {'value': 2.5, 'values': [1, 2]}}
    raw = sqlite3.connect(path).execute("SELECT entities FROM predictions").fetchone()[0]
    assert '운동화' in raw and json.loads(raw)[0] == ENTS[0]                                  # readable in the file, not \\uXXXX

def test_intent_counts_and_timeline(store):
    # hour 0: 10 requests, latencies 1..10 ms, scores 0.05 .. 0.95 (5 below 0.5); hour 2: 3 requests; plus noise of another app
    hour0 = [rec(i * 60, latency_ms=float(i + 1), score=0.05 + 0.1 * i, top_intent=['Order', 'Order', 'FindStore', None][i % 4]) for i in range(10)]
    hour2 = [rec(7200 + i, latency_ms=lat, score=sc, top_intent='Greeting') for i, (lat, sc) in enumerate([(100.0, 0.2), (None, None), (300.0, 0.99)])]
    store.append(hour0 + hour2 + [rec(5, app='other', top_intent='Order', latency_ms=999.0)])
    assert store.intent_counts('shop') == {'Order': 6, 'Greeting': 3, 'FindStore': 2}          # i % 4 in (0, 1): 6 of 10; 2: 2; 3: no intent
    assert list(store.intent_counts('shop')) == ['Order', 'Greeting', 'FindStore']             # most frequent first
    assert store.intent_counts() == {'Order': 7, 'Greeting': 3, 'FindStore': 2}
    assert store.intent_counts('shop', since=T0 + 7200) == {'Greeting': 3} and store.intent_counts('nope') == {}
    assert store.count('shop', since=T0, until=T0 + 3600) == 10
    tl = store.timeline('shop')
    # nearest rank: p50 of 1..10 is the 5th value, p95 the ceil(9.5) = 10th; of [100, 300]: 1st and 2nd
    assert tl == [dict(t=float(T0), requests=10, p50_ms=5.0, p95_ms=10.0, low_confidence=5),
                  dict(t=float(T0 + 7200), requests=3, p50_ms=100.0, p95_ms=300.0, low_confidence=1)]
    assert store.timeline('shop', until=T0 + 3600, low_score=0.3)[0]['low_confidence'] == 3
    by10 = store.timeline('shop', until=T0 + 3600, bucket_s=600)                              # 10-minute buckets: one request each 60 s
    assert [(b['t'] - T0, b['requests'], b['p50_ms'], b['p95_ms']) for b in by10] == [(0, 10, 5.0, 10.0)]
    by2 = store.timeline('shop', until=T0 + 3600, bucket_s=120)
    assert [(b['t'] - T0, b['requests'], b['p50_ms'], b['p95_ms']) for b in by2] == [(120 * k, 2, 2.0 * k + 1, 2.0 * k + 2) for k in range(5)]
    assert store.timeline('nope') == []
    with pytest.raises(ValueError, match='bucket_s'): store.timeline(bucket_s=0)

def test_prune_keeps_recent_rows(store, path):
    store.append([rec(i) for i in range(2500)])
    assert store.prune(T0 + 1000, chunk=300) == 1000 and store.count() == 1500
    assert store.query(limit=None)[-1]['ts'] == T0 + 1000
    assert store.prune(timedelta(days=1)) == 1500 and store.count() == 0 and store.prune(T0 + 10**9) == 0
    store.append([rec(0, ts=time.time())])
    assert store.prune(timedelta(days=1)) == 0 and store.count() == 1
    assert sqlite3.connect(path).execute("PRAGMA freelist_count").fetchone()[0] == 0             # space given back

def test_reopen_schema_and_wal(path):
    with SQLiteLogStore(path) as s:
        assert s.migrated_from == 0 and s.url == f'sqlite:///{path}'
        s.append([rec(1)])
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == LOG_SCHEMA_VERSION == 2 and con.execute("PRAGMA journal_mode").fetchone()[0] == 'wal'
    assert {r[1] for r in con.execute("PRAGMA index_list(predictions)")} >= {'predictions_by_app_ts', 'predictions_by_ts'}
    assert [r[2] for r in con.execute("PRAGMA index_info(predictions_by_app_ts)")] == ['app', 'ts']
    with open_log_store(f'sqlite:///{path}') as s: assert s.migrated_from == 2 and s.count() == 1
    con.execute("PRAGMA user_version = 7"); con.close()
    with pytest.raises(LogSchemaError, match='upgrade chatbot'): SQLiteLogStore(path)

def test_v1_file_migrates_in_place(path):
    "A log file written by schema version 1 (no `details` column) opens, keeps its rows and takes details."
    con = sqlite3.connect(path)
    con.executescript(LOG_SCHEMA_V1)
    con.execute("PRAGMA user_version = 1"); con.execute(f"PRAGMA application_id = {LOG_APPLICATION_ID}")
    v1_cols = [f for f in LOG_FIELDS if f != 'details']
    old = rec(1, query='운동화 주문할게요', entities=ENTS)
    con.execute(f"INSERT INTO predictions({', '.join(v1_cols)}) VALUES ({', '.join('?' * len(v1_cols))})",
                [json.dumps(old[f], ensure_ascii=False) if f == 'entities' else old[f] for f in v1_cols])
    con.commit(); con.close()
    with open_log_store(path) as s:
        assert s.migrated_from == 1
        [r] = s.query()
        assert r == dict(old, ts=float(T0 + 1), details=None)
        details = {'direction': 'inbound', 'channel': 'sendbird', 'user': 'u1', 'steps_ms': {'understand': 3.1}}
        assert s.append([rec(2, route='gateway.sendbird', details=details)]) == 1
        assert [r['details'] for r in s.query()] == [details, None] and s.count() == 2
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == LOG_SCHEMA_VERSION
    assert con.execute("PRAGMA application_id").fetchone()[0] == LOG_APPLICATION_ID
    assert [r[1] for r in con.execute("PRAGMA table_info(predictions)")][1:] == list(LOG_FIELDS)
    with open_log_store(path) as s: assert s.migrated_from == LOG_SCHEMA_VERSION and s.count() == 2     # nothing left to do

def test_details_round_trip_and_validation(store, path):
    import numpy as np
    details = {'direction': 'outbound', 'channel': 'sendbird', 'user': 'u1', 'reply': '강남점에서 주문이 접수되었어요',
               'steps_ms': {'understand': np.float64(3.1), 'reply': 12}, 'error': None}
    store.append([rec(1, route='gateway.sendbird', details=details), rec(2)])
    got = {r['request_id']: r['details'] for r in store.query()}
    assert got == {'r1': dict(details, steps_ms={'understand': 3.1, 'reply': 12}), 'r2': None}
    raw = sqlite3.connect(path).execute("SELECT details FROM predictions WHERE request_id = 'r1'").fetchone()[0]
    assert '강남점' in raw                                                                    # readable in the file, not \\uXXXX
    for bad, msg in [(['inbound'], 'must be a JSON object'), ('not json', 'got the string'), ('[1, 2]', 'got the string'),
                     ({'x': object()}, "'details' is not JSON-serializable"), ({'ms': float('inf')}, "'details' is not JSON-serializable")]:
        with pytest.raises(ValueError, match=msg): store.append([rec(9, details=bad)])
    assert store.count() == 2

def test_route_filter(store):
    routes = ['luis.v3', 'luis.v2', 'gateway.sendbird', 'gateway.kakao', 'gateway', None, 'gateway_x.y', 'Gateway.web']
    store.append([rec(i, route=r) for i, r in enumerate(routes)])
    ids = lambda **kw: [r['request_id'] for r in store.query(**kw)]
    assert ids(route='luis.v3') == ['r0'] and ids(route='gateway') == ['r4'] and ids(route='nope') == []
    assert ids(route='gateway.*') == ['r3', 'r2']                                            # prefix, case-sensitive, '_' not a wildcard
    assert ids(route='gateway*') == ['r6', 'r4', 'r3', 'r2'] and ids(route='luis.*', app='shop', until=T0 + 1) == ['r0']
    assert ids(route='*') == ['r7', 'r6', 'r4', 'r3', 'r2', 'r1', 'r0']                        # any route, not a missing one
    assert ids(route='gateway.*', limit=1, offset=1) == ['r2']
    with pytest.raises(ValueError, match='route must be a string'): store.query(route=3)

def test_refuses_other_files(tmp_path):
    from chatbot.admin.store import SQLiteAppStore
    SQLiteAppStore(tmp_path/'apps.db').close()
    with pytest.raises(LogSchemaError, match='not a chatbot log store'): SQLiteLogStore(tmp_path/'apps.db')
    sqlite3.connect(tmp_path/'other.db').execute("CREATE TABLE t(x)")
    with pytest.raises(LogSchemaError, match='not a chatbot log store'): SQLiteLogStore(tmp_path/'other.db')
    (tmp_path/'junk.db').write_text('not a database ' * 100)
    with pytest.raises(ValueError, match='cannot open log store'): SQLiteLogStore(tmp_path/'junk.db')
    with pytest.raises(ValueError, match='is a directory'): SQLiteLogStore(tmp_path)

def test_open_log_store_urls_and_backends(tmp_path, monkeypatch):
    for url in (':memory:', 'sqlite://', 'sqlite:///:memory:'): assert open_log_store(url).memory
    assert open_log_store(str(tmp_path/'plain.db')).path == str(tmp_path/'plain.db')
    monkeypatch.chdir(tmp_path)
    assert Path(open_log_store('sqlite:///rel/logs.db').path) == Path('rel/logs.db') and (tmp_path/'rel'/'logs.db').exists()
    assert open_log_store(Settings.from_env({'CHATBOT_HOME': str(tmp_path/'home')}).log_url).path == str(tmp_path/'home'/'logs.db')
    assert open_log_store(Settings.from_env({'CHATBOT_LOG_URL': ':memory:'}).log_url).memory
    with pytest.raises(ValueError, match=r"unsupported log store URL 'azuretable://acct/logs'.*sqlite://"): open_log_store('azuretable://acct/logs')
    with pytest.raises(ValueError, match='no host part'): open_log_store('sqlite://host/logs.db')

    class ListStore(SQLiteLogStore):
        "A pluggable backend, here just SQLite in memory remembering its URL."
        def __init__(self, url, **kw): super().__init__(':memory:'); self.url = url
    monkeypatch.setitem(LOG_STORES.factories, 'azuretable', ListStore)
    s = open_log_store('azuretable://acct/logs')
    assert isinstance(s, LogStore) and s.url == 'azuretable://acct/logs' and s.append([rec(1)]) == 1

def test_log_flag():
    assert log_requested(None) and log_requested('') and log_requested('TRUE') and log_requested(True)
    assert not log_requested('false') and not log_requested('False') and not log_requested('0') and not log_requested(False)
    with pytest.raises(ValueError, match='true or false'): log_requested('nope')

# ---------------------------------------------------------------- the writer

def test_writer_many_threads_all_land(store):
    w = BackgroundLogWriter(store, batch_size=200, flush_interval=0.05)
    def work(t):
        for i in range(1250): assert w.write(rec(t * 10_000 + i, request_id=f't{t}-{i}'))
    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert w.close()
    assert store.count() == 5000 and w.stats == dict(written=5000, dropped=0, pending=0, errors=0, invalid=0)
    ids = {r['request_id'] for r in store.query(limit=None)}
    assert ids == {f't{t}-{i}' for t in range(4) for i in range(1250)}
    assert w.close() and not w._thread.is_alive()                                          # idempotent

def test_writer_flush_without_close(store):
    with BackgroundLogWriter(store, flush_interval=10) as w:                                 # flush must not wait for the interval
        for i in range(30): w.write(rec(i))
        t = time.monotonic(); assert w.flush(); assert time.monotonic() - t < 2
        assert store.count() == 30 and w.stats['pending'] == 0
        assert w.flush()                                                                   # nothing new: returns at once

class BlockingStore:
    "Wraps a store; `append` signals `entered` and then waits for `release`."
    def __init__(self, inner):
        self.inner, self.entered, self.release = inner, threading.Event(), threading.Event()
    def append(self, records):
        self.entered.set()
        assert self.release.wait(30), 'test never released the store'
        return self.inner.append(records)

def test_full_buffer_drops_and_never_blocks(store, caplog):
    bs = BlockingStore(store)
    w = BackgroundLogWriter(bs, capacity=10, batch_size=5, flush_interval=0)
    assert w.write(rec(0)) and bs.entered.wait(10)                                           # the thread now holds record 0, stuck in append
    t = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger='chatbot.backends.logs'):
        results = [w.write(rec(i)) for i in range(1, 26)]
    elapsed = time.perf_counter() - t
    assert results == [True] * 10 + [False] * 15 and elapsed < 0.5, elapsed
    assert w.stats == dict(written=0, dropped=15, pending=11, errors=0, invalid=0)
    assert sum('dropped' in m for m in caplog.messages) == 1                                 # rate-limited
    assert not w.flush(timeout=0.05)                                                       # still blocked: flush times out
    bs.release.set()
    assert w.close() and store.count() == 11 and w.stats['written'] == 11
    assert sorted(r['request_id'] for r in store.query(limit=None)) == sorted(f'r{i}' for i in range(11))

def test_write_never_raises(store):
    with BackgroundLogWriter(store) as w:
        assert not w.write(None) and not w.write('query') and not w.write({'bogus': 1}) and not w.write(dict(score=float('inf')))
        assert w.write(rec(1)) and w.flush()
        assert w.stats['invalid'] == 4 and w.stats['written'] == 1
    assert not w.write(rec(2)) and w.stats['dropped'] == 1 and store.count() == 1           # closed: dropped, not raised

class FailingStore:
    "Wraps a store; the first `n` appends raise like a locked or full disk would."
    def __init__(self, inner, n):
        self.inner, self.n, self.calls = inner, n, 0
    def append(self, records):
        self.calls += 1
        if self.calls <= self.n: raise sqlite3.OperationalError('database is locked')
        return self.inner.append(records)

def test_store_errors_are_retried(store, caplog):
    fs = FailingStore(store, 2)
    with caplog.at_level(logging.WARNING, logger='chatbot.backends.logs'):
        w = BackgroundLogWriter(fs, batch_size=1000, flush_interval=0.05)
        for i in range(100): w.write(rec(i))
        assert w.close()
    assert store.count() == 100 and w.stats == dict(written=100, dropped=0, pending=0, errors=2, invalid=0)
    assert fs.calls >= 3 and w._thread is not None and not w._thread.is_alive()
    errors = [r for r in caplog.records if r.name == 'chatbot.backends.logs' and r.levelno == logging.ERROR]
    assert len(errors) == 2 and 'database is locked' in errors[0].getMessage() and 'retrying' in errors[0].getMessage()
    assert any('recovered after 2' in m for m in caplog.messages)

def test_close_gives_up_after_timeout_when_store_stays_down(store, caplog):
    fs = FailingStore(store, 10**9)
    w = BackgroundLogWriter(fs, flush_interval=0, max_backoff=0.05)
    w.write(rec(1))
    with caplog.at_level(logging.ERROR, logger='chatbot.backends.logs'):
        t = time.monotonic(); ok = w.close(timeout=0.3)
    assert not ok and time.monotonic() - t < 2 and w.stats['pending'] == 1 and w.stats['errors'] >= 2
    assert any('not stored' in m for m in caplog.messages)
    fs.n = 0                                                                               # the store comes back: the thread finishes the job
    deadline = time.monotonic() + 5
    while w._thread.is_alive() and time.monotonic() < deadline: time.sleep(0.02)
    assert store.count() == 1 and w.stats['written'] == 1

# ---------------------------------------------------------------- processes

WRITER_SCRIPT = """
    import sys
    from chatbot.backends.logs import open_log_store, BackgroundLogWriter
    path, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    w = BackgroundLogWriter(open_log_store(path), batch_size=50, flush_interval=0.001)
    for i in range(n): assert w.write(dict(ts=float(i), request_id=f'{tag}-{i}', app=tag, query='운동화', latency_ms=1.0))
"""

def test_two_processes_share_one_file(path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = textwrap.dedent(WRITER_SCRIPT) + "assert w.close()\n"
    procs = [subprocess.Popen([sys.executable, '-c', code, str(path), tag, '2000'], env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
             for tag in ('a', 'b')]
    for p in procs: assert p.wait(timeout=120) == 0, p.stderr.read()
    with SQLiteLogStore(path) as s:
        assert s.count() == 4000 and s.count('a') == 2000 and s.count('b') == 2000
        assert len({r['request_id'] for r in s.query(limit=None)}) == 4000

def test_atexit_drains_on_normal_exit(path):
    # a long flush interval and no close(): only the atexit hook can store these
    code = WRITER_SCRIPT.replace('batch_size=50, flush_interval=0.001', 'batch_size=10_000, flush_interval=60')
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, '-c', textwrap.dedent(code), str(path), 'x', '300'], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    with SQLiteLogStore(path) as s: assert s.count('x') == 300

def _child_writes(w, n):
    for i in range(n): assert w.write(rec(1000 + i, request_id=f'child-{i}'))
    assert w.close()

def test_forked_child_gets_its_own_writer(store):
    w = BackgroundLogWriter(store, flush_interval=60)                                        # parent's records wait in the buffer
    for i in range(5): w.write(rec(i, request_id=f'parent-{i}'))
    p = mp.get_context('fork').Process(target=_child_writes, args=(w, 7))
    p.start(); p.join(60)
    assert p.exitcode == 0
    assert w.close()
    ids = sorted(r['request_id'] for r in store.query(limit=None))
    assert ids == sorted([f'parent-{i}' for i in range(5)] + [f'child-{i}' for i in range(7)])   # nothing written twice

# ---------------------------------------------------------------- a store down at shutdown (issue 15)

SERVICE_SCRIPT = """
    import signal, sys, threading
    from chatbot.config import Settings
    from chatbot.chat.gateway import build_gateway
    gw = build_gateway(Settings.from_env(), nlu=False)          # the log writer every gateway and worker process has
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print('ready', flush=True)
    n = int(sys.stdin.readline())
    for i in range(n): assert gw.log.write(dict(request_id=f'r{i}', app='demo', route='gateway.rules', query=f'q{i}'))
    print('written', flush=True)
    stop.wait()
    print('closed', gw.log.close(timeout=1), gw.log.spilled, flush=True)
"""

def test_records_buffered_while_the_store_is_down_survive_a_stop(tmp_path):
    """10,022 records buffered while the log store is unreachable, then the service stopped: spilled to the home's log-spill
    folder, and replayed by the next start once the store is back: every record stored exactly once."""
    store_dir = tmp_path/'store'
    env = dict(os.environ, CHATBOT_HOME=str(tmp_path/'home'), CHATBOT_LOG_URL=f"sqlite:///{store_dir/'logs.db'}")
    def start():
        p = subprocess.Popen([sys.executable, '-c', textwrap.dedent(SERVICE_SCRIPT)], env=env, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert p.stdout.readline().strip() == 'ready'
        return p
    p = start()
    store_dir.rename(tmp_path/'away')                        # the store goes away (an unmounted disk, say)
    p.stdin.write('10022\n'); p.stdin.flush()
    assert p.stdout.readline().strip() == 'written'
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=60)
    assert out.split() == ['closed', 'True', '10022'] and p.returncode == 0
    spilled = list((tmp_path/'home'/'log-spill').glob('logs-*.jsonl'))
    assert len(spilled) == 1
    (tmp_path/'away').rename(store_dir)                      # the store is back
    p = start()
    p.stdin.write('0\n'); p.stdin.flush()
    assert p.stdout.readline().strip() == 'written'
    store = open_log_store(f"sqlite:///{store_dir/'logs.db'}")
    deadline = time.monotonic() + 30
    while store.count() < 10022 and time.monotonic() < deadline: time.sleep(0.1)
    p.send_signal(signal.SIGTERM); p.communicate(timeout=60)
    ids = [r['request_id'] for r in store.query(limit=None)]
    assert len(ids) == 10022 and set(ids) == {f'r{i}' for i in range(10022)}          # all there, once each
    assert not list((tmp_path/'home'/'log-spill').iterdir())                      # replayed files are gone
