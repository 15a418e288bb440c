#!/usr/bin/env python3
"""Benchmark our model against simple peers on SNIPS, ATIS and CLINC150, and (re)write BENCHMARKS.md.

    .venv/bin/python bench/run.py --write BENCHMARKS.md                     # everything (what `make bench` runs)
    .venv/bin/python bench/run.py --datasets snips --limit 600 --out-dir /tmp/benchsmoke --write /tmp/BENCH.md
    .venv/bin/python bench/run.py --skip-ours --datasets snips,atis,clinc150  # peers only
    .venv/bin/python bench/run.py --skip-fewshot ...                        # without the few-shot rows (bench/fewshot.py)

Data sets are read from `../shared/datasets/<set>/{train,valid,test}.jsonl` (relative to the repo root), or from
`bench/data/<set>/` for the sets kept in the repository (`--datasets parakqc`, Korean). Our model is
trained with the `chatbot train` command in a subprocess and scored in-process with `Predictor` and
`chatbot.nlu.evaluate.score`; peers (bench/peers.py) are scored with the same function. For CLINC150, our model is
trained without the `oos` lines and scored at the out-of-scope threshold stored in its artifact (chosen on the
validation split; a top intent of `None` counts as correct for `oos` test lines); the peers are trained with `oos` as one more class. Progress goes to stderr;
all results go to `<out-dir>/results.json`.
"""
from __future__ import annotations
import argparse, datetime, importlib.metadata, json, os, platform, random, re, shlex, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'bench')]

from chatbot.nlu.app import NONE_INTENT
from chatbot.nlu.evaluate import predicted_pairs
from chatbot.nlu.evaluate import gold_pairs, score
from chatbot.nlu.formats import load_split
import fewshot, peers

DATA = ROOT.parent / 'shared' / 'datasets'
DATASETS = ('snips', 'atis', 'clinc150')
LOCAL = ROOT / 'bench' / 'data'   # data sets kept in the repository (ParaKQC, Korean): run when named, not by default
EXTRA = tuple(sorted(d.name for d in LOCAL.iterdir() if (d / 'train.jsonl').is_file())) if LOCAL.is_dir() else ()
OOS = 'oos'
LOAD_RUNS = 5
PROBE = 'play the latest album by the beatles on spotify'
NOTES_START, NOTES_END = '<!-- notes -->', '<!-- /notes -->'
NOTES_PLACEHOLDER = '_Hand-written notes go here; `bench/run.py --write` keeps this section as it is._'

# Figures measured for the project brief on this machine (Rasa 3.6.21, DIET, SNIPS); not re-measured by this script.
RASA_DIET = dict(name='Rasa 3.6.21 DIET', dataset='snips', train_s=52 * 60, epochs=40, load_s=30.0, rss_mb=1400.0,
                 p50_ms=10.0, throughput=102.0, intent_accuracy=0.966, entity_f1=0.856,
                 source='from the project brief, not re-measured in this run')


def log(*a): print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------------
def load_set(name: str, limit: int | None) -> dict:
    "Train (`limit` lines picked with a fixed seed, in file order, when given), valid and test utterances of a data set."
    folder = LOCAL / name if name in EXTRA else DATA / name
    if not folder.is_dir(): raise SystemExit(f'bench: no data set at {folder} (see ../shared/datasets/README.md)')
    train = load_split(folder, 'train')
    if limit and limit < len(train):  # files can be sorted by intent, so the first N lines may hold only a few intents
        train = [train[i] for i in sorted(random.Random(0).sample(range(len(train)), limit))]
    return dict(name=name, folder=folder, train=train,
                valid=load_split(folder, 'valid') or [], test=load_split(folder, 'test'))


def write_jsonl(path: Path, utterances) -> None:
    path.write_text(''.join(json.dumps(u.to_dict(), ensure_ascii=False) + '\n' for u in utterances), encoding='utf-8')


def training_folder(ds: dict, tmp: Path, drop_oos: bool) -> Path:
    "A folder with train.jsonl and valid.jsonl for `chatbot train` (named after the data set, so is the app)."
    keep = (lambda u: u.intent != OOS) if drop_oos else (lambda u: True)
    folder = tmp / ds['name']; folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / 'train.jsonl', [u for u in ds['train'] if keep(u)])
    if ds['valid']: write_jsonl(folder / 'valid.jsonl', [u for u in ds['valid'] if keep(u)])
    return folder


# ---------------------------------------------------------------------------------------------------------------
# Scoring (always through chatbot.nlu.evaluate.score)
# ---------------------------------------------------------------------------------------------------------------
def metrics(name: str, gold: list[tuple], pred: list[tuple]) -> dict:
    "The headline figures of a data set: intent accuracy and entity F1, or CLINC150's in-scope accuracy and oos recall."
    if name != 'clinc150':
        m = score(gold, pred)
        return dict(intent_accuracy=m['intent_accuracy'], entity_f1=m['entity']['f1'],
                    entity_precision=m['entity']['precision'], entity_recall=m['entity']['recall'], n=m['n'])
    ins = [i for i, (g, _) in enumerate(gold) if g != OOS]
    oos = [i for i, (g, _) in enumerate(gold) if g == OOS]
    as_none = lambda intent: NONE_INTENT if intent in (OOS, NONE_INTENT) else intent  # "no intent" or oos both count
    in_scope = score([gold[i] for i in ins], [pred[i] for i in ins])
    out_scope = score([(NONE_INTENT, []) for _ in oos], [(as_none(pred[i][0]), []) for i in oos])
    return dict(in_scope_accuracy=in_scope['intent_accuracy'], oos_recall=out_scope['intent_accuracy'],
                n_in_scope=len(ins), n_oos=len(oos))


# ---------------------------------------------------------------------------------------------------------------
# Our model
# ---------------------------------------------------------------------------------------------------------------
def chatbot_command() -> list[str]:
    "The `chatbot` console script next to this interpreter (falls back to PATH)."
    exe = Path(sys.executable).parent / 'chatbot'
    return [str(exe) if exe.exists() else shutil.which('chatbot') or 'chatbot']


def train_ours(folder: Path, out: Path) -> float:
    "Run `chatbot train FOLDER --out OUT --quiet --direct`; its wall time in seconds."
    # --direct: the engine's training alone, as the peers are timed; the notebook run (kernel start, evaluation,
    # report) is timed on the demo app by bench/dashboards.py
    if out.exists(): shutil.rmtree(out)
    t = time.perf_counter()
    r = subprocess.run(chatbot_command() + ['train', str(folder), '--out', str(out), '--quiet', '--direct'], cwd=ROOT,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - t
    if r.returncode: raise SystemExit(f'bench: chatbot train failed ({r.returncode}):\n{r.stdout[-3000:]}')
    for line in r.stdout.strip().splitlines()[-3:]: log('   ', line)
    return seconds


class TimedPredictor:
    "Wraps a Predictor and records the wall time of every `predict` call."
    def __init__(self, predictor): self.predictor, self.times = predictor, []
    def predict(self, text):
        t = time.perf_counter(); p = self.predictor.predict(text); self.times.append(time.perf_counter() - t)
        return p


# Peak memory is read from VmHWM, which exec resets. ru_maxrss is not reset by exec on Linux, so a child forked
# from this (large) benchmark process would report the parent's size.
PEAK_RSS_MB = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) / 1024"

LOAD_SNIPPET = f'''import time, json, sys
t = time.perf_counter()
from chatbot.nlu.predict import Predictor
p = Predictor.load(sys.argv[1]); p.predict(sys.argv[2])
s = time.perf_counter() - t
print(json.dumps(dict(load_s=s, rss_mb={PEAK_RSS_MB})))'''

# `chatbot predict --jsonl` run through the same entry point, reporting its peak memory on stderr when done
JSONL_SNIPPET = f'''import sys
from chatbot.cli import main
rc = main(sys.argv[1:])
print('peak_rss_mb', {PEAK_RSS_MB}, file=sys.stderr)
sys.exit(rc)'''


def fresh_load(model: Path, runs: int = LOAD_RUNS) -> dict:
    "Median over `runs` fresh processes: import + load + first prediction (in-process clock) and the whole process."
    inner, outer, rss = [], [], []
    for _ in range(runs):
        t = time.perf_counter()
        r = subprocess.run([sys.executable, '-c', LOAD_SNIPPET, str(model), PROBE], cwd=ROOT, capture_output=True, text=True)
        outer.append(time.perf_counter() - t)
        if r.returncode: raise SystemExit(f'bench: loading {model} failed:\n{r.stderr[-3000:]}')
        d = json.loads(r.stdout.strip().splitlines()[-1]); inner.append(d['load_s']); rss.append(d['rss_mb'])
    return dict(load_first_s=statistics.median(inner), process_s=statistics.median(outer), rss_mb=max(rss), load_runs=runs)


def jsonl_throughput(model: Path, test) -> dict:
    "Lines per second of `chatbot predict MODEL --jsonl` over the test texts (whole process, start-up included)."
    with tempfile.TemporaryFile('w+', encoding='utf-8') as f:
        f.write(''.join(json.dumps(dict(text=u.text), ensure_ascii=False) + '\n' for u in test)); f.seek(0)
        t = time.perf_counter()
        r = subprocess.run([sys.executable, '-c', JSONL_SNIPPET, 'predict', str(model), '--jsonl'], cwd=ROOT, stdin=f,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - t
    if r.returncode: raise SystemExit(f'bench: chatbot predict --jsonl failed:\n{r.stderr[-3000:]}')
    rss = float(r.stderr.strip().splitlines()[-1].split()[-1])
    return dict(jsonl_lines_per_s=len(test) / seconds, jsonl_s=seconds, jsonl_rss_mb=rss)


def bench_ours(ds: dict, out_dir: Path) -> dict:
    "Train, score and time our model on one data set."
    from chatbot.nlu.predict import Predictor
    name, out = ds['name'], out_dir / ds['name']
    with tempfile.TemporaryDirectory() as tmp:
        folder = training_folder(ds, Path(tmp), drop_oos=name == 'clinc150')
        n_train = sum(1 for _ in open(folder / 'train.jsonl', encoding='utf-8'))
        log(f'[{name}] ours: training on {n_train} utterances ...')
        train_s = train_ours(folder, out)
    size_mb = sum(f.stat().st_size for f in out.rglob('*') if f.is_file()) / 1e6
    pred = TimedPredictor(Predictor.load(out))
    texts = [u.text for u in ds['test']]
    for t in texts[:peers.WARMUP]: pred.predictor.predict(t)
    pairs = predicted_pairs(pred, ds['test'])
    result = dict(name='ours', n_train=n_train, train_s=train_s, artifact_mb=size_mb, threshold=pred.predictor.threshold,
                  **metrics(name, gold_pairs(ds['test']), pairs), **peers.latency_ms(pred.times))
    log(f'[{name}] ours: timing fresh loads and chatbot predict --jsonl ...')
    result.update(fresh_load(out), **jsonl_throughput(out, ds['test']))
    log(f'[{name}] ours: {summary(result)}')
    return result


# ---------------------------------------------------------------------------------------------------------------
# Peers
# ---------------------------------------------------------------------------------------------------------------
def bench_peers(ds: dict) -> list[dict]:
    "Train and score every peer that applies to the data set (trained on train.jsonl, `oos` included)."
    gold, out = gold_pairs(ds['test']), []
    for peer in peers.peers_for(ds['train']):
        log(f"[{ds['name']}] {peer.name}: training on {len(ds['train'])} utterances ...")
        r = peers.run_peer(peer, ds['train'], ds['test'])
        m = metrics(ds['name'], gold, r.pop('pairs'))
        keep = ('entity_f1', 'entity_precision', 'entity_recall') if r['task'] == 'entities' else \
               ('intent_accuracy', 'in_scope_accuracy', 'oos_recall')
        r.update({k: v for k, v in m.items() if k in keep + ('n', 'n_in_scope', 'n_oos')}, n_train=len(ds['train']))
        log(f"[{ds['name']}] {peer.name}: {summary(r)}")
        out.append(r)
    return out


def summary(r: dict) -> str:
    "One line of the figures present in a result."
    parts = [f'{k} {r[k]:.2%}' for k in ('intent_accuracy', 'entity_f1', 'in_scope_accuracy', 'oos_recall') if k in r]
    return ', '.join(parts + [f"train {r['train_s']:.1f}s", f"p50 {r['p50_ms']:.3f} ms"])


# ---------------------------------------------------------------------------------------------------------------
# BENCHMARKS.md
# ---------------------------------------------------------------------------------------------------------------
def machine() -> dict:
    "CPU model, cores, RAM, Python and TensorFlow versions."
    cpu = re.search(r'^model name\s*:\s*(.+)$', Path('/proc/cpuinfo').read_text(), re.M)
    mem = re.search(r'^MemTotal:\s*(\d+) kB', Path('/proc/meminfo').read_text(), re.M)
    tf = next((importlib.metadata.version(d) for d in ('tensorflow-cpu', 'tensorflow') if _installed(d)), 'not installed')
    return dict(cpu=cpu.group(1).strip() if cpu else platform.processor() or 'unknown', cores=os.cpu_count(),
                ram_gb=round(int(mem.group(1)) / 2**20, 1) if mem else None, python=platform.python_version(), tensorflow=tf)


def _installed(dist: str) -> bool:
    try: importlib.metadata.version(dist); return True
    except importlib.metadata.PackageNotFoundError: return False


def pct(x) -> str:
    "A fraction as a percentage, or a dash when not measured."
    return '—' if x is None else f'{x:.1%}'


def num(x, fmt='.1f', unit='') -> str:
    "A number in `fmt` with `unit`, or a dash when not measured."
    return '—' if x is None else f'{x:{fmt}}{unit}'


def ms(x) -> str:
    "Milliseconds, with a third decimal for sub-0.1 ms figures."
    return num(x, '.3f' if x is not None and x < 0.1 else '.2f')


def duration(s) -> str:
    "Seconds as `12.3 s`, or minutes from two minutes on."
    if s is None: return '—'
    return f'{s:.1f} s' if s < 120 else f'{s / 60:.1f} min'


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    "Markdown table lines."
    return ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)] + ['| ' + ' | '.join(r) + ' |' for r in rows]


def accuracy_rows(results: dict) -> list[list[str]]:
    "One row per (data set, system): the figures that system produces."
    rows = []
    for name, res in results['datasets'].items():
        systems = ([res['ours']] if res.get('ours') else []) + res.get('peers', [])
        for r in systems:
            who = 'ours' if r['name'] == 'ours' else r['name']
            if name == 'clinc150':
                rows.append([name, who, pct(r.get('in_scope_accuracy')), '—', pct(r.get('oos_recall'))])
            else:
                rows.append([name, who, pct(r.get('intent_accuracy')), pct(r.get('entity_f1')), '—'])
        if name == 'snips':
            rows.append([name, f"{RASA_DIET['name']} (*)", pct(RASA_DIET['intent_accuracy']), pct(RASA_DIET['entity_f1']), '—'])
    return rows


def speed_rows(results: dict) -> list[list[str]]:
    "One row per (data set, system): training time, size, load time, latencies, throughput, memory."
    rows = []
    for name, res in results['datasets'].items():
        if o := res.get('ours'):
            rows.append([name, 'ours', duration(o['train_s']), num(o['artifact_mb'], '.1f'),
                         f"{o['load_first_s']:.2f} s ({o['process_s']:.2f} s process)", ms(o['p50_ms']), ms(o['p99_ms']), num(o['jsonl_lines_per_s'], '.0f'), f"{o['rss_mb']:.0f} / {o['jsonl_rss_mb']:.0f}"])
        for p in res.get('peers', []):
            rows.append([name, p['name'], duration(p['train_s']), '—', '—', ms(p['p50_ms']), ms(p['p99_ms']), '—', '—'])
        if name == 'snips':
            r = RASA_DIET
            rows.append([name, f"{r['name']} (*)", f"{duration(r['train_s'])} ({r['epochs']} epochs)", '—', f"{r['load_s']:.0f} s",
                         f"{r['p50_ms']:.0f} (per request)", '—', f"{r['throughput']:.0f} req/s", f"{r['rss_mb']:.0f}"])
    return rows


def _ours(results, name, key):
    "A figure of our model on one data set (None when not run)."
    o = results['datasets'].get(name, {}).get('ours') or {}
    return o.get(key)


def _worst(results, key, agg=max):
    "The worst value of a figure of our model over the data sets run (None when none was)."
    vals = [r['ours'][key] for r in results['datasets'].values() if r.get('ours')]
    return agg(vals) if vals else None


def _fewshot_rows(results):
    "The few-shot rows (`bench/fewshot.py`) of this run: {'snips/10': [one dict per seed], ...}."
    return (results.get('fewshot') or {}).get('rows') or {}


def _fewshot_gap(results, ours: tuple, peer: tuple):
    "The worst few-shot row's (ours - peer), mean of seeds, with the row's name; None when no row has both."
    gaps = [(o - p, key) for key, rows in _fewshot_rows(results).items()
            if (o := fewshot.mean(rows, *ours)) is not None and (p := fewshot.mean(rows, *peer)) is not None]
    return min(gaps) if gaps else None


def _full_gap(results, task: str):
    "The worst data set's (ours - best peer) on all data, for intents (`intent`) or entities (`entities`)."
    gaps = []
    for name, res in results['datasets'].items():
        key = 'entity_f1' if task == 'entities' else ('in_scope_accuracy' if name == 'clinc150' else 'intent_accuracy')
        o = (res.get('ours') or {}).get(key)
        best = [p[key] for p in res.get('peers', []) if p['task'] == task and p.get(key) is not None]
        if o is not None and best: gaps.append((o - max(best), name))
    return min(gaps) if gaps else None


def points(x) -> str:
    "A difference of two fractions in percentage points."
    return '—' if x is None else f'{x * 100:+.1f} points'


# (target, how the measured value is found, comparison, limit, formatter); a value may come as (value, where)
TARGETS = [
    ('SNIPS intent accuracy ≥ 98.5%', lambda r: _ours(r, 'snips', 'intent_accuracy'), '>=', 0.985, pct),
    ('SNIPS entity F1 ≥ 95.0%', lambda r: _ours(r, 'snips', 'entity_f1'), '>=', 0.95, pct),
    ('ATIS intent accuracy ≥ 97.5%', lambda r: _ours(r, 'atis', 'intent_accuracy'), '>=', 0.975, pct),
    ('ATIS entity F1 ≥ 95.0%', lambda r: _ours(r, 'atis', 'entity_f1'), '>=', 0.95, pct),
    ('CLINC150 in-scope accuracy ≥ 96% (at the threshold training chose)',
     lambda r: _ours(r, 'clinc150', 'in_scope_accuracy'), '>=', 0.96, pct),
    ('CLINC150 out-of-scope recall ≥ 70% (same threshold)', lambda r: _ours(r, 'clinc150', 'oos_recall'), '>=', 0.70,
     pct),
    ('intent accuracy never behind the best intent peer, all data (worst set)', lambda r: _full_gap(r, 'intent'),
     '>=', 0.0, points),
    ('entity F1 never behind the CRF, all data (worst set)', lambda r: _full_gap(r, 'entities'), '>=', 0.0, points),
    ('few-shot intent accuracy never behind TF-IDF + LR (worst row, mean of seeds)',
     lambda r: _fewshot_gap(r, ('ours', 'after', 'intent_accuracy'), ('peer', 'after', 'intent_accuracy')),
     '>=', 0.0, points),
    ('few-shot entity F1 never behind the CRF (worst row, mean of seeds)',
     lambda r: _fewshot_gap(r, ('ours', 'after', 'entity_f1'), ('crf', 'entity_f1')), '>=', 0.0, points),
    ('CLINC150 10-shot in-scope accuracy ≥ 90% (mean of seeds)',
     lambda r: fewshot.mean(_fewshot_rows(r).get('clinc150/10', []), 'ours', 'after', 'intent_accuracy'), '>=',
     0.90, pct),
    ('training on SNIPS ≤ 5 min', lambda r: _ours(r, 'snips', 'train_s'), '<=', 300, duration),
    ('artifact ≤ 20 MB (largest)', lambda r: _worst(r, 'artifact_mb'), '<=', 20, lambda x: num(x, '.1f', ' MB')),
    ('fresh process load + first prediction ≤ 1.5 s (slowest)', lambda r: _worst(r, 'load_first_s'), '<=', 1.5, lambda x: num(x, '.2f', ' s')),
    ('in-process p50 ≤ 2 ms (slowest)', lambda r: _worst(r, 'p50_ms'), '<=', 2.0, lambda x: num(x, '.2f', ' ms')),
    ('in-process p99 ≤ 5 ms (slowest)', lambda r: _worst(r, 'p99_ms'), '<=', 5.0, lambda x: num(x, '.2f', ' ms')),
    ('RSS after load ≤ 300 MB (largest)', lambda r: _worst(r, 'rss_mb'), '<=', 300, lambda x: num(x, '.0f', ' MB')),
]


def target_rows(results: dict) -> list[list[str]]:
    "Each target with its measured value and whether it is met."
    rows = []
    for label, get, op, limit, fmt in TARGETS:
        v, where = get(results), None
        if isinstance(v, tuple): v, where = v
        ok = 'not measured' if v is None else ('met' if (v >= limit if op == '>=' else v <= limit) else '**not met**')
        rows.append([label, fmt(v) + (f' ({where})' if where else ''), ok])
    return rows


def read_notes(path: Path) -> str:
    "The hand-written notes section of an existing BENCHMARKS.md (markers included), or a placeholder."
    if path.exists():
        m = re.search(re.escape(NOTES_START) + r'.*?' + re.escape(NOTES_END), path.read_text(encoding='utf-8'), re.S)
        if m: return m.group(0)
    return f'{NOTES_START}\n{NOTES_PLACEHOLDER}\n{NOTES_END}'


def render(results: dict, notes: str) -> str:
    "The whole BENCHMARKS.md."
    m, a = results['machine'], results['args']
    lines = ['# Benchmarks', '',
             f"Generated by `bench/run.py` on {results['date']}. Do not edit by hand, except between the notes markers.", '',
             f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; Python {m['python']}, TensorFlow {m['tensorflow']}",
             f"- Command: `{results['command']}`"]
    if a['limit']: lines.append(f"- **Smoke run: only {a['limit']} training lines of each data set (fixed-seed sample) were used.**")
    lines += ['- Data: `../shared/datasets/` (see its README); training on train.jsonl, our model also uses valid.jsonl for early '
              'stopping; scores on test.jsonl, all through `chatbot.nlu.evaluate.score`.',
              '- CLINC150: our model is trained without the `oos` lines and scored at the out-of-scope threshold its '
              f"training chose from the validation split ({_threshold(results)}); a top intent of `None` counts as correct for `oos` lines. Peers are trained with "
              '`oos` as one more class.',
              '- (*) Rasa row: figures ' + RASA_DIET['source'] + '.', '',
             '## Accuracy', '',
             *table(['data set', 'system', 'intent accuracy (CLINC150: in-scope)', 'entity micro F1', 'oos recall'], accuracy_rows(results)),
             '', 'Intent peers give no entities and the CRF gives no intents, so each row shows only what that system predicts.', '',
             '## Speed', '',
             *table(['data set', 'system', 'training', 'artifact MB', f'load + first prediction (median of {LOAD_RUNS})',
                     'p50 ms', 'p99 ms', '`predict --jsonl` lines/s', 'peak RSS MB (load / jsonl)'], speed_rows(results)),
             '', 'Latencies are in-process, one utterance at a time over the whole test set after '
             f'{peers.WARMUP} warm-up predictions. `predict --jsonl` throughput includes process start-up and model load.', '',
             '## Targets', '',
             *table(['target', 'measured', 'status'], target_rows(results)), '',
             '## Notes', '', notes, '']
    return '\n'.join(lines)


def _threshold(results):
    "Our model's out-of-scope threshold on CLINC150, as text."
    t = _ours(results, 'clinc150', 'threshold')
    return 'not run' if t is None else f'{t:g}'


# ---------------------------------------------------------------------------------------------------------------
def parse_args(argv=None):
    "Command-line options."
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--datasets', default=','.join(DATASETS), help='comma-separated subset of '
                   + ','.join(DATASETS + EXTRA))
    p.add_argument('--limit', type=int, help='use only N training lines, picked with a fixed seed (quick smoke runs)')
    p.add_argument('--skip-ours', action='store_true', help='do not train or time our model')
    p.add_argument('--skip-peers', action='store_true', help='do not run the peer baselines')
    p.add_argument('--out-dir', default=str(ROOT / 'bench' / 'out'), help='where artifacts and results.json go')
    p.add_argument('--write', metavar='FILE', help='(re)write this markdown file (e.g. BENCHMARKS.md)')
    p.add_argument('--skip-fewshot', action='store_true', help='do not run the few-shot rows (bench/fewshot.py)')
    a = p.parse_args(argv)
    a.datasets = [d.strip() for d in a.datasets.split(',') if d.strip()]
    if bad := [d for d in a.datasets if d not in DATASETS + EXTRA]: p.error(f"unknown data set(s): {', '.join(bad)}")
    return a


def main(argv=None) -> int:
    "Run the benchmarks asked for, save results.json and optionally rewrite the markdown file."
    a = parse_args(argv)
    out_dir = Path(a.out_dir).resolve(); out_dir.mkdir(parents=True, exist_ok=True)
    results = dict(date=datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z'), machine=machine(),
                   command=shlex.join([os.path.relpath(sys.executable) if sys.executable.startswith(str(ROOT)) else sys.executable]
                                      + sys.argv), args=dict(vars(a), out_dir=str(out_dir)), rasa_diet=RASA_DIET, datasets={})
    for name in a.datasets:
        ds = load_set(name, a.limit)
        res = results['datasets'][name] = dict(n_train=len(ds['train']), n_test=len(ds['test']))
        if not a.skip_ours: res['ours'] = bench_ours(ds, out_dir)
        if not a.skip_peers: res['peers'] = bench_peers(ds)
    save = lambda: (out_dir / 'results.json').write_text(json.dumps(results, indent=1, ensure_ascii=False),
                                                          encoding='utf-8')
    save()   # the main tables' figures survive a few-shot run that fails
    if not (a.skip_fewshot or a.skip_ours or a.limit):   # k examples per intent of the same sets (and ParaKQC)
        sets = a.datasets + [d for d in EXTRA if d not in a.datasets]
        fewshot.main(['--datasets', ','.join(sets), '--out', str(out_dir / 'fewshot.json')]
                     + (['--write', a.write] if a.write else []))
        results['fewshot'] = json.loads((out_dir / 'fewshot.json').read_text())
    save()
    log(f"results: {out_dir / 'results.json'}")
    if a.write:
        path = Path(a.write)
        text = render(results, read_notes(path))
        old = path.read_text(encoding='utf-8') if path.exists() else ''
        # the sections other scripts write (serve, gateway, fewshot, ...) and hand-written ones, in their order
        kept = r'<!-- (?!notes)([a-z]+) -->.*?<!-- /\1 -->|<!-- ([a-z]+):start -->.*?<!-- \2:end -->'
        for m in re.finditer(kept, old, re.S):
            text = text.replace('## Notes', m.group(0) + '\n\n## Notes', 1)
        path.write_text(text, encoding='utf-8')
        log(f'wrote {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
