"""Peer baselines for `bench/run.py`: TF-IDF + LinearSVC and fastText for intents, a CRF for entities.

Every peer has the same small interface: `fit(utterances)` and `predict(text)`, where `predict` returns an intent
name (`task == 'intent'`) or a list of `(start, end, label)` character spans (`task == 'entities'`).
`run_peer` trains one, times it and returns its predictions; scoring is done by the caller with
`chatbot.nlu.evaluate.score`, exactly as for our model.
"""
from __future__ import annotations
import os, tempfile, time
import numpy as np
from chatbot.nlu.text import tokenize, spans_to_tags, tags_to_spans
from chatbot.nlu.crf import token_shape

WARMUP = 50  # predictions made before latencies are recorded


def latency_ms(times: list[float]) -> dict:
    "p50 / p99 / mean of per-call `times` (seconds), in milliseconds."
    a = np.asarray(times) * 1000
    return dict(p50_ms=float(np.percentile(a, 50)), p99_ms=float(np.percentile(a, 99)), mean_ms=float(a.mean()))


def timed_calls(fn, items, warmup: int = WARMUP) -> tuple[list, list[float]]:
    "`fn(x)` for every item, with per-call wall times (after `warmup` untimed calls on the first items)."
    for x in items[:warmup]: fn(x)
    out, times = [], []
    for x in items:
        t = time.perf_counter(); out.append(fn(x)); times.append(time.perf_counter() - t)
    return out, times


# ---------------------------------------------------------------------------------------------------------------
# Intents
# ---------------------------------------------------------------------------------------------------------------
class SvmIntents:
    "TF-IDF (word 1-2 grams + char_wb 2-5 grams, sublinear tf) and a LinearSVC."
    name, task = 'TF-IDF + LinearSVC', 'intent'

    def classifier(self):
        from sklearn.svm import LinearSVC
        return LinearSVC(C=1.0)

    def fit(self, utterances):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline, make_union
        feats = make_union(TfidfVectorizer(analyzer='word', ngram_range=(1, 2), sublinear_tf=True, lowercase=True),
                           TfidfVectorizer(analyzer='char_wb', ngram_range=(2, 5), sublinear_tf=True, lowercase=True))
        self.model = make_pipeline(feats, self.classifier())
        self.model.fit([u.text for u in utterances], [u.intent for u in utterances])
        return self

    def predict(self, text: str) -> str: return str(self.model.predict([text])[0])


class LogRegIntents(SvmIntents):
    "The same TF-IDF features and scikit-learn's LogisticRegression (defaults): issue 17's baseline."
    name, task = 'TF-IDF + LogisticRegression', 'intent'

    def classifier(self):
        from sklearn.linear_model import LogisticRegression
        return LogisticRegression(max_iter=2000)


class FastTextIntents:
    "fastText supervised classifier (no pretrained vectors), trained from a temporary file."
    name, task = 'fastText', 'intent'
    PREFIX = '__label__'

    def __init__(self, epoch: int = 25, lr: float = 0.5, word_ngrams: int = 2, threads: int = 1):
        self.params = dict(epoch=epoch, lr=lr, wordNgrams=word_ngrams, thread=threads, verbose=0, seed=0)

    @staticmethod
    def _clean(text: str) -> str: return ' '.join(text.lower().split())

    def fit(self, utterances):
        import fasttext
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'train.txt')
            with open(path, 'w', encoding='utf-8') as f:
                for u in utterances: f.write(f'{self.PREFIX}{u.intent.replace(" ", "_")} {self._clean(u.text)}\n')
            self.model = fasttext.train_supervised(input=path, **self.params)
        self.labels = {u.intent.replace(' ', '_'): u.intent for u in utterances}
        return self

    def predict(self, text: str) -> str:
        # The low-level call: fasttext-wheel 0.9.2's `predict` breaks under NumPy 2 (`np.array(..., copy=False)`).
        (_, label), = self.model.f.predict(self._clean(text) + '\n', 1, 0.0, 'strict')
        label = label[len(self.PREFIX):]
        return self.labels.get(label, label)


# ---------------------------------------------------------------------------------------------------------------
# Entities
# ---------------------------------------------------------------------------------------------------------------
def token_features(words: list[str], i: int) -> list[str]:
    "CRF features of token `i`: the word, affixes, shape, flags, neighbours within ±2, BOS/EOS."
    w = words[i]; low = w.lower()
    f = ['bias', 'w=' + low, 'p2=' + low[:2], 'p3=' + low[:3], 's2=' + low[-2:], 's3=' + low[-3:],
         'shape=' + token_shape(w), f'digit={w.isdigit()}', f'title={w.istitle()}']
    for d in (-2, -1, 1, 2):
        j = i + d
        if 0 <= j < len(words):
            n = words[j]
            f += [f'{d}:w={n.lower()}', f'{d}:s3={n.lower()[-3:]}', f'{d}:title={n.istitle()}', f'{d}:digit={n.isdigit()}']
    if i == 0: f.append('BOS')
    if i == len(words) - 1: f.append('EOS')
    return f


class CrfEntities:
    "Linear-chain CRF (python-crfsuite) over `chatbot.nlu.text.tokenize` tokens with BIO tags, mapped back to character spans."
    name, task = 'CRF (python-crfsuite)', 'entities'

    def __init__(self, c1: float = 0.1, c2: float = 0.1, max_iterations: int = 100):
        self.params = {'c1': c1, 'c2': c2, 'max_iterations': max_iterations, 'feature.possible_transitions': True}

    @staticmethod
    def _features(tokens) -> list[list[str]]:
        words = [t for t, *_ in tokens]
        return [token_features(words, i) for i in range(len(words))]

    def fit(self, utterances):
        import pycrfsuite
        from chatbot.nlu.evaluate import span_label
        trainer = pycrfsuite.Trainer(verbose=False)
        for u in utterances:
            toks = tokenize(u.text)
            if not toks: continue
            tags, _ = spans_to_tags(toks, [(e.start, e.end, span_label(e.entity, e.role)) for e in u.entities])
            trainer.append(self._features(toks), tags)
        trainer.set_params(self.params)
        self._dir = tempfile.TemporaryDirectory()
        path = os.path.join(self._dir.name, 'model.crfsuite')
        trainer.train(path)
        self.tagger = pycrfsuite.Tagger(); self.tagger.open(path)
        return self

    def predict(self, text: str) -> list[tuple[int, int, str]]:
        toks = tokenize(text)
        if not toks: return []
        return [(s, e, label) for s, e, label, _ in tags_to_spans(toks, self.tagger.tag(self._features(toks)))]


# ---------------------------------------------------------------------------------------------------------------
def run_peer(peer, train, test) -> dict:
    "Train `peer` on `train` utterances and predict `test`: train time, latencies and `(intent, spans)` predictions."
    t = time.perf_counter(); peer.fit(train); train_s = time.perf_counter() - t
    outputs, times = timed_calls(peer.predict, [u.text for u in test])
    if peer.task == 'intent': pairs = [(o, []) for o in outputs]
    else: pairs = [(u.intent, o) for u, o in zip(test, outputs)]  # gold intent: only the entity figures count
    return dict(name=peer.name, task=peer.task, train_s=train_s, pairs=pairs, **latency_ms(times))


def peers_for(train) -> list:
    "The peers that apply to a training set (the CRF only when it has entity labels)."
    out = [SvmIntents(), LogRegIntents(), FastTextIntents()]
    if any(u.entities for u in train): out.insert(1, CrfEntities())
    return out
