#!/usr/bin/env python3
"""Build the bundled demo app (a Korean/English retail assistant for 한빛백화점) and write `chatbot/data/demo_app.json`.

    .venv/bin/python tools/make_demo.py           # writes chatbot/data/demo_app.json
    .venv/bin/python tools/make_demo.py --check   # exits 1 if the file differs from what would be written

Utterances come from hand-written templates per intent and language. A template holds slots such as `{bp|을}`:
the slot is filled from the vocabularies below, and a Korean particle after `|` is attached in the right form
for the word it follows (을/를, 이/가, 은/는, ...). The generator computes every span offset itself, so labels are
always exactly `text[start:end]`. Only learned entities (`product`, `quantity`) are labelled; brands, store
names, order ids and dates appear unlabelled and are recognized at run time by the list, regex and prebuilt
entities.

Brands are a closed catalogue in a department store, so `brand` is a list entity (canonical English name,
Korean and English synonyms, matched case-insensitively and inside Korean words), like `store`. Brand names
appear in the utterances in several spellings (Korean, English, lower case) so the product tagger learns they
are not products.

Labelling convention: `product` covers the bare word (never a particle); `quantity` covers the number with its
counter or unit, the way a reply should repeat it: `2켤레`, `두 켤레`, `3벌` (never the particle after it), English
`two pairs` in `two pairs of`, `2 bottles` in `2 bottles of`, and the bare number where there is no unit (`3`
in `3 handbags`). The prebuilt `number` entity still reads the numeric value at run time.
Deterministic: a fixed seed, string-seeded RNGs per (intent, language), no environment input.
"""
from __future__ import annotations
import json, random, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'chatbot' / 'data' / 'demo_app.json'
SEED = 20260101
TARGET = 40  # distinct utterances per intent per language

# ---------------------------------------------------------------------------------------------------------------
# Korean particles
# ---------------------------------------------------------------------------------------------------------------
PARTICLES = {  # written form -> (after a final consonant, after a vowel)
    '을': ('을', '를'), '를': ('을', '를'), '이': ('이', '가'), '가': ('이', '가'), '은': ('은', '는'), '는': ('은', '는'),
    '과': ('과', '와'), '와': ('과', '와'), '이랑': ('이랑', '랑'), '랑': ('이랑', '랑'), '이에요': ('이에요', '예요'),
    '이요': ('이요', '요'), '으로': ('으로', '로'), '로': ('으로', '로'), '이나': ('이나', '나'), '인데': ('인데', '인데'),
}
DIGIT_FINAL = {'0': 'ㅇ', '1': 'ㄹ', '2': '', '3': 'ㅁ', '4': '', '5': '', '6': 'ㄱ', '7': 'ㄹ', '8': 'ㄹ', '9': ''}
LATIN_FINAL = {'L': 'ㄹ', 'M': 'ㅁ', 'N': 'ㄴ', 'R': 'ㄹ'}

def final_consonant(word: str) -> str:
    "The final consonant ('' if none) of the last syllable of `word` as read aloud in Korean."
    c = word.rstrip()[-1]
    if '가' <= c <= '힣':
        jong = (ord(c) - 0xAC00) % 28
        return '' if jong == 0 else ('ㄹ' if jong == 8 else 'x')
    if c.isdigit(): return DIGIT_FINAL[c]
    return LATIN_FINAL.get(c.upper(), '')

def particle(word: str, p: str) -> str:
    "Particle `p` in the form that fits after `word` (으로 counts ㄹ as a vowel)."
    if p not in PARTICLES: return p
    fc = final_consonant(word)
    if p in ('으로', '로'): return '으로' if fc not in ('', 'ㄹ') else '로'
    return PARTICLES[p][0] if fc else PARTICLES[p][1]

assert particle('운동화', '을') == '를' and particle('패딩', '을') == '을' and particle('A12345678', '이') == '이'
assert particle('A12345672', '은') == '는' and particle('서울', '으로') == '로' and particle('한 벌', '을') == '을'

# ---------------------------------------------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------------------------------------------
# product: key -> (Korean, English singular, English plural, English "quantity" form (unit, noun), Korean counter, tags)
# tags say which templates make sense for it: fit (has sizes), color, gift, torn (can arrive torn), men, cheap (< 200,000 won)
PRODUCTS = {
    'sneakers':   ('운동화', 'sneakers', 'sneakers', ('pairs of', 'sneakers'), '켤레', 'fit color gift torn men cheap'),
    'dressshoes': ('구두', 'dress shoes', 'dress shoes', ('pairs of', 'dress shoes'), '켤레', 'fit color gift men'),
    'running':    ('러닝화', 'running shoes', 'running shoes', ('pairs of', 'running shoes'), '켤레', 'fit color gift torn men cheap'),
    'slippers':   ('슬리퍼', 'slippers', 'slippers', ('pairs of', 'slippers'), '켤레', 'fit color torn men cheap'),
    'padding':    ('패딩', 'puffer jacket', 'puffer jackets', (None, 'puffer jackets'), '벌', 'fit color gift torn men cheap'),
    'coat':       ('코트', 'coat', 'coats', (None, 'coats'), '벌', 'fit color gift torn men'),
    'jeans':      ('청바지', 'jeans', 'jeans', ('pairs of', 'jeans'), '벌', 'fit color gift torn men cheap'),
    'dress':      ('원피스', 'dress', 'dresses', (None, 'dresses'), '벌', 'fit color gift torn cheap'),
    'knit':       ('니트', 'sweater', 'sweaters', (None, 'sweaters'), '벌', 'fit color gift torn men cheap'),
    'shirt':      ('셔츠', 'shirt', 'shirts', (None, 'shirts'), '벌', 'fit color gift torn men cheap'),
    'hoodie':     ('후드티', 'hoodie', 'hoodies', (None, 'hoodies'), '벌', 'fit color gift torn men cheap'),
    'cardigan':   ('가디건', 'cardigan', 'cardigans', (None, 'cardigans'), '벌', 'fit color gift torn men cheap'),
    'handbag':    ('핸드백', 'handbag', 'handbags', (None, 'handbags'), '개', 'color gift torn'),
    'wallet':     ('지갑', 'wallet', 'wallets', (None, 'wallets'), '개', 'color gift torn men cheap'),
    'backpack':   ('백팩', 'backpack', 'backpacks', (None, 'backpacks'), '개', 'color gift torn men cheap'),
    'lipstick':   ('립스틱', 'lipstick', 'lipsticks', (None, 'lipsticks'), '개', 'color gift cheap'),
    'perfume':    ('향수', 'perfume', 'perfumes', ('bottles of', 'perfume'), '병', 'gift men cheap'),
    'sunscreen':  ('선크림', 'sunscreen', 'sunscreen', ('tubes of', 'sunscreen'), '개', 'cheap'),
    'cushion':    ('쿠션', 'cushion compact', 'cushion compacts', (None, 'cushion compacts'), '개', 'gift cheap'),
    'laptop':     ('노트북', 'laptop', 'laptops', (None, 'laptops'), '대', 'color'),
    'earbuds':    ('이어폰', 'earbuds', 'earbuds', ('pairs of', 'earbuds'), '개', 'color gift men cheap'),
    'fridge':     ('냉장고', 'refrigerator', 'refrigerators', (None, 'refrigerators'), '대', ''),
    'airfryer':   ('에어프라이어', 'air fryer', 'air fryers', (None, 'air fryers'), '대', 'cheap'),
    'vacuum':     ('청소기', 'vacuum cleaner', 'vacuum cleaners', (None, 'vacuum cleaners'), '대', ''),
    'tumbler':    ('텀블러', 'tumbler', 'tumblers', (None, 'tumblers'), '개', 'color gift cheap'),
}
# brand: (Korean, English, products it sells); the list entity's canonical value is the English name
BRANDS = [
    ('나이키', 'Nike', ['sneakers', 'running', 'slippers', 'padding', 'hoodie']),
    ('아디다스', 'Adidas', ['sneakers', 'running', 'slippers', 'hoodie']),
    ('뉴발란스', 'New Balance', ['sneakers', 'running']),
    ('노스페이스', 'North Face', ['padding', 'backpack', 'hoodie']),
    ('샤넬', 'Chanel', ['lipstick', 'perfume', 'handbag', 'wallet', 'cushion']),
    ('디올', 'Dior', ['lipstick', 'perfume', 'cushion', 'handbag']),
    ('구찌', 'Gucci', ['handbag', 'wallet', 'dressshoes', 'backpack']),
    ('프라다', 'Prada', ['handbag', 'wallet', 'backpack', 'dressshoes']),
    ('설화수', 'Sulwhasoo', ['cushion', 'sunscreen', 'lipstick']),
    ('이니스프리', 'Innisfree', ['sunscreen', 'cushion']),
    ('삼성', 'Samsung', ['laptop', 'earbuds', 'fridge', 'vacuum']),
    ('LG', 'LG', ['fridge', 'vacuum', 'laptop', 'airfryer']),
    ('애플', 'Apple', ['laptop', 'earbuds']),
    ('스탠리', 'Stanley', ['tumbler']),
    ('리바이스', "Levi's", ['jeans', 'shirt']),
    ('자라', 'Zara', ['dress', 'coat', 'knit', 'shirt', 'cardigan']),
]
# more ways customers write a brand (besides its Korean and English names, matched case-insensitively)
BRAND_SYNONYMS = {'New Balance': ['뉴발', 'newbalance'],
                  'North Face': ['The North Face', '더노스페이스', 'northface'],
                  'Dior': ['Christian Dior', '크리스챤 디올'], 'Samsung': ['삼성전자', 'Samsung Electronics'],
                  'LG': ['엘지', 'LG전자', 'LG Electronics'], "Levi's": ['Levis', 'Levi\u2019s']}
# store list entity: canonical -> synonyms (Korean and English); the first Korean synonym is the usual form
STORES = {
    'Gangnam': ['강남점', '강남 지점', '강남', 'gangnam', 'gangnam store', 'gangnam branch'],
    'Myeongdong': ['명동점', '명동 본점', '본점', '명동', 'myeongdong', 'myeongdong store', 'myeongdong branch', 'main store', 'flagship store'],
    'Jamsil': ['잠실점', '잠실 지점', '잠실', 'jamsil', 'jamsil store', 'jamsil branch'],
    'Pangyo': ['판교점', '판교 지점', '판교', 'pangyo', 'pangyo store', 'pangyo branch'],
    'Busan Centum': ['센텀시티점', '센텀점', '부산점', '부산', 'centum city', 'centum city store', 'busan store', 'busan branch', 'busan'],
    'Daegu': ['대구점', '대구 지점', '대구', 'daegu', 'daegu store', 'daegu branch'],
}
STORE_EN = {'Gangnam': 'Gangnam', 'Myeongdong': 'Myeongdong', 'Jamsil': 'Jamsil', 'Pangyo': 'Pangyo',
            'Busan Centum': 'Centum City', 'Daegu': 'Daegu'}
ORDER_ID_PATTERN = r'(?<![A-Za-z0-9])[A-Z]\d{8}(?!\d)'  # no trailing \b: '주문번호 A12345678이' must match
QTY_KO_DIGITS = ['1', '2', '2', '3', '3', '4', '5']
QTY_KO_NATIVE = ['한', '두', '두', '세', '네', '다섯']
QTY_EN = ['2', '3', '4', '5', 'two', 'two', 'three', 'three', 'four', 'five']
DATE_FUT = {'ko': ['내일', '모레', '이번 주말', '금요일', '크리스마스 이브', '다음 주 월요일', '12월 24일', '이번 주 토요일'],
            'en': ['tomorrow', 'Friday', 'this weekend', 'Christmas Eve', 'next Monday', 'December 24', 'this Saturday']}
DATE_PAST = {'ko': ['어제', '지난주', '지난 금요일', '그저께', '사흘 전', '월요일', '3월 3일'],
             'en': ['yesterday', 'last Friday', 'last week', 'on Monday', 'on March 3', 'the day before yesterday']}

# ---------------------------------------------------------------------------------------------------------------
# Templates. Slots: {product} {products} {brand} {bp} {bps} {qp} {qbp} {qty} {qu} {store} {oid} {date}
# {pdate};
# `{slot|P}` attaches Korean particle P; a leading `[tag,...] ` restricts the products (see PRODUCTS) or asks for
# a quantity above one (`multi`). bp = brand + product, qp = product + quantity, qbp = brand + product + qty,
# qu = the quantity with its unit (Korean counter; English "pairs", "bottles" or "tubes" where there is one).
# ---------------------------------------------------------------------------------------------------------------
T = {}
T['Greeting'] = dict(
    ko=['안녕하세요', '안녕', '하이', '반가워요', '안녕하세요 문의 좀 드릴게요', '여보세요?', '저기요', '안녕하세요~ 한빛백화점이죠?',
        '좋은 아침이에요', '좋은 아침입니다', '처음 와봤어요 안녕하세요', '반갑습니다', '하이루', 'ㅎㅇ', '안뇽', '안녕하세여',
        '헬로', '수고하십니다', '수고 많으세요', '안녕하세요 도움 좀 받을 수 있을까요?', '계세요?', '누구 있어요?', '안녕 챗봇아',
        '반가워 한빛봇', '안녕하십니까', '좋은 저녁이에요', '오랜만이에요', '또 왔어요ㅎㅎ', '안녕하세요 질문이 있어서요',
        '저 왔어요', '하이 반가워', '방가방가', '굿모닝', '점심 맛있게 드셨어요?', '안녕하세요 한빛백화점 챗봇 맞나요?',
        '처음 이용해 보는데요 안녕하세요', '헬로우~', '안녕하세요 좋은 하루예요', '안녕하세용', '반가워요 잘 부탁드려요'],
    en=['hi', 'hello', 'hey there', 'good morning', 'good afternoon', 'good evening', 'anyone there?', 'hey', 'yo', 'hiya',
        'howdy', 'greetings', 'hi there', 'hello bot', 'hey Hanbit', 'hi, I have a question', 'is this Hanbit Department Store?',
        'I need some help', 'hey, how are you?', "how's it going?", 'nice to meet you', 'hi again', 'hello again', 'heya',
        'sup', 'morning!', 'evening', 'hello? is anybody there', 'hi hanbit assistant', 'hey chatbot', 'helo', 'hii',
        'hellooo', 'good day', "what's up", 'can you help me?', 'hey, quick question', 'hello, first time here',
        "hope you're doing well", 'hi, nice to see you again'],
)
T['OrderProduct'] = dict(
    ko=['{qbp|을} 주문하고 싶어요', '{qp} 주문할게요', '{bp|을} 사고 싶은데 주문 가능한가요?', '{qp} 구매하려고요',
        '{qbp} 주문 부탁드려요', '온라인으로 {bp|을} 주문하려면 어떻게 해요?', '{qp} 장바구니에 담아서 결제해 주세요',
        '{store|에서} 픽업하는 걸로 {qbp|을} 주문할게요', '{date|까지} 받을 수 있게 {qp} 주문해 주세요',
        '{qbp} 재고 있으면 바로 결제할게요', '[gift] {bp|을} 선물용으로 {qty} 주문하고 싶어요', '주문하고 싶은데요 {bp} 있죠?',
        '[gift] 엄마 선물로 {bp|을} 사려고 하는데 주문해 주실 수 있나요?', '{qbp} 구매할게여', '{qbp} 결제까지 해주세요',
        '{product} 주문좀요', '{bp|을} 카드로 결제해서 주문할게요', '{qbp} 택배 배송으로 주문할게요',
        '어제 본 {bp} 주문 가능할까요?', '{product|을} {qty} 사고 싶어요', '{bp} {qty} 주문 넣어 주세요',
        '{bp|이랑} 똑같은 제품으로 다시 주문하고 싶어요',
        '{qbp} 사려고요', '{product} {qty}만 주문할게요', '[gift] 선물할 {qbp} 주문 가능할까요?',
        '{store|에서} {qbp} 주문할게요', '{qbp} {store} 픽업으로 주문해 주세요', '{store} 픽업으로 {bp} {qty} 주문 부탁드려요',
        '{qbp|을} {store|에서} 받고 싶어요 주문해 주세요', '{qty|이요}', '[multi] {qty|으로} 바꿔 주세요',
        '[multi] 수량은 {qty|으로} 할게요', '픽업은 {store|에서} 할게요', '{store|으로} 바꿔 주세요',
        '{product} {qty} 주세요', '{qbp|이요}', '[multi] {qty} 살게요', '{qty|만} 주문할게요'],
    en=["I'd like to order {qbp}", 'I want to buy {qp}', 'can I order the {bp} online?', 'please order {qbp} for me',
        "I'll take {qty} of the {bps}", 'add {qp} to my cart and check out', 'I want to purchase the {bp}',
        'place an order for {qbp}', 'can you order {qp} for pickup at the {store} store?', 'I need {qp} delivered by {date}',
        'buy the {bp} please', 'id like to order {qp}', 'order {qbp}',
        "[gift] I'd like to get the {bp} as a gift, can you help me order?", 'how do I place an order for the {bp}?',
        'ordering {qp} please, paying by card', "I'm ready to buy the {product} I saw yesterday",
        "can I get {qp}? I'll pay now", 'I want to order the same {bp} again', 'can you put {qbp} on order for me?',
        'get me {qbp}', "I'll take {qp}, please", '[gift] I want to order {qbp} as gifts',
        "I'd like to buy {qbp} at the {store} store", '{qbp}, pickup at the {store} store please',
        'order {qp} for pickup at the {store} store', 'can I get {qbp} from the {store} branch?',
        'make it {qu}', '{qu} please', 'change it to {qu}', "I'll pick it up at the {store} store",
        '{qbp} please', 'I need {qp}', 'could you order {qp} for me?',
        'can I order {qbp} from the {store} store?'],
)
T['TrackDelivery'] = dict(
    ko=['주문번호 {oid} 배송 어디쯤이에요?', '{oid} 배송 조회해 주세요', '제 {product} 언제 도착해요?', '주문한 {bp|이} 아직 안 왔어요',
        '{oid|은} 언제 받을 수 있나요?', '배송 조회 좀 해주세요', '택배 어디까지 왔어요?', '{pdate} 주문한 {product|이} 아직 배송 중이에요?',
        '주문번호 {oid}인데요 배송 상태 알려주세요', '{bp} 배송 언제 와요?', '운송장 번호 알려주세요',
        '배송이 너무 늦어요 제 주문 어디 있나요?', '{oid} 출고됐나요?', '주문한 거 언제와여', '{date|까지} {product} 받을 수 있을까요?',
        '{pdate} 시킨 {product} 배송 상태 확인해 주세요', '{oid} 배송조회좀요', '택배 기사님 연락처 알 수 있을까요?',
        '주문한 {qp|이} 배송 출발했나요?', '배송 추적은 어떻게 해요?', '{oid} 지금 어디 있는지 알려주세요',
        '{bp} 도착 예정일이 언제예요?'],
    en=['where is my order {oid}?', 'track order {oid}', 'when will my {product} arrive?', 'has my order {oid} shipped yet?',
        "I still haven't received the {bp} I ordered", 'can you check the delivery status of {oid}', "where's my package",
        'my order is late, where is it?', "what's the tracking number for my {product}?", 'any update on the delivery of my {bp}?',
        'I ordered the {product} {pdate} and it hasnt arrived', 'tracking info for {oid} please', 'wheres my stuff',
        'did {oid} ship?', "what's the estimated delivery for my {qp}?", 'can you tell me when the {bp} will be delivered',
        "the courier hasn't come yet, where is my delivery?", 'how do I track my order?', 'will the {product} get here by {date}?',
        'delivery status for order number {oid}'],
)
T['CancelOrder'] = dict(
    ko=['주문 취소하고 싶어요', '{oid} 주문 취소해 주세요', '주문번호 {oid} 취소 부탁드립니다', '{bp} 주문한 거 취소할게요',
        '방금 주문한 {product} 취소 가능한가요?', '{qp} 주문했는데 취소하고 싶어요', '주문 취소 어떻게 해요?',
        '실수로 {bp|을} 중복 주문했어요 취소해 주세요', '{oid} 취소요', '결제 취소해 주세요', '{pdate} 주문한 {product} 취소할 수 있나요?',
        '아직 배송 전이면 {oid} 취소해 주세요', '마음이 바뀌었어요 {product} 주문 취소할래요', '주문 취쇼 하고싶어요',
        '{oid} 주문 철회 가능한가요?', '취소 버튼이 안 보여요 주문 취소하려면 어떻게 하죠?', '{store} 픽업 주문 취소할게요',
        '주문 전체 취소해 주세요', '{bp} 주문 취소 좀 해주세요', '{oid|은} 취소하고 다른 걸로 다시 주문할게요'],
    en=['I want to cancel my order', 'cancel order {oid}', 'please cancel {oid}', 'can I cancel the {bp} I just ordered?',
        'I ordered {qp} by mistake, cancel it please', 'how do I cancel an order?', 'cancel my {product} order',
        'I changed my mind, please cancel the {product}', 'is it too late to cancel order {oid}?', 'cancle my order pls',
        'stop my order {oid} before it ships', "I'd like to cancel my pickup order at the {store} store",
        'cancel the order I placed {pdate}', 'please void my purchase of the {bp}', 'can you cancel everything in order {oid}',
        "I don't want the {bp} anymore, cancel the order", 'just cancel the whole order', 'how can I cancel {oid}?',
        'I need to cancel the {bps} I ordered', 'cancel my order for {qbp}'],
)
T['Refund'] = dict(
    ko=['환불하고 싶어요', '{oid} 환불해 주세요', '{bp} 환불 받을 수 있나요?', '받은 {product|이} 불량이에요 환불해 주세요',
        '[fit] {product} 사이즈가 안 맞아서 반품하고 환불받고 싶어요', '환불 언제 들어와요?', '주문번호 {oid} 환불 처리 어떻게 되고 있나요?',
        '반품 신청했는데 환불이 아직 안 됐어요', '{store|에서} 산 {product} 환불 가능한가요?', '[multi] {qp} 샀는데 전부 환불하고 싶어요',
        '환불 규정 알려주세요', '영수증 없어도 {product} 환불되나요?', '[color] {bp} 색상이 사진이랑 달라요 환불 원해요',
        '카드 환불은 며칠 걸려요?', '환불좀 해주세여', '{oid} 반품하고 돈 돌려받고 싶어요', '[gift] 선물 받은 {product} 환불 돼요?',
        '{pdate} 환불 요청했는데 아직 입금이 안 됐어요', '[torn] {bp|이} 찢어져서 왔어요 환불 부탁드려요', '{oid} 환불 진행 상황 알려주세요'],
    en=['I want a refund', 'refund order {oid}', 'can I get a refund for the {bp}?', 'the {product} arrived damaged, I want my money back',
        '[fit] I need a different size for the {product}, can I get a refund?', 'when will I get my refund?',
        "what's the status of my refund for {oid}", 'I returned the {product} {pdate} but still no refund',
        'can I return the {product} I bought at the {store} store?', 'refund policy?', '[multi] I bought {qp} and want to return them all for a refund',
        'do I need a receipt to return the {bp}?', '[color] the color of the {bp} is different from the photo, refund please',
        'how long does a card refund take?', 'refnd my money plz', 'money back for {oid} please',
        '[gift] can I get a refund on the {product} I got as a gift?', 'I was charged twice, I need a refund',
        '[torn] the {bp} came torn, please refund me', 'I want to return {oid} and get my money back'],
)
T['ProductSearch'] = dict(
    ko=['{bp} 있어요?', '{product} 어디서 팔아요?', '{store|에} {bp} 재고 있나요?', '{brand} 매장 몇 층이에요?', '{product} 추천해 주세요',
        '{bp} 신상 나왔어요?', '{bp} 가격이 얼마예요?', '[cheap] 20만 원 이하 {product} 있을까요?', '{product|을} 찾고 있는데요',
        '{store|에서도} {product} 파나요?', '[color] {bp} 다른 색상도 있나요?', '[gift] 여자친구 선물로 {product} 보고 있어요', '{brand} 제품은 어디 있어요?',
        '세일하는 {product} 있어요?', '[color] {bp} 검은색 있나요?', '[men] 남자 {product} 어떤 거 있어요?', '{product} 재고 확인 좀 해주세요',
        '{brand} 신상 {product} 보여 주세요', '요즘 인기 많은 {product|이} 뭐예요?', '{bp|은} 어디 가면 볼 수 있어요?'],
    en=['do you have {bps}?', 'where can I find {products}?', 'are there any {bps} in stock at the {store} store?',
        'which floor is {brand} on?', 'can you recommend some {products}?', 'any new {bps} this season?', "what's the price of the {bp}?",
        "[cheap] I'm looking for {products} under 200,000 won", '[color] do you carry the {bp} in black?', 'show me {products}',
        'does the {store} branch sell {products}?', '[gift] I need a gift for my girlfriend, maybe {products}?', 'what {bps} do you have?',
        'are {products} on sale right now?', '[men] looking for mens {products}', '[color] do you have the {bp} in other colors?',
        'where is the {brand} counter?', 'what are the most popular {products} right now?', 'got any {bps}?',
        'I want to see the new {brand} {products}'],
)
T['StoreHours'] = dict(
    ko=['{store} 몇 시에 문 열어요?', '{store} 영업시간 알려주세요', '{store|은} 몇 시까지 해요?', '{date} 영업하나요?',
        '{date} {store} 문 열어요?', '백화점 몇 시에 닫아요?', '오늘 몇 시까지 영업해요?', '주말 영업시간이 어떻게 되나요?',
        '설날에도 문 여나요?', '{store} 휴무일이 언제예요?', '정기 휴무일 알려주세요', '{store} 식당가는 몇 시까지 해요?',
        '지금 {store} 열려 있어요?', '폐점 시간이 언제예요?', '{store} 오픈 시간이 몇 시죠?', '추석 연휴에 {store} 영업해요?',
        '몇시에 열어여', '야간 영업 하는 날 있어요?', '{date} {store} 영업시간 바뀌나요?', '{store} 마감 시간 알려주세요'],
    en=['what time does the {store} store open?', 'what are your hours at {store}?', 'when does the {store} branch close?',
        'are you open {date}?', 'is the {store} store open {date}?', 'what time do you close today?', 'store hours please',
        'are you open on weekends?', "are you open on New Year's Day?", 'which days is the {store} store closed?',
        'how late is the food court at {store} open?', 'is {store} open right now?', 'opening hours', 'what time do u open',
        'are the hours at {store} different {date}?', 'are you open during Chuseok?', "what's the closing time for the {store} branch?",
        'when do you open tomorrow morning', 'hours for the {store} store {date}?', 'is the {store} branch open late on Fridays?'],
)
T['StoreLocation'] = dict(
    ko=['{store} 어디에 있어요?', '{store} 주소 알려주세요', '{store|에} 어떻게 가요?', '{store} 가는 길 알려주세요',
        '가장 가까운 매장이 어디예요?', '{store} 근처 지하철역이 어디예요?', '{store|에} 주차할 수 있나요?', '{store} 주차장 입구가 어디예요?',
        '지점이 어디어디 있나요?', '제주에도 매장 있어요?', '{store|까지} 버스로 가는 방법 알려주세요', '백화점 위치가 어디예요?',
        '{store} 몇 번 출구로 나가야 해요?', '매장 찾아가는 길 좀 알려주세요', '{store} 지도 보내주세요', '서울에 있는 지점 알려주세요',
        '집 근처에 한빛백화점 있나요?', '{store} 위치좀요', '{store|은} 무슨 역이랑 가까워요?', '공항에서 {store|까지} 얼마나 걸려요?'],
    en=['where is the {store} store?', "what's the address of the {store} branch?", 'how do I get to {store}?',
        'directions to the {store} store please', "where's the nearest store?", 'which subway station is closest to the {store} store?',
        'is there parking at the {store} branch?', 'where is the parking entrance at {store}?', 'what branches do you have?',
        'do you have a store in Jeju?', 'how do I get to the {store} store by bus?', 'where are you located?',
        'which exit should I take for the {store} store?', 'send me a map of the {store} branch', 'list your stores in Seoul',
        'is there a Hanbit store near me?', 'adress of {store} store', 'how far is the {store} store from the airport?',
        'can I walk to the {store} store from the station?', 'location of your {store} branch'],
)
T['Coupons'] = dict(
    ko=['쿠폰 있어요?', '할인 쿠폰 어떻게 받아요?', '{brand} 할인 쿠폰 있나요?', '{product} 살 때 쓸 수 있는 쿠폰 있어요?',
        '쿠폰 코드가 안 먹혀요', '신규 가입 쿠폰 주세요', '생일 쿠폰은 언제 나와요?', '{bp|에도} 쿠폰 적용 되나요?',
        '적립금이랑 쿠폰 같이 쓸 수 있어요?', '이번 주 세일 쿠폰 있나요?', '{store} 전용 쿠폰 있어요?', '쿠폰함에 쿠폰이 안 보여요',
        '{brand} 제품도 쿠폰 할인 되나요?', '10% 할인 쿠폰 받을 수 있을까요?', '쿠폰 유효기간이 언제까지예요?', '할인코드 있으면 알려주세요',
        '쿠폰 어디서 다운받아요?', '{product} 쿠폰 다운로드 하는 법 알려줘', '쿠폰 적용해서 {bp} 사고 싶어요', '{brand} 쿠폰 언제 또 나와요?'],
    en=['do you have any coupons?', 'how do I get a discount coupon?', 'any {brand} coupons?', 'is there a coupon for {products}?',
        "my coupon code isn't working", 'can I get a welcome coupon?', 'when do I get my birthday coupon?',
        'can I use a coupon on the {bp}?', 'can I combine points and coupons?', 'any promo codes this week?',
        'are there coupons only for the {store} store?', "I can't see my coupons in the app", 'does the coupon work on {brand} items?',
        'where do I download coupons?', 'when does my coupon expire?', 'got a discount code for {products}?',
        'apply my 10% coupon please', 'cupon not working at checkout', 'is there a discount voucher for the {bp}?',
        'will there be more {brand} coupons soon?'],
)
T['TalkToHuman'] = dict(
    ko=['상담원 연결해 주세요', '사람이랑 얘기하고 싶어요', '직원 불러주세요', '상담사 바꿔주세요', '실제 사람과 통화하고 싶어요',
        '고객센터 전화번호 알려주세요', '챗봇 말고 사람이요', '상담원이랑 채팅할 수 있나요?', '매니저 불러주세요', '너 말고 사람이랑 얘기할래',
        '상담원 연결좀요', '전화 상담 가능한가요?', '고객센터 연결 부탁드립니다', '사람 바꿔줘', '담당자랑 직접 이야기하고 싶어요',
        '봇 말고 진짜 사람 없어요?', '상담원과 통화 연결해 주세요', '콜센터 번호가 뭐예요?', '답답해서 그러는데 사람 좀 연결해 주세요',
        '상담원 연결이 안 돼요', '1:1 상담 하고 싶어요', '상담사님 계세요?', '실시간 상담 가능해요?', '직원분이랑 얘기하고 싶은데요',
        '챗봇이 이해를 못하네요 사람 연결해 주세요', '상담원 연결 대기 얼마나 걸려요?', '사람 상담원 있나요?', '책임자 바꿔 주세요',
        '상담원이요', '상담원 연결해주세여', '상담원 불러줘', '직원 호출해 주세요', '콜백 요청하고 싶어요', '전화로 상담 받고 싶습니다',
        '카톡 상담원 연결 가능한가요?', '진짜 사람이랑 말하고 싶다', '{store} 직원이랑 통화하고 싶어요',
        '주문번호 {oid} 관련해서 상담원이랑 통화하고 싶어요', '{store} 매장에 전화 연결해 주세요', '{oid} 건으로 상담사 연결 부탁해요'],
    en=['talk to a human', 'I want to speak to a real person', 'can I talk to an agent?', 'connect me to customer service',
        'representative please', 'agent', 'get me a human', 'I need to speak with a manager',
        "what's your customer service phone number?", 'can someone call me back?', 'live chat with a person please',
        'this bot is useless, let me talk to a person', 'transfer me to an operator', 'is there a real person I can talk to?',
        "I'd rather talk to staff", 'human please', 'speak to representative', 'call center number?', 'connect me with a live agent',
        'I want to complain to a manager', 'can I chat with someone from the store?', 'stop, I want a real human',
        'put me through to customer support', 'can a staff member help me instead', 'please get a supervisor', 'I need human help',
        'operator', "you don't understand me, get me a person", 'I want to talk to customer care', 'speak with an employee',
        'humna please', 'how do I reach a person?', "I'd like a callback from an agent", 'is customer service available by phone?',
        'can I talk to someone at the {store} store?', 'I need an agent about order {oid}', 'connect me to staff at the {store} branch',
        'I want a person to look at order {oid}'],
)
T['None'] = dict(
    ko=['오늘 날씨 어때?', '내일 비 와요?', '재밌는 농담 해줘', '어제 야구 누가 이겼어?', '손흥민 오늘 골 넣었어?', '점심 뭐 먹을까?',
        '너 몇 살이야?', '심심해', '노래 추천해 줘', '파이썬 공부 어떻게 해요?', '비트코인 지금 얼마야?', '서울에서 대전까지 KTX 얼마예요?',
        '영화 추천해 줘', '너는 누가 만들었어?', '사랑이 뭘까', '수학 숙제 좀 도와줘', '주식 사도 될까요?', '환율 알려줘',
        '오늘 무슨 요일이야?', '라면 맛있게 끓이는 법', '미세먼지 어때요?', '월드컵 언제 해?', '고양이 키우는 법 알려줘', '잠이 안 와',
        '너 이름이 뭐야?', '로또 번호 추천해줘', '영어 번역 좀 해줘', '아이유 신곡 나왔어?', '배고프다', '오늘 운세 알려줘',
        '택시 불러줘', '제주도 비행기 표 예약해 줘', '근처 맛집 어디야?', '축구 경기 결과 알려줘', '게임 추천해줘', 'ㅋㅋㅋㅋ',
        '인생이 힘들어요', '넷플릭스 볼 만한 거 있어?', '회사 가기 싫다', '우주는 얼마나 커?', '자장가 불러줘', '은행 대출 이자 얼마야?'],
    en=["what's the weather like today?", 'will it rain tomorrow?', 'tell me a joke', 'who won the baseball game last night?',
        'did Son Heung-min score today?', 'what should I eat for lunch?', 'how old are you?', "I'm bored", 'recommend a song',
        'how do I learn Python?', "what's the price of bitcoin?", 'recommend a movie', 'who made you?', 'what is love?',
        'help me with my math homework', 'should I buy stocks?', "what's the exchange rate?", 'what day is it today?',
        'how do I cook ramen?', "how's the air quality?", 'when is the next World Cup?', 'how to take care of a cat',
        "I can't sleep", "what's your name?", 'give me lottery numbers', 'translate this to Korean', 'is there a new BTS album?',
        "I'm hungry", 'read my horoscope', 'call me a taxi', 'book a flight to Jeju', 'any good restaurants nearby?',
        'football scores please', 'recommend a video game', 'lol', 'life is hard', 'what should I watch on Netflix?',
        "I don't want to go to work", 'how big is the universe?', 'sing me a lullaby', 'who is the president of France?',
        'set an alarm for 7am'],
)
INTENTS = ['Greeting', 'OrderProduct', 'TrackDelivery', 'CancelOrder', 'Refund', 'ProductSearch', 'StoreHours',
           'StoreLocation', 'Coupons', 'TalkToHuman', 'None']
assert set(T) == set(INTENTS)

# ---------------------------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------------------------
SLOT = re.compile(r'\{(\w+)(?:\|([^}]+))?\}')
BRAND_SLOTS = {'brand', 'bp', 'bps', 'qbp'}

def order_id(rng: random.Random) -> str:
    return rng.choice('ABCDHKMRST') + ''.join(rng.choice('0123456789') for _ in range(8))

class Builder:
    "Collects text pieces and the spans of labelled ones."
    def __init__(self): self.text, self.spans = '', []
    def add(self, s: str, entity: str | None = None):
        if entity: self.spans.append(dict(start=len(self.text), end=len(self.text) + len(s), entity=entity, value=s))
        self.text += s

TAGS = re.compile(r'^\[([\w,]+)\] ')

def split_tags(tpl: str) -> tuple[set, str]:
    "A template may start with `[tag,...] `: product tags it needs (plus `multi`: a quantity above one)."
    m = TAGS.match(tpl)
    return (set(m.group(1).split(',')), tpl[m.end():]) if m else (set(), tpl)

def context(tags: set, tpl: str, lang: str, rng: random.Random) -> dict:
    "Pick consistent slot values for one utterance (a brand's product when the template names a brand)."
    names, need = {m.group(1) for m in SLOT.finditer(tpl)}, tags - {'multi'}
    ok = lambda k: need <= set(PRODUCTS[k][5].split())
    if names & BRAND_SLOTS:
        brand = rng.choice([b for b in BRANDS if any(map(ok, b[2]))]); item = rng.choice([k for k in brand[2] if ok(k)])
    else: brand, item = None, rng.choice([k for k in sorted(PRODUCTS) if ok(k)])
    store = rng.choice(sorted(STORES))
    ko_stores = [s for s in STORES[store] if re.search('[가-힣]', s)]
    if lang == 'ko':
        native = rng.random() < 0.5
        qty = rng.choice([q for q in (QTY_KO_NATIVE if native else QTY_KO_DIGITS) if 'multi' not in tags or q not in ('1', '한')])
    else: native, qty = False, rng.choice(QTY_EN)
    if brand is None: bname = None
    elif lang == 'ko': bname = brand[1] if rng.random() < 0.2 else brand[0]      # "Nike 운동화" happens too
    else: bname = brand[1].lower() if rng.random() < 0.3 else brand[1]            # "adidas", "new balance"
    return dict(brand=brand, bname=bname, item=PRODUCTS[item], qty=qty, native=native,
                store=(rng.choice([ko_stores[0]] * 3 + ko_stores[1:]) if lang == 'ko' else STORE_EN[store]),
                oid=order_id(rng), date=rng.choice(DATE_FUT[lang]), pdate=rng.choice(DATE_PAST[lang]))

def emit(b: Builder, slot: str, lang: str, c: dict):
    "Append the slot's words (with spans for learned entities) to `b`."
    ko = lang == 'ko'
    item, bname = c['item'], c['bname']
    pko, psg, ppl, (unit, qnoun), counter, _ = item
    unit = unit[:-len(' of')] if unit else None                 # 'pairs of' -> 'pairs'
    def qty():  # ko: number + counter, one span ("2켤레", "두 켤레"); en: the number alone
        b.add(c['qty'] + (' ' if c['native'] else '') + counter if ko else c['qty'], 'quantity')
    def qu():  # the quantity with its unit: ko as qty(), en "two pairs" / "2 bottles" / "3"
        if ko: qty()
        else: b.add(c['qty'] + (' ' + unit if unit else ''), 'quantity')
    def qphrase():  # en "two pairs of sneakers" / "3 handbags": quantity with unit, noun added by caller
        qu(); b.add(' of ' if unit else ' ')
    if slot == 'product': b.add(pko if ko else psg, 'product')
    elif slot == 'products': b.add(pko if ko else ppl, 'product')
    elif slot == 'brand': b.add(bname)
    elif slot in ('bp', 'bps'):
        b.add(bname); b.add(' '); b.add(pko if ko else (psg if slot == 'bp' else ppl), 'product')
    elif slot == 'qp':
        if ko: b.add(pko, 'product'); b.add(' '); qty()
        else: qphrase(); b.add(qnoun, 'product')
    elif slot == 'qbp':
        if ko: b.add(bname); b.add(' '); b.add(pko, 'product'); b.add(' '); qty()
        else: qphrase(); b.add(bname); b.add(' '); b.add(qnoun, 'product')
    elif slot == 'qty': qty()
    elif slot == 'qu': qu()
    elif slot in ('store', 'oid', 'date', 'pdate'): b.add(c[slot])
    else: raise ValueError(f'unknown slot {slot!r}')

def render(tpl: str, lang: str, rng: random.Random) -> dict:
    "Fill template `tpl`: returns `{text, entities}` with exact character offsets."
    tags, tpl = split_tags(tpl)
    c, b, pos = context(tags, tpl, lang, rng), Builder(), 0
    for m in SLOT.finditer(tpl):
        b.add(tpl[pos:m.start()])
        emit(b, m.group(1), lang, c)
        if m.group(2): b.add(particle(b.text, m.group(2)))
        pos = m.end()
    b.add(tpl[pos:])
    return dict(text=b.text, entities=b.spans)

def expand(intent: str, lang: str, seen: set) -> list[dict]:
    "Every template once, then more fills of the slot templates until `TARGET` distinct utterances."
    rng = random.Random(f'{SEED}-{intent}-{lang}')
    tpls = T[intent][lang]
    out = []
    def add(u: dict) -> bool:
        key = u['text'].strip().lower()
        if key in seen: return False
        seen.add(key); out.append(dict(text=u['text'], intent=intent, entities=u['entities'])); return True
    for t in tpls:
        for _ in range(20):
            if add(render(t, lang, rng)) or '{' not in t: break
    slotted, i = [t for t in tpls if '{' in t], 0
    while len(out) < TARGET and slotted and i < 50 * TARGET:
        add(render(slotted[i % len(slotted)], lang, rng)); i += 1
    return out

def build_app() -> dict:
    "The demo app as an `App.to_dict()` dictionary."
    seen, utts = set(), []
    for intent in INTENTS:
        for lang in ('ko', 'en'): utts += expand(intent, lang, seen)
    brands = [dict(canonical=en, synonyms=[ko, *([en] if en != ko else []), *BRAND_SYNONYMS.get(en, [])])
              for ko, en, _ in BRANDS]
    entities = [dict(name='product', kind='learned'), dict(name='quantity', kind='learned'),
                dict(name='brand', kind='list', values=brands),
                dict(name='store', kind='list', values=[dict(canonical=k, synonyms=v) for k, v in STORES.items()]),
                dict(name='order_id', kind='regex', pattern=ORDER_ID_PATTERN),
                dict(name='number', kind='prebuilt', prebuilt='number'), dict(name='datetime', kind='prebuilt', prebuilt='datetime')]
    return dict(name='demo', culture='ko-kr', version='1.0',
                description=('Hanbit Department Store (한빛백화점) shopping assistant: a bilingual Korean/English demo app '
                             'with orders, deliveries, cancellations, refunds, product search, store hours and locations, '
                             'coupons and hand-off to a human agent.'),
                intents=INTENTS, entities=entities, utterances=utts, settings=dict(none_threshold=0.5))

def dumps(d: dict) -> str: return json.dumps(d, ensure_ascii=False, indent=1) + '\n'

def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from chatbot.nlu.app import App
    d = build_app()
    App.from_dict(d).validate()
    text = dumps(d)
    if '--check' in argv:
        same = OUT.exists() and OUT.read_text(encoding='utf-8') == text
        print('up to date' if same else f'{OUT} is stale: run tools/make_demo.py')
        return 0 if same else 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding='utf-8')
    print(f'wrote {OUT.relative_to(ROOT)}: {len(d["utterances"])} utterances')
    return 0

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
