#!/usr/bin/env python3
"""The whole model with `HParams(encoder_tune=...)`: all-MiniLM-L6-v2's top layers tuned on the app's training split
(`chatbot.nlu.tuning`) and served in int8 beside USE, against the same model without it, on one data set's test split
(issue 17: CLINC150 in scope >= 96% at >= 70% OOS recall, p50 <= 2 ms).

    nice -n 10 .venv/bin/python bench/tuned_encoder.py                          # CLINC150: tuned, USE alone
    .venv/bin/python bench/tuned_encoder.py --dataset snips --models tuned,english,use --layers 1

Models: `tuned` (encoder_tune=--layers), `english` (the stock English encoder beside USE), `use` (USE alone, what
`make bench` runs for sets with more than 50 examples an intent). Scored as bench/run.py scores CLINC150: trained
without `oos` lines, at the threshold training chose from the validation split; a top intent of `None` is right for
an `oos` test line. Each model is saved as an artifact (under --out-dir) and scored by a fresh process that loads
it, as bench/run.py scores its model: p50 over 1,000 test lines one at a time after 50 to warm up; load + first
prediction and peak RSS are bench/run.py's `fresh_load` (median of 5 processes). One JSON object per model to stdout.
"""
import argparse, json, subprocess, sys, time
from pathlib import Path
import numpy as np
sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from fewshot import DATA, OOS
from chatbot.nlu.formats import load_split
from chatbot.nlu.model import HParams
from chatbot.nlu.predict import Predictor, save_model
from chatbot.nlu.train import train
from run import fresh_load


def score(p: Predictor, test, timed: int = 1050) -> dict:
    "In-scope accuracy, OOS recall, the `None` rate in scope, and the p50 of `predict` over the first lines."
    ok = oos = n_oos = none = 0; times = []
    for i, u in enumerate(test):
        t0 = time.perf_counter(); top = p.predict(u.text).top_intent
        if i < timed: times.append(time.perf_counter() - t0)
        if u.intent == OOS: n_oos += 1; oos += top == 'None'
        else: ok += top == u.intent; none += top == 'None'
    n_in = len(test) - n_oos
    return dict(in_scope=round(ok / n_in, 4), oos_recall=round(oos / n_oos, 4) if n_oos else None,
                none_rate=round(none / n_in, 4), p50_ms=round(1000 * float(np.median(times[50:])), 3))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--dataset', default='clinc150')
    ap.add_argument('--models', default='tuned,use', help='comma-separated: tuned, english, use')
    ap.add_argument('--layers', type=int, default=2, help='top MiniLM layers to tune (HParams.encoder_tune)')
    ap.add_argument('--epochs', type=int, default=3, help='HParams.encoder_tune_epochs')
    ap.add_argument('--out-dir', type=Path, default=Path(__file__).resolve().parent / 'out' / 'tuned_encoder')
    ap.add_argument('--score', type=Path, help=argparse.SUPPRESS)   # (internal) score this artifact, print JSON
    a = ap.parse_args(argv)
    folder = DATA / a.dataset
    if a.score:
        print(json.dumps(score(Predictor.load(a.score), load_split(folder, 'test')))); return
    hps = dict(tuned=HParams(encoder_tune=a.layers, encoder_tune_epochs=a.epochs),
               english=HParams(encoder_english=True), use=HParams(encoder_english=False))
    names = a.models.split(',')
    if unknown := set(names) - set(hps): ap.error(f'--models: unknown {sorted(unknown)}; known: {sorted(hps)}')
    keep = lambda us: [u for u in us if u.intent != OOS]
    tr, va = keep(load_split(folder, 'train')), keep(load_split(folder, 'valid') or [])
    rows = []
    for name in names:
        t0 = time.time()
        trained = train(tr, va, hp=hps[name], progress=False)
        row = dict(dataset=a.dataset, model=name, train_s=round(time.time() - t0, 1),
                   threshold=trained.calibration.get('threshold'), tuning=trained.info.get('encoder_tuning'))
        out = save_model(trained, a.out_dir / f'{a.dataset}-{name}')
        rows.append(row | dict(artifact=str(out), artifact_mb=round(sum(f.stat().st_size for f in out.iterdir()) / 1e6, 2)))
    del trained
    for row in rows:   # each in a fresh process that only loads, as a server would
        r = subprocess.run([sys.executable, __file__, '--dataset', a.dataset, '--score', row['artifact']],
                           capture_output=True, text=True)
        if r.returncode: raise SystemExit(f'scoring {row["artifact"]} failed:\n{r.stderr[-3000:]}')
        row.update(json.loads(r.stdout.strip().splitlines()[-1]), **fresh_load(Path(row['artifact'])))
        print(json.dumps(row), flush=True)


if __name__ == '__main__':
    main()
