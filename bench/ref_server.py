"""Reference prediction server for the serving benchmark: Flask + scikit-learn (TF-IDF word 1-2 + char 2-5 n-grams, linear SVM).

This is what a team would write by hand around the strongest classical intent peer: it answers the LUIS v3 route
with intents only (no entities). `python bench/ref_server.py train DATA_DIR MODEL.pkl` fits and pickles the model;
`gunicorn 'bench.ref_server:create_app("MODEL.pkl")'` serves it.
"""
import json, pickle, sys, time
from pathlib import Path

def train(data_dir: str, out: str) -> None:
    "Fit the TF-IDF + linear SVM pipeline on DATA_DIR/train.jsonl and pickle it to `out`."
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC
    rows = [json.loads(l) for l in Path(data_dir, 'train.jsonl').read_text(encoding='utf-8').splitlines() if l.strip()]
    model = make_pipeline(make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                                     TfidfVectorizer(analyzer='char_wb', ngram_range=(2, 5), sublinear_tf=True)), LinearSVC(C=1.0))
    model.fit([r['text'] for r in rows], [r['intent'] for r in rows])
    Path(out).write_bytes(pickle.dumps(model))

def create_app(model_path: str):
    "A Flask app answering LUIS v3 slot predictions with the pickled pipeline."
    import numpy as np
    from flask import Flask, jsonify, request
    model = pickle.loads(Path(model_path).read_bytes())
    classes = list(model.classes_)
    model.decision_function(['warm up'])
    app = Flask('ref')

    @app.route('/luis/prediction/v3.0/apps/<app_id>/slots/<slot>/predict', methods=['GET', 'POST'])
    def predict(app_id, slot):
        q = request.args.get('query') or (request.get_json(silent=True) or {}).get('query')
        if not q: return jsonify(error=dict(code='BadArgument', message='query is missing')), 400
        z = model.decision_function([q])[0]
        p = np.exp(z - z.max()); p /= p.sum()
        order = np.argsort(-p)
        return jsonify(query=q, prediction=dict(topIntent=classes[order[0]], intents={classes[i]: dict(score=float(p[i])) for i in order}, entities={}))

    @app.route('/readyz')
    def ready(): return jsonify(ready=True)
    return app

if __name__ == '__main__' and sys.argv[1:2] == ['train']:
    t0 = time.time(); train(sys.argv[2], sys.argv[3]); print(f'trained in {time.time() - t0:.1f}s')
