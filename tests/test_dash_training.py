"""The training dashboard end to end, in headless Chromium: start a run of a store app, watch it progress and finish,
publish and swap its version, and see a real inference service (`chatbot serve --registry`) answer with it; then a
second version goes live and is rolled back. The runner is the one `chatbot dashboard` starts."""
import json, subprocess, sys, urllib.error, urllib.request
import pytest
from conftest import ROOT, open_dashboard
from tests_util import free_port, wait_for

def predict(base, app, text, slot='production'):
    "The native prediction of the inference service, or the HTTP status when it refuses."
    req = urllib.request.Request(f'{base}/v1/apps/{app}/predict', json.dumps(dict(text=text, slot=slot)).encode(),
                                 {'Content-Type': 'application/json'}, method='POST')
    try: return json.loads(urllib.request.urlopen(req, timeout=10).read())
    except urllib.error.HTTPError as e: return e.code

@pytest.fixture
def inference(tmp_path):
    "Start `chatbot serve --registry` on the home's registry: `inference(home, log=False) -> base URL`."
    procs = []
    def start(home, log=False):
        port = free_port()
        env = {**__import__('os').environ, 'CHATBOT_HOME': str(home), 'TF_CPP_MIN_LOG_LEVEL': '2'}
        p = subprocess.Popen([sys.executable, '-m', 'chatbot.cli', 'serve', '--registry', str(home/'registry'), '--port', str(port)] + ([] if log else ['--no-log']),
                             env=env, cwd=ROOT, stdout=open(tmp_path/'serve.log', 'wb'), stderr=subprocess.STDOUT)
        procs.append(p)
        base = f'http://127.0.0.1:{port}'
        def ready():
            try: return urllib.request.urlopen(base + '/readyz', timeout=2).status == 200
            except OSError: return p.poll() is not None and pytest.fail((tmp_path/'serve.log').read_text()[-2000:])
        wait_for(ready, 60, what='inference service ready')
        return base
    yield start
    for p in procs: p.terminate(); p.wait(30)

def test_page_explains_itself_and_follows_new_apps(dashboards, page, tmp_path, mini_app):
    "Without training anything: the intro and the staging/production help are shown, no developer wording, and an app made in the Studio meanwhile shows up."
    from playwright.sync_api import expect
    from chatbot.nlu.app import App
    from chatbot.admin.store import open_store
    from test_dash_studio import assert_admin_words
    home = tmp_path/'home'
    home.mkdir()
    store = open_store(f"sqlite:///{home/'apps.db'}")
    store.create_app(mini_app)
    open_dashboard(page, dashboards(home), 'training')
    assert_admin_words(page, 'click Start training')
    expect(page.locator('.jp-RenderedMarkdown').first).to_contain_text('production, the version the chat answers with')
    expect(page.locator('.training-slots-help')).to_contain_text('production is the version the chat answers with')
    expect(page.locator('.training-runs')).to_contain_text('No runs yet: click Start training')
    store.create_app(App('travel', culture='en-us'))                      # as the Studio would, while the page is open
    expect(page.locator('.training-app select option', has_text='travel')).to_have_count(1, timeout=15_000)
    expect(page.locator('.training-app select')).to_have_value('mini')    # the choice stays
    assert not page.js_errors

def test_train_publish_swap_and_roll_back_in_the_browser(dashboards, inference, page, tmp_path, mini_app):
    from playwright.sync_api import expect
    from chatbot.admin.store import open_store
    home = tmp_path/'home'
    home.mkdir()
    store = open_store(f"sqlite:///{home/'apps.db'}")
    store.create_app(mini_app)
    base = dashboards(home)
    open_dashboard(page, base, 'training')
    expect(page.locator('.training-app select')).to_have_value('mini')

    page.locator('.training-epochs input').fill('4')
    page.locator('.training-start').click()
    expect(page.locator('.training-status')).to_contain_text('queued')
    newest = page.locator('.run-row').first
    # the table follows the run without a reload: running, then succeeded (auto-published to staging: production was empty)
    expect(newest.locator('.run-state')).to_have_text('running', timeout=60_000)
    expect(newest.locator('.run-state')).to_have_text('succeeded', timeout=240_000)
    expect(newest).to_contain_text('staging')
    expect(page.locator('.version-row .version-slots').first).to_have_text('staging')
    page.locator('.training-show-report').click()                       # the executed notebook, rendered
    report = page.frame_locator('.training-report iframe')
    expect(report.locator('body')).to_contain_text('Confusion matrix')
    expect(report.locator('body')).to_contain_text('intent accuracy')
    expect(page.locator('.training-log')).to_contain_text('"epoch": 4')  # the run log, one line per epoch

    api = inference(home)
    staged = predict(api, 'mini', '운동화 사고 싶어요', 'staging')
    assert staged['model_version'] == '1' and staged['intent'] == 'BuyProduct'
    assert predict(api, 'mini', 'hello') == 404          # nothing in production yet

    page.locator('.training-swap').click()
    expect(page.locator('.training-status')).to_contain_text('production is now 1')
    wait_for(lambda: isinstance(r := predict(api, 'mini', 'hello'), dict) and r['model_version'] == '1', 15, what='version 1 live in production')

    # a second run: version 2, published to production by hand, then rolled back to 1
    store.add_utterances('mini', [__import__('chatbot.nlu.app', fromlist=['Utterance']).Utterance('hi hi', 'Greeting')], actor='test')
    page.locator('.training-epochs input').fill('2')
    page.locator('.training-start').click()
    expect(page.locator('.run-row')).to_have_count(2)
    expect(page.locator('.run-row').first.locator('.run-state')).to_have_text('succeeded', timeout=240_000)
    expect(page.locator('.version-row')).to_have_count(2)
    page.locator('.training-version select').select_option('2')
    page.locator('.training-slot select').select_option('production')
    page.locator('.training-publish').click()
    expect(page.locator('.training-status')).to_contain_text('version 2 published to production')
    wait_for(lambda: predict(api, 'mini', 'hello')['model_version'] == '2', 15, what='version 2 live')
    page.locator('.training-rollback').click()
    expect(page.locator('.training-status')).to_contain_text('rolled back to version 1')
    wait_for(lambda: predict(api, 'mini', 'hello')['model_version'] == '1', 15, what='rolled back to version 1')
    page.locator('.training-compare').click()                           # version 1 against 2, intent by intent
    expect(page.locator('.training-comparison')).to_contain_text('intent accuracy')
    expect(page.locator('.training-comparison')).to_contain_text('F1 BuyProduct')
    expect(page.locator('.training-comparison tr').first).to_have_text('v1v2change')   # two different versions side by side

    from chatbot.nlu.registry import open_registry
    history = open_registry(home/'registry').history('mini')
    assert [h['action'] for h in history][-3:] == ['swap', 'publish', 'publish'] and history[-1]['actor'].startswith('admin:')
    assert page.js_errors == []
