#!/usr/bin/env python3
"""A model's in-process p50 / p99 with `chatbot.nlu.predict`'s helper threads off and on, in alternating rounds in one
process, and whether both give the same answers (BENCHMARKS.md, "A small English app's query runs MiniLM beside ...").

    .venv/bin/python bench/helper_threads.py bench/out/snips snips --rounds 3

Times the test lines after the first 50 (warm-ups), at most 1,000, one at a time. Only a model with USE and MiniLM
side by side (a small English app) uses the helpers; any other model should read the same both ways.
"""
import argparse, sys, threading, time
from pathlib import Path
import numpy as np
sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from fewshot import folder_of
from chatbot.nlu.formats import load_split
import chatbot.nlu.predict as P


def timed(p, texts: list[str], helpers) -> tuple[float, float, list]:
    "p50 and p99 ms over `texts[50:]`, with `helpers` as the process's free helpers, and the answers."
    P._helpers = helpers
    for x in texts[:50]: p.predict(x)
    ts, out = [], []
    for x in texts[50:]:
        t0 = time.perf_counter(); out.append(p.predict(x)); ts.append(time.perf_counter() - t0)
    return 1000 * float(np.median(ts)), 1000 * float(np.quantile(ts, .99)), out


def answer(r) -> tuple:
    return r.top_intent, round(r.intents[r.top_intent], 5), [(e.entity, e.start, e.end) for e in r.entities]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('model', help='an artifact folder'); ap.add_argument('dataset', help='snips, atis, clinc150 ...')
    ap.add_argument('--rounds', type=int, default=3)
    a = ap.parse_args(argv)
    p = P.Predictor.load(a.model)
    texts = [u.text for u in load_split(folder_of(a.dataset), 'test')][:1050]
    none_free = threading.BoundedSemaphore(1); none_free.acquire()   # every query runs alone, as before
    rows = {'alone': [], 'beside': []}; answers = {}
    for _ in range(a.rounds):
        for name, helpers in (('alone', none_free), ('beside', threading.BoundedSemaphore(P.HELPER_THREADS))):
            p50, p99, out = timed(p, texts, helpers)
            rows[name].append(f'{p50:.2f} / {p99:.1f}'); answers[name] = [answer(r) for r in out]
    same = sum(x == y for x, y in zip(answers['alone'], answers['beside']))
    print(f"{a.dataset} ({len(texts) - 50} lines) p50 / p99 ms alone: {', '.join(rows['alone'])}; "
          f"beside: {', '.join(rows['beside'])}; same answers: {same} of {len(texts) - 50}")


if __name__ == '__main__':
    main()
