"""Long messages end to end, over real processes on loopback: one limit (`CHATBOT_MAX_MESSAGE_CHARS`, 2,000
characters by default) for the web page, the gateway, the worker and the inference service; a message within
it always gets a real reply, one over it a clear answer on every channel, one failing every try an apology."""
import hashlib, hmac, http.client, json, time, urllib.parse
import pytest

from chatbot.chat.pipeline import NOTICES
from test_gateway import TOKEN, http, replies, stack, write_rules  # noqa: F401  (`stack`: gateway + worker)
from test_serve import Server
from tests_util import wait_for

APOLOGIES = set(NOTICES['failed'].values())
COMPLAINT = '주문한 운동화가 아직 도착하지 않았어요. 배송 조회를 해도 정보가 없고 고객센터도 연결이 안 돼요. '

def long_text(n: int, unit: str = COMPLAINT) -> str:
    "`unit` repeated to exactly `n` characters, ending in a full stop (so nothing trims it)."
    return (unit * (n // len(unit) + 1))[:n - 1] + '.'

def sendbird_post(base: str, user: str, text: str, message_id: int):
    "Post a signed SendBird `message_send` webhook; returns (status, body)."
    event = dict(category='group_channel:message_send', app_id='test',
                 sender=dict(user_id=user, nickname=user),
                 payload=dict(message=text, message_id=message_id, created_at=1),
                 channel=dict(channel_url=f'channel-{user}'))
    raw = json.dumps(event, ensure_ascii=False).encode()
    return http('POST', f'{base}/webhooks/sendbird', raw=raw,
                headers={'x-sendbird-signature': hmac.new(TOKEN.encode(), raw, hashlib.sha256).hexdigest()})

def real_reply(msgs: list, mid: str) -> str:
    "The text of the reply to message `mid`, which must come from the rules (not an apology or a notice)."
    [reply] = [m for m in msgs if m['id'] == f'{mid}.reply']
    assert reply['text'] not in APOLOGIES and '너무 길어요' not in reply['text'], reply
    return reply['text']

def test_long_messages_on_the_rest_and_sendbird_channels(stack):
    base, sb = stack['base'], stack['sendbird']
    stack['start_worker']()
    text = long_text(1000)
    status, body = http('POST', f'{base}/v1/conversations/long-kim/messages', {'text': text})
    assert status == 202
    msgs = replies(base, 'long-kim', 1, timeout=90)                 # the worker loads its model first
    assert msgs[0]['text'] == text and real_reply(msgs, body['id'])

    status, body = http('POST', f'{base}/v1/conversations/long-kim/messages', {'text': 'x' * 2001})
    assert status == 400 and body['error'] == {'code': 'MessageTooLong', 'target': 'text', 'limit': 2000,
                                                'message': '"text" is 2,001 characters; the limit is 2000'}
    status, _ = http('POST', f'{base}/v1/conversations/long-kim/messages', {'text': '가' * 2000})
    assert status == 202                                            # characters, not bytes (6,000 in UTF-8)

    # SendBird cannot be refused: accepted at once, answered with the limit in the user's language
    assert sendbird_post(base, 'sb-long', long_text(2500), 501) == (200, {'status': 'accepted',
                                                                          'id': 'sendbird-501'})
    wait_for(lambda: sb.requests, timeout=30)
    time.sleep(1.0)
    assert len(sb.requests) == 1 and not sb.problems, (sb.requests, sb.problems)
    assert sb.requests[0]['message'] == '죄송해요, 메시지가 너무 길어요(2,500자). 2,000자 이내로 나누어 보내 주세요.'
    assert sb.requests[0]['channel_url'] == 'channel-sb-long'
    from chatbot.backends.logs import open_log_store
    logs = open_log_store(f"sqlite:///{stack['home']/'logs.db'}")
    rows = wait_for(lambda: logs.query(route='gateway.too_long'), timeout=10)
    assert len(rows) == 1 and rows[0]['status'] == 400
    assert rows[0]['details']['error'] == '"text" is 2,500 characters; the limit is 2000'

def test_long_message_from_the_web_page(page, stack):
    from playwright.sync_api import expect
    stack['start_worker']()
    page.goto(stack['base'] + '/')
    assert page.locator('#text').get_attribute('maxlength') == '2000'          # the gateway's limit
    page.locator('#user').fill('web-long')
    page.locator('#user').dispatch_event('change')
    text = long_text(1000)
    page.locator('#text').fill(text)
    page.locator('#text').press('Enter')
    expect(page.locator('#text')).to_have_value('')
    expect(page.locator('#log .msg.outbound')).to_have_count(1, timeout=90_000)
    assert page.locator('#log .msg.inbound').inner_text() == text
    assert page.locator('#log .msg.outbound').inner_text() not in APOLOGIES
    assert page.locator('#err').inner_text() == '' and not page.js_errors, page.js_errors

def test_a_message_that_fails_every_try_gets_one_apology(stack):
    "REST and SendBird: one apology in the user's language, one status-500 record, counted by the analytics."
    home, env, base, sb = stack['home'], stack['env'], stack['base'], stack['sendbird']
    write_rules(home)                                          # Refund → a handler that always raises
    env.update(CHATBOT_RULES=str(home/'rules.json'), CHATBOT_HANDLERS='slowhandlers')
    stack['start_worker']('--visibility-timeout', '1', '--poison-after', '2')
    text = '주문번호 A12345678 환불해 주세요'
    mid = http('POST', f'{base}/v1/conversations/refund-kim/messages', {'text': text})[1]['id']
    assert sendbird_post(base, 'refund-park', text, 777)[0] == 200
    from chatbot.backends.queues import open_queues
    poison = open_queues(f"sqlite:///{home/'queues.db'}").queue('chat-handle-always-fails-poison')
    wait_for(lambda: poison.count() == 2, timeout=60)
    wait_for(lambda: sb.requests, timeout=10)
    time.sleep(2.5)                                # a second apology would come within 2 visibility timeouts
    msgs = http('GET', f'{base}/v1/conversations/refund-kim/messages')[1]
    assert [(m['id'], m['direction']) for m in msgs] == [(mid, 'inbound'), (f'{mid}.sorry', 'outbound')]
    assert msgs[1]['text'] == NOTICES['failed']['ko']
    assert [r['message'] for r in sb.requests] == [NOTICES['failed']['ko']] and not sb.problems
    from chatbot.backends.logs import open_log_store
    from chatbot.admin.analytics import Filters, overview
    logs = open_log_store(f"sqlite:///{home/'logs.db'}")
    rows = wait_for(lambda: (r := logs.query(route='gateway.*')) and len(r) >= 2 and r, timeout=10)
    time.sleep(1.5)                                            # the log writer flushes every second
    rows = logs.query(route='gateway.*')
    assert sorted(r['request_id'] for r in rows) == sorted([mid, 'sendbird-777'])
    assert all(r['status'] == 500 and 'the order system is down' in r['details']['error'] for r in rows)
    assert overview(logs, Filters(source='gateway'))['errors'] == 2

@pytest.fixture
def limited_service(tmp_path, demo_model_path):
    "`chatbot serve` over the demo model, configured for queries of at most 500 characters."
    home = tmp_path/'serve'
    home.mkdir()
    s = Server(['--model', str(demo_model_path)], home, env={'CHATBOT_SERVE_MAX_QUERY_CHARS': '500'})
    s.wait_ready(timeout=90)
    yield s
    s.stop()

def test_worker_understands_the_first_part_when_the_service_limit_is_lower(stack, limited_service):
    base = stack['base']
    stack['start_worker']('--nlu-url', f'http://127.0.0.1:{limited_service.port}', '--app', 'demo')
    text = long_text(1000)
    mid = http('POST', f'{base}/v1/conversations/limited/messages', {'text': text})[1]['id']
    assert real_reply(replies(base, 'limited', 1, timeout=60), mid)
    assert limited_service.stop() == 0                         # drains the service's prediction log
    from chatbot.backends.logs import open_log_store
    rows = open_log_store(f"sqlite:///{limited_service.home/'logs.db'}").query(app='demo', limit=100)
    # refused (a POST: no query in the record), then the first 500 characters understood
    assert sorted((r['status'], len(r['query'] or '')) for r in rows) == [(200, 500), (400, 0)]
    assert 'understanding the first 500 of 1000' in (stack['home']/'worker0.log').read_text()

@pytest.fixture(scope='module')
def service(mini_model, tmp_path_factory):
    "`chatbot serve` over the mini model with the default limits, no keys."
    _, path = mini_model
    s = Server(['--model', str(path), '--no-log'], tmp_path_factory.mktemp('serve-long'))
    s.wait_ready()
    yield s
    s.stop()

def v3(query: str | None = None) -> str:
    path = '/luis/prediction/v3.0/apps/mini/slots/production/predict'
    return path + ('?' + urllib.parse.urlencode({'query': query}) if query is not None else '')

def test_a_long_korean_query_is_answered_by_get_and_post(service):
    "1,000 Hangul characters: 9,000 bytes of URL (over gunicorn's default request line), under the limit."
    query = long_text(1000, '운동화를 장바구니에 담아줘 ')
    status, body, _ = service.call('GET', v3(query))
    assert status == 200 and body['query'] == query and body['prediction']['topIntent']
    status, body, _ = service.call('POST', v3(), {'query': query})
    assert status == 200 and body['query'] == query
    status, body, _ = service.call('POST', '/v1/apps/mini/predict', {'text': '가' * 2000})
    assert status == 200 and len(body['text']) == 2000

@pytest.mark.parametrize('method,path,body,field', [
    ('GET', v3('가' * 2001), None, 'query'),
    ('POST', v3(), {'query': 'x' * 2001}, 'query'),
    ('POST', '/v1/apps/mini/predict', {'text': '가' * 2001}, 'text'),
    ('GET', '/luis/v2.0/apps/mini?q=' + urllib.parse.quote('가' * 2001), None, 'q')])
def test_queries_over_the_limit_get_json_naming_the_field_and_the_limit(service, method, path, body, field):
    status, resp, headers = service.call(method, path, body)
    assert status == 400 and headers['Content-Type'].startswith('application/json'), (status, resp)
    assert resp['error'] == {'code': 'QueryTooLong', 'target': field,
                             'message': f"'{field}' is 2,001 characters; the limit is 2000"}

def test_a_very_long_get_line_gets_json_not_gunicorns_page(service):
    "A request line of ~180 KB (20,000 Hangul characters): Flask answers it in JSON, not gunicorn's HTML 414."
    status, resp, headers = service.call('GET', v3('가' * 20_000))
    assert status == 400 and headers['Content-Type'].startswith('application/json')
    assert resp['error']['code'] == 'QueryTooLong'
    assert service.call('GET', '/healthz')[0] == 200
