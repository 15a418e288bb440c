#!/usr/bin/env python3
"""Held-out intent accuracy and entity F1 of the real apps in `../shared/realworld`: each app's examples in k folds
(shuffled with a fixed seed), trained with defaults on k - 1 and scored on the one left out, for one or more
settings of `HParams` (issue 17: data nobody tuned for). Each app trains as the studio trains it (`train_app`:
its phrase lists and the values it lists for its entities); nested entities are scored at every level.

    .venv/bin/python bench/realworld_cv.py                                   # defaults against entity_swaps=0
    .venv/bin/python bench/realworld_cv.py --apps lu/HomeAutomation.lu --hparams '{}' '{"lexical_tagger": 0}'

Apps too small for k folds of entities say little: the default list is those with at least 35 examples that
have entities. One JSON object per (app, settings) to stdout, then a markdown table.
"""
import argparse, json, random, sys
from dataclasses import replace
from pathlib import Path
sys.path[:0] = [str(Path(__file__).resolve().parents[1])]
from chatbot.nlu.formats import load_app
from chatbot.nlu.model import HParams
from chatbot.nlu.train import train_app
from chatbot.nlu.predict import Predictor
from chatbot.nlu.evaluate import score, gold_pairs, predicted_pairs

REALWORLD = Path(__file__).resolve().parents[2] / 'shared' / 'realworld'
APPS = ('lu/HomeAutomation.lu', 'luis/phrase-list-tutorial.json', 'rasa/financial-demo-nlu.yml', 'luis/Pizza_v7.json')


def cross_validate(path: Path, hparams: dict, folds: int, seed: int = 0) -> dict:
    "Pooled held-out scores of `folds` models of the app at `path`, each trained without one fold."
    app, _ = load_app(path)
    utts = list(app.utterances)
    random.Random(seed).shuffle(utts)
    gold, pred, swaps = [], [], []
    for f in range(folds):
        held = utts[f::folds]
        kept = replace(app, utterances=[u for i, u in enumerate(utts) if i % folds != f])
        trained = train_app(kept, hp=HParams(**hparams), progress=False)   # as the studio and `chatbot train` do
        gold += gold_pairs(held)
        pred += predicted_pairs(Predictor.from_trained(trained, app), held)
        swaps.append(trained.info.get('entity_swaps', 0))
    m = score(gold, pred)
    return dict(utterances=len(utts), with_entities=sum(1 for u in utts if u.entities),
                intent_accuracy=round(100 * m['intent_accuracy'], 2), entity_f1=round(100 * m['entity']['f1'], 2),
                entity_swaps=swaps)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--apps', nargs='+', default=list(APPS), help='paths under --realworld')
    p.add_argument('--hparams', nargs='+', default=['{"entity_swaps": 0}', '{}'], help='JSON of HParams fields')
    p.add_argument('--folds', type=int, default=5)
    p.add_argument('--shuffle-seed', type=int, default=0, help='seed of the shuffle that deals the folds')
    p.add_argument('--realworld', type=Path, default=REALWORLD)
    a = p.parse_args(argv)
    settings = []
    for h in a.hparams:
        try: settings.append(json.loads(h))
        except json.JSONDecodeError as e: p.error(f'--hparams {h!r} is not JSON: {e}')
    rows = []
    for app in a.apps:
        for hp in settings:
            r = dict(app=app, hparams=hp, **cross_validate(a.realworld / app, hp, a.folds, a.shuffle_seed))
            print(json.dumps(r), flush=True)
            rows.append(r)
    print('\n| app | examples (with entities) | settings | intent accuracy | entity F1 |\n|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['app']} | {r['utterances']} ({r['with_entities']}) | `{json.dumps(r['hparams'])}` | "
              f"{r['intent_accuracy']:.1f}% | {r['entity_f1']:.1f}% |")
    return 0


if __name__ == '__main__':
    sys.exit(main())
