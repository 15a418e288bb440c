"""The whole admin loop in one browser session, without a terminal: a new intent and its utterances in the studio, a
training run started and watched in the training dashboard, the version swapped into production, the inference service
answering with the new intent, and the traffic showing in the analytics dashboard."""
import pytest
from playwright.sync_api import expect
from conftest import open_dashboard
from test_dash_studio import Studio
from test_dash_training import inference, predict  # noqa: F401  (`inference` is a fixture)
from tests_util import wait_for

RETURNS = ['I want to return these shoes', 'how do I return an item', 'return my order please', 'can I send this back',
           'I need a refund for this bag', 'refund please', '환불하고 싶어요', '반품할게요', '이거 반품 어떻게 해요', '환불 받을 수 있나요']

def test_new_intent_to_published_model_and_its_charts(dashboards, inference, page, tmp_path, mini_app):
    from chatbot.admin.store import open_store
    home = tmp_path/'home'
    home.mkdir()
    open_store(f"sqlite:///{home/'apps.db'}").create_app(mini_app)
    base = dashboards(home, CHATBOT_ADMIN_USER='kim')

    s = Studio(page, base)
    s.select('studio-app', 'mini')
    s.tab('Intents'); s.fill('studio-new-intent', 'ReturnItem'); s.click('studio-add-intent')
    s.status("added intent 'ReturnItem'")
    s.tab('Utterances')
    for text in RETURNS:
        s.fill('studio-utterance-text', text); s.select('studio-utterance-intent', 'ReturnItem'); s.click('studio-add-utterance')
        s.status(f"added '{text}' to intent 'ReturnItem'")

    open_dashboard(page, base, 'training')
    expect(page.locator('.training-app select')).to_have_value('mini')
    page.locator('.training-epochs input').fill('12')
    page.locator('.training-start').click()
    expect(page.locator('.run-row').first.locator('.run-state')).to_have_text('succeeded', timeout=300_000)
    page.locator('.training-swap').click()
    expect(page.locator('.training-status')).to_contain_text('production is now 1')

    api = inference(home, log=True)
    answers = [predict(api, 'mini', t) for t in ('I would like to return this', '반품하고 싶어요', 'hello there')]
    assert [a['intent'] for a in answers] == ['ReturnItem', 'ReturnItem', 'Greeting'] and answers[0]['model_version'] == '1'

    root = open_dashboard(page, base, 'analytics')                # the three requests, logged by the service, in the charts
    total, status = root.locator('.analytics-total'), root.locator('.analytics-status')
    def shows_three():
        if 'Updated' not in status.inner_text(): return False
        if int(''.join(c for c in total.inner_text().split('\n')[0] if c.isdigit()) or 0) == 3: return True
        root.locator('.analytics-refresh').click()                  # the log writer may not have flushed yet
        return False
    wait_for(shows_three, 30, what='three logged requests in analytics')
    assert root.locator('.analytics-chart-intents img, img.analytics-chart-intents').first.get_attribute('src')
    assert page.js_errors == []
