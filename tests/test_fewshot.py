"Few examples per intent, data as users have it: duplicate texts, calibrated scores and the app's own threshold."
import json
import numpy as np
import pytest


def test_small_app_is_calibrated_on_a_held_out_split(mini_model):
    "An app too small for a validation split holds out a fifth of each intent to calibrate on, and says so."
    trained, path = mini_model
    cal = trained.calibration
    assert cal['source'] == 'held out from training' and cal['n'] == len(trained.valid) >= 10
    assert cal['network'] >= 0 and cal['lexical'] >= 0 and 0 <= cal['threshold'] <= 0.5
    assert cal['accuracy_at_threshold'] <= cal['accuracy'] and 0 <= cal['none_rate'] <= 1
    assert trained.info['calibration'] == cal
    m = json.loads((path/'manifest.json').read_text())
    assert m['calibration']['threshold'] == m['none_threshold'] == cal['threshold']
    assert m['none_threshold_source'] == 'chosen on held out from training'


def test_calibrated_predictor_uses_the_chosen_threshold(mini_model):
    from chatbot.nlu.predict import Predictor
    from chatbot.nlu.model import softmax
    from chatbot.nlu.lexical import calibrated_logits, lexical_logits
    from chatbot.nlu.train import intent_logits
    trained, path = mini_model
    pred = Predictor.load(path)
    assert pred.threshold == trained.calibration['threshold'] and pred.calibration['network'] == trained.calibration['network']
    assert Predictor.load(path, threshold=0.9).threshold == 0.9
    text = trained.valid[0].text
    net, lex = intent_logits(pred.W, pred.featurizer, pred.hp, [text])
    assert np.allclose(pred.scores(text)[0], softmax(calibrated_logits(net[0], lex[0], pred.calibration)), atol=1e-5)


def test_artifact_without_calibration_behaves_as_before(mini_model, tmp_path):
    "Artifacts saved before calibration existed load with their own threshold and the fixed mix."
    import shutil
    from chatbot.nlu.predict import Predictor
    from chatbot.nlu.model import forward_numpy, softmax
    from chatbot.nlu.lexical import lexical_logits, mix_logits
    old = tmp_path/'old'
    shutil.copytree(mini_model[1], old)
    m = json.loads((old/'manifest.json').read_text())
    for k in ('calibration', 'none_threshold_source'): m.pop(k, None)
    m['none_threshold'] = 0.5
    (old/'manifest.json').write_text(json.dumps(m))
    pred = Predictor.load(old)
    assert pred.calibration is None and pred.threshold == 0.5
    text = '운동화 사고 싶어요'
    enc = pred.featurizer.encode(text)
    il, _ = forward_numpy(pred.W, pred.hp, enc.ids, enc.bag, enc.shape, enc.sent)
    lex = lexical_logits(pred.W, text, pred.featurizer.phrase_terms(text))
    want = softmax(mix_logits(il, lex, pred.hp.lexical_weight))
    assert np.allclose(pred.scores(text)[0], want, atol=1e-6)


def test_app_setting_wins_over_the_chosen_threshold(mini_model, mini_app, tmp_path):
    from dataclasses import replace
    from chatbot.nlu.predict import save_model, Predictor
    app = replace(mini_app, settings={'none_threshold': 0.65})
    path = save_model(mini_model[0], tmp_path/'m', app)
    assert Predictor.load(path).threshold == 0.65
    assert Predictor.from_trained(mini_model[0], app).threshold == 0.65
    assert Predictor.from_trained(mini_model[0]).threshold == mini_model[0].calibration['threshold']


def test_text_under_two_intents_is_settled_by_the_chosen_policy(mini_app):
    "Data with one sentence under two labels trains: majority label kept (or every copy dropped); strict refuses."
    from chatbot.nlu.train import train
    from chatbot.nlu.model import HParams
    from chatbot.nlu.app import Utterance, AppValidationError
    base = [u for u in mini_app.utterances]
    intents = sorted({u.intent for u in base})
    a, b = intents[0], intents[1]
    extra = [Utterance('그거 해줘', a), Utterance('그거 해줘', a), Utterance('그거 해줘 ', b)]
    hp = HParams(epochs=1, calibrate=False)
    t = train(base + extra, intents=mini_app.intents, hp=hp, progress=False)
    assert t.info['duplicates'] == [f"'그거 해줘' is labelled {a} x2, {b} x1: kept {a}"]
    assert t.info['n_train'] == len(base) + 2
    t = train(base + extra, intents=mini_app.intents, hp=hp, progress=False, duplicates='drop')
    assert t.info['n_train'] == len(base) and 'dropped' in t.info['duplicates'][0]
    with pytest.raises(AppValidationError, match='the same text under two intents'):
        train(base + extra, intents=mini_app.intents, hp=hp, progress=False, duplicates='strict')


def test_calibration_can_be_turned_off(mini_app):
    from chatbot.nlu.train import train
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import Predictor
    t = train(mini_app.utterances, intents=mini_app.intents, hp=HParams(epochs=1, calibrate=False), progress=False)
    assert t.calibration == {} and t.valid == [] and t.info['n_train'] == len(mini_app.utterances)
    assert Predictor.from_trained(t).threshold == 0.5 and Predictor.from_trained(t).calibration is None


def test_crf_transitions_are_trained_stored_and_decoded(mini_app, tmp_path):
    "HParams(crf=True): the tagger learns tag-to-tag transitions, the artifact keeps them and serving decodes with them."
    from chatbot.nlu.train import train
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import save_model, Predictor
    t = train(mini_app.utterances, intents=mini_app.intents, hp=HParams(epochs=2, crf=True, calibrate=False), progress=False)
    trans = t.weights['crf/transitions']
    assert trans.shape == (len(t.tag_names), len(t.tag_names)) and np.abs(trans).max() > 0
    path = save_model(t, tmp_path/'crf', mini_app)
    loaded = Predictor.load(path)
    assert np.allclose(loaded.W['crf/transitions'], trans)
    text = '운동화를 장바구니에 담아줘'
    spans = lambda p: [(e.entity, e.start, e.end) for e in p.predict(text).entities]   # scores: float16 weights
    assert spans(loaded) == spans(Predictor.from_trained(t, mini_app))
