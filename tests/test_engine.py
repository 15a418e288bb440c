"The NLU engine end to end: training, the artifact, and the NumPy predictor against TensorFlow."
import hashlib, json, sys
import numpy as np
import pytest

def weights_digest(weights):
    h = hashlib.sha256()
    for k in sorted(weights): h.update(k.encode()); h.update(np.ascontiguousarray(weights[k]).tobytes())
    return h.hexdigest()

def test_model_learns_mini_app(mini_model, mini_app):
    from chatbot.nlu.predict import Predictor
    pred = Predictor.load(mini_model[1])
    p = pred.predict('운동화를 장바구니에 담아줘')
    assert p.top_intent == 'BuyProduct'
    assert [(e.entity, e.start, e.end, e.text) for e in p.entities if e.kind == 'learned'] == [('product', 0, 3, '운동화')]
    assert pred.predict('I want to buy sneakers').top_intent == 'BuyProduct'
    assert pred.predict('안녕하세요').top_intent == 'Greeting'

def assert_numpy_matches_keras(artifact):
    "The serving runtime (NumPy) computes the same function as the Keras model, from the same artifact."
    from chatbot.nlu.predict import Predictor
    from chatbot.nlu.model import build_keras_model, set_keras_weights, softmax, decode_tags
    from chatbot.nlu.text import N_SHAPES
    from chatbot.nlu.train import make_examples, pad_batch, INPUTS
    from chatbot.nlu.app import Utterance
    pred = Predictor.load(artifact)
    model = build_keras_model(pred.hp, len(pred.featurizer.vocab) + 2, N_SHAPES, len(pred.intents), len(pred.tag_names))
    texts = ['I want to buy shoes', '강남점에서 립스틱 사고 싶어요', 'what is the weather like on mars', 'x', '가방 하나 주세요!!']
    exs, _ = make_examples([Utterance(t, 'None') for t in texts], pred.featurizer, pred.intents, pred.tag_names)
    batch = pad_batch(exs)
    model({k: batch[k] for k in INPUTS})
    set_keras_weights(model, pred.W)
    il, tl = model({k: batch[k] for k in INPUTS}, training=False)
    tf_probs, tl = softmax(np.asarray(il)), np.asarray(tl)
    from chatbot.nlu.lexical import lexical_logits, mix_logits, calibrated_logits
    from chatbot.nlu.crf import tagger_features, mixed_tag_scores
    for i, t in enumerate(texts):
        np_probs, np_spans = pred.scores(t)
        want = tf_probs[i]
        vec = pred.encoder.encode([t])[0] if pred.encoder is not None else None
        lex = (lexical_logits(pred.W, t, pred.featurizer.phrase_terms(t), vec) if 'lexical_emb' in pred.W
               else None)
        # the lexical model is NumPy in both cases; the network's part is what differs
        if pred.calibration: want = softmax(calibrated_logits(np.asarray(il)[i], lex, pred.calibration))
        elif lex is not None: want = softmax(mix_logits(np.asarray(il)[i], lex, pred.hp.lexical_weight))
        assert np.allclose(np_probs, want, atol=1e-5), t
        toks = exs[i].enc.tokens                             # the lexical CRF's scores are NumPy in both cases
        dense = pred.encoder.encode_tokens(t, [x[1:] for x in toks])[1] if 'crf_lex/dense' in pred.W else None
        tags_i, trans = mixed_tag_scores(pred.W, tl[i][:len(toks)], lambda: tagger_features(pred.featurizer, t, toks),
                                         pred.hp.lexical_tagger, dense)
        tf_spans = decode_tags(tags_i, toks, pred.tag_names, trans)
        assert [s[:3] for s in np_spans] == [s[:3] for s in tf_spans], t

def test_numpy_predictor_matches_tensorflow(mini_model):
    assert_numpy_matches_keras(mini_model[1])

def test_wide_intent_head_matches_and_is_stored(mini_app, tmp_path):
    "The optional wide (linear, hashed n-gram) intent head: trained, saved in the artifact, and computed alike by NumPy."
    from chatbot.nlu.train import train
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import save_model, Predictor
    trained = train(mini_app.utterances, intents=mini_app.intents, hp=HParams(epochs=3, patience=3, wide=4096), progress=False)
    assert trained.weights['wide_emb'].shape == (4096, len(trained.intents)) and np.abs(trained.weights['wide_emb']).max() > 0
    path = save_model(trained, tmp_path/'wide', mini_app)
    assert Predictor.load(path).hp.wide == 4096
    assert_numpy_matches_keras(path)

def test_lexical_intent_model_is_trained_stored_and_mixed(mini_app, mini_model):
    "The TF-IDF intent model (on by default) goes into the artifact and into the scores; `lexical=0` leaves it out."
    from dataclasses import replace
    from chatbot.nlu.predict import Predictor
    from chatbot.nlu.train import train
    trained, path = mini_model
    assert trained.weights['lexical_emb'].shape == (trained.hparams.lexical, len(trained.intents))
    pred = Predictor.load(path)
    assert 'lexical_emb' in pred.W and np.abs(pred.W['lexical_emb']).max() > 0
    network_only = Predictor({k: v for k, v in pred.W.items() if not k.startswith('lexical')}, pred.featurizer, pred.intents,
                             pred.tag_names, pred.hp)
    text = mini_app.utterances[0].text
    assert not np.allclose(pred.scores(text)[0], network_only.scores(text)[0])
    off = train(mini_app.utterances, intents=mini_app.intents, hp=replace(trained.hparams, lexical=0, epochs=1), progress=False)
    assert not any(k.startswith('lexical') for k in off.weights)

def test_training_is_reproducible(mini_app, mini_model):
    "The same data and settings give the same weights; with a core to spare, the lexical CRF learns in a child."
    import subprocess
    from unittest import mock
    import chatbot.nlu.train as T
    with mock.patch.object(T.subprocess, 'Popen', side_effect=subprocess.Popen) as children:
        trained = T.train(mini_app.utterances, intents=mini_app.intents, hp=mini_model[0].hparams, progress=False)
    assert weights_digest(trained.weights) == weights_digest(mini_model[0].weights)
    assert children.call_count == (1 if T.spare_core() else 0)
    assert children.call_args is None or children.call_args[0][0][0] == sys.executable

def test_artifact_is_self_describing(mini_model):
    m = json.loads((mini_model[1]/'manifest.json').read_text())
    assert m['app']['name'] == 'mini' and m['labels']['intents'][0] == 'None'
    assert set(m['files']) == {'weights.h5', 'vocab.txt'} and len(m['data_hash']) == 64
    assert {'tensorflow', 'numpy', 'h5py', 'chatbot'} <= set(m['libraries'])
    assert m['hyperparameters']['epochs'] == 12

def test_out_of_scope_scores_low(mini_model):
    from chatbot.nlu.predict import Predictor
    pred = Predictor.load(mini_model[1], threshold=0.99)
    assert pred.predict('qwzx vbnm plokij').top_intent == 'None'

def test_empty_training_data_is_refused():
    from chatbot.nlu.train import train
    from chatbot.nlu.app import AppValidationError
    with pytest.raises(AppValidationError, match='empty'): train([])

def test_serving_never_imports_tensorflow(mini_model):
    "A fresh process loads the artifact and answers without importing TensorFlow or Keras."
    import subprocess, sys
    code = ("import sys; from chatbot.nlu.predict import Predictor; p = Predictor.load(sys.argv[1]); p.predict('가방 하나 주세요'); "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    r = subprocess.run([sys.executable, '-c', code, str(mini_model[1])], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == '[]'

def test_validation_intents_missing_from_training_are_left_out(mini_app):
    "ATIS's validation split has joint intents that training lacks: they are reported, not fatal."
    from chatbot.nlu.train import train
    from chatbot.nlu.model import HParams
    from chatbot.nlu.app import Utterance
    valid = mini_app.utterances[:10] + [Utterance('show me flights and fares', 'atis_airfare#atis_flight')]
    trained = train(mini_app.utterances[10:], valid, intents=mini_app.intents, hp=HParams(epochs=1), progress=False)
    assert trained.info['valid_intents_not_trained'] == ['atis_airfare#atis_flight'] and trained.info['n_valid'] == 10


def test_without_a_validation_split_training_stops_when_the_learning_rate_is_spent(mini_app):
    "Nothing to stop on: the epochs after the rate falls under `min_lr_fraction` of its start are not run."
    from chatbot.nlu.train import train
    from chatbot.nlu.model import HParams
    hp = HParams(epochs=40, lr_decay=0.5, min_lr_fraction=0.1)          # rates 1, 1/2, 1/4, 1/8, then 1/16 < 0.1
    trained = train(mini_app.utterances, intents=mini_app.intents, hp=hp, progress=False)
    assert trained.info['n_valid'] == 0 and trained.info['epochs_run'] == 4 and trained.hparams.min_lr_fraction == 0.1


def test_small_apps_train_every_epoch_without_a_tiny_validation_split(mini_model):
    "Holding out 10% of ~120 utterances would leave a dozen lines to stop on; small apps train all their epochs instead."
    from chatbot.nlu.train import MIN_VALIDATION
    trained, _ = mini_model
    assert trained.info['n_train'] * trained.hparams.valid_fraction < MIN_VALIDATION
    assert trained.info['n_valid'] == 0 and trained.info['epochs_run'] == trained.hparams.epochs == trained.info['best_epoch']


def test_an_app_without_entities_or_a_validation_split_is_trained_without_the_network(mini_app, tmp_path):
    "Its intents are the cross-validated lexical model's alone and it has nothing to tag: the network is left out."
    from unittest import mock
    import chatbot.nlu.train as T
    from chatbot.nlu.app import Utterance
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import Predictor, save_model
    plain = [Utterance(u.text, u.intent) for u in mini_app.utterances]          # the mini app, entities left out
    lean = T.train(plain, intents=mini_app.intents, hp=HParams(epochs=3), progress=False)
    with mock.patch.object(T, 'lexical_only', lambda *a, **k: False):         # as every app trained before
        full = T.train(plain, intents=mini_app.intents, hp=HParams(epochs=3), progress=False)
    assert (lean.info['network'], lean.info['epochs_run'], full.info['network'], full.info['epochs_run']) == (False, 0, True, 3)
    assert 'tok_emb' not in lean.weights and 'intent/kernel' not in lean.weights and 'lexical_emb' in lean.weights
    assert lean.calibration['network'] == full.calibration['network'] == 0.0   # the network had no say anyway
    net, lex = T.intent_logits(lean.weights, lean.featurizer, lean.hparams, [u.text for u in plain[:3]])
    assert not net.any() and lex.shape == (3, len(lean.intents))   # what calibration reads: the lexical model alone
    a, b = Predictor.from_trained(lean), Predictor.from_trained(full)
    texts = [u.text for u in plain[::5]] + ['something else entirely', '배송 언제 와요', '?!']
    for t in texts:
        pa, pb = a.predict(t), b.predict(t)
        assert (pa.top_intent, pa.entities) == (pb.top_intent, []) and abs(pa.score - pb.score) < 1e-6, t
    served = Predictor.load(save_model(lean, tmp_path/'lean', mini_app))        # float16 embeddings in the artifact
    assert served.network is False
    assert all(abs(served.predict(t).score - a.predict(t).score) < 2e-3 for t in texts)


def test_an_app_too_small_to_cross_validate_keeps_the_network(mini_app):
    "Under ten examples to cross-validate on, the intent comes from the fixed mix of both models, which needs the network."
    from chatbot.nlu.train import train
    from chatbot.nlu.app import Utterance
    from chatbot.nlu.model import HParams
    tiny = [Utterance(t, i) for t, i in [('hi there', 'Greet'), ('hello', 'Greet'), ('bye now', 'Bye'), ('see you', 'Bye')]]
    trained = train(tiny, hp=HParams(epochs=2), progress=False)
    assert (trained.info['network'], trained.info['epochs_run'], trained.calibration) == (True, 2, {})
    assert 'tok_emb' in trained.weights


def test_the_lexical_crf_learns_in_a_child_process_and_gives_the_same_model(mini_app, mini_model):
    "With a core to spare the lexical CRF learns in a child process beside the network; the model is the same."
    from unittest import mock
    import chatbot.nlu.train as T
    hp, beside = mini_model[0].hparams, mini_model[0]   # trained as shipped (`test_training_is_reproducible`)
    with mock.patch.object(T, 'spare_core', lambda: False):                   # one core: all of it here
        here = T.train(mini_app.utterances, intents=mini_app.intents, hp=hp, progress=False)
    crf = lambda w: {k: v for k, v in w.items() if k.startswith('crf_lex/')}
    assert crf(here.weights) and weights_digest(crf(here.weights)) == weights_digest(crf(beside.weights))
    assert weights_digest(here.weights) == weights_digest(beside.weights)
    if T.spare_core():   # a child that cannot start: the CRF learns here, and training says so
        with mock.patch.object(T.sys, 'executable', '/nonexistent/python'), pytest.warns(UserWarning, match='runs here'):
            failed = T.train(mini_app.utterances, intents=mini_app.intents, hp=hp, progress=False)
        assert weights_digest(failed.weights) == weights_digest(here.weights)

def test_long_message_is_tagged_past_the_tokens_the_network_reads(mini_model):
    "A message longer than `Featurizer.max_len` tokens (a Hangul character is one) has its tail tagged in windows."
    from chatbot.nlu.predict import Predictor
    from chatbot.nlu.text import tokenize
    pred = Predictor.load(mini_model[1])
    ask = '운동화를 장바구니에 담아줘'
    filler = '안녕하세요 반갑습니다 오늘도 좋은 하루 보내세요. ' * 8
    text = filler + ask
    assert len(tokenize(filler)) > pred.featurizer.max_len   # the request lies wholly past the first window
    found = [(e.entity, e.start - len(filler), e.text) for e in pred.predict(text).entities if e.kind == 'learned']
    assert ('product', 0, '운동화') in found
    assert pred.predict(ask).entities[0].text == '운동화'   # as a message of its own
