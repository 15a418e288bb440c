#!/usr/bin/env python3
"""Build train.jsonl / test.jsonl from subset.tsv (ParaKQC lines as `topic<TAB>act<TAB>text`, 10-line paraphrase sets).

    python bench/data/parakqc/build.py

The split is by paraphrase set, so no test sentence is a paraphrase of a training one: for each intent its sets are
shuffled with `random.Random(0)` and two thirds go to train, the rest to test.
"""
import json, random
from pathlib import Path

HERE = Path(__file__).resolve().parent
INTENTS = {'0': 'alternative_question', '1': 'wh_question', '2': 'prohibition', '3': 'requirement'}
SET_SIZE, SEED = 10, 0


def main():
    rows = [line.split('\t') for line in (HERE / 'subset.tsv').read_text(encoding='utf-8').splitlines() if line]
    sets = [rows[i:i + SET_SIZE] for i in range(0, len(rows), SET_SIZE)]
    assert all(len({(t, a) for t, a, _ in s}) == 1 for s in sets), 'a paraphrase set mixes labels'
    by_intent = {}
    for s in sets: by_intent.setdefault(s[0][1], []).append(s)
    rng, split = random.Random(SEED), {'train': [], 'test': []}
    for act in sorted(by_intent):
        group = by_intent[act][:]
        rng.shuffle(group)
        cut = round(len(group) * 2 / 3)
        for name, part in (('train', group[:cut]), ('test', group[cut:])):
            split[name] += [dict(text=text.strip(), intent=INTENTS[act], entities=[]) for s in part for _, _, text in s]
    for name, lines in split.items():
        with open(HERE / f'{name}.jsonl', 'w', encoding='utf-8') as f:
            for d in lines: f.write(json.dumps(d, ensure_ascii=False) + '\n')
        print(name, len(lines))


if __name__ == '__main__':
    main()
