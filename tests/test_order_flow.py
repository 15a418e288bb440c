"""The demo bot's order flow, played as whole conversations: the demo model trained by the CLI
(`demo_model_path`) understands, `chatbot.chat.rules` decides with the demo's reply rules and handlers. An order
asks for what is missing, confirms with every value it understood, and is placed only on a yes; a reply never
shows an empty slot."""
import re
import pytest

import chatbot.demo  # noqa: F401  (registers the demo's reply handlers)
from chatbot.demo import demo_app, demo_rules
from chatbot.chat.pipeline import local_nlu
from chatbot.chat.rules import decide, run_handler

HOLE = re.compile(r'  | × |[{}]|\(\)|^\s|\s$|\s[.,?:]')       # what an empty slot leaves behind
PLACED = re.compile(r"접수|주문번호는|order received|order number|(?<!haven't )ordered\b|put the order", re.I)
ORDER_NO = re.compile(r'A\d{8}')

@pytest.fixture(scope='module')
def chat(demo_model_path):
    "`chat(*messages) -> [(route, reply), ...]`, one user's conversation from an empty state."
    nlu, rules = local_nlu(demo_model_path), demo_rules()
    def run(*texts):
        state, out = {}, []
        for t in texts:
            d, state = decide(rules, nlu(t), state, t)
            out.append((d.route, run_handler(rules, d, state)))
        return out
    return run

def check(turns, yes_at=None):
    "No reply has a hole, and none claims an order before the turn `yes_at` (the user's yes)."
    for i, (route, text) in enumerate(turns):
        assert not HOLE.search(text), (i, text)
        if yes_at is None or i < yes_at:
            assert not PLACED.search(text) and route != 'place_order', (i, route, text)

def has_all(text, *parts):
    return all(p.lower() in text.lower() for p in parts)

def test_english_order_from_the_issue(chat):
    turns = chat("I'd like to buy two pairs of adidas running shoes at the Myeongdong store", 'yes')
    check(turns, yes_at=1)
    (route, ask), (done_route, done) = turns
    parts = ('running shoes', 'adidas', 'two pairs', 'Myeongdong')
    assert route == 'prompt' and ask.endswith('?') and has_all(ask, *parts), ask
    assert done_route == 'place_order' and has_all(done, *parts), done
    assert done.startswith('Order received') and ORDER_NO.search(done), done

def test_korean_order_from_the_issue(chat):
    turns = chat('강남점에서 나이키 운동화 2켤레 주문할게요', '네')
    check(turns, yes_at=1)
    assert turns[0] == ('prompt', '강남점에서 나이키 운동화 2켤레 주문할까요?')
    route, done = turns[1]
    assert route == 'place_order'
    assert re.fullmatch(r'주문을 접수했어요: 강남점 픽업, 나이키 운동화 2켤레\. 주문번호는 A\d{8}입니다\.', done), done

def test_no_orders_nothing(chat):
    turns = chat('강남점에서 나이키 운동화 2켤레 주문할게요', '아니요', '네')
    check(turns)                                     # the late "네" answers nothing: no order either
    assert turns[1] == ('prompt', '알겠어요, 주문하지 않았어요.')
    turns = chat("I'd like to buy two pairs of adidas running shoes at the Myeongdong store", 'no thanks')
    check(turns)
    assert turns[1] == ('prompt', "OK, I haven't ordered anything.")

def test_change_during_confirmation(chat):
    turns = chat('강남점에서 나이키 운동화 2켤레 주문할게요', '3켤레로 바꿔 주세요', '네')
    check(turns, yes_at=2)
    assert turns[1] == ('prompt', '강남점에서 나이키 운동화 3켤레 주문할까요?')
    assert '3켤레' in turns[2][1] and '2켤레' not in turns[2][1] and turns[2][0] == 'place_order'
    turns = chat('강남점에서 나이키 운동화 2켤레 주문할게요', '네 켤레로 해 주세요', '네')    # 네 켤레 is four pairs
    check(turns, yes_at=2)
    assert turns[1] == ('prompt', '강남점에서 나이키 운동화 네 켤레 주문할까요?') and '네 켤레' in turns[2][1]
    turns = chat('order 2 bottles of chanel perfume for pickup at the Jamsil store', 'make it three bottles',
                 'ok')
    check(turns, yes_at=2)
    assert has_all(turns[1][1], 'three bottles', 'Chanel', 'perfume', 'Jamsil'), turns
    assert '2 bottles' not in turns[1][1]
    assert turns[2][0] == 'place_order' and 'three bottles' in turns[2][1]

def test_product_only_asks_for_quantity_and_store(chat):
    turns = chat('운동화 주문할게요', '두 켤레요', '명동 본점이요', '네')
    check(turns, yes_at=3)
    assert [r for r, _ in turns] == ['prompt', 'prompt', 'prompt', 'place_order'], turns
    assert turns[0][1].startswith('운동화 몇 개') and '어느 매장' in turns[1][1]
    assert turns[2][1] == '명동 본점에서 운동화 두 켤레 주문할까요?'
    assert turns[3][1].startswith('주문을 접수했어요: 명동 본점 픽업, 운동화 두 켤레.')
    turns = chat('I want to order a Prada wallet', 'just one', 'the Pangyo store', 'nope')
    check(turns)
    assert 'How many' in turns[0][1] and 'Which store' in turns[1][1]
    assert turns[3][1] == "OK, I haven't ordered anything."
    assert has_all(turns[2][1], 'Prada', 'wallet', '(1)', 'Pangyo'), turns[2][1]

def test_another_intent_during_confirmation(chat):
    turns = chat('잠실점에서 애플 노트북 한 대 살게요', '잠실점 몇 시까지 해요?')
    check(turns)
    assert turns[0] == ('prompt', '잠실점에서 애플 노트북 한 대 주문할까요?') and turns[1][0] == 'store_hours'
    turns = chat("I'd like to buy two pairs of adidas running shoes at the Myeongdong store",
                 'ok where is my order A12345678?')
    check(turns)                                                # a yes beside another question places nothing
    assert turns[1][0] == 'order_status' and 'A12345678' in turns[1][1]

# Orders written for this test (not in the demo data), varying brands, products, stores, quantities and word
# order: (text, what the confirmation must show)
HELD_OUT = [
    ('대구점에서 뉴발란스 운동화 두 켤레 픽업 주문할게요', ['대구점', '뉴발란스', '운동화', '두 켤레']),
    ('디올 향수 2병 판교점 픽업으로 주문하고 싶어요', ['판교점', '디올', '향수', '2병']),
    ('구찌 핸드백 한 개 주문해 주세요 잠실점에서 받을게요', ['잠실점', '구찌', '핸드백', '한 개']),
    ('명동 본점에서 삼성 이어폰 3개 살게요', ['명동 본점', '삼성', '이어폰', '3개']),
    ('센텀점 픽업으로 자라 코트 두 벌 주문 부탁해요', ['센텀시티점', '자라', '코트', '두 벌']),
    ('Please order three pairs of nike slippers, I will collect them at the Jamsil store',
     ['Jamsil', 'Nike', 'slippers', 'three pairs']),
    ('I want to get 2 Samsung laptops from the Gangnam branch', ['Gangnam', 'Samsung', 'laptops', '2']),
    ("for pickup at the Pangyo store, I'd like 4 tubes of innisfree sunscreen",
     ['Pangyo', 'Innisfree', 'sunscreen', '4 tubes']),
    ('can you order two north face backpacks for me at the Busan store',
     ['Centum City', 'North Face', 'backpacks', 'two']),
    ('I would like to purchase 3 apple laptops, pick up at Daegu', ['Daegu', 'Apple', 'laptops', '3']),
]

def test_held_out_sentences_are_new():
    seen = {u.text.strip().lower() for u in demo_app().utterances}
    assert not [t for t, _ in HELD_OUT if t.strip().lower() in seen]

def test_held_out_orders(chat):
    "Every held-out order confirms (or asks for a value it missed) without a hole; most confirm all at once."
    direct = []
    for text, parts in HELD_OUT:
        ko = bool(re.search('[가-힣]', text))
        turns = chat(text, '네' if ko else 'yes')
        check(turns, yes_at=1)
        route, ask = turns[0]
        assert route == 'prompt' and '?' in ask, (text, ask)
        if has_all(ask, *parts):
            direct.append(text)
            assert turns[1][0] == 'place_order' and has_all(turns[1][1], *parts), turns
            assert ORDER_NO.search(turns[1][1]), turns
    assert len(direct) >= len(HELD_OUT) - 2, set(t for t, _ in HELD_OUT) - set(direct)
