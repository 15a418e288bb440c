"""Real apps (../shared/realworld/: LUIS 2.x-7.x exports, .lu files, a CLU project, a Rasa NLU file) and hand-made odd ones:
each imports without refusal, round-trips through its own format and the store with nothing lost, and a few train briefly."""
import json
from pathlib import Path

import pytest

from chatbot.admin.store import SQLiteAppStore
from chatbot.nlu.app import App, AppValidationError, Entity, EntitySpan
from chatbot.nlu.formats import (app_from_clu, app_from_lu, app_from_luis, app_from_rasa, app_to_clu, app_to_lu, app_to_luis,
                                 app_to_rasa, detect_format, load_app, save_app)

REAL = Path(__file__).resolve().parents[2]/'shared'/'realworld'
FILES = sorted(str(p.relative_to(REAL)) for p in REAL.rglob('*') if p.suffix in ('.json', '.lu', '.yml')) if REAL.exists() else []
needs_real = pytest.mark.skipif(not FILES, reason='../shared/realworld is not present')
WRITERS = {'luis': (app_to_luis, lambda d, n: app_from_luis(d, n)), 'lu': (app_to_lu, lambda t, n: app_from_lu(t, n)),
           'clu': (app_to_clu, lambda d, n: app_from_clu(d, n)), 'rasa': (app_to_rasa, lambda t, n: app_from_rasa(t, n))}


def labels(app: App) -> int:
    "Every label, nested ones included."
    return sum(1 for u in app.utterances for s in u.entities for _ in s.walk())


def own_round_trip(app: App, fmt: str) -> App:
    write, read = WRITERS[fmt]
    out, rep = write(app)
    return read(out, app.name)[0]


# ---------------------------------------------------------------- every real file

@needs_real
@pytest.mark.parametrize('name', FILES)
def test_real_file_imports_and_round_trips(name, tmp_path):
    app, rep = load_app(REAL/name)
    assert app.utterances and app.validate() is app
    assert not any('refus' in d for d in rep.dropped)
    # its own format: export then import gives the same app
    assert own_round_trip(app, rep.format).to_dict() == app.to_dict(), rep.format
    # the store keeps all of it
    with SQLiteAppStore(tmp_path/'apps.db') as store:
        store.create_app(app)
        assert store.get_app(app.name) == app
    # and a file written by save_app reads back the same
    ext = {'luis': '.json', 'clu': '.json', 'lu': '.lu', 'rasa': '.yml'}[rep.format]
    save_app(app, tmp_path/f'out{ext}', rep.format)
    assert detect_format(tmp_path/f'out{ext}') == rep.format
    assert load_app(tmp_path/f'out{ext}', name=app.name)[0] == app


@needs_real
def test_pizza_v7_keeps_its_machine_learned_structure():
    app, rep = load_app(REAL/'luis'/'Pizza_v7.json')
    assert labels(app) == 1286 and rep.imported['labels'] == 132 and rep.imported['child_labels'] == 1154
    order = app.entity('Order')
    assert [c.name for c in order.children] == ['FullPizzaWithModifiers', 'SideOrder']
    size = order.child('FullPizzaWithModifiers').child('Size')
    assert size.instance_of == 'SizeList' and order.child('FullPizzaWithModifiers').child('Quantity').instance_of == 'number'
    assert [f.name for f in order.features] == ['SideOrderDescriptor', 'Words That Come Before Pizza']
    assert app.intent_features['ModifyOrder'][0].name == 'Order' and app.intent_features['CancelOrder'][0].kind == 'phraselist'
    assert len(app.phrase_lists) == 5 and app.patterns[0].text == '{Order}'
    assert not any('pattern' in k for k in rep.kept) and any('UseAllTrainingData' in k for k in rep.kept)
    # to .lu and back: the same app, but for labels with a space at an edge, which .lu cannot carry (and says so)
    text, lrep = app_to_lu(app)
    back = app_from_lu(text, app.name)[0]
    assert any('4 labels with spaces at an edge' in w for w in lrep.warnings)
    edgy = {u.text for u in app.utterances if any(s.value != s.value.strip() for t in u.entities for _, s in t.walk())}
    key = lambda u: u.text   # noqa: E731 (.lu groups utterances by intent)
    assert len(edgy) == 3 and (sorted((u for u in back.utterances if u.text not in edgy), key=key)
                               == sorted((u for u in app.utterances if u.text not in edgy), key=key))
    assert back.entities == app.entities and back.phrase_lists == app.phrase_lists and back.patterns == app.patterns


@needs_real
def test_flight_booking_composites_become_from_and_to():
    app, rep = load_app(REAL/'luis'/'FlightBooking.json')
    assert app.entity('From').children == [Entity('Airport', instance_of='Airport')] and app.entity('Airport').kind == 'list'
    u = next(u for u in app.utterances if u.text == 'book flight from london to paris on feb 14th')
    assert [(s.entity, s.value) for s in u.entities] == [('From', 'london'), ('To', 'paris')]
    assert app.entity('datetimeV2').prebuilt == 'datetime'


@needs_real
def test_lu_patterns_pattern_any_and_nested_labels():
    app, rep = load_app(REAL/'lu'/'HomeAutomation.lu')
    assert app.name == 'Home Automation' and len(app.patterns) == 7
    assert {p.text for p in app.patterns} >= {'{Device_PatternAny} off [please]', 'turn on {Device_PatternAny} in {Room_PatternAny}'}
    assert app.entity('Device_PatternAny').kind == 'pattern.any' and app.entity('Operation').values[0]['canonical'] == 'off'
    pizza, _ = load_app(REAL/'lu'/'pizza-tutorials-with-entities.lu')
    assert pizza.entity('Order').children == [Entity('Size', features=[pizza.entity('Order').children[0].features[0]]),
                                              Entity('Quantity', instance_of='number')]
    assert pizza.entity('Order').children[0].features[0].kind == 'phraselist'
    assert pizza.phrase_lists[0].interchangeable and pizza.phrase_lists[0].words[:2] == ['small', 'medium']


@needs_real
def test_clu_project():
    app, rep = load_app(REAL/'clu'/'BasicAssistantCLU.json')
    assert rep.format == 'clu' and app.name == 'BasicAssistantCLU' and {u.dataset for u in app.utterances} == {'Train'}
    assert app.extra['clu']['metadata']['settings'] == {'confidenceThreshold': 0, 'normalizeCasing': False}


@needs_real
def test_financial_demo_rasa():
    app, rep = load_app(REAL/'rasa'/'financial-demo-nlu.yml')
    assert any('contradicts' in d for d in rep.dropped)
    assert app.canonical_value('account_type', 'credit card') == 'credit' and app.canonical_value('x', 'Full') == 'current balance'
    spans = [s for u in app.utterances for s in u.entities if s.value == 'credit card']
    assert any(s.canonical == 'credit' for s in spans) and app.synonyms['credit'][0] == 'credit card'
    with pytest.raises(AppValidationError, match='duplicate of'): load_app(REAL/'rasa'/'financial-demo-nlu.yml', strict=True)


# ---------------------------------------------------------------- training, briefly

@needs_real
def test_financial_demo_synonyms_come_back_canonical_on_model_parse(tmp_path):
    "As Rasa's EntitySynonymMapper: the span stays 'credit card', the value is the canonical 'credit'."
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import save_model
    from chatbot.nlu.train import train_app
    from chatbot.service.serve import create_app
    app, _ = load_app(REAL/'rasa'/'financial-demo-nlu.yml')
    trained = train_app(app, hp=HParams(epochs=8), progress=False)
    save_model(trained, tmp_path/'m', app)
    service = create_app(dict(MODEL=str(tmp_path/'m'), LOG=False))
    try:
        body = service.test_client().post('/model/parse', json={'text': 'I want to pay my credit card bill'}).json
    finally: service.extensions['chatbot.host'].stop()
    ent = next(e for e in body['entities'] if e['entity'] == 'account_type')
    assert body['intent']['name'] == 'pay_cc'
    assert (body['text'][ent['start']:ent['end']], ent['value']) == ('credit card', 'credit')
    assert ent['processors'] == ['EntitySynonymMapper']


@needs_real
@pytest.mark.parametrize('name', ['luis/FlightBooking.json', 'lu/pizza-tutorials-with-entities.lu'])
def test_real_apps_train_and_predict(name, tmp_path):
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import Predictor, save_model
    from chatbot.nlu.train import train_app
    app, _ = load_app(REAL/name)
    trained = train_app(app, hp=HParams(epochs=2), progress=False)
    save_model(trained, tmp_path/'m', app)
    p = Predictor.load(tmp_path/'m').predict('book a flight from paris to berlin')
    assert p.top_intent in app.intents


@needs_real
def test_app_whose_none_intent_is_empty_trains_and_matches_its_patterns(tmp_path):
    "HomeAutomation.lu has examples of ControlDevice only: training adds generic None sentences, and its patterns fill pattern.any."
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import Predictor, save_model
    from chatbot.nlu.train import train_app
    app, _ = load_app(REAL/'lu'/'HomeAutomation.lu')
    assert {u.intent for u in app.utterances} == {'ControlDevice'}
    trained = train_app(app, hp=HParams(epochs=10), progress=False)
    assert trained.info['generic_none'] > 50
    pred = Predictor.load(save_model(trained, tmp_path/'m', app))
    own = [pred.predict(u.text).top_intent for u in app.utterances]
    assert own.count('ControlDevice') >= 0.9 * len(own), own
    unrelated = ['who is the president of france', 'I want to order a large pizza', 'how do I reset my password',
                 'what time does the bakery open on sunday', 'my sister lives in canada', 'is it going to snow tomorrow']
    answers = [pred.predict(t).top_intent for t in unrelated]
    assert answers.count('None') >= 5, answers
    p = pred.predict('The coffee maker in the garage on, please!')
    assert (p.top_intent, p.score) == ('ControlDevice', pytest.approx(max(0.99, p.intents['ControlDevice'])))
    anys = {(e.entity, e.text) for e in p.entities if e.kind == 'pattern.any'}
    assert anys == {('Device_PatternAny', 'The coffee maker'), ('Room_PatternAny', 'the garage')}
    p = pred.predict('turn on the aquarium pump')
    assert p.top_intent == 'ControlDevice' and [(e.entity, e.text) for e in p.entities if e.kind == 'pattern.any'] == [
        ('Device_PatternAny', 'the aquarium pump')]


# ---------------------------------------------------------------- hand-made odd cases

DEEP = {'luis_schema_version': '7.0.0', 'name': '깊은 앱', 'versionId': '1', 'culture': 'ko-kr',
        'intents': [{'name': 'None', 'features': []}, {'name': 'Order', 'features': [{'modelName': 'Meal', 'isRequired': True}]},
                    {'name': 'Ask', 'features': []}],
        'entities': [{'name': 'Meal', 'roles': ['lunch', 'dinner'], 'features': [], 'children': [
            {'name': 'Dish', 'children': [{'name': 'Part', 'children': [{'name': 'Spice', 'instanceOf': 'Level', 'children': [],
                                                                           'features': [{'featureName': 'hot', 'isRequired': True}]}],
                                           'features': []}], 'features': []}]}],
        'closedLists': [{'name': 'Level', 'subLists': [{'canonicalForm': '매운', 'list': ['🌶️', 'hot']}], 'roles': []}],
        'prebuiltEntities': [{'name': 'number', 'roles': ['count', 'price']}, {'name': 'age', 'roles': []}],
        'phraselists': [{'name': 'hot', 'mode': False, 'words': '매운,hot', 'activated': True, 'enabledForAllModels': False}],
        'patternAnyEntities': [{'name': 'Anything', 'explicitList': ['a b'], 'roles': []}],
        'patterns': [{'pattern': '{Anything} 주세요 [빨리]', 'intent': 'Order'}, {'pattern': '{number:count} 개', 'intent': 'Order'}],
        'regex_entities': [], 'regex_features': [{'name': 'code', 'pattern': '[A-Z]{3}', 'activated': False}],
        'settings': [{'name': 'NormalizeDiacritics', 'value': 'true'}],
        'utterances': [{'text': '🍜 매운 라면 두 개 주세요', 'intent': 'Order', 'entities': [
            {'entity': 'Meal', 'role': 'lunch', 'startPos': 2, 'endPos': 6, 'children': [
                {'entity': 'Dish', 'startPos': 2, 'endPos': 6, 'children': [
                    {'entity': 'Part', 'startPos': 2, 'endPos': 3, 'children': [
                        {'entity': 'Spice', 'startPos': 2, 'endPos': 3, 'children': []}]}]}]}]},
            {'text': '뭐 있어요?', 'intent': 'Ask', 'entities': []}]}


def test_hand_made_deep_luis_app_goes_everywhere(tmp_path):
    app, rep = app_from_luis(json.loads(json.dumps(DEEP)), source='deep.json')
    u = app.utterances[0]
    assert [(d, s.entity, s.value) for d, s in u.entities[0].walk()] == [(0, 'Meal', '매운 라면'), (1, 'Dish', '매운 라면'),
                                                                         (2, 'Part', '매운'), (3, 'Spice', '매운')]
    assert app.entity('number').roles == ['count', 'price'] and app.entity('age').prebuilt == 'age'
    assert app.phrase_list('code').kind == 'regex' and not app.phrase_list('hot').interchangeable
    assert app.intent_features['Order'][0].required and not any('prebuilt' in k for k in rep.kept)  # age works
    assert own_round_trip(app, 'luis') == app
    lu = app_from_lu(app_to_lu(app)[0], app.name)[0]       # .lu has no required flag and no regex features
    assert lu.utterances == app.utterances and [p.text for p in lu.patterns] == [p.text for p in app.patterns]
    assert app_from_clu(app_to_clu(app)[0], app.name)[0].utterances[0].entities == [EntitySpan('Meal', 2, 7, '매운 라면')]
    with SQLiteAppStore(':memory:') as store:
        store.create_app(app)
        assert store.get_app(app.name) == app
        assert store.get_app(app.name).flat_utterances('leaf')[0].entities == [EntitySpan('Spice', 2, 4, '매운')]
    bad = json.loads(json.dumps(DEEP))
    bad['utterances'][0]['entities'][0]['children'][0]['entity'] = 'Part'
    with pytest.raises(AppValidationError, match=r"deep.json: utterance 1 .*'Part' is not a child of entity 'Meal'"):
        app_from_luis(bad, source='deep.json')


def test_hand_made_lu_project_with_references(tmp_path):
    (tmp_path/'shared.lu').write_text('@ prebuilt number hasRoles count\n@ list city =\n    - 서울 :\n        - seoul\n'
                                      '@ phraselist words(interchangeable) disabled =\n    - please,pls\n', encoding='utf-8')
    (tmp_path/'greet.lu').write_text('# Greet\n- hello\n- 안녕 😀\n\n# Empty\n', encoding='utf-8')
    (tmp_path/'main.lu').write_text(
        '> !# @app.name = trip\n> !# @app.settings.NormalizePunctuation = true\n[shared](./shared.lu)\n'
        '## Book\n- fly {@fromCity=seoul} to {@Trip:toCity=busan}\n- {@Trip={@Leg=seoul to busan} twice}\n'
        '- book {Trip:toCity} [please]\n- [greetings](./greet.lu#Greet)\n'
        '@ ml Trip hasRoles fromCity, toCity usesFeature words\n    - @ ml Leg\n@ composite Route = [city, number]\n'
        '@ regex code = /[A-Z]{2}\\d+/\n@ patternany Thing\n'
        '@ prebuilt number hasRoles count\n', encoding='utf-8')         # repeated from shared.lu, as Composer does
    assert detect_format(tmp_path/'main.lu') == 'lu'
    app, rep = load_app(tmp_path/'main.lu')
    assert app.name == 'trip' and app.intents == ['None', 'Book']    # a #fragment reference brings examples only
    assert [(u.text, u.intent) for u in app.utterances][-2:] == [('hello', 'Book'), ('안녕 😀', 'Book')]   # referenced into Book
    fly = app.utterances[0].entities
    assert [(s.entity, s.role, s.value) for s in fly] == [('Trip', 'fromCity', 'seoul'), ('Trip', 'toCity', 'busan')]
    assert app.entity('Trip').features[0].kind == 'phraselist' and not app.phrase_list('words').activated
    assert app.entity('Route').children[1].instance_of == 'number' and app.extra['luis']['settings'][0]['value'] == 'true'
    back = app_from_lu(app_to_lu(app)[0], app.name)[0]
    assert back == app
    # a whole folder of .lu files reads as one app (each file once)
    folder, _ = load_app(tmp_path)
    assert {u.text for u in folder.utterances} >= {u.text for u in app.utterances}
    (tmp_path/'bad.lu').write_text('## A\n- {@x=unclosed\n')
    with pytest.raises(AppValidationError, match=r'bad.lu: line 2: label \{@x=... is not closed'): load_app(tmp_path/'bad.lu')
    (tmp_path/'ref.lu').write_text('## A\n[x](./nowhere.lu)\n')
    with pytest.raises(AppValidationError, match=r"ref.lu: line 2: referenced file './nowhere.lu' does not exist"):
        load_app(tmp_path/'ref.lu')


def test_hand_made_clu_project():
    d = {'projectFileVersion': '2023-04-01', 'stringIndexType': 'Utf16CodeUnit',
         'metadata': {'projectKind': 'Conversation', 'projectName': 'café', 'language': 'fr-fr', 'settings': {'confidenceThreshold': 0.3}},
         'assets': {'projectKind': 'Conversation', 'intents': [{'category': 'None'}, {'category': 'Commander'}],
                    'entities': [{'category': 'Boisson', 'compositionSetting': 'combineComponents'},
                                 {'category': 'Taille', 'list': {'sublists': [{'listKey': 'grand', 'synonyms': [
                                     {'language': 'fr-fr', 'values': ['grande', 'XL']}]}]}},
                                 {'category': 'Nombre', 'prebuilts': [{'category': 'Quantity.Number'}]},
                                 {'category': 'Code', 'regex': {'expressions': [{'regexKey': 'c', 'language': 'fr-fr', 'regexPattern': '[0-9]{4}'}]}}],
                    'utterances': [{'text': '🍵 un café grande', 'intent': 'Commander', 'language': 'fr-fr', 'dataset': 'Train',
                                    'entities': [{'category': 'Boisson', 'offset': 6, 'length': 4}]},
                                   {'text': 'bonjour', 'intent': 'None', 'language': 'fr-fr', 'dataset': 'Test', 'entities': []}]}}
    app, rep = app_from_clu(d, source='cafe.json')
    assert app.utterances[0].entities == [EntitySpan('Boisson', 5, 9, 'café')]     # 🍵 is one code point, two UTF-16 units
    assert [(e.name, e.kind) for e in app.entities] == [('Boisson', 'learned'), ('Taille', 'list'), ('Nombre', 'prebuilt'), ('Code', 'regex')]
    assert any('marked Test' in k for k in rep.kept)
    assert app_to_clu(app)[0] == d
    bad = json.loads(json.dumps(d)); bad['assets']['utterances'][0]['entities'][0]['length'] = 'four'
    with pytest.raises(AppValidationError, match='cafe.json: malformed CLU project'): app_from_clu(bad, source='cafe.json')


def test_hand_made_rasa_project_folder(tmp_path):
    (tmp_path/'data').mkdir()
    (tmp_path/'domain.yml').write_text('version: "3.1"\nintents:\n- greet\n')
    (tmp_path/'data'/'nlu.yml').write_text(
        'version: "3.1"\nnlu:\n- intent: pay\n  examples: |\n    - pay my [visa]{"entity": "card", "value": "credit"}\n'
        '    - pay the [amex](card) bill\n    - hello\n- intent: greet\n  examples: |\n    - hello\n    - hi 👋\n', encoding='utf-8')
    (tmp_path/'data'/'lookups.yml').write_text('version: "3.1"\nnlu:\n- lookup: card\n  examples: |\n    - visa\n    - amex\n'
                                               '- regex: zip\n  examples: |\n    - \\d{5}\n- synonym: credit\n  examples: |\n    - credit card\n')
    assert detect_format(tmp_path) == 'rasa'
    app, rep = load_app(tmp_path)
    assert app.entity('card').features[0].name == 'card' and app.phrase_list('zip').enabled_for_all
    assert app.synonyms == {'credit': ['credit card', 'visa']} and app.canonical_value('card', 'VISA') == 'credit'
    assert any('contradicts' in d for d in rep.dropped) and any('domain.yml' in w for w in rep.warnings)
    assert [u.text for u in app.utterances] == ['pay my visa', 'pay the amex bill', 'hello', 'hi 👋']
    with pytest.raises(AppValidationError, match='duplicate of'): load_app(tmp_path, strict=True)
    ext, _ = load_app([tmp_path/'data'/'nlu.yml', tmp_path/'data'/'lookups.yml'], extractors=True)
    assert ext.entity('zip').kind == 'regex' and ext.entity('card').kind == 'learned'
    assert app_from_rasa(app_to_rasa(app)[0], app.name)[0] == app


def test_empty_and_bad_inputs(tmp_path):
    empty, rep = app_from_luis({'luis_schema_version': '7.0.0', 'intents': [], 'entities': [], 'utterances': [],
                                'phraselists': [], 'patterns': []}, source='empty.json')
    assert empty.intents == ['None'] and empty.utterances == [] and rep.kept == []
    assert app_from_lu('', 'e')[0].intents == ['None']
    with pytest.raises(AppValidationError, match=r"x.lu: line 1: cannot read entity definition"): app_from_lu('@\n', source='x.lu')
    with pytest.raises(AppValidationError, match=r"a.json: a CLU project export needs"): app_from_clu([], source='a.json')
    with pytest.raises(AppValidationError, match=r"expected a mapping with an 'nlu:' list"): app_from_rasa('- a\n', source='r.yml')


def test_dangling_references_are_dropped_not_refused():
    d = {'luis_schema_version': '7.0.0', 'intents': [{'name': 'A', 'features': [{'featureName': 'gone'}]}],
         'entities': [{'name': 'E', 'children': [{'name': 'C', 'instanceOf': 'Missing', 'children': [], 'features': []}],
                       'features': [{'modelName': 'Nobody'}], 'roles': []}],
         'patterns': [{'pattern': '{Ghost} now', 'intent': 'A'}, {'pattern': '{E} now', 'intent': 'Gone'}],
         'utterances': [{'text': 'hi there', 'intent': 'A', 'entities': [{'entity': 'E', 'startPos': 0, 'endPos': 1}]}]}
    app, rep = app_from_luis(d, source='odd.json')
    assert app.entity('E').features == [] and app.entity('E').children[0].instance_of is None and app.patterns == []
    assert len(rep.dropped) == 5 and app.intent_features == {}


def test_luis_schema_1x_reads_and_writes_as_7():
    d = {'luis_schema_version': '1.3.1', 'versionId': '0.1', 'name': 'old', 'desc': '', 'culture': 'en-us',
         'intents': [{'name': 'None'}, {'name': 'Weather'}, {'name': 'Greet'}], 'entities': [{'name': 'City'}],
         'composites': [], 'closedLists': [], 'bing_entities': ['datetime', 'number'],
         'actions': [{'actionName': 'x'}], 'regex_features': [{'name': 'zip', 'pattern': '[0-9]{5}', 'activated': True}],
         'model_features': [{'name': 'cities', 'mode': False, 'words': 'paris,rome', 'activated': True}],
         'utterances': [{'text': 'weather in rome', 'intent': 'Weather', 'entities': [{'entity': 'City', 'startPos': 11, 'endPos': 14}]},
                        {'text': 'hi', 'intent': 'Greet', 'entities': []}]}
    app, rep = app_from_luis(d, source='v1.json')
    assert [(e.name, e.kind, e.prebuilt) for e in app.entities] == [('City', 'learned', None), ('datetime', 'prebuilt', 'datetime'),
                                                                    ('number', 'prebuilt', 'number')]
    assert app.phrase_list('cities').words == ['paris', 'rome'] and app.phrase_list('zip').kind == 'regex'
    assert rep.dropped == ['LUIS keys actions (not read)']
    out, erep = app_to_luis(app)
    assert out['luis_schema_version'] == '7.0.0' and out['regex_features'] == [{'name': 'zip', 'pattern': '[0-9]{5}', 'activated': True}]
    assert [p['name'] for p in out['prebuiltEntities']] == ['datetimeV2', 'number']
    back = app_from_luis(out, 'old')[0]
    assert back.utterances == app.utterances and back.phrase_lists == app.phrase_lists


# ---------------------------------------------------------------- nested learned entities, trained and served

def _train_and_serve(app, tmp_path, epochs: int):
    "Train `app` briefly, save it, and serve it (a Flask test app; stop it with `_stop`)."
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import save_model
    from chatbot.nlu.train import train_app
    from chatbot.service.serve import create_app
    trained = train_app(app, hp=HParams(epochs=epochs), progress=False)   # as the studio and `chatbot train` do
    save_model(trained, tmp_path/'m', app)
    return create_app(dict(MODEL=str(tmp_path/'m'), LOG=False))


def _stop(service): service.extensions['chatbot.host'].stop()


def _v3(client, app: str, query: str) -> dict:
    import urllib.parse
    q = urllib.parse.urlencode(dict(query=query, verbose='true'))
    r = client.get(f'/luis/prediction/v3.0/apps/{urllib.parse.quote(app)}/slots/production/predict?{q}')
    assert r.status_code == 200, r.json
    return r.json['prediction']


@needs_real
def test_core_bot_sample_reads_from_and_to_airports(tmp_path):
    "FlightBooking.json, imported through the store, answers what Bot Framework's core-bot sample reads."
    import threading, uuid
    from werkzeug.serving import make_server
    with SQLiteAppStore(tmp_path/'apps.db') as store:
        store.create_app(load_app(REAL/'luis'/'FlightBooking.json')[0])
        app = store.get_app('FlightBooking')
    service = _train_and_serve(app, tmp_path, epochs=30)
    try:
        body = _v3(service.test_client(), app.name, 'book a flight from Paris to Berlin')
        ents = body['entities']
        # the JavaScript and C# samples: result.entities.$instance.From[0].text, result.entities.From[0].Airport[0][0]
        assert body['topIntent'] == 'BookFlight'
        assert (ents['$instance']['From'][0]['text'], ents['From'][0]['Airport'][0][0]) == ('Paris', 'Paris')
        assert (ents['$instance']['To'][0]['text'], ents['To'][0]['Airport'][0][0]) == ('Berlin', 'Berlin')
        assert 'Airport' not in ents                     # the airports answer inside From and To, as LUIS did
        v2 = service.test_client().get(f'/luis/v2.0/apps/{app.name}?q=book a flight from Paris to Berlin').json
        assert v2['compositeEntities'] == [
            {'parentType': 'From', 'value': 'paris', 'children': [{'type': 'Airport', 'value': 'paris'}]},
            {'parentType': 'To', 'value': 'berlin', 'children': [{'type': 'Airport', 'value': 'berlin'}]}]
        # the Python sample, through Bot Framework's own LUIS v3 recognizer over HTTP
        from botbuilder.ai.luis import LuisApplication, LuisRecognizer, LuisRecognizerOptionsV3
        from botbuilder.core import TurnContext
        from botbuilder.core.adapters import TestAdapter
        from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount
        from chatbot.service.serve import app_guid
        server = make_server('127.0.0.1', 0, service, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            recognizer = LuisRecognizer(LuisApplication(app_guid(app.name), str(uuid.uuid4()),
                                                        f'http://127.0.0.1:{server.server_port}'),
                                        LuisRecognizerOptionsV3(include_all_intents=True))
            act = Activity(type=ActivityTypes.message, text='book a flight from paris to london',
                           from_property=ChannelAccount(id='u'), recipient=ChannelAccount(id='bot'),
                           conversation=ConversationAccount(id='c'), channel_id='test', service_url='http://localhost')
            import asyncio, concurrent.futures
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                result = pool.submit(asyncio.run, recognizer.recognize(TurnContext(TestAdapter(), act))).result()
        finally: server.shutdown()
        # 13.core-bot/helpers/luis_helper.py, as written
        from_entities = result.entities.get('$instance', {}).get('From', [])
        assert from_entities and result.entities.get('From', [{'$instance': {}}])[0]['$instance']
        assert from_entities[0]['text'].capitalize() == 'Paris'
        assert result.entities['To'][0]['Airport'] == [['London']]
    finally: _stop(service)


@needs_real
def test_pizza_v7_order_comes_back_with_its_children(tmp_path):
    app, _ = load_app(REAL/'luis'/'Pizza_v7.json')
    service = _train_and_serve(app, tmp_path, epochs=25)
    training = json.loads((tmp_path/'m'/'manifest.json').read_text())['training']
    assert training['entity_swaps'] > len(app.utterances)   # its nested examples are copied with other values
    try:
        body = _v3(service.test_client(), app.name, 'i want two large pepperoni pizzas with extra cheese')
    finally: _stop(service)
    order = body['entities']['Order']
    assert len(order) == 1 and '$instance' in body['entities'] and '$instance' in order[0]
    pizzas = order[0]['FullPizzaWithModifiers']
    assert pizzas and {'PizzaType', 'Size', 'Quantity', '$instance'} <= set(pizzas[0])
    assert pizzas[0]['Size'] == [['Large']] and pizzas[0]['Quantity'] == [2]        # list and prebuilt instances
    assert pizzas[0]['$instance']['Size'][0]['type'] == 'SizeList'


def _itinerary_app() -> App:
    "A hand-made app: Itinerary > Leg > Place (roles Origin, Destination) and Day, three levels, two legs at most."
    import itertools, random
    from chatbot.nlu.app import Utterance
    rng = random.Random(3)
    cities, days = ['oslo', 'rome', 'lima', 'cairo', 'dublin', 'quito', 'seoul', 'perth'], ['monday', 'friday', 'sunday']
    one = ['fly from {o} to {d} on {day}', 'i need a ticket from {o} to {d} for {day}', 'from {o} to {d} on {day} please',
           'get me from {o} to {d} {day}', 'travel {day} from {o} to {d}']
    two = ['from {o} to {d} on {day} and back from {o2} to {d2} on {day2}',
           'fly {o} to {d} on {day} then {o2} to {d2} on {day2}']

    def labelled(template, vals):
        "The text and its Itinerary span with nested Leg, Place:role and Day spans."
        text, spans, pos = '', {}, 0
        for piece in __import__('re').split(r'(\{\w+\})', template):
            if piece.startswith('{'):
                key = piece[1:-1]
                spans[key] = (len(text), len(text) + len(vals[key]))
                text += vals[key]
            else: text += piece
        legs = []
        for sfx in ('', '2'):
            if 'o' + sfx not in spans: continue
            kids = sorted([EntitySpan('Place', *spans['o' + sfx], text[slice(*spans['o' + sfx])], 'Origin'),
                           EntitySpan('Place', *spans['d' + sfx], text[slice(*spans['d' + sfx])], 'Destination'),
                           EntitySpan('Day', *spans['day' + sfx], text[slice(*spans['day' + sfx])])], key=lambda s: s.start)
            s, e = kids[0].start, kids[-1].end
            legs.append(EntitySpan('Leg', s, e, text[s:e], children=kids))
        s, e = legs[0].start, legs[-1].end
        return Utterance(text, 'Travel', [EntitySpan('Itinerary', s, e, text[s:e], children=legs)])

    utts = []
    for t in one * 6 + two * 6:
        o, d, o2, d2 = rng.sample(cities, 4)
        utts.append(labelled(t, dict(o=o, d=d, o2=o2, d2=d2, day=rng.choice(days), day2=rng.choice(days))))
    utts += [Utterance(t, 'None') for t in ['hello', 'what is the weather like', 'thanks a lot', 'tell me a joke',
                                            'who are you', 'good morning', 'cancel that', 'how are you today',
                                            'what time is it', 'play some music', 'open the door', 'nice to meet you']]
    seen, unique = set(), []
    for u in utts:
        if u.text not in seen: seen.add(u.text); unique.append(u)
    app = App('itinerary', intents=['None', 'Travel'], utterances=unique, entities=[
        Entity('Itinerary', children=[Entity('Leg', children=[Entity('Place', roles=['Origin', 'Destination']),
                                                             Entity('Day')])])])
    return app.validate()


def test_hand_made_app_with_roles_and_three_levels_answers_nested(tmp_path):
    app = _itinerary_app()
    service = _train_and_serve(app, tmp_path, epochs=20)
    try:
        client = service.test_client()
        text = 'i need a ticket from perth to oslo for sunday and back from lima to seoul on monday'
        body = _v3(client, app.name, text)
        rasa = client.post('/model/parse', json={'text': 'fly from quito to cairo on friday'}).json
        native = client.post(f'/v1/apps/{app.name}/predict', json={'text': 'fly from quito to cairo on friday'}).json
    finally: _stop(service)
    legs = body['entities']['Itinerary'][0]['Leg']
    assert [(leg['Origin'], leg['Destination'], leg['Day']) for leg in legs] == [
        (['perth'], ['oslo'], ['sunday']), (['lima'], ['seoul'], ['monday'])]
    inst = body['entities']['Itinerary'][0]['Leg'][0]['$instance']
    assert (inst['Origin'][0]['role'], inst['Origin'][0]['type'], inst['Origin'][0]['startIndex']) == ('Origin', 'Place', 21)
    assert [(e['entity'], e.get('role'), e['value'], e.get('group')) for e in rasa['entities']] == [
        ('Itinerary', None, 'quito to cairo on friday', None), ('Leg', None, 'quito to cairo on friday', '1'),
        ('Place', 'Origin', 'quito', '2'), ('Place', 'Destination', 'cairo', '2'), ('Day', None, 'friday', '2')]
    leg = native['entities'][0]['children'][0]
    assert [(c['entity'], c.get('role'), c['text']) for c in leg['children']] == [
        ('Place', 'Origin', 'quito'), ('Place', 'Destination', 'cairo'), ('Day', None, 'friday')]


@needs_real
def test_real_apps_benchmark_sets_the_peers_beside_ours():
    """`bench/realworld_cv.py --peers` puts issue 17's baselines (TF-IDF + logistic regression, the CRF) on the same
    folds of a real app as our model, so "never behind them" can be read on data nobody tuned for."""
    import subprocess, sys
    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, 'bench/realworld_cv.py', '--apps', 'luis/FlightBooking.json', '--folds', '2',
                        '--hparams', '{"epochs": 1, "encoder": false}', '--peers'],
                       cwd=root, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [json.loads(x) for x in r.stdout.splitlines() if x.startswith('{')]
    ours, peers = rows
    assert ours['utterances'] == 27 and ours['with_entities'] == 13 and 0 <= ours['top_level_entity_f1'] <= 100
    assert 0 < peers['lr_intent_accuracy'] <= 100 and 0 <= peers['crf_entity_f1'] <= 100
    line = next(x for x in r.stdout.splitlines() if x.startswith('| luis/FlightBooking.json |'))
    cells = [c.strip() for c in line.strip('|').split('|')]
    assert cells[5] == f"{peers['lr_intent_accuracy']:.1f}%"
    assert cells[6] == f"{ours['top_level_entity_f1']:.1f}% / {peers['crf_entity_f1']:.1f}%"
