#!/usr/bin/env python3
"""Choosing the sentence vectors' weight and C for the lexical model (issue 17), on validation data only.

    nice -n 10 .venv/bin/python bench/encoder_weight.py > bench/out/encoder_weight.jsonl

CLINC150 (in-scope) and SNIPS, 10 training utterances per intent (seeds 0 and 1, drawn the same way as bench/fewshot.py),
scored on `valid.jsonl` (in-scope lines): the lexical model's own features (hashed TF-IDF of chatbot.nlu.lexical, and
`w` times the centred, unit-length USE-m vector) and scikit-learn's LogisticRegression without class weights (the
data are balanced). One JSON line per (data set, seed, C, w).
"""
import json, random, sys, time
import numpy as np
sys.path.insert(0, str(__import__('pathlib').Path(__file__).resolve().parents[1]))
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression
from chatbot.nlu.lexical import lexical_terms, tfidf_vector, document_frequency
from chatbot.nlu.encoder import get_encoder
D = str(__import__('pathlib').Path(__file__).resolve().parents[2] / 'shared' / 'datasets') + '/'
def rows(p): return [json.loads(l) for l in open(p)]
def sample(rs, k, seed):
    by = {}
    for r in rs:
        if r['intent'] != 'oos': by.setdefault(r['intent'], []).append(r)
    rng = random.Random(seed)
    return [u for i in sorted(by) for u in rng.sample(by[i], min(k, len(by[i])))]
enc = get_encoder(); B = 1 << 14
for ds in ('clinc150', 'snips'):
    for seed in (0, 1):
        tr = sample(rows(D + ds + '/train.jsonl'), 10, seed)
        va = [r for r in rows(D + ds + '/valid.jsonl') if r['intent'] != 'oos']
        labs = sorted({r['intent'] for r in tr}); ix = {l: i for i, l in enumerate(labs)}
        ytr = np.array([ix[r['intent']] for r in tr]); yva = np.array([ix[r['intent']] for r in va])
        terms = [lexical_terms(r['text'], B) for r in tr]
        df = document_frequency(terms, B)
        idf = (np.log((1 + len(tr)) / (1 + df)) + 1).astype(np.float32)
        def tfidf(rs):
            vs = [tfidf_vector(lexical_terms(r['text'], B), idf) for r in rs]
            ip = np.cumsum([0] + [len(v[0]) for v in vs])
            return csr_matrix((np.concatenate([v[1] for v in vs]), np.concatenate([v[0] for v in vs]), ip), shape=(len(rs), B))
        Xt, Xv = tfidf(tr), tfidf(va)
        Et, Ev = enc.encode([r['text'] for r in tr]), enc.encode([r['text'] for r in va])
        mu = Et.mean(0)
        def unit(E): E = E - mu; return E / np.linalg.norm(E, axis=1, keepdims=True)
        Et, Ev = unit(Et), unit(Ev)
        for C in (10, 30):
            for w in (0, 0.5, 1, 1.5, 2, 3):
                A = hstack([Xt, csr_matrix(w * Et)]).tocsr() if w else Xt
                V = hstack([Xv, csr_matrix(w * Ev)]).tocsr() if w else Xv
                t = time.time()
                lr = LogisticRegression(C=C, max_iter=2000).fit(A, ytr)
                p = lr.predict_proba(V)
                acc = (p.argmax(1) == yva).mean()
                nll = -np.log(p[np.arange(len(yva)), yva] + 1e-12).mean()
                print(json.dumps(dict(ds=ds, seed=seed, C=C, w=w, acc=round(float(acc), 4), nll=round(float(nll), 3), s=round(time.time() - t, 1))), flush=True)
