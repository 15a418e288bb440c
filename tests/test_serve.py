"""The inference service over real HTTP on loopback (gunicorn workers): LUIS v2/v3, CLU, Rasa and native routes, keys,
errors, request logs, real LUIS client libraries, and live publishes and swaps under load."""
import http.client, json, os, signal, subprocess, sys, threading, time, urllib.parse, uuid
from pathlib import Path
import pytest

from chatbot.nlu.predict import Predictor
from chatbot.service.responses import to_luis_v3
from chatbot.service.serve import app_guid
from tests_util import free_port

ROOT = Path(__file__).resolve().parents[1]
KEY = '3f2504e0-4f89-41d3-9a0c-0305e82c3301'          # a GUID, as Bot Framework insists
QUERIES = ['I want to buy sneakers', '운동화를 장바구니에 담아줘', 'where is the nearest store', 'hello there', 'order lipstick please']

class Server:
    "A `chatbot serve` process and a tiny HTTP client for it."
    def __init__(self, args, home: Path, env=None, workers: int = 1):
        self.port, self.home = free_port(), home
        self.env = dict(os.environ, CHATBOT_HOME=str(home), **(env or {}))
        self.env.pop('PROMETHEUS_MULTIPROC_DIR', None)
        self.errlog = home/f'serve-{self.port}.log'
        self.proc = subprocess.Popen([sys.executable, '-m', 'chatbot.cli', 'serve', '--port', str(self.port), '--workers', str(workers), *args],
                                     env=self.env, cwd=home, stdout=subprocess.DEVNULL, stderr=open(self.errlog, 'wb'))
        self.started = time.monotonic()

    def wait_ready(self, timeout: float = 30) -> float:
        "Seconds from process start until `/readyz` said ready."
        while time.monotonic() - self.started < timeout:
            if self.proc.poll() is not None: raise AssertionError(f'server exited {self.proc.returncode}:\n{self.errlog.read_text()[-3000:]}')
            try:
                if self.call('GET', '/readyz')[0] == 200: return time.monotonic() - self.started
            except OSError: pass
            time.sleep(0.05)
        raise AssertionError(f'server not ready in {timeout} s:\n{self.errlog.read_text()[-3000:]}')

    def call(self, method, path, body=None, headers=None, raw: bytes | None = None, conn=None):
        "`(status, parsed JSON or text, headers)` of one request."
        c = conn or http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        h = dict(headers or {})
        if data is not None: h.setdefault('Content-Type', 'application/json')
        try: c.request(method, path, body=data, headers=h)
        except (BrokenPipeError, ConnectionResetError): pass      # the server answered (413) before reading all of a big body
        r = c.getresponse()
        text = r.read().decode()
        if conn is None: c.close()
        try: parsed = json.loads(text)
        except ValueError: parsed = text
        return r.status, parsed, dict(r.getheaders())

    def stop(self, timeout: float = 30) -> int:
        "Stop gracefully (SIGTERM, as a container runtime does); the exit status."
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try: self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()
        return self.proc.returncode

def q(s: str) -> str: return urllib.parse.quote(s)
AUTH = {'Ocp-Apim-Subscription-Key': KEY}

@pytest.fixture(scope='module')
def served(mini_model, tmp_path_factory):
    "`chatbot serve --model` over the mini model, with a key, two workers."
    _, path = mini_model
    home = tmp_path_factory.mktemp('serve')
    s = Server(['--model', str(path), '--keys', KEY], home, workers=2)
    s.wait_ready()
    yield s, path
    s.stop()

def v3_path(app='mini', slot='production', **params):
    return f'/luis/prediction/v3.0/apps/{app}/slots/{slot}/predict?' + urllib.parse.urlencode(params)

def test_luis_v3_answers_exactly_what_the_model_predicts(served):
    s, path = served
    p = Predictor.load(path)
    for text in QUERIES:
        status, body, _ = s.call('GET', v3_path(query=text, verbose='true', **{'show-all-intents': 'true'}), headers=AUTH)
        assert status == 200
        assert body == json.loads(json.dumps(to_luis_v3(p.predict(text), verbose=True, show_all_intents=True), ensure_ascii=False))
    status, body, _ = s.call('POST', v3_path(app=app_guid('mini').upper()), {'query': QUERIES[0]}, headers=AUTH)
    assert status == 200 and list(body['prediction']['intents']) == ['BuyProduct'] and '$instance' not in body['prediction']['entities']
    assert body['prediction']['entities']['product'] == ['sneakers']

def test_luis_v2_index_conventions(served):
    s, _ = served
    status, v2, _ = s.call('GET', f'/luis/v2.0/apps/{app_guid("mini")}?verbose=true&subscription-key={KEY}&q=' + q('I want to buy Sneakers'))
    assert status == 200 and v2['topScoringIntent']['intent'] == 'BuyProduct'
    assert [i['intent'] for i in v2['intents']] == sorted(['BuyProduct', 'FindStore', 'Greeting', 'None'], key=lambda n: -next(
        x['score'] for x in v2['intents'] if x['intent'] == n))
    e = v2['entities'][0]
    assert (e['entity'], e['type'], e['startIndex'], e['endIndex']) == ('sneakers', 'product', 14, 21) and 0 < e['score'] <= 1
    status, v2post, _ = s.call('POST', '/luis/v2.0/apps/mini', 'I want to buy Sneakers', headers=AUTH)     # the v2 SDK's bare JSON string
    assert status == 200 and v2post['entities'] == v2['entities'] and 'intents' not in v2post

def test_keys_are_required_when_configured(served):
    s, _ = served
    for headers, path in (({}, v3_path(query='hi')), ({'Ocp-Apim-Subscription-Key': 'wrong'}, v3_path(query='hi')),
                          ({}, '/luis/v2.0/apps/nope?q=hi'), ({}, '/v1/apps')):
        status, body, _ = s.call('GET', path, headers=headers)
        assert status == 401 and body['error']['code'] == '401' and 'subscription key' in body['error']['message']
    assert s.call('GET', v3_path(query='hi', **{'subscription-key': KEY}))[0] == 200
    assert s.call('POST', '/v1/apps/mini/predict', {'text': 'hi'}, headers={'Authorization': f'Bearer {KEY}'})[0] == 200
    assert s.call('POST', f'/model/parse?token={KEY}', {'text': 'hi'})[0] == 200

BAD = [
    ('GET', v3_path(), None, None, 400, 'BadArgument', "'query' parameter is missing"),
    ('GET', v3_path(query='   '), None, None, 400, 'BadArgument', 'empty'),
    ('GET', v3_path(query='x' * 2001), None, None, 400, 'QueryTooLong', 'limit is 2000'),
    ('POST', v3_path(), None, b'{"query": ', 400, 'BadArgument', 'not valid JSON'),
    ('POST', v3_path(), ['hi'], None, 400, 'BadArgument', 'JSON object'),
    ('POST', v3_path(), {'query': 7}, None, 400, 'BadArgument', 'must be a string'),
    ('GET', v3_path(app='nope', query='hi'), None, None, 404, 'NotFound', "'nope'"),
    ('GET', v3_path(slot='preview', query='hi'), None, None, 404, 'NotFound', 'slot'),
    ('GET', v3_path(slot='staging', query='hi'), None, None, 404, 'NotFound', 'staging slot'),
    ('GET', v3_path(query='hi', verbose='sure'), None, None, 400, 'BadArgument', 'verbose'),
    ('POST', v3_path(), {'query': 'hi', 'options': {'datetimeReference': 'soon'}}, None, 400, 'BadArgument', 'datetimeReference'),
    ('POST', v3_path(), {'query': 'hi', 'externalEntities': [{'entityName': 'x', 'startIndex': 1, 'entityLength': 9}]}, None, 400, 'BadArgument', 'outside'),
    ('POST', v3_path(), None, b'{"query": "' + b'x' * (1 << 20) + b'"}', 413, 'RequestTooLarge', 'limit'),
    ('GET', '/luis/v2.0/apps/mini?timezoneOffset=east&q=hi', None, None, 400, 'BadArgument', 'timezoneOffset'),
    ('POST', '/v1/apps/mini/predict', {'texts': []}, None, 400, 'BadArgument', 'non-empty list'),
    ('POST', '/v1/apps/mini/predict', {'texts': ['ok', None]}, None, 400, 'BadArgument', 'texts[1]'),
    ('POST', '/v1/apps/mini/predict', {'text': 'hi', 'top': 0}, None, 400, 'BadArgument', 'top'),
    ('POST', '/v1/apps/mini/predict', {'text': 'hi', 'version': 'v9'}, None, 404, 'NotFound', "no version 'v9'"),
    ('POST', '/language/:analyze-conversations', {'analysisInput': {}}, None, 400, 'BadArgument', 'projectName'),
    ('GET', '/no/such/route', None, None, 404, 'NotFound', ''),
    ('DELETE', '/luis/v2.0/apps/mini?q=hi', None, None, 405, 'MethodNotAllowed', ''),
]

@pytest.mark.parametrize('method,path,body,raw,status,code,words', BAD, ids=[f'{b[4]}-{i}' for i, b in enumerate(BAD)])
def test_bad_requests_get_luis_shaped_errors(served, method, path, body, raw, status, code, words):
    s, _ = served
    got, resp, _ = s.call(method, path, body, headers=AUTH, raw=raw)
    assert got == status and resp['error']['code'] == code and words in resp['error']['message'], resp
    assert s.call('GET', '/healthz')[0] == 200                     # and the workers are still there

def test_rasa_errors_use_rasas_shape(served):
    s, _ = served
    status, body, _ = s.call('POST', '/model/parse', {'txt': 'hi'}, headers=AUTH)
    assert status == 400 and body['status'] == 'failure' and 'text' in body['message'] and body['code'] == 400

def test_native_clu_and_rasa_routes(served):
    s, _ = served
    status, one, headers = s.call('POST', '/v1/apps/mini/predict', {'text': QUERIES[1], 'top': 2}, headers={**AUTH, 'X-Request-Id': 'req-42'})
    assert status == 200 and headers['X-Request-Id'] == 'req-42' and one['intent'] == 'BuyProduct' and len(one['intents']) == 2
    assert one['entities'][0]['text'] == '운동화' and one['entities'][0]['kind'] == 'learned'
    status, batch, _ = s.call('POST', '/v1/apps/mini/predict', {'texts': QUERIES}, headers=AUTH)
    assert status == 200 and [p['text'] for p in batch['predictions']] == QUERIES and batch['predictions'][1] == {**one, 'intents': batch['predictions'][1]['intents']}
    status, clu, _ = s.call('POST', '/language/:analyze-conversations?api-version=2023-04-01', {
        'kind': 'Conversation', 'analysisInput': {'conversationItem': {'id': '1', 'participantId': 'u', 'text': QUERIES[0]}},
        'parameters': {'projectName': 'mini', 'deploymentName': 'production'}}, headers=AUTH)
    assert status == 200 and clu['kind'] == 'ConversationResult' and clu['result']['prediction']['topIntent'] == 'BuyProduct'
    assert clu['result']['prediction']['entities'][0] | {} == {**clu['result']['prediction']['entities'][0], 'category': 'product', 'offset': 14, 'length': 8}
    status, rasa, _ = s.call('POST', f'/model/parse?token={KEY}', {'text': QUERIES[0], 'message_id': 'm1'})
    assert status == 200 and rasa['intent']['name'] == 'BuyProduct' and rasa['message_id'] == 'm1'
    assert rasa['entities'][0]['start'] == 14 and rasa['entities'][0]['end'] == 22 and rasa['entities'][0]['value'] == 'sneakers'
    assert s.call('GET', '/version')[1]['version'] == '3.6.21'

def test_health_readiness_and_metrics(served):
    s, path = served
    assert s.call('GET', '/readyz')[:2] == (200, {'ready': True})      # keys are set: no app names without one
    status, ready, _ = s.call('GET', '/readyz', headers=AUTH)
    assert status == 200 and ready['ready'] and ready['apps'][0]['id'] == app_guid('mini') and ready['apps'][0]['slots']['production']['version']
    for _ in range(4): s.call('GET', v3_path(query='hello'), headers=AUTH)
    status, body, _ = s.call('GET', '/metrics')
    assert status == 401 and body['error']['code'] == '401'
    status, text, headers = s.call('GET', '/metrics', headers=AUTH)
    assert status == 200 and headers['Content-Type'].startswith('text/plain')
    counted = sum(float(line.rsplit(' ', 1)[1]) for line in text.splitlines()
                  if line.startswith('chatbot_requests_total{') and 'route="luis.v3_slot"' in line and 'status="200"' in line)
    assert counted >= 4                                             # summed over both workers
    assert 'chatbot_request_duration_seconds_bucket{' in text and 'chatbot_model_info{app="mini"' in text

def test_luis_sdk_v2_client(served):
    "The Python LUIS runtime SDK that Bot Framework pins (0.2.x) POSTs the query as a bare JSON string."
    from azure.cognitiveservices.language.luis.runtime import LUISRuntimeClient
    from msrest.authentication import CognitiveServicesCredentials
    s, _ = served
    client = LUISRuntimeClient(f'http://127.0.0.1:{s.port}', CognitiveServicesCredentials(KEY))
    r = client.prediction.resolve(app_guid('mini'), 'I want to buy sneakers', verbose=True)
    assert r.top_scoring_intent.intent == 'BuyProduct' and r.entities[0].entity == 'sneakers' and r.entities[0].end_index == 21
    from azure.cognitiveservices.language.luis.runtime.models import APIErrorException
    with pytest.raises(APIErrorException):
        LUISRuntimeClient(f'http://127.0.0.1:{s.port}', CognitiveServicesCredentials('bad')).prediction.resolve(app_guid('mini'), 'hi')

def test_luis_sdk_v3_client(served):
    "The v3 runtime SDK (0.7.x; installed beside the venv because Bot Framework pins 0.2) in its own process."
    sdk = ROOT/'.venv'/'luis-sdk-0.7'
    assert sdk.exists(), f'{sdk} is missing: `make install` puts azure-cognitiveservices-language-luis 0.7.1 there'
    s, _ = served
    code = f'''
from azure.cognitiveservices.language.luis.runtime import LUISRuntimeClient
from azure.cognitiveservices.language.luis.runtime.models import PredictionRequest
from msrest.authentication import CognitiveServicesCredentials
c = LUISRuntimeClient('http://127.0.0.1:{s.port}', CognitiveServicesCredentials('{KEY}'))
r = c.prediction.get_slot_prediction('{app_guid("mini")}', 'production', PredictionRequest(query='order lipstick please'), verbose=True, show_all_intents=True)
print(r.prediction.top_intent, sorted(r.prediction.intents), r.prediction.entities['product'])
'''
    out = subprocess.run([sys.executable, '-c', code], env=dict(os.environ, PYTHONPATH=str(sdk)), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[0] == 'BuyProduct' and "['lipstick']" in out.stdout and 'FindStore' in out.stdout

def run_coroutine(coro):
    "Run `coro` to completion on a fresh event loop in its own thread (Playwright's sync API may own this thread's loop)."
    import asyncio, concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(1) as pool: return pool.submit(asyncio.run, coro).result()

def test_bot_framework_luis_recognizer(served):
    "Bot Framework's LuisRecognizer, v2 and v3, pointed at this server."
    import asyncio
    from botbuilder.ai.luis import LuisApplication, LuisRecognizer, LuisRecognizerOptionsV3, LuisPredictionOptions
    from botbuilder.core import TurnContext
    from botbuilder.core.adapters import TestAdapter
    from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount
    s, _ = served
    application = LuisApplication(app_guid('mini'), KEY, f'http://127.0.0.1:{s.port}')

    async def recognize(recognizer, text):
        act = Activity(type=ActivityTypes.message, text=text, from_property=ChannelAccount(id='u'), recipient=ChannelAccount(id='bot'),
                       conversation=ConversationAccount(id='c'), channel_id='test', service_url='http://localhost')
        return await recognizer.recognize(TurnContext(TestAdapter(), act))

    v2 = run_coroutine(recognize(LuisRecognizer(application, LuisPredictionOptions(include_all_intents=True)), 'I want to buy sneakers'))
    assert v2.get_top_scoring_intent().intent == 'BuyProduct' and v2.entities['product'] == ['sneakers']
    v3 = run_coroutine(recognize(LuisRecognizer(application, LuisRecognizerOptionsV3(include_all_intents=True)), '립스틱 주문할게요'))
    assert v3.get_top_scoring_intent().intent == 'BuyProduct' and v3.entities['product'] == ['립스틱'] and len(v3.intents) == 4

def test_every_prediction_is_logged_and_log_false_is_honoured(mini_model, tmp_path):
    from chatbot.backends.logs import open_log_store
    _, path = mini_model
    s = Server(['--model', str(path)], tmp_path, workers=2)
    s.wait_ready()
    for i in range(40): s.call('GET', v3_path(query=f'{QUERIES[i % 5]} {i}'))
    for i in range(7): s.call('GET', v3_path(query=f'secret {i}', log='false'))
    s.call('POST', '/v1/apps/mini/predict', {'texts': ['a b', 'c d'], 'log': True})
    assert s.call('GET', v3_path(query='x' * 2001))[0] == 400
    assert s.stop() == 0                                        # a clean stop drains every worker's buffer
    store = open_log_store(f'sqlite:///{tmp_path/"logs.db"}')                # CHATBOT_HOME is tmp_path
    rows = store.query(limit=1000)
    assert len(rows) == 43 and not any('secret' in r['query'] for r in rows)
    refused = [r for r in rows if r['status'] != 200]
    assert len(refused) == 1 and refused[0]['status'] == 400                  # a query over the limit
    assert refused[0]['top_intent'] is None and refused[0]['app'] == 'mini'
    r = next(r for r in rows if r['query'] == f'{QUERIES[0]} 0')
    assert (r['app'], r['slot'], r['route'], r['top_intent'], r['status']) == ('mini', 'production', 'luis.v3', 'BuyProduct', 200)
    assert r['model_version'].startswith('0.1+') and 0 < r['latency_ms'] < 1000 and r['entities'][0]['entity'] == 'product'
    assert r['client'] == '127.0.0.1' and len(r['request_id']) == 32 and 0 < r['score'] <= 1

def test_broken_model_is_a_clear_cli_error(tmp_path):
    out = subprocess.run([sys.executable, '-m', 'chatbot.cli', 'serve', '--model', str(tmp_path/'nothing')], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and 'chatbot: error:' in out.stderr and 'Traceback' not in out.stderr

# Registry-backed serving: publishes and swaps are followed live.

def cli(*args, env=None):
    out = subprocess.run([sys.executable, '-m', 'chatbot.cli', *args], capture_output=True, text=True, timeout=120, env=env)
    return out.returncode, out.stdout + out.stderr

def test_registry_cli(mini_model, tmp_path):
    _, path = mini_model
    reg = str(tmp_path/'reg')
    assert cli('models', 'push', 'shop', str(path), '--registry', reg) == (0, f'shop version 1 <- {path}\n')
    code, out = cli('models', 'push', 'shop', str(path), '--version', 'b', '--publish', 'staging', '--registry', reg)
    assert code == 0 and 'production=- staging=b' in out
    assert cli('publish', 'shop', '1', '--registry', reg)[1] == 'shop: production=1 staging=b\n'
    assert cli('swap', 'shop', '--registry', reg)[1] == 'shop: production=b staging=1\n'
    code, out = cli('models', 'list', '--registry', reg)
    assert code == 0 and '[production]' in out and '[staging]' in out
    code, out = cli('publish', 'shop', '7', '--registry', reg)
    assert code == 2 and 'chatbot: error:' in out and '7' in out and 'Traceback' not in out

class Load:
    "Client threads sending native predictions as fast as they can, recording (time, status, model version)."
    def __init__(self, server: Server, app: str, threads: int = 4):
        self.server, self.app, self.results, self.stop_flag = server, app, [], threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(threads)]
        for t in self.threads: t.start()

    def run(self, i):
        while not self.stop_flag.is_set():
            try:
                status, body, _ = self.server.call('POST', f'/v1/apps/{self.app}/predict', {'text': QUERIES[i % 5], 'log': False})
                self.results.append((time.monotonic(), status, body.get('model_version') if isinstance(body, dict) else None))
            except OSError as e: self.results.append((time.monotonic(), repr(e), None))

    def stop(self):
        self.stop_flag.set()
        for t in self.threads: t.join(timeout=15)
        return self.results

def first_time_serving(results, version, since):
    return min((t for t, st, v in results if t >= since and v == version), default=None)

@pytest.fixture(params=['local', 'azure'])
def registry_url(request, tmp_path, monkeypatch):
    if request.param == 'local': return str(tmp_path/'registry')
    az = request.getfixturevalue('azurite')
    monkeypatch.setenv('AZURE_STORAGE_CONNECTION_STRING', az.connection_string)
    return f'azure-blob://models-{uuid.uuid4().hex[:12]}'

def test_publish_and_swap_live_under_load(mini_model, tmp_path, registry_url):
    "Every request succeeds while versions change; each change is served within 3 s by every worker."
    from chatbot.nlu.registry import open_registry
    _, path = mini_model
    reg = open_registry(registry_url, cache_dir=tmp_path/'cache',
                        connection_string=os.environ.get('AZURE_STORAGE_CONNECTION_STRING'))   # as the CLI reads it
    for v in ('1', '2'): reg.push('shop', path, v)
    reg.publish('shop', '1')
    s = Server(['--registry', registry_url, '--no-log'], tmp_path, workers=2)
    try:
        s.wait_ready()
        load = Load(s, 'shop')
        time.sleep(1.0)
        t_publish = time.monotonic(); reg.publish('shop', '2')
        time.sleep(3.5)
        reg.publish('shop', '1', slot='staging')
        t_swap = time.monotonic(); reg.swap('shop')                 # production back to 1, staging 2
        time.sleep(3.5)
        results = load.stop()
    finally: s.stop()
    failures = [r for r in results if r[1] != 200]
    assert len(results) > 200 and not failures, failures[:5]
    assert first_time_serving(results, '2', t_publish) - t_publish <= 3.0
    assert all(v == '2' for t, _, v in results if t_publish + 3.0 <= t < t_swap)
    assert all(v == '1' for t, _, v in results if t >= t_swap + 3.0) and first_time_serving(results, '1', t_swap) - t_swap <= 3.0

def test_a_corrupt_production_slot_leaves_staging_serving(mini_model, tmp_path, registry_url):
    """Issue 15: production's artifact corrupted in the registry behind its back (publish refuses what does not load, see
    tests/test_cli.py) must not take staging down: staging answers, production says why it cannot, and a fix is picked up."""
    from chatbot.nlu.registry import LocalRegistry, open_registry
    _, path = mini_model
    reg = open_registry(registry_url, cache_dir=tmp_path/'cache', connection_string=os.environ.get('AZURE_STORAGE_CONNECTION_STRING'))
    for v in ('1', '2'): reg.push('shop', path, v)
    reg.publish('shop', '1'); reg.publish('shop', '2', slot='staging')
    if isinstance(reg, LocalRegistry): (reg.root/'shop'/'versions'/'1'/'weights.h5').write_bytes(b'garbage')
    else: reg._container.get_blob_client(reg._key('shop', 'versions', '1', 'weights.h5')).upload_blob(b'garbage', overwrite=True)
    (tmp_path/'home').mkdir()
    s = Server(['--registry', registry_url, '--no-log'], tmp_path/'home')
    try:
        s.wait_ready()
        status, body, _ = s.call('POST', '/v1/apps/shop/predict?slot=staging', {'text': QUERIES[0]})
        assert status == 200 and body['model_version'] and body['intent'] == 'BuyProduct'
        status, body, _ = s.call('POST', '/v1/apps/shop/predict', {'text': QUERIES[0]})
        assert status == 409 and 'production slot, version 1' in body['error']['message'] and 'corrupt' in body['error']['message']
        reg.publish('shop', '2')                                           # production fixed by publishing a good version
        deadline = time.monotonic() + 30
        while s.call('POST', '/v1/apps/shop/predict', {'text': QUERIES[0]})[0] != 200 and time.monotonic() < deadline: time.sleep(0.2)
        assert s.call('POST', '/v1/apps/shop/predict?slot=staging', {'text': QUERIES[0]})[0] == 200
        assert s.call('POST', '/v1/apps/shop/predict', {'text': QUERIES[0]})[0] == 200
    finally: s.stop()

def test_serve_a_model_folder_from_blob_storage(mini_model, tmp_path, azurite, monkeypatch):
    "`--model azure-blob://...`: the artifact is downloaded at start, verified and cached; nothing is baked in."
    from azure.storage.blob import BlobServiceClient
    _, path = mini_model
    monkeypatch.setenv('AZURE_STORAGE_CONNECTION_STRING', azurite.connection_string)
    container = BlobServiceClient.from_connection_string(azurite.connection_string).create_container(f'art-{uuid.uuid4().hex[:12]}')
    for f in path.iterdir(): container.upload_blob(f'models/mini/{f.name}', f.read_bytes())
    s = Server(['--model', f'azure-blob://{container.container_name}/models/mini', '--no-log'], tmp_path)
    try:
        s.wait_ready()
        status, body, _ = s.call('GET', v3_path(query=QUERIES[0]))
        assert status == 200 and body['prediction']['topIntent'] == 'BuyProduct'
    finally: s.stop()
    container.upload_blob('models/mini/weights.h5', b'not the weights', overwrite=True)
    out = subprocess.run([sys.executable, '-m', 'chatbot.cli', 'serve', '--model', f'azure-blob://{container.container_name}/models/mini',
                          '--port', str(free_port())], capture_output=True, text=True, timeout=60, cwd=tmp_path / 'fresh' if (tmp_path/'fresh').mkdir() is None else tmp_path)
    assert out.returncode == 2 and 'checksum' in out.stderr
