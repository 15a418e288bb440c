#!/usr/bin/env python3
"""What Korean morphology costs at serving: load + first prediction, memory, per-prediction time.

    nice -n 10 .venv/bin/python bench/morphology.py            # ParaKQC (bench/data/parakqc), all its training data

Trains our model on the whole training set twice (featurizer morphology 'kiwi', as `Featurizer.fit` chooses for
Korean, and `None`), saves both artifacts under `--out`, and for each runs `--runs` fresh processes that import the
package, load the artifact and predict one sentence (median seconds, peak RSS), then times every test sentence in
one process (p50/p99/mean ms after 20 warm-up predictions) and scores intent accuracy.
"""
from __future__ import annotations
import argparse, json, statistics, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'bench')]
PEAK = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) / 1024"
LOAD = f'''import time, json, sys
t = time.perf_counter()
from chatbot.nlu.predict import Predictor
p = Predictor.load(sys.argv[1]); l = time.perf_counter() - t
p.predict(sys.argv[2])
print(json.dumps(dict(load_s=l, first_s=time.perf_counter() - t, rss_mb={PEAK})))'''


def train_both(folder: Path, out: Path) -> dict:
    "Artifacts trained with and without morphology on `folder`'s train.jsonl."
    from chatbot.nlu.formats import load_split
    from chatbot.nlu.app import App
    from chatbot.nlu.train import train
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import save_model
    from chatbot.nlu.text import Featurizer
    fit = Featurizer.fit.__func__
    utts = load_split(folder, 'train')
    app = App.from_utterances(folder.name, utts, culture='ko-kr')
    paths = {}
    for name, morph in (('kiwi', 'auto'), ('none', None)):
        Featurizer.fit = classmethod(lambda cls, texts, m=morph, **kw: fit(cls, texts, **{**kw, 'morphology': m}))
        t = time.perf_counter()
        trained = train(utts, None, intents=app.intents, hp=HParams(seed=0), progress=False)
        print(f'{name}: trained in {time.perf_counter() - t:.0f} s', file=sys.stderr)
        paths[name] = str(save_model(trained, out / name, app))
    Featurizer.fit = classmethod(fit)
    return paths


def measure(path: str, test, runs: int) -> dict:
    "Fresh-process load figures and in-process prediction times and accuracy."
    from chatbot.nlu.predict import Predictor
    import peers
    rows = []
    for _ in range(runs):
        r = subprocess.run([sys.executable, '-c', LOAD, path, test[0].text], cwd=ROOT, capture_output=True, text=True)
        if r.returncode: raise SystemExit(r.stderr[-2000:])
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
    pred = Predictor.load(path)
    for u in test[:20]: pred.predict(u.text)
    times, right = [], 0
    for u in test:
        t = time.perf_counter(); p = pred.predict(u.text); times.append(time.perf_counter() - t)
        right += p.top_intent == u.intent
    med = lambda k: statistics.median(r[k] for r in rows)
    return dict(load_s=med('load_s'), first_s=med('first_s'),
                rss_mb=max(r['rss_mb'] for r in rows), **peers.latency_ms(times), accuracy=right / len(test),
                morphology=pred.featurizer.morphology)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=str(ROOT / 'bench' / 'data' / 'parakqc'))
    p.add_argument('--out', default='/tmp/chatbot-morphology')
    p.add_argument('--runs', type=int, default=5)
    a = p.parse_args(argv)
    from chatbot.nlu.formats import load_split
    paths = train_both(Path(a.data), Path(a.out))
    test = load_split(Path(a.data), 'test')
    print(json.dumps({name: measure(path, test, a.runs) for name, path in paths.items()}, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
