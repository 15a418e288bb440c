"Integration tests of chatbot.nlu.formats on hand-written fixtures (tests/data/) and a slice of the shared benchmark data."
import json
from pathlib import Path

import pytest

from chatbot.nlu.app import App, AppValidationError, Entity, EntitySpan, Utterance
from chatbot.nlu.formats import (ExportReport, ImportReport, app_from_luis, app_from_rasa, app_to_luis, app_to_rasa, detect_format,
                             load_app, load_split, parse_rasa_example, save_app)

DATA = Path(__file__).parent/'data'
DATASETS = Path(__file__).resolve().parents[2]/'shared'/'datasets'


def canon(app: App) -> dict:
    "An app as a dict, entities and roles sorted: what round trips must preserve (entity order is not meaningful)."
    d = app.to_dict()
    d['entities'] = sorted(({**e, 'roles': sorted(e.get('roles', []))} for e in d['entities']), key=lambda e: e['name'])
    return d


def assert_spans_consistent(app: App):
    for u in app.utterances:
        for s in u.entities: assert u.text[s.start:s.end] == s.value, (u.text, s)
    app.validate()


def korean_app() -> App:
    "An app using every entity kind, roles, and Korean entities inside words."
    return App('cafe', culture='ko-kr', version='1.0', description='카페 주문 봇', intents=['OrderDrink', 'StoreHours'],
               entities=[Entity('store'), Entity('menu', roles=['main', 'extra']),
                         Entity('size', 'list', values=[{'canonical': 'tall', 'synonyms': ['톨', '작은 거']}, {'canonical': 'grande', 'synonyms': ['그란데']}]),
                         Entity('order_no', 'regex', pattern=r'[A-Z]-\d{4}')],
               utterances=[Utterance('강남점에서 아이스 아메리카노 두 잔', 'OrderDrink', [EntitySpan('store', 0, 3, '강남점'), EntitySpan('menu', 6, 15, '아이스 아메리카노', 'main')]),
                           Utterance('카페라떼랑 쿠키 주세요 🍪', 'OrderDrink', [EntitySpan('menu', 0, 4, '카페라떼', 'main'), EntitySpan('menu', 6, 8, '쿠키', 'extra')]),
                           Utterance('판교점은 몇 시에 문 닫아요?', 'StoreHours', [EntitySpan('store', 0, 3, '판교점')]),
                           Utterance('hello', 'None')])


# ---------------------------------------------------------------- LUIS

def test_luis_v7_export():
    app, rep = load_app(DATA/'luis_v7_pizza.json')
    assert isinstance(rep, ImportReport) and rep.format == 'luis'
    assert (app.name, app.version, app.culture) == ('Pizza app', '0.3', 'en-us') and app.description.startswith('Pizza ordering')
    assert app.intents == ['ConfirmOrder', 'ModifyOrder', 'None', 'OrderPizza', 'ProvideInfo']
    kinds = {e.name: e.kind for e in app.entities}
    assert kinds == {'Order': 'learned', 'Address': 'learned', 'CustomerName': 'learned', 'SizeList': 'list',
                     'OrderNumber': 'regex', 'number': 'prebuilt', 'datetimeV2': 'prebuilt', 'personName': 'prebuilt'}
    assert app.entity('Address').roles == ['Delivery', 'Billing'] and app.entity('datetimeV2').roles == ['DeliveryTime']
    assert app.entity('datetimeV2').prebuilt == 'datetime'
    assert app.entity('SizeList').values[2] == {'canonical': 'Large', 'synonyms': ['large', 'big', 'family size']}
    assert [p for p, _ in app.entity('Order').walk()] == ['Order', 'Order/FullPizzaWithModifiers', 'Order/FullPizzaWithModifiers/Quantity',
                                                          'Order/FullPizzaWithModifiers/Size', 'Order/FullPizzaWithModifiers/PizzaType']
    assert_spans_consistent(app)
    # inclusive endPos on a real example: "12 main street" is endPos 60, so chars 47..61; children nest in the label
    u = app.utterances[0]
    assert [(s.entity, s.start, s.end, s.value, s.role) for s in u.entities] == [
        ('Order', 7, 33, 'two large pepperoni pizzas', None), ('Address', 47, 61, '12 main street', 'Delivery')]
    assert [(d, s.entity, s.value) for d, s in u.entities[0].walk()][1:] == [
        (1, 'FullPizzaWithModifiers', 'two large pepperoni pizzas'), (2, 'Quantity', 'two'), (2, 'Size', 'large'), (2, 'PizzaType', 'pepperoni')]
    raw = json.loads((DATA/'luis_v7_pizza.json').read_text())['utterances'][0]['entities']
    assert next(l for l in raw if l['entity'] == 'Address')['endPos'] == 60
    assert [p.text for p in app.patterns] == ['i want to order {Order}[.]', 'deliver to {Address:Delivery}']
    assert app.phrase_lists[0].name == 'PizzaTypes' and app.intent_features['OrderPizza'][0].kind == 'phraselist'
    assert app.extra['luis']['settings'][0] == {'name': 'NormalizePunctuation', 'value': 'true'}
    assert rep.dropped == ['utterance labels of entities that are not learned here: number (prebuilt) x2, datetimeV2 (prebuilt) x1, '
                           'personName (prebuilt) x1']
    kept = '\n'.join(rep.kept)
    assert 'child entit' not in kept                   # children are learned and predicted now
    for what in ('personName', 'NormalizePunctuation=true'):
        assert what in kept, what
    for used in ('pattern', 'PizzaTypes', 'OrderPizza'):   # patterns are matched, phrase lists are model features
        assert used not in kept, used
    assert rep.imported == dict(intents=5, entities=8, utterances=7, labels=6, child_labels=7, patterns=2, phrase_lists=1)


def test_luis_v3_export_with_composites_and_model_features():
    app, rep = load_app(DATA/'luis_v3_travel.json', name='travel')
    assert app.name == 'travel' and app.version == '1.2'
    assert app.entity('Location').roles == ['Origin', 'Destination'] and app.entity('number').roles == ['Adults', 'Children']
    assert app.entity('Airline').kind == 'list' and app.entity('BookingRef').pattern == r'[A-Z]{2}\d{6}'
    assert app.entity('datetimeV2').prebuilt == 'datetime' and app.entity('geographyV2').kind == 'prebuilt'
    assert app.entity('EventName').kind == 'pattern.any' and app.phrase_lists[0].name == 'Cities'
    assert_spans_consistent(app)
    # the composite becomes a learned entity with children typed by the old children; its children's labels nest in it
    assert app.entity('FlightDetails').children == [Entity('Location', roles=['Origin', 'Destination'], instance_of='Location'),
                                                    Entity('datetimeV2', instance_of='datetimeV2')]
    top = app.utterances[0].entities
    assert [(s.entity, s.value) for s in top] == [('FlightDetails', 'from seoul to tokyo')]
    assert [(s.value, s.role) for s in top[0].children] == [('seoul', 'Origin'), ('tokyo', 'Destination')]
    assert any("'datetimeV2' (prebuilt) x1" in d or 'datetimeV2 (prebuilt) x1' in d for d in rep.dropped)
    assert not any('EventName' in k for k in rep.kept)   # its pattern fills it


def test_luis_v4_korean_inclusive_end():
    app, rep = load_app(DATA/'luis_v4_cafe_ko.json')
    assert app.culture == 'ko-kr' and app.name == '카페 주문'
    raw = json.loads((DATA/'luis_v4_cafe_ko.json').read_text())['utterances'][0]
    assert raw['entities'][0] == {'entity': 'Store', 'startPos': 0, 'endPos': 2}
    u = app.utterances[0]
    assert u.text == '강남점에서 아이스 아메리카노 두 잔 픽업할게요'
    assert (u.entities[0].start, u.entities[0].end, u.entities[0].value) == (0, 3, '강남점')
    assert u.text[u.entities[1].start:u.entities[1].end] == '아이스 아메리카노'
    assert_spans_consistent(app)
    assert app.phrase_lists[0].name == '메뉴' and len(app.phrase_lists[0].words) == 4


def test_luis_hierarchical_entities_become_roles():
    d = {'luis_schema_version': '2.1.0', 'name': 'old', 'versionId': '0.1', 'culture': 'en-us',
         'intents': [{'name': 'Fly'}], 'entities': [], 'bing_entities': ['number', 'temperature', 'keyPhrase'],
         'hierarchicals': [{'name': 'City', 'children': ['From', 'To']}],
         'utterances': [{'text': 'from rome to oslo', 'intent': 'Fly', 'entities': [
             {'entity': 'City::From', 'startPos': 5, 'endPos': 8}, {'entity': 'City::To', 'startPos': 13, 'endPos': 16}]}]}
    app, rep = app_from_luis(d)
    assert app.entity('City').roles == ['From', 'To'] and app.entity('number').kind == 'prebuilt'
    assert [(s.entity, s.role, s.value) for s in app.utterances[0].entities] == [('City', 'From', 'rome'), ('City', 'To', 'oslo')]
    assert any('hierarchical' in w for w in rep.warnings)
    assert app.entity('temperature').prebuilt == 'temperature' and app.entity('keyPhrase').kind == 'prebuilt'
    # temperature has a recognizer; keyPhrase came from LUIS's own models, so the report names it
    assert [k for k in rep.kept if 'prebuilt' in k] == [
        'prebuilt entities keyPhrase (keyPhrase) (LUIS found these with its own models; no recognizer here, '
        'so they find nothing)']


def test_luis_round_trip_is_lossless(tmp_path):
    app = korean_app()
    d, rep = app_to_luis(app)
    assert isinstance(rep, ExportReport) and rep.dropped == [] and d['luis_schema_version'] == '7.0.0'
    assert d['utterances'][0]['entities'][0] == {'entity': 'store', 'startPos': 0, 'endPos': 2, 'children': []}
    assert d['utterances'][1]['entities'][1] == {'entity': 'menu', 'startPos': 6, 'endPos': 7, 'children': [], 'role': 'extra'}
    back, rep2 = app_from_luis(d)
    assert canon(back) == canon(app) and rep2.dropped == []
    # through a file too, and a LUIS fixture survives export + import unchanged
    save_app(app, tmp_path/'cafe.json', 'luis')
    assert canon(load_app(tmp_path/'cafe.json')[0]) == canon(app)
    pizza = load_app(DATA/'luis_v7_pizza.json')[0]
    assert canon(app_from_luis(app_to_luis(pizza)[0])[0]) == canon(pizza)


def test_luis_prebuilt_names_are_mapped_on_export():
    app = App('p', entities=[Entity('datetime', 'prebuilt', roles=['start'], prebuilt='datetime'), Entity('phone', 'prebuilt', prebuilt='phone'),
                             Entity('amount', 'prebuilt', prebuilt='money')])
    d, rep = app_to_luis(app)
    assert d['prebuiltEntities'] == [{'name': 'datetimeV2', 'roles': ['start']}, {'name': 'phonenumber', 'roles': []}, {'name': 'money', 'roles': []}]
    assert any("'amount' is exported as LUIS's 'money'" in w for w in rep.warnings)


# ---------------------------------------------------------------- Rasa

def test_rasa_nlu_fixture():
    app, rep = load_app(DATA/'rasa_nlu.yml')
    assert rep.format == 'rasa' and app.name == 'rasa_nlu'
    assert app.intents == ['None', 'greet', 'book_flight', 'check_booking', 'order_pizza', 'nlu_fallback']
    assert app.entity('city').roles == ['departure', 'destination'] and app.entity('city').kind == 'learned'
    # lookups and regexes are features: of the labelled entity of the same name, else global
    assert [(p.name, p.kind, p.enabled_for_all) for p in app.phrase_lists] == [
        ('cabin', 'lookup', True), ('seat_class', 'lookup', False), ('booking_ref', 'regex', False), ('phone_number', 'regex', True)]
    assert app.entity('booking_ref').kind == 'learned' and app.entity('booking_ref').features[0].name == 'booking_ref'
    assert app.entity('phone_number') is None and app.entity('cabin') is None
    assert_spans_consistent(app)
    ko = next(u for u in app.utterances if u.text.startswith('인천'))
    assert ko.text == '인천에서 오사카까지 가는 비행기'
    assert [(s.start, s.end, s.value, s.role) for s in ko.entities] == [(0, 2, '인천', 'departure'), (5, 8, '오사카', 'destination')]
    assert app.synonyms == rep.synonyms == {'New York City': ['NYC', 'new york', 'the big apple'], 'economy': ['coach'], '2': ['two']}
    assert app.canonical_value('city', 'nyc') == 'New York City'
    dropped = '\n'.join(rep.dropped)
    for what in ("keys metadata", "group '1' of 'topping'", "1 extra label"):
        assert what in dropped, what
    # as extractors (Rasa's RegexEntityExtractor), the old reading: list and regex entities
    ext, rep = load_app(DATA/'rasa_nlu.yml', extractors=True)
    assert ext.entity('cabin').values == [{'canonical': 'economy', 'synonyms': ['coach']}, {'canonical': 'premium economy', 'synonyms': []},
                                          {'canonical': 'first class', 'synonyms': []}]
    assert ext.entity('phone_number').kind == 'regex' and ext.phrase_lists == []
    assert any("lookup 'seat_class'" in d for d in rep.dropped) and any("regex 'booking_ref'" in d for d in rep.dropped)


def test_rasa_round_trip_is_lossless():
    app = korean_app()
    text, rep = app_to_rasa(app)
    assert text.startswith('version: "3.1"\nnlu:\n') and '- [강남점](store)에서 [아이스 아메리카노]{"entity": "menu", "role": "main"} 두 잔' in text
    assert '- lookup: size' in text and '- synonym: grande' in text and '- regex: order_id' not in text and '- regex: order_no' in text
    assert rep.warnings == [] and any("culture 'ko-kr'" in x for x in rep.dropped)
    back, rep2 = app_from_rasa(text, 'cafe', extractors=True)   # list and regex entities come back as extractors
    by_intent = sorted(app.utterances, key=lambda u: app.intents.index(u.intent))  # Rasa groups examples by intent
    assert back.intents == app.intents and back.utterances == by_intent
    assert canon(back)['entities'] == canon(app)['entities'] and rep2.dropped == [] and rep2.synonyms == {}
    # and the fixture survives export + import, features and synonyms included
    nlu = load_app(DATA/'rasa_nlu.yml')[0]
    again = app_from_rasa(app_to_rasa(nlu)[0], nlu.name)[0]
    assert again.utterances == nlu.utterances and canon(again) == canon(nlu)


def test_rasa_reports_what_it_cannot_carry():
    app = korean_app()
    app.entities.append(Entity('number', 'prebuilt', prebuilt='number'))
    app.intents.append('Empty')
    app.utterances.append(Utterance('see [this](link) literally', 'OrderDrink'))
    text, rep = app_to_rasa(app)
    dropped = '\n'.join(rep.dropped)
    assert "prebuilt entity 'number'" in dropped and 'intents without utterances: Empty' in dropped
    assert any('will not read back the same' in w for w in rep.warnings)


def test_parse_rasa_example_shorthand_and_errors():
    assert parse_rasa_example('[two](num:2) [large](size)') == ('two large', [
        {'start': 0, 'end': 3, 'entity': 'num', 'value': 'two', 'canonical': '2'}, {'start': 4, 'end': 9, 'entity': 'size', 'value': 'large'}])
    with pytest.raises(ValueError, match='not valid JSON'): parse_rasa_example('[x]{"entity": nope}')
    bad = 'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - [x]{"entity": nope}\n'
    with pytest.raises(AppValidationError, match=r"nlu.yml: nlu item 1, intent 'a' example 1: annotation"): app_from_rasa(bad)


# ---------------------------------------------------------------- JSONL, folders, our JSON

def test_jsonl_round_trip_is_byte_identical(tmp_path):
    app = korean_app()
    save_app(app, tmp_path/'a.jsonl')
    first = (tmp_path/'a.jsonl').read_text(encoding='utf-8')
    assert '"강남점"' in first  # not \u-escaped
    back, rep = load_app(tmp_path/'a.jsonl', name='cafe')
    assert back.utterances == app.utterances and back.entity('menu').roles == ['extra', 'main']
    save_app(back, tmp_path/'b.jsonl')
    assert (tmp_path/'b.jsonl').read_text(encoding='utf-8') == first


def test_folder_with_splits(tmp_path):
    app = korean_app()
    rep = save_app(app, tmp_path, 'jsonl')
    assert rep.target == str(tmp_path/'train.jsonl') and any('size (list)' in x for x in rep.dropped)
    (tmp_path/'test.jsonl').write_text('{"text": "강남점 어디예요", "intent": "StoreHours", "entities": [{"start": 0, "end": 3, "entity": "store", "value": "강남점"}]}\n', encoding='utf-8')
    assert detect_format(tmp_path) == 'folder'
    loaded, rep = load_app(tmp_path)
    assert loaded.name == tmp_path.name and loaded.utterances == app.utterances and rep.format == 'folder'
    assert any('test.jsonl' in w for w in rep.warnings)
    assert load_split(tmp_path, 'test')[0].entities[0].value == '강남점' and load_split(tmp_path, 'valid') is None
    with pytest.raises(ValueError, match='split must be'): load_split(tmp_path, 'dev')


def test_our_json_app_file(tmp_path):
    app = korean_app()
    rep = save_app(app, tmp_path/'cafe.json')
    assert rep.format == 'json' and rep.dropped == []
    assert detect_format(tmp_path/'cafe.json') == 'json'
    back, rep = load_app(tmp_path/'cafe.json')
    assert back == app and rep.format == 'json'


@pytest.mark.skipif(not (DATASETS/'snips'/'train.jsonl').exists(), reason='shared benchmark data not present')
def test_snips_slice(tmp_path):
    lines = (DATASETS/'snips'/'train.jsonl').read_text(encoding='utf-8').splitlines(keepends=True)[:400]
    (tmp_path/'train.jsonl').write_text(''.join(lines), encoding='utf-8')
    app, rep = load_app(tmp_path, name='snips')
    assert_spans_consistent(app)
    assert len(app.utterances) + sum(int(w.split()[1]) for w in rep.warnings if w.startswith('removed')) == len(lines)
    assert {'PlayMusic', 'AddToPlaylist', 'RateBook'} <= set(app.intents) and 'artist' in app.learned_entities
    seen, expected = set(), []
    for l in lines:  # first occurrence of each text is kept, in order
        k = json.loads(l)['text'].strip().lower()
        if k not in seen: seen.add(k); expected.append(l)
    save_app(app, tmp_path/'out.jsonl')
    assert (tmp_path/'out.jsonl').read_text(encoding='utf-8') == ''.join(expected)
    assert len(load_split(tmp_path, 'train')) == len(lines)  # splits keep duplicates, for scoring


# ---------------------------------------------------------------- CSV

def test_csv_import_and_export(tmp_path):
    app, rep = load_app(DATA/'utterances.csv')
    assert [u.text for u in app.utterances][:3] == ['what are your opening hours', 'is the gangnam store open on sunday, or closed?', '강남점 몇 시에 열어요?']
    assert app.utterances[-1].intent == 'None' and set(app.intents) == {'None', 'StoreHours', 'OrderDrink', 'CancelOrder'}
    assert rep.dropped == ['columns source, notes (only text and intent are read)'] and 'line 9' in rep.warnings[0]
    rep = save_app(korean_app(), tmp_path/'out.csv')
    assert (tmp_path/'out.csv').read_text(encoding='utf-8').splitlines()[:2] == ['text,intent', '강남점에서 아이스 아메리카노 두 잔,OrderDrink']
    assert any('5 entity labels' in x for x in rep.dropped) and any('entity definitions' in x for x in rep.dropped)
    assert [u.text for u in load_app(tmp_path/'out.csv')[0].utterances] == [u.text for u in korean_app().utterances]


# ---------------------------------------------------------------- errors

def test_malformed_json_names_file_line_and_column(tmp_path):
    f = tmp_path/'broken.json'
    f.write_text('{\n  "luis_schema_version": "7.0.0",\n  "intents": [\n    {"name": "A"},,\n  ]\n}\n')
    with pytest.raises(AppValidationError, match=r'broken.json: line 4, column 19: invalid JSON'): load_app(f)


def test_bad_jsonl_line_and_span_out_of_range(tmp_path):
    f = tmp_path/'d.jsonl'
    f.write_text('{"text": "hi", "intent": "A", "entities": []}\n{"text": "x", "intent": \n'
                 '{"text": "book it", "intent": "A", "entities": [{"start": 5, "end": 12, "entity": "thing"}]}\n')
    with pytest.raises(AppValidationError) as e: load_app(f)
    assert e.value.problems[0].startswith(f'{f}: line 2, column') and 'invalid JSON' in e.value.problems[0]
    assert 'line 3: span 5..12' in e.value.problems[1] and 'outside the text' in e.value.problems[1]


def test_bad_yaml(tmp_path):
    f = tmp_path/'nlu.yml'
    f.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n   bad: [\n')
    with pytest.raises(AppValidationError, match=r'nlu.yml: line \d+, column \d+: invalid YAML'): load_app(f)


def test_luis_label_errors_are_collected():
    d = json.loads((DATA/'luis_v4_cafe_ko.json').read_text())
    d['utterances'][0]['entities'][0].update(startPos=3, endPos=1)
    d['utterances'][1]['entities'][0].update(endPos=99)
    d['utterances'][2]['intent'] = 'Refund'
    with pytest.raises(AppValidationError) as e: app_from_luis(d, source='cafe.json')
    p = e.value.problems
    assert len(p) == 2 and 'cafe.json: utterance 1' in p[0] and 'endPos 1 before startPos 3' in p[0]
    assert 'utterance 2' in p[1] and 'outside the text' in p[1] and 'inclusive' in p[1]
    d['utterances'][0]['entities'][0].update(startPos=0, endPos=2)
    d['utterances'][1]['entities'][0].update(endPos=2)
    d['utterances'][3]['entities'].append({'entity': 'Nowhere', 'startPos': 5, 'endPos': 5})
    with pytest.raises(AppValidationError) as e: app_from_luis(d, source='cafe.json')
    assert sorted(e.value.problems) == ["cafe.json: utterance 3 ('바닐라라떼를 그란데로 바꿔주세요'): unknown intent 'Refund'",
                                        "cafe.json: utterance 4 ('판교점은 몇 시에 문 닫아요?'): unknown entity 'Nowhere'"]


def test_csv_without_header_and_unknown_extension(tmp_path):
    f = tmp_path/'x.csv'
    f.write_text('hello,Greet\n')
    with pytest.raises(AppValidationError, match="x.csv: line 1: the header needs 'text' and 'intent'"): load_app(f)
    g = tmp_path/'x.txt'
    g.write_text('hello')
    with pytest.raises(ValueError, match='cannot tell the format'): load_app(g)
    with pytest.raises(FileNotFoundError): load_app(tmp_path/'missing.json')
