"""The Azure Functions app (`deploy/functions`) without the Functions host: its registered functions called with
real `azure.functions` objects built the way the host delivers them (queue bodies already base64-decoded), over
SQLite queues and state; one REST message driven by hand through receive → understand → route → handle → send;
and the wire format of chatbot's Azure queues (base64, what host.json tells the host to expect) against Azurite."""
import base64, importlib.util, json, re, time, uuid
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
import pytest

import azure.functions as func  # the dev extra installs it
from azure.functions.queue import QueueMessage as HostQueueMessage   # the class the worker builds for a queue trigger

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT/'deploy'/'functions'
CLEAR = ('CHATBOT_NLU_URL', 'CHATBOT_NLU_KEY', 'CHATBOT_RULES', 'CHATBOT_HANDLERS', 'CHATBOT_LOG_URL', 'CHATBOT_GATEWAY_KEYS',
         'SENDBIRD_APP_ID', 'SENDBIRD_API_TOKEN', 'SENDBIRD_BOT_USER_ID', 'SENDBIRD_API_URL', 'AzureWebJobsStorage',
         'AZURE_STORAGE_CONNECTION_STRING', 'FUNCTIONS_WORKER_RUNTIME', 'CHATBOT_GATEWAY_OPEN')

def import_function_app(name='chatbot_function_app'):
    "Import deploy/functions/function_app.py by path, as the Functions host does when it indexes the app."
    spec = importlib.util.spec_from_file_location(name, FUNCTIONS/'function_app.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod

@pytest.fixture(scope='module')
def fa(tmp_path_factory, demo_model_path):
    "The function app over SQLite queues and state in a temporary folder, the demo model in-process, no SendBird."
    home = tmp_path_factory.mktemp('functions')
    with pytest.MonkeyPatch.context() as mp:
        for k in CLEAR: mp.delenv(k, raising=False)
        mp.setenv('CHATBOT_HOME', str(home))
        mp.setenv('CHATBOT_QUEUE_URL', f'sqlite:///{home}/queues.db')
        mp.setenv('CHATBOT_STATE_URL', f'sqlite:///{home}/state.db')
        mp.setenv('CHATBOT_MODEL', str(demo_model_path))
        mod = import_function_app()
        functions = {f.get_function_name(): f for f in mod.app.get_functions()}   # the app allows one call only
        try: yield SimpleNamespace(mod=mod, gw=mod.gw, functions=functions)
        finally: mod.gw.log.close()

def queue_functions(fa) -> dict:
    "Queue name → the function its trigger watches it with."
    return {f.get_trigger().queue_name: f for f in fa.functions.values() if f.get_trigger().get_binding_name() == 'queueTrigger'}

def host_message(qm) -> HostQueueMessage:
    "What the host hands a queue trigger for `qm`: the decoded body (bytes) with the message's metadata."
    return HostQueueMessage(id=qm.id, body=qm.body.encode('utf-8'), dequeue_count=qm.dequeue_count, pop_receipt=qm.receipt,
                             insertion_time=datetime.fromtimestamp(qm.inserted_at, timezone.utc))

def take(fa, queue: str):
    "Receive and delete the one message waiting in `queue` (as the host does once the function returned)."
    q = fa.gw.queues.queue(queue)
    msgs = q.receive(max_messages=2, visibility_timeout=30)
    assert len(msgs) == 1, (queue, msgs)
    q.delete(msgs[0])
    return msgs[0]

def http(fa, method, path, body=None, headers=None):
    "Call the HTTP function as the host would for `method path`; returns (status, parsed JSON or text)."
    req = func.HttpRequest(method=method, url=f'http://localhost:7071{path}', headers={'Content-Type': 'application/json', **(headers or {})},
                           body=json.dumps(body, ensure_ascii=False).encode() if body is not None else b'')
    r = fa.functions['receive'].get_user_function()(req)
    assert isinstance(r, func.HttpResponse)
    text = r.get_body().decode()
    return r.status_code, (json.loads(text) if r.mimetype == 'application/json' else text)

def waiting(fa) -> dict:
    "Queues (of those the functions watch) that hold a message, with their counts."
    return {q: n for q in queue_functions(fa) if (n := fa.gw.queues.queue(q).count())}

def send_outbound(fa) -> int:
    "Run the send function on every message waiting in chat-outbound (apologies a step queued as it gave up)."
    send, n = fa.functions['send'].get_user_function(), 0
    while (qm := fa.gw.queues.queue('chat-outbound').receive(visibility_timeout=30)):
        send(host_message(qm[0])); fa.gw.queues.queue('chat-outbound').delete(qm[0]); n += 1
    return n

def test_every_pipeline_queue_has_a_trigger(fa):
    from chatbot.chat.pipeline import STEPS, step_queues
    triggers = queue_functions(fa)
    used = {q for step in STEPS for q in step_queues(fa.gw, step)}
    assert set(triggers) == used and len(triggers) == len(fa.functions) - 2      # + receive, purge_state
    assert {'chat-inbound', 'chat-understood', 'chat-outbound', 'chat-handle-rules', 'chat-handle-order-status'} <= used
    for f in triggers.values():
        spec = json.loads(f.get_function_json())
        assert spec['scriptFile'] == 'function_app.py'
        [b] = spec['bindings']                                    # no output bindings: the steps send with chatbot.backends.queues
        assert b['type'] == 'queueTrigger' and b['name'] == 'msg' and b['connection'] == 'AzureWebJobsStorage'
        assert re.fullmatch(r'[A-Za-z][A-Za-z0-9_-]{0,127}', f.get_function_name())
    http_fn = json.loads(fa.functions['receive'].get_function_json())
    assert http_fn['bindings'][0]['type'] == 'httpTrigger' and http_fn['bindings'][0]['route'] == '{*path}'
    assert http_fn['bindings'][0]['authLevel'].lower() == 'anonymous' and 'methods' not in http_fn['bindings'][0]

def test_rest_message_through_every_function(fa):
    status, body = http(fa, 'POST', '/v1/conversations/kim/messages', {'text': '주문하고 싶어요'})
    assert status == 202 and len(body['id']) == 32
    mid, path = body['id'], []
    by_queue = queue_functions(fa)
    while (w := waiting(fa)):
        assert len(w) == 1 and list(w.values()) == [1], w          # one message moves along one queue at a time
        [queue] = w
        qm = take(fa, queue)
        assert json.loads(qm.body)['id'] == mid
        f = by_queue[queue]
        assert f.get_user_function()(host_message(qm)) is None
        path.append(f.get_function_name())
    assert path[:2] == ['understand', 'route'] and path[2].startswith('handle_') and path[3:] == ['send']
    msgs = fa.gw.history('rest', 'kim')
    assert [m['direction'] for m in msgs] == ['inbound', 'outbound'] and msgs[0]['id'] == mid
    assert msgs[1]['id'] == f'{mid}.reply' and msgs[1]['text'] == '어떤 상품을 주문하시겠어요?'
    assert http(fa, 'GET', '/v1/conversations/kim/messages')[1] == msgs  # the receivers read the same conversation

def test_redelivered_messages_are_answered_once(fa):
    "The host delivers at least once: every message handled twice at every hop (1 → 2 → 4 → 8 copies) gives one reply."
    _, body = http(fa, 'POST', '/v1/conversations/park/messages', {'text': '주문하고 싶어요'})
    by_queue, calls = queue_functions(fa), {}
    while (w := waiting(fa)):
        for queue in w:
            q, fn = fa.gw.queues.queue(queue), by_queue[queue].get_user_function()
            for qm in q.receive(max_messages=32, visibility_timeout=30):
                for dequeue_count in (1, 2):                       # the second as a retry after a lost acknowledgement
                    fn(HostQueueMessage(id=qm.id, body=qm.body, dequeue_count=dequeue_count))
                q.delete(qm)
                kind = by_queue[queue].get_function_name().split('_')[0]     # handle_<route> → handle
                calls[kind] = calls.get(kind, 0) + 2
    assert calls == {'understand': 2, 'route': 4, 'handle': 8, 'send': 16}
    msgs = fa.gw.history('rest', 'park')
    assert [m['direction'] for m in msgs] == ['inbound', 'outbound'] and msgs[1]['id'] == body['id'] + '.reply'

def test_failing_step_raises_for_the_host_to_retry(fa):
    "A step that fails raises, so the host retries the message and parks it in `<queue>-poison` after maxDequeueCount."
    bad = HostQueueMessage(id='m-1', body=b'not json', dequeue_count=1)
    with pytest.raises(ValueError):
        fa.functions['understand'].get_user_function()(bad)
    no_sender = json.dumps(dict(id='x1', channel='fax', user='u', text='hi', received_at=time.time(), reply=dict(id='x1.reply', text='yo')))
    with pytest.raises(ValueError, match="no sender for channel 'fax'"):
        fa.functions['send'].get_user_function()(HostQueueMessage(id='m-2', body=no_sender, dequeue_count=5))
    assert not waiting(fa)
    assert fa.gw.log.flush()                                         # the last try (maxDequeueCount) is logged as a failure
    [rec] = fa.gw.log.store.query(route='gateway.failed')
    assert rec['request_id'] == 'x1' and rec['status'] == 500 and 'no sender' in rec['details']['error']

def test_the_last_failing_try_apologises_once(fa):
    "On its last try a failing step gives up: one apology, one status-500 record, though that try runs twice."
    from chatbot.chat.pipeline import NOTICES
    _, body = http(fa, 'POST', '/v1/conversations/choi/messages', {'text': '주문 취소해 주세요'})
    qm, understand = take(fa, 'chat-inbound'), fa.functions['understand'].get_user_function()
    def gone(text): raise RuntimeError('the model is gone')
    nlu, fa.gw.nlu = fa.gw.nlu, gone
    try:
        for _ in range(2):
            with pytest.raises(RuntimeError, match='the model is gone'):
                last = HostQueueMessage(id=qm.id, body=qm.body.encode(), dequeue_count=fa.mod.MAX_DEQUEUE)
                understand(last)
    finally: fa.gw.nlu = nlu
    assert send_outbound(fa) == 2                                    # queued by both tries, sent once
    msgs = fa.gw.history('rest', 'choi')
    assert [m['id'] for m in msgs] == [body['id'], body['id'] + '.sorry']
    assert msgs[1]['text'] == NOTICES['failed']['ko']
    assert fa.gw.log.flush()
    [rec] = [r for r in fa.gw.log.store.query(route='gateway.failed') if r['request_id'] == body['id']]
    assert rec['status'] == 500 and 'the model is gone' in rec['details']['error']
    assert not waiting(fa)

def test_a_permanent_nlu_refusal_is_parked_at_once(fa):
    "The NLU service's 4xx cannot get better on a retry: the step parks the message, apologises and returns."
    from chatbot.chat.pipeline import NLUError, NOTICES
    _, body = http(fa, 'POST', '/v1/conversations/han/messages', {'text': 'where is my order?'})
    qm = take(fa, 'chat-inbound')
    def refuse(text): raise NLUError('the NLU service answered 401 401: Access denied', 401, permanent=True)
    nlu, fa.gw.nlu = fa.gw.nlu, refuse
    understand = fa.functions['understand'].get_user_function()
    try: assert understand(HostQueueMessage(id=qm.id, body=qm.body.encode(), dequeue_count=1)) is None
    finally: fa.gw.nlu = nlu
    rec = json.loads(take(fa, 'chat-inbound-poison').body)
    assert json.loads(rec['body'])['id'] == body['id'] and rec['queue'] == 'chat-inbound'
    assert 'Access denied' in rec['error']
    assert send_outbound(fa) == 1
    assert fa.gw.history('rest', 'han')[-1]['text'] == NOTICES['failed']['en']
    assert not waiting(fa)

def test_http_receivers_match_the_gateway(fa):
    "Same routes, statuses and JSON errors as `chatbot gateway`; a Korean user id in the path arrives intact."
    status, body = http(fa, 'POST', '/v1/conversations/%EA%B9%80%EB%AF%BC%EC%A4%80/messages', {'text': '안녕하세요'})
    assert status == 202
    assert [m['text'] for m in fa.gw.history('rest', '김민준')] == ['안녕하세요']
    assert http(fa, 'GET', '/v1/conversations/김민준/messages')[1][0]['id'] == body['id']
    take(fa, 'chat-inbound')
    status, body = http(fa, 'POST', '/v1/conversations/kim/messages', {'txt': 1})
    assert status == 400 and body['error']['code'] == 'BadArgument'
    status, body = http(fa, 'POST', '/webhooks/sendbird', {'category': 'group_channel:message_send'})
    assert status == 503 and 'SENDBIRD_API_TOKEN' in body['error']['message']    # SendBird is not configured here
    assert http(fa, 'GET', '/healthz') == (200, {'status': 'ok'})
    status, page = http(fa, 'GET', '/')
    assert status == 200 and '/v1/conversations/' in page
    assert http(fa, 'GET', '/nope')[0] == 404 and http(fa, 'DELETE', '/v1/conversations/kim/messages')[0] == 405
    assert not waiting(fa)

def test_settings_files():
    host = json.loads((FUNCTIONS/'host.json').read_text())
    assert host['version'] == '2.0' and host['extensionBundle']['version'].startswith('[4.')
    assert host['extensions']['queues']['messageEncoding'] == 'base64' and host['extensions']['queues']['maxDequeueCount'] == 5
    assert host['extensions']['http']['routePrefix'] == ''
    settings = json.loads((FUNCTIONS/'local.settings.example.json').read_text())['Values']
    assert settings['AzureWebJobsStorage'] == 'UseDevelopmentStorage=true' and settings['CHATBOT_QUEUE_URL'].startswith('azure-queue://')
    assert not any(settings.get(k) for k in ('SENDBIRD_API_TOKEN', 'CHATBOT_NLU_KEY', 'CHATBOT_GATEWAY_KEYS'))
    import chatbot
    reqs = (FUNCTIONS/'requirements.txt').read_text()
    assert re.search(r'^chatbot\[[a-z,]*azure[a-z,]*\]==' + re.escape(chatbot.__version__) + '$', reqs, re.M), 'pin chatbot to the package version'
    assert re.search(r'^azure-functions\b', reqs, re.M)

def test_refuses_sqlite_queues_under_the_functions_host(monkeypatch, tmp_path):
    for k in CLEAR: monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv('FUNCTIONS_WORKER_RUNTIME', 'python')
    monkeypatch.setenv('CHATBOT_QUEUE_URL', f'sqlite:///{tmp_path}/q.db')
    with pytest.raises(ValueError, match='azure-queue://'): import_function_app('chatbot_function_app_refused')

def test_refuses_open_rest_under_the_functions_host(monkeypatch, tmp_path):
    "On Azure the HTTP function faces the internet: no keys and no explicit CHATBOT_GATEWAY_OPEN is refused."
    for k in CLEAR: monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv('FUNCTIONS_WORKER_RUNTIME', 'python')
    monkeypatch.setenv('CHATBOT_HOME', str(tmp_path))
    monkeypatch.setenv('CHATBOT_QUEUE_URL', 'azure-queue://refused')
    with pytest.raises(ValueError, match='CHATBOT_GATEWAY_KEYS is not set.*CHATBOT_GATEWAY_OPEN=true'):
        import_function_app('chatbot_function_app_open_refused')

def test_expired_markers_are_purged_by_the_timer(fa):
    "The hourly timer function deletes expired state (reply markers), as `chatbot worker`'s purge thread does."
    timer = json.loads(fa.functions['purge_state'].get_function_json())['bindings'][0]
    assert timer['type'] == 'timerTrigger' and timer['schedule'] == '0 17 * * * *'
    fa.gw.state.put('sent:old.reply', {'at': 1}, ttl=0.01)
    fa.gw.state.put('sent:new.reply', {'at': 2}, ttl=3600)
    time.sleep(0.05)
    fa.functions['purge_state'].get_user_function()(None)
    assert fa.gw.state.keys('sent:old') == [] and fa.gw.state.keys('sent:new') == ['sent:new.reply']
    raw = fa.gw.state._conn().execute("SELECT count(*) FROM state WHERE key = 'sent:old.reply'").fetchone()[0]
    assert raw == 0                                              # deleted for good, not only hidden

@pytest.fixture(scope='module')
def fa_azure(tmp_path_factory, demo_model_path, azurite):
    "The function app configured as on Azure: Storage queues (own prefix) and a state table in Azurite, under the host."
    home, tag = tmp_path_factory.mktemp('functions-azure'), uuid.uuid4().hex[:8]
    with pytest.MonkeyPatch.context() as mp:
        for k in CLEAR: mp.delenv(k, raising=False)
        mp.setenv('AZURE_STORAGE_CONNECTION_STRING', '')       # recorded, so the value function_app copies in is undone after
        mp.setenv('FUNCTIONS_WORKER_RUNTIME', 'python')
        mp.setenv('CHATBOT_GATEWAY_OPEN', 'true')               # the tests post without keys
        mp.setenv('AzureWebJobsStorage', azurite.connection_string)
        mp.setenv('CHATBOT_HOME', str(home))
        mp.setenv('CHATBOT_QUEUE_URL', f'azure-queue://fn{tag}')
        mp.setenv('CHATBOT_STATE_URL', f'azure-table://fnstate{tag}')
        mp.setenv('CHATBOT_MODEL', str(demo_model_path))
        mod = import_function_app('chatbot_function_app_azure')
        functions = {f.get_function_name(): f for f in mod.app.get_functions()}
        try: yield SimpleNamespace(mod=mod, gw=mod.gw, functions=functions, prefix=f'fn{tag}', cs=azurite.connection_string)
        finally: mod.gw.log.close(); mod.gw.queues.close()

def test_pipeline_over_azure_storage_as_the_host_delivers(fa_azure):
    "Every hop read off Azurite's wire: base64 text (what chatbot.backends.queues writes), decoded as messageEncoding=base64 does."
    from azure.storage.queue import QueueClient
    fa = fa_azure
    assert type(fa.gw.queues).__name__ == 'AzureQueueService' and type(fa.gw.state).__name__ == 'AzureTableStateStore'
    by_queue = queue_functions(fa)
    assert all(q.startswith(fa.prefix + '-chat-') for q in by_queue)           # the triggers watch the prefixed queues
    raw = {}
    for q in by_queue:
        fa.gw.queues.queue(q.removeprefix(fa.prefix + '-'))                      # created, as the steps would on first send
        raw[q] = QueueClient.from_connection_string(fa.cs, q)                    # no decode policy: the text on the wire
    status, body = http(fa, 'POST', '/v1/conversations/kim/messages', {'text': '주문하고 싶어요'})
    assert status == 202
    path = []
    for _ in range(10):
        got = [(q, m) for q, c in raw.items() for m in c.receive_messages(max_messages=32, visibility_timeout=30)]
        if not got: break
        assert len(got) == 1, got
        [(q, wire)] = got
        assert re.fullmatch(r'[A-Za-z0-9+/]+={0,2}', wire.content)
        decoded = base64.b64decode(wire.content, validate=True)                  # what the host does before calling us
        assert json.loads(decoded)['id'] == body['id']
        by_queue[q].get_user_function()(HostQueueMessage(id=wire.id, body=decoded, dequeue_count=wire.dequeue_count,
                                                         pop_receipt=wire.pop_receipt, insertion_time=wire.inserted_on))
        raw[q].delete_message(wire)                                              # the host deletes after success
        path.append(by_queue[q].get_function_name())
    assert path[:2] == ['understand', 'route'] and path[2].startswith('handle_') and path[3:] == ['send']
    msgs = fa.gw.history('rest', 'kim')
    assert [m['direction'] for m in msgs] == ['inbound', 'outbound'] and msgs[1]['text'] == '어떤 상품을 주문하시겠어요?'
    assert http(fa, 'GET', '/v1/conversations/kim/messages')[1] == msgs
