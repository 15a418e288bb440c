#!/usr/bin/env python3
"""Build the ParaKQC benchmark: `subset.tsv` (original lines) and its `train.jsonl` / `test.jsonl`.

    python bench/data/parakqc/build.py                              # split subset.tsv again
    python bench/data/parakqc/build.py --source path/to/paraKQC_v1.txt   # choose the subset again, then split

ParaKQC lines are `topic<TAB>intention<TAB>text`, in paraphrase sets of 10 consecutive lines. With `--source`, 10 sets
are drawn with `random.Random(0)` from each of the 16 (topic, intention) cells, so every intent has sets from all four
topics. The split is by paraphrase set, so no test sentence is a paraphrase of a training one: in each cell the sets
are shuffled with `random.Random(0)`, 6 go to train and 4 to test.
"""
import argparse, json, random
from pathlib import Path

HERE = Path(__file__).resolve().parent
INTENTS = {'0': 'alternative_question', '1': 'wh_question', '2': 'prohibition', '3': 'requirement'}
SET_SIZE, SETS_PER_CELL, TRAIN_SETS, SEED = 10, 10, 6, 0


def paraphrase_sets(lines: list[str]) -> list[list[list[str]]]:
    "The file's lines as sets of 10 `[topic, intention, text]` rows; a set must have one label."
    rows = [line.split('\t', 2) for line in lines if line.strip()]
    sets = [rows[i:i + SET_SIZE] for i in range(0, len(rows), SET_SIZE)]
    assert all(len(s) == SET_SIZE and len({(t, a) for t, a, _ in s}) == 1 for s in sets), 'a set is short or mixed'
    return sets


def by_cell(sets) -> dict:
    cells = {}
    for s in sets: cells.setdefault((s[0][0], s[0][1]), []).append(s)
    return cells


def choose(source: Path) -> None:
    "Write `subset.tsv`: `SETS_PER_CELL` sets drawn from each (topic, intention) cell of the whole file."
    cells = by_cell(paraphrase_sets(source.read_text(encoding='utf-8').splitlines()))
    rng, keep = random.Random(SEED), []
    for cell in sorted(cells): keep += rng.sample(cells[cell], SETS_PER_CELL)
    (HERE / 'subset.tsv').write_text(''.join('\t'.join(r) + '\n' for s in keep for r in s), encoding='utf-8')
    print('subset.tsv', len(keep) * SET_SIZE, 'lines from', len(cells), 'cells')


def split() -> None:
    cells = by_cell(paraphrase_sets((HERE / 'subset.tsv').read_text(encoding='utf-8').splitlines()))
    rng, out = random.Random(SEED), {'train': [], 'test': []}
    for cell in sorted(cells):
        group = cells[cell][:]
        rng.shuffle(group)
        for name, part in (('train', group[:TRAIN_SETS]), ('test', group[TRAIN_SETS:])):
            out[name] += [dict(text=text.strip(), intent=INTENTS[act], entities=[]) for s in part for _, act, text in s]
    for name, rows in out.items():
        with open(HERE / f'{name}.jsonl', 'w', encoding='utf-8') as f:
            for d in rows: f.write(json.dumps(d, ensure_ascii=False) + '\n')
        print(name, len(rows))


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--source', type=Path, help="ParaKQC's data/paraKQC_v1.txt: choose the subset from it again")
    a = p.parse_args()
    if a.source: choose(a.source)
    split()
