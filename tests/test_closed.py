"""Closed by default where it matters (issue 15), over real servers on loopback: the web chat's session tokens with
gateway keys set, bounded request ids, and a gunicorn control socket of its own for each server."""
import json, os, re, signal, urllib.parse
from pathlib import Path
import pytest

from tests_util import free_port, wait_for
from test_gateway import Proc, http, _ok
from test_serve import Server

KEY, SECRET = 'closed-gateway-key', 'closed-session-secret'

def start_gateway(home: Path, runtime: Path, **env):
    "A `chatbot gateway` with `CHATBOT_GATEWAY_KEYS` set, its control socket under `runtime`; `(proc, base URL)`."
    port = free_port()
    env = dict(os.environ, CHATBOT_HOME=str(home), CHATBOT_GATEWAY_KEYS=KEY, XDG_RUNTIME_DIR=str(runtime), **env)
    p = Proc(['gateway', '--port', str(port)], env, home, f'gateway-{port}')
    base = f'http://127.0.0.1:{port}'
    wait_for(lambda: _ok(base + '/healthz') or p.p.poll() is not None, what='the gateway')
    assert p.p.poll() is None, p.log.read_text()[-3000:]
    return p, base

@pytest.fixture(scope='module')
def gateway(tmp_path_factory):
    home, runtime = tmp_path_factory.mktemp('closed-gw'), tmp_path_factory.mktemp('runtime')
    p, base = start_gateway(home, runtime, CHATBOT_SESSION_SECRET=SECRET)
    yield base
    p.stop()

def page_session(base: str) -> dict:
    "The session the chat page carries: user, token, expires, locked."
    import urllib.request
    with urllib.request.urlopen(base + '/', timeout=10) as r:
        assert r.headers['Cache-Control'] == 'no-store'
        return json.loads(re.search(r'const fresh = (\{.*?\});', r.read().decode()).group(1))

def conv(base, user, channel='web'): return f'{base}/v1/conversations/{urllib.parse.quote(user)}/messages?channel={channel}'

def test_with_keys_rest_needs_a_key_and_the_page_its_token(gateway):
    for method, body in (('GET', None), ('POST', {'text': 'hi'})):
        status, resp = http(method, conv(gateway, 'kim', 'rest'), body)
        assert status == 401 and resp['error']['code'] == '401', resp
    assert http('POST', conv(gateway, 'kim', 'rest'), {'text': 'hi'}, {'Ocp-Apim-Subscription-Key': KEY})[0] == 202
    s = page_session(gateway)
    assert s['locked'] is True and re.fullmatch(r'web-[0-9a-f]{12}', s['user']), s
    auth = {'Authorization': 'Bearer ' + s['token']}
    assert http('POST', conv(gateway, s['user']), {'text': '안녕하세요'}, auth)[0] == 202
    status, history = http('GET', conv(gateway, s['user']), None, auth)
    assert status == 200 and [m['text'] for m in history] == ['안녕하세요'], history

def test_a_token_opens_only_its_own_conversation(gateway):
    a, b = page_session(gateway), page_session(gateway)
    assert a['user'] != b['user']
    auth_a = {'Authorization': 'Bearer ' + a['token']}
    for method, body in (('GET', None), ('POST', {'text': 'not yours'})):
        status, resp = http(method, conv(gateway, b['user']), body, auth_a)
        assert status == 401 and resp['error']['code'] == 'InvalidSessionToken', resp
        assert 'another conversation' in resp['error']['message'], resp
    status, resp = http('GET', conv(gateway, a['user'], 'rest'), None, auth_a)     # the REST channel: a key only
    assert status == 401 and resp['error']['target'] == 'channel', resp

def test_forged_and_expired_tokens_are_401_saying_why(gateway):
    from chatbot.chat.web import session_token
    s = page_session(gateway)
    forged = session_token('a guessed secret', s['user'])
    stretched = s['token'].split('.')
    stretched[1] = str(int(stretched[1]) + 10 ** 6)           # a later expiry with the signature of the real one
    cases = [(forged, 'bad signature'), ('.'.join(stretched), 'bad signature'), ('cs1.garbage', 'malformed'),
             (session_token(SECRET, s['user'], now=0), 'has expired'), (s['token'], None)]
    for token, why in cases:
        status, resp = http('GET', conv(gateway, s['user']), None, {'Authorization': 'Bearer ' + token})
        if why is None: assert status == 200, resp
        else: assert status == 401 and why in resp['error']['message'], (token, resp)

def test_request_ids_are_bounded(gateway):
    import http.client
    port = int(gateway.rsplit(':', 1)[1])
    for given, kept in (('abc-123', True), ('x' * 128, True), ('x' * 4000, False), ('a b', False)):
        c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
        c.request('GET', '/healthz', headers={'X-Request-Id': given})
        r = c.getresponse(); r.read(); c.close()
        rid = r.getheader('X-Request-Id')
        assert (rid == given) if kept else re.fullmatch(r'[0-9a-f]{32}', rid), (given[:20], rid)

def test_two_gateways_each_have_their_own_control_socket(tmp_path):
    runtime = tmp_path/'run'
    runtime.mkdir(mode=0o700)
    (tmp_path/'a').mkdir(); (tmp_path/'b').mkdir()
    (pa, base_a), (pb, base_b) = start_gateway(tmp_path/'a', runtime), start_gateway(tmp_path/'b', runtime)
    try:
        socks = [runtime/f'chatbot-gateway-{p.p.pid}.ctl' for p in (pa, pb)]
        wait_for(lambda: all(s.is_socket() for s in socks), what='both control sockets')
        assert not (runtime/'gunicorn.ctl').exists()
        pa.stop()
        assert pa.p.returncode == 0, pa.log.read_text()[-3000:]
        assert not socks[0].exists() and socks[1].is_socket()        # the first's stop leaves the second's alone
        assert _ok(base_b + '/healthz')
    finally: pb.stop()
    assert pb.p.returncode == 0, pb.log.read_text()[-3000:]
    assert not socks[1].exists()

def test_two_serve_instances_each_have_their_own_control_socket(mini_model, tmp_path):
    _, path = mini_model
    runtime = tmp_path/'run'
    runtime.mkdir(mode=0o700)
    servers = [Server(['--model', str(path), '--no-log'], tmp_path, env=dict(XDG_RUNTIME_DIR=str(runtime)))
               for _ in range(2)]
    try:
        for s in servers: s.wait_ready()
        socks = [runtime/f'chatbot-serve-{s.proc.pid}.ctl' for s in servers]
        wait_for(lambda: all(s.is_socket() for s in socks), what='both control sockets')
        assert servers[0].stop() == 0 and not socks[0].exists() and socks[1].is_socket()
        assert servers[1].call('GET', '/healthz')[0] == 200
    finally:
        codes = [s.stop() for s in servers]
    assert codes == [0, 0] and not socks[1].exists()

# --- the dashboards' login ---

class Browser:
    "Cookies kept, redirects not followed: `(status, body)` of each request."
    def __init__(self, base):
        import http.cookiejar, urllib.request
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k): return None
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  NoRedirect)

    def call(self, path, form=None):
        import urllib.error
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=10) as r: return r.status, r.read().decode()
        except urllib.error.HTTPError as e: return e.code, e.read().decode()

    def login(self, password):
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', self.call('/login')[1]).group(1)
        return self.call('/login', {'_xsrf': xsrf, 'password': password})

def test_dashboard_logins_are_throttled_and_logout_works(tmp_path):
    import subprocess, sys
    from conftest import ROOT
    port = free_port()
    code = ('from chatbot.admin.core import serve_dashboards; '
            f'serve_dashboards({port}, password="open-sesame", login_limit=3, login_window=2, '
            f'directory={str(ROOT/"dashboards")!r})')
    log = tmp_path/'voila.log'
    p = subprocess.Popen([sys.executable, '-c', code], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=open(log, 'wb'),
                         env=dict(os.environ, CHATBOT_HOME=str(tmp_path)))
    try:
        b = Browser(f'http://127.0.0.1:{port}')
        wait_for(lambda: _ok(b.base + '/login') or p.poll() is not None, timeout=60, what='the dashboards')
        assert p.poll() is None, log.read_text()[-3000:]
        assert b.call('/')[0] == 302                                   # not logged in: to the login page
        assert [b.login('wrong')[0] for _ in range(3)] == [401, 401, 401]
        for pw in ('wrong', 'open-sesame'):                            # now even the right one waits
            status, body = b.login(pw)
            assert status == 429 and 'Too many failed logins from your address: 3 within 2 seconds' in body, body
        wait_for(lambda: b.login('open-sesame')[0] != 429, what='the end of the throttle window')
        assert b.call('/')[0] == 200                                   # logged in: the cookie opens the tree
        status, body = b.call('/logout')
        assert status == 200 and 'Successfully logged out' in body, body
        assert b.call('/')[0] == 302                                   # the session is gone
        other = Browser(b.base)
        for _ in range(3): assert other.call('/?token=guess')[0] == 302     # guessing in the URL counts too
        assert other.login('open-sesame')[0] == 429
        assert 'Traceback' not in log.read_text()
    finally:
        p.terminate(); p.wait(timeout=20)
