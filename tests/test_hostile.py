"""Every hostile input of issue 15, each its own regression test: a JSON 4xx naming the field (or a 200 where the
input is legal), never a 5xx, never HTML, never a reset connection. The prediction service runs as `chatbot serve`
on loopback (gunicorn in front, as in production); the gateway's app runs over SQLite in a temporary folder."""
import hashlib, hmac, http.client, json, urllib.parse
import pytest

from test_serve import Server

V3 = '/luis/prediction/v3.0/apps/mini/slots/production/predict'
FAR_DATES = ['3000 years ago', 'in 99999999 days', '99999999일 후']

@pytest.fixture(scope='module')
def served(mini_model, tmp_path_factory):
    "`chatbot serve` over the mini model, default limits (2,000 characters, 1 MiB bodies), no keys."
    _, path = mini_model
    s = Server(['--model', str(path), '--no-log'], tmp_path_factory.mktemp('hostile'))
    s.wait_ready()
    yield s
    s.stop()

def call(s, method, path, body=None, raw=None):
    "`(status, parsed body)`; the answer must be JSON whatever its status, and never a 5xx."
    status, parsed, headers = s.call(method, path, body, raw=raw)
    assert status < 500, (status, parsed)
    assert headers.get('Content-Type', '').startswith('application/json'), (status, headers, parsed)
    assert isinstance(parsed, (dict, list)), parsed
    return status, parsed

def refused(s, method, path, target, body=None, raw=None, code='BadArgument'):
    "Assert a JSON 400 whose error names `target`; the error."
    status, resp = call(s, method, path, body, raw)
    err = resp.get('error') or dict(code=resp.get('reason'), **(resp.get('details') or {}))   # Rasa's shape
    assert status == 400 and err.get('target') == target and err.get('code') == code, (status, resp)
    return err

def every_route(text: str) -> list:
    "The same text sent to each prediction route: `(method, path, body)`."
    return [('GET', V3 + '?' + urllib.parse.urlencode({'query': text}), None), ('POST', V3, {'query': text}),
            ('GET', '/luis/v2.0/apps/mini?' + urllib.parse.urlencode({'q': text}), None),
            ('POST', '/luis/v2.0/apps/mini', text),
            ('POST', '/language/:analyze-conversations', {'analysisInput': {'conversationItem': {'text': text}},
                                                          'parameters': {'projectName': 'mini'}}),
            ('POST', '/model/parse', {'text': text}), ('POST', '/v1/apps/mini/predict', {'text': text})]

# --- dates ---

@pytest.mark.parametrize('text', FAR_DATES)
def test_far_dates_are_answered_on_every_route(served, text):
    for method, path, body in every_route(text):
        status, resp = call(served, method, path, body)
        assert status == 200, (path, resp)

def test_datetime_reference_of_year_one(served):
    for ref in ('0001-01-01', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59'):
        status, resp = call(served, 'POST', V3, {'query': 'yesterday or tomorrow, ' + FAR_DATES[0],
                                                 'options': {'datetimeReference': ref}})
        assert status == 200 and resp['query'].startswith('yesterday'), resp
        status, _ = call(served, 'POST', '/v1/apps/mini/predict', {'text': 'yesterday', 'datetimeReference': ref})
        assert status == 200

@pytest.mark.parametrize('offset', ['1e10', 'Infinity', 'NaN', '-inf'])
def test_timezone_offset_out_of_range(served, offset):
    err = refused(served, 'GET', f'/luis/v2.0/apps/mini?q=tomorrow&timezoneOffset={offset}', 'timezoneOffset')
    assert err['limit'] == 1440

# --- JSON that parses but is not usable ---

POST_ROUTES = [(V3, 'query'), ('/luis/v2.0/apps/mini', None), ('/model/parse', 'text'),
               ('/v1/apps/mini/predict', 'text'), ('/language/:analyze-conversations', None)]

@pytest.mark.parametrize('path,field', POST_ROUTES)
def test_a_lone_surrogate_in_a_json_string(served, path, field):
    raw = (b'{"%s": "hi \\ud800"}' % field.encode()) if field else b'"hi \\ud800"'
    if path.startswith('/language'):
        raw, field = b'{"analysisInput": {"conversationItem": {"text": "\\udfff"}}}', 'analysisInput.conversationItem.text'
    err = refused(served, 'POST', path, field or 'body', raw=raw)
    assert 'surrogate' in err.get('message', '') or path == '/model/parse'

@pytest.mark.parametrize('path,field', POST_ROUTES)
def test_json_nested_100000_deep(served, path, field):
    err = refused(served, 'POST', path, 'body', raw=b'[' * 100_000 + b']' * 100_000, code='JsonTooDeep')
    assert err['limit'] == 64

def test_external_entity_start_index_of_1e400(served):
    raw = b'{"query": "hello", "externalEntities": [{"entityName": "x", "startIndex": 1e400, "entityLength": 1}]}'
    refused(served, 'POST', V3, 'externalEntities[0].startIndex', raw=raw)

def test_clu_analysis_input_as_a_string(served):
    refused(served, 'POST', '/language/:analyze-conversations', 'analysisInput',
            {'analysisInput': 'buy shoes', 'parameters': {'projectName': 'mini'}})

@pytest.mark.parametrize('app', [['mini'], 3])
def test_rasa_app_as_a_list_or_a_number(served, app):
    err = refused(served, 'POST', '/model/parse', 'app', {'text': 'hi', 'app': app}, code='BadRequest')
    assert err['target'] == 'app'

def test_native_slot_as_a_number(served):
    refused(served, 'POST', '/v1/apps/mini/predict', 'slot', {'text': 'hi', 'slot': 3})

# --- sizes, counted as users count them, refused in JSON before the server's own limits ---

def test_a_long_get_query_gets_json_400_not_html_414(served):
    for n in (2001, 50_000, 200_000):                 # 200,000 Hangul: a 1.8 MB request line
        err = refused(served, 'GET', V3 + '?query=' + urllib.parse.quote('가' * n), 'query', code='QueryTooLong')
        assert 'the limit is 2000' in err['message']

def test_a_body_over_1_mb_gets_json_413_not_a_reset(served):
    "The server reads and drops a refused body up to 8 MiB (`DRAIN_LIMIT`): without that, 7 MiB got a reset here."
    for size in ((1 << 20) + 1, 3 << 20, 7 << 20):
        raw = b'{"query": "' + b'x' * size + b'"}'
        c = http.client.HTTPConnection('127.0.0.1', served.port, timeout=30)
        c.request('POST', V3, body=raw, headers={'Content-Type': 'application/json'})  # a reset raises here
        r = c.getresponse()
        body = json.loads(r.read())
        c.close()
        assert r.status == 413 and body['error']['code'] == 'RequestTooLarge', body
        assert body['error']['limit'] == 1 << 20 and body['error']['target'] == 'body'

def test_korean_queries_of_1000_characters_are_accepted(served):
    text = ('운동화를 장바구니에 담아줘 ' * 100)[:1000]
    for method, path, body in every_route(text):
        status, resp = call(served, method, path, body)
        assert status == 200, (path, resp)

# --- the gateway ---

TOKEN = 'hostile-token'

@pytest.fixture(scope='module')
def gateway(tmp_path_factory):
    "The gateway's app over SQLite queues and state, SendBird on; `(test client, sign)`."
    from chatbot.config import Settings
    from chatbot.chat.gateway import build_gateway, create_gateway_app
    s = Settings(tmp_path_factory.mktemp('hostile-gateway'), sendbird_app_id='t', sendbird_api_token=TOKEN,
                 sendbird_bot_user_id='bot')
    gw = build_gateway(s, nlu=False)
    yield create_gateway_app(gw, s).test_client()
    gw.log.close()

def webhook(client, raw: bytes):
    sig = hmac.new(TOKEN.encode(), raw, hashlib.sha256).hexdigest()
    return client.post('/webhooks/sendbird', data=raw, headers={'x-sendbird-signature': sig})

EVENT = dict(category='group_channel:message_send', sender=dict(user_id='u1', nickname='Kim'),
             payload=dict(message='배송 조회해 주세요', message_id=42, created_at=1), channel=dict(channel_url='ch-1'))

def test_gateway_lone_surrogate(gateway):
    r = gateway.post('/v1/conversations/kim/messages', data=b'{"text": "hi \\ud800"}')
    assert r.status_code == 400 and r.json['error']['target'] == 'text', r.json
    raw = json.dumps({**EVENT, 'payload': {'message': 'x', 'message_id': 1}}).replace('"x"', '"\\udbff"').encode()
    r = webhook(gateway, raw)
    assert r.status_code == 400 and r.json['error']['target'] == 'payload.message', r.json

def test_gateway_deep_nesting(gateway):
    deep = b'{"text": ' + b'[' * 100_000 + b']' * 100_000 + b'}'
    for r in (gateway.post('/v1/conversations/kim/messages', data=deep), webhook(gateway, deep)):
        assert r.status_code == 400 and r.json['error']['code'] == 'JsonTooDeep', r.json

def test_sendbird_sender_as_a_string(gateway):
    r = webhook(gateway, json.dumps({**EVENT, 'sender': 'u1'}).encode())
    assert (r.status_code, r.json) == (200, {'status': 'ignored'})       # SendBird needs its 200; not a message

def test_gateway_body_over_its_limit(gateway):
    r = gateway.post('/v1/conversations/kim/messages', data=b'{"text": "' + b'x' * (300 << 10) + b'"}')
    assert r.status_code == 413 and r.json['error']['limit'] == 256 * 1024
