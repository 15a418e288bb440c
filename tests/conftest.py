"Shared fixtures: a small bilingual data set and one model trained on it per test session."
import itertools, os, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent/'shared'/'datasets'
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

TEMPLATES = {
    'BuyProduct': ['I want to buy {p}', 'order {p} please', 'can I get {p}', 'add {p} to my cart', 'buy me {p}',
                   '{p} 주문할게요', '{p} 사고 싶어요', '{p}를 장바구니에 담아줘', '{p} 구매하려고요', '{p} 하나 주세요'],
    'FindStore': ['where is the nearest store', 'store near me', 'how do I get to your shop', 'find a branch',
                  'which store is open', '가까운 매장 어디예요', '매장 위치 알려줘', '지점 찾아줘', '근처 백화점 어디 있나요', '매장이 어디에 있어요'],
    'Greeting': ['hello', 'hi there', 'good morning', 'hey', 'hello bot', '안녕하세요', '안녕', '반가워요', '좋은 아침이에요', '하이'],
}
PRODUCTS = ['shoes', 'a handbag', 'sneakers', 'lipstick', '운동화', '립스틱', '패딩', '가방']

def mini_utterances():
    "About 120 labelled utterances in English and Korean, products inside Korean words."
    from chatbot.app import Utterance, EntitySpan
    out = []
    for intent, temps in TEMPLATES.items():
        for t, p in itertools.product(temps, PRODUCTS if '{p}' in temps[0] else ['']):
            if '{p}' not in t:
                out.append(Utterance(t, intent)); continue
            korean = any('\uac00' <= c <= '\ud7a3' for c in t)
            if korean != any('\uac00' <= c <= '\ud7a3' for c in p): continue
            start = t.index('{p}')
            text = t.replace('{p}', p)
            out.append(Utterance(text, intent, [EntitySpan('product', start, start + len(p), p)]))
    return out

@pytest.fixture(scope='session')
def mini_app():
    from chatbot.app import App
    return App.from_utterances('mini', mini_utterances(), culture='ko-kr').validate()

@pytest.fixture(scope='session')
def mini_model(mini_app, tmp_path_factory):
    "A model trained on `mini_app` and saved as an artifact: `(trained, artifact_path)`."
    from chatbot.train import train
    from chatbot.model import HParams
    from chatbot.predict import save_model
    trained = train(mini_app.utterances, intents=mini_app.intents, hp=HParams(epochs=12, patience=12), progress=False)
    path = save_model(trained, tmp_path_factory.mktemp('models')/'mini', mini_app)
    return trained, path
