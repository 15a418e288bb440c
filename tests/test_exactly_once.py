"""Exactly-once replies under fault (issue 15): real `chatbot worker` processes on the embedded SQLite queues and
state, killed with SIGKILL at random moments and restarted, answer 1,000 SendBird messages through a slow stand-in
of SendBird's Platform API on loopback, which sometimes fails a send (503, not kept) and sometimes keeps a message
but answers 500 anyway. The stand-in records every message it keeps: each inbound message must get exactly one
reply there, none lost, none twice."""
import http.server as httpserver, json, os, random, signal, subprocess, sys, threading, time, urllib.parse
from pathlib import Path
import pytest

from tests_util import wait_for  # noqa: E402  (tests/tests_util.py)

TOKEN, BOT = 'master-api-token', 'shopbot'
USERS, PER_USER = 100, 10                       # 1,000 messages


class SlowSendBird:
    "SendBird's bot send and message list on loopback: slow, sometimes failing, recording what it keeps."
    def __init__(self, seed=15):
        self.kept, self.lock, self.rng = {}, threading.Lock(), random.Random(seed)
        self.refused = self.kept_but_500 = self.listed = 0
        outer = self
        class H(httpserver.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def reply(self, status, body):
                raw = json.dumps(body).encode()
                self.send_response(status); self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(raw))); self.end_headers(); self.wfile.write(raw)
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get('Content-Length', 0))))
                assert self.path == f'/v3/bots/{BOT}/send' and self.headers.get('Api-Token') == TOKEN
                with outer.lock: r, slow = outer.rng.random(), outer.rng.random()
                time.sleep(0.3 if slow < 0.05 else 0.01)                  # slow, sometimes very
                if r < 0.03:
                    with outer.lock: outer.refused += 1
                    return self.reply(503, {'error': True})
                with outer.lock:
                    msgs = outer.kept.setdefault(body['channel_url'], [])
                    msgs.append(dict(message_id=sum(map(len, outer.kept.values())), message=body['message'],
                                     data=body.get('data', ''), created_at=int(time.time() * 1000),
                                     user={'user_id': BOT}))
                    if r < 0.06: outer.kept_but_500 += 1
                self.reply(500, {'error': True}) if r < 0.06 else self.reply(200, msgs[-1])
            def do_GET(self):
                u = urllib.parse.urlparse(self.path)
                q = dict(urllib.parse.parse_qsl(u.query))
                channel = urllib.parse.unquote(u.path.split('/')[3])
                with outer.lock:
                    outer.listed += 1
                    msgs = [m for m in outer.kept.get(channel, []) if m['created_at'] >= int(q['message_ts'])
                            and m['user']['user_id'] in q.get('user_ids', BOT).split(',')]
                self.reply(200, {'messages': msgs[:int(q.get('next_limit', 15))]})
        self.server = httpserver.ThreadingHTTPServer(('127.0.0.1', 0), H)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *a: None              # a worker killed mid-request: nothing to say
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}'
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def replies(self) -> list[tuple[str, str]]:
        "(channel, reply id) of every message kept, in order."
        with self.lock:
            return [(c, json.loads(m['data'])['chatbot_reply_id']) for c, ms in self.kept.items() for m in ms]


class FixedNLU:
    "The inference service's native predict route on loopback, always the demo's Greeting."
    def __init__(self):
        class H(httpserver.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_POST(self):
                text = json.loads(self.rfile.read(int(self.headers.get('Content-Length', 0))))['text']
                raw = json.dumps(dict(text=text, intent='Greeting', score=0.99, intents=[], entities=[])).encode()
                self.send_response(200); self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(raw))); self.end_headers(); self.wfile.write(raw)
        self.server = httpserver.ThreadingHTTPServer(('127.0.0.1', 0), H)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *a: None              # a worker killed mid-request: nothing to say
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}'
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_workers_killed_at_random_lose_and_duplicate_no_reply(tmp_path):
    from chatbot.backends.queues import open_queues
    from chatbot.backends.state import open_state
    from chatbot.chat.pipeline import Gateway, new_message, receive
    from chatbot.demo import demo_rules
    t_start = time.monotonic()
    sb, nlu = SlowSendBird(), FixedNLU()
    env = dict(os.environ, CHATBOT_HOME=str(tmp_path), SENDBIRD_API_TOKEN=TOKEN, SENDBIRD_BOT_USER_ID=BOT,
               SENDBIRD_APP_ID='test', SENDBIRD_API_URL=sb.url)
    cmd = [sys.executable, '-m', 'chatbot.cli', 'worker', '--nlu-url', nlu.url, '--visibility-timeout', '3',
           '--poison-after', '10', '--concurrency', '4']
    logs = tmp_path/'workers.log'
    def start(): return subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=open(logs, 'ab'))
    workers = [start() for _ in range(3)]

    queues, state = open_queues(f"sqlite:///{tmp_path/'queues.db'}"), open_state(f"sqlite:///{tmp_path/'state.db'}")
    gw = Gateway(queues, state, demo_rules())
    ids = []
    for n in range(PER_USER):                                     # as SendBird's webhook would hand them in
        for u in range(USERS):
            msg = new_message('sendbird', f'u{u}', f'hello #{n}', message_id=f'sendbird-{u}-{n}',
                              channel_data=dict(channel_url=f'ch-{u}'))
            ids.append(receive(gw, msg))

    kills, stop, rng = [], threading.Event(), random.Random(1)
    def killer():
        while not stop.wait(rng.uniform(0.2, 0.8)):
            i = rng.randrange(len(workers))
            workers[i].send_signal(signal.SIGKILL); workers[i].wait()
            kills.append(time.monotonic()); workers[i] = start()
    k = threading.Thread(target=killer, daemon=True); k.start()
    try:
        wait_for(lambda: len({r.rsplit('.', 1)[0] for _, r in sb.replies()}) >= len(ids), timeout=240, every=0.5,
                 what='a reply to every message')
    finally:
        stop.set(); k.join()
    busy = [q for q in queues.list_queues() if q.startswith('chat-') and not q.endswith('-poison')]
    wait_for(lambda: sum(queues.queue(q).count() for q in busy) == 0, timeout=60, every=0.5,
             what='every queue drained (late copies sent or dropped)')
    for w in workers: w.send_signal(signal.SIGTERM)
    for w in workers: w.wait(timeout=30)

    got = sb.replies()
    per_message = {}
    for channel, rid in got: per_message.setdefault(rid.rsplit('.', 1)[0], []).append(rid)
    lost = [i for i in ids if i not in per_message]
    duplicated = {i: r for i, r in per_message.items() if len(r) > 1}
    sorry = [i for i, r in per_message.items() if r == [f'{i}.sorry']]
    channels = {c: sum(1 for ch, _ in got if ch == c) for c, _ in got}
    print(f'\n{len(ids)} messages, {len(kills)} kills, {len(got)} replies kept, lost {len(lost)}, '
          f'duplicated {len(duplicated)}, apologies {len(sorry)}, 503s {sb.refused}, kept-but-500 '
          f'{sb.kept_but_500}, channel lookups {sb.listed}, {time.monotonic() - t_start:.0f} s')
    assert len(kills) >= 10, 'the run was too short to test anything'
    assert not lost and not duplicated, (lost[:5], list(duplicated.items())[:5])
    assert len(got) == len(ids) and set(channels.values()) == {PER_USER}
    assert set(per_message) == set(ids)
    assert sb.kept_but_500 and sb.listed                # the ambiguous case happened and was resolved by asking
    sb.server.shutdown(); nlu.server.shutdown()
