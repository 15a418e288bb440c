"""The fuzz suite (issue 15): requests generated from each server's OpenAPI description (`GET /openapi.json`),
valid and invalid, plus hand-written Hypothesis strategies for what a description cannot say (any JSON in any
field, any bytes, signed SendBird events, any text and reference time for the date recognizer), against the real
Flask apps: the prediction service over a trained model, the gateway over SQLite queues and state in a temporary
folder. It fails on any 5xx and on any error whose body is not JSON in the server's error shape.

CI runs a bounded, derandomized run (the same examples every time). `make fuzz` runs many more, with a fresh
random seed each time:

    CHATBOT_FUZZ_EXAMPLES=1000 CHATBOT_FUZZ_RANDOM=1 python -m pytest tests/test_fuzz.py
"""
import hashlib, hmac, json, os
from datetime import datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st

EXAMPLES = int(os.environ.get('CHATBOT_FUZZ_EXAMPLES', '30'))
RANDOM = os.environ.get('CHATBOT_FUZZ_RANDOM', '') not in ('', '0')
FUZZ = settings(max_examples=EXAMPLES, derandomize=not RANDOM, deadline=None, database=None, print_blob=True,
                suppress_health_check=list(HealthCheck))
TOKEN, BOT = 'fuzz-token', 'fuzz-bot'

# --- what every answer must be ---

def header(headers, name: str) -> str:
    "A header from a requests-, Werkzeug- or schemathesis-style mapping (values may be lists)."
    for k, v in dict(headers).items():
        if k.lower() == name.lower(): return v[0] if isinstance(v, list) else v
    return ''

def assert_sound(status: int, headers, body: bytes, what=''):
    "No 5xx; an error is JSON, in the Cognitive Services shape or Rasa's."
    assert status < 500, f'{what}: {status} {body[:500]!r}'
    if status < 400: return
    assert header(headers, 'Content-Type').startswith('application/json'), f'{what}: {status} not JSON: {body[:300]!r}'
    data = json.loads(body)
    if isinstance(data, dict) and data.get('status') == 'failure':                   # Rasa's shape
        assert {'reason', 'message', 'code'} <= data.keys(), data
    else:
        assert isinstance(data, dict) and {'code', 'message'} <= data['error'].keys(), f'{what}: {data}'

def check(client, method: str, path: str, what='', **kw):
    "Send one request through the test client and assert the answer is sound; the response."
    r = client.open(path, method=method, **kw)
    assert_sound(r.status_code, r.headers, r.get_data(), what or f'{method} {path} {kw}')
    return r

# --- the servers ---

@pytest.fixture(scope='module')
def service_app(mini_model, tmp_path_factory):
    "The prediction service over the mini model (a real `Predictor`, real recognizers), open, logging to SQLite."
    from chatbot.service.serve import create_app, FolderSource, ModelHost
    _, path = mini_model
    logs = tmp_path_factory.mktemp('fuzz-service')/'logs.db'
    app = create_app(dict(LOG=True, LOG_URL=f'sqlite:///{logs}'),
                     host=ModelHost([FolderSource(path)], poll_interval=60))
    assert app.test_client().get('/readyz').status_code == 200
    yield app
    app.extensions['chatbot.host'].stop()
    app.extensions['chatbot.log'].close()

@pytest.fixture(scope='module')
def gateway_app(tmp_path_factory):
    "The gateway over SQLite queues and state in a temporary folder, with SendBird's channel on."
    from chatbot.config import Settings
    from chatbot.chat.gateway import build_gateway, create_gateway_app
    home = tmp_path_factory.mktemp('fuzz-gateway')
    s = Settings(home, sendbird_app_id='fuzz', sendbird_api_token=TOKEN, sendbird_bot_user_id=BOT,
                 sendbird_api_url='http://127.0.0.1:9')
    gw = build_gateway(s, nlu=False)
    yield create_gateway_app(gw, s)
    gw.log.close()

@pytest.fixture(scope='module')
def schemas(service_app, gateway_app):
    "Each server's description as it serves it, loaded into schemathesis (which checks it against OpenAPI 3.1)."
    return {name: schemathesis.openapi.from_wsgi('/openapi.json', app)
            for name, app in (('service', service_app), ('gateway', gateway_app))}

# --- generated from the OpenAPI descriptions: positive and negative cases for every operation ---
# (schemathesis's own pytest fixture loader touches a pytest attribute that pytest 9 no longer has, so each
# operation is a parametrized test that draws schemathesis's cases with Hypothesis itself.)

def operations(spec: dict) -> list:
    return [(path, method.upper()) for path, ops in spec['paths'].items() for method in ops]

from chatbot.service.openapi import gateway_openapi, service_openapi          # noqa: E402

OPERATIONS = ([('service', *op) for op in operations(service_openapi())]
              + [('gateway', *op) for op in operations(gateway_openapi())])

@pytest.mark.parametrize('server,path,method', OPERATIONS, ids=[f'{s}:{m} {p}' for s, p, m in OPERATIONS])
@FUZZ
@given(data=st.data())
def test_every_route_from_its_openapi_description(schemas, server, path, method, data):
    from schemathesis import GenerationMode
    op = schemas[server][path][method]
    case = data.draw(op.as_strategy(GenerationMode.POSITIVE) | op.as_strategy(GenerationMode.NEGATIVE))
    r = case.call()
    assert_sound(r.status_code, r.headers, r.content, f'{method} {case.formatted_path} {case.query} {case.body!r}')

def test_descriptions_are_served_openly_with_the_apps_limits(service_app, gateway_app):
    spec = service_app.test_client().get('/openapi.json').json
    assert spec['openapi'] == '3.1.0' and spec['info']['x-limits']['maxQueryChars'] == 2000
    assert len(spec['paths']) == 13
    spec = gateway_app.test_client().get('/openapi.json').json
    assert set(spec['paths']) == {'/', '/healthz', '/openapi.json', '/v1/conversations/{user}/messages',
                                  '/webhooks/sendbird'}

# --- hand-written strategies: any JSON anywhere ---

# Text as attackers send it: any code point, lone surrogates included (json.dumps writes them as \ud800 escapes).
any_text = st.text(st.characters(codec=None, categories=None), max_size=40)
scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True)
           | any_text | st.sampled_from(['', ' ', 'production', 'staging', 'mini', '0001-01-01', '1e400', 'NaN',
                                        '3000 years ago', '99999999일 후', 'in 99999999 days']))
any_json = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(any_text, kids, max_size=4),
                        max_leaves=12)

V3 = '/luis/prediction/v3.0/apps/mini/slots/production/predict'
SERVICE_BODIES = {
    V3: {'query': 'I want to buy shoes tomorrow', 'options': {'datetimeReference': '2026-03-05T10:00:00',
                                                             'preferExternalEntities': True},
         'externalEntities': [{'entityName': 'product', 'startIndex': 14, 'entityLength': 5, 'resolution': {}}]},
    '/luis/prediction/v3.0/apps/mini/versions/1/predict': {'query': 'hello'},
    '/luis/v2.0/apps/mini': {'q': 'where is the nearest store'},
    '/language/:analyze-conversations': {'kind': 'Conversation', 'parameters': {'projectName': 'mini',
                                                                                'deploymentName': 'production'},
                                         'analysisInput': {'conversationItem': {'id': '1', 'text': '운동화 주문할게요'}}},
    '/model/parse': {'text': 'buy me lipstick', 'app': 'mini', 'message_id': 'm1'},
    '/v1/apps/mini/predict': {'text': 'hello', 'slot': 'production', 'top': 2, 'log': False,
                              'datetimeReference': '2026-03-05'},
}

def mutations(valid: dict):
    "`valid` with one field (at any depth) replaced by any JSON, or dropped, or the whole body replaced."
    paths = []
    def walk(x, at):
        if isinstance(x, dict):
            for k, v in x.items(): paths.append(at + [k]); walk(v, at + [k])
        elif isinstance(x, list):
            for i, v in enumerate(x): paths.append(at + [i]); walk(v, at + [i])
    walk(valid, [])
    def put(path, value):
        body = json.loads(json.dumps(valid))
        *head, last = path
        target = body
        for k in head: target = target[k]
        if value is _DROP and isinstance(target, dict): del target[last]
        else: target[last] = None if value is _DROP else value
        return body
    return st.one_of(any_json, st.builds(put, st.sampled_from(paths), any_json | st.just(_DROP)))

_DROP = object()

@FUZZ
@given(st.data())
def test_any_json_in_any_field_of_the_service(service_app, data):
    c = service_app.test_client()
    path = data.draw(st.sampled_from(sorted(SERVICE_BODIES)))
    body = data.draw(mutations(SERVICE_BODIES[path]))
    raw = json.dumps(body, ensure_ascii=data.draw(st.booleans())).encode('utf-8', 'surrogatepass')
    check(c, 'POST', path, data=raw, content_type='application/json')

@FUZZ
@given(path=st.sampled_from(sorted(SERVICE_BODIES)), raw=st.binary(max_size=200))
def test_any_bytes_as_a_service_body(service_app, path, raw):
    check(service_app.test_client(), 'POST', path, data=raw, content_type='application/json')

GET_ROUTES = [V3, '/luis/v2.0/apps/mini', '/status', '/luis/prediction/v3.0/apps/mini/versions/x/predict']
query_text = st.text(st.characters(codec='utf-8'), max_size=30)

@FUZZ
@given(path=st.sampled_from(GET_ROUTES),
       params=st.dictionaries(st.sampled_from(['query', 'q', 'verbose', 'show-all-intents', 'log', 'staging',
                                               'timezoneOffset', 'app', 'slot', 'subscription-key']),
                              query_text | st.sampled_from(['1e10', 'Infinity', '-inf', 'NaN', 'true', '',
                                                            '3000 years ago', '99999999일 후']), max_size=5))
def test_any_query_parameters(service_app, path, params):
    check(service_app.test_client(), 'GET', path, query_string=params)

@FUZZ
@given(text=st.text(st.characters(codec='utf-8'), min_size=1, max_size=60)
            | st.lists(st.sampled_from(['3000', 'years', 'ago', 'in', '99999999', 'days', '일', '후', '년', '전',
                                        'tomorrow', 'next', 'week', '오후', '3시', 'march', '31', '/', '-', ':',
                                        '9999', '0001', '12/31/9999', '$', '%', '만원', 'at', '5pm']),
                       min_size=1, max_size=8).map(' '.join),
       now=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)))
def test_the_model_answers_any_text_at_any_reference_time(mini_model, text, now):
    "The predictor and its recognizers never raise, whatever the text and wherever 'now' is in the calendar."
    from chatbot.nlu.predict import Predictor
    global _predictor
    if _predictor is None: _predictor = Predictor.load(mini_model[1])
    assert _predictor.predict(text, now=now).top_intent

_predictor = None

@FUZZ
@given(text=st.text(st.characters(codec='utf-8'), min_size=1, max_size=40)
            | st.lists(st.sampled_from(['3000 years ago', 'in 99999999 days', '99999999일 후', 'next monday',
                                        '12/31/9999', 'tomorrow at 3pm', '$1e400', '9' * 30, '3월 32일']),
                       min_size=1, max_size=4).map(' '.join),
       now=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)))
def test_every_recognizer_answers_any_text_at_any_reference_time(text, now):
    from chatbot.nlu.app import PREBUILT_TYPES, Entity
    from chatbot.nlu.recognizers import Recognizers
    r = Recognizers([Entity(t, 'prebuilt', prebuilt=t) for t in PREBUILT_TYPES], 'ko-kr')
    for m in r(text, now=now): assert 0 <= m.start < m.end <= len(text)

# --- the gateway: any JSON in a message, and signed SendBird events of any shape ---

@FUZZ
@given(body=mutations({'text': '주문하고 싶어요'}), channel=st.sampled_from(['rest', 'web', 'sms', '']),
       user=st.text(st.characters(codec='utf-8', exclude_characters='/?#%'), min_size=1, max_size=20))
def test_any_json_as_a_gateway_message(gateway_app, body, channel, user):
    raw = json.dumps(body).encode()
    check(gateway_app.test_client(), 'POST', f'/v1/conversations/{user}/messages', data=raw,
          query_string={'channel': channel}, content_type='application/json')

EVENT = dict(category='group_channel:message_send', sender=dict(user_id='u1', nickname='Kim'),
             payload=dict(message='배송 조회해 주세요', message_id=42, created_at=1), channel=dict(channel_url='ch-1'))

@FUZZ
@given(body=mutations(EVENT))
def test_any_signed_sendbird_event(gateway_app, body):
    raw = json.dumps(body).encode()
    sig = hmac.new(TOKEN.encode(), raw, hashlib.sha256).hexdigest()
    r = check(gateway_app.test_client(), 'POST', '/webhooks/sendbird', data=raw,
              headers={'x-sendbird-signature': sig}, content_type='application/json')
    assert r.status_code in (200, 400), (r.status_code, r.json)

# --- with keys set: refusals are JSON too, whatever key is presented and however ---

@pytest.fixture(scope='module')
def keyed_app(mini_model):
    from chatbot.service.serve import create_app, FolderSource, ModelHost
    app = create_app(dict(LOG=False, PREDICTION_KEYS='00000000-0000-0000-0000-000000000001,mini=k2'),
                     host=ModelHost([FolderSource(mini_model[1])], poll_interval=60))
    yield app
    app.extensions['chatbot.host'].stop()

@FUZZ
@given(path=st.sampled_from(sorted(SERVICE_BODIES) + ['/v1/apps', '/status', '/readyz', '/metrics']),
       how=st.sampled_from(['Ocp-Apim-Subscription-Key', 'Authorization', 'subscription-key', 'token']),
       key=st.text(st.characters(codec='latin-1', exclude_characters='\r\n\x00'), max_size=40)
           | st.sampled_from(['k2', 'Bearer k2', '00000000-0000-0000-0000-000000000001']))
def test_any_key_presented_any_way(keyed_app, path, how, key):
    kw = dict(query_string={how: key}) if how in ('subscription-key', 'token') else dict(headers={how: key})
    method = 'GET' if path in ('/v1/apps', '/status', '/readyz', '/metrics') else 'POST'
    body = json.dumps(SERVICE_BODIES.get(path, {})).encode() if method == 'POST' else None
    check(keyed_app.test_client(), method, path, data=body, content_type='application/json', **kw)
