"Phrase lists as model features (issue 16): trained with, stored in the artifact, served with the same features."
import json
from pathlib import Path

import numpy as np
import pytest

REAL = Path(__file__).resolve().parents[2]/'shared'/'realworld'


@pytest.mark.skipif(not (REAL/'luis'/'phrase-list-tutorial.json').exists(), reason='../shared/realworld is not present')
def test_phrase_list_tutorial_trains_with_its_list_and_serves_the_same(tmp_path):
    from chatbot.nlu.artifacts import read_manifest
    from chatbot.nlu.formats import load_app
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import Predictor, save_model
    from chatbot.nlu.text import Featurizer
    from chatbot.nlu.train import train
    app, rep = load_app(REAL/'luis'/'phrase-list-tutorial.json')
    assert [p.name for p in app.phrase_lists] == ['Want'] and not any('Want' in k for k in rep.kept)
    trained = train(app.flat_utterances(), intents=app.intents, hp=HParams(epochs=3), progress=False,
                    phrase_lists=app.phrase_lists)
    path = save_model(trained, tmp_path/'m', app)
    assert read_manifest(path)['featurizer']['phrases'][0]['words'][:3] == ['Want', 'Require', 'requires']
    served, here = Predictor.load(path), Predictor.from_trained(trained, app)
    texts = ['i require a new docking station', 'who is my manager', 'we desire ergonomic chairs']
    for t in texts:
        a, b = served.predict(t), here.predict(t)
        assert a.top_intent == b.top_intent   # the artifact keeps embeddings in float16: scores agree to ~1e-3
        assert max(abs(a.intents[k] - b.intents[k]) for k in a.intents) < 3e-3
    assert served.featurizer.phrase_terms('we desire chairs') == ['spl=Want']
    # the features count: the same weights without the list answer differently where a list word is
    served.featurizer = Featurizer(served.featurizer.vocab, served.featurizer.buckets, served.featurizer.max_len)
    with_list = Predictor.load(path)
    diff = lambda t: np.abs(served.scores(t)[0] - with_list.scores(t)[0]).max()
    assert diff('i require a new docking station') > 1e-3 and diff('who is my manager') < 1e-6


def test_artifact_without_phrase_lists_featurizes_as_before():
    "An old artifact's featurizer config (no `phrases`) builds the featurizer it always did."
    from chatbot.nlu.text import Featurizer
    old = Featurizer.from_config(['a', 'b'], json.loads('{"buckets": 64, "max_len": 16, "tokenizer": "v1"}'))
    assert old.phrases == [] and old.config() == {'buckets': 64, 'max_len': 16, 'tokenizer': 'v1'}
    assert old.encode('a b c').bag == Featurizer(['a', 'b'], 64, 16).encode('a b c').bag
