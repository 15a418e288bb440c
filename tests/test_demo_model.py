"The bundled demo app, trained through the CLI as `make up` does, answers Korean and English."
import json, subprocess, sys, os
import pytest

@pytest.fixture(scope='module')
def demo_model(demo_model_path):
    from chatbot.nlu.predict import Predictor
    return Predictor.load(demo_model_path)

# Sentences written for this test, not copied from the demo data.
CASES = [
    ('강남점에서 나이키 운동화 두 켤레 주문하고 싶어요', 'OrderProduct'),
    ('주문번호 B12345678 배송 언제 와요?', 'TrackDelivery'),
    ('어제 산 가방 환불 받을 수 있나요', 'Refund'),
    ('명동점 몇 시에 문 닫아요?', 'StoreHours'),
    ('상담원이랑 통화하고 싶어요', 'TalkToHuman'),
    ('I would like to order two pairs of Nike sneakers', 'OrderProduct'),
    ('where is my package, order C98765432', 'TrackDelivery'),
    ('please cancel order D11223344', 'CancelOrder'),
    ('are there any discount coupons this week?', 'Coupons'),
    ('what time does the Jamsil store open on Sunday?', 'StoreHours'),
]

def test_demo_intents_in_both_languages(demo_model):
    got = [(t, demo_model.predict(t).top_intent) for t, _ in CASES]
    wrong = [(t, g, e) for (t, g), (_, e) in zip(got, CASES) if g != e]
    assert len(wrong) <= 1, wrong

def test_demo_entities_inside_korean_words(demo_model):
    p = demo_model.predict('강남점에서 나이키 운동화를 사고 싶어요')
    found = {(e.entity, e.text) for e in p.entities}
    assert ('store', '강남점') in found and ('brand', '나이키') in found and ('product', '운동화') in found
    store = next(e for e in p.entities if e.entity == 'store')
    assert store.resolution == {'values': ['Gangnam']} and (store.start, store.end) == (0, 3)

def test_demo_regex_and_prebuilt(demo_model):
    p = demo_model.predict('order A12345678 arrives tomorrow?')
    kinds = {(e.entity, e.kind) for e in p.entities}
    assert ('order_id', 'regex') in kinds and ('datetime', 'prebuilt') in kinds

OFF_DOMAIN = ['who won the football game yesterday', 'tell me a joke about cats', 'what is the capital of australia',
              'how do I fix my car engine', '오늘 서울 날씨 어때?', '비트코인 가격 알려줘', '파이썬 코딩 가르쳐 줘',
              '내일 축구 경기 몇 시야?']

def test_demo_out_of_scope(demo_model):
    "Most requests outside a department store's business get the None intent (each one is not guaranteed)."
    answers = {t: demo_model.predict(t).top_intent for t in OFF_DOMAIN}
    assert sum(a == 'None' for a in answers.values()) >= 5, answers
