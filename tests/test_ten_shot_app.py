"""How real apps start: a new app with ten example sentences per intent, made in the studio, trained and
published in the training dashboard, then talked to in the web chat (gateway + worker asking the inference
service). Each intent must answer sentences worded differently from its examples with its own reply, and a
question the app was never taught must not get any intent's reply. Before calibration such an app answered
`None` to most messages.

Reply rules live in one file per home, keyed by intent name, so the intents here are named unlike the demo's
(the demo's `CancelOrder` rule asks for an order number first, whatever app answers it)."""
import os
from conftest import open_dashboard
from test_dash_studio import Studio
from test_dash_training import inference  # noqa: F401  (`inference` is a fixture)
from test_first_day import chat, train_and_publish
from test_gateway import Proc
from tests_util import free_port, wait_for

APP = 'florist'
EXAMPLES = {
    'OrderFlowers': ['I want to order a bouquet', 'can I buy some roses', 'send flowers to my mom',
                     "I'd like to order flowers for delivery", 'order a dozen tulips please',
                     'buy a flower arrangement', 'I need a wedding bouquet',
                     'can you deliver lilies tomorrow', 'purchase sunflowers for my friend',
                     'get me a bunch of daisies'],
    'OpeningHours': ['when are you open', 'what time do you close today', 'are you open on sunday',
                     'opening hours please', 'what are your hours', 'is the shop open now',
                     'until when are you open tonight', 'do you open early on saturday',
                     'what time do you open', 'are you closed on holidays'],
    'PlantCare': ['how do I keep roses fresh', 'how often should I water my orchid',
                  'my tulips are wilting what do I do', 'how to care for a cactus', 'should I cut the stems',
                  'how much sun does a fern need', 'tips to make flowers last longer',
                  'can I put the plant outside', 'why are the leaves turning yellow',
                  'how do I repot a plant'],
    'CancelPurchase': ['cancel my order', 'I want to cancel the bouquet I ordered',
                       'please stop my delivery', 'can I cancel my purchase', 'I changed my mind, cancel it',
                       "don't send the flowers anymore", 'call off my order', 'how do I cancel an order',
                       'cancel the roses I bought yesterday', 'I no longer want the arrangement'],
}
REPLIES = {'OrderFlowers': 'Happy to! Which flowers, and where should we deliver them?',
           'OpeningHours': 'We are open 9:00-19:00, Monday to Saturday.',
           'PlantCare': 'Fresh water every two days and a clean cut on the stems keep them going.',
           'CancelPurchase': 'Your order is cancelled; the refund follows within three days.'}
# worded unlike any example: other verbs, other flowers, other sentence shapes
UNSEEN = [('could I get some orchids delivered to my sister on friday', 'OrderFlowers'),
          ('what time does the shop close on saturday', 'OpeningHours'),
          ('how can I make my peonies last', 'PlantCare'),
          ('please cancel the flowers I ordered', 'CancelPurchase')]
NEVER_TAUGHT = 'what is the capital of France'


def test_ten_examples_per_intent_answer_in_the_web_chat(dashboards, inference, page, tmp_path):
    home = tmp_path/'home'
    home.mkdir()
    base = dashboards(home)

    s = Studio(page, base)                                        # the app, its intents, examples and replies
    s.tab('Apps'); s.fill('studio-new-app', APP); s.click('studio-create-app')
    s.status(f"created app '{APP}'")
    for intent in EXAMPLES:
        s.tab('Intents'); s.fill('studio-new-intent', intent); s.click('studio-add-intent')
        s.status(f"added intent '{intent}'")
    s.tab('Utterances')
    for intent, texts in EXAMPLES.items():
        for text in texts:
            s.fill('studio-utterance-text', text); s.select('studio-utterance-intent', intent)
            s.click('studio-add-utterance')
            s.status(f"added {text!r} to intent '{intent}'")   # quoted as Python quotes it
    s.tab('Rules')
    for intent, reply in REPLIES.items():
        s.select('studio-rules-intent', intent)
        page.locator('.studio-rules-en textarea').fill(reply)
        s.click('studio-save-rules')
        s.status(f"saved the reply rule of '{intent}'")

    open_dashboard(page, base, 'training')                        # defaults, then publish to production
    page.locator('.training-app select').select_option(APP)
    train_and_publish(page, 600)

    api = inference(home)                                         # the web chat: gateway + worker on it
    env = dict(os.environ, CHATBOT_HOME=str(home), TF_CPP_MIN_LOG_LEVEL='2')
    port = free_port()
    procs = [Proc(['gateway', '--port', str(port)], env, tmp_path, 'gateway'),
             Proc(['worker', '--nlu-url', api, '--app', APP], env, tmp_path, 'worker')]
    try:
        chat_url = f'http://127.0.0.1:{port}/'
        def up():
            try: page.goto(chat_url); return True
            except Exception: return False
        wait_for(up, 60, every=0.5, what='the gateway serving the web chat')
        page.locator('#user').fill('web-florist'); page.locator('#user').dispatch_event('change')
        answered = [chat(page, text, n) for n, (text, _) in enumerate(UNSEEN)]
        assert answered == [REPLIES[intent] for _, intent in UNSEEN], [(w.read_text()[-1500:]) for w in
                                                                         (p.log for p in procs)]
        other = chat(page, NEVER_TAUGHT, len(UNSEEN))
        assert other.strip() and other not in REPLIES.values(), other
        assert page.js_errors == []
    finally:
        for p in procs: p.stop()
