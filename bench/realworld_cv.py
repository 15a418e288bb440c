#!/usr/bin/env python3
"""Held-out intent accuracy and entity F1 of the real apps in `../shared/realworld`: each app's examples in k folds
(shuffled with a fixed seed), trained with defaults on k - 1 and scored on the one left out, for one or more
settings of `HParams` (issue 17: data nobody tuned for). Each app trains as the studio trains it (`train_app`:
its phrase lists and the values it lists for its entities); nested entities are scored at every level.

With `--peers`, issue 17's baselines learn the same folds: TF-IDF + logistic regression (`bench/peers.py`, the
intents) and the CRF (the entities, which it tags one level deep, so ours is also scored on the top-level spans
beside it). They read only the examples: no phrase lists, no list values.

    .venv/bin/python bench/realworld_cv.py                                   # defaults against entity_swaps=0
    .venv/bin/python bench/realworld_cv.py --apps lu/HomeAutomation.lu --hparams '{}' '{"lexical_tagger": 0}'
    .venv/bin/python bench/realworld_cv.py --hparams '{}' --peers --apps ALL    # every app, beside the peers

Apps too small for k folds of entities say little: the default list is those with at least 35 examples that
have entities. One JSON object per (app, settings) to stdout, then a markdown table.
"""
import argparse, json, random, sys
from dataclasses import replace
from pathlib import Path
sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from chatbot.nlu.formats import load_app
from chatbot.nlu.model import HParams
from chatbot.nlu.train import train_app
from chatbot.nlu.predict import Predictor
from chatbot.nlu.evaluate import score, gold_pairs, prediction_pair

REALWORLD = Path(__file__).resolve().parents[2] / 'shared' / 'realworld'
APPS = ('lu/HomeAutomation.lu', 'luis/phrase-list-tutorial.json', 'rasa/financial-demo-nlu.yml', 'luis/Pizza_v7.json')
ALL = APPS + ('clu/BasicAssistantCLU.json', 'luis/FlightBooking.json', 'luis/TravelAgent.json',
              'lu/pizza-tutorials-with-entities.lu')


def folds_of(path: Path, folds: int, seed: int = 0) -> tuple:
    "`(app, [(kept app, held utterances), ...])`: the app's examples shuffled with `seed` and dealt into `folds`."
    app, _ = load_app(path)
    utts = list(app.utterances)
    random.Random(seed).shuffle(utts)
    return app, [(replace(app, utterances=[u for i, u in enumerate(utts) if i % folds != f]), utts[f::folds])
                 for f in range(folds)]


def peer_scores(path: Path, folds: int, seed: int = 0) -> dict:
    "Pooled held-out scores of TF-IDF + LR (intents; not with one intent) and the CRF (top-level entities)."
    import peers
    _, dealt = folds_of(path, folds, seed)
    gold, lr, crf = [], [], []
    for kept, held in dealt:
        gold += gold_pairs(held, nested=False)
        if len({u.intent for u in kept.utterances}) > 1:
            lr += peers.run_peer(peers.LogRegIntents(), kept.utterances, held)['pairs']
        if any(u.entities for u in kept.utterances):
            crf += peers.run_peer(peers.CrfEntities(), kept.utterances, held)['pairs']
    return dict(lr_intent_accuracy=round(100 * score(gold, lr)['intent_accuracy'], 2) if len(lr) == len(gold) else None,
                crf_entity_f1=round(100 * score(gold, crf)['entity']['f1'], 2) if len(crf) == len(gold) else None)


def cross_validate(path: Path, hparams: dict, folds: int, seed: int = 0) -> dict:
    "Pooled held-out scores of `folds` models of the app at `path`, each trained without one fold."
    app, dealt = folds_of(path, folds, seed)
    gold, pred, swaps, flat_gold, flat = [], [], [], [], []
    for kept, held in dealt:
        trained = train_app(kept, hp=HParams(**hparams), progress=False)   # as the studio and `chatbot train` do
        gold += gold_pairs(held); flat_gold += gold_pairs(held, nested=False)
        predictor = Predictor.from_trained(trained, app)
        answers = [predictor.predict(u.text) for u in held]
        pred += [prediction_pair(a) for a in answers]
        flat += [prediction_pair(a, nested=False) for a in answers]
        swaps.append(trained.info.get('entity_swaps', 0))
    m = score(gold, pred)
    top = score(flat_gold, flat)
    return dict(utterances=len(app.utterances), with_entities=sum(1 for u in app.utterances if u.entities),
                intent_accuracy=round(100 * m['intent_accuracy'], 2), entity_f1=round(100 * m['entity']['f1'], 2),
                top_level_entity_f1=round(100 * top['entity']['f1'], 2), entity_swaps=swaps)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--apps', nargs='+', default=list(APPS), help='paths under --realworld, or ALL for every app')
    p.add_argument('--peers', action='store_true', help='also TF-IDF + logistic regression and the CRF, same folds')
    p.add_argument('--hparams', nargs='+', default=['{"entity_swaps": 0}', '{}'], help='JSON of HParams fields')
    p.add_argument('--folds', type=int, default=5)
    p.add_argument('--shuffle-seed', type=int, default=0, help='seed of the shuffle that deals the folds')
    p.add_argument('--realworld', type=Path, default=REALWORLD)
    a = p.parse_args(argv)
    settings = []
    for h in a.hparams:
        try: settings.append(json.loads(h))
        except json.JSONDecodeError as e: p.error(f'--hparams {h!r} is not JSON: {e}')
    rows, apps = [], list(ALL) if a.apps == ['ALL'] else a.apps
    for app in apps:
        for hp in settings:
            r = dict(app=app, hparams=hp, **cross_validate(a.realworld / app, hp, a.folds, a.shuffle_seed))
            print(json.dumps(r), flush=True)
            rows.append(r)
        if a.peers:
            r = dict(app=app, **peer_scores(a.realworld / app, a.folds, a.shuffle_seed))
            print(json.dumps(r), flush=True)
            for row in rows[-len(settings):]: row.update(r)
    pct = lambda x: '—' if x is None else f'{x:.1f}%'
    print('\n| app | examples (with entities) | settings | intent accuracy | entity F1 |'
          + (' peer LR: intent accuracy | top-level entity F1: ours / CRF |' if a.peers else '')
          + '\n|---|---|---|---|---|' + ('---|---|' if a.peers else ''))
    for r in rows:
        ents = r['with_entities'] > 0
        print(f"| {r['app']} | {r['utterances']} ({r['with_entities']}) | `{json.dumps(r['hparams'])}` | "
              f"{r['intent_accuracy']:.1f}% | {pct(r['entity_f1'] if ents else None)} |"
              + (f" {pct(r.get('lr_intent_accuracy'))} | {pct(r['top_level_entity_f1'] if ents else None)} / "
                 f"{pct(r.get('crf_entity_f1'))} |" if a.peers else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
