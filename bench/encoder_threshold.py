#!/usr/bin/env python3
"""CLINC150 10-shot (seed 0) in-scope accuracy and out-of-scope recall at several `None` thresholds, with and without
the sentence encoder (issue 17): where the two models trade, whatever threshold calibration picks.

    nice -n 10 .venv/bin/python bench/encoder_threshold.py     # one JSON line per (encoder, threshold)
"""
import sys, json, numpy as np
from pathlib import Path
sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from fewshot import sample, DATA, OOS
from chatbot.nlu.formats import load_split
from chatbot.nlu.model import HParams
from chatbot.nlu.train import train
from chatbot.nlu.predict import Predictor
shot = sample(load_split(DATA / 'clinc150', 'train'), 10, 0, lambda u: u.intent != OOS)
test = load_split(DATA / 'clinc150', 'test')
for on in (True, False):
    tr = train(shot, None, hp=HParams(seed=0, encoder=on), progress=False)
    p = Predictor.from_trained(tr, threshold=0.0)
    P = np.array([p.scores(u.text)[0] for u in test]); top = P.max(1); arg = np.array(p.intents)[P.argmax(1)]
    ins = np.array([u.intent != OOS for u in test]); gold = np.array([u.intent for u in test])
    for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        print(json.dumps(dict(encoder=on, threshold=t, in_scope=round(float(((arg == gold) & (top >= t))[ins].mean()), 4),
                              oos_recall=round(float((top < t)[~ins].mean()), 4))), flush=True)
