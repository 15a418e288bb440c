"Table-driven checks of the deterministic recognizers (English and Korean) and their JSON round trip."
import json
from datetime import datetime
import pytest
from chatbot.nlu.app import Entity, AppValidationError, PREBUILT_TYPES
from chatbot.nlu.recognizers import Recognizers, Match

NOW = datetime(2026, 3, 5, 10, 0)  # a Thursday

ENTITIES = [
    Entity('store', 'list', values=[{'canonical': '강남점', 'synonyms': ['강남', '강남역점', 'Gangnam']},
                                    {'canonical': 'New York', 'synonyms': ['NYC', 'new york city']},
                                    {'canonical': 'cat', 'synonyms': []}]),
    Entity('size', 'list', values=[{'canonical': 'large', 'synonyms': ['big', '라지']}]),
    Entity('order_id', 'regex', pattern=r'ORD-\d{4}'),
    Entity('product'),  # learned: ignored by the recognizers
    *[Entity(t, 'prebuilt', prebuilt=t) for t in PREBUILT_TYPES],
]

@pytest.fixture(scope='module')
def rec(): return Recognizers(ENTITIES, 'en-us')

def _dt(typ, *values, timex=None):
    vals = [dict(timex=timex, **(v if isinstance(v, dict) else {'value': v})) for v in values]
    return {'type': typ, 'values': vals}

# (text, entity, span text, resolution); the span is found with text.index, so it must be its first occurrence
CASES = [
    # list entities
    ('강남점에서 픽업할게요', 'store', '강남점', {'values': ['강남점']}),
    ('강남역점으로 갈게요', 'store', '강남역점', {'values': ['강남점']}),
    ('pick up at GANGNAM please', 'store', 'GANGNAM', {'values': ['강남점']}),
    ('fly to New  York City', 'store', 'New  York City', {'values': ['New York']}),
    ('nyc.', 'store', 'nyc', {'values': ['New York']}),
    ('a big one', 'size', 'big', {'values': ['large']}),
    ('라지 사이즈로', 'size', '라지', {'values': ['large']}),
    # regex
    ('cancel ORD-1234 now', 'order_id', 'ORD-1234', None),
    # numbers
    ('I want 3 apples', 'number', '3', {'value': 3}),
    ('3.5 kilos', 'number', '3.5', {'value': 3.5}),
    ('1,200 people', 'number', '1,200', {'value': 1200}),
    ('twelve eggs', 'number', 'twelve', {'value': 12}),
    ('twenty five eggs', 'number', 'twenty five', {'value': 25}),
    ('twenty-five eggs', 'number', 'twenty-five', {'value': 25}),
    ('a dozen eggs', 'number', 'a dozen', {'value': 12}),
    ('one hundred and five', 'number', 'one hundred and five', {'value': 105}),
    ('세 개 주세요', 'number', '세', {'value': 3}),
    ('삼 인분', 'number', '삼', {'value': 3}),
    ('두 명이요', 'number', '두', {'value': 2}),
    ('하나만 주세요', 'number', '하나', {'value': 1}),
    ('열 개', 'number', '열', {'value': 10}),
    ('스무 살', 'number', '스무', {'value': 20}),
    ('스물다섯 개', 'number', '스물다섯', {'value': 25}),
    ('100개 주문', 'number', '100', {'value': 100}),
    ('2만 명', 'number', '2만', {'value': 20000}),
    ('이십오 명', 'number', '이십오', {'value': 25}),
    # ordinals
    ('the first one', 'ordinal', 'first', {'offset': 1, 'relativeTo': 'start'}),
    ('the 3rd item', 'ordinal', '3rd', {'offset': 3, 'relativeTo': 'start'}),
    ('the second item', 'ordinal', 'second', {'offset': 2, 'relativeTo': 'start'}),
    ('첫 번째 메뉴', 'ordinal', '첫 번째', {'offset': 1, 'relativeTo': 'start'}),
    ('두번째 거', 'ordinal', '두번째', {'offset': 2, 'relativeTo': 'start'}),
    ('3번째 줄', 'ordinal', '3번째', {'offset': 3, 'relativeTo': 'start'}),
    # dates and times (now = Thursday 2026-03-05 10:00)
    ('today', 'datetime', 'today', _dt('date', '2026-03-05', timex='2026-03-05')),
    ('see you tomorrow', 'datetime', 'tomorrow', _dt('date', '2026-03-06', timex='2026-03-06')),
    ('yesterday', 'datetime', 'yesterday', _dt('date', '2026-03-04', timex='2026-03-04')),
    ('next monday', 'datetime', 'next monday', _dt('date', '2026-03-09', timex='2026-03-09')),
    ('on Friday', 'datetime', 'Friday', _dt('date', '2026-02-27', '2026-03-06', timex='XXXX-WXX-5')),
    ('March 3', 'datetime', 'March 3', _dt('date', '2026-03-03', '2027-03-03', timex='XXXX-03-03')),
    ('3 march 2026', 'datetime', '3 march 2026', _dt('date', '2026-03-03', timex='2026-03-03')),
    ('due 2026-03-03', 'datetime', '2026-03-03', _dt('date', '2026-03-03', timex='2026-03-03')),
    ('due 03/04/2026', 'datetime', '03/04/2026', _dt('date', '2026-03-04', timex='2026-03-04')),
    ('at 5pm', 'datetime', '5pm', _dt('time', '17:00:00', timex='T17')),
    ('5:30 pm', 'datetime', '5:30 pm', _dt('time', '17:30:00', timex='T17:30')),
    ('tomorrow at 3pm', 'datetime', 'tomorrow at 3pm', _dt('datetime', '2026-03-06 15:00:00', timex='2026-03-06T15')),
    ('this weekend', 'datetime', 'this weekend', _dt('daterange', {'start': '2026-03-07', 'end': '2026-03-09'}, timex='2026-W10-WE')),
    ('next week', 'datetime', 'next week', _dt('daterange', {'start': '2026-03-09', 'end': '2026-03-16'}, timex='2026-W11')),
    ('in 3 days', 'datetime', 'in 3 days', _dt('date', '2026-03-08', timex='2026-03-08')),
    ('오늘 돼요?', 'datetime', '오늘', _dt('date', '2026-03-05', timex='2026-03-05')),
    ('내일 갈게요', 'datetime', '내일', _dt('date', '2026-03-06', timex='2026-03-06')),
    ('모레는요', 'datetime', '모레', _dt('date', '2026-03-07', timex='2026-03-07')),
    ('어제 주문했어요', 'datetime', '어제', _dt('date', '2026-03-04', timex='2026-03-04')),
    ('다음 주 월요일에', 'datetime', '다음 주 월요일', _dt('date', '2026-03-09', timex='2026-03-09')),
    ('이번 주 금요일', 'datetime', '이번 주 금요일', _dt('date', '2026-03-06', timex='2026-03-06')),
    ('3월 5일에', 'datetime', '3월 5일', _dt('date', '2026-03-05', timex='XXXX-03-05')),
    ('2026년 3월 5일', 'datetime', '2026년 3월 5일', _dt('date', '2026-03-05', timex='2026-03-05')),
    ('오후 3시에', 'datetime', '오후 3시', _dt('time', '15:00:00', timex='T15')),
    ('3시 반', 'datetime', '3시 반', _dt('time', '03:30:00', '15:30:00', timex='T03:30')),
    ('내일 오후 2시', 'datetime', '내일 오후 2시', _dt('datetime', '2026-03-06 14:00:00', timex='2026-03-06T14')),
    ('주말에 돼요?', 'datetime', '주말', _dt('daterange', {'start': '2026-03-07', 'end': '2026-03-09'}, timex='2026-W10-WE')),
    ('3일 후에', 'datetime', '3일 후', _dt('date', '2026-03-08', timex='2026-03-08')),
    # email, url, phone
    ('mail me at Kim@Example.com', 'email', 'Kim@Example.com', {'value': 'Kim@Example.com'}),
    ('see https://example.com/a?b=1.', 'url', 'https://example.com/a?b=1', {'value': 'https://example.com/a?b=1'}),
    ('www.naver.com에서 봤어요', 'url', 'www.naver.com', {'value': 'www.naver.com'}),
    ('call +82 10-1234-5678', 'phone', '+82 10-1234-5678', {'value': '+82 10-1234-5678'}),
    ('010-1234-5678로 연락', 'phone', '010-1234-5678', {'value': '010-1234-5678'}),
    ('call (555) 123-4567', 'phone', '(555) 123-4567', {'value': '(555) 123-4567'}),
    ('call 555-123-4567', 'phone', '555-123-4567', {'value': '555-123-4567'}),
    # money and percentages
    ('it costs $20', 'money', '$20', {'number': 20, 'units': 'Dollar'}),
    ('20 dollars', 'money', '20 dollars', {'number': 20, 'units': 'Dollar'}),
    ('15.50 USD', 'money', '15.50 USD', {'number': 15.5, 'units': 'United States dollar'}),
    ('€10', 'money', '€10', {'number': 10, 'units': 'Euro'}),
    ('30,000원이요', 'money', '30,000원', {'number': 30000, 'units': 'Won'}),
    ('3만원', 'money', '3만원', {'number': 30000, 'units': 'Won'}),
    ('5만 원', 'money', '5만 원', {'number': 50000, 'units': 'Won'}),
    ('₩10000', 'money', '₩10000', {'number': 10000, 'units': 'Won'}),
    ('20% off', 'percentage', '20%', {'value': 20}),
    ('20 percent', 'percentage', '20 percent', {'value': 20}),
    ('20 퍼센트 할인', 'percentage', '20 퍼센트', {'value': 20}),
    # ages, dimensions and temperatures (Recognizers-Text in English, ours in Korean)
    ('I am 25 years old', 'age', '25 years old', {'number': 25, 'units': 'Year'}),
    ('a 3 month old baby', 'age', '3 month old', {'number': 3, 'units': 'Month'}),
    ('스물다섯 살이에요', 'age', '스물다섯 살', {'number': 25, 'units': 'Year'}),
    ('a 5 km run', 'dimension', '5 km', {'number': 5, 'units': 'Kilometer'}),
    ('10 1/2 miles', 'dimension', '10 1/2 miles', {'number': 10.5, 'units': 'Mile'}),
    ('2 kg of apples', 'dimension', '2 kg', {'number': 2, 'units': 'Kilogram'}),
    ('3미터 남았어요', 'dimension', '3미터', {'number': 3, 'units': 'Meter'}),
    ('it is 72 degrees', 'temperature', '72 degrees', {'number': 72, 'units': 'Degree'}),
    ('set it to 68 fahrenheit', 'temperature', '68 fahrenheit', {'number': 68, 'units': 'F'}),
    ('-10 degrees outside', 'temperature', '-10 degrees', {'number': -10, 'units': 'Degree'}),
    ('내일은 영하 5도래요', 'temperature', '영하 5도', {'number': -5, 'units': 'Degree'}),
    ('섭씨 20도로 맞춰 줘', 'temperature', '섭씨 20도', {'number': 20, 'units': 'C'}),
]

@pytest.mark.parametrize('text,entity,span,resolution', CASES, ids=[f'{c[1]}:{c[0]}' for c in CASES])
def test_case(rec, text, entity, span, resolution):
    start = text.index(span)
    got = [m for m in rec(text, now=NOW) if m.entity == entity]
    hit = [m for m in got if (m.start, m.end) == (start, start + len(span))]
    assert hit, f'{entity} {span!r} at {start} not found in {[(m.start, m.end, m.text) for m in got]}'
    m = hit[0]
    assert m.text == text[m.start:m.end] == span and m.resolution == resolution and m.score == 1.0

# (text, entity) pairs that must give nothing
NEGATIVES = [
    ('category cats', 'store'), ('네 알겠습니다', 'number'), ('한국 세일 열어 주세요 천천히', 'number'), ('3rd', 'number'),
    ('2026-03-05', 'number'), ('010-1234-5678', 'number'), ('3시간 동안', 'datetime'), ('march 32', 'datetime'),
    ('firstly', 'ordinal'), ('a@b', 'email'), ('3 프로젝트', 'percentage'), ('hello there', 'datetime'),
    ('meet at 6 pm', 'dimension'), ('m', 'dimension'), ('3세트 주세요', 'age'), ('5 apples', 'dimension'),
    ('3도 주세요', 'temperature'),
]

@pytest.mark.parametrize('text,entity', NEGATIVES)
def test_negative(rec, text, entity):
    assert [m.text for m in rec(text, now=NOW) if m.entity == entity] == []

def test_kinds_order_and_subtypes(rec):
    ms = rec('Gangnam ORD-1234 3.5 and 3 on 2026-03-05', now=NOW)
    assert all((a.start, -a.end) <= (b.start, -b.end) for a, b in zip(ms, ms[1:]))
    assert {m.kind for m in ms} == {'list', 'regex', 'prebuilt'}
    subs = {(m.entity, m.text): m.subtype for m in ms}
    assert subs[('number', '3.5')] == 'decimal' and subs[('number', '3')] == 'integer'
    assert subs[('datetime', '2026-03-05')] == 'datetimeV2.date'

def test_money_keeps_inner_number(rec):
    ms = rec('$3', now=NOW)
    assert [(m.entity, m.start, m.end) for m in ms] == [('money', 0, 2), ('number', 1, 2)]

def test_entity_name_and_only_declared_types():
    r = Recognizers([Entity('quantity', 'prebuilt', prebuilt='number')])
    assert [(m.entity, m.text) for m in r('3 on tomorrow, $5', now=NOW)] == [('quantity', '3'), ('quantity', '5')]
    assert Recognizers([])('anything 3 tomorrow') == []

def test_culture_day_first():
    r = Recognizers([Entity('datetime', 'prebuilt', prebuilt='datetime')], 'en-gb')
    assert r('03/04/2026', now=NOW)[0].resolution['values'][0]['value'] == '2026-04-03'

def test_round_trip_gives_same_matches(rec):
    d = json.loads(json.dumps(rec.to_dict(), ensure_ascii=False))
    again = Recognizers.from_dict(d)
    assert again.to_dict() == rec.to_dict()
    for text, *_ in CASES + [(t, e) for t, e in NEGATIVES]:
        assert again(text, now=NOW) == rec(text, now=NOW)

def test_default_now_and_match_dict(rec):
    m = rec('today')[0]
    assert m.resolution['values'][0]['value'] == datetime.now().date().isoformat()
    assert Match(**{k: v for k, v in m.to_dict().items()}) == m

def test_invalid_definitions_are_reported():
    with pytest.raises(AppValidationError, match='does not compile'): Recognizers([Entity('x', 'regex', pattern='(')])
    with pytest.raises(AppValidationError, match='prebuilt type'): Recognizers([Entity('x', 'prebuilt', prebuilt='colour')])
    with pytest.raises(ValueError, match='JSON object'): Recognizers.from_dict([])


def test_units_in_a_long_text_keep_their_offsets_and_time():
    "Recognizers-Text reads long texts in pieces: every quantity is found, at its place, in linear time."
    import time
    r = Recognizers([Entity('dimension', 'prebuilt', prebuilt='dimension')])
    text = 'İ walked 5 km, then 3 miles. ' * 700          # 20,300 characters, İ lower-cases to two
    t = time.perf_counter()
    ms = r(text)
    assert time.perf_counter() - t < 10
    assert len(ms) == 1400 and all(text[m.start:m.end] == m.text for m in ms)
    assert {m.text for m in ms} == {'5 km', '3 miles'}
