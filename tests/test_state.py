"Integration tests of the state store: one suite, run against SQLite and against Azure Table storage (Azurite)."
import subprocess, sys, threading, time, uuid
from pathlib import Path
import pytest

from chatbot.backends.state import (MAX_VALUE_BYTES, StateError, ConflictError, StateStore, SQLiteStateStore, AzureTableStateStore,
                           open_state, STATES, table_keys)
from chatbot.config import Settings

ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture(params=['sqlite', 'azure'])
def make_store(request, tmp_path, monkeypatch):
    "A factory of handles on one fresh store (several handles stand for several processes)."
    if request.param == 'sqlite':
        url = f"sqlite:///{tmp_path/'state.db'}"
    else:
        az = request.getfixturevalue('azurite')
        url = f'azure-table://state{uuid.uuid4().hex[:16]}'                # own table per test
    cs = request.getfixturevalue('azurite').connection_string if request.param == 'azure' else None
    handles = []
    def make():
        handles.append(open_state(url, cs)); return handles[-1]
    yield make
    for h in handles: h.close()

@pytest.fixture
def store(make_store): return make_store()

def bump(v): v['n'] = v.get('n', 0) + 1

def run_threads(n, work):
    "Run `work(i)` in `n` threads started together; re-raise the first error."
    errors, barrier = [], threading.Barrier(n)
    def go(i):
        try: barrier.wait(); work(i)
        except Exception as e: errors.append(e)
    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads: t.start()
    for t in threads: t.join()
    if errors: raise errors[0]

def test_round_trips(store):
    assert isinstance(store, StateStore) and store.get('user:web:민수') == (None, None) and store.keys() == []
    v = {'lang': 'ko', 'form': {'product': '운동화', 'size': 270}, 'history': ['안녕하세요', '운동화 주문할게요'], 'score': 0.93, 'ok': True, 'none': None}
    e1 = store.put('user:web:민수', v)
    assert isinstance(e1, str) and e1 and store.get('user:web:민수') == (v, e1)
    e2 = store.put('user:web:민수', {'lang': 'en'})                       # unconditional overwrite
    assert e2 != e1 and store.get('user:web:민수') == ({'lang': 'en'}, e2)
    assert store.delete('user:web:민수') and store.get('user:web:민수') == (None, None) and not store.delete('user:web:민수')
    assert store.keys() == []

def test_etags_and_if_absent(make_store):
    a, b = make_store(), make_store()
    e1 = a.put('conv:web:alice', {'n': 1}, if_absent=True)
    with pytest.raises(ConflictError, match='already exists'): b.put('conv:web:alice', {'n': 9}, if_absent=True)
    v, e = b.get('conv:web:alice')
    assert (v, e) == ({'n': 1}, e1)
    e2 = b.put('conv:web:alice', {'n': 2}, etag=e1)
    with pytest.raises(ConflictError, match='changed since it was read'): a.put('conv:web:alice', {'n': 3}, etag=e1)   # stale
    with pytest.raises(ConflictError): a.delete('conv:web:alice', etag=e1)
    assert a.get('conv:web:alice') == ({'n': 2}, e2)                     # the lost writes changed nothing
    assert a.delete('conv:web:alice', etag=e2) and a.get('conv:web:alice') == (None, None)
    assert not a.delete('conv:web:alice', etag=e2)                       # absent: False, not a conflict
    with pytest.raises(ConflictError, match='does not exist'): a.put('conv:web:alice', {'n': 4}, etag=e2)
    e3 = a.put('conv:web:alice', {'n': 5}, if_absent=True)
    assert e3 not in (e1, e2)
    with pytest.raises(StateError, match='not both'): a.put('conv:web:alice', {}, etag=e3, if_absent=True)
    with pytest.raises(StateError, match='bad etag'): a.put('conv:web:alice', {}, etag='')

def test_update_under_contention(make_store):
    stores = [make_store() for _ in range(2)]
    run_threads(4, lambda i: [stores[i % 2].update('user:sendbird:7', bump) for _ in range(25)])
    assert stores[0].get('user:sendbird:7')[0] == {'n': 100}
    got = stores[1].update('user:sendbird:8', lambda v: {**v, 'hist': v['hist'] + ['안녕']}, default={'hist': [], 'lang': 'ko'})
    assert got == {'hist': ['안녕'], 'lang': 'ko'} == stores[0].get('user:sendbird:8')[0]
    assert stores[0].update('user:sendbird:8', lambda v: v.update(lang='en')) == {'hist': ['안녕'], 'lang': 'en'}   # in place, returning None
    with pytest.raises(StateError, match='is a dict'): stores[0].update('user:sendbird:8', lambda v: [v])
    with pytest.raises(ZeroDivisionError): stores[0].update('user:sendbird:8', lambda v: 1 / 0)
    assert stores[0].get('user:sendbird:8')[0]['lang'] == 'en'

def test_update_gives_up_when_always_beaten(store):
    def meddle(v):                                                        # another writer gets in every time
        store.put('user:x:1', {'n': -1}); v['n'] = 1
    with pytest.raises(ConflictError, match='3 conflicting writes'): store.update('user:x:1', meddle, retries=2)

def test_claim_once_across_threads_and_ttl(make_store):
    stores = [make_store() for _ in range(2)]
    won = []
    run_threads(6, lambda i: won.extend(k for k in (f'done:handle:msg-{j}' for j in range(5)) if stores[i % 2].claim(k)))
    assert sorted(won) == [f'done:handle:msg-{j}' for j in range(5)]
    s = stores[0]
    assert s.claim('done:nlu:m1', ttl=0.5) and not s.claim('done:nlu:m1', ttl=0.5) and not stores[1].claim('done:nlu:m1')
    assert 'done:nlu:m1' in s.keys('done:nlu') and s.get('done:nlu:m1')[0]['claimed_at'] > time.time() - 60
    time.sleep(0.55)
    assert s.get('done:nlu:m1') == (None, None) and s.keys('done:nlu') == []   # expired counts as absent
    won = []
    run_threads(4, lambda i: won.append(stores[i % 2].claim('done:nlu:m1', ttl=0.5)))
    assert sorted(won) == [False, False, False, True]                   # reclaimed once
    time.sleep(0.55)
    assert not s.delete('done:nlu:m1') and s.put('done:nlu:m2', {}, if_absent=True)
    assert s.claim('done:nlu:m3', ttl=0.05) and s.claim('done:nlu:m4', ttl=0.05)
    time.sleep(0.1)
    assert s.purge() == 2 and s.keys('done:nlu:') == ['done:nlu:m2']
    with pytest.raises(StateError, match='ttl'): s.claim('done:nlu:m5', ttl=-1)

def test_put_with_ttl_expires_and_is_purged(store):
    "Reply markers (`sent:`) are written with a TTL: readable until then, absent after, deleted by purge."
    store.put('sent:m1.reply', {'at': 1.0}, ttl=0.3)
    store.put('sent:m2.reply', {'at': 2.0}, ttl=3600)
    assert store.get('sent:m1.reply')[0] == {'at': 1.0} and store.keys('sent:') == ['sent:m1.reply', 'sent:m2.reply']
    time.sleep(0.35)
    assert store.get('sent:m1.reply') == (None, None) and store.keys('sent:') == ['sent:m2.reply']
    assert store.purge() == 1 and store.get('sent:m2.reply')[0] == {'at': 2.0}
    with pytest.raises(StateError, match='ttl must be a positive number'): store.put('sent:m3.reply', {}, ttl=0)

def test_keys_with_awkward_characters(store):
    keys = ['user:web:a/b', 'user:web:a#b', 'user:web:a?b', 'user:web:a%b', 'user:web:a%25b', "user:web:o'brien", 'user:web:a\\b',
            'user:web:민수', 'user:web:민수:대화/1', '사용자:키', 'user', 'user:', ':user', 'user:web:tab\there', 'u/s#e?r%:x', 'user:web:!2F',
            'conv:web:alice', 'conv:web:alice bob', 'emoji:😀']
    for i, k in enumerate(keys): store.put(k, {'i': i, 'key': k})
    assert store.keys() == sorted(keys)
    for i, k in enumerate(keys): assert store.get(k)[0] == {'i': i, 'key': k}, k
    assert store.keys('user:web:') == sorted(k for k in keys if k.startswith('user:web:'))
    assert store.keys('user:web:민수') == ['user:web:민수', 'user:web:민수:대화/1'] and store.keys('user') == sorted(k for k in keys if k.startswith('user'))
    assert store.keys('u/s#e?r%') == ['u/s#e?r%:x'] and store.keys('사용자:') == ['사용자:키'] and store.keys('nothing:') == []
    assert store.keys('user:web:a%') == ['user:web:a%25b', 'user:web:a%b'] and store.keys(':') == [':user']
    long = 'user:' + '/' * 507                                             # too long to escape into a RowKey: hashed, still works
    store.put(long, {'long': True})
    assert store.get(long)[0] == {'long': True} and long in store.keys('user:/')
    for k in keys[::2] + [long]: assert store.delete(k), k
    assert store.keys() == sorted(keys[1::2])

def test_values_and_errors(store):
    big = {'t': 'a' * (MAX_VALUE_BYTES - 8)}                               # exactly the limit, longer than one Azure string property
    korean = {'t': '가' * ((MAX_VALUE_BYTES - 8) // 3)}
    emoji = {'t': 'x' * 2_001 + '😀' * 14_000}                            # a surrogate pair across the piece boundary
    for k, v in [('big:1', big), ('big:2', korean), ('big:3', emoji)]:
        store.put(k, v)
        assert store.get(k)[0] == v
    store.put('big:1', {'small': 1})                                       # a smaller value replaces every piece
    assert store.get('big:1')[0] == {'small': 1}
    cases = [(lambda: store.put('big:4', {'t': 'a' * (MAX_VALUE_BYTES - 7)}), 'too large'),
             (lambda: store.put('x:1', {'when': object()}), 'not JSON-serializable'),
             (lambda: store.put('x:1', {'x': float('inf')}), 'not JSON-serializable'),
             (lambda: store.put('x:1', ['not', 'a', 'dict']), 'is a dict'),
             (lambda: store.put('', {}), 'bad state key'), (lambda: store.get(None), 'bad state key'),
             (lambda: store.put('x' * 513, {}), 'too long'), (lambda: store.delete(7), 'bad state key'),
             (lambda: store.keys(3), 'prefix must be a string'), (lambda: store.update('x:1', bump, default=[1]), 'is a dict')]
    for call, msg in cases:
        with pytest.raises(StateError, match=msg): call()
    assert store.keys() == ['big:1', 'big:2', 'big:3']

def test_sqlite_two_processes(tmp_path):
    url = f"sqlite:///{tmp_path/'state.db'}"
    open_state(url).close()
    code = ("import sys\nfrom chatbot.backends.state import open_state\ns = open_state(sys.argv[1])\n"
            "def bump(v): v['n'] = v.get('n', 0) + 1\n"
            "for _ in range(50): s.update('user:web:p', bump, retries=200)\n")
    procs = [subprocess.Popen([sys.executable, '-c', code, url], cwd=ROOT, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs: assert p.wait(timeout=60) == 0, p.stderr.read().decode()
    s = open_state(url)
    assert s.get('user:web:p')[0] == {'n': 100} and int(s.get('user:web:p')[1]) >= 100

def test_azure_layout(azurite):
    s = open_state(f'azure-table://layout{uuid.uuid4().hex[:12]}', azurite.connection_string)
    assert isinstance(s, AzureTableStateStore)
    s.put('user:sendbird:123', {'lang': 'ko', 'text': '안녕'})
    s.put('a/b:c#d', {'big': 'x' * 50_000})
    ent = s._table.get_entity('user', 'sendbird:123')
    assert ent['key'] == 'user:sendbird:123' and ent['value'] == '{"lang":"ko","text":"안녕"}' and 'value1' not in ent
    ent = s._table.get_entity(*table_keys('a/b:c#d'))
    assert (ent['PartitionKey'], ent['RowKey']) == ('a!2Fb', 'c!23d') and len(ent['value']) == 30_000 and ent['value1'].endswith('"}')
    assert AzureTableStateStore(s.table, connection_string=azurite.connection_string).get('user:sendbird:123')[0]['text'] == '안녕'   # table exists: reused
    s.close()

def test_open_state_urls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({}).state_url == f"sqlite:///{tmp_path/'.chatbot'/'state.db'}"
    s = open_state(Settings.from_env({}).state_url)
    assert isinstance(s, SQLiteStateStore) and (tmp_path/'.chatbot'/'state.db').exists()
    assert open_state(Settings.from_env({'CHATBOT_HOME': str(tmp_path/'home')}).state_url).path == str(tmp_path/'home'/'state.db')
    assert open_state(Settings.from_env({'CHATBOT_STATE_URL': 'sqlite:///rel/s.db'}).state_url).path == 'rel/s.db'
    assert (tmp_path/'rel'/'s.db').exists()
    assert open_state(':memory:').memory and open_state('sqlite://').memory and open_state(tmp_path/'p.db').url == f"sqlite:///{tmp_path/'p.db'}"
    with pytest.raises(StateError, match='unsupported state store URL'): open_state('redis://localhost/0')
    with pytest.raises(StateError, match='sqlite:///'): open_state('sqlite://host/x.db')
    with pytest.raises(StateError, match='not a chatbot state store'):
        from chatbot.backends.logs import open_log_store
        open_log_store(tmp_path/'logs.db').close(); open_state(tmp_path/'logs.db')
    with pytest.raises(StateError, match='AZURE_STORAGE_CONNECTION_STRING'): open_state('azure-table://chatstate')
    with pytest.raises(StateError, match='bad table name'): open_state('azure-table://chat-state', 'UseDevelopmentStorage=true')
    monkeypatch.setitem(STATES.factories, 'mem', lambda url, **kw: SQLiteStateStore(':memory:'))
    assert open_state('mem://x').memory

def test_a_conversation_grown_past_the_limit_drops_its_oldest_messages(store):
    """Issue 15: a history over the store's limit (60,000 bytes of JSON; Azure Table: 64 KiB a property) failed the write, and
    the reply with it. Now the oldest messages go first: every write succeeds and the newest messages, the reply last, stay."""
    from chatbot.chat.pipeline import Gateway, deliver
    from chatbot.demo import demo_rules
    gw = Gateway(None, store, demo_rules(), senders={'web': lambda m: None})
    for i in range(40):                                              # 40 × about 6 KB of Korean: four times the limit
        gw.append('web', 'kim', dict(id=f'm{i}', direction='inbound', text=f'{i}: ' + '가나다' * 666, created_at=i))
    reply = dict(id='m39', channel='web', user='kim', reply=dict(id='m39.reply', text='네, 알겠습니다'))
    assert deliver(gw, reply) is True
    msgs = gw.history('web', 'kim')
    assert [m['id'] for m in msgs[-2:]] == ['m39', 'm39.reply'] and 5 <= len(msgs) < 12
    assert [m['id'] for m in msgs] == [f'm{i}' for i in range(40 - len(msgs) + 1, 40)] + ['m39.reply']   # oldest went first
    raw = store._read('conv:web:kim', time.time())[0]
    assert len(raw.encode('utf-8')) <= MAX_VALUE_BYTES and store.get('sent:m39.reply')[0]
