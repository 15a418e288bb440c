"Integration tests of the SQLite app store: round trips, transactions, migrations, concurrency across threads and processes."
import multiprocessing as mp, queue, sqlite3, threading, time
import pytest
from chatbot.nlu.app import App, Entity, EntitySpan, Utterance, AppValidationError
from chatbot.admin import store as st
from chatbot.admin.store import (SQLiteAppStore, open_store, AppNotFound, NotFound, SchemaVersionError, SCHEMA_VERSION,
                           apply_migration, text_key)

def bilingual_app(name='shop') -> App:
    "Korean + English app: spans inside words (particles attached), roles, and list/regex/prebuilt entities."
    u = lambda text, intent, *spans: Utterance(text, intent, [EntitySpan(e, text.index(v), text.index(v) + len(v), v, *r) for e, v, *r in spans])
    return App(name, culture='ko-kr', version='1.2', description='매장 주문 / store orders', settings={'threshold': 0.35, 'lang': ['ko', 'en']},
               intents=['Order', 'StoreInfo', 'Transfer'],
               entities=[Entity('product'), Entity('city', roles=['origin', 'destination']),
                         Entity('store', 'list', values=[{'canonical': '강남점', 'synonyms': ['강남', 'Gangnam']}, {'canonical': '홍대점', 'synonyms': []}]),
                         Entity('order_id', 'regex', pattern=r'[A-Z]{2}\d{4}'), Entity('number', 'prebuilt'),
                         Entity('when', 'prebuilt', prebuilt='datetime')],
               utterances=[u('강남점에서 구두를 살래요', 'Order', ('product', '구두')),
                           u('운동화 두 켤레 주문할게요', 'Order', ('product', '운동화')),
                           u('서울에서 부산으로 보내 주세요', 'Transfer', ('city', '서울', 'origin'), ('city', '부산', 'destination')),
                           u('ship it from Seoul to Busan', 'Transfer', ('city', 'Seoul', 'origin'), ('city', 'Busan', 'destination')),
                           u('I want to buy sneakers', 'Order', ('product', 'sneakers')),
                           u('홍대점 몇 시에 열어요?', 'StoreInfo'),
                           u('what time does the Gangnam store open', 'StoreInfo'),
                           u('안녕하세요', 'None')])

@pytest.fixture
def path(tmp_path): return tmp_path/'apps.db'

def test_bilingual_round_trip(path):
    app = bilingual_app().validate()
    with SQLiteAppStore(path) as s: s.create_app(app, actor='admin@example.com')
    with open_store(f'sqlite:///{path}') as s:                        # a fresh store on the same file
        got = s.get_app('shop')
        assert got == app and got.to_dict() == app.to_dict()
        assert got.utterances[2].entities[1] == EntitySpan('city', 5, 7, '부산', 'destination')
        assert [u.text for u in s.search_utterances('shop', entity='city', text_contains='SEOUL')] == ['ship it from Seoul to Busan']
        assert [u.text for u in s.search_utterances('shop', text_contains='점')] == ['강남점에서 구두를 살래요', '홍대점 몇 시에 열어요?']
        [info] = s.list_apps()
        assert (info.name, info.culture, info.version, info.intents, info.entities, info.utterances) == ('shop', 'ko-kr', '1.2', 4, 6, 8)
        assert s.changes('shop')[0].actor == 'admin@example.com'

def test_transactional_failures_leave_db_unchanged(path, monkeypatch):
    s = SQLiteAppStore(path)
    s.create_app(bilingual_app())
    before, log = s.get_app('shop'), s.changes()
    with pytest.raises(AppValidationError) as e:     # one good utterance, three bad: nothing written, all problems reported
        s.add_utterances('shop', [Utterance('new and fine', 'Order'), Utterance('안녕하세요 ', 'None'), Utterance('z', 'Nope'),
                                  Utterance('q', 'Order', [EntitySpan('store', 0, 1, 'q')])])
    assert len(e.value.problems) == 3
    with pytest.raises(AppValidationError): s.replace_app(App('shop', utterances=[Utterance('x', 'Missing')]))
    # half a UTF-16 pair (a browser's string can hold one) is refused by name, not by SQLite's encoder
    with pytest.raises(AppValidationError, match='lone UTF-16 surrogate at character 4'):
        s.add_utterances('shop', [Utterance('buy \udfcf shoes', 'Order')])
    with pytest.raises(AppNotFound): s.add_utterances('nope', [Utterance('x', 'None')])
    with pytest.raises(NotFound): s.delete_utterances('shop', ['안녕하세요', 'not there'])
    with pytest.raises(AppValidationError): s.delete_entity('shop', 'city')
    with pytest.raises(AppValidationError): s.delete_intent('shop', 'Transfer')
    # a failure in the middle of a write (after the rows went in) rolls back the whole batch
    def boom(*a, **k): raise RuntimeError('disk on fire')
    monkeypatch.setattr(st, '_log', boom)
    with pytest.raises(RuntimeError): s.add_utterances('shop', [Utterance(f'fine {i}', 'Order') for i in range(50)])
    with pytest.raises(RuntimeError): s.replace_app(App('shop'))
    monkeypatch.undo()
    assert s.get_app('shop') == before and s.changes() == log
    assert SQLiteAppStore(path).get_app('shop') == before          # also as seen by another connection

def make_v1(path, texts=('Hello there', 'book a table')):
    "A database at schema version 1, written the way the first release wrote it."
    con = sqlite3.connect(path, isolation_level=None)
    con.execute('BEGIN'); apply_migration(con, 1); con.execute('COMMIT')
    now = '2026-01-01T00:00:00.000Z'
    app_id = con.execute("INSERT INTO apps(name, culture, version, created_at, updated_at) VALUES ('old', 'en-us', '0.1', ?, ?)", (now, now)).lastrowid
    none_id = con.execute("INSERT INTO intents(app_id, name) VALUES (?, 'None')", (app_id,)).lastrowid
    book_id = con.execute("INSERT INTO intents(app_id, name) VALUES (?, 'Book')", (app_id,)).lastrowid
    ent_id = con.execute("INSERT INTO entities(app_id, name, kind) VALUES (?, 'thing', 'learned')", (app_id,)).lastrowid
    for t in texts:
        uid = con.execute('INSERT INTO utterances(app_id, intent_id, text, created_at, updated_at) VALUES (?,?,?,?,?)',
                          (app_id, book_id if 'book' in t else none_id, t, now, now)).lastrowid
        if 'table' in t: con.execute('INSERT INTO spans(utterance_id, entity_id, char_start, char_end, value) VALUES (?,?,7,12,?)', (uid, ent_id, 'table'))
    assert con.execute('PRAGMA user_version').fetchone()[0] == 1
    con.close()

def test_migration_upgrades_old_db(path):
    make_v1(path)
    s = SQLiteAppStore(path)
    assert s.migrated_from == 1
    assert sqlite3.connect(path).execute('PRAGMA user_version').fetchone()[0] == SCHEMA_VERSION
    app = s.get_app('old')
    assert app.intents == ['None', 'Book'] and app.utterances[1] == Utterance('book a table', 'Book', [EntitySpan('thing', 7, 12, 'table')])
    with pytest.raises(AppValidationError, match='already has'): s.add_utterances('old', [Utterance('  HELLO THERE', 'None')])   # text_key backfilled
    assert SQLiteAppStore(path).migrated_from == SCHEMA_VERSION                    # second open: nothing to do

def test_old_db_takes_structured_apps(path):
    "A v1 store migrates to v3 and then keeps learned children, nested labels, features, patterns and synonyms."
    from chatbot.nlu.app import Feature, Pattern, PhraseList
    make_v1(path)
    order = Entity('Order', children=[Entity('Size', instance_of='Sizes', features=[Feature('w', 'phraselist', True)])])
    app = App('pizza', intents=['Buy'], entities=[order, Entity('Sizes', 'list', values=[{'canonical': 'L', 'synonyms': ['large']}])],
              patterns=[Pattern('Buy', '{Order} please')], phrase_lists=[PhraseList('w', ['large', 'big'], False, enabled_for_all=False)],
              intent_features={'Buy': [Feature('Order')]}, synonyms={'L': ['large']}, extra={'luis': {'tokenizerVersion': '1.0.1'}},
              utterances=[Utterance('large pizza', 'Buy', [EntitySpan('Order', 0, 11, 'large pizza', children=[
                  EntitySpan('Size', 0, 5, 'large', canonical='L')])], dataset='Test')])
    with SQLiteAppStore(path) as s:
        assert s.migrated_from == 1
        s.create_app(app)
        assert s.get_app('pizza') == app and s.get_app('old').patterns == []
        s.update_entity('pizza', 'Sizes', Entity('Sizes', 'list', values=[{'canonical': 'XL', 'synonyms': []}]))
        s.update_utterance('pizza', 'large pizza', Utterance('large pizza', 'Buy', [EntitySpan('Order', 0, 11, 'large pizza')]))
        got = s.get_app('pizza')
        assert got.entity('Order') == order and got.patterns == app.patterns and got.utterances[0].entities[0].children == []
    with SQLiteAppStore(path) as s: assert s.get_app('pizza').synonyms == {'L': ['large']}

def test_failed_migration_and_newer_db(path, tmp_path):
    make_v1(path, texts=('Hello there', 'hello there'))    # duplicates a v1 bug let in: the v2 unique index cannot be built
    with pytest.raises(SchemaVersionError, match='left unchanged'): SQLiteAppStore(path)
    assert sqlite3.connect(path).execute('PRAGMA user_version').fetchone()[0] == 1
    newer = tmp_path/'newer.db'
    con = sqlite3.connect(newer); con.execute(f'PRAGMA user_version = {SCHEMA_VERSION + 1}'); con.close()
    with pytest.raises(SchemaVersionError, match='upgrade chatbot'): SQLiteAppStore(newer)
    foreign = tmp_path/'foreign.db'
    con = sqlite3.connect(foreign); con.execute('CREATE TABLE t(x)'); con.close()
    with pytest.raises(SchemaVersionError, match='not a chatbot app store'): SQLiteAppStore(foreign)

def test_open_store_urls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open_store('sqlite:///data/rel.db') as s: s.create_app(App('a'))
    assert (tmp_path/'data'/'rel.db').exists()
    from chatbot.config import Settings
    with open_store(Settings.from_env({'CHATBOT_HOME': str(tmp_path/'home')}).store_url) as s:
        assert s.path == str(tmp_path/'home'/'apps.db')
    with pytest.raises(ValueError, match='supported are sqlite://'): open_store('mongodb://x/y')

BATCHES, BATCH = 40, 10

def read_loop(path, stop, out, ready):
    "Read repeatedly until `stop` is set; report (reads, errors, consistent?, how many states seen mid-write)."
    s, reads, errors, ok, last, seen = SQLiteAppStore(path), 0, [], True, 0, set()
    while True:
        done = stop.is_set()
        try:
            n = len(s.get_app('load').utterances)
            ok &= n % BATCH == 0 and n >= last               # whole batches only, never going backwards
            ok &= s.count_utterances('load') >= n and len(s.search_utterances('load', intent='Order', limit=5)) <= 5
            ok &= s.list_apps()[0].utterances >= n
            last, reads = n, reads + 1
            if reads == 1: ready.put(1)
            if 0 < n < BATCHES * BATCH: seen.add(n)
        except Exception as e: errors.append(f'{type(e).__name__}: {e}')
        if done: break
        time.sleep(0.002)
    s.close()
    out.put((reads, errors, ok, len(seen)))

def test_concurrent_threads_and_processes(path):
    s = SQLiteAppStore(path)
    s.create_app(App('load', intents=['Order'], entities=[Entity('product')]))
    ctx = mp.get_context('spawn')
    stop, out, ready = ctx.Event(), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=read_loop, args=(str(path), stop, out, ready)) for _ in range(2)]
    for p in procs: p.start()
    tstop, tout, tready = threading.Event(), queue.Queue(), queue.Queue()
    threads = [threading.Thread(target=read_loop, args=(path, tstop, tout, tready)) for _ in range(4)]
    for t in threads: t.start()
    for q, n in ((ready, 2), (tready, 4)):                # every reader is reading before the writer starts
        for _ in range(n): q.get(timeout=60)
    writer_errors = []
    def write():
        w = SQLiteAppStore(path)
        for b in range(BATCHES):
            try: w.add_utterances('load', [Utterance(f'buy item {b}-{i}', 'Order', [EntitySpan('product', 4, 8, 'item')]) for i in range(BATCH)],
                                  actor='writer')
            except Exception as e: writer_errors.append(f'{type(e).__name__}: {e}')
            time.sleep(0.01)
        w.close()
    wt = threading.Thread(target=write); wt.start(); wt.join()
    stop.set(); tstop.set()
    results = [out.get(timeout=60) for _ in procs] + [tout.get(timeout=60) for _ in threads]
    for p in procs: p.join(timeout=60); assert p.exitcode == 0
    for t in threads: t.join()
    assert writer_errors == []
    for reads, errors, ok, _ in results:
        assert errors == [] and ok and reads > 0, (reads, errors[:3], ok)
    assert sum(r[3] for r in results[:2]) > 0 and sum(r[3] for r in results[2:]) > 0, results   # reads really overlapped the writes
    assert s.app_info('load').utterances == BATCHES * BATCH
    assert len(s.get_app('load').utterances) == BATCHES * BATCH and s.count_utterances('load', entity='product') == BATCHES * BATCH
    assert len([c for c in s.changes('load', limit=None) if c.action == 'add_utterances']) == BATCHES

def test_concurrent_writers_and_memory_store(path):
    "Two writers at once wait for each other (busy_timeout) instead of failing; an in-memory store is shared by threads."
    for s in (SQLiteAppStore(path), open_store(':memory:')):
        s.create_app(App('w', intents=['A']))
        errs = []
        def write(k):
            for b in range(10):
                try: s.add_utterances('w', [Utterance(f'writer {k} batch {b} item {i}', 'A') for i in range(5)], actor=f'w{k}')
                except Exception as e: errs.append(repr(e))
        ts = [threading.Thread(target=write, args=(k,)) for k in range(3)]
        for t in ts: t.start()
        for t in ts: t.join()
        assert errs == [] and s.app_info('w').utterances == 150

def test_fork_after_use(path):
    "A forked child must not reuse the parent's connection; it opens its own."
    s = SQLiteAppStore(path)
    s.create_app(App('f', intents=['A']))
    ctx = mp.get_context('fork')
    def child(): s.add_utterances('f', [Utterance('from the child', 'A')]); s.close()
    p = ctx.Process(target=child); p.start(); p.join(30)
    assert p.exitcode == 0 and s.search_utterances('f')[0].text == 'from the child'

def test_get_app_10k_round_trips(path):
    "A large app comes back whole (its speed is measured by the benchmark, not asserted here)."
    s = SQLiteAppStore(path)
    app = App('big', intents=['A', 'B'], entities=[Entity('x')],
              utterances=[Utterance(t, 'AB'[i % 2], [EntitySpan('x', len(t) - 1, len(t), 'x')])
                          for i, t in ((i, f'utterance number {i} about x') for i in range(10_000))])
    s.create_app(app)
    assert s.get_app('big') == app
