"Integration tests of the message queues: one suite, run against a SQLite file and against Azure Storage queues (Azurite)."
import base64, json, logging, statistics, subprocess, sys, textwrap, threading, time, uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
import pytest

from chatbot.backends.queues import (MAX_MESSAGE_BYTES, QUEUES, QueueError, ReceiptError, QueueMessage, MessageQueue, QueueService,
                            SQLiteQueue, SQLiteQueueService, AzureQueueService, open_queues, consume)
from chatbot.config import Settings

@dataclass
class Backend:
    "One fresh place for queues: `open()` gives a new handle on it (several handles stand for several processes)."
    kind: str
    url: str
    vt: float                                   # a short visibility timeout; Azure counts whole seconds
    cs: str | None = None                       # the Azure account, for azure-queue://

    def open(self) -> QueueService: return open_queues(self.url, self.cs)

@pytest.fixture(params=['sqlite', 'azure'])
def backend(request, tmp_path, monkeypatch):
    if request.param == 'sqlite': return Backend('sqlite', f"sqlite:///{tmp_path/'queues.db'}", 0.3)
    az = request.getfixturevalue('azurite')
    return Backend('azure', f'azure-queue://t{uuid.uuid4().hex[:12]}', 1, az.connection_string)   # own prefix per test

@pytest.fixture
def svc(backend):
    s = backend.open()
    yield s
    s.close()

def test_round_trip(svc):
    q = svc.queue('inbound')
    assert isinstance(q, MessageQueue) and q.name == 'inbound' and svc.queue('inbound') is q
    texts = ['안녕하세요, 운동화 주문할게요 🙂', 'tabs\tand\nnewlines <&> "quotes" \\ ']
    ids = [q.send(t) for t in texts] + [q.send({'user': '사용자-1', 'text': '립스틱 있어요?', 'n': [1, 2.5, None]})]
    assert len(set(ids)) == 3 and all(isinstance(i, str) and i for i in ids)
    t0 = time.time()
    msgs = q.receive(max_messages=10, visibility_timeout=30)
    by_id = {m.id: m for m in msgs}
    assert set(by_id) == set(ids) and [by_id[i].body for i in ids[:2]] == texts
    d = by_id[ids[2]]
    assert d.body == '{"user":"사용자-1","text":"립스틱 있어요?","n":[1,2.5,null]}'
    assert d.json() == {'user': '사용자-1', 'text': '립스틱 있어요?', 'n': [1, 2.5, None]}
    with pytest.raises(QueueError, match='is not JSON'): by_id[ids[0]].json()
    assert all(isinstance(m, QueueMessage) and m.dequeue_count == 1 and abs(m.inserted_at - t0) < 10 and m.receipt for m in msgs)
    assert q.receive() == [] and q.count() == 3                          # hidden, still there
    for m in msgs: q.delete(m)
    assert q.count() == 0 and q.receive(wait=0.2) == []

def test_visibility_timeout_redelivers_and_stale_receipt(svc, backend):
    q = svc.queue('work')
    q.send('x')
    t0 = time.monotonic()
    m1, = q.receive(visibility_timeout=backend.vt)
    assert q.receive() == []
    m2, = q.receive(visibility_timeout=30, wait=backend.vt + 3)
    if backend.kind == 'sqlite': assert time.monotonic() - t0 >= backend.vt - 0.02
    assert (m2.id, m2.body, m2.dequeue_count) == (m1.id, 'x', 2) and m2.receipt != m1.receipt and m2.inserted_at == m1.inserted_at
    with pytest.raises(ReceiptError, match='no longer held'): q.delete(m1)
    with pytest.raises(ReceiptError): q.extend(m1, 10)
    assert q.count() == 1
    q.delete(m2)
    with pytest.raises(ReceiptError): q.delete(m2)                       # already gone
    assert q.count() == 0 and isinstance(ReceiptError('x'), QueueError)

def test_extend(svc, backend):
    q = svc.queue('long-jobs')
    q.send('slow')
    m1, = q.receive(visibility_timeout=backend.vt)
    m2 = q.extend(m1, backend.vt * 3)
    assert (m2.id, m2.body, m2.dequeue_count) == (m1.id, 'slow', 1) and m2.receipt != m1.receipt
    time.sleep(backend.vt * 1.5)
    assert q.receive() == []                                             # still held past the first timeout
    with pytest.raises(ReceiptError): q.delete(m1)
    m3 = q.extend(m2, 0)                                                 # release it now
    m4, = q.receive(wait=2)
    assert m4.id == m1.id and m4.dequeue_count == 2
    with pytest.raises(ReceiptError): q.delete(m3)
    q.delete(m4)
    assert q.count() == 0

def test_delay(svc, backend):
    q = svc.queue('later')
    t0 = time.monotonic()
    q.send('later', delay=backend.vt); q.send({'now': True})
    assert [m.body for m in q.receive(5)] == ['{"now":true}']
    got = q.receive(5, wait=backend.vt + 3)
    assert [m.body for m in got] == ['later'] and got[0].dequeue_count == 1
    if backend.kind == 'sqlite': assert time.monotonic() - t0 >= backend.vt - 0.02

def test_order(svc, backend):
    q = svc.queue('ordered')
    bodies = [f'm{i:02d}' for i in range(20)]
    for b in bodies: q.send(b)
    got = []
    while len(got) < 20 and (batch := q.receive(max_messages=7, wait=1)): got += batch
    if backend.kind == 'sqlite': assert [m.body for m in got] == bodies          # first in, first out
    else: assert sorted(m.body for m in got) == bodies                          # Azure promises no order
    assert len({m.id for m in got}) == 20

def test_count_clear_list(svc, backend):
    assert svc.list_queues() == []
    a, b = svc.queue('alpha'), svc.queue('beta-2')
    for i in range(3): a.send(str(i))
    b.send('b')
    assert len(a.receive()) == 1                                         # a hidden message still counts
    assert a.count() == 3 and b.count() == 1 and svc.list_queues() == ['alpha', 'beta-2']
    a.clear()
    assert a.count() == 0 and a.receive() == [] and b.count() == 1
    other = backend.open()                                               # another handle sees the same queues
    assert other.list_queues() == ['alpha', 'beta-2'] and [m.body for m in other.queue('beta-2').receive()] == ['b']
    other.close()

def test_bad_names_and_arguments(svc, backend):
    for bad in ['ab', 'a' * 64, 'Inbound', 'a--b', '-ab', 'ab-', 'a_b', 'a.b', '큐-이름', '', None, 42]:
        with pytest.raises(QueueError, match='bad queue name'): svc.queue(bad)
    q = svc.queue('args')
    cases = [(lambda: q.receive(0), 'max_messages'), (lambda: q.receive(33), 'max_messages'),
             (lambda: q.receive(visibility_timeout=0), 'visibility_timeout'), (lambda: q.receive(visibility_timeout=8 * 86400), 'visibility_timeout'),
             (lambda: q.receive(wait=-1), 'wait'), (lambda: q.send('x', delay=-1), 'delay'), (lambda: q.send('x', delay=8 * 86400), 'delay'),
             (lambda: q.send(b'bytes'), 'must be a str or a dict'), (lambda: q.send(42), 'must be a str or a dict'),
             (lambda: q.send({'x': object()}), 'not JSON-serialisable')]
    for call, msg in cases:
        with pytest.raises(QueueError, match=msg): call()
    assert q.count() == 0
    if backend.kind == 'azure':                                          # the prefix counts towards Azure's 63 characters
        room = 63 - len(svc.prefix) - 1
        assert svc.queue('x' * room).azure_name == f'{svc.prefix}-{"x" * room}'
        with pytest.raises(QueueError, match='too long for prefix'): svc.queue('x' * (room + 1))

def test_message_size_limit(svc):
    q = svc.queue('sizes')
    big = '가' * (MAX_MESSAGE_BYTES // 3)                                # exactly the limit: 48 KiB of UTF-8, 64 KiB in base64
    q.send(big)
    with pytest.raises(QueueError, match='over the 49152-byte limit'): q.send(big + 'x')
    with pytest.raises(QueueError, match='over the 49152-byte limit'): q.send({'text': big})
    with pytest.raises(QueueError, match='over the'): q.send('x' * (MAX_MESSAGE_BYTES + 1))
    m, = q.receive()
    assert m.body == big and q.count() == 1

def test_consume_deletes_on_success_and_retries_failures(svc, backend, caplog):
    q = svc.queue('steps')
    for i in range(4): q.send({'n': i})
    calls = []
    def handler(m):
        calls.append(m.json()['n'])
        if m.json()['n'] == 2: raise RuntimeError('boom')
    with caplog.at_level(logging.WARNING, logger='chatbot.backends.queues'):
        assert consume(q, handler, visibility_timeout=backend.vt, wait=0) == 3
    assert sorted(calls) == [0, 1, 2, 3] and q.count() == 1
    failed = [r for r in caplog.records if r.name == 'chatbot.backends.queues' and 'handler failed' in r.getMessage()]
    assert len(failed) == 1 and 'boom' in str(failed[0].exc_info[1])
    again = q.receive(visibility_timeout=30, wait=backend.vt + 3)       # back after its visibility timeout
    assert [m.json()['n'] for m in again] == [2] and again[0].dequeue_count == 2
    q.extend(again[0], 0)
    assert consume(q, lambda m: calls.append(m.json()['n']), wait=2) == 1 and calls[-1] == 2 and q.count() == 0
    assert consume(q, handler, wait=0) == 0                              # nothing to do

def test_consume_poison(svc, backend, caplog):
    q = svc.queue('flaky')
    mid = q.send({'text': '안녕'})
    q.send('fine')
    calls = []
    def handler(m):
        if m.body == 'fine': return
        calls.append(m.dequeue_count)
        raise ValueError(f'attempt {m.dequeue_count} failed')
    with caplog.at_level(logging.WARNING, logger='chatbot.backends.queues'):
        assert consume(q, handler, visibility_timeout=backend.vt, wait=0, poison_after=2) == 1
        for _ in range(2):                                               # 2nd delivery fails, 3rd is parked
            assert consume(q, handler, visibility_timeout=backend.vt, wait=backend.vt + 3, poison_after=2) == 0
    assert calls == [1, 2] and q.count() == 0 and 'flaky-poison' in svc.list_queues()
    assert any(r.levelno == logging.ERROR and 'flaky-poison' in r.getMessage() for r in caplog.records)
    p, = svc.queue('flaky-poison').receive()
    rec = p.json()
    assert (rec['queue'], rec['id'], rec['dequeue_count'], rec['error']) == ('flaky', mid, 3, 'ValueError: attempt 2 failed')
    assert json.loads(rec['body']) == {'text': '안녕'} and rec['poisoned_at'] >= rec['inserted_at']

def test_concurrent_consumers(backend):
    "Four consumers, each with its own handle, share 500 messages sent from four threads: each is handled, none lost."
    n = 500
    services = [backend.open() for _ in range(4)]
    queues = [s.queue('load') for s in services]
    handled, errors, stop = [], [], threading.Event()
    def work(q):
        try:
            while not stop.is_set(): consume(q, lambda m: handled.append(m.json()['i']), max_messages=16, visibility_timeout=30, wait=0.2)
        except Exception as e: errors.append(e)
    threads = [threading.Thread(target=work, args=(q,)) for q in queues]
    for t in threads: t.start()
    try:
        with ThreadPoolExecutor(4) as ex: ids = list(ex.map(lambda i: queues[i % 4].send({'i': i}), range(n)))
        deadline = time.monotonic() + 60
        while len(set(handled)) < n and time.monotonic() < deadline and not errors: time.sleep(0.05)
    finally:
        stop.set()
        for t in threads: t.join()
    assert not errors, errors
    assert len(set(ids)) == n and set(handled) == set(range(n)) and len(handled) >= n
    assert queues[0].count() == 0
    for s in services: s.close()

WORKER = textwrap.dedent('''
    import sys, time
    from chatbot.backends.queues import open_queues, consume
    q = open_queues(sys.argv[1]).queue('load')
    seen = []
    def handle(m):
        seen.append(m.json()['i']); time.sleep(0.001)
    print('ready', flush=True)
    start, last = time.monotonic(), None
    while True:
        if consume(q, handle, max_messages=8, visibility_timeout=30, wait=0.1): last = time.monotonic()
        idle = time.monotonic() - (last or start)
        if idle > (0.5 if last else 20): break
    print(' '.join(map(str, seen)), flush=True)
''')

def test_sqlite_two_processes(tmp_path):
    "Two worker processes share 500 messages: each handled at least once, none lost, both did some work."
    url, n = f"sqlite:///{tmp_path/'queues.db'}", 500
    q = open_queues(url).queue('load')
    procs = [subprocess.Popen([sys.executable, '-c', WORKER, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        for p in procs: assert p.stdout.readline().strip() == 'ready', p.stderr.read()
        for i in range(n): q.send({'i': i})
        outs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None: p.kill()
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    parts = [[int(x) for x in out.split()] for out, _ in outs]
    assert set(parts[0] + parts[1]) == set(range(n)) and all(parts), [len(p) for p in parts]
    assert q.count() == 0

def test_sqlite_wakeup_and_hop_latency(tmp_path, monkeypatch):
    "A send wakes a receiver in the same process at once; four queue hops stay well under 50 ms."
    url = f"sqlite:///{tmp_path/'queues.db'}"
    a, b = open_queues(url), open_queues(url)                            # two handles on one file share the wake-ups
    with monkeypatch.context() as m:
        m.setattr(SQLiteQueue, 'first_pause', 2.0); m.setattr(SQLiteQueue, 'max_pause', 2.0)   # only a wake-up is fast now
        for i in range(3):
            got = []
            th = threading.Thread(target=lambda: got.extend(a.queue('wake').receive(wait=5)))
            th.start(); time.sleep(0.05)
            t0 = time.monotonic(); b.queue('wake').send(str(i)); th.join()
            assert [x.body for x in got] == [str(i)] and time.monotonic() - t0 < 1
    stop = threading.Event()
    def step(k):
        src, dst = a.queue(f'hop-{k}'), a.queue(f'hop-{k + 1}')
        while not stop.is_set(): consume(src, lambda msg: dst.send(msg.body), wait=0.2)
    threads = [threading.Thread(target=step, args=(k,)) for k in range(4)]
    for t in threads: t.start()
    try:
        lat, out = [], b.queue('hop-4')
        for i in range(20):
            t0 = time.perf_counter(); b.queue('hop-0').send(str(i))
            msg, = out.receive(wait=5)
            lat.append(time.perf_counter() - t0); out.delete(msg)
            assert msg.body == str(i)
    finally:
        stop.set()
        for t in threads: t.join()
    assert statistics.median(lat) < 0.05, lat

def test_sqlite_poison_elsewhere_and_bad_files(tmp_path):
    q = open_queues(tmp_path/'a.db').queue('jobs')
    parked = open_queues(tmp_path/'parked.db')
    q.send('x')
    logging.getLogger('chatbot.backends.queues').disabled = True
    try:
        for _ in range(2): consume(q, lambda m: 1 / 0, visibility_timeout=0.05, wait=1, poison_after=1, service=parked)
    finally: logging.getLogger('chatbot.backends.queues').disabled = False
    assert q.count() == 0 and q.service.list_queues() == ['jobs'] and parked.list_queues() == ['jobs-poison']
    assert parked.queue('jobs-poison').receive()[0].json()['error'] == 'ZeroDivisionError: division by zero'
    (tmp_path/'junk.db').write_bytes(b'not a database' * 100)
    with pytest.raises(QueueError, match='cannot open queue database'): open_queues(tmp_path/'junk.db')
    with pytest.raises(QueueError, match='is a directory'): open_queues(tmp_path)

def test_open_queues_urls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = open_queues(Settings.from_env({}).queue_url)                      # the default: queues.db in ./.chatbot
    assert isinstance(s, SQLiteQueueService) and s.url == f"sqlite:///{tmp_path/'.chatbot'/'queues.db'}" and (tmp_path/'.chatbot'/'queues.db').exists()
    assert open_queues(Settings.from_env({'CHATBOT_HOME': str(tmp_path/'home')}).queue_url).path == str(tmp_path/'home'/'queues.db')
    env = {'CHATBOT_QUEUE_URL': f"sqlite:///{tmp_path/'env.db'}"}
    assert open_queues(Settings.from_env(env).queue_url).url == f"sqlite:///{tmp_path/'env.db'}"
    r = open_queues('sqlite:///rel/q.db')
    assert r.path == 'rel/q.db' and r.url == 'sqlite:///rel/q.db' and open_queues(tmp_path/'rel'/'q.db').url == f"sqlite:///{tmp_path/'rel'/'q.db'}"
    for bad, msg in [('amqp://host/q', 'unsupported queue URL'), ('sqlite://host/q.db', 'no host part'), (':memory:', 'in-memory'),
                     ('sqlite://', 'in-memory'), ('', 'empty'), ('azure-queue://', 'AZURE_STORAGE_CONNECTION_STRING'),
                     ('azure-queue://tests', 'AZURE_STORAGE_CONNECTION_STRING')]:
        with pytest.raises(QueueError, match=msg): open_queues(bad)
    with pytest.raises(QueueError, match='bad queue prefix'): open_queues('azure-queue://Bad_Prefix', connection_string='UseDevelopmentStorage=true')
    made = []
    monkeypatch.setitem(QUEUES.factories, 'memq', None)
    QUEUES.register('memq', lambda url, **kw: made.append((url, kw)) or s)
    assert open_queues('memq://x', opt=1) is s and made == [('memq://x', {'opt': 1})]

def test_azure_prefixes_and_base64_wire_format(azurite):
    "What we write is base64 on the wire, as an Azure Functions queue trigger reads it; and we read what such a client writes."
    from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy
    cs, tag = azurite.connection_string, uuid.uuid4().hex[:8]
    s1, s2 = open_queues(f'azure-queue://a{tag}', connection_string=cs), AzureQueueService(f'b{tag}', connection_string=cs)
    assert isinstance(s1, AzureQueueService) and s1.url == f'azure-queue://a{tag}'
    q = s1.queue('to-functions')
    assert q.azure_name == f'a{tag}-to-functions' and s2.queue('to-functions').azure_name == f'b{tag}-to-functions'
    assert s2.queue('to-functions').receive() == [] and s1.list_queues() == s2.list_queues() == ['to-functions']   # prefixes are separate
    mid = q.send({'text': '안녕하세요'})
    raw = QueueClient.from_connection_string(cs, q.azure_name)                                    # no policy: the stored text
    assert base64.b64decode(raw.peek_messages()[0].content).decode() == '{"text":"안녕하세요"}'
    host = QueueClient.from_connection_string(cs, q.azure_name, message_decode_policy=TextBase64DecodePolicy())   # what Functions does
    m = host.receive_message()
    assert m.id == mid and json.loads(m.content) == {'text': '안녕하세요'}
    writer = QueueClient.from_connection_string(cs, q.azure_name, message_encode_policy=TextBase64EncodePolicy())
    writer.send_message('from a function: 반가워요')
    got, = q.receive()
    assert got.body == 'from a function: 반가워요' and got.dequeue_count == 1

def test_consume_arguments(svc):
    q = svc.queue('args')
    for bad in [0, -1, 2.5, True, '5']:
        with pytest.raises(QueueError, match='poison_after must be'): consume(q, print, poison_after=bad)
    room = 63 - len('-poison') - (len(svc.prefix) + 1 if isinstance(svc, AzureQueueService) else 0)
    long = svc.queue('x' * (room + 1))                                   # a valid name, but its poison queue's would not be
    with pytest.raises(QueueError, match='cannot have a poison queue'): consume(long, print)
    long.send('x')
    assert consume(long, lambda m: None, poison_after=None) == 1 and long.count() == 0
    assert consume(svc.queue('x' * room), print, wait=0) == 0 and 'x' * room + '-poison' in svc.list_queues()
