"""The web chat page that `chatbot gateway` serves at `/`, driven in headless Chromium (Debian's `chromium` package through
Playwright, no browser download): a Korean slot-filling conversation and an English question with replies appearing
without a reload, HTML shown as text, and the user id kept across visits. Screenshots go to `tests/artifacts/` (or
`$CHATBOT_TEST_ARTIFACTS`)."""
import re
import pytest

from test_gateway import stack, http  # noqa: F401  (`stack`: gateway + worker processes, see tests/test_gateway.py)

def send(page, text):
    "Type `text` into the message box and submit the form with Enter, as a user would."
    page.locator('#text').fill(text)
    page.locator('#text').press('Enter')

def test_web_chat_conversation_without_reload(page, stack):
    from playwright.sync_api import expect
    stack['start_worker']()
    navigations = []
    page.on('framenavigated', lambda f: f.parent_frame is None and navigations.append(f.url))
    page.goto(stack['base'] + '/')
    expect(page).to_have_title('chatbot')
    page.evaluate('window.__sameDocument = "yes"')               # lost if the page ever reloads
    page.locator('#user').fill('web-kim')
    page.locator('#user').dispatch_event('change')
    msgs = page.locator('#log .msg')

    send(page, '주문하고 싶어요')
    expect(page.locator('#text')).to_have_value('')
    expect(msgs).to_have_text(['주문하고 싶어요', '어떤 상품을 주문하시겠어요?'], timeout=90_000)   # the worker loads its model first
    expect(msgs.nth(0)).to_have_class(re.compile(r'\binbound\b'))
    expect(msgs.nth(1)).to_have_class(re.compile(r'\boutbound\b'))

    send(page, '나이키 운동화 두 개요')
    expect(msgs.nth(3)).to_have_text(re.compile('^어느 매장에서 받으시겠어요?'))       # the pickup store is still missing
    send(page, '강남점에서 받을게요')
    expect(msgs.nth(5)).to_have_text('강남점에서 나이키 운동화 두 개 주문할까요?')
    send(page, '네')
    expect(msgs.nth(7)).to_have_text(re.compile('^주문을 접수했어요: 강남점 픽업, 나이키 운동화 두 개'))

    send(page, 'where is the Gangnam store?')
    expect(page.locator('#log .msg.outbound')).to_have_count(5)
    expect(msgs.nth(9)).to_have_text('Gangnam: 123 Teheran-ro, Gangnam-gu, Seoul')
    expect(page.locator('#log .msg.inbound')).to_have_count(5)   # nothing shown twice

    assert page.evaluate('window.__sameDocument') == 'yes' and len(navigations) == 1, navigations
    assert page.evaluate("localStorage.getItem('chatbot-user')") == 'web-kim'
    status, history = http('GET', stack['base'] + '/v1/conversations/web-kim/messages?channel=web')   # the page's channel is 'web'
    assert status == 200 and [m['text'] for m in history] == msgs.all_inner_texts()
    assert http('GET', stack['base'] + '/v1/conversations/web-kim/messages')[1] == []                 # ... not 'rest'
    assert not page.js_errors, page.js_errors

def test_web_chat_shows_html_as_text_and_remembers_the_user(page, stack):
    "No worker needed: the gateway records inbound messages itself."
    from playwright.sync_api import expect
    page.goto(stack['base'] + '/')
    expect(page.locator('#user')).to_have_value(re.compile(r'^web-[0-9a-z]+$'))   # a random id on a first visit
    page.locator('#user').fill('web-html')
    page.locator('#user').dispatch_event('change')
    evil = '<img src=x onerror="window.__xss=1"><b>굵게</b> & 끝'
    send(page, evil)
    expect(page.locator('#log .msg.inbound')).to_have_text([evil])
    assert page.locator('#log img, #log b').count() == 0 and page.evaluate('window.__xss') is None

    page.reload()                                                  # a later visit: same user, same history
    expect(page.locator('#user')).to_have_value('web-html')
    expect(page.locator('#log .msg.inbound')).to_have_text([evil])

    assert not page.js_errors, page.js_errors

def test_switching_users_mid_poll_shows_only_the_new_users_messages(page, stack):
    "A poll for user A answered after the switch to B must not end up in B's log (made certain by holding A's poll)."
    from playwright.sync_api import expect
    base = stack['base']
    for user, text in [('web-a', 'from a'), ('web-b', 'from b 1'), ('web-b', 'from b 2')]:
        assert http('POST', f'{base}/v1/conversations/{user}/messages?channel=web', {'text': text})[0] == 202
    held, hold = [], [False]
    page.route('**/v1/conversations/web-a/**', lambda route: held.append(route) if hold[0] else route.continue_())
    page.goto(base + '/')
    page.locator('#user').fill('web-a')
    page.locator('#user').dispatch_event('change')
    expect(page.locator('#log .msg')).to_have_text(['from a'])
    hold[0] = True
    with page.expect_request(lambda r: '/web-a/' in r.url):       # the next poll for web-a is kept waiting
        pass
    page.locator('#user').fill('web-b')
    page.locator('#user').dispatch_event('change')
    hold[0] = False
    with page.expect_response(lambda r: '/web-a/' in r.url):      # ... and answered only after the switch
        for route in held: route.continue_()
    for _ in range(3):                                             # later polls for web-b have come back and been shown
        with page.expect_response(lambda r: '/web-b/' in r.url): pass
    assert page.locator('#log .msg').all_inner_texts() == ['from b 1', 'from b 2']

def test_refused_message_stays_in_the_box_with_the_reason(page, stack):
    "A message the gateway refuses (over 2000 characters) is not lost: it stays typed, and the page says why."
    from playwright.sync_api import expect
    page.goto(stack['base'] + '/')
    page.evaluate("document.getElementById('text').removeAttribute('maxlength')")   # what an old page or a paste could send
    page.fill('#text', 'x' * 2001)
    page.press('#text', 'Enter')
    expect(page.locator('#err')).to_contain_text('Not sent: ')
    expect(page.locator('#err')).to_contain_text('the limit is 2000')
    expect(page.locator('#text')).to_have_value('x' * 2001)

def test_web_chat_works_with_gateway_keys_through_its_session_token(page, stack):
    "With `CHATBOT_GATEWAY_KEYS` set REST needs a key, and the page still chats, on its own token and conversation."
    import json
    from test_gateway import Proc, _ok
    from tests_util import free_port, wait_for
    from playwright.sync_api import expect
    stack['start_worker']()
    port = free_port()
    keyed = Proc(['gateway', '--port', str(port)], {**stack['env'], 'CHATBOT_GATEWAY_KEYS': 'web-test-key'}, stack['home'],
                 'gateway-keyed')                                   # the same queues and state as the stack's worker
    base = f'http://127.0.0.1:{port}'
    try:
        wait_for(lambda: _ok(base + '/healthz'))
        page.goto(base + '/')
        user = page.locator('#user').input_value()
        assert re.fullmatch(r'web-[0-9a-f]{12}', user) and page.locator('#user').get_attribute('readonly') is not None
        send(page, '주문하고 싶어요')
        expect(page.locator('#log .msg')).to_have_text(['주문하고 싶어요', '어떤 상품을 주문하시겠어요?'], timeout=90_000)
        assert http('GET', f'{base}/v1/conversations/{user}/messages?channel=web')[0] == 401      # no key, no token
        page.reload()                                               # the kept token: the same conversation
        expect(page.locator('#user')).to_have_value(user)
        expect(page.locator('#log .msg')).to_have_count(2)
        stale = json.loads(page.evaluate("localStorage.getItem('chatbot-session')"))
        stale['token'] = stale['token'][:-4] + 'AAAA'              # as if signed by an old secret
        page.evaluate(f"localStorage.setItem('chatbot-session', {json.dumps(json.dumps(stale))})")
        page.reload()                                               # refused: the page moves to its fresh session
        expect(page.locator('#user')).not_to_have_value(user)
        send(page, 'where is the Gangnam store?')
        expect(page.locator('#log .msg.outbound')).to_have_text(['Gangnam: 123 Teheran-ro, Gangnam-gu, Seoul'], timeout=30_000)
        assert not page.js_errors, page.js_errors
    finally: keyed.stop()
