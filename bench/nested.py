"""What structure costs: entity F1 of LUIS apps with learned children, every level and top level only.

Each app's utterances are split 80/20 (seeded, stratified by intent); the model trains on the 80% with the
default settings except `--epochs`, and the 20% is scored as LUIS scores nested entities: every span at every
level, an exact match of its path (`Order/FullPizzaWithModifiers/Size`) and its characters. The same held-out
utterances are also scored at the top level only, for this model and for a model trained on the top-level
labels alone (what training did before children were learned).

    .venv/bin/python bench/nested.py [--epochs 30] [--seed 0]
"""
from __future__ import annotations
import argparse, os, sys, time
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
APPS = {'Pizza v7': ROOT.parent/'shared/realworld/luis/Pizza_v7.json',
        'FlightBooking': ROOT.parent/'shared/realworld/luis/FlightBooking.json'}


def run(path, epochs: int, seed: int) -> dict:
    from chatbot.nlu.app import App
    from chatbot.nlu.formats import load_app
    from chatbot.nlu.model import HParams
    from chatbot.nlu.train import train, split_validation
    from chatbot.nlu.predict import Predictor
    from chatbot.nlu.evaluate import score, gold_pairs, prediction_pair
    app, _ = load_app(path)
    tr, te = split_validation(app.utterances, 0.2, seed)     # seeded 80/20, stratified by intent
    hp = HParams(epochs=epochs, seed=seed)
    out = dict(n_train=len(tr), n_test=len(te))
    flat = App(**{**vars(app), 'utterances': tr}).flat_utterances('top')     # what training learned before
    for name, data in (('nested', tr), ('flat', flat)):
        t0 = time.time()
        trained = train(data, intents=app.intents, hp=hp, progress=False)
        pred = Predictor.from_trained(trained, app)
        preds = [pred.predict(u.text) for u in te]
        levels = [('all_levels', True), ('top_level', False)] if name == 'nested' else [('top_level', False)]
        for level, nested in levels:
            m = score(gold_pairs(te, nested), [prediction_pair(p, nested) for p in preds])
            out[f'{name}_{level}_f1'] = round(m['entity']['f1'], 4)
        out[f'{name}_intent_accuracy'] = round(m['intent_accuracy'], 4)
        out[f'{name}_train_s'] = round(time.time() - t0, 1)
        out[f'{name}_tags'] = len(trained.tag_names)
    return out


def main(argv=None):
    import platform
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--epochs', type=int, default=30)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args(argv)
    print(f'machine: {os.cpu_count()} cores, Python {platform.python_version()}; epochs {a.epochs}, seed {a.seed}')
    print('| app | train / test utterances | tags (nested / flat) | all levels F1 | top level F1, nested model '
          '| top level F1, flat model | intent accuracy (nested / flat) | training s (nested / flat) |')
    print('|---|---|---|---|---|---|---|---|')
    for name, path in APPS.items():
        r = run(path, a.epochs, a.seed)
        print(f"| {name} | {r['n_train']} / {r['n_test']} | {r['nested_tags']} / {r['flat_tags']} "
              f"| {r['nested_all_levels_f1']:.1%} | {r['nested_top_level_f1']:.1%} | {r['flat_top_level_f1']:.1%} "
              f"| {r['nested_intent_accuracy']:.1%} / {r['flat_intent_accuracy']:.1%} "
              f"| {r['nested_train_s']:.0f} / {r['flat_train_s']:.0f} |", flush=True)


if __name__ == '__main__':
    main()
