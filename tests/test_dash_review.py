"""The review dashboard: logged low-confidence and disputed texts listed by group; correcting one and accepting a Korean one
through the page adds them to the app under the admin's name, and decided items do not come back."""
import time
import pytest
from playwright.sync_api import expect
from conftest import open_dashboard

T0 = time.time() - 3600

def seed(home):
    "An app `shop` and a log: a Korean text seen 3 times with low scores, a disputed text, and a `None` one."
    from chatbot.nlu.app import App, Entity, Utterance
    from chatbot.admin.store import open_store
    from chatbot.backends.logs import open_log_store
    with open_store('sqlite:///' + str(home/'apps.db')) as store:
        store.create_app(App('shop', culture='ko-kr', intents=['BuyProduct', 'FindStore', 'Greeting'], entities=[Entity('product')],
                             utterances=[Utterance('hello', 'Greeting')]))
    buy = [dict(entity='product', kind='learned', start=0, end=3, text='운동화', score=0.8)]
    def rec(i, q, intent, score, version='1', **kw):
        return dict(dict(ts=T0 + i, app='shop', query=q, top_intent=intent, score=score, model_version=version, status=200, route='luis.v3'), **kw)
    with open_log_store('sqlite:///' + str(home/'logs.db')) as logs:
        logs.append([rec(1, '운동화 주문할게요', 'BuyProduct', 0.41, entities=buy), rec(2, '운동화  주문할게요', 'BuyProduct', 0.45, entities=buy),
                     rec(3, '운동화 주문할게요', 'BuyProduct', 0.5, entities=buy), rec(4, 'where is the store', 'FindStore', 0.9),
                     rec(5, 'Where is the store', 'Greeting', 0.8, version='2'), rec(6, 'asdf', 'None', 0.2), rec(7, 'hello', 'Greeting', 0.3)])

def item(page, text):
    return page.locator('.review-item', has_text=text)

def wait_status(page, text):
    page.locator('.review-status', has_text=text).wait_for()

def test_label_a_review_item(dashboards, page, tmp_path):
    home = tmp_path/'home'
    home.mkdir()
    seed(home)
    base = dashboards(home, CHATBOT_ADMIN_USER='tester')
    open_dashboard(page, base, 'review')
    items = page.locator('.review-item')
    items.first.wait_for()
    from test_dash_studio import assert_admin_words
    assert_admin_words(page, 'Accept when the predicted intent is right')
    assert items.count() == 3                                     # 'hello' is already training data
    assert 'sentence(s) to review' in page.inner_text('.review-summary')
    assert '운동화 주문할게요' in items.first.inner_text()            # seen most often: first, and Korean shows as Korean
    item(page, 'asdf').locator('.review-intent select').select_option('Greeting')   # chosen, not decided yet
    disputed = item(page, 'where is the store')
    disputed.locator('.review-intent select').select_option('FindStore')
    disputed.locator('.review-correct').click()
    wait_status(page, 'as FindStore')
    expect(items).to_have_count(2); expect(page.locator('.review-summary')).to_contain_text('2 sentence(s) to review')  # at once
    expect(item(page, 'asdf').locator('.review-intent select')).to_have_value('Greeting')  # the list is reread, choices kept
    item(page, '운동화').locator('.review-accept').click()
    wait_status(page, '운동화 주문할게요')
    assert 'BuyProduct' in page.inner_text('.review-status')
    expect(items).to_have_count(1); expect(page.locator('.review-summary')).to_contain_text('1 sentence(s) to review')
    assert not page.js_errors

    from chatbot.admin.store import open_store
    with open_store('sqlite:///' + str(home/'apps.db')) as store:
        got = {u.text: (u.intent, [(e.entity, e.value) for e in u.entities]) for u in store.search_utterances('shop', limit=None)}
        changes = store.changes('shop', limit=2)
    assert got == {'hello': ('Greeting', []), 'Where is the store': ('FindStore', []), '운동화 주문할게요': ('BuyProduct', [('product', '운동화')])}
    assert [(c.actor, c.action) for c in changes] == [('admin:tester', 'add_utterances')] * 2

    page.reload()
    open_dashboard(page, base, 'review')
    page.locator('.review-item').first.wait_for()
    texts = page.locator('.review-item').all_inner_texts()
    assert len(texts) == 1 and 'asdf' in texts[0]
