#!/usr/bin/env python3
"""Serving cost of the sentence encoder (issue 17): one app trained with and without it, each served in a fresh process.

    nice -n 10 .venv/bin/python bench/encoder.py            # trains SNIPS 10-shot seed 0 twice, then measures

For each artifact (bench/out/encoder_on, bench/out/encoder_off): its size on disk, then in a fresh Python process the
seconds to import `chatbot.nlu.predict` and `Predictor.load` it, the first prediction, RSS after load (and after the
predictions), and the p50/p99 of `Predictor.predict` over SNIPS test lines, one at a time, after 50 warm-up calls, with
one BLAS/OpenMP thread as a `chatbot serve` worker has. Artifacts already in bench/out are reused (delete to retrain).
"""
from __future__ import annotations
import json, os, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'bench')]
DATA = ROOT.parent / 'shared' / 'datasets'
OUT = ROOT / 'bench' / 'out'


def rss_mb() -> float:
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) / 1024


def measure(path: str, n: int = 500) -> dict:
    "Load the artifact at `path` and time predictions (run in a fresh process)."
    t0 = time.perf_counter()
    from chatbot.nlu.predict import Predictor
    pred = Predictor.load(path)
    load_s = time.perf_counter() - t0
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=1)   # after loading, as a `chatbot serve` worker does (post_worker_init)
    rss_load = rss_mb()
    from chatbot.nlu.formats import load_split
    texts = [u.text for u in load_split(DATA / 'snips', 'test')][:n + 50]
    t = time.perf_counter(); pred.predict(texts[0]); first_ms = (time.perf_counter() - t) * 1000
    from peers import timed_calls, latency_ms
    _, times = timed_calls(pred.predict, texts)
    return dict(load_s=round(load_s, 3), first_ms=round(first_ms, 2), rss_after_load_mb=round(rss_load, 1),
                rss_after_mb=round(rss_mb(), 1), **latency_ms(times))


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == '--measure': print(json.dumps(measure(sys.argv[2]))); return 0
    from fewshot import sample
    from chatbot.nlu.formats import load_split
    from chatbot.nlu.model import HParams
    from chatbot.nlu.train import train
    from chatbot.nlu.predict import save_model
    shot = sample(load_split(DATA / 'snips', 'train'), 10, 0)
    out = {}
    for on in (True, False):
        path = OUT / f"encoder_{'on' if on else 'off'}"
        if not (path / 'manifest.json').exists():
            save_model(train(shot, None, hp=HParams(encoder=on), progress=False), path)
        size = sum(f.stat().st_size for f in path.iterdir())
        r = subprocess.run([sys.executable, __file__, '--measure', str(path)], capture_output=True, text=True,
                           env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2'})
        if r.returncode: raise SystemExit(r.stderr[-3000:])
        out['on' if on else 'off'] = dict(artifact_kb=round(size / 1024), **json.loads(r.stdout.splitlines()[-1]))
        print(on, out['on' if on else 'off'], flush=True)
    from common import machine
    out['machine'] = machine()
    (OUT / 'encoder.json').write_text(json.dumps(out, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
