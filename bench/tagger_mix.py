#!/usr/bin/env python3
"""How much should the lexical CRF count beside the network's tags? Entity F1 on a test set for several weights (issue 17).

    nice -n 10 .venv/bin/python bench/tagger_mix.py snips 10 0        # 10 examples per intent, seed 0
    nice -n 10 .venv/bin/python bench/tagger_mix.py atis all 0        # all of train.jsonl

Trains our model once on `train.jsonl` (k examples per intent sampled as `bench/fewshot.py` does, or all of it), fits
the lexical CRF (`chatbot.nlu.crf`) on the same utterances, then decodes `test.jsonl` with the network's tag
log-probabilities plus w times the CRF's scores and transitions, for each w; `crf` is the CRF alone, `0` the
network alone. Prints one line per weight: `weight entity-F1`.
"""
from __future__ import annotations
import sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'bench')]

WEIGHTS = (0, 1.0, 2.0, 3.0, 5.0, 8.0, 'crf')


def main(argv=None) -> int:
    from fewshot import sample, DATA, OOS
    from chatbot.nlu.formats import load_split
    from chatbot.nlu.train import train, fit_lexical_tagger
    from chatbot.nlu.model import HParams, forward_numpy, log_softmax, decode_tags, weight_array
    from chatbot.nlu.crf import tagger_features, crf_emissions
    from chatbot.nlu.evaluate import score, gold_pairs
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 3 or not (args[1] == 'all' or args[1].isdigit()) or not args[2].isdigit():
        print('usage: bench/tagger_mix.py DATASET K|all SEED   (e.g. snips 10 0)', file=sys.stderr); return 2
    name, k, seed = args[0], args[1], int(args[2])
    every = load_split(DATA / name, 'train')
    shot = every if k == 'all' else sample(every, int(k), seed, lambda u: u.intent != OOS)
    test = load_split(DATA / name, 'test')
    t = time.time()
    tr = train(shot, None, hp=HParams(seed=seed, lexical_tagger=0), progress=False)
    print(f'# {name} k={k} seed={seed}: {len(shot)} utterances, trained in {time.time() - t:.0f} s', flush=True)
    W = {n: weight_array(v) for n, v in tr.weights.items()}
    t = time.time()
    W.update(fit_lexical_tagger(shot, tr.featurizer, tr.tag_names))
    print(f'# lexical CRF fitted in {time.time() - t:.1f} s, {len(W["crf_lex/keys"])} features kept', flush=True)
    rows = []
    for u in test:
        enc = tr.featurizer.encode(u.text)
        if not enc.tokens: rows.append(None); continue
        _, tl = forward_numpy(W, tr.hparams, enc.ids, enc.bag, enc.shape, enc.sent)
        rows.append((enc.tokens, tl[:len(enc.tokens)], crf_emissions(W, tagger_features(tr.featurizer, u.text, enc.tokens))))
    gold = gold_pairs(test)
    for w in WEIGHTS:
        pairs = []
        for u, r in zip(test, rows):
            if r is None: pairs.append((u.intent, [])); continue
            toks, tl, ce = r
            if w == 'crf': em, trans = ce, W['crf_lex/transitions']
            elif w == 0: em, trans = tl, W.get('crf/transitions')
            else: em, trans = log_softmax(tl) + w * ce, w * W['crf_lex/transitions']
            pairs.append((u.intent, [s[:3] for s in decode_tags(em, toks, tr.tag_names, trans)]))
        print(w, round(score(gold, pairs)['entity']['f1'], 4), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
