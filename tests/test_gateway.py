"""The chat gateway end to end over real processes (`chatbot gateway` + `chatbot worker`, SQLite queues and state):
REST conversations with slot filling, SendBird webhooks and sender against a local stand-in of SendBird's API,
bad input, a worker killed in the middle of a step, and the poison queue."""
import hashlib, hmac, http.server as httpserver, json, os, signal, subprocess, sys, threading, time, urllib.request, urllib.error
from pathlib import Path
import pytest

from tests_util import free_port, wait_for  # noqa: E402  (tests/tests_util.py)

class Proc:
    "A `chatbot` subcommand in the background, with its stderr kept in a file."
    def __init__(self, args, env, cwd, name):
        self.log = Path(cwd)/f'{name}.log'
        self.p = subprocess.Popen([sys.executable, '-m', 'chatbot.cli', *args], env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                                  stderr=open(self.log, 'wb'))

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try: self.p.wait(timeout=20)
            except subprocess.TimeoutExpired: self.p.kill(); self.p.wait()

def http(method, url, body=None, headers=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data, method=method, headers={'Content-Type': 'application/json', **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r: return r.status, json.loads(r.read() or b'null')
    except urllib.error.HTTPError as e: return e.code, json.loads(e.read() or b'null')

class FakeSendBird:
    "A local stand-in of SendBird's Platform API that checks every request against the documented shape."
    def __init__(self, token, bot, script=()):
        self.requests, self.problems, self.script = [], [], list(script)
        outer = self
        class H(httpserver.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                try: data = json.loads(body)
                except ValueError: data = None
                if self.path != f'/v3/bots/{bot}/send': outer.problems.append(f'path {self.path}')
                if self.headers.get('Api-Token') != token: outer.problems.append('Api-Token header')
                if not isinstance(data, dict) or data.get('message_type') != 'MESG' or not data.get('channel_url') or not data.get('message'):
                    outer.problems.append(f'body {body[:200]!r}')
                outer.requests.append(data)
                status, headers = outer.script.pop(0) if outer.script else (200, {})
                self.send_response(status)
                for k, v in headers.items(): self.send_header(k, v)
                self.send_header('Content-Type', 'application/json'); self.end_headers()
                self.wfile.write(json.dumps({'message_id': len(outer.requests)} if status == 200 else {'error': True, 'code': 400111}).encode())
        self.server = httpserver.ThreadingHTTPServer(('127.0.0.1', 0), H)
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}'
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self): self.server.shutdown()

TOKEN, BOT = 'master-api-token', 'shopbot'

@pytest.fixture
def stack(tmp_path, demo_model_path):
    "Gateway and worker processes over SQLite queues and state in `tmp_path`, SendBird pointed at a local stand-in."
    sendbird = FakeSendBird(TOKEN, BOT)
    port = free_port()
    env = dict(os.environ, CHATBOT_HOME=str(tmp_path), SENDBIRD_API_TOKEN=TOKEN, SENDBIRD_BOT_USER_ID=BOT, SENDBIRD_APP_ID='test',
               SENDBIRD_API_URL=sendbird.url, PYTHONPATH=str(tmp_path) + os.pathsep + os.environ.get('PYTHONPATH', ''))
    procs = []
    def start_worker(*extra):
        procs.append(Proc(['worker', '--model', str(demo_model_path), *extra], env, tmp_path, f'worker{len(procs)}'))
        return procs[-1]
    gateway = Proc(['gateway', '--port', str(port)], env, tmp_path, 'gateway')
    base = f'http://127.0.0.1:{port}'
    wait_for(lambda: _ok(base + '/healthz'))
    yield dict(base=base, env=env, sendbird=sendbird, start_worker=start_worker, home=tmp_path, gateway=gateway)
    for p in procs + [gateway]: p.stop()
    sendbird.close()

def _ok(url):
    try: return urllib.request.urlopen(url, timeout=1).status == 200
    except OSError: return False

def replies(base, user, n, channel='rest', timeout=30):
    "Wait until the conversation has `n` outbound messages; return the whole conversation."
    def check():
        status, msgs = http('GET', f'{base}/v1/conversations/{user}/messages?channel={channel}')
        return msgs if status == 200 and sum(m['direction'] == 'outbound' for m in msgs) >= n else None
    return wait_for(check, timeout)

def test_rest_conversation_with_slot_filling(stack):
    base = stack['base']; stack['start_worker']()
    status, body = http('POST', f'{base}/v1/conversations/kim/messages', {'text': '주문하고 싶어요'})
    assert status == 202 and len(body['id']) == 32
    msgs = replies(base, 'kim', 1)
    assert [m['direction'] for m in msgs] == ['inbound', 'outbound'] and msgs[0]['id'] == body['id']
    assert msgs[1]['text'] == '어떤 상품을 주문하시겠어요?' and all({'id', 'direction', 'text', 'created_at'} <= set(m) for m in msgs)
    http('POST', f'{base}/v1/conversations/kim/messages', {'text': '나이키 운동화 두 개요'})
    msgs = replies(base, 'kim', 2)
    assert msgs[3]['text'].startswith('어느 매장에서 받으시겠어요?')        # the pickup store is still missing
    http('POST', f'{base}/v1/conversations/kim/messages', {'text': '강남점에서 받을게요'})
    msgs = replies(base, 'kim', 3)
    assert msgs[5]['text'] == '강남점에서 나이키 운동화 두 개 주문할까요?' and '접수' not in msgs[5]['text']
    http('POST', f'{base}/v1/conversations/kim/messages', {'text': '네'})
    msgs = replies(base, 'kim', 4)
    assert msgs[7]['text'].startswith('주문을 접수했어요: 강남점 픽업, 나이키 운동화 두 개.')
    http('POST', f'{base}/v1/conversations/lee/messages', {'text': 'where is the Gangnam store?'})
    assert replies(base, 'lee', 1)[1]['text'] == 'Gangnam: 123 Teheran-ro, Gangnam-gu, Seoul'

def test_sendbird_webhook_to_reply(stack):
    base, sb = stack['base'], stack['sendbird']; stack['start_worker']()
    event = dict(category='group_channel:message_send', app_id='test', sender=dict(user_id='u-77', nickname='Park'),
                 payload=dict(message='상담원이랑 통화하고 싶어요', message_id=9001, created_at=1), channel=dict(channel_url='sendbird_group_channel_1'))
    raw = json.dumps(event, ensure_ascii=False).encode()
    sig = hmac.new(TOKEN.encode(), raw, hashlib.sha256).hexdigest()
    t0 = time.perf_counter()
    assert http('POST', f'{base}/webhooks/sendbird', raw=raw, headers={'x-sendbird-signature': sig}) == (200, {'status': 'accepted', 'id': 'sendbird-9001'})
    ack_ms = (time.perf_counter() - t0) * 1000
    assert http('POST', f'{base}/webhooks/sendbird', raw=raw, headers={'x-sendbird-signature': sig})[0] == 200   # SendBird's resend
    wait_for(lambda: sb.requests)
    time.sleep(1.0)
    assert len(sb.requests) == 1 and not sb.problems, (sb.requests, sb.problems)
    assert sb.requests[0] == {'message_type': 'MESG', 'message': '상담원을 연결해 드릴게요. 잠시만 기다려 주세요.', 'channel_url': 'sendbird_group_channel_1',
                              'data': '{"chatbot_reply_id": "sendbird-9001.reply"}'}     # the reply's idempotency key
    own = json.dumps({**event, 'sender': {'user_id': BOT}}).encode()
    assert http('POST', f'{base}/webhooks/sendbird', raw=own, headers={'x-sendbird-signature': hmac.new(TOKEN.encode(), own, hashlib.sha256).hexdigest()})[1] == {'status': 'ignored'}
    assert http('POST', f'{base}/webhooks/sendbird', raw=raw, headers={'x-sendbird-signature': '0' * 64})[0] == 401
    assert http('POST', f'{base}/webhooks/sendbird', raw=raw)[0] == 401
    assert ack_ms < 1000

def test_sendbird_sender_retries_and_gives_up():
    from chatbot.chat.sendbird import SendBirdSender, SendError
    sb = FakeSendBird(TOKEN, BOT, script=[(429, {'Retry-After': '0.2'}), (503, {}), (200, {})])
    msg = dict(reply=dict(text='안녕하세요'), channel_data=dict(channel_url='c1'))
    try:
        sender = SendBirdSender('test', TOKEN, BOT, api_url=sb.url, max_backoff=0.5)
        t0 = time.monotonic(); sender(msg)
        assert len(sb.requests) == 3 and time.monotonic() - t0 >= 0.2 and not sb.problems
        sb.script = [(400, {})]
        with pytest.raises(SendError, match='400'): sender(msg)
        assert len(sb.requests) == 4                                 # a permanent refusal is not retried
    finally: sb.close()

@pytest.mark.parametrize('body,raw,status', [
    ({'txt': 'hi'}, None, 400), ({'text': ''}, None, 400), ({'text': 'x' * 2001}, None, 400), (None, b'{not json', 400),
    (None, b'{"text": "' + b'x' * 300_000 + b'"}', 413)])
def test_bad_messages_get_json_errors(stack, body, raw, status):
    got, resp = http('POST', f"{stack['base']}/v1/conversations/kim/messages", body, raw=raw)
    assert got == status and resp['error']['message']
    assert http('POST', f"{stack['base']}/v1/conversations/kim/messages?channel=fax", {'text': 'hi'})[0] == 400

SLOW = '''
import os, time
from chatbot.chat.rules import handler
@handler('slow_status')
def slow_status(d, state):
    open(os.path.join(os.environ['CHATBOT_HOME'], 'handler-started'), 'a').write('x')
    time.sleep(float(os.environ.get('SLOW_SECONDS', '4')))
    return {'status': 'slow but sure'}
@handler('always_fails')
def always_fails(d, state): raise RuntimeError('the order system is down')
'''

def write_rules(home: Path):
    from chatbot.demo import demo_rules
    import chatbot.demo
    rules = json.loads((Path(chatbot.demo.__file__).parent/'data'/'demo_rules.json').read_text(encoding='utf-8'))
    rules['intents']['TrackDelivery']['handler'] = 'slow_status'
    rules['intents']['Refund'] = {'handler': 'always_fails', 'reply': '{x}',
                                  'require': rules['intents']['Refund']['require']}
    (home/'rules.json').write_text(json.dumps(rules, ensure_ascii=False), encoding='utf-8')
    (home/'slowhandlers.py').write_text(SLOW)

def test_worker_killed_mid_step_loses_and_duplicates_nothing(stack):
    home, env = stack['home'], stack['env']
    write_rules(home)
    env.update(CHATBOT_RULES=str(home/'rules.json'), CHATBOT_HANDLERS='slowhandlers')
    w1 = stack['start_worker']('--visibility-timeout', '2')
    base = stack['base']
    http('POST', f'{base}/v1/conversations/choi/messages', {'text': '주문번호 A12345678 배송 어디쯤이에요?'})
    wait_for(lambda: (home/'handler-started').exists())
    w1.stop(signal.SIGKILL)                                     # killed inside the handle step
    env['SLOW_SECONDS'] = '0'
    stack['start_worker']('--visibility-timeout', '2')
    msgs = replies(base, 'choi', 1, timeout=40)
    time.sleep(3)                                               # a duplicate would show up within a visibility timeout
    msgs = http('GET', f'{base}/v1/conversations/choi/messages')[1]
    assert [m['direction'] for m in msgs] == ['inbound', 'outbound'] and msgs[1]['text'] == '주문 A12345678: slow but sure.'
    assert len((home/'handler-started').read_text()) >= 2     # the step ran again after the kill (at-least-once; more often
                                                                # if a 2 s visibility timeout runs out on a loaded machine) ...
    from chatbot.backends.logs import open_log_store                     # ... and the reply was sent and logged once
    rows = wait_for(lambda: open_log_store(f"sqlite:///{home/'logs.db'}").query(route='gateway.*'), timeout=10)
    assert len(rows) == 1 and rows[0]['details']['reply'] == msgs[1]['text'] and set(rows[0]['details']['steps_ms']) == {'understand', 'route', 'handle', 'send'}

def test_failing_handler_ends_in_the_poison_queue(stack):
    home, env = stack['home'], stack['env']
    write_rules(home)
    env.update(CHATBOT_RULES=str(home/'rules.json'), CHATBOT_HANDLERS='slowhandlers')
    stack['start_worker']('--visibility-timeout', '1', '--poison-after', '2')
    http('POST', f"{stack['base']}/v1/conversations/jung/messages", {'text': '주문번호 A12345678 환불해 주세요'})
    from chatbot.backends.queues import open_queues
    poison = open_queues(f"sqlite:///{home/'queues.db'}").queue('chat-handle-always-fails-poison')
    wait_for(lambda: poison.count(), timeout=30)
    from chatbot.backends.logs import open_log_store
    rows = wait_for(lambda: [r for r in open_log_store(f"sqlite:///{home/'logs.db'}").query(route='gateway.*') if r['status'] == 500], timeout=10)
    assert 'the order system is down' in rows[0]['details']['error']

def test_chatbot_up_starts_everything_and_stops_cleanly(tmp_path, demo_model_path):
    "`chatbot up` (what `make up` runs): inference, gateway, worker, dashboards and training runner on loopback; SIGTERM stops them all."
    gport, iport, dport = free_port(), free_port(), free_port()
    up = Proc(['up', '--model', str(demo_model_path), '--gateway-port', str(gport), '--inference-port', str(iport), '--dashboard-port', str(dport)],
              dict(os.environ, CHATBOT_HOME=str(tmp_path)), tmp_path, 'up')
    try:
        wait_for(lambda: _ok(f'http://127.0.0.1:{gport}/healthz') and _ok(f'http://127.0.0.1:{iport}/readyz'), timeout=60)
        wait_for(lambda: _ok(f'http://127.0.0.1:{dport}/voila/render/training.ipynb'), timeout=60)
        runner = wait_for(lambda: _runners(tmp_path), timeout=30)
        base = f'http://127.0.0.1:{gport}'
        http('POST', f'{base}/v1/conversations/new-user/messages', {'text': 'hello'})
        assert replies(base, 'new-user', 1)[1]['text'] == 'Hello! How can I help you today?'
        status, v3 = http('GET', f'http://127.0.0.1:{iport}/luis/prediction/v3.0/apps/demo/slots/production/predict?query=hello')
        assert status == 200 and v3['prediction']['topIntent'] == 'Greeting'
        # the dashboards' loop reaches the service: the demo app is in the store, its model in the registry the service follows
        from chatbot.nlu.registry import open_registry
        from chatbot.admin.store import open_store
        assert open_registry(tmp_path/'registry').resolve('demo') == '1' and open_store(f"sqlite:///{tmp_path/'apps.db'}").has_app('demo')
    finally: up.stop()
    assert up.p.returncode == 0 and not _ok(f'http://127.0.0.1:{gport}/healthz') and not _ok(f'http://127.0.0.1:{iport}/healthz')
    assert not _ok(f'http://127.0.0.1:{dport}/')
    wait_for(lambda: not _runners(tmp_path), timeout=30)             # the training runner stopped too

def _runners(home) -> list[int]:
    "Pids of the `chatbot runner` processes working on CHATBOT_HOME `home`."
    out = []
    for d in Path('/proc').iterdir():
        try:
            if b'chatbot.cli\x00runner' in (d/'cmdline').read_bytes() and f'CHATBOT_HOME={home}'.encode() in (d/'environ').read_bytes().split(b'\x00'):
                out.append(int(d.name))
        except (OSError, ValueError): pass
    return out

def test_one_trace_per_message_across_processes(stack):
    "OpenTelemetry spans of the receiver (gateway process) and of every step (worker process) form one trace."
    trace_file = stack['home']/'spans.jsonl'
    stack['env']['CHATBOT_TRACE_FILE'] = str(trace_file)
    stack['gateway'].stop()
    gport = free_port()
    stack['gateway'] = Proc(['gateway', '--port', str(gport)], stack['env'], stack['home'], 'gateway2')
    try:
        base = f'http://127.0.0.1:{gport}'
        wait_for(lambda: _ok(base + '/healthz'))
        stack['start_worker']()
        mid = http('POST', f'{base}/v1/conversations/han/messages', {'text': '쿠폰 있어요?'})[1]['id']
        replies(base, 'han', 1)
        def spans():
            rows = [json.loads(l) for l in trace_file.read_text().splitlines() if l.strip()] if trace_file.exists() else []
            mine = [r for r in rows if r['attributes'].get('chat.message_id') == mid]
            return mine if len(mine) >= 5 else None
        got = {s['name']: s for s in wait_for(spans, timeout=15)}
    finally: stack['gateway'].stop()
    assert set(got) == {'chat.receive', 'chat.understand', 'chat.route', 'chat.handle', 'chat.send'}
    assert len({s['context']['trace_id'] for s in got.values()}) == 1
    chain = ['chat.receive', 'chat.understand', 'chat.route', 'chat.handle', 'chat.send']
    assert all(got[b]['parent_id'] == got[a]['context']['span_id'] for a, b in zip(chain, chain[1:]))
    assert got['chat.route']['attributes']['chat.route'] == 'rules' and got['chat.understand']['attributes']['chat.intent'] == 'Coupons'

def test_reply_rules_edited_in_place_apply_without_restart(stack):
    "The studio saves reply rules to $CHATBOT_HOME/rules.json; a running worker answers with the edit about a second later."
    import importlib.resources
    rules = json.loads(importlib.resources.files('chatbot').joinpath('data/demo_rules.json').read_text(encoding='utf-8'))
    rules['intents']['Greeting']['reply'] = {'en': 'Welcome to the shop!', 'ko': '어서 오세요!'}
    path = stack['home']/'rules.json'
    path.write_text(json.dumps(rules, ensure_ascii=False), encoding='utf-8')
    base = stack['base']; stack['start_worker']()
    http('POST', f'{base}/v1/conversations/park/messages', {'text': 'hello'})
    assert replies(base, 'park', 1)[1]['text'] == 'Welcome to the shop!'
    rules['intents']['Greeting']['reply'] = {'en': 'Hi again, from the edited rules.', 'ko': '다시 안녕하세요!'}
    path.write_text(json.dumps(rules, ensure_ascii=False), encoding='utf-8')
    time.sleep(1.2)
    http('POST', f'{base}/v1/conversations/park/messages', {'text': 'hello'})
    assert replies(base, 'park', 2)[3]['text'] == 'Hi again, from the edited rules.'
