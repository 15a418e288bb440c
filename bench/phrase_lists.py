#!/usr/bin/env python3
"""Do phrase lists help a small app? Intent accuracy and entity F1 on held-out data, with and without them (issue 16).

    nice -n 10 .venv/bin/python bench/phrase_lists.py            # both studies, seeds 0-2
    nice -n 10 .venv/bin/python bench/phrase_lists.py --study snips --seeds 0

`tutorial`: LUIS's phrase-list tutorial app (../shared/realworld/luis/phrase-list-tutorial.json, 65 utterances, one
phrase list `Want`), 5-fold cross-validation stratified by intent, trained with and without its phrase list.
`snips`: 10 training utterances per intent from SNIPS `train.jsonl` (`bench/fewshot.py`'s sample), scored on the whole
`test.jsonl`; phrase lists are one list per entity type, of the values labelled (a) in the 10-shot sample only,
(b) anywhere in `train.jsonl` (lookup tables a team would have; never test data).
"""
from __future__ import annotations
import argparse, json, random, statistics, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'bench')]
SHARED = ROOT.parent / 'shared'


def fit_score(train_utts, test_utts, intents, seed, phrase_lists=None) -> dict:
    "Train on `train_utts` (with `phrase_lists`), score intent accuracy and entity F1 on `test_utts`."
    from chatbot.nlu.evaluate import gold_pairs, predicted_pairs, score
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import Predictor
    from chatbot.nlu.train import train
    trained = train(train_utts, None, intents=intents, hp=HParams(seed=seed), progress=False, phrase_lists=phrase_lists)
    m = score(gold_pairs(test_utts), predicted_pairs(Predictor.from_trained(trained), test_utts))
    return dict(intent=m['intent_accuracy'], entity_f1=m['entity']['f1'])


def lists_of(utterances, name_prefix='') -> list:
    "One phrase list per entity type, of the values labelled in `utterances`."
    from chatbot.nlu.app import PhraseList
    vals = {}
    for u in utterances:
        for s in u.entities: vals.setdefault(s.entity, set()).add(s.value.lower())
    return [PhraseList(name_prefix + e, sorted(v)) for e, v in sorted(vals.items())]


def tutorial(seeds) -> dict:
    from chatbot.nlu.formats import load_app
    app, _ = load_app(SHARED / 'realworld' / 'luis' / 'phrase-list-tutorial.json')
    flat = app.flat_utterances('top')
    out = {'without': [], 'with': []}
    for seed in seeds:
        by = {}
        for u in flat: by.setdefault(u.intent, []).append(u)
        rng, folds = random.Random(seed), [[] for _ in range(5)]
        for i in sorted(by):
            us = by[i][:]; rng.shuffle(us)
            for n, u in enumerate(us): folds[n % 5].append(u)
        for f in range(5):
            tr = [u for g in range(5) if g != f for u in folds[g]]
            for cond, pls in (('without', None), ('with', app.phrase_lists)):
                r = fit_score(tr, folds[f], app.intents, seed, pls)
                r['n_test'] = len(folds[f]); out[cond].append(r)
                print('tutorial', seed, f, cond, r, file=sys.stderr, flush=True)
    return out


def snips(seeds, k=10) -> dict:
    from chatbot.nlu.formats import load_split
    from fewshot import sample
    folder = SHARED / 'datasets' / 'snips'
    full, test = load_split(folder, 'train'), load_split(folder, 'test')
    big = lists_of(full)
    out = {'without': [], 'shot lists': [], 'train lists': []}
    for seed in seeds:
        shot = sample(full, k, seed)
        for cond, pls in (('without', None), ('shot lists', lists_of(shot)), ('train lists', big)):
            r = fit_score(shot, test, None, seed, pls); out[cond].append(r)
            print('snips', seed, cond, r, file=sys.stderr, flush=True)
    return out


def summary(res: dict) -> dict:
    def mean(rows, key, weight=None):
        if weight: return sum(r[key] * r[weight] for r in rows) / sum(r[weight] for r in rows)
        return statistics.mean(r[key] for r in rows)
    return {cond: {key: round(mean(rows, key, 'n_test' if 'n_test' in rows[0] else None), 4)
                   for key in ('intent', 'entity_f1')} for cond, rows in res.items()}


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--study', choices=('tutorial', 'snips', 'both'), default='both')
    ap.add_argument('--seeds', default='0,1,2')
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split(',')]
    res = {}
    if a.study in ('tutorial', 'both'): res['tutorial'] = summary(tutorial(seeds))
    if a.study in ('snips', 'both'): res['snips'] = summary(snips(seeds))
    print(json.dumps(res, indent=1))
