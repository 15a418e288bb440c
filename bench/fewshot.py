#!/usr/bin/env python3
"""Few-shot rows of BENCHMARKS.md: our model and TF-IDF + logistic regression on k examples per intent.

    .venv/bin/python bench/fewshot.py --write BENCHMARKS.md                      # what `bench/run.py` runs
    nice -n 10 .venv/bin/python bench/fewshot.py --datasets snips,clinc150 --shots 10 --seeds 0 --write BENCHMARKS.md
    nice -n 10 .venv/bin/python bench/fewshot.py --datasets parakqc --shots 10 --seeds 0 --no-morphology

A data set is read from `bench/data/<set>/` when the repository has it (ParaKQC, Korean, see its README), else
from `../shared/datasets/<set>/`. `--no-morphology` trains our model without Korean morphology features.

For each data set, shot count k and seed, k training utterances per intent are sampled (`random.Random(seed)`)
from `train.jsonl` (CLINC150: in-scope intents; the peer also gets k `oos` lines as one more class, as in the
main table). That sample is all either system sees: no `valid.jsonl`, as an app that starts with k examples has
no more. Our model is trained with `chatbot.nlu.train.train` in a subprocess (its validation split, calibration
and out-of-scope threshold come out of the k examples) and scored on the whole `test.jsonl` at the threshold it
chose; the same model is also scored the way artifacts were before calibration (fixed 0.5 / 0.5 mix, threshold
0.5) to show what calibration changed. Figures are means over the seeds run.
"""
from __future__ import annotations
import argparse, datetime, json, os, random, shlex, statistics, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'bench')]

DATA = ROOT.parent / 'shared' / 'datasets'
LOCAL = ROOT / 'bench' / 'data'
DATASETS, SHOTS, SEEDS = ('snips', 'atis', 'clinc150'), (5, 10, 30), (0, 1, 2)
OOS = 'oos'
START, END = '<!-- fewshot -->', '<!-- /fewshot -->'


def log(*a): print(*a, file=sys.stderr, flush=True)


def folder_of(name: str) -> Path:
    "The data set's folder: `bench/data/<name>` when the repository has it, else `../shared/datasets/<name>`."
    return LOCAL / name if (LOCAL / name / 'train.jsonl').is_file() else DATA / name


def sample(utterances, k: int, seed: int, keep=lambda u: True) -> list:
    "k utterances per intent (all of an intent with fewer), drawn with `random.Random(seed)`, intents sorted."
    by = {}
    for u in utterances:
        if keep(u): by.setdefault(u.intent, []).append(u)
    rng = random.Random(seed)
    return [u for i in sorted(by) for u in rng.sample(by[i], min(k, len(by[i])))]


def scores(name: str, test, pairs, none_intent: str) -> dict:
    "Intent accuracy, `None` rate and entity F1 (CLINC150: in-scope accuracy and oos recall) of predictions."
    from chatbot.nlu.evaluate import score, gold_pairs
    gold = gold_pairs(test)
    ins = [i for i, u in enumerate(test) if u.intent != OOS]
    oos = [i for i, u in enumerate(test) if u.intent == OOS]
    m = score([gold[i] for i in ins], [pairs[i] for i in ins])
    out = dict(intent_accuracy=m['intent_accuracy'], entity_f1=m['entity']['f1'] if any(u.entities for u in test) else None,
               none_rate=sum(pairs[i][0] in (none_intent, OOS) for i in ins) / len(ins))
    if oos: out['oos_recall'] = sum(pairs[i][0] in (none_intent, OOS) for i in oos) / len(oos)
    return out


def run_ours(name: str, k: int, seed: int, hparams: str = '{}', morphology: bool = True, split: str = 'test') -> dict:
    "Train on a k-shot sample and score on `split` (run in a subprocess: one TensorFlow session each)."
    if not morphology:   # this subprocess's featurizers: no Korean morphology whatever the texts
        from chatbot.nlu.text import Featurizer
        fit = Featurizer.fit.__func__
        Featurizer.fit = classmethod(lambda cls, texts, **kw: fit(cls, texts, **{**kw, 'morphology': None}))
    from chatbot.nlu.formats import load_split
    from chatbot.nlu.train import train
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import Predictor
    from chatbot.nlu.app import NONE_INTENT
    from chatbot.nlu.evaluate import predicted_pairs
    import peers
    folder = folder_of(name)
    shot = sample(load_split(folder, 'train'), k, seed, lambda u: u.intent != OOS)
    test = load_split(folder, split)
    t = time.perf_counter()
    trained = train(shot, None, hp=HParams(**{'seed': seed, **json.loads(hparams)}), progress=False)
    train_s = time.perf_counter() - t
    pred = Predictor.from_trained(trained)
    times = []
    def timed(text):
        t0 = time.perf_counter(); p = pred.predict(text); times.append(time.perf_counter() - t0); return p
    class Timed:
        predict = staticmethod(timed)
    for u in test[:peers.WARMUP]: pred.predict(u.text)
    after = scores(name, test, predicted_pairs(Timed, test), NONE_INTENT)
    p50 = peers.latency_ms(times)['p50_ms']
    argmax = scores(name, test, predicted_pairs(Predictor.from_trained(trained, threshold=0.0), test), NONE_INTENT)
    before = None   # a model without the network never existed before calibration: its fixed mix means nothing
    if trained.info.get('network', True):
        old = Predictor.from_trained(trained, threshold=0.5)   # as artifacts were before calibration and the floor
        old.calibration, old.floor = None, None
        before = scores(name, test, predicted_pairs(old, test), NONE_INTENT)
    return dict(train_s=train_s, p50_ms=p50, n_train=trained.info['n_train'], n_held=len(trained.valid),
                calibration=trained.calibration, threshold=pred.threshold, after=after,
                accuracy_at_0=argmax['intent_accuracy'], before=before)


def run_peer(name: str, k: int, seed: int, split: str = 'test') -> dict:
    "TF-IDF (word 1-2 grams + char_wb 2-5 grams, sublinear tf) + scikit-learn's LogisticRegression (defaults)."
    import peers
    from chatbot.nlu.formats import load_split
    folder = folder_of(name)
    shot = sample(load_split(folder, 'train'), k, seed)          # `oos` is one more class for the peer
    test = load_split(folder, split)
    t = time.perf_counter()
    model = peers.LogRegIntents().fit(shot).model
    train_s = time.perf_counter() - t
    pred = model.predict([u.text for u in test])
    return dict(train_s=train_s, after=scores(name, test, [(str(p), []) for p in pred], 'None'))


def run_crf(name: str, k: int, seed: int, split: str = 'test') -> dict | None:
    "The CRF peer of bench/peers.py on the same sample (data sets with entities only)."
    import peers
    from chatbot.nlu.formats import load_split
    from chatbot.nlu.evaluate import score, gold_pairs
    folder = folder_of(name)
    shot = sample(load_split(folder, 'train'), k, seed, lambda u: u.intent != OOS)
    if not any(u.entities for u in shot): return None
    test = load_split(folder, split)
    r = peers.run_peer(peers.CrfEntities(), shot, test)
    return dict(train_s=r['train_s'], entity_f1=score(gold_pairs(test), r['pairs'])['entity']['f1'])


def one(name: str, k: int, seed: int, crf: bool, hparams: str = '{}', skip_peers: bool = False,
        morphology: bool = True, split: str = 'test') -> dict:
    "Every system on one (data set, k, seed), each in a fresh subprocess."
    out = {}
    for system in ('ours',) + (() if skip_peers else ('peer',) + (('crf',) if crf else ())):
        r = subprocess.run([sys.executable, __file__, '--one', system, name, str(k), str(seed), '--hparams', hparams,
                            '--split', split] + ([] if morphology else ['--no-morphology']),
                           cwd=ROOT, capture_output=True, text=True)
        if r.returncode: raise SystemExit(f'bench/fewshot.py: {system} {name} k={k} seed={seed} failed:\n{r.stderr[-3000:]}')
        out[system] = json.loads(r.stdout.strip().splitlines()[-1])
        if out[system] is None:   # the CRF, on a sample without entities
            log(f'[{name} k={k} seed={seed}] {system}: not run, the sample has no entities'); continue
        brief = {key: v for key, v in out[system].items() if key != 'calibration'}   # the scores, whole
        log(f'[{name} k={k} seed={seed}] {system}: {json.dumps(brief)}')
    return out


def mean(rows, *path):
    "Mean of a figure over seeds (None when absent)."
    vals = []
    for r in rows:
        for p in path: r = (r or {}).get(p)
        if r is not None: vals.append(r)
    return statistics.mean(vals) if vals else None


def pct(x) -> str: return '—' if x is None else f'{x:.1%}'


def render(results: dict) -> str:
    "The few-shot section of BENCHMARKS.md."
    lines = [START, '## Few-shot', '',
             f"Generated by `bench/fewshot.py` on {results['date']}: `{results['command']}`. Machine: {results['machine']}.",
             'k training utterances per intent sampled from `train.jsonl` with `random.Random(seed)`; nothing else is '
             'seen (no `valid.jsonl`). Ours: its validation split, calibration and `None` threshold come from those k '
             'examples; "before" is the same model scored as artifacts were before calibration (fixed mix, threshold '
             '0.5; none where the model has no network, as small apps without entities train). Peer: TF-IDF (word 1-2 '
             '+ char_wb 2-5 grams, sublinear) + scikit-learn `LogisticRegression` with '
             'its defaults, trained with `oos` as one more class on CLINC150. Intent accuracy and `None` rate are over '
             'in-scope test lines. Figures are means over the seeds in the last column.', '',
             '| data set | k | ours: intent accuracy (before) | ours: `None` rate (before) | ours at threshold 0 | '
             'threshold (mean) | ours: entity F1 | ours: oos recall (before) | peer LR: intent accuracy | '
             'peer LR: oos recall | CRF entity F1 | ours: training s | seeds |',
             '|' + '---|' * 13]
    for key, rows in results['rows'].items():
        name, k = key.split('/')
        o = [r['ours'] for r in rows]; p = [r.get('peer') for r in rows]; c = [r.get('crf') for r in rows]
        lines.append('| ' + ' | '.join([
            name, k,
            f"{pct(mean(o, 'after', 'intent_accuracy'))} ({pct(mean(o, 'before', 'intent_accuracy'))})",
            f"{pct(mean(o, 'after', 'none_rate'))} ({pct(mean(o, 'before', 'none_rate'))})",
            pct(mean(o, 'accuracy_at_0')), f"{mean(o, 'threshold'):.2f}",
            pct(mean(o, 'after', 'entity_f1')),
            f"{pct(mean(o, 'after', 'oos_recall'))} ({pct(mean(o, 'before', 'oos_recall'))})" if name == 'clinc150' else '—',
            pct(mean(p, 'after', 'intent_accuracy')), pct(mean(p, 'after', 'oos_recall')) if name == 'clinc150' else '—',
            pct(mean(c, 'entity_f1')), f"{mean(o, 'train_s'):.0f}",
            ', '.join(str(r['seed']) for r in rows)]) + ' |')
    lines += ['', f"Not run in this run: {results['not_run'] or 'nothing'}.", END]
    return '\n'.join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--datasets', default=','.join(DATASETS))
    p.add_argument('--shots', default=','.join(map(str, SHOTS)))
    p.add_argument('--seeds', default=','.join(map(str, SEEDS)))
    p.add_argument('--no-crf', action='store_true', help='skip the CRF peer')
    p.add_argument('--write', metavar='FILE', help='put the few-shot section into this markdown file')
    p.add_argument('--out', default=str(ROOT / 'bench' / 'out' / 'fewshot.json'))
    p.add_argument('--hparams', default='{}', help='JSON of HParams fields for our model (e.g. \'{"crf": true}\')')
    p.add_argument('--skip-peers', action='store_true', help='our model only')
    p.add_argument('--no-morphology', action='store_true', help='our model without Korean morphology features')
    p.add_argument('--split', default='test', choices=('test', 'valid'),
                   help='score on this split (valid: for choosing settings without looking at the test split)')
    p.add_argument('--one', nargs=4, metavar=('SYSTEM', 'SET', 'K', 'SEED'), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.one:
        system, name, k, seed = a.one
        if system == 'ours':
            print(json.dumps(run_ours(name, int(k), int(seed), a.hparams, not a.no_morphology, a.split))); return 0
        fn = dict(peer=run_peer, crf=run_crf)[system]
        print(json.dumps(fn(name, int(k), int(seed), a.split))); return 0
    if a.write and a.split != 'test':   # BENCHMARKS.md's few-shot rows are test-split figures
        p.error('--write needs --split test: the few-shot section reports the test split')
    from common import machine
    sets, shots, seeds = a.datasets.split(','), [int(x) for x in a.shots.split(',')], [int(x) for x in a.seeds.split(',')]
    results = dict(date=datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z'), machine=machine(),
                   command=shlex.join([os.path.relpath(sys.executable) if sys.executable.startswith(str(ROOT))
                                       else sys.executable] + sys.argv), split=a.split, rows={})
    for name in sets:
        for k in shots:
            rows = []
            for seed in seeds:
                rows.append(dict(seed=seed, **one(name, k, seed, not a.no_crf and name != 'clinc150', a.hparams,
                                                 a.skip_peers, not a.no_morphology, a.split)))
            results['rows'][f'{name}/{k}'] = rows
    full = [f'{n}/{k}' for n in DATASETS for k in SHOTS]
    missing = [r for r in full if r not in results['rows']]
    partial = [r for r in results['rows'] if len(seeds) < len(SEEDS)]
    results['not_run'] = '; '.join(filter(None, [
        ('rows ' + ', '.join(f'`{m}`' for m in missing)) if missing else '',
        (f"seeds {', '.join(str(s) for s in SEEDS if s not in seeds)} of the rows run") if partial else '']))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(results, indent=1))
    if a.write:
        from common import write_section
        write_section(Path(a.write), render(results), START, END)
        log(f'wrote {a.write}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
