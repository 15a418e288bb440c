"""The Studio dashboard in a browser: create an app, add an intent, an entity and labelled utterances (a Korean span inside a
word); upload a LUIS export, see its report and import it; a bad upload says what is wrong and imports nothing. What the
page did is checked in the app store, with the admin recorded as the actor of every edit."""
import json
from pathlib import Path
import pytest
from playwright.sync_api import expect
from conftest import open_dashboard
from chatbot.admin.store import open_store

ACTOR = 'admin:kim'

def store_of(home: Path): return open_store('sqlite:///' + str(home/'apps.db'))

class Studio:
    "Drive the Studio's widgets by their CSS classes."
    def __init__(self, page, base):
        self.page, self.root = page, open_dashboard(page, base, 'studio')
    def tab(self, title): self.root.locator('.lm-TabBar-tab', has_text=title).click()
    def fill(self, cls, text): self.page.locator(f'.{cls} input').fill(text)
    def select(self, cls, label): self.page.locator(f'.{cls} select').select_option(label=label)
    def click(self, cls): self.page.locator(f'button.{cls}').click()
    def status(self, text): expect(self.page.locator('.studio-status')).to_contain_text(text)
    def upload(self, path):
        "Choose `path` in the FileUpload (its `<input type=file>` is not attached to the page, so through the file chooser)."
        with self.page.expect_file_chooser() as chooser: self.click('studio-upload')
        chooser.value.set_files(str(path))

DEVELOPER_WORDS = ('chatbot.', 'Widgets only', 'widgets only', 'Traceback', 'app store')

def page_text(page) -> str:
    "All text of the page, hidden tabs included (Voila hides code cells: only markdown and widgets are shown)."
    return page.locator('body').text_content()

def assert_admin_words(page, intro: str):
    "The intro `intro` is shown at the top and no developer wording is anywhere on the page."
    expect(page.locator('.jp-RenderedMarkdown').first).to_contain_text(intro)
    text = page_text(page)
    assert not [w for w in DEVELOPER_WORDS if w in text], [w for w in DEVELOPER_WORDS if w in text]

def app_counts(page, app: str) -> dict:
    "The numbers of `app`'s row in the Apps table."
    cells = page.locator('.studio-apps tbody tr', has_text=app).first.locator('td').all_text_contents()
    return dict(zip(('intents', 'entities', 'utterances'), map(int, cells[2:5])))

def expect_counts(page, app: str, **want):
    "Wait (without reloading) until `app`'s row shows the counts `want`."
    row = page.locator('.studio-apps tbody tr', has_text=app).first.locator('td')
    for i, k in enumerate(('intents', 'entities', 'utterances'), 2):
        if k in want: expect(row.nth(i)).to_have_text(str(want[k]))

def test_intro_and_apps_table_follow_edits(dashboards, page, tmp_path):
    "A first-time admin sees what the page is for and what to do; the Apps table counts follow each edit without a reload."
    s = Studio(page, dashboards(tmp_path/'home'))
    assert_admin_words(page, 'Edit what your bot understands')
    expect(page.locator('.studio-apps')).to_contain_text('No apps yet: create one below, or import a LUIS, Rasa, JSON or CSV file')
    s.tab('Intents'); expect(page.locator('.studio-intents')).to_contain_text('Choose an app at the top first')

    s.tab('Apps'); s.fill('studio-new-app', 'shop'); s.click('studio-create-app')
    s.status("created app 'shop'")
    expect_counts(page, 'shop', intents=1, entities=0, utterances=0)          # the None intent comes with every app
    s.tab('Intents'); s.fill('studio-new-intent', 'BuyProduct'); s.click('studio-add-intent')
    s.status("added intent 'BuyProduct'")
    expect_counts(page, 'shop', intents=2, utterances=0)
    s.tab('Entities'); s.fill('studio-entity-name', 'product'); s.click('studio-add-entity')
    s.status("added learned entity 'product'")
    expect_counts(page, 'shop', entities=1)
    s.tab('Utterances')
    expect(page.locator('.studio-utterance-intent select')).to_have_value('BuyProduct')   # the intent just added, not None
    for n, text in enumerate(('운동화 사고 싶어요', 'I want to buy shoes'), 1):
        s.fill('studio-utterance-text', text); s.click('studio-add-utterance')
        s.status(f"added '{text}' to intent 'BuyProduct'")
        expect_counts(page, 'shop', intents=2, entities=1, utterances=n)
    expect(page.locator('.studio-page')).to_contain_text('2 found')
    expect(page.locator('.studio-intents tbody tr', has_text='BuyProduct').locator('td').nth(1)).to_have_text('2')
    s.tab('Apps')
    assert app_counts(page, 'shop') == dict(intents=2, entities=1, utterances=2)
    expect(page.locator('.studio-apps')).to_be_visible()

    # an edit made elsewhere (e.g. accepted in the Review page) shows after a click on Refresh
    from chatbot.nlu.app import Utterance
    with store_of(tmp_path/'home') as st: st.add_utterances('shop', [Utterance('hello', 'None')], actor='admin:other')
    s.click('studio-refresh')
    expect_counts(page, 'shop', utterances=3)
    assert_admin_words(page, 'then train it in the Training page')
    assert not page.js_errors

def test_add_intent_entity_and_labelled_utterances(dashboards, page, tmp_path):
    home = tmp_path/'home'
    s = Studio(page, dashboards(home, CHATBOT_ADMIN_USER='kim'))
    s.fill('studio-new-app', 'shop'); s.click('studio-create-app')
    s.status("created app 'shop'")
    s.tab('Intents'); s.fill('studio-new-intent', 'BuyProduct'); s.click('studio-add-intent')
    s.status("added intent 'BuyProduct' to 'shop'")
    expect(page.locator('.studio-intents')).to_contain_text('BuyProduct')
    s.tab('Entities'); s.fill('studio-entity-name', 'product'); s.click('studio-add-entity')
    s.status("added learned entity 'product'")

    s.tab('Utterances')
    for text, fragment in (('나이키 운동화를 사고 싶어요', '운동화'), ('I want to buy sneakers', 'sneakers')):
        s.fill('studio-utterance-text', text)
        s.select('studio-utterance-intent', 'BuyProduct')
        s.fill('studio-span-fragment', fragment); s.select('studio-span-entity', 'product'); s.click('studio-add-span')
        expect(page.locator('.studio-span-preview mark')).to_have_text(fragment + 'product')
        s.click('studio-add-utterance')
        s.status(f"added '{text}' to intent 'BuyProduct' with {fragment}=product")
    expect(page.locator('.studio-page')).to_contain_text('2 found')
    expect(page.locator('.studio-utterance-list')).to_contain_text('나이키 운동화product를 사고 싶어요')

    # a fragment that is not in the text is refused with a message, not a traceback
    s.fill('studio-utterance-text', '가방 주세요'); s.fill('studio-span-fragment', '운동화'); s.click('studio-add-span')
    s.status("'운동화' does not occur in '가방 주세요'")
    assert 'Traceback' not in page.inner_text('body') and not page.js_errors

    # its reply, in both languages, goes to the rules file ($CHATBOT_HOME/rules.json without CHATBOT_RULES)
    # a reply whose slot may be empty is refused with what to do about it; with a default it is saved
    s.tab('Rules'); s.select('studio-rules-intent', 'BuyProduct')
    en, ko = page.locator('.studio-rules-en textarea'), page.locator('.studio-rules-ko textarea')
    en.fill('Ordering {product}.'); ko.fill('{product} 주문을 접수했어요.')
    s.click('studio-save-rules')
    s.status('uses {product}, which may have no value: give it a default')
    assert not (home/'rules.json').exists()
    en.fill('Ordering {product|your item}.'); ko.fill('[{product} ]주문을 접수했어요.')
    s.click('studio-save-rules')
    s.status("saved the reply rule of 'BuyProduct'")
    rules = json.loads((home/'rules.json').read_text(encoding='utf-8'))
    assert rules['intents']['BuyProduct'] == {'reply': {'en': 'Ordering {product|your item}.', 'ko': '[{product} ]주문을 접수했어요.'}}

    with store_of(home) as st:
        app = st.get_app('shop')
        assert app.intents == ['None', 'BuyProduct'] and app.culture == 'ko-kr'
        spans = {u.text: (u.intent, [(x.entity, x.start, x.end, x.value) for x in u.entities]) for u in app.utterances}
        assert spans == {'나이키 운동화를 사고 싶어요': ('BuyProduct', [('product', 4, 7, '운동화')]),
                         'I want to buy sneakers': ('BuyProduct', [('product', 14, 22, 'sneakers')])}
        changes = st.changes('shop')
        assert [c.action for c in reversed(changes)] == ['create_app', 'add_intent', 'add_entity', 'add_utterances', 'add_utterances']
        assert {c.actor for c in changes} == {ACTOR}

LUIS = {'luis_schema_version': '7.0.0', 'versionId': '0.2', 'name': 'travel', 'desc': '', 'culture': 'ko-kr',
        'intents': [{'name': 'BookFlight'}, {'name': 'None'}], 'entities': [{'name': 'city', 'roles': []}],
        'closedLists': [{'name': 'seat', 'subLists': [{'canonicalForm': 'window', 'list': ['창가']}], 'roles': []}],
        'prebuiltEntities': [{'name': 'number', 'roles': []}],
        'patterns': [{'pattern': 'fly to {city}', 'intent': 'BookFlight'}], 'settings': [{'name': 'NormalizeWordForm', 'value': 'true'}],
        'utterances': [{'text': '부산으로 가는 비행기 예약해줘', 'intent': 'BookFlight', 'entities': [{'entity': 'city', 'startPos': 0, 'endPos': 1}]},
                       {'text': 'book a flight to rome', 'intent': 'BookFlight', 'entities': [{'entity': 'city', 'startPos': 17, 'endPos': 20}]}]}

def test_upload_luis_file(dashboards, page, tmp_path):
    home, f = tmp_path/'home', tmp_path/'travel.json'
    f.write_text(json.dumps(LUIS, ensure_ascii=False), encoding='utf-8')
    s = Studio(page, dashboards(home, CHATBOT_ADMIN_USER='kim'))
    s.tab('Upload'); s.upload(f)
    s.status('read travel.json: check the preview, then import it')
    preview = page.locator('.studio-preview')
    expect(preview).to_contain_text('travel.json (LUIS JSON): app travel (ko-kr) with 2 intents, 3 entities, 2 utterances, 2 labels')
    expect(preview).to_contain_text('LUIS settings NormalizeWordForm=true (not applied)')   # kept, and said it is not used yet
    expect(preview.locator('mark').first).to_have_text('부산city')                # the first utterance, its label shown
    with store_of(home) as st: assert st.list_apps() == []                   # a preview stores nothing
    s.click('studio-import')
    s.status("imported: new: app 'travel': added 2 intents, 3 entities, 2 utterances")
    expect(page.locator('.studio-apps')).to_contain_text('travel')
    with store_of(home) as st:
        app = st.get_app('travel')
        assert [(e.name, e.kind) for e in app.entities] == [('city', 'learned'), ('seat', 'list'), ('number', 'prebuilt')]
        assert app.utterances[0].entities[0].value == '부산' and st.changes('travel')[0].actor == ACTOR
    kept = list((home/'files').iterdir())
    assert len(kept) == 1 and kept[0].name.endswith('-travel.json') and kept[0].read_bytes() == f.read_bytes()

def test_bad_upload_is_refused(dashboards, page, tmp_path):
    home, f = tmp_path/'home', tmp_path/'broken.json'
    f.write_text('{"luis_schema_version": "7.0.0",\n "intents": [,]}\n')
    s = Studio(page, dashboards(home))
    s.tab('Upload'); s.upload(f)
    s.status('broken.json cannot be imported, nothing was imported')
    s.status('broken.json: line 2, column 14: invalid JSON')
    expect(page.locator('.studio-preview')).to_contain_text('invalid JSON')
    expect(page.locator('button.studio-import')).to_be_disabled()
    assert 'Traceback' not in page.inner_text('body')
    with store_of(home) as st: assert st.list_apps() == [] and st.changes() == []

def test_uploads_can_be_kept_in_blob_storage(azurite, monkeypatch):
    "With CHATBOT_FILES_DIR=azure-blob://CONTAINER/PREFIX, uploads are kept as blobs (no browser needed for this part)."
    from azure.storage.blob import BlobServiceClient
    from chatbot.admin.core import Admin
    from chatbot.admin.studio import keep_upload
    from chatbot.config import Settings
    admin = Admin(Settings.from_env({'CHATBOT_FILES_DIR': 'azure-blob://uploads/studio', 'CHATBOT_HOME': '/nonexistent',
                                     'AZURE_STORAGE_CONNECTION_STRING': azurite.connection_string}))
    url = keep_upload(admin.files_dir, '../travel.json', b'{"x": 1}', connection_string=admin.settings.azure_connection_string)
    assert url.startswith('azure-blob://uploads/studio/') and url.endswith('-travel.json')
    blob = BlobServiceClient.from_connection_string(azurite.connection_string).get_blob_client('uploads', url[len('azure-blob://uploads/'):])
    assert blob.download_blob().readall() == b'{"x": 1}'
