"A Korean app trains with Kiwi morphology, and a verb form the training set never spelt is still recognised."
import pytest

pytest.importorskip('kiwipiepy')

DEVICES = ['불', '조명', '에어컨', '티비', '히터', '선풍기']
# 끄다 (switch off) is only ever spelt 꺼 in training (끄 + 어); 켜다 (switch on) as 켜
ON = ['{d} 켜줘', '{d} 좀 켜 줘', '{d} 켜 주세요', '{d} 켜', '{d} 켜줄래?', '{d} 켜 줄 수 있어?']
OFF = ['{d} 꺼줘', '{d} 좀 꺼 줘', '{d} 꺼 주세요', '{d} 꺼', '{d} 꺼줄래?', '{d} 꺼 줄 수 있어?']
WEATHER = ['오늘 날씨 어때?', '내일 비 와?', '밖에 추워?', '날씨 알려줘', '주말 날씨는?', '지금 기온 몇 도야?',
           '오후에 눈 와?', '우산 필요해?']
# unseen: the stem 끄 in its own spelling (끄세요, 끄고, 끄십시오, 끌까요), never in training
UNSEEN_OFF = ['티비 끄세요', '에어컨 끄고 싶어요', '조명 끄십시오', '히터 끌까요?']
UNSEEN_ON = ['티비 켜세요', '에어컨 켜고 싶어요', '조명 켜십시오', '히터 켤까요?']


def utterances():
    from chatbot.nlu.app import Utterance
    out = [Utterance(t.format(d=d), intent) for intent, temps in (('TurnOn', ON), ('TurnOff', OFF))
           for i, t in enumerate(temps) for d in DEVICES[i % 2::2]]
    return out + [Utterance(t, 'Weather') for t in WEATHER]


@pytest.fixture(scope='module')
def korean_model(tmp_path_factory):
    from chatbot.nlu.app import App
    from chatbot.nlu.train import train
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import save_model
    app = App.from_utterances('lights', utterances(), culture='ko-kr').validate()
    hp = HParams(epochs=30, patience=30, seed=0, morphology='auto')   # opt-in: Kiwi costs ~250 MB a process
    trained = train(app.utterances, intents=app.intents, hp=hp, progress=False)
    return trained, save_model(trained, tmp_path_factory.mktemp('models') / 'lights', app)


def test_training_turns_morphology_on_when_asked(korean_model, mini_model):
    trained, _ = korean_model
    assert trained.featurizer.config()['morphology'] == 'kiwi'             # morphology='auto', Korean texts
    assert 'morphology' not in mini_model[0].featurizer.config()                # a Korean app by default: off
    assert not any('끄' in u.text for u in utterances())   # the test forms' stem spelling is really unseen


@pytest.fixture(scope='module')
def plain_model(tmp_path_factory):
    "The same app, trained the same way without morphology."
    from chatbot.nlu.app import App
    from chatbot.nlu.train import train
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import save_model
    app = App.from_utterances('lights', utterances(), culture='ko-kr').validate()
    hp = HParams(epochs=30, patience=30, seed=0)
    trained = train(app.utterances, intents=app.intents, hp=hp, progress=False)
    return save_model(trained, tmp_path_factory.mktemp('models') / 'plain', app)


def test_unseen_inflections_recognised(korean_model, plain_model):
    """Every unseen spelling of 끄다 scores higher for TurnOff with morphology than without, and its 켜다 twins
    stay TurnOn but for one question form.

    This 44-line app is too small for a validation split, so its intents come from the lexical model alone
    (cross-validated; the network's scores get no say, which measured better on few-shot English sets).
    There the morpheme `끄/VV` moves the unseen forms toward TurnOff, but the sentence vectors, which put
    켜다 and 끄다 close, keep two of them on TurnOn. Measured when written (seeds 0-2 alike): TurnOff at
    0.47 / 0.96 / 0.35 / 0.996 with morphology, 0.06 / 0.57 / 0.03 / 0.94 without (the top intent right 2/4
    both ways); when the network had a say, 4/4 with morphology and 1/4 without. `히터 켤까요?` is wrong in
    every configuration tried (this app's only questions are Weather's), so the 켜다 forms are checked 3 of 4.
    """
    from chatbot.nlu.predict import Predictor
    _, path = korean_model
    pred, plain = Predictor.load(path), Predictor.load(plain_model)
    assert pred.featurizer.morphology == 'kiwi' and plain.featurizer.morphology is None
    off = {t: (pred.predict(t).intents['TurnOff'], plain.predict(t).intents['TurnOff']) for t in UNSEEN_OFF}
    assert all(m > p for m, p in off.values()), off
    assert sum(m - p for m, p in off.values()) > 1.0, off
    assert sum(pred.predict(t).top_intent == 'TurnOff' for t in UNSEEN_OFF) >= 2, off
    on = [t for t in UNSEEN_ON if pred.predict(t).top_intent == 'TurnOn']
    assert set(UNSEEN_ON) - set(on) <= {'히터 켤까요?'}, on


def test_artifact_without_kiwipiepy_fails_clearly(korean_model, monkeypatch):
    import chatbot.nlu.text as text
    from chatbot.nlu.predict import Predictor
    monkeypatch.setattr(text, 'kiwi_available', lambda: False)
    with pytest.raises(ValueError, match='kiwipiepy'):
        Predictor.load(korean_model[1])


FORK = '''import os
from chatbot.nlu.text import Featurizer, morphemes
Featurizer([], morphology='kiwi')          # starts loading Kiwi in a thread
pid = os.fork()                             # while it loads, as a server forking its workers might
if pid == 0:
    print('child', morphemes('불 꺼줘')[1][0], flush=True); os._exit(0)
os.waitpid(pid, 0); print('parent', morphemes('불 꺼줘')[1][0])'''


@pytest.mark.skipif(not hasattr(__import__('os'), 'fork'), reason='fork only')
def test_fork_while_kiwi_loads():
    import subprocess, sys
    from pathlib import Path
    r = subprocess.run([sys.executable, '-c', FORK], capture_output=True, text=True, timeout=120,
                       cwd=Path(__file__).resolve().parents[1])
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ['child', '끄', 'parent', '끄'] and 'Exception ignored' not in r.stderr
